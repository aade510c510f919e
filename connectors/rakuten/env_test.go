package rakuten_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
	"github.com/kpibot/kpibot/internal/connectortest"
	"github.com/kpibot/kpibot/kpi"
)

// testShop is the shop the tests pull.
var testShop = kpi.Shop{ID: "rkt-main", Platform: kpi.Rakuten, Name: "Rakuten Ichiba", Currency: "JPY"}

// testNow is when the tests run, unless they say otherwise: noon in Tokyo.
var testNow = time.Date(2026, 3, 20, 3, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

var jst = time.FixedZone("JST", 9*60*60)

// env is a shop whose orders are pulled from a fake RMS into a SQLite
// file in t.TempDir(), on a fake clock, logging at Debug into logs.
type env struct {
	t      *testing.T
	fake   *rakutentest.Server
	clock  *connectortest.Clock
	path   string
	store  *connectortest.Store
	logs   *connectortest.Log
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
	e := &env{t: t, fake: rakutentest.New(t), clock: connectortest.NewClock(s.now), path: filepath.Join(dir, "kpi.db"), logs: &connectortest.Log{}}
	e.fake.SetClock(e.clock.Now)
	log := e.logs.Logger()
	cfg := e.fake.Config()
	cfg.Now, cfg.Sleep, cfg.Log, cfg.HTTP, cfg.Retries = e.clock.Now, e.clock.Sleep, log, s.http, s.retries
	if s.licenseKey != "" {
		cfg.LicenseKey = s.licenseKey
	}
	client, err := rakuten.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := connectortest.OpenStore(t, e.path, e.clock.Now, testShop)
	e.store = &connectortest.Store{Store: st}
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

// stored reads the shop's orders and shipments back from the SQLite file.
func (e *env) stored() (map[string]kpi.Order, map[string]kpi.Shipment) {
	e.t.Helper()
	r := connectortest.Stored(e.t, e.path, testShop.ID)
	return r.Orders, r.Shipments
}

// assertStored checks that the store holds exactly the orders and
// shipments wanted, and no other.
func (e *env) assertStored(wantOrders map[string]kpi.Order, wantShipments map[string]kpi.Shipment) {
	e.t.Helper()
	orders, shipments := e.stored()
	connectortest.AssertSame(e.t, "order", orders, wantOrders)
	connectortest.AssertSame(e.t, "shipment", shipments, wantShipments)
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
