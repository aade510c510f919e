package yahoo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/yahoo"
	"github.com/kpibot/kpibot/connectors/yahoo/yahootest"
	"github.com/kpibot/kpibot/internal/connectortest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

// testShop is the store the tests pull.
var testShop = kpi.Shop{ID: "yahoo-main", Platform: kpi.Yahoo, Marketplace: "shopping.yahoo.co.jp", Name: "Yahoo Shopping", Currency: "JPY"}

// testNow is when the tests run, unless they say otherwise.
var testNow = time.Date(2026, 8, 20, 3, 0, 0, 0, time.UTC)

var jst = time.FixedZone("JST", 9*60*60)

// hookStore is the SQLite store, calling afterSave after each cursor it
// saves: a test stops a pull there with the error afterSave returns.
type hookStore struct {
	*sqlite.Store
	mu        sync.Mutex
	saves     int
	afterSave func(n int) error // n: the saves so far
}

func (s *hookStore) SaveSyncCursor(ctx context.Context, shop, stream, cursor string) error {
	if err := s.Store.SaveSyncCursor(ctx, shop, stream, cursor); err != nil {
		return err
	}
	s.mu.Lock()
	s.saves++
	n, hook := s.saves, s.afterSave
	s.mu.Unlock()
	if hook != nil {
		return hook(n)
	}
	return nil
}

// env is a store pulled from the fake into a SQLite file in t.TempDir(),
// on a fake clock, logging at Debug into logs.
type env struct {
	t      *testing.T
	fake   *yahootest.Server
	clock  *connectortest.Clock
	path   string
	store  *hookStore
	logs   *connectortest.Log
	syncer *yahoo.Syncer
}

// setup changes an env's defaults.
type setup struct {
	fake   *yahootest.Server    // nil: a new fake
	clock  *connectortest.Clock // nil: a new clock at testNow
	dir    string               // "": a new t.TempDir()
	config func(*yahoo.Config)  // changes the client's config
}

func newEnv(t *testing.T, s setup) *env {
	t.Helper()
	e := &env{t: t, fake: s.fake, clock: s.clock, logs: &connectortest.Log{}}
	if e.clock == nil {
		e.clock = connectortest.NewClock(testNow)
	}
	if e.fake == nil {
		e.fake = yahootest.New(t)
		e.fake.Now = e.clock.Now
	}
	if s.dir == "" {
		s.dir = t.TempDir()
	}
	e.path = filepath.Join(s.dir, "kpi.db")
	log := e.logs.Logger()
	cfg := e.fake.Config()
	cfg.Now, cfg.Sleep, cfg.Log = e.clock.Now, e.clock.Sleep, log
	if s.config != nil {
		s.config(&cfg)
	}
	client, err := yahoo.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := connectortest.OpenStore(t, e.path, e.clock.Now, testShop)
	e.store = &hookStore{Store: store}
	e.syncer = &yahoo.Syncer{Client: client, Shop: testShop, Store: e.store, Now: e.clock.Now, Log: log}
	t.Cleanup(func() { assertNoSecrets(t, "the logs", e.logs.String(), e.fake) })
	return e
}

// run pulls the store once.
func (e *env) run(ctx context.Context) (yahoo.Progress, error) {
	ps, err := e.syncer.Run(ctx)
	if len(ps) != 1 || ps[0].Stream != "orders" {
		e.t.Fatalf("Run returned %+v, want the orders stream's progress", ps)
	}
	return ps[0], err
}

// mustRun pulls the store once, failing the test on an error.
func (e *env) mustRun() yahoo.Progress {
	e.t.Helper()
	p, err := e.run(e.t.Context())
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return p
}

// stored reads the store's orders and shipments back from the SQLite file.
func (e *env) stored() (map[string]kpi.Order, map[string]kpi.Shipment) {
	e.t.Helper()
	r := connectortest.Stored(e.t, e.path, testShop.ID)
	return r.Orders, r.Shipments
}

// assertStored checks that the store holds exactly the orders and
// shipments wanted.
func (e *env) assertStored(wantOrders map[string]kpi.Order, wantShipments map[string]kpi.Shipment) {
	e.t.Helper()
	orders, shipments := e.stored()
	connectortest.AssertSame(e.t, "order", orders, wantOrders)
	connectortest.AssertSame(e.t, "shipment", shipments, wantShipments)
}

// assertNoSecrets checks that text holds neither the access token nor a
// signature the fake was sent.
func assertNoSecrets(t *testing.T, where, text string, fake *yahootest.Server) {
	t.Helper()
	if strings.Contains(text, yahootest.Token) {
		t.Errorf("%s hold the access token", where)
	}
	for _, sig := range fake.Signatures() {
		if sig != "" && strings.Contains(text, sig) {
			t.Errorf("%s hold a signature", where)
			return
		}
	}
}

// buyerRef is the CustomerRef of a buyer's e-mail in the test store.
func buyerRef(email string) string {
	sum := sha256.Sum256([]byte("yahoo:" + testShop.ID + ":" + email))
	return hex.EncodeToString(sum[:16])
}

// day is the start of a day in Japan, in UTC.
func day(t time.Time) time.Time {
	y, m, d := t.In(jst).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, jst).UTC()
}

// buyer is the i-th buyer's personal data; recipient the person they ship
// to.
func buyer(i int) yahootest.Person {
	return yahootest.Person{FirstName: fmt.Sprintf("太郎%03d", i), LastName: "山田", FirstNameKana: "タロウ", LastNameKana: "ヤマダ",
		ZipCode: "100-0001", Prefecture: "東京都", City: "千代田区", Address1: fmt.Sprintf("千代田1-%d", i), Address2: "コーポ101",
		PhoneNumber: fmt.Sprintf("090-1234-%04d", i), MailAddress: fmt.Sprintf("buyer%03d@example.jp", i)}
}

func recipient(i int) yahootest.Person {
	return yahootest.Person{FirstName: fmt.Sprintf("花子%03d", i), LastName: "佐藤", FirstNameKana: "ハナコ", LastNameKana: "サトウ",
		ZipCode: "530-0001", Prefecture: "大阪府", City: "大阪市北区", Address1: fmt.Sprintf("梅田2-%d", i), Address2: "",
		PhoneNumber: fmt.Sprintf("080-9876-%04d", i)}
}

// genOrders makes n orders placed every 90 minutes from start and updated
// an hour later, through six kinds of order in turn; it returns them with
// the orders and shipments the store should hold.
func genOrders(n int, start time.Time) ([]yahootest.Order, map[string]kpi.Order, map[string]kpi.Shipment) {
	var list []yahootest.Order
	orders, shipments := map[string]kpi.Order{}, map[string]kpi.Shipment{}
	for i := range n {
		placed := start.Add(time.Duration(i) * 90 * time.Minute)
		o := yahootest.Order{
			OrderID:        fmt.Sprintf("%s-%08d", yahootest.SellerID, 10000000+i),
			OrderTime:      placed,
			LastUpdateTime: placed.Add(time.Hour),
			TotalPrice:     int64(1000 + 10*i),
			Items:          []yahootest.Item{{ItemID: "tee", Title: "T-shirt", UnitPrice: 500, Quantity: 1 + i%3}, {ItemID: "cap", Title: "Cap", UnitPrice: 300, Quantity: 1}},
			Bill:           buyer(i),
			Ship:           recipient(i),
		}
		want := kpi.Order{Shop: testShop.ID, ID: o.OrderID, CustomerRef: buyerRef(o.Bill.MailAddress), Placed: placed.UTC(),
			Total: o.TotalPrice, Units: int64(2 + i%3), Channel: kpi.ByMerchant}
		var sh *kpi.Shipment
		shipped := day(placed.Add(24 * time.Hour))
		switch i % 6 {
		case 0:
			o.OrderStatus, o.ShipStatus, want.Status = 1, 0, kpi.StatusPending
		case 1:
			o.OrderStatus, o.ShipStatus, want.Status = 2, 1, kpi.StatusUnshipped
		case 2:
			o.OrderStatus, o.ShipStatus, o.ShipDate, o.ShipCompanyCode, o.ShipInvoice = 5, 3, shipped, "1001", fmt.Sprintf("4444%08d", i)
			want.Status = kpi.StatusShipped
			sh = &kpi.Shipment{Carrier: "yamato", Tracking: o.ShipInvoice}
		case 3:
			o.OrderStatus, o.ShipStatus, o.ShipDate, o.ShipCompanyCode, o.ShipInvoice = 5, 4, shipped, "1002", fmt.Sprintf("5125%08d", i)
			o.ArrivalDate = day(placed.Add(72 * time.Hour))
			want.Status = kpi.StatusDelivered
			sh = &kpi.Shipment{Carrier: "sagawa", Tracking: o.ShipInvoice, Delivered: o.ArrivalDate}
		case 4:
			o.OrderStatus, o.ShipStatus, want.Status = 4, 0, kpi.StatusCancelled
		case 5:
			o.OrderStatus, o.ShipStatus, o.ShipDate, o.ShipCompanyCode, o.ShipInvoice = 2, 3, shipped, "1003", fmt.Sprintf("4055%08d", i)
			want.Status = kpi.StatusShipped
			sh = &kpi.Shipment{Carrier: "japanpost", Tracking: o.ShipInvoice}
		}
		list = append(list, o)
		orders[o.OrderID] = want
		if sh != nil {
			sh.Shop, sh.ID, sh.OrderID, sh.Shipped, sh.Units = testShop.ID, o.OrderID, o.OrderID, shipped, want.Units
			shipments[o.OrderID] = *sh
		}
	}
	return list, orders, shipments
}

func TestSyncMapsOrders(t *testing.T) {
	placed := time.Date(2026, 8, 10, 21, 30, 5, 0, jst) // the 10th in Japan, 12:30:05 UTC
	shipped, arrived := time.Date(2026, 8, 11, 0, 0, 0, 0, jst), time.Date(2026, 8, 13, 0, 0, 0, 0, jst)
	items := []yahootest.Item{{ItemID: "a", Title: "A", UnitPrice: 1200, Quantity: 2}, {ItemID: "b", Title: "B", UnitPrice: 800, Quantity: 3}}
	tests := []struct {
		name   string
		change func(*yahootest.Order)
		want   kpi.OrderStatus // "": not stored
		ship   *kpi.Shipment   // Shop, ID, OrderID and Units are filled in
	}{
		{name: "reserved", change: func(o *yahootest.Order) { o.OrderStatus, o.ShipStatus = 1, 0 }, want: kpi.StatusPending},
		{name: "processing", change: func(o *yahootest.Order) { o.OrderStatus, o.ShipStatus = 2, 1 }, want: kpi.StatusUnshipped},
		{name: "processing, being shipped", change: func(o *yahootest.Order) { o.OrderStatus, o.ShipStatus = 2, 2 }, want: kpi.StatusUnshipped},
		{name: "on hold", change: func(o *yahootest.Order) { o.OrderStatus, o.ShipStatus = 3, 0 }, want: kpi.StatusUnshipped},
		{name: "cancelled", change: func(o *yahootest.Order) { o.OrderStatus, o.ShipStatus = 4, 0 }, want: kpi.StatusCancelled},
		{name: "complete, shipped by Yamato",
			change: func(o *yahootest.Order) {
				o.OrderStatus, o.ShipStatus, o.ShipDate, o.ShipCompanyCode = 5, 3, shipped, "1001"
			},
			want: kpi.StatusShipped, ship: &kpi.Shipment{Shipped: shipped.UTC(), Carrier: "yamato", Tracking: "444412345678"}},
		{name: "complete, delivered by Sagawa",
			change: func(o *yahootest.Order) {
				o.OrderStatus, o.ShipStatus, o.ShipDate, o.ArrivalDate, o.ShipCompanyCode = 5, 4, shipped, arrived, "1002"
			},
			want: kpi.StatusDelivered, ship: &kpi.Shipment{Shipped: shipped.UTC(), Delivered: arrived.UTC(), Carrier: "sagawa", Tracking: "444412345678"}},
		{name: "processing, shipped by Japan Post",
			change: func(o *yahootest.Order) {
				o.OrderStatus, o.ShipStatus, o.ShipDate, o.ShipCompanyCode = 2, 3, shipped, "1003"
			},
			want: kpi.StatusShipped, ship: &kpi.Shipment{Shipped: shipped.UTC(), Carrier: "japanpost", Tracking: "444412345678"}},
		{name: "on hold, delivered by another carrier",
			change: func(o *yahootest.Order) {
				o.OrderStatus, o.ShipStatus, o.ShipDate, o.ArrivalDate, o.ShipCompanyCode = 3, 4, shipped, arrived, "1004"
			},
			want: kpi.StatusDelivered, ship: &kpi.Shipment{Shipped: shipped.UTC(), Delivered: arrived.UTC(), Carrier: "yahoo:1004", Tracking: "444412345678"}},
		{name: "complete, shipped by an unnamed carrier without tracking",
			change: func(o *yahootest.Order) {
				o.OrderStatus, o.ShipStatus, o.ShipDate, o.ShipCompanyCode, o.ShipInvoice = 5, 3, shipped, "1000", ""
			},
			want: kpi.StatusShipped, ship: &kpi.Shipment{Shipped: shipped.UTC(), Carrier: "yahoo:1000"}},
		{name: "complete, shipped without a ship date",
			change: func(o *yahootest.Order) { o.OrderStatus, o.ShipStatus, o.ShipCompanyCode = 5, 3, "1001" }, want: kpi.StatusShipped},
		{name: "complete, not marked shipped", change: func(o *yahootest.Order) { o.OrderStatus, o.ShipStatus = 5, 2 }, want: kpi.StatusShipped},
		{name: "an unknown status", change: func(o *yahootest.Order) { o.OrderStatus, o.ShipStatus = 9, 3 }},
	}

	e := newEnv(t, setup{})
	var list []yahootest.Order
	wantOrders, wantShipments := map[string]kpi.Order{}, map[string]kpi.Shipment{}
	for i, tt := range tests {
		o := yahootest.Order{OrderID: fmt.Sprintf("%s-%d", yahootest.SellerID, 20000000+i), OrderTime: placed.Add(time.Duration(i) * time.Minute),
			LastUpdateTime: placed.Add(time.Hour), TotalPrice: 4800, Items: items, ShipInvoice: "444412345678", Bill: buyer(i), Ship: recipient(i)}
		tt.change(&o)
		list = append(list, o)
		if tt.want == "" {
			continue
		}
		wantOrders[o.OrderID] = kpi.Order{Shop: testShop.ID, ID: o.OrderID, CustomerRef: buyerRef(o.Bill.MailAddress),
			Placed: o.OrderTime.UTC(), Status: tt.want, Total: 4800, Units: 5, Channel: kpi.ByMerchant}
		if tt.ship != nil {
			sh := *tt.ship
			sh.Shop, sh.ID, sh.OrderID, sh.Units = testShop.ID, o.OrderID, o.OrderID, 5
			wantShipments[o.OrderID] = sh
		}
	}
	// The same buyer with the e-mail in capitals has the same reference;
	// a buyer without an e-mail has none.
	same := list[0]
	same.OrderID, same.Bill.MailAddress = yahootest.SellerID+"-30000000", "  BUYER000@Example.JP "
	none := list[0]
	none.OrderID, none.Bill.MailAddress = yahootest.SellerID+"-30000001", ""
	list = append(list, same, none)
	for _, o := range []yahootest.Order{same, none} {
		w := wantOrders[list[0].OrderID]
		w.ID, w.Placed = o.OrderID, o.OrderTime.UTC()
		if o.Bill.MailAddress == "" {
			w.CustomerRef = ""
		}
		wantOrders[o.OrderID] = w
	}
	e.fake.Set(list...)

	p := e.mustRun()
	e.assertStored(wantOrders, wantShipments)
	if p.Read != len(list) || p.Pages != 1 || p.Stats.Inserted != len(wantOrders)+len(wantShipments) {
		t.Errorf("progress %+v, want %d read on 1 page, %d inserted", p, len(list), len(wantOrders)+len(wantShipments))
	}
	if !strings.Contains(e.logs.String(), "order skipped: unknown status") {
		t.Error("the order of an unknown status was skipped without a warning")
	}
}

func TestSyncPagesAndRuns(t *testing.T) {
	e := newEnv(t, setup{})
	list, wantOrders, wantShipments := genOrders(350, testNow.Add(-29*24*time.Hour))
	// Placed before the first pull's 30 days: not pulled.
	old := list[0]
	old.OrderID, old.OrderTime, old.LastUpdateTime = yahootest.SellerID+"-00000001", testNow.Add(-31*24*time.Hour), testNow.Add(-31*24*time.Hour)
	e.fake.Set(append(list, old)...)

	p := e.mustRun()
	e.assertStored(wantOrders, wantShipments)
	want := yahoo.Progress{Stream: "orders", Pages: 4, Read: 350, Stats: kpi.WriteStats{Inserted: len(wantOrders) + len(wantShipments)}}
	if p != want {
		t.Errorf("first run: %+v, want %+v", p, want)
	}
	if got := e.fake.Calls("orderInfo"); got != 350 {
		t.Errorf("first run: %d orderInfo calls, want 350", got)
	}
	bodies := e.fake.Bodies("orderList")
	if len(bodies) != 4 {
		t.Fatalf("first run: %d orderList calls, want 4", len(bodies))
	}
	from := testNow.Add(-30 * 24 * time.Hour).In(jst).Format("20060102150405")
	for i, b := range bodies {
		for _, s := range []string{fmt.Sprintf("<Start>%d</Start>", 1+100*i), "<Result>100</Result>", "<Sort>+order_time</Sort>",
			"<OrderTimeFrom>" + from + "</OrderTimeFrom>", "<OrderTimeTo>" + testNow.In(jst).Format("20060102150405") + "</OrderTimeTo>",
			"<SellerId>" + yahootest.SellerID + "</SellerId>"} {
			if !strings.Contains(b, s) {
				t.Errorf("orderList call %d has no %s:\n%s", i+1, s, b)
			}
		}
	}

	// A second run an hour later re-reads the last 14 days and finds
	// nothing changed: no orderInfo call, nothing written.
	reread := testNow.Add(-14 * 24 * time.Hour)
	recent := 0
	for _, o := range list {
		if !o.OrderTime.Before(reread) {
			recent++
		}
	}
	e.clock.Advance(time.Hour)
	p = e.mustRun()
	e.assertStored(wantOrders, wantShipments)
	if p.Stats != (kpi.WriteStats{}) || p.Read != recent || recent == 0 {
		t.Errorf("second run: %+v, want the %d orders of the last 14 days read and nothing written", p, recent)
	}
	if got := e.fake.Calls("orderInfo"); got != 350 {
		t.Errorf("second run: %d orderInfo calls in all, want none more than the first run's 350", got)
	}
	bodies = e.fake.Bodies("orderList")
	from = reread.In(jst).Format("20060102150405")
	if last := bodies[len(bodies)-1]; !strings.Contains(last, "<OrderTimeFrom>"+from+"</OrderTimeFrom>") {
		t.Errorf("second run's window does not start 14 days before the first run's end (%s):\n%s", from, last)
	}
}

func TestSyncSeesLaterChanges(t *testing.T) {
	e := newEnv(t, setup{})
	list, wantOrders, wantShipments := genOrders(60, testNow.Add(-6*24*time.Hour))
	e.fake.Set(list...)
	e.mustRun()
	e.assertStored(wantOrders, wantShipments)

	// After the first run: an order ships, another is cancelled, one
	// placed three days ago is released from a hold (orderList shows it
	// only now), and one placed long ago changes (not seen: beyond the 14
	// days read again).
	e.clock.Advance(30 * time.Minute)
	now := e.clock.Now()
	shipped := day(now)
	list[1].OrderStatus, list[1].ShipStatus, list[1].ShipDate, list[1].ShipCompanyCode, list[1].ShipInvoice = 5, 3, shipped, "1001", "444400000001"
	list[1].LastUpdateTime = now
	list[6].OrderStatus, list[6].LastUpdateTime = 4, now
	held := list[0]
	held.OrderID, held.OrderTime, held.PublicationTime, held.LastUpdateTime = yahootest.SellerID+"-40000000", testNow.Add(-3*24*time.Hour),
		now, now
	e.fake.Set(append(list, held)...)

	w := wantOrders[list[1].OrderID]
	w.Status = kpi.StatusShipped
	wantOrders[list[1].OrderID] = w
	wantShipments[list[1].OrderID] = kpi.Shipment{Shop: testShop.ID, ID: list[1].OrderID, OrderID: list[1].OrderID, Shipped: shipped,
		Carrier: "yamato", Tracking: "444400000001", Units: w.Units}
	w = wantOrders[list[6].OrderID]
	w.Status = kpi.StatusCancelled
	wantOrders[list[6].OrderID] = w
	w = wantOrders[list[0].OrderID]
	w.ID, w.Placed = held.OrderID, held.OrderTime.UTC()
	wantOrders[held.OrderID] = w

	before := e.fake.Calls("orderInfo")
	e.clock.Advance(time.Hour)
	p := e.mustRun()
	e.assertStored(wantOrders, wantShipments)
	if got := e.fake.Calls("orderInfo") - before; got != 3 {
		t.Errorf("%d orderInfo calls, want 3: the two orders changed and the one released", got)
	}
	if want := (kpi.WriteStats{Inserted: 2, Updated: 2, Unchanged: 0}); p.Stats != want {
		t.Errorf("stats %+v, want %+v: the shipment and the released order inserted, two orders updated", p.Stats, want)
	}
}

func TestSyncRetries(t *testing.T) {
	e := newEnv(t, setup{})
	list, wantOrders, wantShipments := genOrders(150, testNow.Add(-20*24*time.Hour))
	e.fake.Set(list...)
	e.fake.Fail("orderList", yahootest.Fault{Status: 429}, yahootest.Fault{Status: 500})
	e.fake.Fail("orderInfo", yahootest.Fault{Status: 503}, yahootest.Fault{Status: 429}, yahootest.Fault{Status: 502})

	p := e.mustRun()
	e.assertStored(wantOrders, wantShipments)
	if p.Read != 150 || p.Stats.Inserted != len(wantOrders)+len(wantShipments) {
		t.Errorf("progress %+v, want 150 read, every record inserted once", p)
	}
	if got, want := e.fake.Calls("orderList"), 2+2; got != want {
		t.Errorf("%d orderList calls, want %d: two pages and two faults", got, want)
	}
	if got, want := e.fake.Calls("orderInfo"), 150+3; got != want {
		t.Errorf("%d orderInfo calls, want %d: one an order and three faults", got, want)
	}
	if got := strings.Count(e.logs.String(), "yahoo: retrying"); got != 5 {
		t.Errorf("%d retries logged, want 5", got)
	}
}

func TestSyncGivesUpRetrying(t *testing.T) {
	e := newEnv(t, setup{config: func(c *yahoo.Config) { c.Retries = 2 }})
	e.fake.Set(genOrdersList(5)...)
	e.fake.Fail("orderList", yahootest.Fault{Status: 500}, yahootest.Fault{Status: 500}, yahootest.Fault{Status: 500})
	_, err := e.run(t.Context())
	var ae *yahoo.APIError
	if !errors.As(err, &ae) || ae.Status != 500 {
		t.Fatalf("error %v, want Yahoo's 500", err)
	}
	if got := e.fake.Calls("orderList"); got != 3 {
		t.Errorf("%d orderList calls, want 3: the call and two retries", got)
	}
}

// genOrdersList is n orders of genOrders, the first placed ten days ago.
func genOrdersList(n int) []yahootest.Order {
	list, _, _ := genOrders(n, testNow.Add(-10*24*time.Hour))
	return list
}

func TestSyncResumes(t *testing.T) {
	crash := errors.New("the process stopped")
	tests := []struct {
		name    string
		stop    func(cancel context.CancelFunc) func(n int) error // after which save, and how
		written int                                               // orders stored when the first run stops
	}{
		{name: "the store fails after the second page", written: 200,
			stop: func(context.CancelFunc) func(int) error {
				return func(n int) error {
					if n == 2 {
						return crash
					}
					return nil
				}
			}},
		{name: "the pull is cancelled after the third page", written: 300,
			stop: func(cancel context.CancelFunc) func(int) error {
				return func(n int) error {
					if n == 3 {
						cancel()
					}
					return nil
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e := newEnv(t, setup{dir: dir})
			list, wantOrders, wantShipments := genOrders(350, testNow.Add(-29*24*time.Hour))
			e.fake.Set(list...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			e.store.afterSave = tt.stop(cancel)
			if _, err := e.run(ctx); err == nil {
				t.Fatal("the first run did not fail")
			}
			if orders, _ := e.stored(); len(orders) != tt.written {
				t.Fatalf("%d orders stored when the first run stopped, want %d", len(orders), tt.written)
			}

			// A new process: a new client and syncer on the same file.
			e.clock.Advance(10 * time.Minute)
			r := newEnv(t, setup{fake: e.fake, clock: e.clock, dir: dir})
			r.mustRun()
			r.assertStored(wantOrders, wantShipments)
			if got := e.fake.Calls("orderInfo"); got != 350 {
				t.Errorf("%d orderInfo calls in all, want 350: each order read once", got)
			}
		})
	}
}

func TestSyncKeepsToTheRate(t *testing.T) {
	e := newEnv(t, setup{})
	e.fake.Set(genOrdersList(30)...)
	start := e.clock.Now()
	e.mustRun()
	calls := e.fake.Calls("orderList") + e.fake.Calls("orderInfo")
	if calls != 31 {
		t.Fatalf("%d calls, want 31", calls)
	}
	// One call a second: the first at once, each other a second after the
	// one before (the clock moves only when the client waits).
	if got, want := e.clock.Now().Sub(start), time.Duration(calls-1)*time.Second; got != want {
		t.Errorf("the calls took %v of the clock, want %v", got, want)
	}
}

func TestSyncStopsAtTheDailyLimit(t *testing.T) {
	e := newEnv(t, setup{config: func(c *yahoo.Config) { c.DailyLimit = 150 }})
	list, wantOrders, wantShipments := genOrders(250, testNow.Add(-25*24*time.Hour))
	e.fake.Set(list...)
	_, err := e.run(t.Context())
	if !errors.Is(err, yahoo.ErrDailyLimit) {
		t.Fatalf("error %v, want ErrDailyLimit", err)
	}
	if got := e.fake.Calls("orderList") + e.fake.Calls("orderInfo"); got != 150 {
		t.Fatalf("%d calls the first day, want 150", got)
	}
	// The next days go on where the pull stopped (the page it stopped in
	// is read again), never past the day's calls.
	for range 3 {
		calls := e.fake.Calls("orderList") + e.fake.Calls("orderInfo")
		y, m, d := e.clock.Now().In(jst).Date()
		e.clock.Advance(time.Date(y, m, d+1, 0, 0, 1, 0, jst).Sub(e.clock.Now()))
		_, err = e.run(t.Context())
		if got := e.fake.Calls("orderList") + e.fake.Calls("orderInfo") - calls; got > 150 {
			t.Errorf("%d calls in a day, want at most 150", got)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, yahoo.ErrDailyLimit) {
			t.Fatalf("error %v, want ErrDailyLimit", err)
		}
	}
	if err != nil {
		t.Fatalf("not done after three more days: %v", err)
	}
	e.assertStored(wantOrders, wantShipments)
}

func TestSyncRefusals(t *testing.T) {
	wrongKey := yahootest.PublicKeyPEM(t, yahootest.NewKey(t))
	tests := []struct {
		name    string
		config  func(c *yahoo.Config, cl *connectortest.Clock)
		prepare func(fake *yahootest.Server)
		check   func(t *testing.T, ae *yahoo.APIError)
		says    string
		calls   int // orderList calls: a refusal is not tried again
	}{
		{name: "expired token",
			prepare: func(fake *yahootest.Server) { fake.Expire() },
			check: func(t *testing.T, ae *yahoo.APIError) {
				if !ae.Unauthorized() || ae.Status != http.StatusUnauthorized || ae.Code != yahoo.CodeTokenExpired {
					t.Errorf("error %+v, want an expired token", ae)
				}
			},
			says: "authorize the store again", calls: 1},
		{name: "wrong token",
			config: func(c *yahoo.Config, _ *connectortest.Clock) { c.AccessToken = "another-token" },
			check: func(t *testing.T, ae *yahoo.APIError) {
				if !ae.Unauthorized() {
					t.Errorf("error %+v, want a refused token", ae)
				}
			},
			says: "access token was refused", calls: 1},
		{name: "wrong public key",
			config: func(c *yahoo.Config, _ *connectortest.Clock) { c.PublicKey = wrongKey },
			check: func(t *testing.T, ae *yahoo.APIError) {
				if !ae.SignatureRefused() || ae.Unauthorized() || ae.Code != yahoo.CodeNotPermitted {
					t.Errorf("error %+v, want the signature refused", ae)
				}
			},
			says: "public key", calls: 1},
		{name: "wrong key version",
			config: func(c *yahoo.Config, _ *connectortest.Clock) { c.KeyVersion = "2" },
			check: func(t *testing.T, ae *yahoo.APIError) {
				if !ae.SignatureRefused() {
					t.Errorf("error %+v, want the signature refused", ae)
				}
			},
			says: "its version", calls: 1},
		{name: "stale signature",
			config: func(c *yahoo.Config, cl *connectortest.Clock) {
				c.Now = func() time.Time { return cl.Now().Add(-time.Hour) }
			},
			check: func(t *testing.T, ae *yahoo.APIError) {
				if !ae.SignatureRefused() {
					t.Errorf("error %+v, want the signature refused", ae)
				}
			},
			says: "the clock", calls: 1},
		{name: "Yahoo answers NG",
			prepare: func(fake *yahootest.Server) {
				fake.Fail("orderList", yahootest.Fault{Status: http.StatusOK, Code: "od00001", Message: "the search failed"})
			},
			check: func(t *testing.T, ae *yahoo.APIError) {
				if ae.Status != http.StatusOK || ae.Code != "od00001" || ae.Message != "the search failed" || ae.Temporary() {
					t.Errorf("error %+v, want Yahoo's NG with its code", ae)
				}
			},
			says: "od00001", calls: 1},
		{name: "bad request",
			prepare: func(fake *yahootest.Server) {
				fake.Fail("orderList", yahootest.Fault{Status: http.StatusBadRequest, Code: "od00002"})
			},
			check: func(t *testing.T, ae *yahoo.APIError) {
				if ae.Status != http.StatusBadRequest || ae.Code != "od00002" {
					t.Errorf("error %+v, want Yahoo's 400", ae)
				}
			},
			says: "HTTP 400 od00002", calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := connectortest.NewClock(testNow)
			e := newEnv(t, setup{clock: cl, config: func(c *yahoo.Config) {
				if tt.config != nil {
					tt.config(c, cl)
				}
			}})
			e.fake.Set(genOrdersList(5)...)
			if tt.prepare != nil {
				tt.prepare(e.fake)
			}
			_, err := e.run(t.Context())
			var ae *yahoo.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v, want an *APIError", err)
			}
			tt.check(t, ae)
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			if got := e.fake.Calls("orderList"); got != tt.calls {
				t.Errorf("%d orderList calls, want %d", got, tt.calls)
			}
			if strings.Contains(e.logs.String(), "yahoo: retrying") {
				t.Error("the refusal was tried again")
			}
			if orders, _ := e.stored(); len(orders) != 0 {
				t.Errorf("%d orders stored", len(orders))
			}
			assertNoSecrets(t, "the error", err.Error(), e.fake)
		})
	}
}

func TestSyncStopsWhenTheTokenExpiresMidway(t *testing.T) {
	e := newEnv(t, setup{})
	e.fake.Set(genOrdersList(150)...)
	e.store.afterSave = func(n int) error {
		if n == 1 {
			e.fake.Expire()
		}
		return nil
	}
	_, err := e.run(t.Context())
	var ae *yahoo.APIError
	if !errors.As(err, &ae) || !ae.Unauthorized() {
		t.Fatalf("error %v, want the token refused", err)
	}
	if got := e.fake.Calls("orderInfo") + e.fake.Calls("orderList"); got != 101+1 {
		t.Errorf("%d calls, want 102: the first page's, then one refused", got)
	}
	if orders, _ := e.stored(); len(orders) != 100 {
		t.Errorf("%d orders stored, want the first page's 100", len(orders))
	}
}

func TestSyncKeepsNoPII(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, setup{dir: dir})
	e.fake.AllFields = true // names, addresses, phones and e-mails in every answer
	list, wantOrders, _ := genOrders(12, testNow.Add(-5*24*time.Hour))
	e.fake.Set(list...)
	e.mustRun()
	if orders, _ := e.stored(); len(orders) != len(wantOrders) {
		t.Fatalf("%d orders stored, want %d", len(orders), len(wantOrders))
	}
	// The answers did carry the personal data.
	var pii []string
	for i := range list {
		b, r := list[i].Bill, list[i].Ship
		pii = append(pii, b.FirstName, b.FirstNameKana, b.Address1, b.PhoneNumber, b.MailAddress, r.FirstName, r.Address1, r.PhoneNumber)
	}
	pii = append(pii, "山田", "佐藤", "千代田区", "大阪市北区", "100-0001", "コーポ101")
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}

	data := connectortest.Files(t, dir) // the database, and its WAL if one is left
	if !bytes.Contains(data, []byte(list[0].OrderID)) {
		t.Fatal("the files do not hold the orders: the scan would prove nothing")
	}
	logs := e.logs.String()
	for _, s := range pii {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the database holds %q", s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %q", s)
		}
	}
}

func TestSyncKeepsSecrets(t *testing.T) {
	// A pull through every kind of trouble, logging at Debug: retried
	// faults and a timeout.
	e := newEnv(t, setup{config: func(c *yahoo.Config) { c.HTTP = &http.Client{Timeout: 200 * time.Millisecond} }})
	e.fake.Set(genOrdersList(120)...)
	e.fake.Fail("orderList", yahootest.Fault{Status: 429}, yahootest.Fault{Delay: time.Second})
	e.fake.Fail("orderInfo", yahootest.Fault{Status: 500}, yahootest.Fault{Status: 503})
	e.mustRun()

	// Pulls that fail: a refused token, a refused signature, timeouts.
	var errs []string
	e.fake.Expire()
	e.clock.Advance(time.Hour)
	if _, err := e.run(t.Context()); err == nil {
		t.Error("a pull with a refused token succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	bad := newEnv(t, setup{config: func(c *yahoo.Config) { c.PublicKey = yahootest.PublicKeyPEM(t, yahootest.NewKey(t)) }})
	if _, err := bad.run(t.Context()); err == nil {
		t.Error("a pull with a wrong public key succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	slow := newEnv(t, setup{config: func(c *yahoo.Config) {
		c.HTTP, c.Retries = &http.Client{Timeout: 100 * time.Millisecond}, 1
	}})
	slow.fake.Fail("orderList", yahootest.Fault{Delay: 300 * time.Millisecond}, yahootest.Fault{Delay: 300 * time.Millisecond})
	if _, err := slow.run(t.Context()); err == nil {
		t.Error("a pull timing out succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	for _, s := range errs {
		for _, fake := range []*yahootest.Server{e.fake, bad.fake, slow.fake} {
			assertNoSecrets(t, "the error", s, fake)
		}
	}
	if !strings.Contains(e.logs.String(), "yahoo: retrying") || !strings.Contains(slow.logs.String(), "yahoo: retrying") {
		t.Error("no retry logged: the logs were not put to the test")
	}
	// The logs of each are checked for secrets when the test ends.
}

func TestNewClient(t *testing.T) {
	fake := yahootest.New(t)
	ecKey := "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n"
	valid := fake.Config()
	bare := strings.Join(strings.Split(strings.TrimSpace(valid.PublicKey), "\n")[1:strings.Count(valid.PublicKey, "\n")-1], "")
	tests := []struct {
		name   string
		change func(*yahoo.Config)
		bad    string // "": valid
	}{
		{name: "valid"},
		{name: "key on one line", change: func(c *yahoo.Config) { c.PublicKey = strings.ReplaceAll(c.PublicKey, "\n", `\n`) }},
		{name: "key without its PEM lines", change: func(c *yahoo.Config) { c.PublicKey = bare }},
		{name: "default endpoint", change: func(c *yahoo.Config) { c.Endpoint = "" }},
		{name: "no seller", change: func(c *yahoo.Config) { c.SellerID = "" }, bad: "seller id"},
		{name: "no token", change: func(c *yahoo.Config) { c.AccessToken = "" }, bad: "access token"},
		{name: "no key", change: func(c *yahoo.Config) { c.PublicKey = "" }, bad: "public key"},
		{name: "no key version", change: func(c *yahoo.Config) { c.KeyVersion = "" }, bad: "version"},
		{name: "not a key", change: func(c *yahoo.Config) { c.PublicKey = "not a key!" }, bad: "neither PEM nor base64"},
		{name: "not an RSA key", change: func(c *yahoo.Config) { c.PublicKey = ecKey }, bad: "not an RSA key"},
		{name: "bad endpoint", change: func(c *yahoo.Config) { c.Endpoint = "circus.shopping.yahooapis.jp" }, bad: "not a base URL"},
		{name: "negative rate", change: func(c *yahoo.Config) { c.Rate = -1 }, bad: "negative"},
		{name: "daily limit below a page", change: func(c *yahoo.Config) { c.DailyLimit = 100 }, bad: "less than a page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.Config()
			if tt.change != nil {
				tt.change(&c)
			}
			_, err := yahoo.NewClient(c)
			switch {
			case tt.bad == "" && err != nil:
				t.Errorf("NewClient: %v", err)
			case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
				t.Errorf("NewClient error %v, want one saying %q", err, tt.bad)
			case err != nil && strings.Contains(err.Error(), yahootest.Token):
				t.Error("the error holds the access token")
			}
		})
	}
}

func TestSyncNeedsItsParts(t *testing.T) {
	e := newEnv(t, setup{})
	for _, s := range []yahoo.Syncer{
		{Store: e.store, Shop: testShop},
		{Client: e.syncer.Client, Shop: testShop},
		{Client: e.syncer.Client, Store: e.store},
	} {
		if _, err := s.Run(t.Context()); err == nil {
			t.Errorf("Run of %+v succeeded", s)
		}
	}
}
