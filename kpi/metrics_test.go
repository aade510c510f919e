package kpi

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

// jst returns a JST instant; the store keeps UTC, so every fixture below
// crosses the zone on its way in.
func jst(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, Tokyo).UTC()
}

// testNow is Saturday 2026-11-28 12:00 JST.
var testNow = jst(2026, 11, 28, 12, 0, 0)

// memStore is a FactReader over records in memory: the facts come straight
// from BuildFacts and CatalogFacts, as a store's rollups would.
type memStore struct {
	shops []Shop
	b     Batch
	asked [][]string // the shops of each Recorded call
}

func (m *memStore) Shops(context.Context) ([]Shop, error) { return m.shops, nil }

func (m *memStore) Facts(_ context.Context, q FactQuery) (map[string]*Facts, error) {
	out := make(map[string]*Facts)
	from, to := q.From, q.To
	for _, id := range q.Shops {
		recs := m.records(id)
		var days []*Facts
		for _, f := range BuildFacts(recs, from, to, testNow, DefaultHours) {
			days = append(days, f)
		}
		cat := CatalogFacts(ofShop(m.b.Listings, id, func(x Listing) string { return x.Shop }),
			ofShop(m.b.Competitors, id, func(x CompetitorObservation) string { return x.Shop }), from, to)
		total := Sum(append(days, &cat))
		out[id] = &total
	}
	return out, nil
}

// Recorded: a shop has had records stored when the batch holds some.
func (m *memStore) Recorded(_ context.Context, shops []string) (map[string]bool, error) {
	m.asked = append(m.asked, slices.Clone(shops))
	have := m.b.RecordShopIDs()
	out := map[string]bool{}
	for _, s := range shops {
		out[s] = slices.Contains(have, s)
	}
	return out, nil
}

func (m *memStore) records(shop string) *Records {
	return &Records{
		Orders:      ofShop(m.b.Orders, shop, func(x Order) string { return x.Shop }),
		Shipments:   ofShop(m.b.Shipments, shop, func(x Shipment) string { return x.Shop }),
		Returns:     ofShop(m.b.Returns, shop, func(x Return) string { return x.Shop }),
		Reviews:     ofShop(m.b.Reviews, shop, func(x Review) string { return x.Shop }),
		Inventory:   ofShop(m.b.Inventory, shop, func(x InventorySnapshot) string { return x.Shop }),
		Inbound:     ofShop(m.b.Inbound, shop, func(x InboundShipment) string { return x.Shop }),
		Ads:         ofShop(m.b.Ads, shop, func(x AdDay) string { return x.Shop }),
		Customs:     ofShop(m.b.Customs, shop, func(x CustomsEntry) string { return x.Shop }),
		Tickets:     ofShop(m.b.Tickets, shop, func(x Ticket) string { return x.Shop }),
		AgentShifts: ofShop(m.b.AgentShifts, shop, func(x AgentShift) string { return x.Shop }),
	}
}

// ofShop returns the records of recs that belong to shop.
func ofShop[T any](recs []T, shop string, shopOf func(T) string) []T {
	var out []T
	for _, r := range recs {
		if shopOf(r) == shop {
			out = append(out, r)
		}
	}
	return out
}

// fixture is small fixed data whose metrics are computed by hand in the
// comments of TestMetrics. Tuesday 2026-11-10 and Wednesday 11-11 are the
// main days.
func fixture() *memStore {
	d := func(m time.Month, day, h, mi int) time.Time { return jst(2026, m, day, h, mi, 0) }
	return &memStore{
		shops: []Shop{
			{ID: "a", Platform: Amazon, Name: "Shop A", Currency: "JPY"},
			{ID: "b", Platform: Rakuten, Name: "Shop B", Currency: "JPY"},
		},
		b: Batch{
			Orders: []Order{
				{Shop: "a", ID: "a1", CustomerRef: "c1", Placed: d(11, 10, 10, 0), Status: StatusDelivered, Total: 10000, Units: 2,
					ShipBy: jst(2026, 11, 11, 23, 59, 59), PromisedBy: jst(2026, 11, 13, 23, 59, 59)},
				// One second before midnight JST: still Tuesday.
				{Shop: "a", ID: "a2", Placed: jst(2026, 11, 10, 23, 59, 59), Status: StatusDelivered, Total: 5000, Units: 1,
					ShipBy: jst(2026, 11, 11, 23, 59, 59), PromisedBy: jst(2026, 11, 13, 23, 59, 59)},
				// Midnight JST: Wednesday.
				{Shop: "a", ID: "a3", Placed: jst(2026, 11, 11, 0, 0, 0), Status: StatusSellerCancelled, Total: 3000, Units: 3},
				{Shop: "a", ID: "a4", Placed: d(11, 11, 9, 0), Status: StatusCancelled, Total: 2000, Units: 1},
				{Shop: "a", ID: "a5", Placed: d(11, 11, 12, 0), Status: StatusUnshipped, Total: 8000, Units: 1},
				{Shop: "a", ID: "a6", Placed: d(11, 28, 10, 0), Status: StatusUnshipped, Total: 4000, Units: 1},
				// Bank transfer: the ship clock starts at payment.
				{Shop: "b", ID: "b1", Placed: d(11, 10, 8, 0), Paid: d(11, 11, 8, 0), Status: StatusShipped, Total: 6000, Units: 2, Chargeback: true},
			},
			Shipments: []Shipment{
				{Shop: "a", ID: "s1", OrderID: "a1", Shipped: d(11, 10, 20, 0), Carrier: "yamato", Tracking: "1234-5678-9012",
					Delivered: d(11, 12, 10, 0), Units: 2},
				{Shop: "a", ID: "s2", OrderID: "a2", Shipped: jst(2026, 11, 12, 1, 0, 0), Carrier: "sagawa", Tracking: "12345",
					Delivered: d(11, 14, 9, 0), Units: 1},
				{Shop: "b", ID: "s3", OrderID: "b1", Shipped: d(11, 11, 20, 0), Carrier: "japanpost", Tracking: "AB123456785JP", Units: 2},
			},
			Returns: []Return{{Shop: "a", ID: "r1", OrderID: "a1", Returned: d(11, 15, 10, 0), Units: 1}},
			Reviews: []Review{
				{Shop: "a", ID: "v1", OrderID: "a2", Posted: d(11, 15, 10, 0), Rating: 1, RepliedAt: d(11, 15, 16, 0)},
				{Shop: "a", ID: "v2", Posted: d(11, 15, 11, 0), Rating: 2},
				{Shop: "a", ID: "v3", Posted: d(11, 15, 12, 0), Rating: 5},
				{Shop: "a", ID: "v4", Posted: d(11, 15, 13, 0), Rating: 1, RepliedAt: d(11, 16, 13, 0)},
				{Shop: "b", ID: "v5", Posted: d(11, 16, 9, 0), Rating: 4},
			},
			Inventory: []InventorySnapshot{
				{Shop: "a", SKU: "S1", Taken: d(11, 10, 9, 0), OnHand: 120},
				{Shop: "a", SKU: "S1", Taken: d(11, 10, 18, 0), OnHand: 100},
				{Shop: "a", SKU: "S1", Taken: d(11, 11, 18, 0), OnHand: 90, Inbound: 30},
			},
			Inbound: []InboundShipment{
				{Shop: "a", ID: "i1", Created: d(11, 10, 15, 0), Units: 50},
				{Shop: "a", ID: "i2", Created: d(11, 20, 15, 0), Units: 50},
			},
			Ads: []AdDay{
				{Shop: "a", Campaign: "c1", Day: NewDate(2026, 11, 10), Impressions: 10000, Clicks: 200, Spend: 3000, Sales: 12000, Orders: 10},
				{Shop: "a", Campaign: "c2", Day: NewDate(2026, 11, 11), Impressions: 5000, Clicks: 50, Spend: 2000},
			},
			Customs: []CustomsEntry{
				{Shop: "a", ID: "e1", Declared: d(11, 10, 8, 0), Cleared: d(11, 11, 20, 0), Status: CustomsCleared, DocsCompleted: true},
				{Shop: "a", ID: "e2", Declared: d(11, 10, 9, 0), Status: CustomsHeld},
				{Shop: "a", ID: "e3", Declared: d(11, 11, 10, 0), Cleared: d(11, 12, 10, 0), Status: CustomsCleared, DocsCompleted: true},
			},
			Tickets: []Ticket{
				{Shop: "a", ID: "t1", CustomerRef: "c1", Kind: PreSale, Opened: d(11, 10, 10, 0), FirstReply: d(11, 10, 10, 30)},
				{Shop: "a", ID: "t2", Kind: AfterSale, Opened: d(11, 10, 17, 30), FirstReply: d(11, 11, 9, 45)},
				{Shop: "a", ID: "t3", CustomerRef: "c9", Kind: PreSale, Opened: d(11, 14, 10, 0), FirstReply: d(11, 16, 9, 20)},
				{Shop: "a", ID: "t4", Kind: AfterSale, Opened: d(11, 13, 16, 0), FirstReply: d(11, 16, 15, 0)},
				{Shop: "a", ID: "t5", Kind: AfterSale, Opened: d(11, 11, 11, 0)},
			},
			AgentShifts: []AgentShift{
				{Shop: "a", Agent: "j1", Start: d(11, 10, 9, 0), End: d(11, 10, 13, 0), Langs: []string{"ja"}},
				{Shop: "a", Agent: "j2", Start: d(11, 10, 12, 0), End: d(11, 10, 17, 0), Langs: []string{"ja", "en"}},
				{Shop: "a", Agent: "z1", Start: d(11, 10, 9, 0), End: d(11, 10, 18, 0), Langs: []string{"zh"}},
			},
			Listings: []Listing{
				{Shop: "a", SKU: "S1", Launched: d(1, 1, 0, 0), NeedsPSE: true, PSEValid: true, Label: LabelPassed, Price: 1000},
				{Shop: "a", SKU: "S2", Launched: d(11, 10, 0, 0), NeedsPSE: true, Label: LabelFailed, Price: 2000},
				{Shop: "a", SKU: "S3", Launched: d(11, 20, 0, 0), Price: 500},
			},
			Competitors: []CompetitorObservation{
				{Shop: "a", SKU: "S1", Competitor: "X", Observed: d(11, 12, 9, 0), Price: 950, NewListing: true},
				{Shop: "a", SKU: "S1", Competitor: "Y", Observed: d(11, 13, 9, 0), Price: 1000},
				{Shop: "a", SKU: "S2", Competitor: "X", Observed: d(11, 12, 9, 0), Price: 2100},
			},
		},
	}
}

func day(m time.Month, d int) Period { return Day(NewDate(2026, m, d)) }

func span(m1 time.Month, d1 int, m2 time.Month, d2 int) Period {
	return Range(NewDate(2026, m1, d1), NewDate(2026, m2, d2))
}

func TestMetrics(t *testing.T) {
	nan := math.NaN()
	a := Scope{Shop: "a"}
	tests := []struct {
		name      string
		metric    string
		scope     Scope
		period    Period
		want      float64
		secondary float64 // NaN: not checked
		sample    int64
		verdict   Verdict
	}{
		// Valid orders on 11-10..11: a1 10,000 + a2 5,000 + a5 8,000 + b1 6,000; a3 and a4 are cancelled.
		{"gmv excludes cancelled", "gmv", Scope{}, span(11, 10, 11, 11), 29000, nan, 4, VerdictInfo},
		{"gmv 23:59:59 JST is the same day", "gmv", a, day(11, 10), 15000, nan, 2, VerdictInfo},
		{"gmv 00:00:00 JST is the next day", "gmv", a, day(11, 11), 8000, nan, 1, VerdictInfo},
		{"gmv empty period", "gmv", Scope{}, day(10, 1), 0, nan, 0, VerdictInfo},
		{"orders", "orders", Scope{}, span(11, 10, 11, 11), 4, nan, 4, VerdictInfo},
		{"aov", "aov", Scope{}, span(11, 10, 11, 11), 7250, nan, 4, VerdictInfo},
		{"aov zero orders", "aov", Scope{}, day(10, 1), nan, nan, 0, VerdictNoData},
		// Due: a1 10 h ✓, a2 25 h ✗, a5 unshipped and overdue ✗, b1 12 h after payment ✓.
		{"ship 24h rate", "ship_24h_rate", Scope{}, span(11, 10, 11, 11), 0.5, nan, 4, VerdictFew},
		// a6 was placed 2 h ago: not due yet.
		{"ship 24h rate not yet due", "ship_24h_rate", a, day(11, 28), nan, nan, 0, VerdictNoData},
		// a1 600 min, a2 1,500 min, b1 720 min after payment: mean 940 min; p90 is the 3rd of 3.
		{"order to ship hours", "order_to_ship_hours", Scope{}, span(11, 10, 11, 11), 940.0 / 60, 25, 3, VerdictFew},
		// With a latest ship date: a1 on time, a2 late.
		{"late shipment rate", "late_shipment_rate", Scope{}, span(11, 10, 11, 11), 0.5, nan, 2, VerdictFew},
		// Seller cancels a3 of 6 orders placed (cancelled ones included).
		{"cancel rate", "cancel_rate", Scope{}, span(11, 10, 11, 11), 1.0 / 6, nan, 6, VerdictFew},
		// Shipped 11-10..12: s1 yamato 12 digits ✓, s2 sagawa "12345" ✗, s3 Japan Post S10 ✓.
		{"valid tracking rate", "valid_tracking_rate", Scope{}, span(11, 10, 11, 12), 2.0 / 3, nan, 3, VerdictFew},
		// Delivered 11-12 (38 h = 2,280 min) and 11-14 (56 h = 3,360 min).
		{"delivery days", "delivery_days", Scope{}, span(11, 10, 11, 14), 2820.0 / 1440, 3360.0 / 1440, 2, VerdictFew},
		{"on-time delivery rate", "on_time_delivery_rate", Scope{}, span(11, 10, 11, 14), 0.5, nan, 2, VerdictFew},
		// 1 unit returned of s1 2 + s2 1 + s3 2 units shipped.
		{"return rate", "return_rate", Scope{}, span(11, 10, 11, 15), 0.2, nan, 5, VerdictFew},
		{"return rate nothing shipped", "return_rate", Scope{}, day(11, 15), nan, nan, 0, VerdictNoData},
		// (1+2+5+1+4)/5.
		{"review score", "review_score", Scope{}, span(11, 15, 11, 16), 2.6, nan, 5, VerdictBreach},
		// Three 1-2 star reviews on 11-15: more than 2 in a day.
		{"negative reviews burst", "negative_reviews", Scope{}, span(11, 15, 11, 16), 3, 3, 5, VerdictBreach},
		{"negative reviews calm", "negative_reviews", Scope{Shop: "b"}, span(11, 15, 11, 16), 0, 0, 1, VerdictOK},
		// 60 days to 11-27: 6 orders placed; a2 has a 1-star review, b1 a chargeback.
		{"order defect rate", "order_defect_rate", Scope{}, day(11, 27), 2.0 / 6, nan, 6, VerdictFew},
		// v2 is the only 1-2 star review of 11-15 not answered yet.
		{"reviews awaiting reply", "reviews_awaiting_reply", Scope{}, day(11, 15), 1, nan, 3, VerdictBreach},
		{"reviews awaiting reply none", "reviews_awaiting_reply", Scope{Shop: "b"}, day(11, 15), 0, nan, 0, VerdictOK},
		// v1 6 h, v2 unanswered since 11-15 11:00 (313 h by now), v4 24 h; p90 is v2, kept
		// in a bucket 16 min wide (18,768 min).
		{"review response hours", "review_response_hours", Scope{}, day(11, 15), 20580.0 / 3 / 60, 18768.0 / 60, 3, VerdictBreach},
		// On hand (last snapshot of each day) 100 and 90: mean 95; sold a1 2 + a2 1 + a5 1 in 2 days.
		{"inventory turnover", "inventory_turnover_days", a, span(11, 10, 11, 11), 95.0 / 2, nan, 2, VerdictOK},
		// 90 on hand + 30 inbound, 4 units sold in 30 days.
		{"days of cover", "days_of_cover", a, day(11, 11), 120 / (4.0 / 30), nan, 2, VerdictOK},
		{"replenishments", "replenishment_count", a, Month(2026, 11), 2, nan, 2, VerdictInfo},
		// Spend 5,000, sales 12,000, clicks 250, impressions 15,000, ad orders 10.
		{"acos", "acos", a, span(11, 10, 11, 11), 5000.0 / 12000, nan, 250, VerdictBreach},
		{"acos with no sales", "acos", a, day(11, 11), math.Inf(1), nan, 50, VerdictBreach},
		{"roas", "roas", a, span(11, 10, 11, 11), 2.4, nan, 250, VerdictBreach},
		{"ctr", "ctr", a, span(11, 10, 11, 11), 250.0 / 15000, nan, 15000, VerdictOK},
		{"cvr", "cvr", a, span(11, 10, 11, 11), 0.04, nan, 250, VerdictInfo},
		// e2 held of 3; e2 incomplete; cleared in 36 h and 24 h.
		{"customs failure rate", "customs_failure_rate", a, span(11, 10, 11, 11), 1.0 / 3, nan, 3, VerdictFew},
		{"customs doc completeness", "customs_doc_completeness", a, span(11, 10, 11, 11), 2.0 / 3, nan, 3, VerdictFew},
		{"customs clearance hours", "customs_clearance_hours", a, span(11, 10, 11, 11), 30, 36, 2, VerdictFew},
		// S1 valid, S2 missing; labels S1 passed, S2 failed, S3 unchecked.
		{"pse coverage", "pse_coverage", a, Period{}, 0.5, nan, 2, VerdictBreach},
		{"label compliance", "label_compliance_rate", a, Period{}, 0.5, nan, 2, VerdictBreach},
		// Business minutes (weekdays 09-18): t1 30, t2 30+45, t3 Sat→Mon 20, t4 Fri 120 + Mon 360,
		// t5 unanswered since Wed 11:00: 420+540+540+5×540+5×540 = 6,900. Median of 5 is 75.
		{"first response minutes", "first_response_minutes", a, span(11, 10, 11, 14), 75, 6900, 5, VerdictFew},
		// 11-10: Japanese agents 09:00-17:00 of 09:00-18:00 (the Chinese agent does not count); 11-11: nobody.
		{"jp support coverage", "jp_cs_coverage", a, day(11, 10), 480.0 / 540, nan, 540, VerdictBreach},
		{"jp support coverage two days", "jp_cs_coverage", a, span(11, 10, 11, 11), 480.0 / 1080, nan, 1080, VerdictBreach},
		{"jp support coverage weekend", "jp_cs_coverage", a, day(11, 14), nan, nan, 0, VerdictNoData},
		// Before a's first shift (11-10 09:00), and at b, which gave no shifts: not known, not 0%.
		{"jp support coverage before the first shift", "jp_cs_coverage", a, day(11, 9), nan, nan, 0, VerdictNoData},
		{"jp support coverage without shifts", "jp_cs_coverage", Scope{Shop: "b"}, day(11, 10), nan, nan, 0, VerdictNoData},
		// t1 (c1 ordered a1 at the same minute) converted, t3 not.
		{"inquiry conversion", "inquiry_conversion", a, span(11, 10, 11, 14), 0.5, nan, 2, VerdictInfo},
		// S1 1,000 ÷ 950, S2 2,000 ÷ 2,100.
		{"price index", "price_index", a, span(11, 12, 11, 13), (1052631 + 952380) / 2.0 / 1e6, nan, 2, VerdictOK},
		{"new listings", "new_listings", a, span(11, 1, 11, 15), 1, 1, 1, VerdictInfo},
	}
	e := &Engine{Store: fixture(), Now: func() time.Time { return testNow }}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.Compute(context.Background(), Query{Metric: tt.metric, Scope: tt.scope, Period: tt.period})
			if err != nil {
				t.Fatal(err)
			}
			covered[tt.metric] = true
			if !same(r.Value.V, tt.want) {
				t.Errorf("value = %v, want %v", r.Value.V, tt.want)
			}
			if !math.IsNaN(tt.secondary) && !same(r.Value.Secondary, tt.secondary) {
				t.Errorf("secondary = %v, want %v", r.Value.Secondary, tt.secondary)
			}
			if r.Value.Sample != tt.sample {
				t.Errorf("sample = %d, want %d", r.Value.Sample, tt.sample)
			}
			if r.Verdict != tt.verdict {
				t.Errorf("verdict = %s, want %s", r.Verdict, tt.verdict)
			}
		})
	}
	for _, m := range Catalog {
		if !covered[m.ID] {
			t.Errorf("metric %s has no test", m.ID)
		}
	}
}

func same(got, want float64) bool {
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return math.IsNaN(got) == math.IsNaN(want) && math.IsInf(got, 1) == math.IsInf(want, 1)
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func TestComputeComparesAndBreaksDown(t *testing.T) {
	e := &Engine{Store: fixture(), Now: func() time.Time { return testNow }}
	r, err := e.Compute(context.Background(), Query{Metric: "gmv", Period: day(11, 11)})
	if err != nil {
		t.Fatal(err)
	}
	// 11-11: a5 8,000; the day before: a1 + a2 15,000 and b1 6,000.
	if r.Value.V != 8000 || r.Prev.V != 21000 {
		t.Errorf("value %v prev %v, want 8000 and 21000", r.Value.V, r.Prev.V)
	}
	if r.PrevWindow != day(11, 10) {
		t.Errorf("previous window %v", r.PrevWindow)
	}
	if len(r.Breakdown) != 2 || r.Breakdown[0].Shop.ID != "a" || r.Breakdown[0].Value.V != 8000 ||
		r.Breakdown[1].Value.V != 0 || r.Breakdown[1].Prev.V != 6000 {
		t.Errorf("breakdown %+v", r.Breakdown)
	}

	r, err = e.Compute(context.Background(), Query{Metric: "gmv", Scope: Scope{Platform: Rakuten}, Period: day(11, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Value.V != 6000 || len(r.Breakdown) != 1 {
		t.Errorf("rakuten gmv %v over %d shops, want 6000 over 1", r.Value.V, len(r.Breakdown))
	}

	r, err = e.Compute(context.Background(), Query{Metric: "gmv", Period: Today(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Partial || r.Value.V != 4000 {
		t.Errorf("today: partial %v value %v, want true and 4000", r.Partial, r.Value.V)
	}

	r, err = e.Compute(context.Background(), Query{Metric: "order_defect_rate", Period: day(11, 27)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Window.Days() != 60 || r.Window.Last() != NewDate(2026, 11, 27) || r.PrevWindow.To != r.Window.From {
		t.Errorf("lookback windows %v and %v", r.Window, r.PrevWindow)
	}

	r, err = e.Compute(context.Background(), Query{Metric: "pse_coverage"})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(r.Prev.V) || r.PrevWindow != (Period{}) {
		t.Errorf("a current metric has a previous value: %v %v", r.Prev, r.PrevWindow)
	}
}

func TestComputeErrors(t *testing.T) {
	e := &Engine{Store: fixture(), Now: func() time.Time { return testNow }}
	tests := []struct {
		q    Query
		code Code
		key  string
	}{
		{Query{Metric: "nope"}, NotFound, "error.unknown_metric"},
		{Query{Metric: "gmv", Scope: Scope{Shop: "zz"}}, NotFound, "error.unknown_shop"},
		{Query{Metric: "gmv", Scope: Scope{Platform: Shopify}}, NotFound, "error.no_shops_on_platform"},
		{Query{Metric: "gmv", Period: day(12, 1)}, Invalid, "error.future_period"},
	}
	for _, tt := range tests {
		_, err := e.Compute(context.Background(), tt.q)
		var ke *Error
		if !errors.As(err, &ke) || ke.Code != tt.code || ke.Key != tt.key {
			t.Errorf("%+v: err = %v, want %s %s", tt.q, err, tt.code, tt.key)
		}
	}
	empty := &Engine{Store: &memStore{}, Now: func() time.Time { return testNow }}
	if _, err := empty.Compute(context.Background(), Query{Metric: "gmv"}); ErrorCode(err) != NotFound {
		t.Errorf("no shops: %v", err)
	}
}

func TestComputeAgainstAChosenPeriod(t *testing.T) {
	e := &Engine{Store: fixture(), Now: func() time.Time { return testNow }}
	r, err := e.Compute(context.Background(), Query{Metric: "gmv", Period: day(11, 11), Compare: day(11, 28)})
	if err != nil {
		t.Fatal(err)
	}
	// 11-11: a5 8,000; today so far: a6 4,000.
	if r.Value.V != 8000 || r.Prev.V != 4000 || r.PrevWindow != day(11, 28) {
		t.Errorf("value %v against %v over %v", r.Value.V, r.Prev.V, r.PrevWindow)
	}
	if _, err := e.Compute(context.Background(), Query{Metric: "gmv", Compare: day(12, 5)}); ErrorCode(err) != Invalid {
		t.Errorf("a future comparison: %v", err)
	}
	for _, m := range Catalog {
		if m.Area == "" {
			t.Errorf("%s has no area", m.ID)
		}
	}
}

// A shop whose first sync has stored nothing yet has no data, not zeros:
// its line is undefined and no_data, the total is the other shops'; a
// scope of such shops alone has no value at all.
func TestComputeShopWithoutRecords(t *testing.T) {
	st := fixture()
	st.shops = append(st.shops, Shop{ID: "c", Platform: Yahoo, Name: "Shop C", Currency: "JPY"})
	e := &Engine{Store: st, Now: func() time.Time { return testNow }}
	r, err := e.Compute(context.Background(), Query{Metric: "gmv", Period: day(11, 11)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Value.V != 8000 || len(r.Breakdown) != 3 || r.Breakdown[1].NoRecords {
		t.Fatalf("value %v over %d shops, b without records %v; want 8000 over 3, b with", r.Value.V, len(r.Breakdown), r.Breakdown[1].NoRecords)
	}
	if c := r.Breakdown[2]; !c.NoRecords || !math.IsNaN(c.Value.V) || !math.IsNaN(c.Prev.V) || c.Verdict != VerdictNoData {
		t.Errorf("the shop without records: %+v, want undefined and no_data", c)
	}
	r, err = e.Compute(context.Background(), Query{Metric: "orders", Scope: Scope{Shop: "c"}, Period: day(11, 11)})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(r.Value.V) || !math.IsNaN(r.Prev.V) || r.Verdict != VerdictNoData {
		t.Errorf("orders of the shop without records: %v (prev %v), %s; want undefined, no_data", r.Value.V, r.Prev.V, r.Verdict)
	}
	// The shops known to have records are not asked about again; c is,
	// until it has some.
	want := [][]string{{"a", "b", "c"}, {"c"}}
	if !reflect.DeepEqual(st.asked, want) {
		t.Errorf("Recorded asked about %q, want %q", st.asked, want)
	}
	st.b.Orders = append(st.b.Orders, Order{Shop: "c", ID: "c1", Placed: jst(2026, 11, 11, 9, 0, 0), Status: StatusPending, Total: 500, Units: 1})
	if r, err = e.Compute(context.Background(), Query{Metric: "orders", Scope: Scope{Shop: "c"}, Period: day(11, 11)}); err != nil || r.Value.V != 1 {
		t.Errorf("orders of c once it has one: %v, %v", r.Value.V, err)
	}
	if _, err := e.Compute(context.Background(), Query{Metric: "orders", Period: day(11, 11)}); err != nil || len(st.asked) != 3 {
		t.Errorf("after c's first records: Recorded asked %q (%v), want no more", st.asked, err)
	}
}

func TestComputeWithinAllowedShops(t *testing.T) {
	e := &Engine{Store: fixture(), Now: func() time.Time { return testNow }}
	r, err := e.Compute(context.Background(), Query{Metric: "gmv", Period: day(11, 10), Allowed: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	// All shops the channel sees: only b's 6,000, not a's 15,000.
	if r.Value.V != 6000 || len(r.Breakdown) != 1 || r.Breakdown[0].Shop.ID != "b" {
		t.Errorf("value %v over %d shops", r.Value.V, len(r.Breakdown))
	}
	_, err = e.Compute(context.Background(), Query{Metric: "gmv", Scope: Scope{Shop: "a"}, Allowed: []string{"b"}})
	if ErrorCode(err) != Unauthorized {
		t.Errorf("a shop the channel may not see: %v", err)
	}
	_, err = e.Compute(context.Background(), Query{Metric: "gmv", Scope: Scope{Platform: Amazon}, Allowed: []string{"b"}})
	if ErrorCode(err) != NotFound {
		t.Errorf("a platform with none of the channel's shops: %v", err)
	}
}
