package shopify_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/shopify"
	"github.com/kpibot/kpibot/connectors/shopify/shopifytest"
	"github.com/kpibot/kpibot/internal/connectortest"
	"github.com/kpibot/kpibot/kpi"
)

// testShop is the shop the tests pull.
var testShop = kpi.Shop{ID: "shopify-jp", Platform: kpi.Shopify, Name: "Shopify JP", Currency: "JPY"}

// testNow is when the tests run, unless they say otherwise.
var testNow = time.Date(2026, 3, 20, 3, 0, 0, 0, time.UTC)

// env is a shop pulled from the fake into a SQLite file in t.TempDir(),
// on a fake clock, logging at Debug into logs.
type env struct {
	t      *testing.T
	fake   *shopifytest.Server
	clock  *connectortest.Clock
	dir    string
	path   string
	store  *connectortest.Store
	logs   *connectortest.Log
	syncer *shopify.Syncer
}

// setup changes an env's defaults.
type setup struct {
	token   string       // "": the token the fake accepts
	http    *http.Client // nil: the client's default
	retries int          // 0: the client's default
	dir     string       // "": a new t.TempDir()
}

func newEnv(t *testing.T, s setup) *env {
	t.Helper()
	if s.dir == "" {
		s.dir = t.TempDir()
	}
	c := connectortest.NewClock(testNow)
	e := &env{t: t, clock: c, dir: s.dir, path: filepath.Join(s.dir, "kpi.db"), logs: &connectortest.Log{}}
	e.fake = shopifytest.New(t, c.Now)
	log := e.logs.Logger()
	cfg := e.fake.Config()
	cfg.Now, cfg.Sleep, cfg.Log, cfg.HTTP, cfg.Retries = c.Now, c.Sleep, log, s.http, s.retries
	if s.token != "" {
		cfg.AccessToken = s.token
	}
	client, err := shopify.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := connectortest.OpenStore(t, e.path, c.Now, testShop)
	e.store = &connectortest.Store{Store: store}
	e.syncer = &shopify.Syncer{Client: client, Shop: testShop, Store: e.store, Now: c.Now, Log: log}
	t.Cleanup(func() { assertNoSecret(t, "the logs", e.logs.String(), shopifytest.Token, s.token) })
	return e
}

// sync pulls the shop once.
func (e *env) sync(ctx context.Context) (shopify.Progress, error) {
	ps, err := e.syncer.Run(ctx)
	if len(ps) != 1 || ps[0].Stream != "orders" {
		e.t.Fatalf("Run returned %+v, want the orders stream's progress", ps)
	}
	return ps[0], err
}

// mustSync pulls the shop once, failing the test on an error.
func (e *env) mustSync() shopify.Progress {
	e.t.Helper()
	p, err := e.sync(e.t.Context())
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return p
}

// stored reads the shop's orders, shipments and returns back from the
// SQLite file.
func (e *env) stored() connectortest.Records {
	e.t.Helper()
	return connectortest.Stored(e.t, e.path, testShop.ID)
}

// assertStored checks that the store holds exactly the records wanted.
func (e *env) assertStored(want connectortest.Records) {
	e.t.Helper()
	got := e.stored()
	connectortest.AssertSame(e.t, "order", got.Orders, want.Orders)
	connectortest.AssertSame(e.t, "shipment", got.Shipments, want.Shipments)
	connectortest.AssertSame(e.t, "return", got.Returns, want.Returns)
}

// assertNoSecret checks that text holds none of the secrets ("" skipped).
func assertNoSecret(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s hold the secret %q:\n%s", where, s, text)
		}
	}
}

// customerRef is the CustomerRef of a customer's global id in testShop.
func customerRef(gid string) string {
	sum := sha256.Sum256([]byte("shopify:" + testShop.ID + ":" + gid))
	return hex.EncodeToString(sum[:16])
}

// genOrders makes n orders, placed every ten minutes from start and
// updated an hour later, through six kinds of order in turn; it returns
// them with the records the store should hold.
func genOrders(n int, start time.Time) ([]shopifytest.Order, connectortest.Records) {
	var list []shopifytest.Order
	want := connectortest.NewRecords()
	for i := range n {
		num := fmt.Sprint(5000000000 + i)
		placed := start.Add(time.Duration(i) * 10 * time.Minute)
		cust := fmt.Sprintf("gid://shopify/Customer/%d", 7000+i%40)
		o := shopifytest.Order{
			ID: "gid://shopify/Order/" + num, Name: fmt.Sprintf("#%d", 1001+i),
			CreatedAt: placed, UpdatedAt: placed.Add(time.Hour),
			FinancialStatus: "PAID", FulfillmentStatus: "UNFULFILLED", Quantity: 1 + i%3,
			Total: fmt.Sprintf("%d.0", 1000+i), Email: fmt.Sprintf("buyer%02d@example.jp", i%40), Phone: "+81-90-0000-0000",
			ShippingAddress: "東京都千代田区1-1", Customer: &shopifytest.Customer{ID: cust, FirstName: "花子", LastName: "山田",
				Email: fmt.Sprintf("buyer%02d@example.jp", i%40), Phone: "+81-90-0000-0000", Address: "東京都千代田区1-1"},
		}
		ord := kpi.Order{Shop: testShop.ID, ID: num, CustomerRef: customerRef(cust), Placed: placed, Status: kpi.StatusUnshipped,
			Total: int64(1000 + i), Units: int64(1 + i%3), Channel: kpi.ByMerchant}
		ship := func(company, carrier string, delivered bool) {
			f := shopifytest.Fulfillment{ID: fmt.Sprintf("gid://shopify/Fulfillment/%d", 8000000+i), CreatedAt: placed.Add(5 * time.Hour),
				Quantity: o.Quantity, Company: company, Number: fmt.Sprintf("%012d", 400000000000+i)}
			sh := kpi.Shipment{Shop: testShop.ID, ID: fmt.Sprint(8000000 + i), OrderID: num, Shipped: f.CreatedAt,
				Carrier: carrier, Tracking: f.Number, Units: int64(o.Quantity)}
			if delivered {
				f.DeliveredAt = placed.Add(30 * time.Hour)
				sh.Delivered = f.DeliveredAt
			}
			o.FulfillmentStatus = "FULFILLED"
			o.Fulfillments = append(o.Fulfillments, f)
			want.Shipments[sh.ID] = sh
		}
		switch i % 6 {
		case 0: // paid, waiting to ship
		case 1:
			ship("Yamato (JA)", "yamato", false)
			ord.Status = kpi.StatusShipped
		case 2:
			ship("佐川急便", "sagawa", true)
			ord.Status = kpi.StatusDelivered
		case 3:
			o.CancelledAt = placed.Add(30 * time.Minute)
			o.FinancialStatus = "REFUNDED"
			ord.Status = kpi.StatusCancelled
		case 4: // a guest, paying at a konbini
			o.FinancialStatus, o.Customer = "PENDING", nil
			ord.Status, ord.CustomerRef = kpi.StatusPending, ""
		case 5: // delivered, then one unit sent back
			ship("Japan Post (EN)", "japanpost", true)
			r := shopifytest.Return{ID: fmt.Sprintf("gid://shopify/Return/%d", 9000000+i), Status: "CLOSED",
				CreatedAt: placed.Add(50 * time.Hour), Quantity: 1}
			o.Returns = append(o.Returns, r)
			ord.Status = kpi.StatusDelivered
			want.Returns[fmt.Sprint(9000000+i)] = kpi.Return{Shop: testShop.ID, ID: fmt.Sprint(9000000 + i), OrderID: num,
				Returned: r.CreatedAt, Units: 1}
		}
		list = append(list, o)
		want.Orders[num] = ord
	}
	return list, want
}

// repeat returns n times d.
func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}
