package demo

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// inventory simulates each SKU's stock day by day: a snapshot at 06:00,
// a replenishment every cycle days that tops each SKU up to coverDays of
// sales and arrives a week or so later, and the day's units sold taken out.
func (g *shopGen) inventory() {
	sim := stockSim{
		g:        g,
		r:        g.rand("inventory"),
		sold:     make(map[kpi.Date]float64),
		stock:    make(map[string]float64),
		transit:  make(map[string]float64),
		arrivals: make(map[kpi.Date]map[string]float64),
	}
	for _, o := range g.b.Orders {
		if !o.Status.Cancelled() {
			sim.sold[kpi.DateOf(o.Placed)] += float64(o.Units)
		}
	}
	for d := g.t.first; d <= g.t.today; d++ {
		sim.day(d)
	}
}

// stockSim is the state of a shop's inventory simulation.
type stockSim struct {
	g        *shopGen
	r        *rand.Rand
	sold     map[kpi.Date]float64            // units sold by day
	stock    map[string]float64              // on hand by SKU
	transit  map[string]float64              // inbound by SKU
	arrivals map[kpi.Date]map[string]float64 // replenishments received by day
	shares   map[string]float64              // of the units sold today, by active SKU
}

// day runs day d: the morning snapshot, arrivals, a replenishment, sales.
func (s *stockSim) day(d kpi.Date) {
	g := s.g
	var active []sku
	var total float64
	for _, k := range g.p.skus {
		if g.active(k, d) {
			active = append(active, k)
			total += k.share
		}
	}
	s.shares = make(map[string]float64, len(active))
	for _, k := range active {
		s.shares[k.id] = k.share / total
		if _, ok := s.stock[k.id]; !ok { // the opening stock, or a launch
			days := g.p.coverDays
			if d == g.t.first {
				days -= float64(g.p.cycle) / 2
			}
			s.stock[k.id] = days * s.rate(d) * s.shares[k.id]
		}
	}

	if taken := at(d, 6, 0); g.t.past(taken) {
		for _, k := range active {
			g.b.Inventory = append(g.b.Inventory, kpi.InventorySnapshot{
				Shop: g.p.shop.ID, SKU: k.id, Taken: taken,
				OnHand:   int64(math.Round(s.stock[k.id])),
				Inbound:  int64(math.Round(s.transit[k.id])),
				Reserved: int64(math.Round(s.sold[d-1] * s.shares[k.id] * 0.2)),
			})
		}
	}
	for id, units := range s.arrivals[d] {
		s.stock[id] += units
		s.transit[id] -= units
	}
	if int(g.t.today-d)%g.p.cycle == g.p.offset {
		s.replenish(d, active)
	}
	for _, k := range active {
		s.stock[k.id] = max(0, s.stock[k.id]-s.sold[d]*s.shares[k.id])
	}
}

// replenish sends an inbound shipment on day d that tops each active SKU up
// to coverDays of sales. The shop's stock-out SKU gets nothing after the
// replenishment 24 days ago (two cycles and the offset), which leaves it
// about 4 days of cover today.
func (s *stockSim) replenish(d kpi.Date, active []sku) {
	g := s.g
	created := at(d, 11, s.r.IntN(60))
	if !g.t.past(created) {
		return
	}
	units := make(map[string]float64)
	var total float64
	for _, k := range active {
		if k.id == g.p.stockout && d > g.t.today-kpi.Date(2*g.p.cycle+g.p.offset) {
			continue // the supplier is out of stock
		}
		need := g.p.coverDays*s.rate(d)*s.shares[k.id] - s.stock[k.id] - s.transit[k.id]
		if need > 0 {
			units[k.id] = math.Ceil(need/10) * 10
			s.transit[k.id] += units[k.id]
			total += units[k.id]
		}
	}
	if total == 0 {
		return
	}
	in := kpi.InboundShipment{Shop: g.p.shop.ID, ID: g.docID("IN", d), Created: created, Units: int64(total)}
	lead := kpi.Date(between(s.r, g.p.leadDays[0], g.p.leadDays[1]))
	if received := at(d+lead, between(s.r, 10, 16), s.r.IntN(60)); g.t.past(received) {
		in.Received = received
		if s.arrivals[d+lead] == nil {
			s.arrivals[d+lead] = make(map[string]float64)
		}
		for id, n := range units {
			s.arrivals[d+lead][id] += n
		}
	}
	g.b.Inbound = append(g.b.Inbound, in)
}

// rate is the units sold per day in the two weeks before d.
func (s *stockSim) rate(d kpi.Date) float64 {
	from := max(d-14, s.g.t.first)
	if from >= d {
		return s.sold[d]
	}
	var n float64
	for x := from; x < d; x++ {
		n += s.sold[x]
	}
	return n / float64(d-from)
}

// customs generates import entries every few days, cleared in 24 to 40
// hours, with the shop's held or late-documented entry.
func (g *shopGen) customs() {
	r := g.rand("customs")
	next := g.t.first + kpi.Date(r.IntN(g.p.customsEvery))
	for d := g.t.first; d <= g.t.today; d++ {
		hold := g.p.customsHold && d == g.t.holdDay
		late := g.p.lateDocs && d == g.t.lateDocsDay
		if d == next {
			next += kpi.Date(between(r, g.p.customsEvery-1, g.p.customsEvery+1))
		} else if !hold && !late {
			continue
		}
		declared := at(d, between(r, 10, 15), r.IntN(60))
		if !g.t.past(declared) {
			continue
		}
		c := kpi.CustomsEntry{
			Shop: g.p.shop.ID, ID: g.docID("IMP", d), Declared: declared,
			Status: kpi.CustomsPending, DocsCompleted: true,
		}
		cleared := declared.Add(minutes(r, 24*60, 40*60))
		switch {
		case hold: // missing certificate: held for inspection
			c.Status = kpi.CustomsHeld
			c.DocsCompleted = false
			cleared = time.Time{}
		case late: // the invoice was resubmitted
			c.DocsCompleted = false
			cleared = declared.Add(minutes(r, 60*60, 72*60))
		}
		if !cleared.IsZero() && g.t.past(cleared) {
			c.Cleared = cleared
			c.Status = kpi.CustomsCleared
		}
		g.b.Customs = append(g.b.Customs, c)
	}
}

// docID returns the id of the shop's document of a kind on day d, e.g.
// IMP-AMZ-20260610.
func (g *shopGen) docID(kind string, d kpi.Date) string {
	return kind + "-" + g.p.code + "-" + stamp(d)
}
