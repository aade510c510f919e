package kpi

import (
	"errors"
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0:00":  0,
		"00:00": 0,
		"8:30":  8*time.Hour + 30*time.Minute,
		"08:30": 8*time.Hour + 30*time.Minute,
		"09:00": 9 * time.Hour,
		"23:59": 23*time.Hour + 59*time.Minute,
	} {
		if got, err := ParseClock(in); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "24:00", "9:75", "9:60", "123:00", "8:5", "8:300", "8", "0830", "8.30", "-1:00", "+8:30",
		" 8:30", "8:30 ", "8:30:00", "０８：３０", "８:30", "ab:cd", ":30", "8:"} {
		_, err := ParseClock(in)
		var e *Error
		if !errors.As(err, &e) || e.Code != Invalid || e.Key != "error.bad_clock" || e.Args["Text"] != in {
			t.Errorf("ParseClock(%q): %v, want an Invalid error.bad_clock naming it", in, err)
		}
	}
}

func TestFormatClock(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                             "00:00",
		DefaultDigestAt:               "09:00",
		8*time.Hour + 30*time.Minute:  "08:30",
		23*time.Hour + 59*time.Minute: "23:59",
		10*time.Hour + 15*time.Minute + 42*time.Second: "10:15",
	} {
		if got := FormatClock(d); got != want {
			t.Errorf("FormatClock(%v) = %q, want %q", d, got, want)
		}
		if d%time.Minute == 0 {
			if back, err := ParseClock(want); err != nil || back != d {
				t.Errorf("ParseClock(FormatClock(%v)) = %v, %v", d, back, err)
			}
		}
	}
}
