package kpi

import (
	"fmt"
	"time"
)

// Tokyo is Japan Standard Time. Japan keeps no daylight saving time, so a fixed
// zone is exact and needs no time zone database on the host.
var Tokyo = time.FixedZone("JST", 9*60*60)

// Date is a calendar day in Japan, counted in days since 1970-01-01.
type Date int32

// NewDate returns the date y-m-d; out-of-range values normalise as in time.Date.
func NewDate(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date(t.Unix() / 86400)
}

// DateOf returns the JST calendar day that contains t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Tokyo).Date()
	return NewDate(y, m, d)
}

// ParseDate reads 2026-10-01 or 2026/10/01 (also without leading zeros).
func ParseDate(s string) (Date, error) {
	var y, m, d int
	var sep1, sep2 rune
	n, err := fmt.Sscanf(s, "%d%c%d%c%d", &y, &sep1, &m, &sep2, &d)
	if err != nil || n != 5 || sep1 != sep2 || (sep1 != '-' && sep1 != '/') ||
		y < 2000 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, Errorf(Invalid, "error.bad_date", map[string]any{"Text": s}, err)
	}
	date := NewDate(y, time.Month(m), d)
	if date.Day() != d {
		return 0, Errorf(Invalid, "error.bad_date", map[string]any{"Text": s}, nil)
	}
	return date, nil
}

func (d Date) civil() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Year returns the year of d.
func (d Date) Year() int { return d.civil().Year() }

// Month returns the month of d.
func (d Date) Month() time.Month { return d.civil().Month() }

// Day returns the day of the month of d.
func (d Date) Day() int { return d.civil().Day() }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.civil().Weekday() }

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// AddMonths returns the same day n months later, clipped to the month's end.
func (d Date) AddMonths(n int) Date {
	first := NewDate(d.Year(), d.Month()+time.Month(n), 1)
	last := NewDate(first.Year(), first.Month()+1, 1) - 1
	return min(first+Date(d.Day()-1), last)
}

// Start returns the instant d begins: 00:00:00 JST.
func (d Date) Start() time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, Tokyo)
}

func (d Date) String() string { return d.civil().Format("2006-01-02") }

// PeriodKind names how a period was asked for; a reply uses it for the label.
type PeriodKind string

// Period kinds.
const (
	KindToday     PeriodKind = "today"
	KindYesterday PeriodKind = "yesterday"
	KindThisWeek  PeriodKind = "this_week"
	KindLastWeek  PeriodKind = "last_week"
	KindThisMonth PeriodKind = "this_month"
	KindLastMonth PeriodKind = "last_month"
	KindLastDays  PeriodKind = "last_days"
	KindMonth     PeriodKind = "month"
	KindDate      PeriodKind = "date"
	KindRange     PeriodKind = "range"
)

// Period is a span of whole JST days [From, To). A period that reaches past
// today ends after today: its last day counts up to now.
type Period struct {
	Kind PeriodKind
	From Date
	To   Date // exclusive
}

// Days returns the number of days in p.
func (p Period) Days() int { return int(p.To - p.From) }

// Last returns the last day of p.
func (p Period) Last() Date { return p.To - 1 }

func (p Period) String() string {
	if p.Days() == 1 {
		return p.From.String()
	}
	return p.From.String() + ".." + p.Last().String()
}

// clip ends p after today, so that a period running now counts up to now.
func (p Period) clip(now time.Time) Period {
	p.To = min(p.To, DateOf(now)+1)
	if p.To < p.From {
		p.To = p.From
	}
	return p
}

// Today is the current JST day, up to now.
func Today(now time.Time) Period {
	d := DateOf(now)
	return Period{Kind: KindToday, From: d, To: d + 1}
}

// Yesterday is the JST day before today.
func Yesterday(now time.Time) Period {
	d := DateOf(now) - 1
	return Period{Kind: KindYesterday, From: d, To: d + 1}
}

// monday returns the Monday that starts the week of d.
func monday(d Date) Date {
	return d - Date((int(d.Weekday())+6)%7)
}

// ThisWeek runs from this Monday up to now.
func ThisWeek(now time.Time) Period {
	m := monday(DateOf(now))
	return Period{Kind: KindThisWeek, From: m, To: m + 7}.clip(now)
}

// LastWeek is the whole week, Monday to Sunday, before this one.
func LastWeek(now time.Time) Period {
	m := monday(DateOf(now)) - 7
	return Period{Kind: KindLastWeek, From: m, To: m + 7}
}

// ThisMonth runs from the 1st of this month up to now.
func ThisMonth(now time.Time) Period {
	d := DateOf(now)
	p := Month(d.Year(), d.Month())
	p.Kind = KindThisMonth
	return p.clip(now)
}

// LastMonth is the whole calendar month before this one.
func LastMonth(now time.Time) Period {
	d := DateOf(now)
	p := Month(d.Year(), d.Month()-1)
	p.Kind = KindLastMonth
	return p
}

// LastDays is the n whole days that end yesterday; today, still running, is
// left out so that rates compare like with like.
func LastDays(now time.Time, n int) Period {
	end := DateOf(now)
	return Period{Kind: KindLastDays, From: end - Date(n), To: end}
}

// Month is a whole calendar month.
func Month(y int, m time.Month) Period {
	from := NewDate(y, m, 1)
	to := NewDate(y, m+1, 1)
	return Period{Kind: KindMonth, From: from, To: to}
}

// Day is a single date.
func Day(d Date) Period { return Period{Kind: KindDate, From: d, To: d + 1} }

// Range is the days from first to last, both included.
func Range(first, last Date) Period {
	if last < first {
		first, last = last, first
	}
	return Period{Kind: KindRange, From: first, To: last + 1}
}

// Clip ends p after the day of now, for periods asked for by date that reach
// into the future.
func (p Period) Clip(now time.Time) Period { return p.clip(now) }

// Previous returns the comparable period before p: the day, week or month
// before, or as many days before. A period cut short by now is compared with
// the same stretch of the period before (this month so far against the same
// days of last month).
func (p Period) Previous() Period {
	n := p.Days()
	switch p.Kind {
	case KindThisMonth, KindLastMonth, KindMonth:
		from := p.From.AddMonths(-1)
		to := p.To.AddMonths(-1)
		if p.To.Day() == 1 { // a whole month: the whole previous month
			to = p.From
		}
		return Period{Kind: p.Kind, From: from, To: max(to, from)}
	case KindThisWeek:
		return Period{Kind: p.Kind, From: p.From - 7, To: p.To - 7}
	}
	return Period{Kind: p.Kind, From: p.From - Date(n), To: p.From}
}
