// Package calendar knows Japan's national holidays and the logistics pause
// windows (Golden Week, Obon, the New Year) that kpibot's KPIs and schedules
// respect.
package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// Pause is a logistics pause window: days on which the warehouse does not
// ship, so that the ship clock stops. ID names it for localized messages
// (new_year_break, golden_week, obon, or a configured one). The window is
// the days [From, To): To is the first day after it, as in kpi.Period.
type Pause struct {
	ID   string
	From kpi.Date
	To   kpi.Date // exclusive
}

// PauseRule is a pause window that comes back every year, from one month
// and day to another, both included: {"obon", 8, 13, 8, 16} is 8/13–8/16. A
// window whose end comes before its start in the year runs into the next
// year: {"new_year_break", 12, 29, 1, 3} is 12/29–1/3. February 29 is not
// allowed, as most years lack it.
type PauseRule struct {
	ID        string
	FromMonth time.Month
	FromDay   int
	ToMonth   time.Month
	ToDay     int
}

// String writes r as ID:M/D-M/D, e.g. obon:8/13-8/16.
func (r PauseRule) String() string {
	return fmt.Sprintf("%s:%d/%d-%d/%d", r.ID, r.FromMonth, r.FromDay, r.ToMonth, r.ToDay)
}

// In returns the window of r that starts in year.
func (r PauseRule) In(year int) Pause {
	endYear := year
	if r.ToMonth < r.FromMonth || r.ToMonth == r.FromMonth && r.ToDay < r.FromDay {
		endYear++
	}
	return Pause{ID: r.ID, From: kpi.NewDate(year, r.FromMonth, r.FromDay), To: kpi.NewDate(endYear, r.ToMonth, r.ToDay) + 1}
}

func (r PauseRule) validate() error {
	if r.ID == "" {
		return fmt.Errorf("no ID")
	}
	for _, md := range [][2]int{{int(r.FromMonth), r.FromDay}, {int(r.ToMonth), r.ToDay}} {
		m, d := md[0], md[1]
		// 2024 is a leap year: the days of each month at most.
		if m < 1 || m > 12 || d < 1 || d > kpi.NewDate(2024, time.Month(m)+1, 0).Day() {
			return fmt.Errorf("no day %d/%d", m, d)
		}
		if m == 2 && d == 29 {
			return fmt.Errorf("2/29 is not in every year")
		}
	}
	return nil
}

// DefaultRules returns the default pause windows: the New Year break
// 12/29–1/3 (when Sagawa and Seino stop), Golden Week 5/3–5/5 and Obon
// 8/13–8/16. Carriers and warehouses differ: configure your own with New.
func DefaultRules() []PauseRule {
	return []PauseRule{
		{ID: "new_year_break", FromMonth: time.December, FromDay: 29, ToMonth: time.January, ToDay: 3},
		{ID: "golden_week", FromMonth: time.May, FromDay: 3, ToMonth: time.May, ToDay: 5},
		{ID: "obon", FromMonth: time.August, FromDay: 13, ToMonth: time.August, ToDay: 16},
	}
}

// DefaultPauses returns the default pause windows that overlap year (see
// Calendar.Pauses).
func DefaultPauses(year int) []Pause { return Default().Pauses(year) }

// Calendar is Japan's holidays together with a seller's pause windows. It
// is safe for concurrent use.
type Calendar struct {
	rules []PauseRule
	years sync.Map // int -> *yearPauses
}

// yearPauses are the pauses that overlap one year, with an index by day.
type yearPauses struct {
	list  []Pause
	jan1  kpi.Date
	index [366]uint8 // 1 + the index in list of the first pause on that day, 0 for none
}

// New returns a calendar with the pause windows of rules, applied every
// year. No rules means no pauses.
func New(rules []PauseRule) (*Calendar, error) {
	if len(rules) > 100 {
		return nil, fmt.Errorf("calendar: %d pause rules, at most 100", len(rules))
	}
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("calendar: pause rule %d (%s): %w", i+1, r, err)
		}
	}
	return &Calendar{rules: slices.Clone(rules)}, nil
}

var defaultCalendar = sync.OnceValue(func() *Calendar {
	c, err := New(DefaultRules())
	if err != nil {
		panic(err) // the default rules are valid: the tests prove it
	}
	return c
})

// Default returns the calendar with the default pause windows (DefaultRules).
func Default() *Calendar { return defaultCalendar() }

// Rules returns the pause rules of c.
func (c *Calendar) Rules() []PauseRule { return slices.Clone(c.rules) }

// Holiday returns the national holiday on d, if d is one (see HolidayOn).
func (c *Calendar) Holiday(d kpi.Date) (Holiday, bool) { return HolidayOn(d) }

// HolidayID returns the ID of the national holiday on d, if it is one.
func (c *Calendar) HolidayID(d kpi.Date) (string, bool) {
	h, ok := HolidayOn(d)
	return h.ID, ok
}

// PauseID returns the ID of the pause window d is in, if any.
func (c *Calendar) PauseID(d kpi.Date) (string, bool) {
	p, ok := c.Paused(d)
	return p.ID, ok
}

// Pauses returns the pause windows that overlap year, in the order they
// start: with the default rules, the New Year break that began the year
// before comes first and the one that begins in December last.
func (c *Calendar) Pauses(year int) []Pause {
	return slices.Clone(c.pausesOf(year).list)
}

// Paused returns the pause window d is in, if any; where windows overlap,
// the one that starts first.
func (c *Calendar) Paused(d kpi.Date) (Pause, bool) {
	if len(c.rules) == 0 {
		return Pause{}, false
	}
	y := c.pausesOf(d.Year())
	i := y.index[d-y.jan1]
	if i == 0 {
		return Pause{}, false
	}
	return y.list[i-1], true
}

// BusinessDay reports whether d is a working day for the whole business: a
// weekday that is neither a national holiday nor in a pause window.
func (c *Calendar) BusinessDay(d kpi.Date) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	if _, ok := HolidayOn(d); ok {
		return false
	}
	_, paused := c.Paused(d)
	return !paused
}

// Hours returns kpi.DefaultHours closed on national holidays, with the pause
// windows as the days the ship clock stops. Customer service works on
// pause days that are weekdays and not holidays.
func (c *Calendar) Hours() kpi.BusinessHours {
	h := kpi.DefaultHours
	h.Closed = func(d kpi.Date) bool {
		_, ok := HolidayOn(d)
		return ok
	}
	if len(c.rules) > 0 {
		h.Paused = func(d kpi.Date) bool {
			_, ok := c.Paused(d)
			return ok
		}
	}
	return h
}

// fingerprintVersion changes when the holiday rules or Hours change in a way
// that changes what a store builds, or the way business minutes are counted
// does: a store then rebuilds its rollups. 2: no coverage minutes before a
// shop's first shift.
const fingerprintVersion = 2

// Fingerprint names what Hours gives, for a store that keeps facts built
// with it: equal fingerprints mean equal hours. It covers the business
// hours, the holiday table and rules, and the pause rules, e.g.
// "jp/2 hours=9h0m0s-18h0m0s holidays=2016-2026@32842820ac2b
// pauses=new_year_break:12/29-1/3,golden_week:5/3-5/5,obon:8/13-8/16"
// (on one line), where the hash is that of the embedded holiday data.
func (c *Calendar) Fingerprint() string {
	t := loadTable()
	h := kpi.DefaultHours
	var b strings.Builder
	b.WriteString("jp/" + strconv.Itoa(fingerprintVersion))
	fmt.Fprintf(&b, " hours=%v-%v holidays=%d-%d@%s pauses=", h.Open, h.Close, t.first, t.last, t.sum)
	for i, r := range c.rules {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.String())
	}
	return b.String()
}

func (c *Calendar) pausesOf(year int) *yearPauses {
	if v, ok := c.years.Load(year); ok {
		return v.(*yearPauses)
	}
	jan1 := kpi.NewDate(year, time.January, 1)
	next := kpi.NewDate(year+1, time.January, 1)
	y := &yearPauses{jan1: jan1}
	// A window is shorter than a year: only those starting in this year
	// and the one before can reach into it.
	for _, start := range []int{year - 1, year} {
		for _, r := range c.rules {
			if p := r.In(start); p.From < next && p.To > jan1 {
				y.list = append(y.list, p)
			}
		}
	}
	slices.SortStableFunc(y.list, func(a, b Pause) int { return int(a.From - b.From) })
	for i, p := range y.list {
		for d := max(p.From, jan1); d < min(p.To, next); d++ {
			if y.index[d-jan1] == 0 {
				y.index[d-jan1] = uint8(i + 1)
			}
		}
	}
	v, _ := c.years.LoadOrStore(year, y)
	return v.(*yearPauses)
}
