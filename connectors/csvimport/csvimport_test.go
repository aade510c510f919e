package csvimport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"

	"github.com/kpibot/kpibot/connectors/csvimport"
	"github.com/kpibot/kpibot/connectors/flatfile"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

const shop = "rk-main"

// recorder is a kpi.Writer that keeps what it is given. It validates each
// batch as the stores do, and fails the write after failAfter writes when
// failAfter > 0.
type recorder struct {
	kpi.Batch
	writes    int
	sizes     []int // the records of each write
	failAfter int
}

func (w *recorder) Write(_ context.Context, b *kpi.Batch) (kpi.WriteStats, error) {
	if err := b.Validate(); err != nil {
		return kpi.WriteStats{}, fmt.Errorf("recorder: %w", err)
	}
	if w.failAfter > 0 && w.writes == w.failAfter {
		return kpi.WriteStats{}, errors.New("recorder: disk full")
	}
	w.writes++
	w.sizes = append(w.sizes, b.Len())
	w.Orders = append(w.Orders, b.Orders...)
	w.Shipments = append(w.Shipments, b.Shipments...)
	w.Reviews = append(w.Reviews, b.Reviews...)
	w.Tickets = append(w.Tickets, b.Tickets...)
	w.AgentShifts = append(w.AgentShifts, b.AgentShifts...)
	w.Customs = append(w.Customs, b.Customs...)
	w.Listings = append(w.Listings, b.Listings...)
	w.Competitors = append(w.Competitors, b.Competitors...)
	w.Inventory = append(w.Inventory, b.Inventory...)
	w.Ads = append(w.Ads, b.Ads...)
	return kpi.WriteStats{Inserted: b.Len()}, nil
}

func jst(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, kpi.Tokyo)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func importData(t testing.TB, w kpi.Writer, kind csvimport.Kind, data []byte, opts csvimport.Options) csvimport.Summary {
	t.Helper()
	sum, err := csvimport.Import(context.Background(), w, shop, kind, bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return sum
}

// inUTC returns a copy of the batch's records with every time in UTC and
// every customer ref blanked, for comparing.
func inUTC(b kpi.Batch) kpi.Batch {
	v := reflect.ValueOf(&b).Elem()
	for i := range v.NumField() {
		s := v.Field(i)
		if s.Kind() != reflect.Slice || s.Len() == 0 {
			continue
		}
		c := reflect.MakeSlice(s.Type(), s.Len(), s.Len())
		reflect.Copy(c, s)
		for j := range c.Len() {
			rec := c.Index(j)
			for k := range rec.NumField() {
				fv := rec.Field(k)
				switch x := fv.Interface().(type) {
				case time.Time:
					if !x.IsZero() {
						fv.Set(reflect.ValueOf(x.UTC()))
					}
				}
				if rec.Type().Field(k).Name == "CustomerRef" {
					fv.SetString("")
				}
			}
		}
		s.Set(c)
	}
	return b
}

// Each kind's happy file is read whole, every value as written.
func TestImportKinds(t *testing.T) {
	tests := []struct {
		file  string
		kind  csvimport.Kind
		want  kpi.Batch
		stats int // records written
	}{
		{"orders_zh.csv", csvimport.Orders, kpi.Batch{
			Orders: []kpi.Order{
				{Shop: shop, ID: "DXM-1001", Placed: jst(2026, 11, 20, 10, 15, 0), Paid: jst(2026, 11, 20, 10, 16, 30),
					ShipBy: jst(2026, 11, 22, 23, 59, 59), Status: kpi.StatusShipped, Total: 3980, Units: 2, Channel: kpi.ByMerchant},
				{Shop: shop, ID: "DXM-1002", Placed: jst(2026, 11, 20, 11, 0, 0), Paid: jst(2026, 11, 20, 11, 5, 0),
					ShipBy: jst(2026, 11, 23, 0, 0, 0), Status: kpi.StatusUnshipped, Total: 1980, Units: 1, Channel: kpi.ByMerchant},
				{Shop: shop, ID: "DXM-1003", Placed: jst(2026, 11, 21, 0, 0, 0), Status: kpi.StatusCancelled, Units: 1, Channel: kpi.ByPlatform},
			},
			Shipments: []kpi.Shipment{{Shop: shop, ID: "DXM-1001", OrderID: "DXM-1001", Shipped: jst(2026, 11, 21, 14, 0, 0),
				Carrier: "yamato", Tracking: "4567-8901-2345", Units: 2}},
		}, 4},
		{"orders_ja.csv", csvimport.Orders, kpi.Batch{
			Orders: []kpi.Order{
				{Shop: shop, ID: "R-2001", Placed: jst(2026, 11, 20, 9, 0, 0), Paid: jst(2026, 11, 20, 9, 5, 0),
					ShipBy: jst(2026, 11, 21, 18, 0, 0), Status: kpi.StatusShipped, Total: 2480, Units: 1, Channel: kpi.ByMerchant},
				{Shop: shop, ID: "R-2002", Placed: jst(2026, 11, 20, 12, 30, 0), Status: kpi.StatusPending, Total: 5400, Units: 3, Channel: kpi.ByMerchant},
			},
			Shipments: []kpi.Shipment{{Shop: shop, ID: "R-2001", OrderID: "R-2001", Shipped: jst(2026, 11, 21, 10, 30, 0),
				Carrier: "sagawa", Tracking: "3601-2345-6789", Units: 1}},
		}, 3},
		{"orders_en.tsv", csvimport.Orders, kpi.Batch{
			Orders: []kpi.Order{
				{Shop: shop, ID: "TT-3001", Placed: jst(2026, 11, 19, 9, 0, 0), Paid: jst(2026, 11, 19, 9, 1, 0),
					ShipBy: jst(2026, 11, 21, 23, 59, 0), Status: kpi.StatusDelivered, Total: 4200, Units: 2, Channel: kpi.ByMerchant},
				{Shop: shop, ID: "TT-3002", Placed: jst(2026, 11, 19, 10, 0, 0), Paid: jst(2026, 11, 19, 10, 2, 0),
					Status: kpi.StatusSellerCancelled, Total: 1500, Units: 1, Channel: kpi.ByMerchant},
			},
			Shipments: []kpi.Shipment{{Shop: shop, ID: "TT-3001", OrderID: "TT-3001", Shipped: jst(2026, 11, 20, 9, 0, 0),
				Carrier: "japanpost", Tracking: "EJ123456789JP", Units: 2}},
		}, 3},
		{"reviews.csv", csvimport.Reviews, kpi.Batch{Reviews: []kpi.Review{
			{Shop: shop, ID: "RV-1", OrderID: "R-2001", Posted: jst(2026, 11, 22, 10, 0, 0), Rating: 5, Text: "とても良い商品でした。",
				RepliedAt: jst(2026, 11, 22, 15, 0, 0)},
			{Shop: shop, ID: "RV-2", OrderID: "R-2002", Posted: jst(2026, 11, 23, 9, 30, 0), Rating: 2,
				Text: "届いたら壊れていました。山田様の対応を希望。電話は090-1234-5678です。"}, // the store masks it
			{Shop: shop, ID: "RV-3", Posted: jst(2026, 11, 24, 18, 0, 0), Rating: 4, Text: "普通", RepliedAt: jst(2026, 11, 24, 18, 0, 0)},
		}}, 3},
		{"tickets.csv", csvimport.Tickets, kpi.Batch{Tickets: []kpi.Ticket{
			{Shop: shop, ID: "T-1", Opened: jst(2026, 11, 20, 9, 0, 0), FirstReply: jst(2026, 11, 20, 9, 20, 0), Kind: kpi.PreSale, Lang: "ja"},
			{Shop: shop, ID: "T-2", Opened: jst(2026, 11, 21, 22, 10, 0), Kind: kpi.AfterSale, Lang: "zh"},
			{Shop: shop, ID: "T-3", Opened: jst(2026, 11, 22, 13, 0, 0), FirstReply: jst(2026, 11, 22, 13, 5, 0), Kind: kpi.AfterSale, Lang: "en"},
		}}, 3},
		{"shifts.csv", csvimport.Shifts, kpi.Batch{AgentShifts: []kpi.AgentShift{
			{Shop: shop, Agent: "agent-01", Start: jst(2026, 11, 20, 9, 0, 0), End: jst(2026, 11, 20, 18, 0, 0), Langs: []string{"ja", "zh"}},
			{Shop: shop, Agent: "agent-02", Start: jst(2026, 11, 20, 13, 0, 0), End: jst(2026, 11, 20, 22, 0, 0), Langs: []string{"ja", "en"}},
			{Shop: shop, Agent: "agent-01", Start: jst(2026, 11, 21, 9, 0, 0), End: jst(2026, 11, 21, 18, 0, 0), Langs: []string{"ja"}},
		}}, 3},
		{"customs.csv", csvimport.Customs, kpi.Batch{Customs: []kpi.CustomsEntry{
			{Shop: shop, ID: "JP-778001", Declared: jst(2026, 11, 18, 10, 0, 0), Cleared: jst(2026, 11, 19, 15, 30, 0), Status: kpi.CustomsCleared, DocsCompleted: true},
			{Shop: shop, ID: "JP-778002", Declared: jst(2026, 11, 19, 11, 0, 0), Status: kpi.CustomsHeld},
			{Shop: shop, ID: "JP-778003", Declared: jst(2026, 11, 20, 9, 0, 0), Status: kpi.CustomsPending, DocsCompleted: true},
		}}, 3},
		{"listings.csv", csvimport.Listings, kpi.Batch{Listings: []kpi.Listing{
			{Shop: shop, SKU: "SKU-A", Launched: jst(2026, 10, 1, 0, 0, 0), NeedsPSE: true, PSEValid: true, Label: kpi.LabelPassed, Price: 2980},
			{Shop: shop, SKU: "SKU-B", Launched: jst(2026, 11, 1, 0, 0, 0), NeedsPSE: true, Label: kpi.LabelFailed, Price: 1980},
			{Shop: shop, SKU: "SKU-C", Price: 500},
		}}, 3},
		{"competitors.csv", csvimport.Competitors, kpi.Batch{Competitors: []kpi.CompetitorObservation{
			{Shop: shop, SKU: "SKU-A", Competitor: "ShopX", Observed: jst(2026, 11, 25, 8, 0, 0), Price: 2780},
			{Shop: shop, SKU: "SKU-A", Competitor: "ShopY", Observed: jst(2026, 11, 25, 8, 0, 0), Price: 3100, NewListing: true},
			{Shop: shop, SKU: "SKU-B", Competitor: "ShopX", Observed: jst(2026, 11, 25, 8, 0, 0), Price: 1880},
		}}, 3},
		{"inventory.csv", csvimport.Inventory, kpi.Batch{Inventory: []kpi.InventorySnapshot{
			{Shop: shop, SKU: "SKU-A", Taken: jst(2026, 11, 25, 0, 0, 0), OnHand: 120, Inbound: 300, Reserved: 5},
			{Shop: shop, SKU: "SKU-B", Taken: jst(2026, 11, 25, 0, 0, 0), OnHand: 0, Inbound: 50},
			{Shop: shop, SKU: "SKU-A", Taken: jst(2026, 11, 26, 0, 0, 0), OnHand: 110, Inbound: 300, Reserved: 4},
		}}, 3},
		{"ads.csv", csvimport.Ads, kpi.Batch{Ads: []kpi.AdDay{
			{Shop: shop, Campaign: "RPP-冬セール", Day: kpi.NewDate(2026, 11, 24), Impressions: 12000, Clicks: 240, Spend: 9600, Sales: 38000, Orders: 11},
			{Shop: shop, Campaign: "RPP-冬セール", Day: kpi.NewDate(2026, 11, 25), Impressions: 11500, Clicks: 230, Spend: 9200, Sales: 41000, Orders: 12},
			{Shop: shop, Campaign: "RPP-新商品", Day: kpi.NewDate(2026, 11, 25), Impressions: 3000, Clicks: 45, Spend: 1800},
		}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var w recorder
			sum := importData(t, &w, tt.kind, readFile(t, tt.file), csvimport.Options{})
			for _, e := range sum.Errors {
				t.Errorf("rejected: %v", e)
			}
			rows := tt.want.Len() - len(tt.want.Shipments)
			if sum.Read != rows || sum.Imported != rows || sum.Rejected != 0 || sum.Stats.Inserted != tt.stats {
				t.Errorf("summary %+v, want %d rows read and imported, %d records", sum, rows, tt.stats)
			}
			if got, want := inUTC(w.Batch), inUTC(tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("records:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

var hexRef = regexp.MustCompile(`^[0-9a-f]{32}$`)

// A customer id is stored only as a hash, the same in orders and tickets
// (so that a ticket links to the customer's orders); personal columns are
// named in the summary and none of their values is stored.
func TestPersonalData(t *testing.T) {
	var w recorder
	orders := importData(t, &w, csvimport.Orders, readFile(t, "orders_zh.csv"), csvimport.Options{})
	tickets := importData(t, &w, csvimport.Tickets, readFile(t, "tickets.csv"), csvimport.Options{})
	if want := []string{"收件人", "收件人电话", "收货地址"}; !reflect.DeepEqual(orders.Personal, want) {
		t.Errorf("orders: personal columns %q, want %q", orders.Personal, want)
	}
	if want := []string{"客户邮箱"}; !reflect.DeepEqual(tickets.Personal, want) {
		t.Errorf("tickets: personal columns %q, want %q", tickets.Personal, want)
	}
	ja := importData(t, &recorder{}, csvimport.Orders, readFile(t, "orders_ja.csv"), csvimport.Options{})
	if want := []string{"注文者名", "メールアドレス"}; !reflect.DeepEqual(ja.Personal, want) {
		t.Errorf("orders_ja: personal columns %q, want %q", ja.Personal, want)
	}
	a, b := w.Orders[0].CustomerRef, w.Orders[1].CustomerRef
	if !hexRef.MatchString(a) || !hexRef.MatchString(b) || a == b || w.Orders[2].CustomerRef != "" {
		t.Errorf("order customer refs %q, %q, %q", a, b, w.Orders[2].CustomerRef)
	}
	if w.Tickets[0].CustomerRef != a || w.Tickets[2].CustomerRef != b {
		t.Errorf("ticket refs %q, %q; the orders' %q, %q", w.Tickets[0].CustomerRef, w.Tickets[2].CustomerRef, a, b)
	}
	stored := fmt.Sprintf("%+v", w.Batch)
	for _, raw := range []string{"buyer-a", "张伟", "13800138000", "上海市", "a@example.com"} {
		if strings.Contains(stored, raw) {
			t.Errorf("%q was stored", raw)
		}
	}
}

// The same order file read in the encodings and with the delimiters
// exports come in gives the same records.
func TestImportEncodings(t *testing.T) {
	utf8 := readFile(t, "orders_ja.csv")
	sjis, err := japanese.ShiftJIS.NewEncoder().Bytes(utf8)
	if err != nil {
		t.Fatal(err)
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(utf8)
	if err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(utf8, []byte("\n"), []byte("\r\n"))
	tsv := []byte(strings.NewReplacer(`"2,480円"`, "2,480円", ",", "\t").Replace(string(utf8)))
	var want recorder
	importData(t, &want, csvimport.Orders, utf8, csvimport.Options{})
	tests := []struct {
		name string
		data []byte
		enc  flatfile.Encoding
	}{
		{"Shift_JIS with Japanese headers", sjis, flatfile.ShiftJIS},
		{"UTF-8 with BOM", append([]byte("\xEF\xBB\xBF"), utf8...), flatfile.UTF8BOM},
		{"UTF-16 (Excel's Unicode text)", utf16, flatfile.UTF16},
		{"CRLF line ends", crlf, flatfile.UTF8},
		{"tab-separated", tsv, flatfile.UTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w recorder
			sum := importData(t, &w, csvimport.Orders, tt.data, csvimport.Options{})
			if sum.Encoding != tt.enc || sum.Read != 2 || sum.Rejected != 0 {
				t.Errorf("summary %+v, want 2 rows read as %s", sum, tt.enc)
			}
			if !reflect.DeepEqual(inUTC(w.Batch), inUTC(want.Batch)) {
				t.Errorf("records:\n got %+v\nwant %+v", w.Batch, want.Batch)
			}
		})
	}
}

// orderHeader is the header line of the order files of TestRejectedRows.
const orderHeader = "order id,placed,paid,status,total,units,shipped\n"

// Each rejected row is reported with its line, column and reason, and the
// rows around it are imported.
func TestRejectedRows(t *testing.T) {
	tests := []struct {
		name string
		kind csvimport.Kind
		data string
		want []csvimport.RowError
		rows int // imported
	}{
		{"a malformed date", csvimport.Orders, orderHeader +
			"A1,2026-11-20 10:00,,,100,1,\n" +
			"A2,2026-13-45,,,100,1,\n" +
			"A3,2026-11-20 10:00,,,100,1,\n",
			[]csvimport.RowError{{Line: 3, Column: "placed", Key: "cli.import_not_date", Args: map[string]any{"Value": "2026-13-45"}}}, 2},
		{"a wrong column count", csvimport.Orders, orderHeader +
			"A1,2026-11-20 10:00,,,100,1\n" +
			"A2,2026-11-20 10:00,,,100,1,,extra\n" +
			"A3,2026-11-20 10:00,,,100,1,\n",
			[]csvimport.RowError{
				{Line: 2, Key: "cli.import_bad_columns", Args: map[string]any{"Got": 6, "Want": 7}},
				{Line: 3, Key: "cli.import_bad_columns", Args: map[string]any{"Got": 8, "Want": 7}},
			}, 1},
		{"a quoted newline counts its lines", csvimport.Orders, orderHeader +
			"A1,2026-11-20 10:00,,\"shipped\n(by air)\",100,1,\n" +
			"A2,2026-11-20 10:00,,,-5,1,\n",
			[]csvimport.RowError{
				{Line: 2, Column: "status", Key: "cli.import_bad_order_status", Args: map[string]any{"Value": "shipped\n(by air)"}},
				{Line: 4, Column: "total", Key: "cli.import_negative", Args: map[string]any{"Value": "-5"}},
			}, 0},
		{"a quoted newline in a good row", csvimport.Orders, orderHeader +
			"\"A1\nA1b\",2026-11-20 10:00,,,100,1,\n" +
			"A2,2026-11-20,,,1O0,1,\n",
			[]csvimport.RowError{{Line: 4, Column: "total", Key: "cli.import_not_amount", Args: map[string]any{"Value": "1O0"}}}, 1},
		{"a stray quote", csvimport.Orders, orderHeader +
			"A1,2026-11-20 10:00,,,1\"00,1,\n" +
			"A2,2026-11-20 10:00,,,100,1,\n",
			[]csvimport.RowError{{Line: 2, Key: "cli.import_bad_quote"}}, 1},
		{"several problems of one row", csvimport.Orders, orderHeader +
			",2026-11-20 10:00,2026-11-19,lost,,two,\n",
			[]csvimport.RowError{
				{Line: 2, Column: "order id", Key: "cli.import_empty"},
				{Line: 2, Column: "units", Key: "cli.import_not_number", Args: map[string]any{"Value": "two"}},
				{Line: 2, Column: "status", Key: "cli.import_bad_order_status", Args: map[string]any{"Value": "lost"}},
				{Line: 2, Column: "paid", Key: "cli.import_before", Args: map[string]any{"Value": "2026-11-19", "Other": "placed"}},
			}, 0},
		{"the same order twice", csvimport.Orders, orderHeader +
			"A1,2026-11-20 10:00,,,100,1,\n" +
			"A1,2026-11-20 10:00,,,200,1,\n",
			[]csvimport.RowError{{Line: 3, Column: "order id", Key: "cli.import_duplicate", Args: map[string]any{"First": 2}}}, 1},
		{"a year out of range", csvimport.Orders, orderHeader +
			"A1,0226-11-20 10:00,,,100,1,\n",
			[]csvimport.RowError{{Line: 2, Column: "placed", Key: "cli.import_not_date", Args: map[string]any{"Value": "0226-11-20 10:00"}}}, 0},
		{"a rating beyond five", csvimport.Reviews, "review date,rating,replied\n" +
			"2026-11-20,6,\n2026-11-20,5,2026-11-19\n2026-11-21,3,maybe\n",
			[]csvimport.RowError{
				{Line: 2, Column: "rating", Key: "cli.import_bad_rating", Args: map[string]any{"Value": "6"}},
				{Line: 3, Column: "replied", Key: "cli.import_before", Args: map[string]any{"Value": "2026-11-19", "Other": "review date"}},
				{Line: 4, Column: "replied", Key: "cli.import_not_replied", Args: map[string]any{"Value": "maybe"}},
			}, 0},
		{"a shift that ends before it starts", csvimport.Shifts, "agent,start,end,languages\n" +
			"a1,2026-11-20 18:00,2026-11-20 09:00,ja\na2,2026-11-20 09:00,2026-11-20 18:00,klingon\n",
			[]csvimport.RowError{
				{Line: 2, Column: "end", Key: "cli.import_not_after", Args: map[string]any{"Value": "2026-11-20 09:00", "Other": "start"}},
				{Line: 3, Column: "languages", Key: "cli.import_bad_lang", Args: map[string]any{"Value": "klingon"}},
			}, 0},
		{"words a kind does not know", csvimport.Tickets, "ticket id,opened,type\nT1,2026-11-20,complaint\n",
			[]csvimport.RowError{{Line: 2, Column: "type", Key: "cli.import_bad_ticket_kind", Args: map[string]any{"Value": "complaint"}}}, 0},
		{"customs status and flags", csvimport.Customs, "entry id,declared,status,docs complete\nE1,2026-11-20,lost,perhaps\n",
			[]csvimport.RowError{
				{Line: 2, Column: "docs complete", Key: "cli.import_not_yes_no", Args: map[string]any{"Value": "perhaps"}},
				{Line: 2, Column: "status", Key: "cli.import_bad_customs_status", Args: map[string]any{"Value": "lost"}},
			}, 0},
		{"a label check and a price", csvimport.Listings, "sku,label check,price\nS1,maybe,free\n",
			[]csvimport.RowError{
				{Line: 2, Column: "label check", Key: "cli.import_bad_label", Args: map[string]any{"Value": "maybe"}},
				{Line: 2, Column: "price", Key: "cli.import_not_amount", Args: map[string]any{"Value": "free"}},
			}, 0},
		{"a competitor's price is needed", csvimport.Competitors, "sku,competitor,observed,price\nS1,X,2026-11-20,\n",
			[]csvimport.RowError{{Line: 2, Column: "price", Key: "cli.import_empty"}}, 0},
		{"stock on hand is needed", csvimport.Inventory, "sku,date,on hand\nS1,2026-11-20,\nS1,2026-11-21,-1\n",
			[]csvimport.RowError{
				{Line: 2, Column: "on hand", Key: "cli.import_empty"},
				{Line: 3, Column: "on hand", Key: "cli.import_negative", Args: map[string]any{"Value": "-1"}},
			}, 0},
		{"an ad day twice", csvimport.Ads, "date,campaign,clicks,channel\n2026-11-20,C,1,x\n2026/11/20,C,2,x\n",
			[]csvimport.RowError{{Line: 3, Column: "date", Key: "cli.import_duplicate", Args: map[string]any{"First": 2}}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w recorder
			sum := importData(t, &w, tt.kind, []byte(tt.data), csvimport.Options{})
			if !reflect.DeepEqual(sum.Errors, tt.want) {
				t.Errorf("errors:\n got %v\nwant %v", sum.Errors, tt.want)
			}
			lines := map[int]bool{}
			for _, e := range tt.want {
				lines[e.Line] = true
			}
			if sum.Rejected != len(lines) || sum.Imported != tt.rows || sum.Read != sum.Imported+sum.Rejected || w.Len() < tt.rows {
				t.Errorf("summary %+v, want %d rejected and %d imported", sum, len(lines), tt.rows)
			}
		})
	}
}

// Rows are written in batches of Options.BatchSize rows; a failed write
// stops the import, keeping what was written before it; the summary lists
// at most MaxErrors problems but counts every rejected row.
func TestBatches(t *testing.T) {
	var data strings.Builder
	data.WriteString(orderHeader)
	for i := range 7 {
		fmt.Fprintf(&data, "A%d,2026-11-20 10:00,,,100,1,2026-11-21 10:00\n", i)
		fmt.Fprintf(&data, "B%d,not a date,,,100,1,\n", i)
	}
	var w recorder
	sum := importData(t, &w, csvimport.Orders, []byte(data.String()), csvimport.Options{BatchSize: 3, MaxErrors: 2})
	if want := []int{6, 6, 2}; !reflect.DeepEqual(w.sizes, want) { // an order and its shipment per row
		t.Errorf("writes of %v records, want %v", w.sizes, want)
	}
	if sum.Read != 14 || sum.Imported != 7 || sum.Rejected != 7 || len(sum.Errors) != 2 || sum.Stats.Inserted != 14 {
		t.Errorf("summary %+v", sum)
	}

	w = recorder{failAfter: 1}
	sum, err := csvimport.Import(context.Background(), &w, shop, csvimport.Orders, strings.NewReader(data.String()), csvimport.Options{BatchSize: 3})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Import: %v, want the write's error", err)
	}
	if len(w.Orders) != 3 || sum.Stats.Inserted != 6 {
		t.Errorf("after a failed write: %d orders written, summary %+v", len(w.Orders), sum)
	}
}

// What stops an import is a *kpi.Error whose key says why.
func TestImportFails(t *testing.T) {
	tests := []struct {
		name string
		kind csvimport.Kind
		data string
		opts csvimport.Options
		key  string
	}{
		{"an empty file", csvimport.Orders, " \n", csvimport.Options{}, "cli.import_empty_file"},
		{"a missing column", csvimport.Orders, "order id,status\nA1,shipped\n", csvimport.Options{}, "cli.import_missing_columns"},
		{"an unknown kind", csvimport.Kind("returns"), orderHeader, csvimport.Options{}, "cli.import_bad_kind"},
		{"an unknown field", csvimport.Orders, orderHeader, csvimport.Options{Headers: map[string][]string{"buyer": {"x"}}}, "cli.import_unknown_field"},
		{"a header for two fields", csvimport.Orders, orderHeader,
			csvimport.Options{Headers: map[string][]string{"paid": {"付款"}, "placed": {"付款"}}}, "cli.import_header_twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w recorder
			_, err := csvimport.Import(context.Background(), &w, shop, tt.kind, strings.NewReader(tt.data), tt.opts)
			var ke *kpi.Error
			if !errors.As(err, &ke) || ke.Key != tt.key || ke.Code != kpi.Invalid {
				t.Fatalf("Import: %v, want a %s error", err, tt.key)
			}
			if w.writes != 0 {
				t.Errorf("%d writes", w.writes)
			}
		})
	}
	_, err := csvimport.Import(context.Background(), &recorder{}, shop, csvimport.Orders, strings.NewReader("order id\nA1\n"), csvimport.Options{})
	var ke *kpi.Error
	if !errors.As(err, &ke) || !strings.Contains(fmt.Sprint(ke.Args["Columns"]), "下单时间") {
		t.Errorf("missing columns: %v %v; want the names the column may have", err, ke)
	}
}

// A reader that fails fails the import with its error, whether it fails
// at once or after the header line.
func TestReaderFails(t *testing.T) {
	broken := errors.New("disk gone")
	for _, r := range []io.Reader{
		iotest.ErrReader(broken),
		io.MultiReader(strings.NewReader(orderHeader+"A1,2026-11-20,,,100,1,\n"), iotest.ErrReader(broken)),
	} {
		var w recorder
		_, err := csvimport.Import(context.Background(), &w, shop, csvimport.Orders, r, csvimport.Options{})
		if !errors.Is(err, broken) || w.writes != 0 {
			t.Errorf("Import: %v after %d writes, want %v", err, w.writes, broken)
		}
	}
}

// The caller's header names map an ERP's own columns, and win over the
// default names: 平台订单号 is the order id when the caller says so, even
// beside 订单号.
func TestCallerHeaders(t *testing.T) {
	data := "订单号,平台订单号,下单日期,付款\nERP-1,PLT-1,2026-11-20 10:00,2026-11-20 10:05\n"
	tests := []struct {
		name    string
		headers map[string][]string
		wantID  string
		paid    bool
		unused  []string
	}{
		{"defaults", map[string][]string{"placed": {"下单日期"}}, "ERP-1", false, []string{"平台订单号", "付款"}},
		{"the caller's id", map[string][]string{"placed": {"下单日期"}, "id": {"平台订单号"}, "paid": {"付款"}}, "PLT-1", true, []string{"订单号"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w recorder
			sum := importData(t, &w, csvimport.Orders, []byte(data), csvimport.Options{Headers: tt.headers})
			if len(w.Orders) != 1 || w.Orders[0].ID != tt.wantID || w.Orders[0].Paid.IsZero() == tt.paid {
				t.Fatalf("orders %+v, want id %s", w.Orders, tt.wantID)
			}
			if !reflect.DeepEqual(sum.Unused, tt.unused) {
				t.Errorf("unused columns %q, want %q", sum.Unused, tt.unused)
			}
		})
	}
	// A header the caller gives one field is no longer another's.
	var w recorder
	importData(t, &w, csvimport.Orders, []byte("order id,placed,status,total\nA1,2026-11-20,shipped,100\n"),
		csvimport.Options{Headers: map[string][]string{"channel": {"status"}, "status": {"total"}}})
	if len(w.Orders) != 0 {
		t.Errorf("status read as the channel: %+v", w.Orders)
	}
}

// Importing a file twice into the store changes nothing the second time:
// every record is unchanged.
func TestReimportChangesNothing(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kpi.db"), func() time.Time { return jst(2026, 11, 28, 12, 0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{{ID: shop, Platform: kpi.Rakuten, Name: "Rakuten", Currency: "JPY"}}}); err != nil {
		t.Fatal(err)
	}
	files := []struct {
		file string
		kind csvimport.Kind
	}{
		{"orders_zh.csv", csvimport.Orders}, {"orders_ja.csv", csvimport.Orders}, {"orders_en.tsv", csvimport.Orders},
		{"reviews.csv", csvimport.Reviews}, {"tickets.csv", csvimport.Tickets}, {"shifts.csv", csvimport.Shifts},
		{"customs.csv", csvimport.Customs}, {"listings.csv", csvimport.Listings}, {"competitors.csv", csvimport.Competitors},
		{"inventory.csv", csvimport.Inventory}, {"ads.csv", csvimport.Ads},
	}
	for _, f := range files {
		t.Run(f.file, func(t *testing.T) {
			data := readFile(t, f.file)
			first := importData(t, store, f.kind, data, csvimport.Options{BatchSize: 2})
			if first.Stats.Inserted == 0 || first.Stats.Updated != 0 || first.Stats.Unchanged != 0 {
				t.Errorf("first import: %+v", first.Stats)
			}
			again := importData(t, store, f.kind, data, csvimport.Options{BatchSize: 2})
			if want := (kpi.WriteStats{Unchanged: first.Stats.Inserted}); again.Stats != want || again.Read != first.Read {
				t.Errorf("second import: %+v, want %+v", again.Stats, want)
			}
		})
	}
	// A changed row is updated, the others unchanged.
	changed := strings.Replace(string(readFile(t, "ads.csv")), "11500,230", "11600,231", 1)
	sum := importData(t, store, csvimport.Ads, []byte(changed), csvimport.Options{})
	if want := (kpi.WriteStats{Updated: 1, Unchanged: 2}); sum.Stats != want {
		t.Errorf("a changed row: %+v, want %+v", sum.Stats, want)
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range csvimport.Kinds {
		if got, ok := csvimport.ParseKind(" " + strings.ToUpper(string(k))); !ok || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, ok)
		}
	}
	if _, ok := csvimport.ParseKind("returns"); ok {
		t.Error("ParseKind(returns) is ok")
	}
}

// Imports larger than a run of the store's bulk inserts: a file imported
// in part, then whole (its first rows stored, the rest new), then with a
// changed row. The counts are right each time, and so are the facts read
// between the imports (the rollups built after the first are invalidated).
func TestLargeImports(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kpi.db"), func() time.Time { return jst(2027, 1, 10, 12, 0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{{ID: shop, Platform: kpi.Rakuten, Name: "Rakuten", Currency: "JPY"}}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "orders.csv")
	const rows = 400
	if err := writeBenchOrders(path, rows); err != nil {
		t.Fatal(err)
	}
	whole := string(readPath(t, path))
	lines := strings.SplitAfter(whole, "\n")
	half := strings.Join(lines[:1+rows/2], "")
	shipped := func(data string) int { return strings.Count(data, ",shipped,") - 1 } // not the header's
	facts := func() *kpi.Facts {
		t.Helper()
		f, err := store.Facts(ctx, kpi.FactQuery{Shops: []string{shop}, From: kpi.NewDate(2025, 11, 1), To: kpi.NewDate(2027, 1, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return f[shop]
	}

	changed := strings.Replace(whole, "DXM-00000303,", "DXM-00000303X,", 1) // a shipped order under a new id
	steps := []struct {
		name              string
		data              string
		want              kpi.WriteStats
		orders, shipments int // in the facts after the import
	}{
		{"the first half", half, kpi.WriteStats{Inserted: rows/2 + shipped(half)}, rows / 2, shipped(half)},
		{"the whole file", whole, kpi.WriteStats{Inserted: rows/2 + shipped(whole) - shipped(half), Unchanged: rows/2 + shipped(half)},
			rows, shipped(whole)},
		{"again", whole, kpi.WriteStats{Unchanged: rows + shipped(whole)}, rows, shipped(whole)},
		{"a row changed", changed, kpi.WriteStats{Inserted: 2, Unchanged: rows + shipped(whole) - 2}, rows + 1, shipped(whole) + 1},
	}
	for _, st := range steps {
		sum := importData(t, store, csvimport.Orders, []byte(st.data), csvimport.Options{BatchSize: 150})
		if sum.Stats != st.want || sum.Rejected != 0 {
			t.Errorf("%s: %+v, want %+v", st.name, sum.Stats, st.want)
		}
		if f := facts(); f.Count[kpi.OrdersPlaced] != int64(st.orders) || f.Count[kpi.Shipments] != int64(st.shipments) {
			t.Errorf("%s: the facts count %d orders and %d shipments, want %d and %d", st.name,
				f.Count[kpi.OrdersPlaced], f.Count[kpi.Shipments], st.orders, st.shipments)
		}
	}
}

func readPath(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
