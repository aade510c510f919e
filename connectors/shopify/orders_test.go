package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/shopify"
	"github.com/kpibot/kpibot/connectors/shopify/shopifytest"
	"github.com/kpibot/kpibot/internal/connectortest"
	"github.com/kpibot/kpibot/kpi"
)

func TestSyncMapsOrders(t *testing.T) {
	placed := testNow.Add(-48 * time.Hour)
	updated := placed.Add(time.Hour)
	const num = "5123456789"
	base := func() shopifytest.Order {
		return shopifytest.Order{ID: "gid://shopify/Order/" + num, Name: "#1001", CreatedAt: placed, UpdatedAt: updated,
			FinancialStatus: "PAID", FulfillmentStatus: "UNFULFILLED", Quantity: 2, Total: "1980.0",
			Customer: &shopifytest.Customer{ID: "gid://shopify/Customer/42", FirstName: "花子", LastName: "山田", Email: "hanako@example.jp"}}
	}
	order := kpi.Order{Shop: testShop.ID, ID: num, CustomerRef: customerRef("gid://shopify/Customer/42"), Placed: placed,
		Status: kpi.StatusUnshipped, Total: 1980, Units: 2, Channel: kpi.ByMerchant}
	with := func(edit func(*kpi.Order)) *kpi.Order {
		o := order
		edit(&o)
		return &o
	}
	// fulfillment is a fulfillment of the order, with the shipment it makes.
	fulfillment := func(n int, company string, delivered bool) (shopifytest.Fulfillment, kpi.Shipment) {
		id := []string{"", "8100000001", "8100000002"}[n]
		f := shopifytest.Fulfillment{ID: "gid://shopify/Fulfillment/" + id, CreatedAt: placed.Add(5 * time.Hour), Quantity: 1,
			Company: company, Number: " 1234-5678-90" + id[len(id)-1:] + " "}
		sh := kpi.Shipment{Shop: testShop.ID, ID: id, OrderID: num, Shipped: f.CreatedAt, Carrier: company,
			Tracking: "1234-5678-90" + id[len(id)-1:], Units: 1}
		if delivered {
			f.DeliveredAt = placed.Add(29 * time.Hour)
			sh.Delivered = f.DeliveredAt
		}
		return f, sh
	}
	shipment := func(n int, company, carrier string, delivered bool) kpi.Shipment {
		_, sh := fulfillment(n, company, delivered)
		sh.Carrier = carrier
		return sh
	}
	ship := func(o *shopifytest.Order, n int, company string, delivered bool) {
		f, _ := fulfillment(n, company, delivered)
		o.Fulfillments = append(o.Fulfillments, f)
	}

	tests := []struct {
		name      string
		edit      func(o *shopifytest.Order)
		want      *kpi.Order // nil: not stored
		shipments []kpi.Shipment
		returns   []kpi.Return
		log       string // a warning the pull logs
	}{
		{name: "paid, not fulfilled", want: &order},
		{name: "payment pending", edit: func(o *shopifytest.Order) { o.FinancialStatus = "PENDING" },
			want: with(func(o *kpi.Order) { o.Status = kpi.StatusPending })},
		{name: "payment authorized", edit: func(o *shopifytest.Order) { o.FinancialStatus = "AUTHORIZED" }, want: &order},
		{name: "on hold", edit: func(o *shopifytest.Order) { o.FulfillmentStatus = "ON_HOLD" }, want: &order},
		{name: "sent to the fulfillment service", edit: func(o *shopifytest.Order) { o.FulfillmentStatus = "IN_PROGRESS" }, want: &order},
		{name: "partially fulfilled", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus = "PARTIALLY_FULFILLED"
			ship(o, 1, "Yamato (JA)", false)
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusShipped }),
			shipments: []kpi.Shipment{shipment(1, "Yamato (JA)", "yamato", false)}},
		{name: "fulfilled, in transit", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus = "FULFILLED"
			ship(o, 1, "ヤマト運輸", false)
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusShipped }),
			shipments: []kpi.Shipment{shipment(1, "ヤマト運輸", "yamato", false)}},
		{name: "fulfilled, cash on delivery not yet paid", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus, o.FinancialStatus = "FULFILLED", "PENDING"
			ship(o, 1, "Sagawa (EN)", false)
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusShipped }),
			shipments: []kpi.Shipment{shipment(1, "Sagawa (EN)", "sagawa", false)}},
		{name: "fulfilled, one of two delivered", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus = "FULFILLED"
			ship(o, 1, "佐川急便", true)
			ship(o, 2, "日本郵便", false)
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusShipped }),
			shipments: []kpi.Shipment{shipment(1, "佐川急便", "sagawa", true), shipment(2, "日本郵便", "japanpost", false)}},
		{name: "fulfilled, every shipment delivered", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus = "FULFILLED"
			ship(o, 1, "Japan Post (JA)", true)
			ship(o, 2, "ゆうパック", true)
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusDelivered }),
			shipments: []kpi.Shipment{shipment(1, "Japan Post (JA)", "japanpost", true), shipment(2, "ゆうパック", "japanpost", true)}},
		{name: "a cancelled fulfillment is no shipment", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus = "FULFILLED"
			ship(o, 1, "Yamato (EN)", false)
			o.Fulfillments[0].Status = "CANCELLED"
			ship(o, 2, "DHL Express", true)
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusDelivered }),
			shipments: []kpi.Shipment{shipment(2, "DHL Express", "DHL Express", true)}},
		{name: "no tracking", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus = "FULFILLED"
			ship(o, 1, "", false)
			o.Fulfillments[0].Number = ""
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusShipped }),
			shipments: []kpi.Shipment{func() kpi.Shipment { s := shipment(1, "", "", false); s.Tracking = ""; return s }()}},
		{name: "a delivery before the shipment", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus = "FULFILLED"
			ship(o, 1, "Yamato (JA)", true)
			o.Fulfillments[0].DeliveredAt = placed.Add(time.Hour)
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusDelivered }),
			shipments: []kpi.Shipment{shipment(1, "Yamato (JA)", "yamato", false)}, log: "delivery time before the fulfillment's creation not kept"},
		{name: "cancelled", edit: func(o *shopifytest.Order) {
			o.CancelledAt, o.FinancialStatus = placed.Add(time.Hour), "REFUNDED"
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusCancelled })},
		{name: "cancelled after a fulfillment", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus = "FULFILLED"
			ship(o, 1, "Yamato (JA)", false)
			o.CancelledAt = placed.Add(6 * time.Hour)
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusCancelled }),
			shipments: []kpi.Shipment{shipment(1, "Yamato (JA)", "yamato", false)}},
		{name: "returns", edit: func(o *shopifytest.Order) {
			o.FulfillmentStatus = "FULFILLED"
			ship(o, 1, "Yamato (JA)", true)
			o.Returns = []shopifytest.Return{
				{ID: "gid://shopify/Return/901", Status: "OPEN", CreatedAt: placed.Add(72 * time.Hour), Quantity: 1},
				{ID: "gid://shopify/Return/902", Status: "CLOSED", Quantity: 2}, // no creation time: the order's update
				{ID: "gid://shopify/Return/903", Status: "REQUESTED", CreatedAt: placed.Add(80 * time.Hour), Quantity: 1},
				{ID: "gid://shopify/Return/904", Status: "DECLINED", CreatedAt: placed.Add(80 * time.Hour), Quantity: 1},
				{ID: "gid://shopify/Return/905", Status: "CANCELED", CreatedAt: placed.Add(80 * time.Hour), Quantity: 1},
			}
		}, want: with(func(o *kpi.Order) { o.Status = kpi.StatusDelivered }),
			shipments: []kpi.Shipment{shipment(1, "Yamato (JA)", "yamato", true)},
			returns: []kpi.Return{
				{Shop: testShop.ID, ID: "901", OrderID: num, Returned: placed.Add(72 * time.Hour), Units: 1},
				{Shop: testShop.ID, ID: "902", OrderID: num, Returned: updated, Units: 2},
			}},
		{name: "a guest", edit: func(o *shopifytest.Order) { o.Customer = nil },
			want: with(func(o *kpi.Order) { o.CustomerRef = "" })},
		{name: "total rounded to the yen", edit: func(o *shopifytest.Order) { o.Total = "1980.5" },
			want: with(func(o *kpi.Order) { o.Total = 1981 })},
		{name: "total in another currency", edit: func(o *shopifytest.Order) { o.Total, o.Currency = "19.80", "USD" },
			want: with(func(o *kpi.Order) { o.Total = 0 }), log: "order total in another currency not kept"},
		{name: "an unknown fulfillment status", edit: func(o *shopifytest.Order) { o.FulfillmentStatus = "TELEPORTED" },
			log: "unknown fulfillment status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{})
			o := base()
			if tt.edit != nil {
				tt.edit(&o)
			}
			e.fake.Set(o)

			p := e.mustSync()
			if p.Pages != 1 || p.Read != 1 {
				t.Errorf("pages %d, read %d; want 1, 1", p.Pages, p.Read)
			}
			want := connectortest.NewRecords()
			if tt.want != nil {
				want.Orders[tt.want.ID] = *tt.want
			}
			for _, s := range tt.shipments {
				want.Shipments[s.ID] = s
			}
			for _, r := range tt.returns {
				want.Returns[r.ID] = r
			}
			e.assertStored(want)
			if tt.log != "" && !strings.Contains(e.logs.String(), tt.log) {
				t.Errorf("the logs do not say %q:\n%s", tt.log, e.logs.String())
			}
		})
	}
}

// savedCursor is the orders stream's cursor as saved.
type savedCursor struct {
	After  time.Time `json:"after"`
	Page   string    `json:"page"`
	Latest time.Time `json:"latest"`
}

func (e *env) cursor() savedCursor {
	e.t.Helper()
	raw, err := e.store.SyncCursor(e.t.Context(), testShop.ID, "orders")
	if err != nil {
		e.t.Fatal(err)
	}
	var c savedCursor
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		e.t.Fatalf("cursor %q: %v", raw, err)
	}
	return c
}

func TestSyncPagesIncrementally(t *testing.T) {
	e := newEnv(t, setup{})
	start := testNow.Add(-5 * 24 * time.Hour)
	list, want := genOrders(420, start)
	e.fake.Set(list...)

	// The first pull reads the last 30 days, 40 orders a page.
	p := e.mustSync()
	e.assertStored(want)
	if p.Pages != 11 || p.Read != 420 {
		t.Errorf("pages %d, read %d; want 11, 420", p.Pages, p.Read)
	}
	if (p.Stats != kpi.WriteStats{Inserted: want.Count()}) {
		t.Errorf("stats %+v, want %d inserted", p.Stats, want.Count())
	}
	reqs := e.fake.Requests()
	since := "updated_at:>='" + testNow.Add(-30*24*time.Hour).Format(time.RFC3339) + "'"
	for i, r := range reqs {
		if r.First != 40 || r.Filter != since || (i == 0) != (r.After == "") {
			t.Errorf("request %d: first %d, filter %q, after %q; want 40, %q and the previous page's cursor", i, r.First, r.Filter, r.After, since)
		}
	}
	// The bucket holds 2,000 points and each page asks for 842: pages 1
	// and 2 go at once, page 3 waits for what the bucket lacks (842 − 316
	// points at 100 a second), the others for a page's worth; Shopify never
	// throttled.
	if got, want := e.clock.TakeWaits(), append([]time.Duration{5260 * time.Millisecond}, repeat(8420*time.Millisecond, 8)...); !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if n := e.fake.Throttles(); n != 0 {
		t.Errorf("the fake throttled %d queries, want none", n)
	}
	last := list[len(list)-1].UpdatedAt
	if c := e.cursor(); !c.After.Equal(last.Add(-5*time.Minute)) || c.Page != "" {
		t.Errorf("cursor %+v, want the next pull from 5 minutes before %v", c, last)
	}

	// A second pull reads the overlap again and stores nothing new.
	e.clock.Advance(time.Hour)
	p = e.mustSync()
	e.assertStored(want)
	if p.Stats.Inserted != 0 || p.Stats.Updated != 0 || p.Stats.Unchanged == 0 {
		t.Errorf("second pull: stats %+v, want the overlap read again unchanged", p.Stats)
	}
	if r := e.fake.Requests()[len(reqs)]; r.Filter != "updated_at:>='"+last.Add(-5*time.Minute).Format(time.RFC3339)+"'" {
		t.Errorf("second pull asked for %q", r.Filter)
	}

	// Orders updated since are read again: fulfilled, cancelled.
	e.clock.Advance(time.Hour)
	now := e.clock.Now().Truncate(time.Second) // Shopify's times are in seconds
	o0, o6 := list[0], list[6]
	o0.FulfillmentStatus, o0.UpdatedAt = "FULFILLED", now.Add(-10*time.Minute)
	o0.Fulfillments = []shopifytest.Fulfillment{{ID: "gid://shopify/Fulfillment/99", CreatedAt: o0.UpdatedAt, Quantity: 1,
		Company: "クロネコヤマト", Number: "555"}}
	o6.CancelledAt, o6.UpdatedAt = now.Add(-5*time.Minute), now.Add(-5*time.Minute)
	e.fake.Set(o0, o6)
	p = e.mustSync()
	w0, w6 := want.Orders["5000000000"], want.Orders["5000000006"]
	w0.Status, w6.Status = kpi.StatusShipped, kpi.StatusCancelled
	want.Orders[w0.ID], want.Orders[w6.ID] = w0, w6
	want.Shipments["99"] = kpi.Shipment{Shop: testShop.ID, ID: "99", OrderID: w0.ID, Shipped: o0.UpdatedAt, Carrier: "yamato",
		Tracking: "555", Units: 1}
	e.assertStored(want)
	// The last order of the first pull is read again too: the overlap.
	if p.Read != 3 || p.Stats.Updated != 2 || p.Stats.Inserted != 1 {
		t.Errorf("third pull: read %d, stats %+v; want 3 read, 2 updated, 1 inserted", p.Read, p.Stats)
	}
}

func TestSyncWaitsWhenThrottled(t *testing.T) {
	tests := []struct {
		name   string
		use429 bool
		want   []time.Duration
	}{{
		// Throttled with HTTP 200: the answer's throttleStatus says the
		// bucket is empty, so the query waits for its 842 points; each page
		// after waits the same, and Shopify throttles no more.
		name: "THROTTLED error",
		want: repeat(8420*time.Millisecond, 11),
	}, {
		// Throttled with HTTP 429 and Retry-After: 9 (seconds): the query
		// waits that long and finds 900 points; page 2 waits for the 784
		// the remaining 58 lack, the others for a page's worth.
		name:   "HTTP 429",
		use429: true,
		want:   append([]time.Duration{9 * time.Second, 7840 * time.Millisecond}, repeat(8420*time.Millisecond, 9)...),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{})
			list, want := genOrders(420, testNow.Add(-5*24*time.Hour))
			e.fake.Set(list...)
			e.fake.Throttle429(tt.use429)
			e.fake.SetAvailable(0) // another sync of the same app just emptied it

			e.mustSync()
			e.assertStored(want)
			if got := e.clock.TakeWaits(); !slices.Equal(got, tt.want) {
				t.Errorf("waits %v, want %v", got, tt.want)
			}
			if n := e.fake.Throttles(); n != 1 {
				t.Errorf("the fake throttled %d queries, want 1", n)
			}
			if e.fake.Calls() != 12 {
				t.Errorf("%d calls, want 12: 11 pages and the throttled one", e.fake.Calls())
			}
		})
	}
}

func TestSyncResumesAfterAFailure(t *testing.T) {
	tests := []struct {
		name string
		// stop makes the first pull fail after it saved page 3's cursor.
		stop     func(e *env, cancel context.CancelFunc)
		firstErr func(t *testing.T, err error)
		// between runs between the pulls.
		between func(t *testing.T, e *env)
		// pages is how many pages the second pull reads.
		pages int
	}{{
		name: "cancelled",
		stop: func(_ *env, cancel context.CancelFunc) { cancel() },
		firstErr: func(t *testing.T, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("first pull: %v, want context.Canceled", err)
			}
		},
		pages: 8,
	}, {
		name: "server errors until the retries run out",
		stop: func(e *env, _ context.CancelFunc) {
			e.fake.Fail(repeatFault(shopifytest.Fault{Status: 500}, 6)...) // the first try and 5 retries
		},
		firstErr: func(t *testing.T, err error) {
			var ae *shopify.APIError
			if !errors.As(err, &ae) || ae.Status != 500 || ae.Code != "INTERNAL_SERVER_ERROR" {
				t.Errorf("first pull: %v, want Shopify's 500 INTERNAL_SERVER_ERROR", err)
			}
		},
		pages: 8,
	}, {
		name: "cancelled, the saved page cursor refused since",
		stop: func(_ *env, cancel context.CancelFunc) { cancel() },
		firstErr: func(t *testing.T, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("first pull: %v, want context.Canceled", err)
			}
		},
		between: func(t *testing.T, e *env) {
			c := e.cursor()
			c.Page = "not-a-cursor"
			raw, _ := json.Marshal(c)
			if err := e.store.Store.SaveSyncCursor(t.Context(), testShop.ID, "orders", string(raw)); err != nil {
				t.Fatal(err)
			}
		},
		pages: 11, // the pass again, from its start
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{})
			list, want := genOrders(420, testNow.Add(-5*24*time.Hour))
			e.fake.Set(list...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			e.store.AfterSave = func(n int) {
				if n == 3 {
					tt.stop(e, cancel)
				}
			}

			first, err := e.sync(ctx)
			if err == nil {
				t.Fatal("first pull succeeded, want it stopped after page 3")
			}
			tt.firstErr(t, err)
			if first.Pages != 3 {
				t.Errorf("first pull wrote %d pages, want 3", first.Pages)
			}
			e.store.AfterSave = nil
			if tt.between != nil {
				tt.between(t, e)
			}
			answered := len(e.fake.Requests())
			saved := e.cursor().Page
			if saved == "" {
				t.Fatal("the first pull saved no page cursor")
			}

			second := e.mustSync()
			e.assertStored(want)
			if got := first.Stats.Inserted + second.Stats.Inserted; got != want.Count() {
				t.Errorf("%d records inserted, want %d: each once", got, want.Count())
			}
			if second.Pages != tt.pages {
				t.Errorf("second pull read %d pages, want %d", second.Pages, tt.pages)
			}
			wantAfter := saved // page 4
			if tt.between != nil {
				wantAfter = "" // the refused cursor is not answered: the pass from its start is
				if !strings.Contains(e.logs.String(), "saved page cursor refused") {
					t.Errorf("the logs do not say the saved cursor was refused:\n%s", e.logs.String())
				}
			}
			if r := e.fake.Requests()[answered]; r.After != wantAfter {
				t.Errorf("second pull started at cursor %q, want %q", r.After, wantAfter)
			}
		})
	}
}

func repeatFault(f shopifytest.Fault, n int) []shopifytest.Fault {
	out := make([]shopifytest.Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func TestSyncNeverAsksForPersonalData(t *testing.T) {
	e := newEnv(t, setup{})
	list, _ := genOrders(60, testNow.Add(-24*time.Hour))
	e.fake.Set(list...)
	pii := []string{"buyer00@example.jp", "花子", "山田", "+81-90-0000-0000", "東京都千代田区1-1"}

	// The fake answers personal data to a query that asks for it: the
	// checks below can fail.
	probe, err := shopify.ProbeForTest(t.Context(), e.syncer.Client,
		`query($first: Int!, $query: String!) { orders(first: $first, query: $query) { nodes { email customer { firstName email } } } }`,
		map[string]any{"first": 1, "query": "updated_at:>='2020-01-01T00:00:00Z'"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(probe, "buyer00@example.jp") || !strings.Contains(probe, "花子") {
		t.Fatalf("the fake does not answer personal data when asked: %s", probe)
	}
	before := len(e.fake.Requests())

	e.mustSync()
	fields := regexp.MustCompile(`(?i)\b(email|phone|\w*address\w*|firstName|lastName|displayName|name|note)\b`)
	reqs := e.fake.Requests()[before:]
	if len(reqs) == 0 {
		t.Fatal("the pull asked nothing")
	}
	for _, r := range reqs {
		if m := fields.FindString(r.Query); m != "" {
			t.Errorf("the orders query asks for %q:\n%s", m, r.Query)
		}
	}

	if orders := e.stored().Orders; len(orders) != 60 {
		t.Fatalf("%d orders stored, want 60", len(orders))
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	data := connectortest.Files(t, e.dir) // the database, and its WAL if one is left
	for _, s := range pii {
		if strings.Contains(string(data), s) {
			t.Errorf("the database holds %q", s)
		}
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("the logs hold %q", s)
		}
	}
}
