package amazon_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"github.com/kpibot/kpibot/connectors/amazon"
	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
	"github.com/kpibot/kpibot/internal/connectortest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

// reportNow is when the report tests start: 12:00 in Tokyo.
var reportNow = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

var reportShop = kpi.Shop{ID: "amz-reports", Platform: kpi.Amazon, Marketplace: amazon.MarketplaceJP, Name: "Amazon JP", Currency: "JPY"}

// reportEnv is a shop synced from the fake into a SQLite file.
type reportEnv struct {
	clock   *connectortest.Clock
	fake    *amazontest.Server
	reports *amazontest.Reports
	store   *sqlite.Store
	db      *sql.DB // the same file, read directly
	logs    *connectortest.Log
	sync    *amazon.Syncer
}

func newReportEnv(t *testing.T) *reportEnv {
	t.Helper()
	e := &reportEnv{clock: connectortest.NewClock(reportNow), fake: amazontest.New(t), logs: &connectortest.Log{}}
	e.reports = e.fake.ServeReports(e.clock.Now)
	log := e.logs.JSONLogger()
	cfg := e.fake.Config()
	cfg.Now, cfg.Sleep, cfg.Log = e.clock.Now, e.clock.Sleep, log
	client, err := amazon.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kpi.db")
	e.store = connectortest.OpenStore(t, path, e.clock.Now, reportShop)
	e.db = connectortest.OpenDB(t, path) // the same file, read directly
	e.sync = &amazon.Syncer{Client: client, Shop: reportShop, Store: e.store, Now: e.clock.Now, Log: log}
	return e
}

// stored reads every return, shipment, inventory snapshot and review of
// the shop back from the file, in key order.
func (e *reportEnv) stored(t *testing.T) kpi.Batch {
	t.Helper()
	var b kpi.Batch
	at := func(sec sql.NullInt64) time.Time {
		if !sec.Valid {
			return time.Time{}
		}
		return time.Unix(sec.Int64, 0).UTC()
	}
	query := func(q string, scan func(*sql.Rows) error) {
		rows, err := e.db.QueryContext(t.Context(), q, reportShop.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	query("SELECT shop, id, order_id, returned, units, reason FROM returns WHERE shop = ? ORDER BY id", func(r *sql.Rows) error {
		var x kpi.Return
		var returned sql.NullInt64
		err := r.Scan(&x.Shop, &x.ID, &x.OrderID, &returned, &x.Units, &x.Reason)
		x.Returned = at(returned)
		b.Returns = append(b.Returns, x)
		return err
	})
	query("SELECT shop, id, order_id, shipped, carrier, tracking, delivered, units FROM shipments WHERE shop = ? ORDER BY id", func(r *sql.Rows) error {
		var x kpi.Shipment
		var shipped, delivered sql.NullInt64
		err := r.Scan(&x.Shop, &x.ID, &x.OrderID, &shipped, &x.Carrier, &x.Tracking, &delivered, &x.Units)
		x.Shipped, x.Delivered = at(shipped), at(delivered)
		b.Shipments = append(b.Shipments, x)
		return err
	})
	query("SELECT shop, sku, taken, on_hand, inbound, reserved FROM inventory WHERE shop = ? ORDER BY sku, taken", func(r *sql.Rows) error {
		var x kpi.InventorySnapshot
		var taken sql.NullInt64
		err := r.Scan(&x.Shop, &x.SKU, &taken, &x.OnHand, &x.Inbound, &x.Reserved)
		x.Taken = at(taken)
		b.Inventory = append(b.Inventory, x)
		return err
	})
	query("SELECT shop, id, order_id, posted, rating, text, replied_at FROM reviews WHERE shop = ? ORDER BY id", func(r *sql.Rows) error {
		var x kpi.Review
		var posted, replied sql.NullInt64
		err := r.Scan(&x.Shop, &x.ID, &x.OrderID, &posted, &x.Rating, &x.Text, &replied)
		x.Posted, x.RepliedAt = at(posted), at(replied)
		b.Reviews = append(b.Reviews, x)
		return err
	})
	return b
}

func (e *reportEnv) cursor(t *testing.T, name string) string {
	t.Helper()
	c, err := e.store.SyncCursor(t.Context(), reportShop.ID, "report:"+name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tokyo is a wall time in Tokyo, in UTC as the store gives it back.
func tokyo(m time.Month, d, h, min int) time.Time {
	return time.Date(2026, m, d, h, min, 0, 0, kpi.Tokyo).UTC()
}

// reportFixture is a report's test file, testdata/reports/<name>.tsv with
// English headers in UTF-8, and what it must store.
type reportFixture struct {
	name, typ string
	// ja is the file's header line as Seller Central JP would write it.
	ja []string
	// badLine is the line of the one row the file has wrong, and badReason
	// what its error says, with the column's English header; with the
	// Japanese one, badColumnJA replaces it.
	badLine       int
	badReason     string
	badColumn     string // "" for a wrong column count
	badColumnJA   string
	rows, records int // rows read (the bad one included) and records stored
	skipped       int
	want          func(made time.Time) kpi.Batch
	snapshot      bool
}

var reportFixtures = []reportFixture{{
	name: "returns",
	typ:  "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
	ja: []string{"返品日", "注文番号", "出品者SKU", "ASIN", "FNSKU", "商品名", "数量", "フルフィルメントセンターID",
		"詳細な処分", "返品理由", "ステータス", "LPN番号", "購入者のコメント"},
	badLine:     5,
	badColumn:   "return-date",
	badColumnJA: "返品日",
	badReason:   `not a date or time: "2026-13-45T10:00:00+09:00"`,
	rows:        4,
	records:     3,
	want: func(time.Time) kpi.Batch {
		return kpi.Batch{Returns: []kpi.Return{
			{Shop: reportShop.ID, ID: "503-1234567-1234567/EAR-BT53-BLK/LPNRR1234567890", OrderID: "503-1234567-1234567",
				Returned: tokyo(11, 2, 10, 15), Units: 1, Reason: "UNWANTED_ITEM"},
			{Shop: reportShop.ID, ID: "503-2345678-2345678/BAT-10000-WHT/20261104T230000Z", OrderID: "503-2345678-2345678",
				Returned: tokyo(11, 5, 8, 0), Units: 2, Reason: "DEFECTIVE"},
			{Shop: reportShop.ID, ID: "503-4567890-4567890/CBL-USBC-2M/LPNRR9876543210", OrderID: "503-4567890-4567890",
				Returned: tokyo(11, 20, 9, 0), Units: 1, Reason: "NOT_AS_DESCRIBED"},
		}}
	},
}, {
	name: "shipments",
	typ:  "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL",
	ja: []string{"注文番号", "出品者注文番号", "出荷ID", "出荷商品ID", "注文商品ID", "出品者注文商品ID", "購入日", "支払日",
		"出荷日", "レポート作成日", "購入者Eメール", "購入者名", "購入者電話番号", "出品者SKU", "商品名", "出荷数", "通貨",
		"商品価格", "商品税", "配送料", "配送料の税", "ギフト包装料", "ギフト包装の税", "配送サービス", "受取人名",
		"お届け先住所1", "お届け先住所2", "お届け先住所3", "お届け先市区町村", "お届け先都道府県", "お届け先郵便番号",
		"お届け先国", "お届け先電話番号", "請求先住所1", "請求先住所2", "請求先住所3", "請求先市区町村", "請求先都道府県",
		"請求先郵便番号", "請求先国", "商品プロモーション割引", "配送プロモーション割引", "配送業者", "追跡番号",
		"お届け予定日", "フルフィルメントセンターID", "フルフィルメントチャネル", "販売チャネル"},
	badLine:   6,
	badReason: "43 columns, the header line has 48",
	rows:      6,
	records:   3, // two items of one package are one shipment
	skipped:   1, // a multi-channel fulfilment order
	want: func(time.Time) kpi.Batch {
		return kpi.Batch{Shipments: []kpi.Shipment{
			{Shop: reportShop.ID, ID: "DdKq8R1Zv", OrderID: "503-1234567-1234567", Shipped: tokyo(11, 2, 9, 30),
				Carrier: "yamato", Tracking: "1234-5678-9012", Units: 3},
			{Shop: reportShop.ID, ID: "DfPz3Abc", OrderID: "503-2345678-2345678", Shipped: tokyo(11, 3, 14, 5),
				Carrier: "japanpost", Tracking: "123456789012", Units: 1},
			{Shop: reportShop.ID, ID: "DgTq7Xyz", OrderID: "503-4567890-4567890", Shipped: tokyo(11, 20, 9, 0),
				Carrier: "AMZN_JP", Tracking: "TBA301234567890", Units: 1},
		}}
	},
}, {
	name:     "inventory",
	typ:      "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
	snapshot: true,
	ja: []string{"出品者SKU", "FNSKU", "ASIN", "商品名", "コンディション", "価格", "出品者出荷の出品あり", "出品者出荷の販売可能数",
		"FBAの出品あり", "FBA倉庫の在庫数", "FBA販売可能数", "FBA販売不可数", "FBA予約済み数", "FBA在庫合計", "単位あたりの容積",
		"FBA納品作業中の数", "FBA輸送中の数", "FBA受領作業中の数", "FBA調査中の数", "FBA将来の供給予約数", "FBA将来の供給購入可能数"},
	badLine:     4,
	badColumn:   "afn-fulfillable-quantity",
	badColumnJA: "FBA販売可能数",
	badReason:   `not a whole number: "many"`,
	rows:        4,
	records:     3,
	want: func(made time.Time) kpi.Batch {
		return kpi.Batch{Inventory: []kpi.InventorySnapshot{
			{Shop: reportShop.ID, SKU: "BAT-10000-WHT", Taken: made, OnHand: 8, Inbound: 24, Reserved: 2},
			{Shop: reportShop.ID, SKU: "CBL-USBC-2M", Taken: made, OnHand: 0, Inbound: 500, Reserved: 0},
			{Shop: reportShop.ID, SKU: "EAR-BT53-BLK", Taken: made, OnHand: 1200, Inbound: 350, Reserved: 15},
		}}
	},
}, {
	name:        "feedback",
	typ:         "GET_SELLER_FEEDBACK_DATA",
	ja:          []string{"日付", "評価", "コメント", "返答", "注文番号", "評価者のEメール"},
	badLine:     5,
	badColumn:   "Rating",
	badColumnJA: "評価",
	badReason:   "rating 6 is not 1 to 5",
	rows:        4,
	records:     3,
	want: func(made time.Time) kpi.Batch {
		return kpi.Batch{Reviews: []kpi.Review{
			{Shop: reportShop.ID, ID: "503-1234567-1234567", OrderID: "503-1234567-1234567", Posted: tokyo(11, 3, 0, 0),
				Rating: 5, Text: "迅速な発送ありがとうございました。"},
			{Shop: reportShop.ID, ID: "503-2345678-2345678", OrderID: "503-2345678-2345678", Posted: tokyo(11, 6, 0, 0),
				Rating: 1, Text: "商品が届きません。\n連絡は *** まで", RepliedAt: made},
			{Shop: reportShop.ID, ID: "feedback-d0bf3c90087aab72", Posted: tokyo(11, 10, 0, 0),
				Rating: 4, Text: `概ね満足、"梱包"が少し雑`},
		}}
	},
}}

// reportVariant is how a fixture is served: its headers in English or
// Japanese, its text in UTF-8 or Shift_JIS.
type reportVariant struct {
	name     string
	ja, sjis bool
}

var reportVariants = []reportVariant{
	{"English UTF-8", false, false},
	{"English Shift_JIS", false, true},
	{"Japanese UTF-8", true, false},
	{"Japanese Shift_JIS", true, true},
}

// document returns the fixture's file as v serves it.
func (f reportFixture) document(t testing.TB, v reportVariant) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "reports", f.name+".tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if v.ja {
		header, rest, _ := bytes.Cut(data, []byte("\n"))
		cr := bytes.HasSuffix(header, []byte("\r"))
		if n := len(strings.Split(string(bytes.TrimSuffix(header, []byte("\r"))), "\t")); n != len(f.ja) {
			t.Fatalf("%s: %d Japanese headers for %d columns", f.name, len(f.ja), n)
		}
		ja := strings.Join(f.ja, "\t")
		if cr {
			ja += "\r"
		}
		data = append([]byte(ja+"\n"), rest...)
	}
	if v.sjis {
		if data, err = japanese.ShiftJIS.NewEncoder().Bytes(data); err != nil {
			t.Fatalf("%s: encode Shift_JIS: %v", f.name, err)
		}
	}
	return data
}

func TestSyncReportStoresExactRecords(t *testing.T) {
	for _, f := range reportFixtures {
		for _, v := range reportVariants {
			t.Run(f.name+"/"+v.name, func(t *testing.T) {
				e := newReportEnv(t)
				e.reports.Set(f.typ, amazontest.Outcome{Document: f.document(t, v)})
				p, err := e.sync.SyncReport(t.Context(), f.name)
				if err != nil {
					t.Fatalf("SyncReport: %v", err)
				}
				created := e.reports.Created()
				want := f.want(reportNow)
				if got := e.stored(t); !reflect.DeepEqual(got, want) {
					t.Errorf("stored:\n%+v\nwant:\n%+v", got, want)
				}
				if p.Stream != "report:"+f.name || p.Pages != 1 || p.Read != f.records || p.Stats.Inserted != f.records {
					t.Errorf("progress %+v, want 1 document, %d records read and inserted", p, f.records)
				}

				// One report, of the last 30 days (a snapshot: of no window),
				// polled three times: 15 s and 30 s apart.
				wantCreated := amazontest.CreatedReport{ID: created[0].ID, ReportType: f.typ, MarketplaceIDs: []string{amazon.MarketplaceJP},
					At: reportNow}
				if !f.snapshot {
					wantCreated.DataStartTime, wantCreated.DataEndTime = reportNow.Add(-30*24*time.Hour), reportNow
				}
				if len(created) != 1 || !reflect.DeepEqual(created[0], wantCreated) {
					t.Errorf("created %+v, want %+v", created, wantCreated)
				}
				if w := e.clock.Waits(); !reflect.DeepEqual(w, []time.Duration{15 * time.Second, 30 * time.Second}) {
					t.Errorf("waits %v, want [15s 30s]", w)
				}
				if n := e.fake.Calls("getReport"); n != 3 {
					t.Errorf("%d getReport calls, want 3", n)
				}
				if c, want := e.cursor(t, f.name), reportNow.Format(time.RFC3339); c != want {
					t.Errorf("cursor %q, want %q", c, want)
				}

				// The bad row is logged with its line and reason; the read
				// is summed up.
				reason := "line " + fmt.Sprint(f.badLine)
				if col := map[bool]string{false: f.badColumn, true: f.badColumnJA}[v.ja]; col != "" {
					reason += fmt.Sprintf(", column %q", col)
				}
				reason += ": " + f.badReason
				rejected := e.logs.Entries(t, "amazon: report row rejected")
				if len(rejected) != 1 || rejected[0]["line"] != float64(f.badLine) || rejected[0]["reason"] != reason {
					t.Errorf("rejected rows logged: %v\nwant one, line %d: %s", rejected, f.badLine, reason)
				}
				read := e.logs.Entries(t, "amazon: report read")
				enc := map[bool]string{false: "UTF-8", true: "Shift_JIS"}[v.sjis]
				if len(read) != 1 || read[0]["rows"] != float64(f.rows) || read[0]["records"] != float64(f.records) ||
					read[0]["rejected"] != float64(1) || read[0]["skipped"] != float64(f.skipped) || read[0]["encoding"] != enc {
					t.Errorf("read logged: %v\nwant %d rows, %d records, 1 rejected, %d skipped, %s", read, f.rows, f.records, f.skipped, enc)
				}
			})
		}
	}
}

func TestSyncReportOutcomes(t *testing.T) {
	returns := reportFixtures[0]
	doc := returns.document(t, reportVariants[0])
	tests := []struct {
		name    string
		outcome amazontest.Outcome
		err     string // "" for none
		stored  bool
		cursor  bool // the window is done
		polls   int
	}{
		{"DONE", amazontest.Outcome{Document: doc}, "", true, true, 3},
		{"DONE, uncompressed", amazontest.Outcome{Document: doc, Plain: true}, "", true, true, 3},
		{"FATAL", amazontest.Outcome{Status: "FATAL"}, "FATAL", false, false, 3},
		{"CANCELLED: no data", amazontest.Outcome{Status: "CANCELLED"}, "", false, true, 3},
		{"never done", amazontest.Outcome{Status: "IN_PROGRESS"}, "still IN_PROGRESS after 29m45s", false, false, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newReportEnv(t)
			e.reports.Set(returns.typ, tt.outcome)
			_, err := e.sync.SyncReport(t.Context(), "returns")
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("SyncReport: %v, want an error with %q", err, tt.err)
			}
			if got := e.stored(t); (len(got.Returns) > 0) != tt.stored {
				t.Errorf("stored %d returns, want some: %v", len(got.Returns), tt.stored)
			}
			if c := e.cursor(t, "returns"); (c != "") != tt.cursor {
				t.Errorf("cursor %q, want one: %v", c, tt.cursor)
			}
			if n := e.fake.Calls("getReport"); n != tt.polls {
				t.Errorf("%d getReport calls, want %d", n, tt.polls)
			}
			var waited time.Duration
			for _, w := range e.clock.Waits() {
				waited += w
			}
			if waited > 30*time.Minute {
				t.Errorf("waited %s, more than half an hour", waited)
			}
		})
	}
}

func TestSyncReportRetries(t *testing.T) {
	inventory := reportFixtures[2]
	for _, op := range []string{"token", "createReport", "getReport", "getReportDocument", "downloadDocument"} {
		for _, status := range []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable} {
			t.Run(fmt.Sprint(op, "/", status), func(t *testing.T) {
				e := newReportEnv(t)
				e.reports.Set(inventory.typ, amazontest.Outcome{Document: inventory.document(t, reportVariants[3])})
				e.fake.Fail(op, amazontest.Fault{Status: status}, amazontest.Fault{Status: status})
				if _, err := e.sync.SyncReport(t.Context(), inventory.name); err != nil {
					t.Fatalf("SyncReport: %v", err)
				}
				want := 1 + 2
				if op == "getReport" {
					want = 3 + 2
				}
				if n := e.fake.Calls(op); n != want {
					t.Errorf("%d %s calls, want %d", n, op, want)
				}
				// The snapshot is taken when Amazon made the report: after
				// the retries' waits if createReport was retried.
				made := e.reports.Created()[0].At.Truncate(time.Second) // the store keeps seconds
				if got, want := e.stored(t), inventory.want(made); !reflect.DeepEqual(got, want) {
					t.Errorf("stored:\n%+v\nwant:\n%+v", got, want)
				}
				assertNoReportSecrets(t, e, "")
			})
		}
	}
}

func TestSyncReportKeepsSecrets(t *testing.T) {
	for _, op := range []string{"getReportDocument", "downloadDocument"} {
		t.Run(op, func(t *testing.T) {
			e := newReportEnv(t)
			e.reports.Set(reportFixtures[0].typ, amazontest.Outcome{Document: reportFixtures[0].document(t, reportVariants[0])})
			// Two: the client asks for a new token after the first.
			e.fake.Fail(op, amazontest.Fault{Status: http.StatusForbidden}, amazontest.Fault{Status: http.StatusForbidden})
			_, err := e.sync.SyncReport(t.Context(), "returns")
			if err == nil || !strings.Contains(err.Error(), "403") {
				t.Fatalf("SyncReport: %v, want a 403", err)
			}
			assertNoReportSecrets(t, e, err.Error())
		})
	}
}

// assertNoReportSecrets checks that no credential, access token or
// pre-signed URL is in the logs or errText.
func assertNoReportSecrets(t *testing.T, e *reportEnv, errText string) {
	t.Helper()
	secrets := []string{amazontest.Credentials.ClientSecret, amazontest.Credentials.RefreshToken, "Atza|", "X-Amz-Signature",
		"report-documents"}
	for _, c := range e.reports.Created() {
		secrets = append(secrets, amazontest.ReportSignature("amzn1.spdoc.1.4.fe."+c.ID))
	}
	for _, s := range secrets {
		if strings.Contains(e.logs.String(), s) || strings.Contains(errText, s) {
			t.Errorf("%q reached the logs or the error", s)
		}
	}
}

func TestSyncReportResumes(t *testing.T) {
	e := newReportEnv(t)
	for _, f := range reportFixtures {
		e.reports.Set(f.typ, amazontest.Outcome{Document: f.document(t, reportVariants[0])})
	}
	// run syncs every report and returns when each started.
	run := func() map[string]time.Time {
		started := map[string]time.Time{}
		for _, f := range reportFixtures {
			started[f.name] = e.clock.Now()
			if _, err := e.sync.SyncReport(t.Context(), f.name); err != nil {
				t.Fatalf("SyncReport(%s): %v", f.name, err)
			}
		}
		return started
	}
	first := run()
	firstCreated := len(e.reports.Created())
	if firstCreated != 4 {
		t.Fatalf("%d reports created, want 4", firstCreated)
	}

	// Ten minutes later: no new inventory snapshot; every other report
	// reaches back two days before its cursor, to now.
	e.clock.Advance(10 * time.Minute)
	second := run()
	created := e.reports.Created()[firstCreated:]
	if len(created) != 3 {
		t.Fatalf("second run created %+v, want 3 reports", created)
	}
	for i, f := range []reportFixture{reportFixtures[0], reportFixtures[1], reportFixtures[3]} {
		c := created[i]
		start := first[f.name].Add(-48 * time.Hour)
		if c.ReportType != f.typ || !c.DataStartTime.Equal(start) || !c.DataEndTime.Equal(second[f.name]) {
			t.Errorf("%s: created %+v, want %s to %s", f.name, c, start, second[f.name])
		}
		if got, want := e.cursor(t, f.name), second[f.name].Format(time.RFC3339); got != want {
			t.Errorf("%s: cursor %q, want %q", f.name, got, want)
		}
	}
	if got, want := e.cursor(t, "inventory"), first["inventory"].Format(time.RFC3339); got != want {
		t.Errorf("inventory cursor %q, want %q", got, want)
	}
	// The records read again are as they were.
	b := e.stored(t)
	if len(b.Returns) != 3 || len(b.Shipments) != 3 || len(b.Reviews) != 3 || len(b.Inventory) != 3 {
		t.Errorf("stored %d returns, %d shipments, %d reviews, %d snapshots; want 3 each",
			len(b.Returns), len(b.Shipments), len(b.Reviews), len(b.Inventory))
	}

	// An hour after the first, a new snapshot.
	e.clock.Advance(time.Hour)
	p, err := e.sync.SyncReport(t.Context(), "inventory")
	if err != nil {
		t.Fatal(err)
	}
	if p.Read != 3 || p.Stats.Inserted != 3 || len(e.stored(t).Inventory) != 6 {
		t.Errorf("progress %+v, %d snapshots stored; want 3 new, 6 in all", p, len(e.stored(t).Inventory))
	}
}

func TestSyncReportWindows(t *testing.T) {
	e := newReportEnv(t)
	e.reports.Set(reportFixtures[0].typ, amazontest.Outcome{Status: "CANCELLED"})
	cursor := reportNow.Add(-75 * 24 * time.Hour)
	if err := e.store.SaveSyncCursor(t.Context(), reportShop.ID, "report:returns", cursor.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sync.SyncReport(t.Context(), "returns"); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	want := [][2]time.Time{
		{cursor.Add(-2 * day), cursor.Add(28 * day)},
		{cursor.Add(28 * day), cursor.Add(58 * day)},
		{cursor.Add(58 * day), reportNow},
	}
	created := e.reports.Created()
	if len(created) != len(want) {
		t.Fatalf("created %+v, want %d windows", created, len(want))
	}
	for i, c := range created {
		if !c.DataStartTime.Equal(want[i][0]) || !c.DataEndTime.Equal(want[i][1]) {
			t.Errorf("window %d: %s to %s, want %s to %s", i, c.DataStartTime, c.DataEndTime, want[i][0], want[i][1])
		}
	}
	if got := e.cursor(t, "returns"); got != reportNow.Format(time.RFC3339) {
		t.Errorf("cursor %q, want now", got)
	}
}

func TestSyncReportMissingColumns(t *testing.T) {
	e := newReportEnv(t)
	doc := bytes.Replace(reportFixtures[0].document(t, reportVariants[0]), []byte("return-date\t"), []byte("returned-on\t"), 1)
	e.reports.Set(reportFixtures[0].typ, amazontest.Outcome{Document: doc})
	_, err := e.sync.SyncReport(t.Context(), "returns")
	if err == nil || !strings.Contains(err.Error(), "missing columns: return-date / 返品日 / 返品日時 (the file was read as UTF-8, tab-separated)") {
		t.Fatalf("SyncReport: %v, want the missing column named", err)
	}
	if c := e.cursor(t, "returns"); c != "" {
		t.Errorf("cursor %q, want none", c)
	}
}

func TestSyncReportsKeepNoBuyerData(t *testing.T) {
	e := newReportEnv(t)
	for _, v := range []reportVariant{reportVariants[0], reportVariants[3]} {
		for _, f := range reportFixtures {
			e.reports.Set(f.typ, amazontest.Outcome{Document: f.document(t, v)})
			if _, err := e.sync.SyncReport(t.Context(), f.name); err != nil {
				t.Fatalf("%s, %s: %v", f.name, v.name, err)
			}
		}
		e.clock.Advance(2 * time.Hour)
	}
	// The buyers' and recipients' names, e-mails, phones and addresses in
	// the files, the raters' e-mails, and an e-mail in a buyer's comment.
	personal := []string{
		"山田", "太郎", "佐藤", "花子", "鈴木", "一郎", "高橋", "次郎", "伊藤", "三郎",
		"abc1234xyz@", "hanako.sato@", "jiro.takahashi@", "taro.yamada@", "@marketplace.amazon.co.jp",
		"090-1234-5678", "080-9876-5432", "070-1111-2222", "03-1234-5678", "06-9876-5432", "011-222-3333", "052-111-2222",
		"千代田", "梅田", "栄3-3-3", "北1条西2-3", "100-0001", "530-0001", "060-0001", "460-0008",
		"東京都", "大阪", "北海道", "愛知県", "札幌", "名古屋",
	}
	texts := connectortest.Texts(t, e.db)
	all := strings.Join(texts, "\n")
	// The scan sees the records: an order id, a carrier, a masked comment.
	for _, s := range []string{"503-2345678-2345678", "japanpost", "連絡は *** まで"} {
		if !strings.Contains(all, s) {
			t.Fatalf("the scan of %d text values does not find %q", len(texts), s)
		}
	}
	for _, s := range personal {
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("%q is stored: %s", s, text)
			}
		}
	}
}

func TestReportsFakeChecksRequests(t *testing.T) {
	fake := amazontest.New(t)
	fake.ServeReports(func() time.Time { return reportNow })
	res, err := http.PostForm(fake.URL+"/auth/o2/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {amazontest.Credentials.RefreshToken}, "client_id": {amazontest.Credentials.ClientID},
		"client_secret": {amazontest.Credentials.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()

	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
	}{
		{"a report", "application/json", `{"reportType":"GET_SELLER_FEEDBACK_DATA","marketplaceIds":["A1VC38T7YXB528"],"dataStartTime":"2026-11-01T00:00:00Z","dataEndTime":"2026-11-21T03:00:00Z"}`, http.StatusAccepted},
		{"a snapshot", "application/json", `{"reportType":"GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA","marketplaceIds":["A1VC38T7YXB528"]}`, http.StatusAccepted},
		{"an unknown report type", "application/json", `{"reportType":"GET_EVERYTHING","marketplaceIds":["A1VC38T7YXB528"]}`, http.StatusBadRequest},
		{"no marketplace", "application/json", `{"reportType":"GET_SELLER_FEEDBACK_DATA","marketplaceIds":[]}`, http.StatusBadRequest},
		{"a window in the future", "application/json", `{"reportType":"GET_SELLER_FEEDBACK_DATA","marketplaceIds":["A1VC38T7YXB528"],"dataEndTime":"2026-11-22T00:00:00Z"}`, http.StatusBadRequest},
		{"a window backwards", "application/json", `{"reportType":"GET_SELLER_FEEDBACK_DATA","marketplaceIds":["A1VC38T7YXB528"],"dataStartTime":"2026-11-02T00:00:00Z","dataEndTime":"2026-11-01T00:00:00Z"}`, http.StatusBadRequest},
		{"not JSON", "text/plain", `{"reportType":"GET_SELLER_FEEDBACK_DATA","marketplaceIds":["A1VC38T7YXB528"]}`, http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, fake.URL+"/reports/2021-06-30/reports", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("x-amz-access-token", tok.AccessToken)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Errorf("HTTP %d, want %d", res.StatusCode, tt.status)
			}
		})
	}
}

// A Quick fake's report is done at its first poll: the sync stores it
// without waiting, and the fake's getReport was asked once.
func TestReportsFakeQuick(t *testing.T) {
	e := newReportEnv(t)
	e.reports.Quick()
	f := reportFixtures[len(reportFixtures)-1] // feedback
	e.reports.Set(f.typ, amazontest.Outcome{Document: f.document(t, reportVariants[0])})
	if _, err := e.sync.SyncReport(t.Context(), f.name); err != nil {
		t.Fatal(err)
	}
	if got := len(e.stored(t).Reviews); got != f.records || e.fake.Calls("getReport") != 1 || !e.clock.Now().Equal(reportNow) {
		t.Errorf("%d reviews stored after %d getReport calls, clock at %v; want %d after one, without a wait",
			got, e.fake.Calls("getReport"), e.clock.Now(), f.records)
	}
}
