package bot

import (
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, kpi.Tokyo)

var shops = []kpi.Shop{
	{ID: "amazon-jp", Platform: kpi.Amazon, Name: "Amazon JP Main"},
	{ID: "rakuten", Platform: kpi.Rakuten, Name: "Rakuten Flagship"},
}

func TestParse(t *testing.T) {
	d := func(m time.Month, day int) kpi.Date { return kpi.NewDate(2026, m, day) }
	tests := []struct {
		text string
		want Command
	}{
		{"/kpi return_rate last month", Command{ActionMetric, kpi.Query{Metric: "return_rate", Period: kpi.LastMonth(now)}}},
		{"kpi gmv", Command{ActionMetric, kpi.Query{Metric: "gmv"}}},
		{"gmv yesterday", Command{ActionMetric, kpi.Query{Metric: "gmv", Period: kpi.Yesterday(now)}}},
		{"ｋｐｉ　ＧＭＶ　ｔｏｄａｙ", Command{ActionMetric, kpi.Query{Metric: "gmv", Period: kpi.Today(now)}}},
		{"/kpi ship-24h-rate yahoo last_7_days", Command{ActionMetric, kpi.Query{Metric: "ship_24h_rate",
			Scope: kpi.Scope{Platform: kpi.Yahoo}, Period: kpi.LastDays(now, 7)}}},
		{"/kpi gmv rakuten", Command{ActionMetric, kpi.Query{Metric: "gmv", Scope: kpi.Scope{Shop: "rakuten"}}}},
		{"/kpi acos amazon-jp 30d", Command{ActionMetric, kpi.Query{Metric: "acos", Scope: kpi.Scope{Shop: "amazon-jp"}, Period: kpi.LastDays(now, 30)}}},
		{"/kpi orders 2026-10", Command{ActionMetric, kpi.Query{Metric: "orders", Period: kpi.Month(2026, 10)}}},
		{"/kpi orders 2026/10/05", Command{ActionMetric, kpi.Query{Metric: "orders", Period: kpi.Day(d(10, 5))}}},
		{"/kpi orders 2026-10-01..2026-10-15", Command{ActionMetric, kpi.Query{Metric: "orders", Period: kpi.Range(d(10, 1), d(10, 15))}}},
		{"/kpi orders 2026/10/01-2026/10/15", Command{ActionMetric, kpi.Query{Metric: "orders", Period: kpi.Range(d(10, 1), d(10, 15))}}},
		{"/kpi orders this week", Command{ActionMetric, kpi.Query{Metric: "orders", Period: kpi.ThisWeek(now)}}},
		{"/kpi", Command{Action: ActionHelp}},
		{"/kpi help", Command{Action: ActionHelp}},
		{"/kpi list", Command{Action: ActionList}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.text, shops, now)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		text string
		key  string
	}{
		{"/kpi returns_rate", "error.unknown_metric"},
		{"/kpikpi gmv", "error.unknown_metric"},
		{"/kpi gmv next year", "error.bad_period"},
		{"/kpi gmv 2026-13", "error.bad_period"},
		{"/kpi gmv 2026-02-30", "error.bad_period"},
		{"/kpi gmv last 0 days", "error.bad_period"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.text, shops, now)
		e, ok := err.(*kpi.Error)
		if !ok || e.Key != tt.key {
			t.Errorf("Parse(%q) err = %v, want %s", tt.text, err, tt.key)
		}
	}
}
