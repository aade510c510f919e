package kpi

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

func TestSeries(t *testing.T) {
	e := &Engine{Store: fixture(), Now: func() time.Time { return testNow }}
	ctx := context.Background()

	// gmv day by day over 11-01 … 11-30 (clipped to today, 11-28: the
	// 30 days ending then, 10-30 … 11-28).
	s, err := e.Series(ctx, Query{Metric: "gmv", Period: Month(2026, time.November)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Period.From != NewDate(2026, 10, 30) || s.Period.To != NewDate(2026, 11, 29) || len(s.Points) != 30 {
		t.Fatalf("period %v with %d points, want 10-30 … 11-28, 30", s.Period, len(s.Points))
	}
	want := map[Date]float64{NewDate(2026, 11, 10): 21000, NewDate(2026, 11, 11): 8000, NewDate(2026, 11, 28): 4000}
	for i, p := range s.Points {
		if p.Day != s.Period.From+Date(i) {
			t.Fatalf("point %d is of %v", i, p.Day)
		}
		if p.Value.V != want[p.Day] {
			t.Errorf("gmv on %v = %v, want %v", p.Day, p.Value.V, want[p.Day])
		}
	}

	// One shop; no period: the 30 days before today.
	s, err = e.Series(ctx, Query{Metric: "gmv", Scope: Scope{Shop: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Period != LastDays(testNow, 30) || s.Points[NewDate(2026, 11, 10)-s.Period.From].Value.V != 6000 {
		t.Errorf("shop b: %v, 11-10 %v", s.Period, s.Points[NewDate(2026, 11, 10)-s.Period.From].Value)
	}

	// The cancel rate judged day by day: 11-11 has a seller cancellation
	// (a3) of four orders; the days without orders have no value.
	s, err = e.Series(ctx, Query{Metric: "cancel_rate", Period: Range(NewDate(2026, 11, 1), NewDate(2026, 11, 27))})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Points {
		switch p.Day {
		case NewDate(2026, 11, 11):
			if p.Value.V <= 0 {
				t.Errorf("cancel rate on 11-11 = %v", p.Value.V)
			}
		case NewDate(2026, 11, 10):
			if p.Value.V != 0 {
				t.Errorf("cancel rate on 11-10 = %v, want 0", p.Value.V)
			}
		case NewDate(2026, 11, 5):
			if !math.IsNaN(p.Value.V) || p.Verdict != VerdictNoData {
				t.Errorf("cancel rate on 11-05 = %v (%s), want no data", p.Value.V, p.Verdict)
			}
		}
	}

	// A lookback metric: each day's value is over the 60 days up to it,
	// so the defect of b1 (a chargeback, placed 11-10) stays in every
	// point from 11-10 on, and in none before.
	s, err = e.Series(ctx, Query{Metric: "order_defect_rate", Scope: Scope{Shop: "b"}, Period: Range(NewDate(2026, 11, 1), NewDate(2026, 11, 27))})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Points {
		if got := p.Value.V > 0; got != (p.Day >= NewDate(2026, 11, 10)) {
			t.Errorf("order defect rate on %v = %v", p.Day, p.Value.V)
		}
	}
}

func TestSeriesErrors(t *testing.T) {
	e := &Engine{Store: fixture(), Now: func() time.Time { return testNow }}
	tests := []struct {
		q    Query
		code Code
		key  string
	}{
		{Query{Metric: "nope"}, NotFound, "error.unknown_metric"},
		{Query{Metric: "pse_coverage"}, Invalid, "error.no_series"},
		{Query{Metric: "gmv", Period: Day(NewDate(2026, 12, 5))}, Invalid, "error.future_period"},
		{Query{Metric: "gmv", Scope: Scope{Shop: "b"}, Allowed: []string{"a"}}, Unauthorized, "error.shop_not_visible"},
	}
	for _, tt := range tests {
		_, err := e.Series(context.Background(), tt.q)
		var ke *Error
		if !errors.As(err, &ke) || ke.Code != tt.code || ke.Key != tt.key {
			t.Errorf("Series(%+v) = %v, want %v %s", tt.q, err, tt.code, tt.key)
		}
	}
}
