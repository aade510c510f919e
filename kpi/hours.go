package kpi

import (
	"strings"
	"time"
)

// BusinessHours are the JST hours in which customer service is expected to
// work: a first-response clock runs only inside them. They also carry the
// logistics pause days, on which the ship clock stops.
type BusinessHours struct {
	Open, Close time.Duration   // since midnight JST, e.g. 9h and 18h
	Closed      func(Date) bool // extra closed days (national holidays); nil for none
	// Paused reports the logistics pause days, when the warehouse does not
	// ship (the New Year break, Golden Week, Obon); the ship clock stops on
	// them. nil for none.
	Paused func(Date) bool
}

// DefaultHours are weekdays 09:00–18:00 JST.
var DefaultHours = BusinessHours{Open: 9 * time.Hour, Close: 18 * time.Hour}

// Interval returns the business hours of day d, or ok=false on a closed day.
func (h BusinessHours) Interval(d Date) (open, close time.Time, ok bool) {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return time.Time{}, time.Time{}, false
	}
	if h.Closed != nil && h.Closed(d) {
		return time.Time{}, time.Time{}, false
	}
	start := d.Start()
	return start.Add(h.Open), start.Add(h.Close), h.Close > h.Open
}

// Minutes returns the business minutes between from and to.
func (h BusinessHours) Minutes(from, to time.Time) int64 {
	if !to.After(from) {
		return 0
	}
	var total time.Duration
	for d := DateOf(from); d <= DateOf(to); d++ {
		open, close, ok := h.Interval(d)
		if !ok {
			continue
		}
		total += overlap(from, to, open, close)
	}
	return int64(total / time.Minute)
}

// ShipClock returns the time from start to end that the ship clock counts:
// end.Sub(start) less the parts of paused days in between. Without pauses,
// or when end is not after start, it is end.Sub(start).
func (h BusinessHours) ShipClock(start, end time.Time) time.Duration {
	took := end.Sub(start)
	if h.Paused == nil || took <= 0 {
		return took
	}
	for d := DateOf(start); d <= DateOf(end); d++ {
		if h.Paused(d) {
			took -= overlap(start, end, d.Start(), (d + 1).Start())
		}
	}
	return took
}

// maxPauseDays bounds the search for a ship deadline: a run of paused days
// longer than this is taken to end after it.
const maxPauseDays = 3660

// ShipDeadline returns when an order whose ship clock starts at start is
// due: once ShipTarget of time outside paused days has passed. A clock that
// starts on a paused day starts when the pause ends. It is the first instant
// t at which ShipClock(start, t) reaches ShipTarget.
func (h BusinessHours) ShipDeadline(start time.Time) time.Time {
	if h.Paused == nil {
		return start.Add(ShipTarget)
	}
	left := ShipTarget
	t := start
	for paused := 0; ; {
		d := DateOf(t)
		next := (d + 1).Start()
		if h.Paused(d) && paused < maxPauseDays {
			t = next
			paused++
			continue
		}
		paused = 0
		if end := t.Add(left); !end.After(next) {
			return end
		}
		left -= next.Sub(t)
		t = next
	}
}

func overlap(a0, a1, b0, b1 time.Time) time.Duration {
	start, end := a0, a1
	if b0.After(start) {
		start = b0
	}
	if b1.Before(end) {
		end = b1
	}
	if !end.After(start) {
		return 0
	}
	return end.Sub(start)
}

// ValidTracking reports whether number is a plausible tracking number for the
// carrier: 12 digits for Yamato and Sagawa, 11–13 digits or a UPU S10 code
// (AB123456785JP) for Japan Post, and 8–30 letters and digits for others.
// Hyphens and spaces are ignored.
func ValidTracking(carrier, number string) bool {
	n := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, number)
	digits := func(s string) bool {
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return s != ""
	}
	upper := func(s string) bool {
		for _, r := range s {
			if r < 'A' || r > 'Z' {
				return false
			}
		}
		return true
	}
	switch strings.ToLower(carrier) {
	case "yamato", "sagawa":
		return len(n) == 12 && digits(n)
	case "japanpost", "japan post", "jp":
		if len(n) == 13 && upper(n[:2]) && digits(n[2:11]) && upper(n[11:]) {
			return true
		}
		return len(n) >= 11 && len(n) <= 13 && digits(n)
	}
	if len(n) < 8 || len(n) > 30 {
		return false
	}
	for _, r := range n {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}
