package kpi

import (
	"testing"
	"time"
)

func TestPeriods(t *testing.T) {
	// Saturday 2026-11-28 00:30 JST is still Friday 11-27 in UTC.
	now := time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)
	d := func(m time.Month, day int) Date { return NewDate(2026, m, day) }
	tests := []struct {
		name       string
		p          Period
		from, last Date
		prev       Period
	}{
		{"today", Today(now), d(11, 28), d(11, 28), Period{KindToday, d(11, 27), d(11, 28)}},
		{"yesterday", Yesterday(now), d(11, 27), d(11, 27), Period{KindYesterday, d(11, 26), d(11, 27)}},
		{"this week so far", ThisWeek(now), d(11, 23), d(11, 28), Period{KindThisWeek, d(11, 16), d(11, 22)}},
		{"last week", LastWeek(now), d(11, 16), d(11, 22), Period{KindLastWeek, d(11, 9), d(11, 16)}},
		{"this month so far", ThisMonth(now), d(11, 1), d(11, 28), Period{KindThisMonth, d(10, 1), d(10, 29)}},
		{"last month", LastMonth(now), d(10, 1), d(10, 31), Period{KindLastMonth, d(9, 1), d(10, 1)}},
		{"last 7 days", LastDays(now, 7), d(11, 21), d(11, 27), Period{KindLastDays, d(11, 14), d(11, 21)}},
		{"a month", Month(2026, 2), d(2, 1), d(2, 28), Period{KindMonth, d(1, 1), d(2, 1)}},
		{"a date", Day(d(3, 1)), d(3, 1), d(3, 1), Period{KindDate, d(2, 28), d(3, 1)}},
		{"a range", Range(d(10, 15), d(10, 1)), d(10, 1), d(10, 15), Period{KindRange, d(9, 16), d(10, 1)}},
	}
	for _, tt := range tests {
		if tt.p.From != tt.from || tt.p.Last() != tt.last {
			t.Errorf("%s = %v, want %v..%v", tt.name, tt.p, tt.from, tt.last)
		}
		if got := tt.p.Previous(); got != tt.prev {
			t.Errorf("%s previous = %v (%s), want %v", tt.name, got, got.Kind, tt.prev)
		}
	}
	// March 31st: this month so far against all of February.
	endOfMarch := time.Date(2026, 3, 31, 12, 0, 0, 0, Tokyo)
	if got := ThisMonth(endOfMarch).Previous(); got.From != d(2, 1) || got.Last() != d(2, 28) {
		t.Errorf("previous of March so far = %v", got)
	}
	if got := LastWeek(now).Days(); got != 7 {
		t.Errorf("a week has %d days", got)
	}
}

func TestDates(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 10, 14, 59, 59, 0, time.UTC), "2026-11-10"}, // 23:59:59 JST
		{time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC), "2026-11-11"},   // 00:00:00 JST
		{time.Date(2026, 12, 31, 15, 0, 0, 0, time.UTC), "2027-01-01"},
	} {
		if got := DateOf(tt.t).String(); got != tt.want {
			t.Errorf("DateOf(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
	if got := NewDate(2026, 11, 11).Start(); !got.Equal(time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("start of 11-11 = %v", got)
	}
	if got := NewDate(2026, 1, 31).AddMonths(1); got != NewDate(2026, 2, 28) {
		t.Errorf("Jan 31 + 1 month = %v", got)
	}
	for in, want := range map[string]string{"2026-10-01": "2026-10-01", "2026/1/5": "2026-01-05"} {
		d, err := ParseDate(in)
		if err != nil || d.String() != want {
			t.Errorf("ParseDate(%q) = %v, %v", in, d, err)
		}
	}
	for _, in := range []string{"2026-02-30", "2026-13-01", "20261001", "2026-10/01", "yesterday", ""} {
		if _, err := ParseDate(in); ErrorCode(err) != Invalid {
			t.Errorf("ParseDate(%q) err = %v, want invalid", in, err)
		}
	}
}
