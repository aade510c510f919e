package shopify_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/shopify"
	"github.com/kpibot/kpibot/connectors/shopify/shopifytest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

// testShop is the shop the tests pull.
var testShop = kpi.Shop{ID: "shopify-jp", Platform: kpi.Shopify, Name: "Shopify JP", Currency: "JPY"}

// testNow is when the tests run, unless they say otherwise.
var testNow = time.Date(2026, 3, 20, 3, 0, 0, 0, time.UTC)

// clock is the tests' time, shared by the client, the syncer, the store
// and the fake's bucket: Sleep returns at once, moving the clock on by
// what it was asked to wait, and keeps the waits.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	return nil
}

// advance moves the clock on without a wait.
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// waited returns the waits so far, and forgets them.
func (c *clock) waited() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.waits
	c.waits = nil
	return w
}

// logs collects a test's logs.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// hookedStore is the SQLite store, calling afterSave after each cursor it
// saves: a test stops or disturbs a pull there.
type hookedStore struct {
	*sqlite.Store
	mu        sync.Mutex
	saves     int
	afterSave func(n int) // n: the saves so far
}

func (s *hookedStore) SaveSyncCursor(ctx context.Context, shop, stream, cursor string) error {
	err := s.Store.SaveSyncCursor(ctx, shop, stream, cursor)
	s.mu.Lock()
	s.saves++
	n, hook := s.saves, s.afterSave
	s.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return err
}

// env is a shop pulled from the fake into a SQLite file in t.TempDir(),
// on a fake clock, logging at Debug into logs.
type env struct {
	t      *testing.T
	fake   *shopifytest.Server
	clock  *clock
	dir    string
	path   string
	store  *hookedStore
	logs   *logs
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
	c := &clock{now: testNow}
	e := &env{t: t, clock: c, dir: s.dir, path: filepath.Join(s.dir, "kpi.db"), logs: &logs{}}
	e.fake = shopifytest.New(t, c.Now)
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := e.fake.Config()
	cfg.Now, cfg.Sleep, cfg.Log, cfg.HTTP, cfg.Retries = c.Now, c.Sleep, log, s.http, s.retries
	if s.token != "" {
		cfg.AccessToken = s.token
	}
	client, err := shopify.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(t.Context(), e.path, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Write(t.Context(), &kpi.Batch{Shops: []kpi.Shop{testShop}}); err != nil {
		t.Fatal(err)
	}
	e.store = &hookedStore{Store: store}
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

// records are what a shop's pull stores, by id.
type records struct {
	orders    map[string]kpi.Order
	shipments map[string]kpi.Shipment
	returns   map[string]kpi.Return
}

func newRecords() records {
	return records{orders: map[string]kpi.Order{}, shipments: map[string]kpi.Shipment{}, returns: map[string]kpi.Return{}}
}

// count is how many records r holds.
func (r records) count() int { return len(r.orders) + len(r.shipments) + len(r.returns) }

// stored reads the shop's orders, shipments and returns back from the
// SQLite file.
func (e *env) stored() records {
	e.t.Helper()
	db, err := sql.Open("sqlite3", e.path) // the driver kpi/sqlite registers
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	at := func(v sql.NullInt64) time.Time {
		if !v.Valid {
			return time.Time{}
		}
		return time.Unix(v.Int64, 0).UTC()
	}
	query := func(q string, scan func(*sql.Rows) error) {
		rows, err := db.QueryContext(e.t.Context(), q, testShop.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				e.t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			e.t.Fatal(err)
		}
	}
	r := newRecords()
	query(`SELECT shop, id, customer_ref, placed, paid, ship_by, promised_by, status, total, units, channel, claim, chargeback
		FROM orders WHERE shop = ?`, func(rows *sql.Rows) error {
		var o kpi.Order
		var placed, paid, shipBy, promisedBy sql.NullInt64
		err := rows.Scan(&o.Shop, &o.ID, &o.CustomerRef, &placed, &paid, &shipBy, &promisedBy, &o.Status, &o.Total,
			&o.Units, &o.Channel, &o.Claim, &o.Chargeback)
		o.Placed, o.Paid, o.ShipBy, o.PromisedBy = at(placed), at(paid), at(shipBy), at(promisedBy)
		r.orders[o.ID] = o
		return err
	})
	query(`SELECT shop, id, order_id, shipped, carrier, tracking, delivered, units FROM shipments WHERE shop = ?`, func(rows *sql.Rows) error {
		var s kpi.Shipment
		var shipped, delivered sql.NullInt64
		err := rows.Scan(&s.Shop, &s.ID, &s.OrderID, &shipped, &s.Carrier, &s.Tracking, &delivered, &s.Units)
		s.Shipped, s.Delivered = at(shipped), at(delivered)
		r.shipments[s.ID] = s
		return err
	})
	query(`SELECT shop, id, order_id, returned, units, reason FROM returns WHERE shop = ?`, func(rows *sql.Rows) error {
		var ret kpi.Return
		var returned sql.NullInt64
		err := rows.Scan(&ret.Shop, &ret.ID, &ret.OrderID, &returned, &ret.Units, &ret.Reason)
		ret.Returned = at(returned)
		r.returns[ret.ID] = ret
		return err
	})
	return r
}

// assertStored checks that the store holds exactly the records wanted.
func (e *env) assertStored(want records) {
	e.t.Helper()
	got := e.stored()
	assertSame(e.t, "order", got.orders, want.orders)
	assertSame(e.t, "shipment", got.shipments, want.shipments)
	assertSame(e.t, "return", got.returns, want.returns)
}

func assertSame[T comparable](t *testing.T, kind string, got, want map[string]T) {
	t.Helper()
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s %s not stored", kind, id)
		case g != w:
			t.Errorf("%s %s stored as\n%+v\nwant\n%+v", kind, id, g, w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s %s stored, not wanted", kind, id)
		}
	}
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
func genOrders(n int, start time.Time) ([]shopifytest.Order, records) {
	var list []shopifytest.Order
	want := newRecords()
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
			want.shipments[sh.ID] = sh
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
			want.returns[fmt.Sprint(9000000+i)] = kpi.Return{Shop: testShop.ID, ID: fmt.Sprint(9000000 + i), OrderID: num,
				Returned: r.CreatedAt, Units: 1}
		}
		list = append(list, o)
		want.orders[num] = ord
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
