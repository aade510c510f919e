package rakuten_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

// testShop is the shop the tests pull.
var testShop = kpi.Shop{ID: "rkt-main", Platform: kpi.Rakuten, Name: "Rakuten Ichiba", Currency: "JPY"}

// testNow is when the tests run, unless they say otherwise: noon in Tokyo.
var testNow = time.Date(2026, 3, 20, 3, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

var jst = time.FixedZone("JST", 9*60*60)

// clock is the tests' time: Sleep returns at once, moving the clock on by
// what it was asked to wait, and counts the waits.
type clock struct {
	mu    sync.Mutex
	start time.Time
	now   time.Time
	waits []time.Duration
}

func newClock(now time.Time) *clock { return &clock{start: now, now: now} }

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

// waited returns the waits so far.
func (c *clock) waited() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// logBuffer collects a test's logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// store is the SQLite store, calling afterSave after each cursor it
// saves: a test stops or disturbs a pull there.
type store struct {
	*sqlite.Store
	mu        sync.Mutex
	saves     int
	afterSave func(n int) // n: the saves so far
}

func (s *store) SaveSyncCursor(ctx context.Context, shop, stream, cursor string) error {
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

func (s *store) saved() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// env is a shop whose orders are pulled from a fake RMS into a SQLite
// file in t.TempDir(), on a fake clock, logging at Debug into logs.
type env struct {
	t      *testing.T
	fake   *rakutentest.Server
	clock  *clock
	path   string
	store  *store
	logs   *logBuffer
	syncer *rakuten.Syncer
}

// setup changes an env's defaults.
type setup struct {
	now        time.Time     // zero: testNow
	http       *http.Client  // nil: the client's default
	retries    int           // 0: the client's default
	licenseKey string        // "": the one the fake accepts
	since      time.Duration // the syncer's Since
}

func newEnv(t *testing.T, s setup) *env {
	t.Helper()
	if s.now.IsZero() {
		s.now = testNow
	}
	dir := t.TempDir()
	e := &env{t: t, fake: rakutentest.New(t), clock: newClock(s.now), path: filepath.Join(dir, "kpi.db"), logs: &logBuffer{}}
	e.fake.SetClock(e.clock.Now)
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := e.fake.Config()
	cfg.Now, cfg.Sleep, cfg.Log, cfg.HTTP, cfg.Retries = e.clock.Now, e.clock.Sleep, log, s.http, s.retries
	if s.licenseKey != "" {
		cfg.LicenseKey = s.licenseKey
	}
	client, err := rakuten.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), e.path, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Write(t.Context(), &kpi.Batch{Shops: []kpi.Shop{testShop}}); err != nil {
		t.Fatal(err)
	}
	e.store = &store{Store: st}
	e.syncer = &rakuten.Syncer{Client: client, Shop: testShop, Store: e.store, Now: e.clock.Now, Log: log, Since: s.since}
	t.Cleanup(func() { assertNoSecrets(t, "the logs", e.logs.String(), cfg.LicenseKey) })
	return e
}

// run pulls the shop once.
func (e *env) run(ctx context.Context) (rakuten.Progress, error) {
	ps, err := e.syncer.Run(ctx)
	if len(ps) != 1 || ps[0].Stream != "orders" {
		e.t.Fatalf("Run returned %+v, want the progress of the stream orders", ps)
	}
	return ps[0], err
}

// mustRun pulls the shop once, failing the test on an error.
func (e *env) mustRun() rakuten.Progress {
	e.t.Helper()
	p, err := e.run(e.t.Context())
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return p
}

// cursor returns the orders stream's saved cursor.
func (e *env) cursor() string {
	e.t.Helper()
	c, err := e.store.SyncCursor(e.t.Context(), testShop.ID, "orders")
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// db opens the SQLite file for reading behind the store's back.
func (e *env) db() *sql.DB {
	e.t.Helper()
	db, err := sql.Open("sqlite3", e.path) // the driver kpi/sqlite registers
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

// stored reads the shop's orders and shipments back from the SQLite file.
func (e *env) stored() (map[string]kpi.Order, map[string]kpi.Shipment) {
	e.t.Helper()
	db := e.db()
	at := func(v sql.NullInt64) time.Time {
		if !v.Valid {
			return time.Time{}
		}
		return time.Unix(v.Int64, 0).UTC()
	}
	orders := map[string]kpi.Order{}
	rows, err := db.QueryContext(e.t.Context(), `SELECT shop, id, customer_ref, placed, paid, ship_by, promised_by,
		status, total, units, channel, claim, chargeback FROM orders WHERE shop = ?`, testShop.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	for rows.Next() {
		var o kpi.Order
		var placed, paid, shipBy, promisedBy sql.NullInt64
		if err := rows.Scan(&o.Shop, &o.ID, &o.CustomerRef, &placed, &paid, &shipBy, &promisedBy, &o.Status, &o.Total,
			&o.Units, &o.Channel, &o.Claim, &o.Chargeback); err != nil {
			e.t.Fatal(err)
		}
		o.Placed, o.Paid, o.ShipBy, o.PromisedBy = at(placed), at(paid), at(shipBy), at(promisedBy)
		orders[o.ID] = o
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	rows.Close()
	shipments := map[string]kpi.Shipment{}
	rows, err = db.QueryContext(e.t.Context(), `SELECT shop, id, order_id, shipped, carrier, tracking, delivered, units
		FROM shipments WHERE shop = ?`, testShop.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s kpi.Shipment
		var shipped, delivered sql.NullInt64
		if err := rows.Scan(&s.Shop, &s.ID, &s.OrderID, &shipped, &s.Carrier, &s.Tracking, &delivered, &s.Units); err != nil {
			e.t.Fatal(err)
		}
		s.Shipped, s.Delivered = at(shipped), at(delivered)
		shipments[s.ID] = s
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return orders, shipments
}

// assertStored checks that the store holds exactly the orders and
// shipments wanted, and no other.
func (e *env) assertStored(wantOrders map[string]kpi.Order, wantShipments map[string]kpi.Shipment) {
	e.t.Helper()
	orders, shipments := e.stored()
	assertSame(e.t, "order", orders, wantOrders)
	assertSame(e.t, "shipment", shipments, wantShipments)
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

// assertNoSecrets checks that text holds neither the credentials the fake
// accepts, nor licenseKey (a wrong one a test used), nor the ESA
// Authorization made of them.
func assertNoSecrets(t *testing.T, where, text, licenseKey string) {
	t.Helper()
	secrets := []string{rakutentest.ServiceSecret, rakutentest.LicenseKey, licenseKey,
		base64.StdEncoding.EncodeToString([]byte(rakutentest.ServiceSecret + ":" + rakutentest.LicenseKey)),
		base64.StdEncoding.EncodeToString([]byte(rakutentest.ServiceSecret + ":" + licenseKey))}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s hold the secret %q:\n%s", where, s, text)
		}
	}
}

// buyerRef is the CustomerRef of an orderer's e-mail in the test shop.
func buyerRef(email string) string {
	sum := sha256.Sum256([]byte("rakuten:" + testShop.ID + ":" + email))
	return hex.EncodeToString(sum[:16])
}

// orderNumber is RMS's number of the shop's nth order placed at placed.
func orderNumber(placed time.Time, n int) string {
	return fmt.Sprintf("338411-%s-%010d", placed.In(jst).Format("20060102"), n)
}

// basketID is the sample order's destination id.
const basketID = "71234501"

// genOrders makes n orders from the sample, placed every step from start
// (to the second), each of one of 40 buyers, in four kinds in turn; it
// returns them with the orders and shipments the store should hold.
func genOrders(t *testing.T, n int, start time.Time, step time.Duration) ([]rakutentest.Order, map[string]kpi.Order, map[string]kpi.Shipment) {
	t.Helper()
	var list []rakutentest.Order
	orders, shipments := map[string]kpi.Order{}, map[string]kpi.Shipment{}
	for i := range n {
		placed := start.Add(time.Duration(i) * step).Truncate(time.Second).UTC()
		id := orderNumber(placed, i+1)
		email := fmt.Sprintf("buyer%02d-%032x@pc.fw.rakuten.ne.jp", i%40, i%40)
		o := rakutentest.NewOrder(id, placed)
		o.Set(email, "OrdererModel", "emailAddress")
		o.Set(1000+i, "totalPrice")
		want := kpi.Order{Shop: testShop.ID, ID: id, CustomerRef: buyerRef(email), Placed: placed, Total: int64(1000 + i),
			Units: 2, Channel: kpi.ByMerchant}
		ship := func(company, carrier string) {
			shipped := time.Date(placed.In(jst).Year(), placed.In(jst).Month(), placed.In(jst).Day()+1, 0, 0, 0, 0, jst)
			detail := 500000 + i
			o.Set(map[string]any{"shippingDetailId": detail, "shippingNumber": fmt.Sprintf("%012d", 400000000000+i),
				"deliveryCompany": company, "deliveryCompanyName": nil, "shippingDate": rakutentest.Date(shipped)},
				"PackageModelList", "0", "ShippingModelList", "0")
			sh := kpi.Shipment{Shop: testShop.ID, ID: fmt.Sprintf("%s/%s/%d", id, basketID, detail), OrderID: id,
				Shipped: shipped.UTC(), Carrier: carrier, Tracking: fmt.Sprintf("%012d", 400000000000+i), Units: 2}
			shipments[sh.ID] = sh
		}
		switch i % 4 {
		case 0: // awaiting shipment
			o.Set(300, "orderProgress")
			want.Status = kpi.StatusUnshipped
		case 1:
			o.Set(500, "orderProgress")
			ship("1001", "yamato")
			want.Status = kpi.StatusShipped
		case 2: // paid out
			o.Set(700, "orderProgress")
			ship("1002", "sagawa")
			want.Status = kpi.StatusShipped
		case 3: // cancelled by the customer
			o.Set(900, "orderProgress")
			o.Set(map[string]any{"changeId": 92000000 + i, "changeType": 1, "changeTypeDetail": nil, "changeReason": 1,
				"changeReasonDetail": 1, "changeApplyDatetime": nil, "changeFixDatetime": nil, "changeCmplDatetime": nil},
				"ChangeReasonModelList", "1")
			want.Status = kpi.StatusCancelled
		}
		list = append(list, o)
		orders[id] = want
	}
	return list, orders, shipments
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}
