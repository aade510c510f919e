package sqlstore

import (
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// ConversionDays is how many days before an order's placed day a pre-sale
// ticket can be converted by it (kpi.ConversionWindow), so how many rollup
// days before it an order touches.
const ConversionDays = int(kpi.ConversionWindow / (24 * time.Hour))

// ShopDay is the daily rollup of a shop's day.
type ShopDay struct {
	Shop string
	Day  kpi.Date
}

// ShopKey names a record of a shop by its id.
type ShopKey struct{ Shop, ID string }

// Stale collects the daily rollups that a write makes stale: the days on
// which kpi.BuildFacts counts a new or changed record, to be called with
// the old and the new version of each. Two kinds of days are reached
// through another table, and are left to the store to look up once all of
// a batch's records are written (so that it sees those of the batch too):
// the placed days of the orders in PlacedOf, and the ship and delivery days
// of the shipments of the orders in ShipmentsOf. The store then marks them
// with Mark.
type Stale struct {
	Days map[ShopDay]struct{} // the rollups to delete

	PlacedOf    map[ShopKey]struct{} // orders whose placed day to mark
	ShipmentsOf map[ShopKey]struct{} // orders written, whose shipments' days to mark

	last markRange // the days Mark marked last
}

// markRange is the days [first, last] of a shop.
type markRange struct {
	shop        string
	first, last kpi.Date
}

// NewStale returns an empty Stale.
func NewStale() *Stale {
	return &Stale{Days: make(map[ShopDay]struct{}), PlacedOf: make(map[ShopKey]struct{}),
		ShipmentsOf: make(map[ShopKey]struct{})}
}

// Mark adds the days [first, last] of shop.
func (s *Stale) Mark(shop string, first, last kpi.Date) {
	r := markRange{shop, first, last}
	if r == s.last {
		return // records in time order mark the same days again and again
	}
	s.last = r
	for d := first; d <= last; d++ {
		s.Days[ShopDay{shop, d}] = struct{}{}
	}
}

// markTime marks the day of t; a zero time marks nothing.
func (s *Stale) markTime(shop string, t time.Time) {
	if !t.IsZero() {
		d := kpi.DateOf(t)
		s.Mark(shop, d, d)
	}
}

// Order: an order counts on its placed day, converts the pre-sale tickets
// of the days before it, and gives its promised date to its deliveries:
// the days of its shipments are left to the store (ShipmentsOf).
func (s *Stale) Order(o *kpi.Order) {
	placed := kpi.DateOf(o.Placed)
	s.Mark(o.Shop, placed.AddDays(-ConversionDays), placed)
	s.ShipmentsOf[ShopKey{o.Shop, o.ID}] = struct{}{}
}

// Shipment: a shipment counts on its ship and delivery days, and on its
// order's placed day.
func (s *Stale) Shipment(sh *kpi.Shipment) {
	s.markTime(sh.Shop, sh.Shipped)
	s.markTime(sh.Shop, sh.Delivered)
	s.placed(sh.Shop, sh.OrderID)
}

// placed marks the placed day of order shop/id: Order did if the order was
// written in this batch; else the store looks it up (PlacedOf).
func (s *Stale) placed(shop, id string) {
	k := ShopKey{shop, id}
	if _, ok := s.ShipmentsOf[k]; !ok {
		s.PlacedOf[k] = struct{}{}
	}
}

// Review: a review counts on its posted day, and a 1-2 star one on its
// order's placed day.
func (s *Stale) Review(r *kpi.Review) {
	s.markTime(r.Shop, r.Posted)
	if r.OrderID != "" {
		s.placed(r.Shop, r.OrderID)
	}
}

// Return counts on its day, as do the other kinds below.
func (s *Stale) Return(r *kpi.Return) { s.markTime(r.Shop, r.Returned) }

// Inventory counts on the day the snapshot was taken.
func (s *Stale) Inventory(i *kpi.InventorySnapshot) { s.markTime(i.Shop, i.Taken) }

// Inbound counts on the day the shipment was created.
func (s *Stale) Inbound(i *kpi.InboundShipment) { s.markTime(i.Shop, i.Created) }

// Ad counts on its day.
func (s *Stale) Ad(a *kpi.AdDay) { s.Mark(a.Shop, a.Day, a.Day) }

// Customs counts on the day the entry was declared.
func (s *Stale) Customs(c *kpi.CustomsEntry) { s.markTime(c.Shop, c.Declared) }

// Ticket counts on the day it was opened.
func (s *Stale) Ticket(t *kpi.Ticket) { s.markTime(t.Shop, t.Opened) }

// Shift counts on every day it overlaps.
func (s *Stale) Shift(sh *kpi.AgentShift) {
	s.Mark(sh.Shop, kpi.DateOf(sh.Start), kpi.DateOf(sh.End))
}
