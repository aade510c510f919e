package kpi

import (
	"math/rand/v2"
	"testing"
	"time"
)

// pausedHours pause Golden Week, 2026-05-03..05-05 (a Sunday to a Tuesday),
// and the New Year break, 2026-12-29..2027-01-03.
var pausedHours = BusinessHours{Open: 9 * time.Hour, Close: 18 * time.Hour, Paused: func(d Date) bool {
	return d >= NewDate(2026, 5, 3) && d < NewDate(2026, 5, 6) ||
		d >= NewDate(2026, 12, 29) && d < NewDate(2027, 1, 4)
}}

func TestShipClock(t *testing.T) {
	at := func(m time.Month, d, h, mi int) time.Time { return jst(2026, m, d, h, mi, 0) }
	tests := []struct {
		name       string
		start, end time.Time
		paused     time.Duration // with pausedHours
	}{
		{"no pause in between", at(5, 12, 10, 0), at(5, 13, 11, 30), 25*time.Hour + 30*time.Minute},
		{"over Golden Week", at(5, 2, 20, 0), at(5, 6, 9, 0), 13 * time.Hour},
		{"paid during the pause", at(5, 4, 12, 0), at(5, 6, 23, 0), 23 * time.Hour},
		{"inside the pause", at(5, 3, 1, 0), at(5, 5, 23, 0), 0},
		{"into the pause", at(5, 2, 20, 0), at(5, 4, 12, 0), 4 * time.Hour},
		{"at the pause's edges", at(5, 3, 0, 0), at(5, 6, 0, 0), 0},
		{"over the New Year", at(12, 28, 15, 0), jst(2027, 1, 4, 15, 0, 0), 24 * time.Hour},
		{"backwards", at(5, 6, 9, 0), at(5, 2, 20, 0), -85 * time.Hour},
	}
	for _, tt := range tests {
		if got := pausedHours.ShipClock(tt.start, tt.end); got != tt.paused {
			t.Errorf("%s: ShipClock = %v, want %v", tt.name, got, tt.paused)
		}
		if got := DefaultHours.ShipClock(tt.start, tt.end); got != tt.end.Sub(tt.start) {
			t.Errorf("%s: without pauses ShipClock = %v, want %v", tt.name, got, tt.end.Sub(tt.start))
		}
	}
}

func TestShipDeadline(t *testing.T) {
	at := func(m time.Month, d, h, mi int) time.Time { return jst(2026, m, d, h, mi, 0) }
	tests := []struct {
		name        string
		start, want time.Time
	}{
		{"no pause", at(5, 12, 10, 0), at(5, 13, 10, 0)},
		{"evening before the pause", at(5, 2, 20, 0), at(5, 6, 20, 0)},
		{"during the pause", at(5, 4, 12, 0), at(5, 7, 0, 0)},
		{"at the pause's start", at(5, 3, 0, 0), at(5, 7, 0, 0)},
		{"due as the pause starts", at(5, 2, 0, 0), at(5, 3, 0, 0)},
		{"before the New Year break", at(12, 28, 15, 0), jst(2027, 1, 4, 15, 0, 0)},
	}
	for _, tt := range tests {
		if got := pausedHours.ShipDeadline(tt.start); !got.Equal(tt.want) {
			t.Errorf("%s: ShipDeadline(%v) = %v, want %v", tt.name, tt.start, got, tt.want)
		}
	}
	// The deadline is the first instant the clock reaches the target.
	r := rand.New(rand.NewPCG(3, 4))
	base := jst(2026, 4, 25, 0, 0, 0)
	for range 2000 {
		start := base.Add(time.Duration(r.Int64N(int64(20*24*time.Hour))) / time.Second * time.Second)
		due := pausedHours.ShipDeadline(start)
		if got := pausedHours.ShipClock(start, due); got != ShipTarget {
			t.Fatalf("ShipClock(%v, its deadline %v) = %v", start, due, got)
		}
		if got := pausedHours.ShipClock(start, due.Add(-time.Second)); got >= ShipTarget {
			t.Fatalf("ShipClock(%v, a second before its deadline %v) = %v", start, due, got)
		}
	}
	forever := BusinessHours{Paused: func(Date) bool { return true }}
	if got := forever.ShipDeadline(base); got.Before(base.Add(maxPauseDays * 24 * time.Hour)) {
		t.Errorf("a pause without end: deadline %v", got)
	}
}

// TestBuildFactsPauses checks that paused days do not count against the
// 24-hour ship target: orders around Golden Week, with and without the pause.
func TestBuildFactsPauses(t *testing.T) {
	at := func(m time.Month, d, h, mi int) time.Time { return jst(2026, m, d, h, mi, 0) }
	tests := []struct {
		name          string
		paid, shipped time.Time // shipped zero: not shipped by asOf
		asOf          time.Time
		hours         BusinessHours
		in24, due     int64
		minutes       int64 // ship minutes, if shipped
	}{
		{"evening before the pause, shipped the morning after, with the pause",
			at(5, 2, 20, 0), at(5, 6, 9, 0), at(5, 20, 0, 0), pausedHours, 1, 1, 13 * 60},
		{"the same without the pause",
			at(5, 2, 20, 0), at(5, 6, 9, 0), at(5, 20, 0, 0), DefaultHours, 0, 1, 85 * 60},
		{"paid during the pause, shipped 23 h after it",
			at(5, 4, 12, 0), at(5, 6, 23, 0), at(5, 20, 0, 0), pausedHours, 1, 1, 23 * 60},
		{"paid during the pause, shipped 25 h after it",
			at(5, 4, 12, 0), at(5, 7, 1, 0), at(5, 20, 0, 0), pausedHours, 0, 1, 25 * 60},
		{"paid during the pause, without the pause",
			at(5, 4, 12, 0), at(5, 6, 23, 0), at(5, 20, 0, 0), DefaultHours, 0, 1, 59 * 60},
		{"unshipped, its unpaused 24 h not over",
			at(5, 2, 20, 0), time.Time{}, at(5, 6, 19, 59), pausedHours, 0, 0, 0},
		{"unshipped, its unpaused 24 h over",
			at(5, 2, 20, 0), time.Time{}, at(5, 6, 20, 0), pausedHours, 0, 1, 0},
		{"unshipped, late without the pause",
			at(5, 2, 20, 0), time.Time{}, at(5, 3, 20, 0), DefaultHours, 0, 1, 0},
		{"no pause near, late either way",
			at(5, 12, 10, 0), at(5, 13, 11, 0), at(5, 20, 0, 0), pausedHours, 0, 1, 25 * 60},
		{"no pause near, in time either way",
			at(5, 12, 10, 0), at(5, 13, 9, 0), at(5, 20, 0, 0), pausedHours, 1, 1, 23 * 60},
	}
	for _, tt := range tests {
		recs := &Records{Orders: []Order{{Shop: "a", ID: "o", Placed: tt.paid.Add(-time.Minute), Paid: tt.paid,
			Status: StatusUnshipped, Total: 1000, Units: 1}}}
		if !tt.shipped.IsZero() {
			recs.Orders[0].Status = StatusShipped
			recs.Shipments = []Shipment{{Shop: "a", ID: "s", OrderID: "o", Shipped: tt.shipped, Carrier: "yamato", Units: 1}}
		}
		day := DateOf(tt.paid)
		f := BuildFacts(recs, day, day+1, tt.asOf, tt.hours)[day]
		if f.Count[ShippedIn24h] != tt.in24 || f.Count[ShipDue] != tt.due {
			t.Errorf("%s: ShippedIn24h %d ShipDue %d, want %d and %d", tt.name, f.Count[ShippedIn24h], f.Count[ShipDue], tt.in24, tt.due)
		}
		if d := f.Dists[ShipMinutes]; !tt.shipped.IsZero() && (d.N != 1 || d.Sum != tt.minutes) {
			t.Errorf("%s: ship minutes %d over %d orders, want %d", tt.name, d.Sum, d.N, tt.minutes)
		}
	}
}
