package demo

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

const (
	afterSaleRate  = 0.05  // orders that lead to a ticket
	preSaleRate    = 0.025 // pre-sale inquiries per order
	preSaleBuyers  = 0.3   // of those, from a customer who orders within a week
	inquiryOffset  = 500_000
	weekendHelpers = 0.6 // weekend tickets the weekend agent answers the same day
)

var (
	langs   = []string{"ja", "zh", "en"}
	langMix = []float64{0.92, 0.04, 0.04}
)

// tickets generates after-sale tickets on orders and pre-sale inquiries,
// some from customers who then order, and answers them.
func (g *shopGen) tickets() {
	r := g.rand("tickets")
	var ts []kpi.Ticket
	add := func(ref string, opened time.Time, kind kpi.TicketKind) {
		if opened.Before(g.t.first.Start()) || !g.t.past(opened) {
			return
		}
		ts = append(ts, kpi.Ticket{
			Shop: g.p.shop.ID, CustomerRef: ref, Opened: opened, Kind: kind,
			Lang: langs[weighted(r, langMix)],
		})
	}
	var buyers []int // orders a pre-sale inquiry can lead to
	for i, o := range g.b.Orders {
		if chance(r, afterSaleRate) {
			add(o.CustomerRef, o.Placed.Add(minutes(r, 6*60, 5*24*60)), kpi.AfterSale)
		}
		if !o.Status.Cancelled() {
			buyers = append(buyers, i)
		}
	}
	inquiries := int(float64(len(g.b.Orders)) * preSaleRate)
	for i := range inquiries {
		if chance(r, preSaleBuyers) && len(buyers) > 0 {
			o := &g.b.Orders[pick(r, buyers)]
			add(o.CustomerRef, o.Placed.Add(-minutes(r, 30, 6*24*60)), kpi.PreSale)
			continue
		}
		day := g.t.first + kpi.Date(r.IntN(Days))
		add("c-"+strconv.Itoa(g.p.customers+inquiryOffset+i), instant(r, day), kpi.PreSale)
	}

	slices.SortFunc(ts, func(a, b kpi.Ticket) int {
		return cmp.Or(a.Opened.Compare(b.Opened), cmp.Compare(a.CustomerRef, b.CustomerRef))
	})
	seq := 0
	for i := range ts {
		t := &ts[i]
		d := kpi.DateOf(t.Opened)
		if i == 0 || d != kpi.DateOf(ts[i-1].Opened) {
			seq = 0
		}
		seq++
		t.ID = fmt.Sprintf("TK-%s-%s-%03d", g.p.code, stamp(d), seq)
		if reply := g.firstReply(r, t.Opened); g.t.past(reply) {
			t.FirstReply = reply
		}
	}
	g.b.Tickets = ts
}

// firstReply returns when a ticket opened at opened gets its first answer:
// 30 to 90 business minutes as a rule, the same day from the weekend agent
// for many weekend tickets, and Monday afternoon for those of the slow
// weekend.
func (g *shopGen) firstReply(r *rand.Rand, opened time.Time) time.Time {
	d := kpi.DateOf(opened)
	if g.p.slowWeekend && !opened.Before(at(g.t.slowFriday, 15, 0)) && opened.Before(at(g.t.slowFriday+3, 9, 0)) {
		return at(g.t.slowFriday+3, 14, 0).Add(minutes(r, 0, 150))
	}
	if weekend(d) && opened.After(at(d, 10, 0)) && opened.Before(at(d, 14, 0)) && chance(r, weekendHelpers) {
		return opened.Add(minutes(r, 20, 120))
	}
	wait := minutes(r, 30, 90)
	if chance(r, 0.05) {
		wait = minutes(r, 120, 300)
	}
	return addBusiness(opened, wait)
}

// shifts generates the agents' shifts: two Japanese-speaking agents split
// each weekday (one late some mornings, the other late after lunch or gone
// early some afternoons, one of them off now and then), a Chinese-speaking
// agent on Chinese office hours and a weekend agent. On the slow weekend the
// afternoon agent leaves at 15:00 on Friday and the weekend agent is absent.
func (g *shopGen) shifts() {
	r := g.rand("shifts")
	agent := func(n int) string { return fmt.Sprintf("agent-%s-%d", strings.ToLower(g.p.code), n) }
	for d := g.t.first; d <= g.t.today; d++ {
		if weekend(d) {
			if !g.p.slowWeekend || d < g.t.slowFriday || d > g.t.slowFriday+2 {
				g.shift(agent(4), at(d, 10, 0), at(d, 15, 0), "ja")
			}
			continue
		}
		off := -1
		if chance(r, 0.07) {
			off = r.IntN(2)
		}
		if off != 0 {
			start := at(d, 9, 0)
			if chance(r, 0.3) {
				start = start.Add(minutes(r, 10, 45))
			}
			g.shift(agent(1), start, at(d, 13, 0).Add(minutes(r, 0, 60)), "ja", "en")
		}
		if off != 1 {
			start, end := at(d, 13, 0), at(d, 18, 0)
			if chance(r, 0.25) {
				start = start.Add(minutes(r, 15, 60))
			}
			if chance(r, 0.2) {
				end = end.Add(-minutes(r, 20, 60))
			}
			if g.p.slowWeekend && d == g.t.slowFriday {
				end = at(d, 15, 0) // and nobody until Monday afternoon
			}
			g.shift(agent(2), start, end, "ja")
		}
		g.shift(agent(3), at(d, 10, 0), at(d, 19, 0), "zh")
	}
}

// shift records a shift, cut at now; a shift not yet begun is left out.
func (g *shopGen) shift(agent string, start, end time.Time, speaks ...string) {
	if end.After(g.t.now) {
		end = g.t.now
	}
	if !end.After(start) {
		return
	}
	g.b.AgentShifts = append(g.b.AgentShifts, kpi.AgentShift{
		Shop: g.p.shop.ID, Agent: agent, Start: start, End: end, Langs: speaks,
	})
}
