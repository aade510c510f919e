package kpi

import (
	"context"
	"fmt"
)

// Point is a metric's value on one day.
type Point struct {
	Day     Date
	Value   Value
	Verdict Verdict
}

// Series is a metric day by day: what a chart draws.
type Series struct {
	Metric *Metric
	Scope  Scope
	Shops  []Shop  // the shops in scope, summed in every point
	Period Period  // the days drawn, after defaults and clipping to now
	Points []Point // one per day of Period, in order
}

// minSeriesDays is the shortest series: a trend needs a few weeks.
const minSeriesDays = 30

// Series answers q day by day, over all the shops of its scope together:
// each day's value over that day, or over the metric's lookback ending
// with it (the order defect rate of the 60 days up to each day). A period
// shorter than minSeriesDays, or none, becomes the minSeriesDays days
// ending with it (with today, when none). Current metrics, which describe
// the state now, have no series: an Invalid error, error.no_series.
func (e *Engine) Series(ctx context.Context, q Query) (*Series, error) {
	m, ok := Lookup(q.Metric)
	if !ok {
		return nil, Errorf(NotFound, "error.unknown_metric", map[string]any{"Metric": q.Metric}, nil)
	}
	if m.Current {
		return nil, Errorf(Invalid, "error.no_series", map[string]any{"Metric": m.ID}, nil)
	}
	shops, err := e.shops(ctx, q.Scope, q.Allowed)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	p := q.Period
	if p == (Period{}) {
		p = LastDays(now, minSeriesDays)
	}
	if p.From > DateOf(now) {
		return nil, Errorf(Invalid, "error.future_period", map[string]any{"Period": p.String()}, nil)
	}
	p = p.Clip(now)
	if p.Days() < minSeriesDays {
		p = Period{Kind: KindLastDays, From: p.To - minSeriesDays, To: p.To}
	}
	ids := make([]string, len(shops))
	for i, s := range shops {
		ids[i] = s.ID
	}
	s := &Series{Metric: m, Scope: q.Scope, Shops: shops, Period: p, Points: make([]Point, 0, p.Days())}
	for d := p.From; d < p.To; d++ {
		w := Day(d)
		if m.Lookback > 0 {
			w = Period{Kind: KindLastDays, From: d + 1 - Date(m.Lookback), To: d + 1}
		}
		facts, err := e.Store.Facts(ctx, FactQuery{Shops: ids, From: w.From, To: w.To, Dists: m.Stat != ""})
		if err != nil {
			return nil, fmt.Errorf("engine: %s series: %w", m.ID, err)
		}
		var all Facts
		for _, id := range ids {
			if f := facts[id]; f != nil {
				all.AddShop(f)
			}
		}
		v := m.Compute(&all, w.Days())
		s.Points = append(s.Points, Point{Day: d, Value: v, Verdict: m.Judge(v)})
	}
	return s, nil
}
