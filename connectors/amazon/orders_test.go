package amazon_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/amazon"
	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
	"github.com/kpibot/kpibot/internal/connectortest"
	"github.com/kpibot/kpibot/kpi"
)

// ordersShop is the shop the orders tests pull.
var ordersShop = kpi.Shop{ID: "amz-orders", Platform: kpi.Amazon, Marketplace: amazon.MarketplaceJP, Name: "Amazon JP", Currency: "JPY"}

// ordersNow is when the orders tests run, unless they say otherwise.
var ordersNow = time.Date(2026, 3, 20, 3, 0, 0, 0, time.UTC)

// refill is how long searchOrders' bucket takes to earn one call.
var refill = time.Duration(float64(time.Second) / amazon.Limits["searchOrders"].Rate)

// ordersEnv is a shop whose orders are pulled from the fake into a SQLite
// file in t.TempDir(), on a fake clock, logging at Debug into logs.
type ordersEnv struct {
	t      *testing.T
	fake   *amazontest.Server
	orders *amazontest.Orders
	clock  *connectortest.Clock
	dir    string
	path   string
	store  *connectortest.Store
	logs   *connectortest.Log
	syncer *amazon.Syncer
}

// ordersSetup changes an ordersEnv's defaults.
type ordersSetup struct {
	now      time.Time           // zero: ordersNow
	shop     kpi.Shop            // zero: ordersShop
	http     *http.Client        // nil: the client's default
	retries  int                 // 0: the client's default
	creds    *amazon.Credentials // nil: those the fake accepts
	fake     *amazontest.Server  // nil: a new fake
	orders   *amazontest.Orders  // with fake
	dir      string              // "": a new t.TempDir()
	noVerify bool                // do not check the logs for secrets at the end
}

func newOrdersEnv(t *testing.T, s ordersSetup) *ordersEnv {
	t.Helper()
	if s.now.IsZero() {
		s.now = ordersNow
	}
	if s.shop.ID == "" {
		s.shop = ordersShop
	}
	if s.dir == "" {
		s.dir = t.TempDir()
	}
	e := &ordersEnv{t: t, fake: s.fake, orders: s.orders, clock: connectortest.NewClock(s.now), dir: s.dir,
		path: filepath.Join(s.dir, "kpi.db"), logs: &connectortest.Log{}}
	if e.fake == nil {
		e.fake = amazontest.New(t)
		e.orders = e.fake.ServeOrders()
	}
	log := e.logs.Logger()
	cfg := e.fake.Config()
	cfg.Now, cfg.Sleep, cfg.Log, cfg.HTTP, cfg.Retries = e.clock.Now, e.clock.Sleep, log, s.http, s.retries
	if s.creds != nil {
		cfg.Credentials = *s.creds
	}
	client, err := amazon.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := connectortest.OpenStore(t, e.path, e.clock.Now, s.shop)
	e.store = &connectortest.Store{Store: store}
	e.syncer = &amazon.Syncer{Client: client, Shop: s.shop, Store: e.store, Now: e.clock.Now, Log: log}
	if !s.noVerify {
		t.Cleanup(func() { assertNoOrdersSecrets(t, "the logs", e.logs.String(), e.fake.Tokens()) })
	}
	return e
}

// sync pulls the orders once.
func (e *ordersEnv) sync(ctx context.Context) (amazon.Progress, error) {
	return e.syncer.SyncOrders(ctx)
}

// mustSync pulls the orders once, failing the test on an error.
func (e *ordersEnv) mustSync() amazon.Progress {
	e.t.Helper()
	p, err := e.sync(e.t.Context())
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return p
}

// stored reads the shop's orders and shipments back from the SQLite file.
func (e *ordersEnv) stored() (map[string]kpi.Order, map[string]kpi.Shipment) {
	e.t.Helper()
	r := connectortest.Stored(e.t, e.path, e.syncer.Shop.ID)
	return r.Orders, r.Shipments
}

// assertStored checks that the store holds exactly the orders and
// shipments wanted, and no other.
func (e *ordersEnv) assertStored(wantOrders map[string]kpi.Order, wantShipments map[string]kpi.Shipment) {
	e.t.Helper()
	orders, shipments := e.stored()
	connectortest.AssertSame(e.t, "order", orders, wantOrders)
	connectortest.AssertSame(e.t, "shipment", shipments, wantShipments)
}

// buyerRef is the CustomerRef of a buyer's e-mail in a shop.
func buyerRef(shop, email string) string {
	sum := sha256.Sum256([]byte("amazon:" + shop + ":" + email))
	return hex.EncodeToString(sum[:16])
}

func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// readModel reads an official SP-API model of testdata/spec.
func readModel(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "spec", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// exampleOrder is the order of searchOrders' example answer.
func exampleOrder(t *testing.T) amazontest.Order {
	t.Helper()
	return amazontest.ExampleOrders(t, readModel(t, "orders_2026-01-01.json"), "searchOrders")[0]
}

// exampleOrderV0 is the order of getOrders' example answer.
func exampleOrderV0(t *testing.T) amazontest.Order {
	t.Helper()
	return amazontest.ExampleOrders(t, readModel(t, "ordersV0.json"), "getOrders")[0]
}

// genOrders makes n searchOrders orders from the example, placed every
// ten minutes from start and updated an hour later, in JPY, through five
// kinds of order in turn; it returns them with the orders and shipments
// the store should hold.
func genOrders(t *testing.T, n int, start time.Time) ([]amazontest.Order, map[string]kpi.Order, map[string]kpi.Shipment) {
	t.Helper()
	ex := exampleOrder(t)
	var list []amazontest.Order
	orders, shipments := map[string]kpi.Order{}, map[string]kpi.Shipment{}
	for i := range n {
		id := fmt.Sprintf("250-%07d-%07d", i, 7654321-i)
		placed := start.Add(time.Duration(i) * 10 * time.Minute)
		email := fmt.Sprintf("buyer%02d@marketplace.amazon.co.jp", i%40)
		o := ex.Clone()
		o.Set(id, "orderId")
		o.Set(iso(placed), "createdTime")
		o.Set(iso(placed.Add(time.Hour)), "lastUpdatedTime")
		o.Set(amazon.MarketplaceJP, "salesChannel", "marketplaceId")
		o.Set(email, "buyer", "buyerEmail")
		o.Set(map[string]any{"amount": strconv.Itoa(1000 + i), "currencyCode": "JPY"}, "proceeds", "grandTotal")
		o.Set(iso(placed.Add(24*time.Hour)), "fulfillment", "shipByWindow", "latestDateTime")
		o.Set(iso(placed.Add(72*time.Hour)), "fulfillment", "deliverByWindow", "latestDateTime")
		want := kpi.Order{Shop: ordersShop.ID, ID: id, CustomerRef: buyerRef(ordersShop.ID, email), Placed: placed,
			ShipBy: placed.Add(24 * time.Hour), PromisedBy: placed.Add(72 * time.Hour), Total: int64(1000 + i), Units: 3,
			Channel: kpi.ByMerchant}
		pkg := kpi.Shipment{Shop: ordersShop.ID, ID: id + "/PKG-" + strconv.Itoa(i), OrderID: id, Shipped: placed.Add(5 * time.Hour),
			Carrier: "yamato", Tracking: fmt.Sprintf("%012d", 400000000000+i), Units: 3}
		ship := func(status string) {
			o.Set("SHIPPED", "fulfillment", "fulfillmentStatus")
			o.Set("PKG-"+strconv.Itoa(i), "packages", "0", "packageReferenceId")
			o.Set(status, "packages", "0", "packageStatus", "status")
			o.Set("Yamato Transport", "packages", "0", "carrier")
			o.Set(iso(pkg.Shipped), "packages", "0", "shipTime")
			o.Set(pkg.Tracking, "packages", "0", "trackingNumber")
			shipments[pkg.ID] = pkg
		}
		switch i % 5 {
		case 0: // fulfilled by Amazon, waiting to ship
			o.Set("UNSHIPPED", "fulfillment", "fulfillmentStatus")
			o.Set("AMAZON", "fulfillment", "fulfilledBy")
			delete(o, "packages")
			want.Status, want.Channel = kpi.StatusUnshipped, kpi.ByPlatform
		case 1:
			ship("IN_TRANSIT")
			want.Status = kpi.StatusShipped
		case 2:
			ship("DELIVERED")
			want.Status = kpi.StatusDelivered
		case 3: // cancelled by the buyer
			o.Set("CANCELLED", "fulfillment", "fulfillmentStatus")
			o.Set("BUYER", "orderItems", "0", "cancellation", "cancellationExecution", "cancelledBy")
			delete(o, "packages")
			want.Status = kpi.StatusCancelled
		case 4: // not yet paid: no buyer
			o.Set("PENDING", "fulfillment", "fulfillmentStatus")
			delete(o, "buyer")
			delete(o, "packages")
			want.Status, want.CustomerRef = kpi.StatusPending, ""
		}
		list = append(list, o)
		orders[id] = want
	}
	return list, orders, shipments
}

// genOrdersV0 makes n getOrders orders from the example as genOrders
// does, and returns them with the orders the store should hold.
func genOrdersV0(t *testing.T, n int, start time.Time) ([]amazontest.Order, map[string]kpi.Order) {
	t.Helper()
	ex := exampleOrderV0(t)
	var list []amazontest.Order
	orders := map[string]kpi.Order{}
	for i := range n {
		id := fmt.Sprintf("503-%07d-%07d", i, 1234567+i)
		placed := start.Add(time.Duration(i) * 10 * time.Minute)
		email := fmt.Sprintf("buyer%02d@marketplace.amazon.co.jp", i%40)
		o := ex.Clone()
		o.Set(id, "AmazonOrderId")
		o.Set(iso(placed), "PurchaseDate")
		o.Set(iso(placed.Add(time.Hour)), "LastUpdateDate")
		o.Set(amazon.MarketplaceJP, "MarketplaceId")
		o.Set(email, "BuyerInfo", "BuyerEmail")
		o.Set(map[string]any{"Amount": strconv.Itoa(2000 + i), "CurrencyCode": "JPY"}, "OrderTotal")
		o.Set(iso(placed.Add(24*time.Hour)), "LatestShipDate")
		o.Set(iso(placed.Add(72*time.Hour)), "LatestDeliveryDate")
		o.Set(1, "NumberOfItemsShipped")
		o.Set(1, "NumberOfItemsUnshipped")
		want := kpi.Order{Shop: ordersShop.ID, ID: id, CustomerRef: buyerRef(ordersShop.ID, email), Placed: placed,
			ShipBy: placed.Add(24 * time.Hour), PromisedBy: placed.Add(72 * time.Hour), Total: int64(2000 + i), Units: 2,
			Channel: kpi.ByMerchant}
		status := []struct {
			amazon, channel string
			want            kpi.OrderStatus
		}{
			{"Unshipped", "AFN", kpi.StatusUnshipped},
			{"PartiallyShipped", "MFN", kpi.StatusShipped},
			{"InvoiceUnconfirmed", "MFN", kpi.StatusShipped},
			{"Canceled", "MFN", kpi.StatusCancelled},
			{"Pending", "MFN", kpi.StatusPending},
		}[i%5]
		o.Set(status.amazon, "OrderStatus")
		o.Set(status.channel, "FulfillmentChannel")
		want.Status = status.want
		if status.channel == "AFN" {
			want.Channel = kpi.ByPlatform
		}
		list = append(list, o)
		orders[id] = want
	}
	return list, orders
}

// assertNoOrdersSecrets checks that text holds none of the app's
// credentials nor any of the n access tokens the fake issued.
func assertNoOrdersSecrets(t *testing.T, where, text string, n int) {
	t.Helper()
	c := amazontest.Credentials
	secrets := []string{c.ClientID, c.ClientSecret, c.RefreshToken, "Atza|"}
	for i := 1; i <= n; i++ {
		secrets = append(secrets, fmt.Sprintf("fake-access-%d", i))
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s hold the secret %q:\n%s", where, s, text)
		}
	}
}

func TestSyncOrdersMapsTheExamples(t *testing.T) {
	now2026 := mustTime(t, "2024-12-26T00:00:00Z")                // after the example's last update
	nowV0 := mustTime(t, "2017-01-21T00:00:00Z")                  // after the v0 example's
	const id, idV0 = "123-4567890-1234567", "902-3159896-1390916" // the examples' ids
	usd := ordersShop
	usd.Currency = "USD"

	// The example order as a USD shop stores it.
	order := kpi.Order{Shop: ordersShop.ID, ID: id, CustomerRef: buyerRef(ordersShop.ID, "buyer-email@marketplace.amazon.com"),
		Placed: mustTime(t, "2024-12-25T10:30:00Z"), ShipBy: mustTime(t, "2024-12-27T23:59:59Z"),
		PromisedBy: mustTime(t, "2024-12-30T23:59:59Z"), Status: kpi.StatusDelivered, Total: 155, Units: 3,
		Channel: kpi.ByMerchant}
	pkg := kpi.Shipment{Shop: ordersShop.ID, ID: id + "/PKG-2024-001", OrderID: id, Shipped: mustTime(t, "2024-12-25T14:00:00Z"),
		Carrier: "UPS", Tracking: "1Z999AA1234567890", Units: 3}
	orderV0 := kpi.Order{Shop: ordersShop.ID, ID: idV0, CustomerRef: buyerRef(ordersShop.ID, "user@example.com"),
		Placed: mustTime(t, "2017-01-20T19:49:35Z"), ShipBy: mustTime(t, "2017-01-25T19:49:35Z"),
		Status: kpi.StatusPending, Channel: kpi.ByMerchant}
	with := func(o kpi.Order, edit func(*kpi.Order)) *kpi.Order {
		edit(&o)
		return &o
	}

	tests := []struct {
		name      string
		shop      kpi.Shop // zero: ordersShop, in JPY; usd: the same in USD
		v0        bool     // served by getOrders: searchOrders answers 404
		edit      func(o amazontest.Order)
		want      *kpi.Order // nil: not stored
		shipments []kpi.Shipment
		log       string // a warning the pull logs
	}{
		{name: "example", shop: usd, want: &order, shipments: []kpi.Shipment{pkg}},
		{name: "in the shop's currency, rounded", edit: func(o amazontest.Order) {
			o.Set(map[string]any{"amount": "1980.5", "currencyCode": "JPY"}, "proceeds", "grandTotal")
		}, want: with(order, func(o *kpi.Order) { o.Total = 1981 }), shipments: []kpi.Shipment{pkg}},
		{name: "in another currency: no total", want: with(order, func(o *kpi.Order) { o.Total = 0 }),
			shipments: []kpi.Shipment{pkg}, log: "order total in another currency not kept"},
		{name: "fulfilled by Amazon", shop: usd, edit: func(o amazontest.Order) {
			o.Set("AMAZON", "fulfillment", "fulfilledBy")
			o.Set("UNSHIPPED", "fulfillment", "fulfillmentStatus")
			delete(o, "packages")
		}, want: with(order, func(o *kpi.Order) { o.Channel, o.Status = kpi.ByPlatform, kpi.StatusUnshipped })},
		{name: "pending, no buyer yet", shop: usd, edit: func(o amazontest.Order) {
			o.Set("PENDING", "fulfillment", "fulfillmentStatus")
			delete(o, "buyer")
			delete(o, "packages")
		}, want: with(order, func(o *kpi.Order) { o.Status, o.CustomerRef = kpi.StatusPending, "" })},
		{name: "pre-order", shop: usd, edit: func(o amazontest.Order) {
			o.Set("PENDING_AVAILABILITY", "fulfillment", "fulfillmentStatus")
			delete(o, "packages")
		}, want: with(order, func(o *kpi.Order) { o.Status = kpi.StatusPending })},
		{name: "a package not yet handed over", shop: usd, edit: func(o amazontest.Order) {
			o.Set("UNSHIPPED", "fulfillment", "fulfillmentStatus")
			o.Set("PENDING", "packages", "0", "packageStatus", "status")
			delete(o["packages"].([]any)[0].(map[string]any), "shipTime")
		}, want: with(order, func(o *kpi.Order) { o.Status = kpi.StatusUnshipped })},
		{name: "partially shipped", shop: usd, edit: func(o amazontest.Order) {
			o.Set("PARTIALLY_SHIPPED", "fulfillment", "fulfillmentStatus")
		}, want: with(order, func(o *kpi.Order) { o.Status = kpi.StatusShipped }), shipments: []kpi.Shipment{pkg}},
		{name: "shipped, in transit with Yamato", shop: usd, edit: func(o amazontest.Order) {
			o.Set("IN_TRANSIT", "packages", "0", "packageStatus", "status")
			o.Set("YAMATO TRANSPORT", "packages", "0", "carrier")
		}, want: with(order, func(o *kpi.Order) { o.Status = kpi.StatusShipped }),
			shipments: []kpi.Shipment{func() kpi.Shipment { s := pkg; s.Carrier = "yamato"; return s }()}},
		{name: "cancelled by the seller", shop: usd, edit: func(o amazontest.Order) { // the example's item says MERCHANT
			o.Set("CANCELLED", "fulfillment", "fulfillmentStatus")
			delete(o, "packages")
		}, want: with(order, func(o *kpi.Order) { o.Status = kpi.StatusSellerCancelled })},
		{name: "cancelled by the buyer", shop: usd, edit: func(o amazontest.Order) {
			o.Set("CANCELLED", "fulfillment", "fulfillmentStatus")
			o.Set("BUYER", "orderItems", "0", "cancellation", "cancellationExecution", "cancelledBy")
			delete(o, "packages")
		}, want: with(order, func(o *kpi.Order) { o.Status = kpi.StatusCancelled })},
		{name: "unfulfillable", shop: usd, edit: func(o amazontest.Order) {
			o.Set("UNFULFILLABLE", "fulfillment", "fulfillmentStatus")
			delete(o, "packages")
		}, want: with(order, func(o *kpi.Order) { o.Status = kpi.StatusCancelled })},
		{name: "another sales channel's order", shop: usd, edit: func(o amazontest.Order) {
			o.Set("NON_AMAZON", "salesChannel", "channelName")
		}},
		{name: "an unknown status", shop: usd, edit: func(o amazontest.Order) {
			o.Set("TELEPORTED", "fulfillment", "fulfillmentStatus")
		}, log: "unknown fulfillment status"},

		{name: "v0 example", v0: true, want: &orderV0},
		{name: "v0 total and dates", v0: true, edit: func(o amazontest.Order) {
			o.Set(map[string]any{"Amount": "2480", "CurrencyCode": "JPY"}, "OrderTotal")
			o.Set("2017-01-23T10:00:00Z", "EarliestDeliveryDate")
			o.Set("2017-01-27T10:00:00Z", "LatestDeliveryDate")
			o.Set("Shipped", "OrderStatus")
			o.Set(2, "NumberOfItemsShipped")
			o.Set(1, "NumberOfItemsUnshipped")
		}, want: with(orderV0, func(o *kpi.Order) {
			o.Total, o.Units, o.Status, o.PromisedBy = 2480, 3, kpi.StatusShipped, mustTime(t, "2017-01-27T10:00:00Z")
		})},
		{name: "v0 fulfilled by Amazon, cancelled", v0: true, edit: func(o amazontest.Order) {
			o.Set("AFN", "FulfillmentChannel")
			o.Set("Canceled", "OrderStatus")
		}, want: with(orderV0, func(o *kpi.Order) { o.Channel, o.Status = kpi.ByPlatform, kpi.StatusCancelled })},
		{name: "v0 in another currency", v0: true, edit: func(o amazontest.Order) {
			o.Set(map[string]any{"Amount": "24.80", "CurrencyCode": "USD"}, "OrderTotal")
		}, want: &orderV0, log: "order total in another currency not kept"},
		{name: "v0 another sales channel's order", v0: true, edit: func(o amazontest.Order) {
			o.Set("Non-Amazon", "SalesChannel")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := now2026
			if tt.v0 {
				now = nowV0
			}
			e := newOrdersEnv(t, ordersSetup{now: now, shop: tt.shop})
			ex := exampleOrder(t).Clone()
			if tt.v0 {
				ex = exampleOrderV0(t).Clone()
				e.fake.Fail("searchOrders", amazontest.Fault{Status: http.StatusNotFound})
			}
			if tt.edit != nil {
				tt.edit(ex)
			}
			if tt.v0 {
				e.orders.SetV0(ex)
			} else {
				e.orders.Set(ex)
			}

			p := e.mustSync()
			if p.Pages != 1 || p.Read != 1 {
				t.Errorf("pages %d, read %d; want 1, 1", p.Pages, p.Read)
			}
			wantOrders, wantShipments := map[string]kpi.Order{}, map[string]kpi.Shipment{}
			if tt.want != nil {
				wantOrders[tt.want.ID] = *tt.want
			}
			for _, s := range tt.shipments {
				wantShipments[s.ID] = s
			}
			e.assertStored(wantOrders, wantShipments)
			if tt.log != "" && !strings.Contains(e.logs.String(), tt.log) {
				t.Errorf("the logs do not say %q:\n%s", tt.log, e.logs.String())
			}
			if got := e.fake.Calls("getOrders"); tt.v0 != (got == 1) || got > 1 {
				t.Errorf("getOrders called %d times; v0 %v", got, tt.v0)
			}
		})
	}
}

func TestSyncOrdersPagesIncrementally(t *testing.T) {
	e := newOrdersEnv(t, ordersSetup{})
	start := ordersNow.Add(-5 * 24 * time.Hour)
	list, wantOrders, wantShipments := genOrders(t, 250, start)
	e.orders.Set(list...)

	p := e.mustSync()
	if p.Pages != 3 || p.Read != 250 {
		t.Errorf("first pull: pages %d, read %d; want 3, 250", p.Pages, p.Read)
	}
	if want := (kpi.WriteStats{Inserted: len(wantOrders) + len(wantShipments)}); p.Stats != want {
		t.Errorf("first pull wrote %+v, want %+v", p.Stats, want)
	}
	e.assertStored(wantOrders, wantShipments)
	queries := e.orders.Queries("searchOrders")
	if len(queries) != 3 {
		t.Fatalf("first pull: %d calls of searchOrders, want 3", len(queries))
	}
	for i, q := range queries {
		want := map[string]string{
			"marketplaceIds":    amazon.MarketplaceJP,
			"lastUpdatedAfter":  iso(ordersNow.Add(-30 * 24 * time.Hour)), // Syncer.Since's default
			"lastUpdatedBefore": iso(ordersNow.Add(-2 * time.Minute)),
			"maxResultsPerPage": "100",
		}
		for k, v := range want {
			if q.Get(k) != v {
				t.Errorf("call %d: %s=%q, want %q", i+1, k, q.Get(k), v)
			}
		}
		for _, d := range []string{"BUYER", "FULFILLMENT", "PACKAGES", "PROCEEDS", "CANCELLATION"} {
			if !strings.Contains(q.Get("includedData"), d) {
				t.Errorf("call %d: includedData=%q lacks %s", i+1, q.Get("includedData"), d)
			}
		}
		if strings.Contains(q.Get("includedData"), "RECIPIENT") {
			t.Errorf("call %d asks for the recipient's address", i+1)
		}
		if hasToken := q.Get("paginationToken") != ""; hasToken != (i > 0) {
			t.Errorf("call %d: paginationToken %q", i+1, q.Get("paginationToken"))
		}
	}

	// An hour later, nothing changed: the pull asks from the last update
	// seen, less the overlap, and writes nothing new.
	e.clock.Advance(time.Hour)
	lastUpdate := start.Add(249*10*time.Minute + time.Hour)
	p = e.mustSync()
	if p.Stats.Inserted != 0 || p.Stats.Updated != 0 {
		t.Errorf("second pull wrote %+v, want nothing new", p.Stats)
	}
	queries = e.orders.Queries("searchOrders")[3:]
	if len(queries) != 1 {
		t.Fatalf("second pull: %d calls of searchOrders, want 1", len(queries))
	}
	q := queries[0]
	if got, want := q.Get("lastUpdatedAfter"), iso(lastUpdate.Add(-2*time.Minute)); got != want {
		t.Errorf("second pull: lastUpdatedAfter=%s, want %s", got, want)
	}
	if got, want := q.Get("lastUpdatedBefore"), iso(ordersNow.Add(time.Hour-2*time.Minute)); got != want {
		t.Errorf("second pull: lastUpdatedBefore=%s, want %s", got, want)
	}
	if q.Get("paginationToken") != "" {
		t.Errorf("second pull started with a page token")
	}
	e.assertStored(wantOrders, wantShipments)

	// An order ships: the next pull updates it alone and adds its package.
	shipped := list[0].Clone() // fulfilled by Amazon: no package
	shipped.Set("SHIPPED", "fulfillment", "fulfillmentStatus")
	shipped.Set(iso(e.clock.Now().Add(-10*time.Minute)), "lastUpdatedTime")
	list[0] = shipped
	e.orders.Set(list...)
	e.clock.Advance(time.Hour)
	p = e.mustSync()
	if p.Stats.Inserted != 0 || p.Stats.Updated != 1 {
		t.Errorf("third pull wrote %+v, want the shipped order updated", p.Stats)
	}
	o := wantOrders[list[0]["orderId"].(string)]
	o.Status = kpi.StatusShipped
	wantOrders[o.ID] = o
	e.assertStored(wantOrders, wantShipments)
}

func TestSyncOrdersSurvivesFaults(t *testing.T) {
	tests := []struct {
		name string
		http *http.Client
		// before sets the faults up; cancel ends the first pull's context.
		before func(e *ordersEnv, cancel context.CancelFunc)
		// firstErr checks the first pull's error; nil: it must succeed.
		firstErr func(t *testing.T, err error)
		check    func(t *testing.T, e *ordersEnv, last amazon.Progress)
	}{{
		name: "throttled twice",
		before: func(e *ordersEnv, _ context.CancelFunc) {
			e.fake.Fail("searchOrders", amazontest.Fault{Status: 429}, amazontest.Fault{Status: 429})
		},
		check: func(t *testing.T, e *ordersEnv, _ amazon.Progress) {
			if got := e.fake.Calls("searchOrders"); got != 5 {
				t.Errorf("searchOrders called %d times, want 5", got)
			}
			// Each 429 empties the bucket: the two tries after them and the
			// two pages after that each wait for a call to be earned.
			if took := e.clock.Elapsed(); took < 4*refill || took > 4*refill+time.Second {
				t.Errorf("the pull waited %v, want 4 × %v", took, refill)
			}
		},
	}, {
		name: "server errors",
		before: func(e *ordersEnv, _ context.CancelFunc) {
			e.fake.Fail("searchOrders", amazontest.Fault{Status: 500}, amazontest.Fault{Status: 503}, amazontest.Fault{Status: 500})
		},
		check: func(t *testing.T, e *ordersEnv, _ amazon.Progress) {
			if got := e.fake.Calls("searchOrders"); got != 6 {
				t.Errorf("searchOrders called %d times, want 6", got)
			}
		},
	}, {
		name: "a timeout",
		http: &http.Client{Timeout: time.Second},
		before: func(e *ordersEnv, _ context.CancelFunc) {
			e.fake.Fail("searchOrders", amazontest.Fault{Delay: 2 * time.Second})
		},
		check: func(t *testing.T, e *ordersEnv, _ amazon.Progress) {
			if got := e.fake.Calls("searchOrders"); got < 4 {
				t.Errorf("searchOrders called %d times, want the timed out call tried again", got)
			}
			if !strings.Contains(e.logs.String(), "Client.Timeout") {
				t.Errorf("the logs do not show the timeout:\n%s", e.logs.String())
			}
		},
	}, {
		name: "the token endpoint fails once",
		before: func(e *ordersEnv, _ context.CancelFunc) {
			e.fake.Fail("token", amazontest.Fault{Status: 503})
		},
		check: func(t *testing.T, e *ordersEnv, _ amazon.Progress) {
			if e.fake.Calls("token") != 2 || e.fake.Tokens() != 1 {
				t.Errorf("token called %d times, %d tokens issued; want 2, 1", e.fake.Calls("token"), e.fake.Tokens())
			}
		},
	}, {
		name: "the access token expires after page 1",
		before: func(e *ordersEnv, _ context.CancelFunc) {
			e.store.AfterSave = func(n int) {
				if n == 1 {
					e.fake.Expire()
				}
			}
		},
		check: func(t *testing.T, e *ordersEnv, _ amazon.Progress) {
			if e.fake.Tokens() != 2 {
				t.Errorf("%d tokens issued, want 2", e.fake.Tokens())
			}
			if got := e.fake.Calls("searchOrders"); got != 4 {
				t.Errorf("searchOrders called %d times, want 4", got)
			}
		},
	}, {
		name: "page 2 fails for good",
		before: func(e *ordersEnv, _ context.CancelFunc) {
			e.store.AfterSave = func(n int) {
				if n == 1 { // the first try and the client's 5 retries
					for range 6 {
						e.fake.Fail("searchOrders", amazontest.Fault{Status: 500})
					}
				}
			}
		},
		firstErr: func(t *testing.T, err error) {
			var ae *amazon.APIError
			if !errors.As(err, &ae) || ae.Status != 500 || ae.Code != "InternalFailure" {
				t.Errorf("first pull: %v, want Amazon's 500 InternalFailure", err)
			}
		},
		check: func(t *testing.T, e *ordersEnv, last amazon.Progress) {
			assertResumed(t, e, last, 1)
		},
	}, {
		name: "cancelled after page 1",
		before: func(e *ordersEnv, cancel context.CancelFunc) {
			e.store.AfterSave = func(n int) {
				if n == 1 {
					cancel()
				}
			}
		},
		firstErr: func(t *testing.T, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("first pull: %v, want context.Canceled", err)
			}
		},
		check: func(t *testing.T, e *ordersEnv, last amazon.Progress) {
			assertResumed(t, e, last, 1)
		},
	}, {
		name: "cancelled after page 1, the page token expired since",
		before: func(e *ordersEnv, cancel context.CancelFunc) {
			e.store.AfterSave = func(n int) {
				if n == 1 {
					cancel()
					e.orders.ExpireTokens()
				}
			}
		},
		firstErr: func(t *testing.T, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("first pull: %v, want context.Canceled", err)
			}
		},
		check: func(t *testing.T, e *ordersEnv, last amazon.Progress) {
			// The stale token's 400, then the window again from its start
			// (3 pages), then the new window: page 1's 140 records and the
			// last order are read again.
			q := e.orders.Queries("searchOrders")
			if len(q) != 1+1+3+1 || q[1].Get("paginationToken") == "" || q[2].Get("paginationToken") != "" {
				t.Errorf("searchOrders asked %d times, want the saved token refused and the window read again", len(q))
			}
			if last.Pages != 4 || last.Stats.Unchanged != 141 {
				t.Errorf("the second pull read %d pages, %d records unchanged; want 4, 141", last.Pages, last.Stats.Unchanged)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newOrdersEnv(t, ordersSetup{http: tt.http})
			list, wantOrders, wantShipments := genOrders(t, 250, ordersNow.Add(-5*24*time.Hour))
			e.orders.Set(list...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			tt.before(e, cancel)

			p, err := e.sync(ctx)
			inserted := p.Stats.Inserted
			if tt.firstErr == nil {
				if err != nil {
					t.Fatalf("first pull: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("first pull succeeded, want an error")
				}
				tt.firstErr(t, err)
				assertNoOrdersSecrets(t, "the error", err.Error(), e.fake.Tokens())
				e.store.AfterSave = nil
				if p, err = e.sync(t.Context()); err != nil {
					t.Fatalf("second pull: %v", err)
				}
				inserted += p.Stats.Inserted
			}
			e.assertStored(wantOrders, wantShipments)
			if want := len(wantOrders) + len(wantShipments); inserted != want {
				t.Errorf("%d records inserted, want %d: each once", inserted, want)
			}
			tt.check(t, e, p)
		})
	}
}

// assertResumed checks that the second pull resumed the first's window at
// the page after the pages it wrote, then read the window since: the
// orders updated in the overlap.
func assertResumed(t *testing.T, e *ordersEnv, last amazon.Progress, written int) {
	t.Helper()
	q := e.orders.Queries("searchOrders") // the calls answered: faults left out
	if len(q) != 3+1 || q[written].Get("paginationToken") == "" {
		t.Errorf("searchOrders answered %d calls, want 4: the second pull resuming at page %d", len(q), written+1)
	}
	if want := 3 - written + 1; last.Pages != want {
		t.Errorf("the second pull read %d pages, want %d", last.Pages, want)
	}
}

func TestSyncOrdersReportsBadRequests(t *testing.T) {
	e := newOrdersEnv(t, ordersSetup{})
	list, _, _ := genOrders(t, 10, ordersNow.Add(-24*time.Hour))
	e.orders.Set(list...)
	e.fake.Fail("searchOrders", amazontest.Fault{Status: 400,
		Body: `{"errors":[{"code":"InvalidInput","message":"Invalid Input","details":"lastUpdatedBefore"}]}`})

	_, err := e.sync(t.Context())
	var ae *amazon.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "InvalidInput" || ae.Op != "searchOrders" {
		t.Fatalf("pull: %v, want Amazon's 400 InvalidInput of searchOrders", err)
	}
	if !strings.Contains(err.Error(), "InvalidInput") {
		t.Errorf("the error %q does not name Amazon's code", err)
	}
	if got := e.fake.Calls("searchOrders"); got != 1 {
		t.Errorf("searchOrders called %d times, want 1: a 400 is not tried again", got)
	}
	if got := e.fake.Calls("getOrders"); got != 0 {
		t.Errorf("getOrders called %d times, want 0: a 400 is no reason to use v0", got)
	}
	if waits := e.clock.Waits(); len(waits) != 0 {
		t.Errorf("the pull waited %v, want no wait", waits)
	}
	if orders, _ := e.stored(); len(orders) != 0 || e.store.Saves() != 0 {
		t.Errorf("%d orders stored, %d cursors saved; want none", len(orders), e.store.Saves())
	}
}

func TestSyncOrdersKeepsToTheRateLimit(t *testing.T) {
	e := newOrdersEnv(t, ordersSetup{})
	list, wantOrders, wantShipments := genOrders(t, 25, ordersNow.Add(-24*time.Hour))
	e.orders.Set(list...)
	e.orders.PageSize = 1 // 25 pages: 25 calls

	p := e.mustSync()
	if p.Pages != 25 || e.fake.Calls("searchOrders") != 25 {
		t.Fatalf("%d pages, %d calls; want 25, 25", p.Pages, e.fake.Calls("searchOrders"))
	}
	// A burst of 20, then one call each 1/0.0056 s.
	waits := e.clock.Waits()
	if len(waits) != 5 {
		t.Fatalf("the pull waited %d times (%v), want 5", len(waits), waits)
	}
	for i, w := range waits {
		if w < refill || w > refill+time.Microsecond {
			t.Errorf("wait %d: %v, want %v", i+1, w, refill)
		}
	}
	e.assertStored(wantOrders, wantShipments)
}

func TestSyncOrdersFallsBackToV0(t *testing.T) {
	tests := []struct {
		name   string
		faults []amazontest.Fault // of searchOrders
		crash  bool               // the first pull stops after v0's page 1
		tokens int                // access tokens issued
	}{
		{name: "2026-01-01 not found", faults: []amazontest.Fault{{Status: 404}}, tokens: 1},
		{name: "2026-01-01 refused with a new token too", faults: []amazontest.Fault{{Status: 403}, {Status: 403}}, tokens: 2},
		{name: "stopped on v0's page 1", faults: []amazontest.Fault{{Status: 404}}, crash: true, tokens: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newOrdersEnv(t, ordersSetup{})
			list, wantOrders := genOrdersV0(t, 250, ordersNow.Add(-5*24*time.Hour))
			e.orders.SetV0(list...)
			e.fake.Fail("searchOrders", tt.faults...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.crash {
				e.store.AfterSave = func(n int) {
					if n == 1 {
						cancel()
					}
				}
			}

			p, err := e.sync(ctx)
			inserted := p.Stats.Inserted
			if tt.crash {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("first pull: %v, want context.Canceled", err)
				}
				e.store.AfterSave = nil
				searches := e.fake.Calls("searchOrders")
				if p, err = e.sync(t.Context()); err != nil {
					t.Fatal(err)
				}
				inserted += p.Stats.Inserted
				// The window left open on v0 is read on v0, from page 2;
				// then the new window tries 2026-01-01 again.
				q := e.orders.Queries("getOrders")
				if len(q) != 3 || q[1].Get("NextToken") == "" {
					t.Errorf("%d calls of getOrders, the second pull's first with NextToken %q; want 3, resuming at page 2",
						len(q), q[min(1, len(q)-1)].Get("NextToken"))
				}
				if got := e.fake.Calls("searchOrders"); got != searches+1 {
					t.Errorf("the second pull called searchOrders %d times, want once, after the v0 window", got-searches)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			e.assertStored(wantOrders, nil)
			if inserted != len(wantOrders) {
				t.Errorf("%d records inserted, want %d: each once", inserted, len(wantOrders))
			}
			if got := e.fake.Tokens(); got != tt.tokens {
				t.Errorf("%d access tokens issued, want %d", got, tt.tokens)
			}
			q := e.orders.Queries("getOrders")
			if len(q) != 3 {
				t.Fatalf("%d calls of getOrders, want 3", len(q))
			}
			for i, q := range q {
				if q.Get("MarketplaceIds") != amazon.MarketplaceJP || q.Get("LastUpdatedAfter") == "" || q.Get("CreatedAfter") != "" ||
					q.Get("MaxResultsPerPage") != "100" || (q.Get("NextToken") != "") != (i > 0) {
					t.Errorf("getOrders call %d: %v", i+1, q)
				}
			}
		})
	}
}

func TestSyncOrdersKeepsNoPII(t *testing.T) {
	// The example answers' personal data: what must not be stored.
	pii2026 := []string{"John Smith", "buyer-email@marketplace.amazon.com", "Smith Industries LLC", "PO-2024-12345",
		"123 Main Street", "Suite 456", "555-123-4567", "Front desk reception", "Happy Holidays"}
	piiV0 := []string{"John Doe", "user@example.com", "A Company Name", "1 Cross St.", "Michigan address"}
	for _, c := range []struct {
		model string
		pii   []string
	}{{"orders_2026-01-01.json", pii2026}, {"ordersV0.json", piiV0}} {
		model := readModel(t, c.model)
		for _, s := range c.pii {
			if !bytes.Contains(model, []byte(s)) {
				t.Fatalf("%s has no %q: the test would prove nothing", c.model, s)
			}
		}
	}

	// Two shops in one file: one pulled with 2026-01-01 (the fake sends
	// every dataset, asked for or not), the other with v0.
	dir := t.TempDir()
	shopV0 := ordersShop
	shopV0.ID = "amz-v0"
	a := newOrdersEnv(t, ordersSetup{now: mustTime(t, "2024-12-26T00:00:00Z"), dir: dir})
	a.orders.AllData = true
	a.orders.Set(exampleOrder(t))
	a.mustSync()
	b := newOrdersEnv(t, ordersSetup{now: mustTime(t, "2017-01-21T00:00:00Z"), dir: dir, shop: shopV0})
	b.orders.SetV0(exampleOrderV0(t))
	b.fake.Fail("searchOrders", amazontest.Fault{Status: 404})
	b.mustSync()
	for _, e := range []*ordersEnv{a, b} {
		if orders, _ := e.stored(); len(orders) != 1 {
			t.Fatalf("shop %s: %d orders stored, want the example", e.syncer.Shop.ID, len(orders))
		}
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
	}

	data := connectortest.Files(t, dir) // the database, and its WAL if one is left
	for _, id := range []string{"123-4567890-1234567", "902-3159896-1390916"} {
		if !bytes.Contains(data, []byte(id)) {
			t.Fatalf("the files do not hold order %s: the scan would prove nothing", id)
		}
	}
	logs := a.logs.String() + b.logs.String()
	for _, s := range append(pii2026, piiV0...) {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the database holds %q", s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %q", s)
		}
	}
}

func TestSyncOrdersKeepsSecrets(t *testing.T) {
	// A pull through every kind of trouble, logging at Debug.
	e := newOrdersEnv(t, ordersSetup{http: &http.Client{Timeout: time.Second}})
	list, _, _ := genOrders(t, 250, ordersNow.Add(-5*24*time.Hour))
	e.orders.Set(list...)
	e.fake.Fail("token", amazontest.Fault{Status: 500})
	e.fake.Fail("searchOrders", amazontest.Fault{Status: 429}, amazontest.Fault{Status: 503}, amazontest.Fault{Delay: 2 * time.Second})
	e.store.AfterSave = func(n int) {
		if n == 1 {
			e.fake.Expire()
		}
	}
	e.mustSync()
	if e.fake.Tokens() != 2 {
		t.Fatalf("%d tokens issued, want 2: the test would not show the second", e.fake.Tokens())
	}

	// Pulls that fail: a wrong client secret, Amazon's 400, timeouts.
	wrong := amazontest.Credentials
	wrong.ClientSecret = "wrong-client-secret-never-logged"
	bad := newOrdersEnv(t, ordersSetup{creds: &wrong, noVerify: true})
	_, err := bad.sync(t.Context())
	if err == nil {
		t.Fatal("pull with a wrong client secret succeeded")
	}
	errs := []string{err.Error()}
	if strings.Contains(err.Error()+bad.logs.String(), wrong.ClientSecret) {
		t.Errorf("the wrong client secret is in the error or the logs: %v", err)
	}
	assertNoOrdersSecrets(t, "the logs", bad.logs.String(), bad.fake.Tokens())

	e.fake.Fail("searchOrders", amazontest.Fault{Status: 400})
	e.clock.Advance(time.Hour)
	if _, err := e.sync(t.Context()); err == nil {
		t.Error("pull answered 400 succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	slow := newOrdersEnv(t, ordersSetup{http: &http.Client{Timeout: 100 * time.Millisecond}, retries: 1})
	slow.fake.Fail("searchOrders", amazontest.Fault{Delay: 300 * time.Millisecond}, amazontest.Fault{Delay: 300 * time.Millisecond})
	if _, err := slow.sync(t.Context()); err == nil {
		t.Error("pull timing out succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	for _, s := range errs {
		assertNoOrdersSecrets(t, "the error", s, max(e.fake.Tokens(), bad.fake.Tokens(), slow.fake.Tokens()))
	}
	assertNoOrdersSecrets(t, "the logs", e.logs.String(), e.fake.Tokens())
}
