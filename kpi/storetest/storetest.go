// Package storetest is the test suite every kpi.Store must pass.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// opener opens an empty store for one test, with now as its clock.
type opener = func(t *testing.T, now func() time.Time) kpi.Store

// Run runs the suite against the stores open makes. It uses nothing but
// the kpi.Store, kpi.BindCodes, kpi.ChatChannels, kpi.ChannelLister,
// kpi.Outbox, kpi.AlertStore, kpi.AlertSource and kpi.SyncState
// interfaces, and the methods the bot and the commands need besides
// (UserLang, FirstSeen, Ping, AlertCounts: see prefs.go), and closes every
// store it opens.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) kpi.Store) {
	tests := []struct {
		name string
		test func(*testing.T, opener)
	}{
		{"Upsert", testUpsert},
		{"Invalid", testInvalid},
		{"Invalidation", testInvalidation},
		{"JSTDayBoundary", testJSTDayBoundary},
		{"MatchesBuildFacts", testMatchesBuildFacts},
		{"UnknownShop", testUnknownShop},
		{"NonFinalRebuilt", testNonFinalRebuilt},
		{"BindCodes", testBindCodes},
		{"ChatChannelList", testChatChannelList},
		{"DigestAt", testDigestAt},
		{"Outbox", testOutbox},
		{"OutboxClaims", testOutboxClaims},
		{"Alerts", testAlerts},
		{"AlertStreaksAndAudit", testAlertStreaksAndAudit},
		{"RuleOverrides", testRuleOverrides},
		{"SyncCursors", testSyncCursors},
		{"Recorded", testRecorded},
		{"RepeatedKeys", testRepeatedKeys},
		{"LargeBatches", testLargeBatches},
		{"NegativeReviews", testNegativeReviews},
		{"LastWrite", testLastWrite},
		{"UserLang", testUserLang},
		{"FirstSeen", testFirstSeen},
		{"ChatChannels", testChatChannels},
		{"AlertCounts", testAlertCounts},
		{"Ping", testPing},
		{"ReviewTextMasked", testReviewTextMasked},
		{"OrderedByBytes", testOrderedByBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open) })
	}
}

// clock is a clock a test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func openAt(t *testing.T, open opener, c *clock) kpi.Store {
	t.Helper()
	s := open(t, c.Now)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

const shop = "amz-main"

var mainShop = kpi.Shop{ID: shop, Platform: kpi.Amazon, Marketplace: "A1VC38T7YXB528", Name: "Main", Currency: "JPY"}

func jst(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, kpi.Tokyo)
}

func write(t *testing.T, s kpi.Store, b *kpi.Batch) kpi.WriteStats {
	t.Helper()
	st, err := s.Write(context.Background(), b)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return st
}

func facts(t *testing.T, s kpi.Store, from, to kpi.Date) *kpi.Facts {
	t.Helper()
	m, err := s.Facts(context.Background(), kpi.FactQuery{Shops: []string{shop}, From: from, To: to, Dists: true, Catalog: true})
	if err != nil {
		t.Fatalf("Facts(%s, %s): %v", from, to, err)
	}
	f := m[shop]
	if f == nil {
		t.Fatalf("Facts(%s, %s): shop %q missing", from, to, shop)
	}
	return f
}

// oneOfEach is a batch with a record of every kind around day d.
func oneOfEach(d kpi.Date) *kpi.Batch {
	at := func(days int, h time.Duration) time.Time { return d.AddDays(days).Start().Add(h) }
	return &kpi.Batch{
		Shops: []kpi.Shop{mainShop},
		Orders: []kpi.Order{
			{Shop: shop, ID: "o1", CustomerRef: "c1", Placed: at(0, 10*time.Hour), Paid: at(0, 10*time.Hour),
				ShipBy: at(1, 12*time.Hour), PromisedBy: at(3, 20*time.Hour), Status: kpi.StatusDelivered,
				Total: 3000, Units: 2, Channel: kpi.ByMerchant},
			{Shop: shop, ID: "o2", CustomerRef: "c2", Placed: at(0, 11*time.Hour), Status: kpi.StatusUnshipped,
				Total: 1500, Units: 1, Channel: kpi.ByPlatform, Claim: true},
		},
		Shipments: []kpi.Shipment{{Shop: shop, ID: "s1", OrderID: "o1", Shipped: at(0, 15*time.Hour),
			Carrier: "yamato", Tracking: "1234-5678-9012", Delivered: at(2, 11*time.Hour), Units: 2}},
		Returns: []kpi.Return{{Shop: shop, ID: "r1", OrderID: "o1", Returned: at(4, 9*time.Hour), Units: 1, Reason: "size"}},
		Reviews: []kpi.Review{{Shop: shop, ID: "v1", OrderID: "o1", Posted: at(3, 9*time.Hour), Rating: 2,
			Text: "late", RepliedAt: at(3, 12*time.Hour)}},
		Inventory: []kpi.InventorySnapshot{{Shop: shop, SKU: "sku1", Taken: at(0, 6*time.Hour), OnHand: 40, Inbound: 10, Reserved: 2}},
		Inbound:   []kpi.InboundShipment{{Shop: shop, ID: "in1", Created: at(0, 8*time.Hour), Units: 100}},
		Ads:       []kpi.AdDay{{Shop: shop, Campaign: "spring", Day: d, Impressions: 1000, Clicks: 30, Spend: 900, Sales: 6000, Orders: 2}},
		Customs: []kpi.CustomsEntry{{Shop: shop, ID: "cu1", Declared: at(0, 9*time.Hour), Cleared: at(1, 9*time.Hour),
			Status: kpi.CustomsCleared, DocsCompleted: true}},
		Tickets: []kpi.Ticket{{Shop: shop, ID: "t1", CustomerRef: "c1", Opened: at(0, 9*time.Hour),
			FirstReply: at(0, 9*time.Hour+30*time.Minute), Kind: kpi.PreSale, Lang: "ja"}},
		AgentShifts: []kpi.AgentShift{{Shop: shop, Agent: "a1", Start: at(0, 9*time.Hour), End: at(0, 13*time.Hour), Langs: []string{"ja", "en"}}},
		Listings:    []kpi.Listing{{Shop: shop, SKU: "sku1", Launched: at(-30, 0), NeedsPSE: true, PSEValid: true, Label: kpi.LabelPassed, Price: 1500}},
		Competitors: []kpi.CompetitorObservation{{Shop: shop, SKU: "sku1", Competitor: "rival", Observed: at(1, 10*time.Hour), Price: 1200, NewListing: true}},
	}
}

func testUpsert(t *testing.T, open opener) {
	d := kpi.NewDate(2026, 3, 2)
	s := openAt(t, open, newClock(d.AddDays(20).Start()))
	b := oneOfEach(d)
	n := b.Len()

	if got, want := write(t, s, b), (kpi.WriteStats{Inserted: n}); got != want {
		t.Fatalf("first write: %+v, want %+v", got, want)
	}
	before := facts(t, s, d, d.AddDays(7))
	if got, want := write(t, s, b), (kpi.WriteStats{Unchanged: n}); got != want {
		t.Fatalf("same batch again: %+v, want %+v", got, want)
	}
	after := facts(t, s, d, d.AddDays(7))
	if after.Count != before.Count {
		t.Errorf("the same batch again changed the facts:\n%v\n%v", before.Count, after.Count)
	}

	// Change an order, a review's reply and the shop's name.
	b.Orders[0].Total += 100
	b.Reviews[0].RepliedAt = b.Reviews[0].RepliedAt.Add(time.Hour)
	b.Shops[0].Name = "Main store"
	if got, want := write(t, s, b), (kpi.WriteStats{Updated: 3, Unchanged: n - 3}); got != want {
		t.Fatalf("changed batch: %+v, want %+v", got, want)
	}
	changed := facts(t, s, d, d.AddDays(7))
	if got, want := changed.Count[kpi.GMV], before.Count[kpi.GMV]+100; got != want {
		t.Errorf("GMV after the change = %d, want %d", got, want)
	}
	if got, want := changed.Dists[kpi.ReviewReplyMinutes].Mean(), 240.0; got != want {
		t.Errorf("review reply minutes after the change = %v, want %v", got, want)
	}

	// A record in a batch of its own counts once, whatever the batch.
	one := &kpi.Batch{Orders: b.Orders[:1]}
	if got, want := write(t, s, one), (kpi.WriteStats{Unchanged: 1}); got != want {
		t.Errorf("one stored order again: %+v, want %+v", got, want)
	}

	shops, err := s.Shops(context.Background())
	if err != nil {
		t.Fatalf("Shops: %v", err)
	}
	if len(shops) != 1 || shops[0] != b.Shops[0] {
		t.Errorf("Shops = %+v, want [%+v]", shops, b.Shops[0])
	}

	// Every kind is stored and counted.
	for _, c := range []struct {
		name string
		id   kpi.Counter
		want int64
	}{
		{"OrdersPlaced", kpi.OrdersPlaced, 2},
		{"GMV", kpi.GMV, 4600},
		{"DefectOrders", kpi.DefectOrders, 2}, // o1 by its 2-star review, o2 by its claim
		{"ShippedIn24h", kpi.ShippedIn24h, 1},
		{"TrackedShipments", kpi.TrackedShipments, 1},
		{"DeliveredOnTime", kpi.DeliveredOnTime, 1},
		{"UnitsReturned", kpi.UnitsReturned, 1},
		{"NegativeReviews", kpi.NegativeReviews, 1},
		{"OnHandSum", kpi.OnHandSum, 40},
		{"InboundShipments", kpi.InboundShipments, 1},
		{"AdSpend", kpi.AdSpend, 900},
		{"CustomsDocsComplete", kpi.CustomsDocsComplete, 1},
		{"PreSaleConverted", kpi.PreSaleConverted, 1},
		{"JPCoveredMinutes", kpi.JPCoveredMinutes, 240},
		{"ListingsPSEValid", kpi.ListingsPSEValid, 1},
		{"CompetitorNewListings", kpi.CompetitorNewListings, 1},
		{"PriceIndexMicros", kpi.PriceIndexMicros, 1_250_000},
	} {
		if got := changed.Count[c.id]; got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}
	if got := changed.Gauges[kpi.OnHand]; got != 40 {
		t.Errorf("OnHand gauge = %d, want 40", got)
	}
}

func testInvalid(t *testing.T, open opener) {
	d := kpi.NewDate(2026, 3, 2)
	s := openAt(t, open, newClock(d.AddDays(20).Start()))
	b := oneOfEach(d)
	b.Reviews[0].Rating = 0
	_, err := s.Write(context.Background(), b)
	if code := kpi.ErrorCode(err); code != kpi.Invalid {
		t.Fatalf("Write with a 0-star review: %v (code %q), want an %q error", err, code, kpi.Invalid)
	}
	if f := facts(t, s, d, d.AddDays(7)); f.Count[kpi.OrdersPlaced] != 0 {
		t.Errorf("a rejected batch stored %d orders", f.Count[kpi.OrdersPlaced])
	}
	if st, err := s.Write(context.Background(), &kpi.Batch{}); err != nil || st != (kpi.WriteStats{}) {
		t.Errorf("empty batch: %+v, %v", st, err)
	}
}

// testInvalidation reads facts, changes records, and reads again: every
// change must show although the days' rollups were built before it.
func testInvalidation(t *testing.T, open opener) {
	d := kpi.NewDate(2026, 3, 2) // a Monday
	s := openAt(t, open, newClock(d.AddDays(30).Start()))
	b := oneOfEach(d)
	write(t, s, b)
	day := func(n int) *kpi.Facts { return facts(t, s, d.AddDays(n), d.AddDays(n+1)) }

	f := day(0)
	if f.Count[kpi.ShippedIn24h] != 1 || f.Count[kpi.Shipments] != 1 || f.Dists[kpi.ShipMinutes].Mean() != 300 {
		t.Fatalf("before: ShippedIn24h %d, Shipments %d, ship minutes %v; want 1, 1, 300",
			f.Count[kpi.ShippedIn24h], f.Count[kpi.Shipments], f.Dists[kpi.ShipMinutes].Mean())
	}
	// The shipment leaves 30 hours after payment, on the next day.
	b.Shipments[0].Shipped = b.Orders[0].Paid.Add(30 * time.Hour)
	write(t, s, &kpi.Batch{Shipments: b.Shipments})
	f = day(0)
	if f.Count[kpi.ShippedIn24h] != 0 || f.Count[kpi.Shipments] != 0 || f.Dists[kpi.ShipMinutes].Mean() != 1800 {
		t.Errorf("after: ShippedIn24h %d, Shipments %d, ship minutes %v; want 0, 0, 1800",
			f.Count[kpi.ShippedIn24h], f.Count[kpi.Shipments], f.Dists[kpi.ShipMinutes].Mean())
	}
	if got := day(1).Count[kpi.Shipments]; got != 1 {
		t.Errorf("shipments on the new ship day = %d, want 1", got)
	}
	// An order moved ten days on leaves its old day, whose rollup was built.
	gmv0, gmv10 := day(0).Count[kpi.GMV], day(10).Count[kpi.GMV]
	b.Orders[1].Placed = b.Orders[1].Placed.Add(10 * 24 * time.Hour)
	write(t, s, &kpi.Batch{Orders: b.Orders[1:2]})
	if got0, got10 := day(0).Count[kpi.GMV], day(10).Count[kpi.GMV]; got0 != gmv0-1500 || got10 != gmv10+1500 {
		t.Errorf("GMV of days 0 and 10 after moving an order = %d, %d; want %d, %d", got0, got10, gmv0-1500, gmv10+1500)
	}
	b.Orders[1].Placed = b.Orders[1].Placed.Add(-10 * 24 * time.Hour)
	write(t, s, &kpi.Batch{Orders: b.Orders[1:2]})

	// A shipment three days later counts on its order's placed day.
	late := kpi.Shipment{Shop: shop, ID: "s2", OrderID: "o2", Shipped: d.AddDays(3).Start().Add(9 * time.Hour), Carrier: "sagawa", Units: 1}
	write(t, s, &kpi.Batch{Shipments: []kpi.Shipment{late}})
	if got := day(0).Count[kpi.ShippedOrders]; got != 2 {
		t.Errorf("shipped orders placed on day 0 after a late shipment = %d, want 2", got)
	}

	// An order's promise moves before the delivery: the delivery day changes.
	if got := day(2).Count[kpi.DeliveredOnTime]; got != 1 {
		t.Fatalf("delivered on time before = %d, want 1", got)
	}
	b.Orders[0].PromisedBy = b.Shipments[0].Delivered.Add(-time.Hour)
	write(t, s, &kpi.Batch{Orders: b.Orders[:1]})
	if got := day(2).Count[kpi.DeliveredOnTime]; got != 0 {
		t.Errorf("delivered on time after the promise moved = %d, want 0", got)
	}

	// A pre-sale ticket four days before an order converts once the order is written.
	ticket := kpi.Ticket{Shop: shop, ID: "t9", CustomerRef: "c9", Opened: d.AddDays(6).Start().Add(10 * time.Hour), Kind: kpi.PreSale, Lang: "en"}
	write(t, s, &kpi.Batch{Tickets: []kpi.Ticket{ticket}})
	if got := day(6).Count[kpi.PreSaleConverted]; got != 0 {
		t.Fatalf("converted before the order = %d, want 0", got)
	}
	order := kpi.Order{Shop: shop, ID: "o9", CustomerRef: "c9", Placed: ticket.Opened.Add(4 * 24 * time.Hour), Status: kpi.StatusPending}
	write(t, s, &kpi.Batch{Orders: []kpi.Order{order}})
	if got := day(6).Count[kpi.PreSaleConverted]; got != 1 {
		t.Errorf("converted after the order = %d, want 1", got)
	}

	// A 1-star review posted days later makes the order a defect on its placed day.
	if got := day(10).Count[kpi.DefectOrders]; got != 0 {
		t.Fatalf("defects before the review = %d, want 0", got)
	}
	review := kpi.Review{Shop: shop, ID: "v9", OrderID: "o9", Posted: order.Placed.Add(5 * 24 * time.Hour), Rating: 1}
	write(t, s, &kpi.Batch{Reviews: []kpi.Review{review}})
	if got := day(10).Count[kpi.DefectOrders]; got != 1 {
		t.Errorf("defects after the review = %d, want 1", got)
	}

	// A shift over midnight covers the morning of the next day too.
	if got := day(1).Count[kpi.JPCoveredMinutes]; got != 0 {
		t.Fatalf("covered minutes before the shift = %d, want 0", got)
	}
	shift := kpi.AgentShift{Shop: shop, Agent: "a2", Start: d.Start().Add(20 * time.Hour), End: d.AddDays(1).Start().Add(10 * time.Hour), Langs: []string{"ja"}}
	write(t, s, &kpi.Batch{AgentShifts: []kpi.AgentShift{shift}})
	if got := day(1).Count[kpi.JPCoveredMinutes]; got != 60 {
		t.Errorf("covered minutes after the shift = %d, want 60", got)
	}
}

// testJSTDayBoundary stores two orders one second apart across midnight in
// Japan, given in UTC.
func testJSTDayBoundary(t *testing.T, open opener) {
	march31, april1 := kpi.NewDate(2026, 3, 31), kpi.NewDate(2026, 4, 1)
	s := openAt(t, open, newClock(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)))
	write(t, s, &kpi.Batch{Shops: []kpi.Shop{mainShop}, Orders: []kpi.Order{
		{Shop: shop, ID: "late", Placed: time.Date(2026, 3, 31, 14, 59, 59, 0, time.UTC), Status: kpi.StatusUnshipped, Total: 100, Units: 1}, // 23:59:59 JST
		{Shop: shop, ID: "early", Placed: time.Date(2026, 3, 31, 15, 0, 0, 0, time.UTC), Status: kpi.StatusUnshipped, Total: 200, Units: 1},  // 00:00:00 JST
	}})
	// The window first, built lazily in one go; then each day from its rollup.
	if got := facts(t, s, march31, april1+1).Count[kpi.GMV]; got != 300 {
		t.Errorf("GMV of both days = %d, want 300", got)
	}
	if got := facts(t, s, march31, april1).Count[kpi.GMV]; got != 100 {
		t.Errorf("GMV of %s = %d, want 100", march31, got)
	}
	if got := facts(t, s, april1, april1+1).Count[kpi.GMV]; got != 200 {
		t.Errorf("GMV of %s = %d, want 200", april1, got)
	}
}

func testUnknownShop(t *testing.T, open opener) {
	d := kpi.NewDate(2026, 3, 2)
	s := openAt(t, open, newClock(d.AddDays(20).Start()))
	write(t, s, oneOfEach(d))
	m, err := s.Facts(context.Background(), kpi.FactQuery{Shops: []string{"nope", shop}, From: d, To: d.AddDays(7), Catalog: true})
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	withDists := facts(t, s, d, d.AddDays(7))
	if m[shop] != nil && m[shop].Count != withDists.Count {
		t.Errorf("facts without distributions differ in their counters: %v, want %v", m[shop].Count, withDists.Count)
	}
	noCatalog, err := s.Facts(context.Background(), kpi.FactQuery{Shops: []string{shop}, From: d, To: d.AddDays(7), Dists: true})
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	if got := noCatalog[shop].Count[kpi.ListingsNeedPSE]; got != 0 || withDists.Count[kpi.ListingsNeedPSE] == 0 {
		t.Errorf("listings needing PSE: %d without the catalog asked for, %d with; want 0 and more", got, withDists.Count[kpi.ListingsNeedPSE])
	}
	if withDists.Dists[kpi.ShipMinutes].N == 0 {
		t.Errorf("facts with distributions have none")
	}
	if len(m) != 2 {
		t.Fatalf("Facts returned %d shops, want 2", len(m))
	}
	if m[shop] == nil || m[shop].Count[kpi.OrdersPlaced] != 2 {
		t.Errorf("known shop: %+v, want 2 orders", m[shop])
	}
	f := m["nope"]
	if f == nil {
		t.Fatal("unknown shop missing from the map")
	}
	// Zero means zero: not even the business minutes of the window.
	zero := kpi.Facts{}
	if f.Count != zero.Count || f.Gauges != zero.Gauges || f.Peaks != zero.Peaks || f.Day != 0 {
		t.Errorf("unknown shop has facts: %+v", f)
	}
	for i := range f.Dists {
		if f.Dists[i].N != 0 {
			t.Errorf("unknown shop: dist %d has %d values", i, f.Dists[i].N)
		}
	}
}

// testNonFinalRebuilt: a rollup built while its day can still change is
// built again once it is stale, without any write in between.
func testNonFinalRebuilt(t *testing.T, open opener) {
	paid := jst(2026, 3, 3, 10, 0)
	c := newClock(paid.Add(2 * time.Hour))
	s := openAt(t, open, c)
	d := kpi.DateOf(paid)
	write(t, s, &kpi.Batch{Shops: []kpi.Shop{mainShop}, Orders: []kpi.Order{{Shop: shop, ID: "o1", Placed: paid, Paid: paid, Status: kpi.StatusUnshipped, Total: 500, Units: 1}}})
	if got := facts(t, s, d, d+1).Count[kpi.ShipDue]; got != 0 {
		t.Fatalf("ShipDue 2 h after payment = %d, want 0", got)
	}
	c.Set(paid.Add(25 * time.Hour))
	if got := facts(t, s, d, d+1).Count[kpi.ShipDue]; got != 1 {
		t.Errorf("ShipDue 25 h after payment = %d, want 1 (the order is late)", got)
	}
}

// testMatchesBuildFacts writes random records around a 70-day window, reads
// the facts of parts of it and then of all of it, and compares them with
// kpi.BuildFacts and kpi.CatalogFacts over the same records.
func testMatchesBuildFacts(t *testing.T, open opener) {
	from := kpi.NewDate(2026, 1, 5)
	to := from.AddDays(70)
	now := to.AddDays(-2).Start().Add(13 * time.Hour) // the last days are still open
	s := openAt(t, open, newClock(now))
	b := randomBatch(rand.New(rand.NewPCG(1, 2)), from.AddDays(-12), to.AddDays(12))
	write(t, s, b)

	recs := &kpi.Records{Orders: b.Orders, Shipments: b.Shipments, Returns: b.Returns, Reviews: b.Reviews,
		Inventory: b.Inventory, Inbound: b.Inbound, Ads: b.Ads, Customs: b.Customs, Tickets: b.Tickets,
		AgentShifts: b.AgentShifts}
	want := func(from, to kpi.Date) *kpi.Facts {
		var days []*kpi.Facts
		for _, day := range kpi.BuildFacts(recs, from, to, now, kpi.DefaultHours) {
			days = append(days, day)
		}
		cat := kpi.CatalogFacts(b.Listings, b.Competitors, from, to)
		f := kpi.Sum(append(days, &cat))
		return &f
	}
	// Parts first, so that the whole window mixes stored and missing days.
	for _, w := range [][2]kpi.Date{{from + 10, from + 20}, {from + 40, from + 41}, {from, to}, {from + 5, from + 50}} {
		got := facts(t, s, w[0], w[1])
		sameFacts(t, w[0].String()+".."+w[1].String(), got, want(w[0], w[1]))
	}
	if f := facts(t, s, from, to); f.Count[kpi.OrdersPlaced] < 1000 || f.Count[kpi.PreSaleConverted] == 0 ||
		f.Count[kpi.DeliveredOnTime] == 0 || f.Count[kpi.DefectOrders] == 0 || f.Count[kpi.JPCoveredMinutes] == 0 {
		t.Errorf("the random records exercise too little: %v", f.Count)
	}
}

func sameFacts(t *testing.T, name string, got, want *kpi.Facts) {
	t.Helper()
	for i := range want.Count {
		if got.Count[i] != want.Count[i] {
			t.Errorf("%s: counter %d = %d, want %d", name, i, got.Count[i], want.Count[i])
		}
	}
	if got.Gauges != want.Gauges || got.Peaks != want.Peaks || got.Day != want.Day {
		t.Errorf("%s: gauges %v peaks %v day %v, want %v %v %v", name, got.Gauges, got.Peaks, got.Day, want.Gauges, want.Peaks, want.Day)
	}
	for i := range want.Dists {
		g, w := &got.Dists[i], &want.Dists[i]
		if g.N != w.N || g.Sum != w.Sum {
			t.Errorf("%s: dist %d has N %d sum %d, want %d %d", name, i, g.N, g.Sum, w.N, w.Sum)
			continue
		}
		for _, q := range []float64{0.5, 0.9, 0.99} {
			if gq, wq := g.Quantile(q), w.Quantile(q); gq != wq && !(math.IsNaN(gq) && math.IsNaN(wq)) {
				t.Errorf("%s: dist %d quantile %v = %v, want %v", name, i, q, gq, wq)
			}
		}
	}
}

// randomBatch makes about 25 orders a day placed in [from, to), with their
// shipments, deliveries, returns and reviews, and a day's worth of every
// other kind. Times are whole seconds, as a store keeps them.
func randomBatch(r *rand.Rand, from, to kpi.Date) *kpi.Batch {
	b := &kpi.Batch{Shops: []kpi.Shop{mainShop}}
	start, span := from.Start(), int64(to-from)*86400
	at := func(base time.Time, maxSec int64) time.Time {
		return base.Add(time.Duration(r.Int64N(maxSec)) * time.Second)
	}
	id := func(prefix string, i int) string { return prefix + strconv.Itoa(i) }
	cust := func() string { return "c" + strconv.Itoa(r.IntN(400)) }
	statuses := []kpi.OrderStatus{kpi.StatusDelivered, kpi.StatusShipped, kpi.StatusUnshipped, kpi.StatusPending, kpi.StatusCancelled, kpi.StatusSellerCancelled}
	carriers := []string{"yamato", "sagawa", "japanpost", "dhl"}

	for i := range int(to-from) * 25 {
		placed := at(start, span)
		o := kpi.Order{Shop: shop, ID: id("o", i), CustomerRef: cust(), Placed: placed,
			Status: statuses[r.IntN(len(statuses))], Total: 500 + r.Int64N(20000), Units: 1 + r.Int64N(3),
			Channel: kpi.ByMerchant, Claim: r.IntN(100) == 0, Chargeback: r.IntN(200) == 0}
		if r.IntN(10) > 0 {
			o.Paid = at(placed, 3*3600)
		}
		if r.IntN(2) == 0 {
			o.ShipBy = placed.Add(36 * time.Hour)
			o.PromisedBy = placed.Add(96 * time.Hour)
		}
		b.Orders = append(b.Orders, o)
		if o.Status.Cancelled() || o.Status == kpi.StatusPending || r.IntN(10) == 0 {
			continue
		}
		for j := range 1 + r.IntN(2) {
			sh := kpi.Shipment{Shop: shop, ID: id("s", i*2+j), OrderID: o.ID, Shipped: at(placed, 60*3600),
				Carrier: carriers[r.IntN(len(carriers))], Tracking: "4000-1234-5678", Units: 1}
			if r.IntN(5) > 0 {
				sh.Delivered = at(sh.Shipped, 5*86400)
			}
			b.Shipments = append(b.Shipments, sh)
		}
		if r.IntN(8) == 0 {
			rv := kpi.Review{Shop: shop, ID: id("v", i), OrderID: o.ID, Posted: at(placed, 20*86400), Rating: 1 + r.IntN(5), Text: "ok"}
			if r.IntN(2) == 0 {
				rv.RepliedAt = at(rv.Posted, 3*86400)
			}
			b.Reviews = append(b.Reviews, rv)
		}
		if r.IntN(30) == 0 {
			b.Returns = append(b.Returns, kpi.Return{Shop: shop, ID: id("r", i), OrderID: o.ID, Returned: at(placed, 30*86400), Units: 1})
		}
	}
	for i := range int(to - from) {
		day := from.AddDays(i)
		ds := day.Start()
		b.Reviews = append(b.Reviews, kpi.Review{Shop: shop, ID: id("w", i), Posted: at(ds, 86400), Rating: 1 + r.IntN(5)})
		for j := range 3 {
			tk := kpi.Ticket{Shop: shop, ID: id("t", i*3+j), CustomerRef: cust(), Opened: at(ds, 86400), Kind: kpi.PreSale, Lang: "ja"}
			if j == 2 {
				tk.Kind = kpi.AfterSale
			}
			if r.IntN(3) > 0 {
				tk.FirstReply = at(tk.Opened, 2*86400)
			}
			b.Tickets = append(b.Tickets, tk)
		}
		b.AgentShifts = append(b.AgentShifts,
			kpi.AgentShift{Shop: shop, Agent: "a1", Start: at(ds.Add(8*time.Hour), 3*3600), End: ds.Add(14 * time.Hour), Langs: []string{"ja", "zh"}},
			kpi.AgentShift{Shop: shop, Agent: "a2", Start: ds.Add(22 * time.Hour), End: at(ds.Add(33*time.Hour), 3*3600), Langs: []string{"ja"}},
			kpi.AgentShift{Shop: shop, Agent: "a3", Start: ds.Add(9 * time.Hour), End: ds.Add(18 * time.Hour), Langs: []string{"en"}})
		for _, sku := range []string{"sku1", "sku2"} {
			b.Inventory = append(b.Inventory,
				kpi.InventorySnapshot{Shop: shop, SKU: sku, Taken: at(ds, 43200), OnHand: r.Int64N(500), Inbound: r.Int64N(50)},
				kpi.InventorySnapshot{Shop: shop, SKU: sku, Taken: at(ds.Add(12*time.Hour), 43200), OnHand: r.Int64N(500), Inbound: r.Int64N(50)})
			b.Competitors = append(b.Competitors, kpi.CompetitorObservation{Shop: shop, SKU: sku, Competitor: "rival",
				Observed: at(ds, 86400), Price: 900 + r.Int64N(600), NewListing: r.IntN(20) == 0})
		}
		b.Ads = append(b.Ads, kpi.AdDay{Shop: shop, Campaign: "always", Day: day, Impressions: r.Int64N(5000), Clicks: r.Int64N(100), Spend: r.Int64N(3000), Sales: r.Int64N(20000), Orders: r.Int64N(5)})
		if i%3 == 0 {
			b.Inbound = append(b.Inbound, kpi.InboundShipment{Shop: shop, ID: id("i", i), Created: at(ds, 86400), Units: 50})
			cu := kpi.CustomsEntry{Shop: shop, ID: id("u", i), Declared: at(ds, 86400), Status: kpi.CustomsCleared, DocsCompleted: r.IntN(4) > 0}
			if r.IntN(5) == 0 {
				cu.Status = kpi.CustomsHeld
			} else {
				cu.Cleared = at(cu.Declared, 3*86400)
			}
			b.Customs = append(b.Customs, cu)
		}
	}
	b.Listings = []kpi.Listing{
		{Shop: shop, SKU: "sku1", Launched: from.AddDays(20).Start(), NeedsPSE: true, PSEValid: true, Label: kpi.LabelPassed, Price: 1200},
		{Shop: shop, SKU: "sku2", Launched: from.AddDays(-100).Start(), Label: kpi.LabelFailed, Price: 1000},
		{Shop: shop, SKU: "sku3", NeedsPSE: true, Price: 800},
	}
	return b
}

// testBindCodes: a bind code is used once, before it expires; of channels
// using it at once, one gets it.
func testBindCodes(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 11, 28, 12, 0)
	s, ok := openAt(t, open, newClock(now)).(kpi.BindCodes)
	if !ok {
		t.Fatal("the store does not keep bind codes (kpi.BindCodes)")
	}
	shopTeam := kpi.BindCode{Channel: kpi.ChatChannel{Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten", "yahoo"}, DigestAt: "08:30"},
		Expires: now.Add(24 * time.Hour)}
	hq := kpi.BindCode{Channel: kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh"}, Expires: now.Add(time.Hour)}
	for hash, c := range map[string]kpi.BindCode{"shop": shopTeam, "hq": hq, "stale": hq, "raced": hq} {
		if err := s.SaveBindCode(ctx, hash, c); err != nil {
			t.Fatalf("SaveBindCode(%s): %v", hash, err)
		}
	}
	for hash, want := range map[string]kpi.BindCode{"shop": shopTeam, "hq": hq} {
		got, err := s.UseBindCode(ctx, hash, now.Add(time.Hour-time.Second))
		if err != nil || !reflect.DeepEqual(got.Channel, want.Channel) || !got.Expires.Equal(want.Expires) {
			t.Errorf("UseBindCode(%s) = %+v, %v; want %+v", hash, got, err, want)
		}
	}
	unusable := func(hash string, at time.Time, key string) {
		t.Helper()
		got, err := s.UseBindCode(ctx, hash, at)
		var e *kpi.Error
		if !errors.As(err, &e) || e.Code != kpi.NotFound || e.Key != key {
			t.Errorf("UseBindCode(%s) at %v = %+v, %v; want %s", hash, at, got, err, key)
		}
	}
	unusable("shop", now, "error.bind_code_used")
	unusable("hq", now.Add(2*time.Hour), "error.bind_code_used")
	unusable("stale", now.Add(time.Hour), "error.bind_code_expired")
	unusable("stale", now.Add(48*time.Hour), "error.bind_code_expired")
	unusable("nope", now, "error.bind_code_unknown")

	const users = 8
	var wg sync.WaitGroup
	errs := make(chan error, users)
	for range users {
		wg.Go(func() {
			_, err := s.UseBindCode(ctx, "raced", now)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		var e *kpi.Error
		switch {
		case err == nil:
			won++
		case !errors.As(err, &e) || e.Key != "error.bind_code_used":
			t.Errorf("a racing UseBindCode failed: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d channels using one code at once got it, want 1", won, users)
	}
}

// testChatChannelList: every bound channel, by platform and id, as bound.
func testChatChannelList(t *testing.T, open opener) {
	ctx := context.Background()
	st := openAt(t, open, newClock(jst(2026, 11, 28, 12, 0)))
	bind, ok1 := st.(kpi.ChatChannels)
	list, ok2 := st.(kpi.ChannelLister)
	if !ok1 || !ok2 {
		t.Fatal("the store does not keep chat channels (kpi.ChatChannels, kpi.ChannelLister)")
	}
	if got, err := list.ChatChannelList(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ChatChannelList of none = %v, %v", got, err)
	}
	want := []kpi.ChatChannel{
		{Platform: "line", ID: "Cb", Role: kpi.RoleJPSupport, Lang: "ja"},
		{Platform: "slack", ID: "C1", Role: kpi.RoleShop, Lang: "zh+ja", Shops: []string{"rakuten", "yahoo"}},
		{Platform: "slack", ID: "C2", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "10:15"},
	}
	for _, i := range []int{2, 0, 1} {
		if err := bind.BindChatChannel(ctx, want[i]); err != nil {
			t.Fatalf("BindChatChannel: %v", err)
		}
	}
	got, err := list.ChatChannelList(ctx)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ChatChannelList = %+v, %v; want %+v", got, err, want)
	}
}

// testDigestAt: a channel keeps its digest time, or none; binding it again
// replaces the time, with none when none is given; a bind code carries it.
func testDigestAt(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 11, 28, 12, 0)
	st := openAt(t, open, newClock(now))
	bind, ok1 := st.(kpi.ChatChannels)
	codes, ok2 := st.(kpi.BindCodes)
	if !ok1 || !ok2 {
		t.Fatal("the store does not keep chat channels and bind codes (kpi.ChatChannels, kpi.BindCodes)")
	}
	check := func(what string, want kpi.ChatChannel) {
		t.Helper()
		got, ok, err := bind.ChatChannel(ctx, want.Platform, want.ID)
		if err != nil || !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ChatChannel = %+v, %v, %v; want %+v", what, got, ok, err, want)
		}
	}
	rebind := func(what string, c kpi.ChatChannel) {
		t.Helper()
		if err := bind.BindChatChannel(ctx, c); err != nil {
			t.Fatalf("%s: BindChatChannel: %v", what, err)
		}
		check(what, c)
	}
	early := kpi.ChatChannel{Platform: "slack", ID: "C-EARLY", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"}
	plain := kpi.ChatChannel{Platform: "line", ID: "U-PLAIN", Role: kpi.RoleJPSupport, Lang: "ja"}
	rebind("bound with a time", early)
	rebind("bound without one", plain)
	early.DigestAt = "10:15"
	rebind("bound again with another time", early)
	early.DigestAt = ""
	rebind("bound again without a time", early)
	plain.DigestAt = "07:00"
	rebind("bound again with a time", plain)

	code := kpi.BindCode{Channel: kpi.ChatChannel{Role: kpi.RoleShop, Lang: "en", DigestAt: "10:00"}, Expires: now.Add(time.Hour)}
	if err := codes.SaveBindCode(ctx, "timed", code); err != nil {
		t.Fatalf("SaveBindCode: %v", err)
	}
	if err := codes.SaveBindCode(ctx, "untimed", kpi.BindCode{Channel: kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh"}, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatalf("SaveBindCode: %v", err)
	}
	for hash, want := range map[string]string{"timed": "10:00", "untimed": ""} {
		got, err := codes.UseBindCode(ctx, hash, now)
		if err != nil || got.Channel.DigestAt != want {
			t.Errorf("UseBindCode(%s) = %+v, %v; want DigestAt %q", hash, got, err, want)
		}
	}
}

// testOutbox: a key is enqueued once, ever; due items come oldest first
// once their time has come; a failed item comes again later, a sent one
// never; Pending counts the unsent.
func testOutbox(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 11, 28, 9, 0)
	o, ok := openAt(t, open, newClock(now)).(kpi.Outbox)
	if !ok {
		t.Fatal("the store does not keep an outbox (kpi.Outbox)")
	}
	item := func(key string, created, next time.Time) kpi.OutboxItem {
		return kpi.OutboxItem{Key: key, Platform: "slack", Channel: "C-" + key, Payload: []byte(`{"k":"` + key + `"}`),
			Created: created, NextTry: next}
	}
	a := item("digest:2026-11-28:slack:C1", now, now)
	b := item("digest:2026-11-28:line:U1", now.Add(-time.Minute), now) // older
	b.Platform = "line"
	c := item("weekly:2026-11-30:slack:C1", now.Add(-2*time.Minute), now.Add(10*time.Minute)) // oldest, due later
	for _, it := range []kpi.OutboxItem{a, b, c} {
		if added, err := o.Enqueue(ctx, it); !added || err != nil {
			t.Fatalf("Enqueue(%s) = %v, %v; want added", it.Key, added, err)
		}
	}
	again := a
	again.Payload = []byte("other")
	if added, err := o.Enqueue(ctx, again); added || err != nil {
		t.Errorf("Enqueue of a key again = %v, %v; want not added", added, err)
	}
	for key, want := range map[string]bool{a.Key: true, c.Key: true, "digest:2026-11-29:slack:C1": false} {
		if got, err := o.Enqueued(ctx, key); got != want || err != nil {
			t.Errorf("Enqueued(%s) = %v, %v; want %v", key, got, err, want)
		}
	}
	due := func(at time.Time, limit int, want ...kpi.OutboxItem) {
		t.Helper()
		got, err := o.Due(ctx, at, limit)
		if err != nil {
			t.Fatalf("Due(%v): %v", at, err)
		}
		if len(got) != len(want) {
			t.Fatalf("Due(%v, %d) = %d items %v; want %d", at, limit, len(got), got, len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Key != w.Key || g.Platform != w.Platform || g.Channel != w.Channel || string(g.Payload) != string(w.Payload) ||
				g.Attempts != w.Attempts || g.LastError != w.LastError || !g.Created.Equal(w.Created) ||
				!g.NextTry.Equal(w.NextTry) || !g.Sent.IsZero() {
				t.Errorf("Due(%v)[%d] = %+v; want %+v", at, i, g, w)
			}
		}
	}
	pending := func(want int) {
		t.Helper()
		if n, err := o.Pending(ctx); n != want || err != nil {
			t.Errorf("Pending = %d, %v; want %d", n, err, want)
		}
	}
	due(now.Add(-time.Second), 10)
	due(now, 10, b, a)
	due(now, 1, b)
	due(now.Add(10*time.Minute), 10, c, b, a)
	pending(3)

	if err := o.MarkFailed(ctx, b.Key, now.Add(2*time.Minute), "quota"); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	due(now.Add(time.Minute), 10, a)
	b.Attempts, b.LastError, b.NextTry = 1, "quota", now.Add(2*time.Minute)
	due(now.Add(2*time.Minute), 10, b, a)
	if err := o.MarkFailed(ctx, b.Key, now.Add(4*time.Minute), "again"); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	b.Attempts, b.LastError, b.NextTry = 2, "again", now.Add(4*time.Minute)
	due(now.Add(10*time.Minute), 10, c, b, a)
	pending(3)

	if got, ok, err := o.Item(ctx, a.Key); err != nil || !ok || !got.Sent.IsZero() || got.Ref != "" || string(got.Payload) != string(a.Payload) {
		t.Errorf("Item(%s) before it is sent = %+v, %v, %v; want it unsent, without a ref", a.Key, got, ok, err)
	}
	if err := o.MarkSent(ctx, a.Key, now.Add(time.Second), "1700000000.000100"); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	// A second mark (a sender that ran twice) keeps the first time and ref.
	if err := o.MarkSent(ctx, a.Key, now.Add(time.Minute), "1700000099.000900"); err != nil {
		t.Fatalf("MarkSent again: %v", err)
	}
	got, ok, err := o.Item(ctx, a.Key)
	if err != nil || !ok || !got.Sent.Equal(now.Add(time.Second).Truncate(time.Second)) || got.Ref != "1700000000.000100" ||
		got.Platform != a.Platform || got.Channel != a.Channel || string(got.Payload) != string(a.Payload) {
		t.Errorf("Item(%s) once sent = %+v, %v, %v; want sent at %v with ref 1700000000.000100", a.Key, got, ok, err, now.Add(time.Second))
	}
	if _, ok, err := o.Item(ctx, "nope"); ok || err != nil {
		t.Errorf("Item of an unknown key = %v, %v; want not found", ok, err)
	}
	due(now.Add(time.Hour), 10, c, b)
	pending(2)
	if added, err := o.Enqueue(ctx, a); added || err != nil {
		t.Errorf("Enqueue of a sent key = %v, %v; want not added", added, err)
	}
	if ok, err := o.Enqueued(ctx, a.Key); !ok || err != nil {
		t.Errorf("Enqueued of a sent key = %v, %v; want true", ok, err)
	}
	if err := o.MarkFailed(ctx, a.Key, now.Add(time.Hour), "late"); err == nil {
		t.Error("MarkFailed of a sent item: no error")
	}
	if err := o.MarkSent(ctx, "nope", now, ""); err == nil {
		t.Error("MarkSent of an unknown key: no error")
	}
	if err := o.MarkFailed(ctx, "nope", now, "x"); err == nil {
		t.Error("MarkFailed of an unknown key: no error")
	}
	due(now.Add(time.Hour), 10, c, b)
	pending(2)
}

// sameAlert compares alerts as a store keeps them: times to the second,
// NaN equal to NaN.
func sameAlert(got, want kpi.Alert) bool {
	eqTime := func(a, b time.Time) bool { return a.Truncate(time.Second).Equal(b.Truncate(time.Second)) }
	eqFloat := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	return got.ID == want.ID && got.Key == want.Key && got.Metric == want.Metric && got.Shop == want.Shop &&
		got.Severity == want.Severity && got.State == want.State && eqTime(got.Opened, want.Opened) &&
		eqTime(got.Updated, want.Updated) && eqTime(got.Resolved, want.Resolved) && eqTime(got.SnoozedUntil, want.SnoozedUntil) &&
		got.AckedBy == want.AckedBy && got.Escalations == want.Escalations && eqFloat(got.Value, want.Value) &&
		eqFloat(got.Target, want.Target) && got.Sample == want.Sample && reflect.DeepEqual(got.Channels, want.Channels) &&
		eqTime(got.Notified, want.Notified) && eqFloat(got.NotifiedValue, want.NotifiedValue) && got.Updates == want.Updates &&
		eqTime(got.Paged, want.Paged) && reflect.DeepEqual(got.Messages, want.Messages)
}

// testAlerts: an episode gets a new id, is read back by id and while active
// by key, is updated, and once resolved is no longer active; a key has one
// active episode at a time; ids are not reused.
func testAlerts(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 11, 20, 19, 0)
	st, ok := openAt(t, open, newClock(now)).(kpi.AlertStore)
	if !ok {
		t.Fatal("the store does not keep alerts (kpi.AlertStore)")
	}
	if _, ok, err := st.ActiveAlert(ctx, "return_rate:rakuten"); ok || err != nil {
		t.Fatalf("ActiveAlert of none = %v, %v", ok, err)
	}
	if _, ok, err := st.Alert(ctx, 1); ok || err != nil {
		t.Fatalf("Alert of none = %v, %v", ok, err)
	}
	a := kpi.Alert{Key: "return_rate:rakuten", Metric: "return_rate", Shop: "rakuten", Severity: kpi.SeverityWarning,
		State: kpi.AlertOpen, Opened: now, Updated: now, Value: 0.091, Target: 0.05, Sample: 812, NotifiedValue: math.NaN()}
	if err := st.SaveAlert(ctx, &a); err != nil || a.ID == 0 {
		t.Fatalf("SaveAlert of a new alert = %v, id %d", err, a.ID)
	}
	b := kpi.Alert{Key: "acos:yahoo", Metric: "acos", Shop: "yahoo", Severity: kpi.SeverityWarning, State: kpi.AlertOpen,
		Opened: now, Updated: now, Value: math.Inf(1), Target: 0.3, Sample: 50, Channels: []string{"slack:C-HQ", "line:U-JP"},
		Messages: []string{"alert:1+2:open:slack:C-HQ", "alert:1:update-1:slack:C-HQ"},
		Notified: now, NotifiedValue: math.Inf(1)}
	if err := st.SaveAlert(ctx, &b); err != nil || b.ID <= a.ID {
		t.Fatalf("SaveAlert of a second alert = %v, id %d after %d", err, b.ID, a.ID)
	}
	get := func(id int64, want kpi.Alert) {
		t.Helper()
		got, ok, err := st.Alert(ctx, id)
		if err != nil || !ok || !sameAlert(got, want) {
			t.Errorf("Alert(%d) = %+v, %v, %v; want %+v", id, got, ok, err, want)
		}
	}
	get(a.ID, a)
	get(b.ID, b)
	if got, ok, err := st.ActiveAlert(ctx, a.Key); err != nil || !ok || !sameAlert(got, a) {
		t.Errorf("ActiveAlert(%s) = %+v, %v, %v; want %+v", a.Key, got, ok, err, a)
	}
	twin := a
	twin.ID = 0
	if err := st.SaveAlert(ctx, &twin); err == nil {
		t.Errorf("a second active episode of %s was saved as %d", a.Key, twin.ID)
	}

	later := now.Add(90 * time.Minute)
	a.State, a.AckedBy, a.Updated, a.Value, a.Escalations = kpi.AlertAcked, "slack:T1:U2", later, 0.095, 2
	a.Channels, a.Notified, a.NotifiedValue, a.Updates = []string{"slack:C-HQ"}, later, 0.095, 1
	a.Paged = later
	if err := st.SaveAlert(ctx, &a); err != nil {
		t.Fatalf("SaveAlert of an update: %v", err)
	}
	get(a.ID, a)
	list, err := st.ActiveAlerts(ctx)
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Errorf("ActiveAlerts = %+v, %v; want %d then %d", list, err, a.ID, b.ID)
	}

	a.State, a.Resolved, a.Value = kpi.AlertResolved, later.Add(time.Hour), math.NaN()
	if err := st.SaveAlert(ctx, &a); err != nil {
		t.Fatalf("SaveAlert of the resolution: %v", err)
	}
	get(a.ID, a)
	if _, ok, err := st.ActiveAlert(ctx, a.Key); ok || err != nil {
		t.Errorf("ActiveAlert of a resolved key = %v, %v", ok, err)
	}
	if list, err := st.ActiveAlerts(ctx); err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("ActiveAlerts after the resolution = %+v, %v; want %d", list, err, b.ID)
	}
	next := kpi.Alert{Key: a.Key, Metric: a.Metric, Shop: a.Shop, Severity: kpi.SeverityCritical, State: kpi.AlertSnoozed,
		Opened: later.Add(2 * time.Hour), Updated: later.Add(2 * time.Hour), SnoozedUntil: later.Add(5 * time.Hour),
		Value: 0.07, Target: 0.05, NotifiedValue: math.NaN()}
	if err := st.SaveAlert(ctx, &next); err != nil || next.ID <= b.ID {
		t.Fatalf("SaveAlert of a new episode of a resolved key = %v, id %d after %d", err, next.ID, b.ID)
	}
	if got, ok, err := st.ActiveAlert(ctx, a.Key); err != nil || !ok || !sameAlert(got, next) {
		t.Errorf("ActiveAlert(%s) = %+v, %v, %v; want the new episode %+v", a.Key, got, ok, err, next)
	}
	get(a.ID, a)
	missing := kpi.Alert{ID: next.ID + 100, Key: "x", State: kpi.AlertOpen}
	if err := st.SaveAlert(ctx, &missing); err == nil {
		t.Error("SaveAlert of an unknown id: no error")
	}
}

// testAlertStreaksAndAudit: a streak starts at zero and is kept as saved;
// the audit log lists a target's entries in the order they were made.
func testAlertStreaksAndAudit(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 11, 20, 19, 0)
	st, ok := openAt(t, open, newClock(now)).(kpi.AlertStore)
	if !ok {
		t.Fatal("the store does not keep alerts (kpi.AlertStore)")
	}
	if got, err := st.Streak(ctx, "ship_24h_rate:amazon-jp"); err != nil || got != (kpi.AlertStreak{Key: "ship_24h_rate:amazon-jp"}) {
		t.Errorf("Streak of none = %+v, %v", got, err)
	}
	for _, want := range []kpi.AlertStreak{
		{Key: "ship_24h_rate:amazon-jp", Breached: 2},
		{Key: "ship_24h_rate:amazon-jp", Cleared: 1, Hold: true},
		{Key: "acos:yahoo", Breached: 7},
	} {
		if err := st.SaveStreak(ctx, want); err != nil {
			t.Fatalf("SaveStreak: %v", err)
		}
		if got, err := st.Streak(ctx, want.Key); err != nil || got != want {
			t.Errorf("Streak(%s) = %+v, %v; want %+v", want.Key, got, err, want)
		}
	}
	if got, err := st.Streak(ctx, "ship_24h_rate:amazon-jp"); err != nil || got.Cleared != 1 || !got.Hold {
		t.Errorf("Streak after another key's = %+v, %v", got, err)
	}

	entries := []kpi.AuditEntry{
		{At: now, Actor: "slack:T1:U2", Action: "ack", Target: "alert:12"},
		{At: now, Actor: "kpibot", Action: "rule", Target: "rule:return_rate:rakuten", Detail: "clear 0.045"},
		{At: now, Actor: "line:U9", Action: "snooze", Target: "alert:12", Detail: "until 2026-11-21T09:00:00+09:00"},
		{At: now.Add(time.Minute), Actor: "console:alice", Action: "resolve", Target: "alert:12"},
	}
	for _, e := range entries {
		if err := st.Audit(ctx, e); err != nil {
			t.Fatalf("Audit: %v", err)
		}
	}
	got, err := st.AuditLog(ctx, "alert:12")
	if err != nil {
		t.Fatal(err)
	}
	want := []kpi.AuditEntry{entries[0], entries[2], entries[3]}
	if len(got) != len(want) {
		t.Fatalf("AuditLog = %+v; want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) || g.Actor != w.Actor || g.Action != w.Action || g.Target != w.Target || g.Detail != w.Detail {
			t.Errorf("AuditLog[%d] = %+v; want %+v", i, g, w)
		}
	}
	if got, err := st.AuditLog(ctx, "alert:99"); err != nil || len(got) != 0 {
		t.Errorf("AuditLog of none = %+v, %v", got, err)
	}
}

// testRuleOverrides: an override is kept per metric and shop with who
// changed it and when, replaced whole by the next, listed by metric then
// shop; each change and deletion writes its audit entry, a deletion of
// none writes nothing.
func testRuleOverrides(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 11, 20, 19, 0)
	st, ok := openAt(t, open, newClock(now)).(kpi.AlertStore)
	if !ok {
		t.Fatal("the store does not keep alerts (kpi.AlertStore)")
	}
	if got, err := st.RuleOverrides(ctx); err != nil || len(got) != 0 {
		t.Fatalf("RuleOverrides of none = %+v, %v", got, err)
	}
	f := func(v float64) *float64 { return &v }
	n, off, book := 3, true, "切换到备用物流 / 予備の配送業者へ"
	changes := []kpi.RuleOverride{
		{Metric: "return_rate", Shop: "rakuten", Target: f(0.03), Clear: f(0.025), Consecutive: &n},
		{Metric: "acos", Disabled: &off},
		{Metric: "reviews_awaiting_reply", Target: f(0), Severity: kpi.SeverityWarning, Runbook: &book},
		{Metric: "return_rate", Shop: "rakuten", Target: f(0.04)}, // replaces the first whole
	}
	for i, o := range changes {
		e := kpi.AuditEntry{At: now.Add(time.Duration(i) * time.Minute), Actor: "slack:T1:U2", Action: "rule",
			Target: "rule:" + o.Metric + ":" + o.Shop, Detail: fmt.Sprint(i)}
		if err := st.SaveRuleOverride(ctx, o, e); err != nil {
			t.Fatalf("SaveRuleOverride(%+v): %v", o, err)
		}
	}
	got, err := st.RuleOverrides(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []kpi.RuleOverride{changes[1], changes[3], changes[2]} // acos, return_rate, reviews_…
	at := []time.Time{now.Add(time.Minute), now.Add(3 * time.Minute), now.Add(2 * time.Minute)}
	if len(got) != len(want) {
		t.Fatalf("RuleOverrides = %+v; want %+v", got, want)
	}
	for i, w := range want {
		w.Updated, w.By = at[i], "slack:T1:U2"
		if !sameOverride(got[i], w) {
			t.Errorf("RuleOverrides[%d] = %s; want %s", i, overrideString(got[i]), overrideString(w))
		}
	}
	log, err := st.AuditLog(ctx, "rule:return_rate:rakuten")
	if err != nil || len(log) != 2 || log[0].Detail != "0" || log[1].Detail != "3" {
		t.Errorf("audit log of the rule = %+v, %v; want the two changes", log, err)
	}

	del := kpi.AuditEntry{At: now.Add(time.Hour), Actor: "line:U9", Action: "rule", Target: "rule:acos:", Detail: "reset"}
	if found, err := st.DeleteRuleOverride(ctx, "acos", "", del); err != nil || !found {
		t.Errorf("DeleteRuleOverride(acos) = %v, %v; want found", found, err)
	}
	if found, err := st.DeleteRuleOverride(ctx, "acos", "", del); err != nil || found {
		t.Errorf("DeleteRuleOverride(acos) again = %v, %v; want not found", found, err)
	}
	if log, err := st.AuditLog(ctx, "rule:acos:"); err != nil || len(log) != 2 || log[1].Actor != "line:U9" {
		t.Errorf("audit log of acos = %+v, %v; want the change and one reset", log, err)
	}
	if got, err := st.RuleOverrides(ctx); err != nil || len(got) != 2 || got[0].Metric != "return_rate" {
		t.Errorf("RuleOverrides after the delete = %+v, %v", got, err)
	}
}

// testSyncCursors: a cursor is kept per shop and stream, replaced by the
// next, and removed by an empty one.
func testSyncCursors(t *testing.T, open opener) {
	ctx := context.Background()
	st, ok := openAt(t, open, newClock(jst(2026, 11, 20, 19, 0))).(kpi.SyncState)
	if !ok {
		t.Fatal("the store keeps no sync cursors (kpi.SyncState)")
	}
	get := func(shop, stream, want string) {
		t.Helper()
		if got, err := st.SyncCursor(ctx, shop, stream); err != nil || got != want {
			t.Errorf("SyncCursor(%s, %s) = %q, %v; want %q", shop, stream, got, err, want)
		}
	}
	get("amazon-jp", "orders", "")
	for _, c := range []struct{ shop, stream, cursor string }{
		{"amazon-jp", "orders", `{"after":"2026-11-20T00:00:00Z","page":"tok1"}`},
		{"amazon-jp", "report:returns", "2026-11-19"},
		{"rakuten", "orders", "x"},
		{"amazon-jp", "orders", `{"after":"2026-11-20T09:00:00Z"}`},
	} {
		if err := st.SaveSyncCursor(ctx, c.shop, c.stream, c.cursor); err != nil {
			t.Fatal(err)
		}
	}
	get("amazon-jp", "orders", `{"after":"2026-11-20T09:00:00Z"}`)
	get("amazon-jp", "report:returns", "2026-11-19")
	get("rakuten", "orders", "x")
	if err := st.SaveSyncCursor(ctx, "rakuten", "orders", ""); err != nil {
		t.Fatal(err)
	}
	get("rakuten", "orders", "")
	get("amazon-jp", "report:returns", "2026-11-19")
}

// testRepeatedKeys: a batch that has a key twice is written as if record
// by record, also where a store inserts many records at once: the later
// record updates the earlier.
func testRepeatedKeys(t *testing.T, open opener) {
	ctx := context.Background()
	s := openAt(t, open, newClock(jst(2026, 12, 1, 12, 0)))
	var b kpi.Batch
	b.Shops = []kpi.Shop{{ID: "rk", Platform: kpi.Rakuten, Name: "Rakuten", Currency: "JPY"}}
	for i := range 100 {
		b.Orders = append(b.Orders, kpi.Order{Shop: "rk", ID: fmt.Sprintf("o%03d", i), Placed: jst(2026, 11, 20, 10, i%60),
			Status: kpi.StatusShipped, Total: 1000, Units: 1, Channel: kpi.ByMerchant})
	}
	b.Orders[70].ID, b.Orders[70].Total = b.Orders[10].ID, 5000
	st, err := s.Write(ctx, &b)
	if want := (kpi.WriteStats{Inserted: 100, Updated: 1}); err != nil || st != want { // the shop too
		t.Fatalf("Write: %+v, %v; want %+v", st, err, want)
	}
	f, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{"rk"}, From: kpi.NewDate(2026, 11, 20), To: kpi.NewDate(2026, 11, 21)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f["rk"].Count[kpi.GMV], int64(98*1000+5000); got != want {
		t.Errorf("GMV %d, want %d", got, want)
	}
}

// testLargeBatches: batches larger than a store's bulk inserts, the second
// overlapping the first (its first half stored, the rest new), keep the
// counts right, and the rollups read between the writes are rebuilt.
func testLargeBatches(t *testing.T, open opener) {
	ctx := context.Background()
	s := openAt(t, open, newClock(jst(2026, 12, 10, 12, 0)))
	if _, err := s.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{{ID: "rk", Platform: kpi.Rakuten, Name: "Rakuten", Currency: "JPY"}}}); err != nil {
		t.Fatal(err)
	}
	orders := make([]kpi.Order, 400)
	for i := range orders {
		orders[i] = kpi.Order{Shop: "rk", ID: fmt.Sprintf("o%04d", i), Placed: jst(2026, 11, 1+i%28, 10, i%60), Status: kpi.StatusUnshipped,
			Total: 1000, Units: 1, Channel: kpi.ByMerchant}
	}
	count := func() int64 {
		t.Helper()
		f, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{"rk"}, From: kpi.NewDate(2026, 11, 1), To: kpi.NewDate(2026, 12, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return f["rk"].Count[kpi.OrdersPlaced]
	}
	for _, step := range []struct {
		name  string
		batch []kpi.Order
		want  kpi.WriteStats
		count int64
	}{
		{"the first half", orders[:200], kpi.WriteStats{Inserted: 200}, 200},
		{"all", orders, kpi.WriteStats{Inserted: 200, Unchanged: 200}, 400},
		{"again", orders, kpi.WriteStats{Unchanged: 400}, 400},
	} {
		st, err := s.Write(ctx, &kpi.Batch{Orders: step.batch})
		if err != nil || st != step.want {
			t.Errorf("%s: Write = %+v, %v; want %+v", step.name, st, err, step.want)
		}
		if got := count(); got != step.count {
			t.Errorf("%s: the facts count %d orders, want %d", step.name, got, step.count)
		}
	}
}

// sameOverride compares two overrides by value.
func sameOverride(a, b kpi.RuleOverride) bool { return overrideString(a) == overrideString(b) }

// overrideString shows an override's values, not its pointers.
func overrideString(o kpi.RuleOverride) string {
	return fmt.Sprintf("%s:%s by %q at %s %s", o.Metric, o.Shop, o.By, o.Updated.UTC().Format(time.RFC3339), o)
}

// testNegativeReviews: the 1-2 star reviews of a shop in a window, newest
// first, at most the limit, with their text masked.
func testNegativeReviews(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 11, 20, 19, 0)
	s := openAt(t, open, newClock(now))
	src, ok := s.(kpi.AlertSource)
	if !ok {
		t.Fatal("the store does not serve alerts (kpi.AlertSource)")
	}
	other := kpi.Shop{ID: "rakuten", Platform: kpi.Rakuten, Name: "R", Currency: "JPY"}
	review := func(shop, id string, posted time.Time, rating int, text string) kpi.Review {
		return kpi.Review{Shop: shop, ID: id, Posted: posted, Rating: rating, Text: text}
	}
	write(t, s, &kpi.Batch{Shops: []kpi.Shop{mainShop, other}, Reviews: []kpi.Review{
		review(shop, "r1", jst(2026, 11, 18, 9, 0), 1, "山田様、電話090-1234-5678にください"),
		review(shop, "r2", jst(2026, 11, 18, 23, 59), 2, "late"),
		review(shop, "r3", jst(2026, 11, 19, 0, 0), 5, "great"),
		review(shop, "r4", jst(2026, 11, 19, 10, 0), 2, "broken"),
		review(shop, "r5", jst(2026, 11, 20, 0, 0), 1, "after the window"),
		review(shop, "r6", jst(2026, 11, 17, 23, 59), 1, "before the window"),
		review("rakuten", "r7", jst(2026, 11, 19, 10, 0), 1, "another shop"),
	}})
	ids := func(rs []kpi.Review) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	from, to := jst(2026, 11, 18, 0, 0), jst(2026, 11, 20, 0, 0)
	got, err := src.NegativeReviews(ctx, shop, from, to, 10)
	if err != nil || !reflect.DeepEqual(ids(got), []string{"r4", "r2", "r1"}) {
		t.Fatalf("NegativeReviews = %v, %v; want r4, r2, r1", ids(got), err)
	}
	if r := got[2]; r.Rating != 1 || r.Text != "***様、電話***にください" || !r.Posted.Equal(jst(2026, 11, 18, 9, 0)) {
		t.Errorf("NegativeReviews[2] = %+v, want r1 masked", r)
	}
	if got, err := src.NegativeReviews(ctx, shop, from, to, 2); err != nil || !reflect.DeepEqual(ids(got), []string{"r4", "r2"}) {
		t.Errorf("NegativeReviews limited to 2 = %v, %v", ids(got), err)
	}
	if got, err := src.NegativeReviews(ctx, "nope", from, to, 10); err != nil || len(got) != 0 {
		t.Errorf("NegativeReviews of an unknown shop = %v, %v", ids(got), err)
	}
}

// testLastWrite: every write records its time (the store's clock) for each
// shop it has records of, also when nothing changed; other shops keep
// theirs.
func testLastWrite(t *testing.T, open opener) {
	ctx := context.Background()
	c := newClock(jst(2026, 11, 20, 9, 0))
	s := openAt(t, open, c)
	src, ok := s.(kpi.AlertSource)
	if !ok {
		t.Fatal("the store does not serve alerts (kpi.AlertSource)")
	}
	last := func(shop string, want time.Time) {
		t.Helper()
		got, ok, err := src.LastWrite(ctx, shop)
		if err != nil || ok != !want.IsZero() || ok && !got.Equal(want) {
			t.Errorf("LastWrite(%s) = %v, %v, %v; want %v", shop, got, ok, err, want)
		}
	}
	last(shop, time.Time{})
	b := oneOfEach(kpi.NewDate(2026, 11, 18))
	write(t, s, b)
	first := c.Now()
	last(shop, first)
	c.Set(first.Add(15 * time.Minute))
	if st := write(t, s, b); st.Inserted+st.Updated != 0 {
		t.Fatalf("writing again = %+v, want nothing changed", st)
	}
	last(shop, first.Add(15*time.Minute))
	c.Set(first.Add(30 * time.Minute))
	write(t, s, &kpi.Batch{Orders: []kpi.Order{{Shop: "yahoo", ID: "y1", Placed: first, Status: kpi.StatusPending, Total: 100, Units: 1}}})
	last("yahoo", first.Add(30*time.Minute))
	last(shop, first.Add(15*time.Minute))
	write(t, s, &kpi.Batch{}) // nothing to write: no shop's time
	last("yahoo", first.Add(30*time.Minute))
}

// testRecorded: a shop has had records stored once a write held some of
// its records; writing the shop alone (registering it) does not count,
// before or after.
func testRecorded(t *testing.T, open opener) {
	ctx := context.Background()
	s := openAt(t, open, newClock(jst(2026, 11, 20, 9, 0)))
	recorded := func(want map[string]bool) {
		t.Helper()
		got, err := s.Recorded(ctx, []string{shop, "yahoo", "nowhere"})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Recorded = %v, %v; want %v", got, err, want)
		}
	}
	register := &kpi.Batch{Shops: []kpi.Shop{{ID: "yahoo", Platform: kpi.Yahoo, Name: "Y", Currency: "JPY"}}}
	write(t, s, register)
	recorded(map[string]bool{})
	write(t, s, oneOfEach(kpi.NewDate(2026, 11, 18)))
	recorded(map[string]bool{shop: true})
	write(t, s, &kpi.Batch{Orders: []kpi.Order{{Shop: "yahoo", ID: "y1", Placed: jst(2026, 11, 19, 10, 0), Status: kpi.StatusPending,
		Total: 100, Units: 1}}})
	write(t, s, register) // registered again at the next start: still recorded
	recorded(map[string]bool{shop: true, "yahoo": true})
}

// testOutboxClaims: a claim leases the due items, oldest first, so that
// they are not due again until the lease ends; claims made at the same time
// (replicas flushing together) share out the items, none twice; a claimed
// item is marked sent or failed as any other.
func testOutboxClaims(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 11, 28, 9, 0)
	o, ok := openAt(t, open, newClock(now)).(kpi.Outbox)
	if !ok {
		t.Fatal("the store does not keep an outbox (kpi.Outbox)")
	}
	const n = 60
	for i := range n {
		it := kpi.OutboxItem{Key: fmt.Sprintf("alert:%03d", i), Platform: "line", Channel: "C1", Payload: []byte("{}"),
			Created: now.Add(time.Duration(i) * time.Second), NextTry: now}
		if _, err := o.Enqueue(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	first, err := o.Claim(ctx, now, 5*time.Minute, 10)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if len(first) != 10 || first[0].Key != "alert:000" || first[9].Key != "alert:009" || !first[0].NextTry.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("Claim = %d items, first %+v; want alert:000 … alert:009 leased to 09:05", len(first), first[0])
	}
	// Eight claimers at once take the other 50, each once.
	var mu sync.Mutex
	taken := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				items, err := o.Claim(ctx, now, 5*time.Minute, 3)
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				if len(items) == 0 {
					return
				}
				mu.Lock()
				for _, it := range items {
					taken[it.Key]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(taken) != n-10 {
		t.Errorf("concurrent claims took %d items, want %d", len(taken), n-10)
	}
	for key, k := range taken {
		if k != 1 {
			t.Errorf("%s was claimed %d times", key, k)
		}
	}
	if items, err := o.Due(ctx, now.Add(5*time.Minute-time.Second), 100); err != nil || len(items) != 0 {
		t.Errorf("Due before the leases end = %d items, %v; want none", len(items), err)
	}
	if err := o.MarkSent(ctx, first[0].Key, now.Add(time.Second), ""); err != nil {
		t.Fatal(err)
	}
	if err := o.MarkFailed(ctx, first[1].Key, now.Add(time.Minute), "429"); err != nil {
		t.Fatal(err)
	}
	again, err := o.Claim(ctx, now.Add(time.Minute), 5*time.Minute, 100)
	if err != nil || len(again) != 1 || again[0].Key != first[1].Key || again[0].Attempts != 1 || again[0].LastError != "429" {
		t.Errorf("Claim after a failure = %+v, %v; want the failed item alone", again, err)
	}
	// A sender still at work renews its lease: its unsent items are not
	// taken when the first lease ends; a sent one stays sent.
	renewed := []string{first[0].Key, first[2].Key, first[3].Key}
	if err := o.Extend(ctx, renewed, now.Add(8*time.Minute)); err != nil {
		t.Fatalf("Extend: %v", err)
	}
	if err := o.Extend(ctx, nil, now.Add(8*time.Minute)); err != nil {
		t.Fatalf("Extend of nothing: %v", err)
	}
	// When the leases run out (a sender died), the items are taken again:
	// all but the one sent and the two renewed.
	late, err := o.Claim(ctx, now.Add(6*time.Minute), 5*time.Minute, 100)
	if err != nil || len(late) != n-3 || slices.ContainsFunc(late, func(it kpi.OutboxItem) bool { return slices.Contains(renewed, it.Key) }) {
		t.Errorf("Claim after the leases = %d items, %v; want %d, not the renewed", len(late), err, n-3)
	}
	if items, err := o.Claim(ctx, now.Add(8*time.Minute), 5*time.Minute, 100); err != nil || len(items) != 2 {
		t.Errorf("Claim after the renewed lease = %d items, %v; want the 2 unsent", len(items), err)
	}
	if p, err := o.Pending(ctx); p != n-1 || err != nil {
		t.Errorf("Pending = %d, %v; want %d", p, err, n-1)
	}
}
