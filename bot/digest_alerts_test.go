package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// The chat channels of the digest tests.
var (
	hqChannel      = kpi.ChatChannel{Platform: "slack", ID: "C-HQ", Role: kpi.RoleHQ, Lang: "zh"}
	supportChannel = kpi.ChatChannel{Platform: "line", ID: "C-JP", Role: kpi.RoleJPSupport, Lang: "ja"}
	rakutenChannel = kpi.ChatChannel{Platform: "line", ID: "U-RAKUTEN", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten"}}
)

// digestTestAlerts are testAlerts as they were sent: #12 to every channel,
// #13 to hq and Japan support, #14 to hq only, #15 to Japan support and
// the Rakuten team.
func digestTestAlerts() []kpi.Alert {
	sent := map[int64][]string{
		12: {"slack:C-HQ", "line:C-JP", "line:U-RAKUTEN"},
		13: {"slack:C-HQ", "line:C-JP"},
		14: {"slack:C-HQ"},
		15: {"line:C-JP", "line:U-RAKUTEN"},
	}
	alerts := testAlerts()
	for i := range alerts {
		alerts[i].Channels = sent[alerts[i].ID]
	}
	return alerts
}

// digestValues are every shop's KPIs of the day and of a week before in
// the digest tests.
var digestValues = map[string][2]float64{
	"gmv": {120000, 100000}, "orders": {40, 38}, "ship_24h_rate": {0.97, 0.95}, "cancel_rate": {0.01, 0.01},
	"return_rate": {0.03, 0.04}, "negative_reviews": {0, 1}, "first_response_minutes": {35, 40}, "acos": {0.22, 0.25},
	"days_of_cover": {40, math.NaN()}, "reviews_awaiting_reply": {0, math.NaN()},
}

// digestEngine computes the digest's KPIs from digestValues, for the shops
// a query allows; Rakuten's return rate, 9.8%, is its one breach.
func digestEngine(t *testing.T) engineFunc {
	return func(_ context.Context, q kpi.Query) (*kpi.Result, error) {
		m, ok := kpi.Lookup(q.Metric)
		vals, known := digestValues[q.Metric]
		if !ok || !known {
			t.Errorf("the digest asked for %q", q.Metric)
			return nil, fmt.Errorf("no metric %q", q.Metric)
		}
		r := &kpi.Result{Metric: m, Period: q.Period, Window: q.Period, Verdict: kpi.VerdictOK}
		for _, s := range shops {
			if len(q.Allowed) > 0 && !slices.Contains(q.Allowed, s.ID) {
				continue
			}
			sl := kpi.ShopResult{Shop: s, Value: kpi.Value{V: vals[0]}, Prev: kpi.Value{V: vals[1]}, Verdict: kpi.VerdictOK}
			if q.Metric == "return_rate" && s.ID == "rakuten" {
				sl.Value.V, sl.Verdict, r.Verdict = 0.098, kpi.VerdictBreach, kpi.VerdictBreach
			}
			r.Value.V += sl.Value.V
			r.Prev.V += sl.Prev.V
			r.Breakdown = append(r.Breakdown, sl)
		}
		return r, nil
	}
}

// newDigestBot is a bot over digestEngine with desk (none when nil) whose
// log goes to the buffer it returns.
func newDigestBot(t *testing.T, desk AlertDesk) (*Bot, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	b, err := New(digestEngine(t), shopList(shops), nil, nil, catalog(t), func() time.Time { return now },
		slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if desk != nil {
		b.SetAlerts(desk)
	}
	return b, &log
}

// The digest lists the open alerts sent to the channel, right after what
// needs attention, and counts them in its title, thus in its summary.
func TestDigestAlertsGolden(t *testing.T) {
	tests := []struct {
		name   string
		ch     kpi.ChatChannel
		lang   locales.Lang
		ids    []string // the alerts listed, in order
		listed []string // the shops the desk was asked for
		count  string   // in the summary
	}{
		{"hq", hqChannel, locales.Bilingual, []string{"#12", "#14", "#13"}, nil, "未解决告警 3 条"},
		// Japan support reads Chinese and Japanese, like hq.
		{"jp-support", supportChannel, locales.Bilingual, []string{"#12", "#13", "#15"}, nil, "未解決のアラート 3件"},
		{"rakuten", rakutenChannel, locales.Japanese, []string{"#12", "#15"}, []string{"rakuten"}, "未解決のアラート 2件"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desk, _, listed := newDesk(digestTestAlerts())
			b, _ := newDigestBot(t, desk)
			rep, err := b.Report(context.Background(), ReportDigest, tt.ch, kpi.DateOf(now))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Lang != tt.lang {
				t.Errorf("in %s, want %s", rep.Lang, tt.lang)
			}
			if len(*listed) != 1 || !slices.Equal((*listed)[0], tt.listed) {
				t.Errorf("the desk listed the alerts of %q, want %q", *listed, tt.listed)
			}
			if len(rep.Sections) == 0 {
				t.Fatal("no sections")
			}
			var ids []string
			for _, row := range rep.Sections[0].Rows {
				ids = append(ids, strings.Fields(row.Label)[0])
			}
			if !slices.Equal(ids, tt.ids) {
				t.Errorf("the digest lists %q, want %q", ids, tt.ids)
			}
			if s := rep.Summary(); !strings.Contains(s, tt.count) {
				t.Errorf("summary %q does not count the alerts (%q)", s, tt.count)
			}
			golden(t, "digest_alerts."+tt.name+"."+string(tt.lang)+".golden", "summary: "+rep.Summary()+"\n---\n"+rep.PlainText())
		})
	}
}

// The digest orders the alerts as the list does: critical first, then open
// before acknowledged or snoozed, then the oldest first. A chat channel
// gets those it was sent; the console those of its shops.
func TestDigestAlertsSelection(t *testing.T) {
	at := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, kpi.Tokyo) }
	alert := func(id int64, shop string, sev kpi.Severity, state kpi.AlertState, opened time.Time, sentTo ...string) kpi.Alert {
		return kpi.Alert{ID: id, Metric: "return_rate", Shop: shop, Severity: sev, State: state, Opened: opened,
			Value: 0.09, Target: 0.05, Channels: sentTo}
	}
	const hq = "slack:C-HQ"
	alerts := []kpi.Alert{ // as a desk lists them: oldest first
		alert(1, "yahoo", kpi.SeverityWarning, kpi.AlertOpen, at(20, 8), hq),
		alert(2, "rakuten", kpi.SeverityCritical, kpi.AlertAcked, at(21, 8), hq),
		alert(3, "amazon-jp", kpi.SeverityWarning, kpi.AlertSnoozed, at(22, 8), hq),
		alert(4, "rakuten", kpi.SeverityCritical, kpi.AlertOpen, at(26, 8), hq),
		alert(5, "amazon-jp", kpi.SeverityCritical, kpi.AlertOpen, at(23, 8), hq),
		alert(6, "yahoo", kpi.SeverityWarning, kpi.AlertAcked, at(27, 8), hq),
		alert(7, "rakuten", kpi.SeverityCritical, kpi.AlertOpen, at(19, 8), "line:C-JP"),       // not sent to hq
		alert(8, "yahoo", kpi.SeverityCritical, kpi.AlertResolved, at(18, 8), hq, "line:C-JP"), // over
	}
	tests := []struct {
		name string
		ch   kpi.ChatChannel
		want []int64
	}{
		{"hq", hqChannel, []int64{5, 4, 2, 1, 6, 3}},
		{"hq of one shop", kpi.ChatChannel{Platform: "slack", ID: "C-HQ", Role: kpi.RoleHQ, Shops: []string{"rakuten"}}, []int64{4, 2}},
		{"console, every shop", kpi.ChatChannel{Lang: "zh"}, []int64{7, 5, 4, 2, 1, 6, 3}},
		{"console, two shops", kpi.ChatChannel{Lang: "en", Shops: []string{"yahoo", "amazon-jp"}}, []int64{5, 1, 6, 3}},
		{"a channel sent none", kpi.ChatChannel{Platform: "line", ID: "U-NOBODY", Role: kpi.RoleShop}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A leaky desk: the digest narrows to the channel's shops itself.
			desk := &fakeDesk{active: func(context.Context, []string) ([]kpi.Alert, error) { return slices.Clone(alerts), nil }}
			b, _ := newDigestBot(t, desk)
			rep, err := b.Report(context.Background(), ReportDigest, tt.ch, kpi.DateOf(now))
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			if len(rep.Sections) > 0 && strings.HasPrefix(rep.Sections[0].Rows[0].Label, "#") {
				for _, row := range rep.Sections[0].Rows {
					var id int64
					fmt.Sscanf(row.Label, "#%d", &id)
					got = append(got, id)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("listed %v, want %v", got, tt.want)
			}
			if (tt.want == nil) != (len(rep.Sections) == len(shopsOf(tt.ch))) {
				t.Errorf("%d sections for %d shops and %d alerts", len(rep.Sections), len(shopsOf(tt.ch)), len(tt.want))
			}
		})
	}
}

// shopsOf returns the test shops a channel sees.
func shopsOf(ch kpi.ChatChannel) []kpi.Shop {
	var out []kpi.Shop
	for _, s := range shops {
		if len(ch.Shops) == 0 || slices.Contains(ch.Shops, s.ID) {
			out = append(out, s)
		}
	}
	return out
}

// The digest lists 8 alerts at most, then says how many more there are.
func TestDigestAlertsCap(t *testing.T) {
	tests := []struct {
		n    int
		rows int    // in the section
		last string // the last row's label
	}{
		{1, 1, "#1 · Rakuten Flagship · return rate"},
		{8, 8, "#8 · Rakuten Flagship · return rate"},
		{9, 9, "…and 1 more lines"},
		{20, 9, "…and 12 more lines"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			var alerts []kpi.Alert
			for i := range tt.n {
				alerts = append(alerts, kpi.Alert{ID: int64(i + 1), Metric: "return_rate", Shop: "rakuten", Severity: kpi.SeverityWarning,
					State: kpi.AlertOpen, Opened: now.Add(time.Duration(i-tt.n) * time.Hour), Value: 0.09, Target: 0.05})
			}
			desk, _, _ := newDesk(alerts)
			b, _ := newDigestBot(t, desk)
			rep, err := b.Report(context.Background(), ReportDigest, kpi.ChatChannel{Lang: "en"}, kpi.DateOf(now))
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Sections[0]
			if want := fmt.Sprintf("Open alerts · %d", tt.n); s.Title != want {
				t.Errorf("section %q, want %q", s.Title, want)
			}
			if len(s.Rows) != tt.rows || s.Rows[len(s.Rows)-1].Label != tt.last {
				t.Errorf("%d rows, the last %q; want %d, %q", len(s.Rows), s.Rows[len(s.Rows)-1].Label, tt.rows, tt.last)
			}
			if !strings.Contains(rep.Summary(), fmt.Sprintf("open alerts: %d", tt.n)) {
				t.Errorf("summary %q", rep.Summary())
			}
		})
	}
}

// Without a desk, without alerts, or when the desk fails, the digest has
// no alerts section; a failing desk is logged, and the digest still goes.
// A digest of an older day does not list the alerts open now.
func TestDigestWithoutAlerts(t *testing.T) {
	failing := &fakeDesk{active: func(context.Context, []string) ([]kpi.Alert, error) {
		return nil, errors.New("sqlite: database is locked")
	}}
	quiet, _, _ := newDesk(nil)
	unasked := &fakeDesk{active: func(context.Context, []string) ([]kpi.Alert, error) {
		t.Error("the digest of an older day asked for the open alerts")
		return digestTestAlerts(), nil
	}}
	today := kpi.DateOf(now)
	tests := []struct {
		name  string
		desk  AlertDesk
		day   kpi.Date // sent on
		title string
		log   []string // in the log; none when empty
	}{
		{"no desk", nil, today, "每日简报 · 2026-11-27（周五） / デイリーダイジェスト · 2026-11-27（金）", nil},
		{"no alerts", quiet, today, "每日简报 · 2026-11-27（周五） / デイリーダイジェスト · 2026-11-27（金）", nil},
		{"desk fails", failing, today, "每日简报 · 2026-11-27（周五） / デイリーダイジェスト · 2026-11-27（金）",
			[]string{"level=WARN", "digest without its open alerts", "channel=C-HQ", "database is locked"}},
		{"older day", unasked, today - 2, "每日简报 · 2026-11-25（周三） / デイリーダイジェスト · 2026-11-25（水）", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, log := newDigestBot(t, tt.desk)
			rep, err := b.Report(context.Background(), ReportDigest, hqChannel, tt.day)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Sections) != len(shops) {
				t.Errorf("%d sections, want one per shop", len(rep.Sections))
			}
			for _, s := range rep.Sections {
				if strings.Contains(s.Title, "告警") {
					t.Errorf("an alerts section: %q", s.Title)
				}
			}
			if rep.Title != tt.title {
				t.Errorf("title %q, want %q", rep.Title, tt.title)
			}
			for _, w := range tt.log {
				if !strings.Contains(log.String(), w) {
					t.Errorf("the log lacks %q:\n%s", w, log)
				}
			}
			if len(tt.log) == 0 && log.Len() > 0 {
				t.Errorf("logged:\n%s", log)
			}
		})
	}
}

// Weekly and monthly reviews do not list alerts: they do not ask the desk.
func TestReviewsWithoutAlerts(t *testing.T) {
	desk := &fakeDesk{active: func(context.Context, []string) ([]kpi.Alert, error) {
		t.Error("a review asked for the open alerts")
		return nil, nil
	}}
	engine := engineFunc(func(_ context.Context, q kpi.Query) (*kpi.Result, error) {
		m, _ := kpi.Lookup(q.Metric)
		return &kpi.Result{Metric: m, Period: q.Period, Verdict: kpi.VerdictOK}, nil
	})
	b, err := New(engine, shopList(shops), nil, nil, catalog(t), func() time.Time { return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.SetAlerts(desk)
	for _, kind := range []string{ReportWeekly, ReportMonthly} {
		if _, err := b.Report(context.Background(), kind, hqChannel, kpi.DateOf(now)); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
}
