package bot

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot/chart"
	"github.com/kpibot/kpibot/connectors/demo"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

// chartNow is Saturday 2026-11-28 10:00 JST.
var chartNow = time.Date(2026, 11, 28, 10, 0, 0, 0, kpi.Tokyo)

// demoBot is a bot over a real SQLite store seeded with the demo shops.
func demoBot(t *testing.T) *Bot {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return chartNow }
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kpi.db"), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := demo.Seed(ctx, s, chartNow); err != nil {
		t.Fatal(err)
	}
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(&kpi.Engine{Store: s, Now: now}, s, nil, nil, text, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChartRequests(t *testing.T) {
	b := demoBot(t)
	today := kpi.DateOf(chartNow)
	last30 := kpi.LastDays(chartNow, 30)
	tests := []struct {
		line   string
		chart  bool // asked for with Request.Chart, as kpibot chart does
		metric string
		period kpi.Period
		lang   locales.Lang
		none   bool
	}{
		{line: "/kpi 返品率 過去30日 グラフ", metric: "return_rate", period: kpi.Period{Kind: kpi.KindLastDays, From: today - 30, To: today}, lang: locales.Japanese},
		{line: "/kpi 退货率 上周 图表", metric: "return_rate", period: kpi.LastWeek(chartNow), lang: locales.Chinese},
		{line: "/kpi returns last month chart", metric: "return_rate", period: kpi.LastMonth(chartNow), lang: locales.English},
		{line: "/kpi gmv rakuten graph", metric: "gmv", period: last30, lang: locales.English},
		{line: "/kpi gmv", chart: true, metric: "gmv", period: last30, lang: locales.English},
		{line: "/kpi 楽天 先週 チャート", metric: "", period: kpi.LastWeek(chartNow), lang: locales.Japanese},
		{line: "/kpi gmv", none: true},                  // not asked
		{line: "/kpi pse_coverage chart", none: true},   // the state now: no trend
		{line: "/kpi help chart", none: true},           // nothing to draw
		{line: "/kpi gmv 2026-02-30 chart", none: true}, // an error
	}
	for _, tt := range tests {
		rep := b.Handle(context.Background(), Request{Text: tt.line, Chart: tt.chart})
		if tt.none {
			if rep.Chart != nil {
				t.Errorf("%s: chart %+v, want none", tt.line, rep.Chart)
			}
			continue
		}
		c := rep.Chart
		if c == nil {
			t.Errorf("%s: no chart (reply %q)", tt.line, rep.PlainText())
			continue
		}
		if c.Query.Metric != tt.metric || c.Query.Period != tt.period || c.Lang != tt.lang {
			t.Errorf("%s: chart %s %v in %s, want %s %v in %s", tt.line, c.Query.Metric, c.Query.Period, c.Lang, tt.metric, tt.period, tt.lang)
		}
	}

	// A metric with no trend says why, and still answers.
	rep := b.Handle(context.Background(), Request{Text: "/kpi pse_coverage chart", ChannelLang: locales.English})
	if rep.Err != nil || len(rep.Notes) == 0 || !bytes.Contains([]byte(rep.Notes[len(rep.Notes)-1]), []byte("no day-by-day trend")) {
		t.Errorf("pse_coverage chart: err %v, notes %q", rep.Err, rep.Notes)
	}
}

func TestDrawChart(t *testing.T) {
	b := demoBot(t)
	ctx := context.Background()
	tests := []struct {
		name string
		c    ChartRequest
		size chart.Size
	}{
		{"trend ja", ChartRequest{Query: kpi.Query{Metric: "return_rate", Period: kpi.LastDays(chartNow, 30)}, Lang: locales.Japanese}, chart.Large},
		{"trend zh preview", ChartRequest{Query: kpi.Query{Metric: "ship_24h_rate", Scope: kpi.Scope{Shop: "rakuten"}, Period: kpi.LastDays(chartNow, 90)}, Lang: locales.Chinese}, chart.Preview},
		{"overview bilingual", ChartRequest{Query: kpi.Query{Period: kpi.LastDays(chartNow, 30), Allowed: []string{"rakuten"}}, Lang: locales.Bilingual}, chart.Large},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := b.DrawChart(ctx, &buf, tt.c, tt.size); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Errorf("%s: not a PNG: %v", tt.name, err)
			continue
		}
		if got := img.Bounds().Size(); got.X != tt.size.W || (tt.c.Query.Metric != "" && got.Y != tt.size.H) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.size)
		}
	}

	// The state now has no trend; a shop the asker may not see is refused.
	for _, c := range []ChartRequest{
		{Query: kpi.Query{Metric: "pse_coverage"}, Lang: locales.English},
		{Query: kpi.Query{Metric: "gmv", Scope: kpi.Scope{Shop: "rakuten"}, Allowed: []string{"amazon-jp"}}, Lang: locales.English},
	} {
		var ke *kpi.Error
		if err := b.DrawChart(ctx, &bytes.Buffer{}, c, chart.Large); !errors.As(err, &ke) {
			t.Errorf("DrawChart(%+v) = %v, want a kpi.Error", c.Query, err)
		}
	}
}

func TestSeriesMatchesCompute(t *testing.T) {
	// Every day of a trend is the metric's value over that day, as a
	// question about the day would answer.
	b := demoBot(t)
	ctx := context.Background()
	e := b.engine
	for _, id := range digestMetrics {
		s, err := e.Series(ctx, kpi.Query{Metric: id, Period: kpi.LastDays(chartNow, 30)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []kpi.Point{s.Points[0], s.Points[17], s.Points[29]} {
			r, err := e.Compute(ctx, kpi.Query{Metric: id, Period: kpi.Day(p.Day)})
			if err != nil {
				t.Fatal(err)
			}
			if same := r.Value.V == p.Value.V || r.Value.V != r.Value.V && p.Value.V != p.Value.V; !same || r.Verdict != p.Verdict {
				t.Errorf("%s on %v: series %v (%s), compute %v (%s)", id, p.Day, p.Value.V, p.Verdict, r.Value.V, r.Verdict)
			}
		}
	}
}

func TestDigestHasItsOverview(t *testing.T) {
	b := demoBot(t)
	day := kpi.DateOf(chartNow)
	ch := kpi.ChatChannel{Platform: "slack", ID: "C1", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten"}}
	rep, err := b.Report(context.Background(), ReportDigest, ch, day)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Chart
	if c == nil || c.Query.Metric != "" || c.Query.Period != kpi.Range(day-30, day-1) || len(c.Query.Allowed) != 1 || c.Lang != locales.Japanese {
		t.Fatalf("digest chart %+v", c)
	}
	// It survives the outbox.
	data, err := EncodeOutgoing(ch, rep)
	if err != nil {
		t.Fatal(err)
	}
	_, back, err := DecodeOutgoing(data)
	if err != nil || back.Chart == nil || back.Chart.Query.Period != c.Query.Period || back.Chart.Lang != c.Lang {
		t.Fatalf("decoded chart %+v, %v", back.Chart, err)
	}
	if rep, err = b.Report(context.Background(), ReportWeekly, ch, day); err != nil || rep.Chart != nil {
		t.Errorf("weekly review: chart %+v, %v; want none", rep.Chart, err)
	}
}
