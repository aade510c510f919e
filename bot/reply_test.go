package bot

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func catalog(t testing.TB) *locales.Catalog {
	t.Helper()
	c, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func vocabulary(t testing.TB) locales.Vocabulary {
	t.Helper()
	v, err := catalog(t).Vocabulary()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// text lays a reply out plainly, for golden files.
func text(r Reply) string {
	var b strings.Builder
	fmt.Fprintf(&b, "title: %s\nverdict: %s\n", r.Title, r.Verdict)
	for _, f := range r.Fields {
		fmt.Fprintf(&b, "%s: %s\n", f.Label, f.Value)
	}
	if len(r.Rows) > 0 {
		fmt.Fprintf(&b, "%s:\n", r.RowsTitle)
	}
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "  [%s] %s %s (%s)\n", row.Verdict, row.Label, row.Value, row.Detail)
	}
	fmt.Fprintf(&b, "context: %s\n", r.Context)
	if r.Text != "" {
		fmt.Fprintf(&b, "text: %s\n", r.Text)
	}
	return b.String()
}

func returnRate() *kpi.Result {
	m, _ := kpi.Lookup("return_rate")
	p := kpi.LastMonth(now)
	return &kpi.Result{
		Metric: m, Period: p, Window: p, PrevWindow: p.Previous(),
		Value: kpi.Value{V: 0.061, Secondary: math.NaN(), Sample: 8234}, Prev: kpi.Value{V: 0.042, Secondary: math.NaN()},
		Verdict: kpi.VerdictBreach,
		Breakdown: []kpi.ShopResult{
			{Shop: shops[0], Value: kpi.Value{V: 0.032, Sample: 5000}, Prev: kpi.Value{V: 0.03}, Verdict: kpi.VerdictOK},
			{Shop: shops[1], Value: kpi.Value{V: 0.098, Sample: 3234}, Prev: kpi.Value{V: 0.051}, Verdict: kpi.VerdictBreach},
		},
	}
}

func firstResponse() *kpi.Result {
	m, _ := kpi.Lookup("first_response_minutes")
	p := kpi.Today(now)
	return &kpi.Result{
		Metric: m, Scope: kpi.Scope{Shop: "rakuten"}, Period: p, Window: p, PrevWindow: p.Previous(), Partial: true,
		Value: kpi.Value{V: 95, Secondary: 240, Sample: 7}, Prev: kpi.Value{V: 80, Secondary: 200},
		Verdict:   kpi.VerdictFew,
		Breakdown: []kpi.ShopResult{{Shop: shops[1], Value: kpi.Value{V: 95, Sample: 7}, Prev: kpi.Value{V: 80}, Verdict: kpi.VerdictFew}},
	}
}

func TestMetricReplyGolden(t *testing.T) {
	c := catalog(t)
	for _, lang := range locales.Langs {
		p := c.Printer(lang)
		golden(t, "return_rate."+string(lang)+".golden", text(metricReply(p, returnRate())))
		golden(t, "first_response."+string(lang)+".golden", text(metricReply(p, firstResponse())))
	}
	zh, ja := c.Printer(locales.Chinese), c.Printer(locales.Japanese)
	golden(t, "return_rate.zh+ja.golden", text(merge(metricReply(zh, returnRate()), metricReply(ja, returnRate()))))
	golden(t, "first_response.zh+ja.golden", text(merge(metricReply(zh, firstResponse()), metricReply(ja, firstResponse()))))
}

func TestFormatValue(t *testing.T) {
	p := catalog(t).Printer(locales.English)
	tests := []struct {
		unit kpi.Unit
		v    float64
		want string
	}{
		{kpi.Yen, 1234567.4, "¥1,234,567"},
		{kpi.Yen, -1500, "¥-1,500"},
		{kpi.Count, 999, "999"},
		{kpi.Percent, 0.9734, "97.3%"},
		{kpi.Percent, 0.0035, "0.35%"},
		{kpi.Percent, 0, "0.0%"},
		{kpi.Hours, 18.25, "18.2 h"},
		{kpi.Minutes, 1500, "1,500 min"},
		{kpi.Ratio, 4.625, "4.62"},
		{kpi.Percent, math.NaN(), "—"},
		{kpi.Percent, math.Inf(1), "∞"},
	}
	for _, tt := range tests {
		if got := formatValue(p, tt.unit, tt.v); got != tt.want {
			t.Errorf("formatValue(%s, %v) = %q, want %q", tt.unit, tt.v, got, tt.want)
		}
	}
	if got := formatChange(p, kpi.Percent, 0.061, 0.042); got != "+1.9 pt" {
		t.Errorf("change in points = %q", got)
	}
	if got := formatChange(p, kpi.Yen, 110, 100); got != "+10.0%" {
		t.Errorf("relative change = %q", got)
	}
}

// engineFunc is a Computer made of a function, for tests of Handle.
type engineFunc func(context.Context, kpi.Query) (*kpi.Result, error)

func (f engineFunc) Compute(ctx context.Context, q kpi.Query) (*kpi.Result, error) { return f(ctx, q) }

func (f engineFunc) Series(context.Context, kpi.Query) (*kpi.Series, error) {
	return nil, errors.New("engineFunc draws no series")
}

type shopList []kpi.Shop

func (s shopList) Shops(context.Context) ([]kpi.Shop, error) { return s, nil }

func TestHandleErrorsInTheAskersLanguage(t *testing.T) {
	failing := engineFunc(func(context.Context, kpi.Query) (*kpi.Result, error) {
		return nil, errors.New("sqlite: disk I/O error at /secret/path")
	})
	b, err := New(failing, shopList(shops), nil, nil, catalog(t), func() time.Time { return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang locales.Lang
		text string
		want string
	}{
		{locales.Japanese, "/kpi nope", "「/kpi nope」を理解できませんでした"},
		{locales.Chinese, "/kpi nope", "没能理解“/kpi nope”"},
		{locales.Chinese, "/kpi 销售额 acos", "销售额 还是 广告销售成本比"},
		{locales.English, "/kpi gmv 2026-13", `I can't read the period "2026-13"`},
		{locales.Japanese, "/kpi gmv", "システムで問題が発生しました"},
	}
	for _, tt := range tests {
		r := b.Handle(context.Background(), Request{Text: tt.text, ChannelLang: tt.lang})
		if r.Err == nil || !strings.Contains(r.Text, tt.want) {
			t.Errorf("%s %q: %q (err %v), want it to contain %q", tt.lang, tt.text, r.Text, r.Err, tt.want)
		}
		if strings.Contains(r.Text, "/secret/path") {
			t.Errorf("an internal error leaked to the user: %q", r.Text)
		}
	}
	list := b.Handle(context.Background(), Request{Text: "/kpi list", ChannelLang: locales.Japanese})
	if strings.Count(list.Text, " — ") != len(kpi.Catalog) || !strings.Contains(list.Text, "返品・レビュー\nreturn_rate — 返品率（≤ 5.0%）") {
		t.Errorf("list:\n%s", list.Text)
	}
}

func TestPlainTextAlignsWideText(t *testing.T) {
	r := Reply{
		Title:     "返品率 · 全ショップ · 先月",
		Verdict:   kpi.VerdictBreach,
		Fields:    []Field{{Label: "値", Value: "6.1%"}, {Label: "前期間", Value: "4.2%"}},
		RowsTitle: "ショップ別",
		Rows: []Row{
			{Label: "楽天本店", Value: "9.8%", Detail: "前期間 5.1%", Verdict: kpi.VerdictBreach},
			{Label: "Amazon JP", Value: "10.2%", Detail: "前期間 3.0%", Verdict: kpi.VerdictOK},
		},
		Context: "2026-10-01 – 2026-10-31",
	}
	want := `❌ 返品率 · 全ショップ · 先月
  値      6.1%
  前期間  4.2%
ショップ別
  ❌ 楽天本店    9.8%  (前期間 5.1%)
  ✅ Amazon JP  10.2%  (前期間 3.0%)
  2026-10-01 – 2026-10-31
`
	if got := r.PlainText(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A shop whose first sync has stored nothing shows as no data yet, not as
// zero, and a note says why the total leaves it out.
func TestMetricReplyShopWithoutRecords(t *testing.T) {
	m, _ := kpi.Lookup("orders")
	p := kpi.Today(now)
	r := &kpi.Result{
		Metric: m, Period: p, Window: p, PrevWindow: p.Previous(), Partial: true,
		Value: kpi.Value{V: 14, Secondary: math.NaN(), Sample: 14}, Prev: kpi.Value{V: 25, Secondary: math.NaN()},
		Verdict: kpi.VerdictInfo,
		Breakdown: []kpi.ShopResult{
			{Shop: shops[0], Value: kpi.Value{V: 14, Sample: 14}, Prev: kpi.Value{V: 25}, Verdict: kpi.VerdictInfo},
			{Shop: shops[1], Value: kpi.Value{V: math.NaN(), Secondary: math.NaN()}, Prev: kpi.Value{V: math.NaN()},
				Verdict: kpi.VerdictNoData, NoRecords: true},
		},
	}
	for _, lang := range locales.Langs {
		pr := catalog(t).Printer(lang)
		rep := metricReply(pr, r)
		if row := rep.Rows[1]; row.Value != "—" || row.Detail != pr.T("reply.no_records_row", nil) || row.Verdict != kpi.VerdictNoData {
			t.Errorf("%s: the shop without records: %+v", lang, row)
		}
		if row := rep.Rows[0]; row.Value != "14" {
			t.Errorf("%s: the shop with records: %+v", lang, row)
		}
		if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], shops[1].Name) || strings.Contains(rep.Notes[0], shops[0].Name) {
			t.Errorf("%s: notes %q, want one naming %s alone", lang, rep.Notes, shops[1].Name)
		}
	}
}
