package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

const (
	sellerCancelRate = 0.015 // cancelled by the seller before shipping (out of stock)
	buyerCancelRate  = 0.02
	shipCutoff       = 14 * time.Hour // orders paid before 14:00 on a working day leave the same day
	reviewRate       = 0.10
	returnRate       = 0.033
	spikeReturnRate  = 0.10
)

var (
	unitWeights = []float64{0.6, 0.3, 0.1} // 1, 2 or 3 units
	carriers    = []string{"yamato", "sagawa", "japanpost"}
	carrierMix  = []float64{0.5, 0.3, 0.2}

	returnReasons = []string{"changed mind", "wrong size", "defective", "damaged in transit", "not as described"}
	returnMix     = []float64{0.3, 0.2, 0.2, 0.15, 0.15}

	// Review texts by star rating, 1 to 5.
	reviewTexts = [5][]string{
		{"Package arrived damaged.", "Wrong item sent.", "Does not work at all."},
		{"Arrived late and the shop did not answer my message.", "Stopped working after a week.", "Smaller than the photos suggest."},
		{"Average quality for the price.", "Does the job, but the manual is hard to follow."},
		{"Good product, the box was a little dented.", "Works well. Delivery took a day longer than expected."},
		{"Great quality and fast delivery.", "Exactly as described, will buy again.", "Carefully packed and arrived the next day."},
	}
	burstTexts = []string{
		"Package arrived damaged, the box was crushed.",
		"The charger gets very hot and stopped working.",
		"Arrived two days late without any notice.",
		"The cable inside was broken.",
		"Looks used, not new.",
		"Wrong color sent and no reply to my message yet.",
	}
)

// orders generates the orders of every day, with their shipments, returns
// and reviews, then the negative-review burst if the shop has it.
func (g *shopGen) orders() {
	r := g.rand("orders")
	expected := int(g.p.perDay * Days * 1.2)
	g.b.Orders = make([]kpi.Order, 0, expected)
	g.b.Shipments = make([]kpi.Shipment, 0, expected)
	for d := g.t.first; d <= g.t.today; d++ {
		n := int(math.Round(g.p.perDay * g.volume(d) * uniform(r, 0.9, 1.1)))
		times := make([]time.Time, n)
		for i := range times {
			times[i] = instant(r, d)
		}
		slices.SortFunc(times, time.Time.Compare)
		day := stamp(d)
		for i, placed := range times {
			if !g.t.past(placed) {
				break
			}
			g.b.Orders = append(g.b.Orders, g.order(r, g.p.orderID(day, i+1), placed))
		}
	}
	if g.p.reviewBurst {
		g.reviewBurst(r)
	}
}

// order returns an order placed at placed as it stands now, and records
// what followed it: its shipment, a return, a review.
func (g *shopGen) order(r *rand.Rand, id string, placed time.Time) kpi.Order {
	p := g.p
	o := kpi.Order{
		Shop:        p.shop.ID,
		ID:          id,
		CustomerRef: g.customer(r),
		Placed:      placed,
		Units:       int64(weighted(r, unitWeights) + 1),
		Channel:     kpi.ByMerchant,
	}
	o.Total = clamp(round10(float64(o.Units)*uniform(r, 1500, 7000)), 1500, 20000)
	if chance(r, p.byPlatform) {
		o.Channel = kpi.ByPlatform
	}
	paid := placed.Add(minutes(r, 1, 10))
	if chance(r, p.bankTransfer) {
		paid = placed.Add(minutes(r, 16*60, 40*60))
	}
	switch x := r.Float64(); {
	case x < sellerCancelRate:
		o.Status = kpi.StatusSellerCancelled
	case x < sellerCancelRate+buyerCancelRate:
		o.Status = kpi.StatusCancelled
	}

	if !g.t.past(paid) {
		if o.Status == "" {
			o.Status = kpi.StatusPending // no ship-by date until paid
		}
		return o
	}
	o.Paid = paid
	paidDay := kpi.DateOf(paid)
	o.ShipBy = endOfDay(paidDay + 2)
	o.PromisedBy = endOfDay(paidDay + 4)
	if o.Channel == kpi.ByPlatform {
		o.PromisedBy = endOfDay(paidDay + 3)
	}
	if o.Status.Cancelled() {
		return o
	}
	shipped := g.shipTime(r, paid, o.Channel == kpi.ByPlatform)
	if !g.t.past(shipped) {
		o.Status = kpi.StatusUnshipped
		return o
	}
	s := g.shipment(r, &o, shipped)
	o.Status = kpi.StatusShipped
	o.Claim = chance(r, p.claims)
	o.Chargeback = chance(r, p.chargebacks)
	if s.Delivered.IsZero() {
		return o
	}
	o.Status = kpi.StatusDelivered
	g.delivered[o.ID] = s.Delivered
	g.returnOf(r, &o, s.Delivered)
	if chance(r, reviewRate) {
		if posted := s.Delivered.Add(minutes(r, 6*60, 10*24*60)); g.t.past(posted) {
			g.review(r, o.ID, posted, weighted(r, p.stars[:])+1)
		}
	}
	return o
}

// customer returns the ref of a returning customer one time in five, or of
// a new one.
func (g *shopGen) customer(r *rand.Rand) string {
	if len(g.customers) > 0 && chance(r, 0.2) {
		return pick(r, g.customers)
	}
	ref := "c-" + strconv.Itoa(g.p.customers+len(g.customers))
	g.customers = append(g.customers, ref)
	return ref
}

// shipTime returns when the first package of an order paid at start leaves.
// The platform's warehouse ships within hours every day. The shop's own
// warehouse ships orders paid before the cut-off the same afternoon and the
// rest the next working morning; its weekend crew leaves some orders to
// Monday, and it closes over the holiday, shipping the backlog after it.
func (g *shopGen) shipTime(r *rand.Rand, start time.Time, byPlatform bool) time.Time {
	var t time.Time
	switch d := kpi.DateOf(start); {
	case byPlatform:
		t = start.Add(minutes(r, 60, 14*60))
		if g.t.holiday(d) {
			t = t.Add(minutes(r, 12*60, 30*60))
		}
	case start.Before(d.Start().Add(shipCutoff)) && g.works(r, d):
		t = at(d, 15, 0).Add(minutes(r, 0, 180))
		if earliest := start.Add(30 * time.Minute); t.Before(earliest) {
			t = earliest.Add(minutes(r, 0, 60))
		}
	default:
		d++
		for !g.works(r, d) {
			d++
		}
		if d == g.t.holidayTo {
			d += kpi.Date(r.IntN(2)) // the backlog takes two days
		}
		t = at(d, 9, 0).Add(minutes(r, 0, 180))
	}
	if chance(r, 0.005) { // back-ordered
		t = t.Add(time.Duration(between(r, 1, 3)) * 24 * time.Hour)
	}
	return t
}

// works reports whether the shop's warehouse ships a given order on day d.
func (g *shopGen) works(r *rand.Rand, d kpi.Date) bool {
	switch {
	case g.t.holiday(d):
		return false
	case weekend(d):
		return !chance(r, g.p.weekendMiss)
	}
	return true
}

// shipment records the package of o that left at shipped, delivered one to
// three days later (a day more around the holiday).
func (g *shopGen) shipment(r *rand.Rand, o *kpi.Order, shipped time.Time) kpi.Shipment {
	carrier := carriers[weighted(r, carrierMix)]
	s := kpi.Shipment{
		Shop:     o.Shop,
		ID:       o.ID + "-1",
		OrderID:  o.ID,
		Shipped:  shipped,
		Carrier:  carrier,
		Tracking: tracking(r, carrier),
		Units:    o.Units,
	}
	d := kpi.DateOf(shipped)
	days := weighted(r, []float64{0.7, 0.25, 0.05}) + 1
	if g.t.holiday(d) || g.t.holiday(d+1) {
		days++
	}
	if delivered := at(d+kpi.Date(days), between(r, 9, 20), r.IntN(60)); g.t.past(delivered) {
		s.Delivered = delivered
	}
	g.b.Shipments = append(g.b.Shipments, s)
	return s
}

// tracking returns a tracking number in the carrier's format; about one in
// seventy is missing or mistyped.
func tracking(r *rand.Rand, carrier string) string {
	switch x := r.Float64(); {
	case x < 0.005:
		return ""
	case x < 0.015:
		return fmt.Sprintf("%010d", r.Int64N(1e10)) // two digits short
	}
	n := strconv.FormatInt(1e12+r.Int64N(1e12), 10)[1:] // 12 digits
	if carrier == "sagawa" {
		return n
	}
	return n[:4] + "-" + n[4:8] + "-" + n[8:]
}

// returnOf may record a return of o a few days after its delivery; the
// closed warehouse takes none in over the holiday. Since the 1st of last
// month the return-spike shop gets about three times as many.
func (g *shopGen) returnOf(r *rand.Rand, o *kpi.Order, delivered time.Time) {
	day := kpi.DateOf(delivered) + kpi.Date(between(r, 2, 12))
	if g.t.holiday(day) {
		day = g.t.holidayTo
	}
	back := at(day, between(r, 10, 18), r.IntN(60))
	spike := g.p.returnSpike && kpi.DateOf(back) >= g.t.spikeFrom
	rate := returnRate
	if spike {
		rate = spikeReturnRate
	}
	if !g.t.past(back) || !chance(r, rate) {
		return
	}
	units := o.Units
	if units > 1 && chance(r, 0.3) {
		units = 1
	}
	reason := returnReasons[weighted(r, returnMix)]
	if spike && chance(r, 0.7) {
		reason = "defective"
	}
	g.b.Returns = append(g.b.Returns, kpi.Return{
		Shop: o.Shop, ID: "RT-" + o.ID, OrderID: o.ID, Returned: back, Units: units, Reason: reason,
	})
}

// review records a review of order id. Most are linked to the order; the
// shop answers negative ones within a day and some positive ones.
func (g *shopGen) review(r *rand.Rand, id string, posted time.Time, rating int) {
	rv := kpi.Review{Shop: g.p.shop.ID, ID: "RV-" + id, Posted: posted, Rating: rating, Text: pick(r, reviewTexts[rating-1])}
	if chance(r, 0.9) {
		rv.OrderID = id
	}
	var reply time.Time
	switch {
	case rv.Negative():
		reply = posted.Add(minutes(r, 2*60, 20*60))
	case chance(r, 0.3):
		reply = posted.Add(minutes(r, 24*60, 72*60))
	}
	if !reply.IsZero() && g.t.past(reply) {
		rv.RepliedAt = reply
	}
	g.reviewed[id] = true
	g.b.Reviews = append(g.b.Reviews, rv)
}

// reviewBurst posts six 1-2 star reviews on burstDay, 09:00 to 20:00, on
// orders delivered in the days before. The first is answered within hours,
// the other five are still waiting.
func (g *shopGen) reviewBurst(r *rand.Rand) {
	day := g.t.burstDay
	var candidates []string
	for _, o := range g.b.Orders {
		if d := kpi.DateOf(o.Placed); d < day-7 || d > day-3 || g.reviewed[o.ID] {
			continue
		}
		if t, ok := g.delivered[o.ID]; ok && t.Before(day.Start()) {
			candidates = append(candidates, o.ID)
		}
	}
	for i, text := range burstTexts {
		if len(candidates) == 0 {
			return
		}
		k := r.IntN(len(candidates))
		id := candidates[k]
		candidates = slices.Delete(candidates, k, k+1)
		rv := kpi.Review{
			Shop: g.p.shop.ID, ID: "RV-" + id, OrderID: id,
			Posted: at(day, 9+2*i, r.IntN(60)), Rating: 1 + r.IntN(2), Text: text,
		}
		if i == 0 {
			rv.RepliedAt = rv.Posted.Add(minutes(r, 2*60, 5*60))
		}
		g.reviewed[id] = true
		g.b.Reviews = append(g.b.Reviews, rv)
	}
}
