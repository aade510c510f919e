package kpi

import (
	"sort"
	"time"
)

// ConversionWindow is how long after a pre-sale inquiry an order still counts
// as converted.
const ConversionWindow = 7 * 24 * time.Hour

// ShipTarget is the ship-time promise behind ship_24h_rate.
const ShipTarget = 24 * time.Hour

// Records are the raw records of one shop that the daily facts of a window of
// days are built from. A store fills it with every record that touches the
// window (see the field comments); BuildFacts looks at the dates itself, so
// a record outside the window is harmless, but each record must appear once.
type Records struct {
	Orders      []Order             // placed in the window or up to ConversionWindow after it, and the orders of Shipments
	Shipments   []Shipment          // of orders placed in the window, or shipped or delivered in it
	Returns     []Return            // returned in the window
	Reviews     []Review            // posted in the window, and 1-2 star reviews of orders placed in it
	Inventory   []InventorySnapshot // taken in the window
	Inbound     []InboundShipment   // created in the window
	Ads         []AdDay             // in the window
	Customs     []CustomsEntry      // declared in the window
	Tickets     []Ticket            // opened in the window
	AgentShifts []AgentShift        // overlapping the window
}

// BuildFacts returns the facts of each day of [from, to) from recs, as they
// stand at asOf: an order not yet shipped counts as late only once its 24
// hours have passed, and an unanswered review or ticket counts the time it
// has waited so far. Every day of the window gets an entry.
//
// hours gives the business hours of the first-response and coverage
// metrics, and the pause days on which the 24-hour ship clock stops: an
// order paid before or during a pause is due 24 hours of unpaused time
// after payment, and its ship minutes leave the paused time out.
func BuildFacts(recs *Records, from, to Date, asOf time.Time, hours BusinessHours) map[Date]*Facts {
	out := make(map[Date]*Facts, int(to-from))
	for d := from; d < to; d++ {
		out[d] = &Facts{}
	}
	at := func(t time.Time) *Facts {
		if t.IsZero() {
			return nil
		}
		return out[DateOf(t)] // nil outside the window
	}

	orders := make(map[string]*Order, len(recs.Orders))
	for i := range recs.Orders {
		orders[recs.Orders[i].ID] = &recs.Orders[i]
	}
	firstShip := make(map[string]time.Time, len(recs.Shipments))
	for _, s := range recs.Shipments {
		if s.Shipped.IsZero() {
			continue
		}
		if t, ok := firstShip[s.OrderID]; !ok || s.Shipped.Before(t) {
			firstShip[s.OrderID] = s.Shipped
		}
		if f := at(s.Shipped); f != nil {
			f.Count[Shipments]++
			f.Count[UnitsShipped] += s.Units
			if ValidTracking(s.Carrier, s.Tracking) {
				f.Count[TrackedShipments]++
			}
		}
		if f := at(s.Delivered); f != nil {
			f.Count[Delivered]++
			f.Dists[DeliveryMinutes].Observe(minutes(s.Delivered.Sub(s.Shipped)))
			if o := orders[s.OrderID]; o != nil && !o.PromisedBy.IsZero() {
				f.Count[DeliveredWithPromise]++
				if !s.Delivered.After(o.PromisedBy) {
					f.Count[DeliveredOnTime]++
				}
			}
		}
	}

	negative := make(map[string]bool)
	for _, r := range recs.Reviews {
		if r.Negative() && r.OrderID != "" {
			negative[r.OrderID] = true
		}
		f := at(r.Posted)
		if f == nil || r.Rating < 1 || r.Rating > 5 {
			continue
		}
		f.Count[Reviews]++
		f.Count[ReviewStars] += int64(r.Rating)
		if r.Negative() {
			f.Count[NegativeReviews]++
			f.Peaks[NegativeReviewsPeakDay]++
			replied := r.RepliedAt
			if replied.IsZero() || replied.After(asOf) {
				f.Count[NegativeUnanswered]++
				replied = asOf
			}
			f.Dists[ReviewReplyMinutes].Observe(minutes(replied.Sub(r.Posted)))
		}
	}

	// Customers' order times, for pre-sale conversion.
	ordersBy := make(map[string][]time.Time)
	for _, o := range recs.Orders {
		if o.CustomerRef != "" && !o.Status.Cancelled() {
			ordersBy[o.CustomerRef] = append(ordersBy[o.CustomerRef], o.Placed)
		}
	}

	for _, o := range recs.Orders {
		f := at(o.Placed)
		if f == nil {
			continue
		}
		f.Count[OrdersPlaced]++
		if o.Claim || o.Chargeback || negative[o.ID] {
			f.Count[DefectOrders]++
		}
		if o.Status == StatusSellerCancelled {
			f.Count[SellerCancels]++
		}
		if o.Status.Cancelled() {
			continue
		}
		f.Count[OrdersValid]++
		f.Count[GMV] += o.Total
		f.Count[UnitsSold] += o.Units
		start := o.Placed // the ship clock starts when the order can ship
		if o.Paid.After(start) {
			start = o.Paid
		}
		shipped, ok := firstShip[o.ID]
		switch {
		case ok:
			f.Count[ShipDue]++
			f.Count[ShippedOrders]++
			took := hours.ShipClock(start, shipped) // paused days do not count
			f.Dists[ShipMinutes].Observe(minutes(took))
			if took <= ShipTarget {
				f.Count[ShippedIn24h]++
			}
			if !o.ShipBy.IsZero() {
				f.Count[ShippedWithShipBy]++
				if shipped.After(o.ShipBy) {
					f.Count[ShippedLate]++
				}
			}
		case o.Status == StatusPending:
			// not payable yet: not due
		case !asOf.Before(hours.ShipDeadline(start)):
			f.Count[ShipDue]++ // past its deadline and still not shipped
		}
	}

	for _, r := range recs.Returns {
		if f := at(r.Returned); f != nil {
			f.Count[UnitsReturned] += r.Units
		}
	}

	// Inventory: the last snapshot of each SKU in the day.
	type skuDay struct {
		sku string
		day Date
	}
	latest := make(map[skuDay]InventorySnapshot)
	for _, s := range recs.Inventory {
		k := skuDay{s.SKU, DateOf(s.Taken)}
		if cur, ok := latest[k]; !ok || s.Taken.After(cur.Taken) {
			latest[k] = s
		}
	}
	for k, s := range latest {
		f := out[k.day]
		if f == nil {
			continue
		}
		f.Day = k.day
		f.Gauges[OnHand] += s.OnHand
		f.Gauges[InboundNow] += s.Inbound
		f.Count[OnHandSum] += s.OnHand
	}
	for d, f := range out {
		if f.Day == d {
			f.Count[SnapshotDays] = 1
		}
	}

	for _, s := range recs.Inbound {
		if f := at(s.Created); f != nil {
			f.Count[InboundShipments]++
		}
	}
	for _, a := range recs.Ads {
		f := out[a.Day]
		if f == nil {
			continue
		}
		f.Count[AdImpressions] += a.Impressions
		f.Count[AdClicks] += a.Clicks
		f.Count[AdSpend] += a.Spend
		f.Count[AdSales] += a.Sales
		f.Count[AdOrders] += a.Orders
	}
	for _, c := range recs.Customs {
		f := at(c.Declared)
		if f == nil {
			continue
		}
		f.Count[CustomsDeclared]++
		if c.Status == CustomsHeld || c.Status == CustomsRejected {
			f.Count[CustomsFailed]++
		}
		if c.DocsCompleted {
			f.Count[CustomsDocsComplete]++
		}
		if !c.Cleared.IsZero() {
			f.Dists[CustomsMinutes].Observe(minutes(c.Cleared.Sub(c.Declared)))
		}
	}

	for _, t := range recs.Tickets {
		f := at(t.Opened)
		if f == nil {
			continue
		}
		f.Count[Tickets]++
		reply := t.FirstReply
		if reply.IsZero() {
			reply = asOf
		}
		f.Dists[FirstResponseMinutes].Observe(hours.Minutes(t.Opened, reply))
		if t.Kind == PreSale {
			f.Count[PreSaleTickets]++
			for _, placed := range ordersBy[t.CustomerRef] {
				if !placed.Before(t.Opened) && placed.Before(t.Opened.Add(ConversionWindow)) {
					f.Count[PreSaleConverted]++
					break
				}
			}
		}
	}

	coverage(out, recs.AgentShifts, from, to, asOf, hours)
	return out
}

// coverage counts, for each day from the first shift on, the business
// minutes up to asOf and those with at least one Japanese-speaking agent
// online.
func coverage(out map[Date]*Facts, shifts []AgentShift, from, to Date, asOf time.Time, hours BusinessHours) {
	// Before the first shift the records hold, no schedule was given for
	// the shop: its coverage is not known, which is not the same as nobody
	// on duty (no data, rather than 0%).
	if len(shifts) == 0 {
		return
	}
	first := shifts[0].Start
	var jp []AgentShift
	for _, s := range shifts {
		if s.Start.Before(first) {
			first = s.Start
		}
		if s.Speaks("ja") && s.End.After(s.Start) {
			jp = append(jp, s)
		}
	}
	sort.Slice(jp, func(i, j int) bool { return jp[i].Start.Before(jp[j].Start) })
	for d := from; d < to; d++ {
		open, close, ok := hours.Interval(d)
		if !ok || !asOf.After(open) || !close.After(first) {
			continue
		}
		if asOf.Before(close) {
			close = asOf
		}
		f := out[d]
		f.Count[BusinessMinutes] += int64(close.Sub(open) / time.Minute)
		// Walk the sorted shifts, merging overlaps, inside [open, close).
		var covered time.Duration
		cursor := open
		for _, s := range jp {
			start, end := s.Start, s.End
			if start.Before(cursor) {
				start = cursor
			}
			if end.After(close) {
				end = close
			}
			if end.After(start) {
				covered += end.Sub(start)
				cursor = end
			}
		}
		f.Count[JPCoveredMinutes] += int64(covered / time.Minute)
	}
}

// CatalogFacts returns the facts of a shop's listings and the competitor
// offers seen in [from, to): compliance as it stands now (listings launched
// before the window ends), launches in the window, and the price index of
// each SKU against the lowest competitor price seen in the window.
func CatalogFacts(listings []Listing, seen []CompetitorObservation, from, to Date) Facts {
	var f Facts
	price := make(map[string]int64, len(listings))
	end := to.Start()
	for _, l := range listings {
		if !l.Launched.IsZero() && !l.Launched.Before(end) {
			continue
		}
		price[l.SKU] = l.Price
		if d := DateOf(l.Launched); !l.Launched.IsZero() && d >= from {
			f.Count[NewListings]++
		}
		if l.NeedsPSE {
			f.Count[ListingsNeedPSE]++
			if l.PSEValid {
				f.Count[ListingsPSEValid]++
			}
		}
		if l.Label != LabelUnchecked {
			f.Count[ListingsLabelChecked]++
			if l.Label == LabelPassed {
				f.Count[ListingsLabelPassed]++
			}
		}
	}
	lowest := make(map[string]int64)
	for _, o := range seen {
		d := DateOf(o.Observed)
		if d < from || d >= to {
			continue
		}
		if o.NewListing {
			f.Count[CompetitorNewListings]++
		}
		if o.Price <= 0 {
			continue
		}
		if cur, ok := lowest[o.SKU]; !ok || o.Price < cur {
			lowest[o.SKU] = o.Price
		}
	}
	for sku, low := range lowest {
		ours, ok := price[sku]
		if !ok || ours <= 0 {
			continue
		}
		f.Count[PricedSKUs]++
		f.Count[PriceIndexMicros] += ours * 1_000_000 / low
	}
	return f
}

func minutes(d time.Duration) int64 { return int64(d / time.Minute) }
