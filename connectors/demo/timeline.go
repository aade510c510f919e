package demo

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// timeline places the demo's stories relative to now, so that every seeding
// shows them in the recent past whatever the date.
type timeline struct {
	now          time.Time
	first, today kpi.Date // the first and the last (running) day of data

	holidayFrom, holidayTo kpi.Date // [from, to): a Golden-Week-like pause, low volume and slow shipping
	spikeFrom              kpi.Date // the return spike runs from the 1st of last month to now
	burstDay               kpi.Date // the day of the negative-review burst
	blowoutFrom            kpi.Date // the ad blow-out runs from here to now
	slowFriday             kpi.Date // tickets from this Friday 15:00 to Monday are answered Monday afternoon
	holdDay                kpi.Date // the held customs entry is declared that day
	lateDocsDay            kpi.Date // a customs entry with incomplete documents, cleared late
}

func newTimeline(now time.Time) timeline {
	today := kpi.DateOf(now)
	t := timeline{
		now:         now,
		first:       today - (Days - 1),
		today:       today,
		holidayFrom: today - 70,
		holidayTo:   today - 63,
		spikeFrom:   kpi.LastMonth(now).From,
		burstDay:    today - 2,
		blowoutFrom: today - 9,
		holdDay:     today - 3,
		lateDocsDay: today - 20,
	}
	// The latest Friday whose Monday lies before today, so that the late
	// Monday replies are in the past: 4 to 10 days ago.
	t.slowFriday = today - 4
	for t.slowFriday.Weekday() != time.Friday {
		t.slowFriday--
	}
	return t
}

// holiday reports whether d is in the Golden-Week-like pause.
func (t timeline) holiday(d kpi.Date) bool { return d >= t.holidayFrom && d < t.holidayTo }

// past reports whether x has happened by now.
func (t timeline) past(x time.Time) bool { return !x.After(t.now) }

// at returns h:m on day d in JST.
func at(d kpi.Date, h, m int) time.Time {
	return d.Start().Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// endOfDay returns 23:59 JST of day d, the usual form of a platform deadline.
func endOfDay(d kpi.Date) time.Time { return at(d, 23, 59) }

// stamp returns d as 20260610, the way ids carry dates.
func stamp(d kpi.Date) string {
	return fmt.Sprintf("%04d%02d%02d", d.Year(), d.Month(), d.Day())
}

func weekend(d kpi.Date) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// addBusiness returns the instant wait business minutes (kpi.DefaultHours)
// after t.
func addBusiness(t time.Time, wait time.Duration) time.Time {
	for d := kpi.DateOf(t); ; d++ {
		open, close, ok := kpi.DefaultHours.Interval(d)
		if !ok {
			continue
		}
		if t.Before(open) {
			t = open
		}
		if !t.Before(close) {
			continue
		}
		if end := t.Add(wait); !end.After(close) {
			return end
		}
		wait -= close.Sub(t)
	}
}

// Order arrivals by hour of day (JST): a lunch bump and an evening peak.
var (
	weekdayHours = [24]float64{2, 1, 0.6, 0.4, 0.4, 0.6, 1.2, 2, 2.5, 3, 3.5, 3.5, 4.5, 3.5, 3, 3, 3, 3, 3.5, 4.5, 6, 7, 6, 4}
	weekendHours = [24]float64{2.5, 1.5, 0.8, 0.4, 0.4, 0.5, 0.8, 1.5, 2.5, 4, 5, 5.5, 5.5, 5, 5, 4.5, 4.5, 4, 4, 4.5, 6, 6.5, 5.5, 3.5}
)

// instant returns a random moment of day d, weighted by the hour of day.
func instant(r *rand.Rand, d kpi.Date) time.Time {
	w := weekdayHours[:]
	if weekend(d) {
		w = weekendHours[:]
	}
	h := weighted(r, w)
	return at(d, h, r.IntN(60)).Add(time.Duration(r.IntN(60)) * time.Second)
}

// newRand returns the random stream named name of the shop: every shop and
// every kind of record draws from its own stream, so changing one does not
// reshuffle the others.
func newRand(shop, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(shop + "/" + name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// between returns an int in [lo, hi].
func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

// uniform returns a float64 in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

// minutes returns a duration of lo to hi whole minutes.
func minutes(r *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(between(r, lo, hi)) * time.Minute
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// weighted returns an index of w with probability proportional to its weight.
func weighted(r *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	x := r.Float64() * sum
	for i, wi := range w {
		if x < wi {
			return i
		}
		x -= wi
	}
	return len(w) - 1
}
