package calendar

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

func date(y int, m time.Month, d int) kpi.Date { return kpi.NewDate(y, m, d) }

func TestDefaultPauses(t *testing.T) {
	want := []Pause{
		{"new_year_break", date(2025, 12, 29), date(2026, 1, 4)},
		{"golden_week", date(2026, 5, 3), date(2026, 5, 6)},
		{"obon", date(2026, 8, 13), date(2026, 8, 17)},
		{"new_year_break", date(2026, 12, 29), date(2027, 1, 4)},
	}
	if got := DefaultPauses(2026); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultPauses(2026) =\n%v\nwant\n%v", got, want)
	}
}

func TestPaused(t *testing.T) {
	c := Default()
	tests := []struct {
		d    kpi.Date
		want string // the pause ID, "" for none
	}{
		{date(2026, 12, 28), ""},
		{date(2026, 12, 29), "new_year_break"},
		{date(2026, 12, 31), "new_year_break"},
		{date(2027, 1, 1), "new_year_break"},
		{date(2027, 1, 3), "new_year_break"},
		{date(2027, 1, 4), ""},
		{date(2026, 5, 2), ""},
		{date(2026, 5, 3), "golden_week"},
		{date(2026, 5, 5), "golden_week"},
		{date(2026, 5, 6), ""},
		{date(2026, 8, 12), ""},
		{date(2026, 8, 13), "obon"},
		{date(2026, 8, 16), "obon"},
		{date(2026, 8, 17), ""},
		{date(2028, 2, 29), ""},
	}
	for _, tt := range tests {
		p, ok := c.Paused(tt.d)
		if ok != (tt.want != "") || p.ID != tt.want {
			t.Errorf("Paused(%s) = %+v, %v; want %q", tt.d, p, ok, tt.want)
		}
		if ok && (tt.d < p.From || tt.d >= p.To) {
			t.Errorf("Paused(%s) = %+v, which does not hold the day", tt.d, p)
		}
	}
}

func TestConfiguredPauses(t *testing.T) {
	c, err := New([]PauseRule{
		{ID: "warehouse_gw", FromMonth: 4, FromDay: 29, ToMonth: 5, ToDay: 6},
		{ID: "stocktake", FromMonth: 5, FromDay: 6, ToMonth: 5, ToDay: 7}, // overlaps on 5/6
		{ID: "year_end", FromMonth: 12, FromDay: 24, ToMonth: 1, ToDay: 4},
		{ID: "leap", FromMonth: 2, FromDay: 28, ToMonth: 3, ToDay: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		d    kpi.Date
		want string
	}{
		{date(2026, 4, 28), ""},
		{date(2026, 4, 29), "warehouse_gw"},
		{date(2026, 5, 6), "warehouse_gw"}, // the window that starts first
		{date(2026, 5, 7), "stocktake"},
		{date(2026, 5, 8), ""},
		{date(2026, 12, 23), ""},
		{date(2026, 12, 24), "year_end"},
		{date(2027, 1, 4), "year_end"},
		{date(2027, 1, 5), ""},
		{date(2028, 2, 29), "leap"},
		{date(2027, 3, 1), "leap"},
	}
	for _, tt := range tests {
		if p, ok := c.Paused(tt.d); ok != (tt.want != "") || p.ID != tt.want {
			t.Errorf("Paused(%s) = %+v, %v; want %q", tt.d, p, ok, tt.want)
		}
	}
	none, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := none.Paused(date(2027, 1, 1)); ok || none.Hours().Paused != nil || len(none.Pauses(2027)) != 0 {
		t.Error("a calendar without rules has pauses")
	}
}

func TestNewRejects(t *testing.T) {
	for _, r := range []PauseRule{
		{ID: "", FromMonth: 1, FromDay: 1, ToMonth: 1, ToDay: 2},
		{ID: "x", FromMonth: 0, FromDay: 1, ToMonth: 1, ToDay: 2},
		{ID: "x", FromMonth: 1, FromDay: 1, ToMonth: 13, ToDay: 2},
		{ID: "x", FromMonth: 4, FromDay: 31, ToMonth: 5, ToDay: 2},
		{ID: "x", FromMonth: 4, FromDay: 1, ToMonth: 5, ToDay: 0},
		{ID: "x", FromMonth: 2, FromDay: 29, ToMonth: 3, ToDay: 1},
	} {
		if _, err := New([]PauseRule{r}); err == nil || !strings.Contains(err.Error(), "calendar: pause rule 1") {
			t.Errorf("New(%v) = %v, want an error naming the rule", r, err)
		}
	}
	if _, err := New(make([]PauseRule, 101)); err == nil {
		t.Error("New took 101 rules")
	}
}

func TestBusinessDay(t *testing.T) {
	c := Default()
	tests := []struct {
		d    kpi.Date
		want bool
	}{
		{date(2026, 11, 24), true},  // Tuesday
		{date(2026, 11, 28), false}, // Saturday
		{date(2026, 11, 29), false}, // Sunday
		{date(2026, 11, 23), false}, // 勤労感謝の日, a Monday
		{date(2026, 5, 6), false},   // a substitute holiday, after Golden Week's pause
		{date(2026, 5, 7), true},
		{date(2026, 8, 13), false}, // Obon, a Thursday
		{date(2026, 8, 17), true},
		{date(2026, 12, 29), false}, // the New Year break, a Tuesday
		{date(2027, 1, 4), true},
		{date(2027, 3, 22), false}, // a substitute holiday by the rules
	}
	for _, tt := range tests {
		if got := c.BusinessDay(tt.d); got != tt.want {
			t.Errorf("BusinessDay(%s) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestHours(t *testing.T) {
	h := Default().Hours()
	if h.Open != kpi.DefaultHours.Open || h.Close != kpi.DefaultHours.Close {
		t.Errorf("hours %v-%v, want the default", h.Open, h.Close)
	}
	if _, _, ok := h.Interval(date(2026, 11, 23)); ok {
		t.Error("open on 勤労感謝の日")
	}
	if _, _, ok := h.Interval(date(2026, 8, 13)); !ok {
		t.Error("customer service closed on a weekday of Obon")
	}
	if !h.Paused(date(2026, 8, 13)) || h.Paused(date(2026, 8, 12)) || h.Paused(date(2026, 11, 23)) {
		t.Error("Paused does not follow the pause windows")
	}
	// An order paid on the evening before Golden Week is due on the evening after it.
	paid := time.Date(2026, 5, 2, 20, 0, 0, 0, kpi.Tokyo)
	if got, want := h.ShipDeadline(paid), time.Date(2026, 5, 6, 20, 0, 0, 0, kpi.Tokyo); !got.Equal(want) {
		t.Errorf("ShipDeadline(%v) = %v, want %v", paid, got, want)
	}
}

func TestFingerprint(t *testing.T) {
	a, _ := New(DefaultRules())
	b, _ := New(DefaultRules()[:2])
	c, _ := New([]PauseRule{{ID: "obon", FromMonth: 8, FromDay: 13, ToMonth: 8, ToDay: 17}})
	if Default().Fingerprint() != a.Fingerprint() {
		t.Error("equal calendars, different fingerprints")
	}
	seen := map[string]bool{}
	for _, cal := range []*Calendar{a, b, c} {
		fp := cal.Fingerprint()
		if seen[fp] {
			t.Errorf("fingerprint %q twice", fp)
		}
		seen[fp] = true
	}
	fp := a.Fingerprint()
	for _, part := range []string{"jp/2", "holidays=2016-2026@", "new_year_break:12/29-1/3", "golden_week:5/3-5/5", "obon:8/13-8/16"} {
		if !strings.Contains(fp, part) {
			t.Errorf("fingerprint %q lacks %q", fp, part)
		}
	}
}

func TestPausedConcurrent(t *testing.T) {
	c := Default()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for y := 2030 + g; y < 2100; y++ {
				c.Paused(date(y, 1, 2))
				c.BusinessDay(date(y, 8, 14))
			}
		})
	}
	wg.Wait()
	if p, ok := c.Paused(date(2099, 1, 2)); !ok || p.From != date(2098, 12, 29) {
		t.Errorf("Paused(2099-01-02) = %+v, %v", p, ok)
	}
}

func TestRulesAreCopies(t *testing.T) {
	rules := DefaultRules()
	c, _ := New(rules)
	rules[0].ID = "changed"
	c.Rules()[1].ID = "changed"
	if got := c.Rules(); got[0].ID != "new_year_break" || got[1].ID != "golden_week" {
		t.Errorf("rules changed from outside: %v", got)
	}
}
