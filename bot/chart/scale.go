package chart

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/kpibot/kpibot/kpi"
)

// valid reports whether v is a value to draw.
func valid(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// dataRange returns the span a value axis must show: the lowest and highest
// value with data, and the threshold if there is one. Non-negative data
// starts at 0 (and non-positive data ends at 0), so that heights compare
// honestly; a flat zero line gets [0, 1]. ok is false when no point has data.
func dataRange(points []Point, threshold float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range points {
		if valid(p.V) {
			lo, hi = min(lo, p.V), max(hi, p.V)
			ok = true
		}
	}
	if !ok {
		return 0, 0, false
	}
	if valid(threshold) {
		lo, hi = min(lo, threshold), max(hi, threshold)
	}
	if lo >= 0 {
		lo = 0
	}
	if hi <= 0 {
		hi = 0
	}
	if lo == hi { // both 0
		hi = 1
	}
	return lo, hi, true
}

// axis is a value axis: nice round ticks from lo to hi.
type axis struct {
	ticks []float64
	// step is mant × 10^exp, mant in {1, 2, 5}.
	mant, exp int
}

func (a axis) lo() float64 { return a.ticks[0] }
func (a axis) hi() float64 { return a.ticks[len(a.ticks)-1] }

// niceAxis returns ticks at the smallest step of 1, 2 or 5 times a power of
// ten that covers [lo, hi], rounded outwards to whole steps, in at most
// maxTicks ticks (at least 2, or 3 when the range spans 0). lo < hi.
func niceAxis(lo, hi float64, maxTicks int) axis {
	maxTicks = max(2, maxTicks)
	if lo < 0 && hi > 0 {
		maxTicks = max(3, maxTicks) // below 0, 0, above
	}
	raw := (hi - lo) / float64(maxTicks-1)
	exp := int(math.Floor(math.Log10(raw)))
	for {
		for _, m := range [...]int{1, 2, 5} {
			step := float64(m) * math.Pow10(exp)
			// A whisker of tolerance, so that 0.3 counts as 3 × 0.1.
			first := math.Floor(lo/step + 1e-9)
			last := math.Ceil(hi/step - 1e-9)
			if int(last-first)+1 > maxTicks {
				continue
			}
			a := axis{mant: m, exp: exp}
			for i := first; i <= last; i++ {
				a.ticks = append(a.ticks, tickValue(int64(i)*int64(m), exp))
			}
			return a
		}
		exp++
	}
}

// tickValue returns n × 10^exp as the float nearest to the decimal, so that
// 3 × 0.1 is 0.3 and not 0.30000000000000004.
func tickValue(n int64, exp int) float64 {
	if exp >= 0 {
		return float64(n) * math.Pow10(exp)
	}
	return float64(n) / math.Pow10(-exp)
}

// label formats v with the decimals the step needs: a compact %g that never
// shows a float's noise ("0.3", "2.5", "1500", "1.2e+07").
func (a axis) label(v float64) string {
	if v == 0 {
		return "0"
	}
	if math.Abs(v) >= 1e7 {
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	dec := 0
	if a.exp < 0 {
		dec = -a.exp
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// dayLabel is a day as month/day: "11/28", the same in Chinese, Japanese and
// English.
func dayLabel(d kpi.Date) string { return fmt.Sprintf("%d/%d", int(d.Month()), d.Day()) }

// dayTicks returns the days from first to last (inclusive) to label, at most
// maxLabels of them: every day for up to 14 days (or every other day), then
// Mondays (weekly, then every other week), then the first of each month,
// then of each quarter.
func dayTicks(first, last kpi.Date, maxLabels int) []kpi.Date {
	maxLabels = max(1, maxLabels)
	n := int(last-first) + 1
	if n <= 0 {
		return nil
	}
	back := func(from kpi.Date, step int) []kpi.Date { // from, and every step days before it
		var ds []kpi.Date
		for d := from; d >= first; d -= kpi.Date(step) {
			ds = append(ds, d)
		}
		slices.Reverse(ds)
		return ds
	}
	every := func(step int) []kpi.Date { return back(last, step) }
	lastMonday := last - kpi.Date((int(last.Weekday())+6)%7)
	mondays := func(weeks int) []kpi.Date { return back(lastMonday, 7*weeks) }
	months := func(step int) []kpi.Date {
		var ds []kpi.Date
		d := kpi.NewDate(first.Year(), first.Month(), 1)
		if d < first {
			d = d.AddMonths(1)
		}
		for ; d <= last; d = d.AddMonths(1) {
			if (int(d.Month())-1)%step == 0 {
				ds = append(ds, d)
			}
		}
		return ds
	}
	var choices [][]kpi.Date
	if n <= 14 {
		choices = append(choices, every(1), every(2))
	}
	choices = append(choices, mondays(1), mondays(2), months(1), months(3), months(12))
	for _, ds := range choices {
		if len(ds) > 0 && len(ds) <= maxLabels {
			return ds
		}
	}
	return []kpi.Date{last}
}
