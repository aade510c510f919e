package kpi

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// Scope is what a question is about: one shop, one platform, or (both
// empty) every shop.
type Scope struct {
	Shop     string
	Platform Platform
}

// Query asks for one metric.
type Query struct {
	Metric string
	Scope  Scope
	Period Period // the zero Period asks for the metric's default
	// Compare, when set, replaces the previous comparable period.
	Compare Period
	// Allowed, when set, are the only shops the asker may see: "all shops"
	// means all of these, and naming another is refused.
	Allowed []string
}

// Result is a metric over a period, beside the period before, with the
// breakdown by shop.
type Result struct {
	Metric     *Metric
	Scope      Scope
	Period     Period // as asked (after defaults and clipping to now)
	Window     Period // the days computed: Period, or the metric's lookback ending with it
	PrevWindow Period // the comparable window before; zero for Current metrics
	Value      Value
	Prev       Value // NaN V for Current metrics
	Verdict    Verdict
	Partial    bool // the window runs up to now
	Breakdown  []ShopResult
}

// ShopResult is one shop's line of a breakdown.
type ShopResult struct {
	Shop    Shop
	Value   Value
	Prev    Value
	Verdict Verdict
	// NoRecords: the store has never had records of the shop (its first
	// sync or import has stored nothing yet), so its values are undefined
	// and its verdict no_data, not zeros.
	NoRecords bool
}

// Engine computes metrics from a store.
type Engine struct {
	Store FactReader
	Now   func() time.Time

	// recorded holds the shops the store said have records: that never
	// goes back, so a shop is asked about until it has some, and then no
	// more.
	recorded sync.Map // shop id → struct{}
}

// Compute answers q.
func (e *Engine) Compute(ctx context.Context, q Query) (*Result, error) {
	m, ok := Lookup(q.Metric)
	if !ok {
		return nil, Errorf(NotFound, "error.unknown_metric", map[string]any{"Metric": q.Metric}, nil)
	}
	shops, err := e.shops(ctx, q.Scope, q.Allowed)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	p := q.Period
	if p == (Period{}) {
		p = m.DefaultPeriodAt(now)
	}
	if p.From > DateOf(now) {
		return nil, Errorf(Invalid, "error.future_period", map[string]any{"Period": p.String()}, nil)
	}
	p = p.Clip(now)

	r := &Result{Metric: m, Scope: q.Scope, Period: p, Window: p, Partial: p.To > DateOf(now)}
	if m.Lookback > 0 {
		r.Window = Period{Kind: KindLastDays, From: p.To - Date(m.Lookback), To: p.To}
	}
	if !m.Current {
		r.PrevWindow = r.Window.Previous()
		if m.Lookback > 0 {
			r.PrevWindow = Period{Kind: KindLastDays, From: r.Window.From - Date(m.Lookback), To: r.Window.From}
		}
		if c := q.Compare; c != (Period{}) {
			if c.From > DateOf(now) {
				return nil, Errorf(Invalid, "error.future_period", map[string]any{"Period": c.String()}, nil)
			}
			r.PrevWindow = c.Clip(now)
			if m.Lookback > 0 {
				r.PrevWindow = Period{Kind: KindLastDays, From: r.PrevWindow.To - Date(m.Lookback), To: r.PrevWindow.To}
			}
		}
	}

	// The facts of the shops that have records; the others have no data.
	all := make([]string, len(shops))
	for i, s := range shops {
		all[i] = s.ID
	}
	recorded, err := e.recordedOf(ctx, all)
	if err != nil {
		return nil, fmt.Errorf("engine: %s: %w", m.ID, err)
	}
	var ids []string
	for _, id := range all {
		if recorded[id] {
			ids = append(ids, id)
		}
	}
	r.Prev = Value{V: nan, Secondary: nan}
	if len(ids) == 0 { // nothing to tell yet, not zeros
		for _, s := range shops {
			r.Breakdown = append(r.Breakdown, noRecords(s))
		}
		r.Value, r.Verdict = Value{V: nan, Secondary: nan}, VerdictNoData
		return r, nil
	}
	dists := m.Stat != ""
	cur, err := e.Store.Facts(ctx, FactQuery{Shops: ids, From: r.Window.From, To: r.Window.To, Dists: dists, Catalog: m.UsesCatalog()})
	if err != nil {
		return nil, fmt.Errorf("engine: %s: %w", m.ID, err)
	}
	var prev map[string]*Facts
	if !m.Current {
		if prev, err = e.Store.Facts(ctx, FactQuery{Shops: ids, From: r.PrevWindow.From, To: r.PrevWindow.To, Dists: dists, Catalog: m.UsesCatalog()}); err != nil {
			return nil, fmt.Errorf("engine: %s previous: %w", m.ID, err)
		}
	}

	var sum, sumPrev Facts
	for _, s := range shops {
		if !recorded[s.ID] {
			r.Breakdown = append(r.Breakdown, noRecords(s))
			continue
		}
		line := ShopResult{Shop: s, Prev: Value{V: nan, Secondary: nan}}
		if f := cur[s.ID]; f != nil {
			sum.AddShop(f)
			line.Value = m.Compute(f, r.Window.Days())
			line.Verdict = m.Judge(line.Value)
		}
		if f := prev[s.ID]; f != nil {
			sumPrev.AddShop(f)
			line.Prev = m.Compute(f, r.PrevWindow.Days())
		}
		r.Breakdown = append(r.Breakdown, line)
	}
	r.Value = m.Compute(&sum, r.Window.Days())
	r.Verdict = m.Judge(r.Value)
	if prev != nil {
		r.Prev = m.Compute(&sumPrev, r.PrevWindow.Days())
	}
	return r, nil
}

// noRecords is the line of shop s, which has no records yet: no data.
func noRecords(s Shop) ShopResult {
	return ShopResult{Shop: s, Value: Value{V: nan, Secondary: nan}, Prev: Value{V: nan, Secondary: nan}, Verdict: VerdictNoData,
		NoRecords: true}
}

// recordedOf tells which of ids have had records stored, asking the store
// only about those not known to have had some.
func (e *Engine) recordedOf(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	var ask []string
	for _, id := range ids {
		if _, ok := e.recorded.Load(id); ok {
			out[id] = true
		} else {
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	got, err := e.Store.Recorded(ctx, ask)
	if err != nil {
		return nil, err
	}
	for id, ok := range got {
		if ok {
			out[id] = true
			e.recorded.Store(id, struct{}{})
		}
	}
	return out, nil
}

// shops returns the shops in scope that the asker may see, sorted by id.
func (e *Engine) shops(ctx context.Context, sc Scope, allowed []string) ([]Shop, error) {
	if sc.Shop != "" && len(allowed) > 0 && !slices.Contains(allowed, sc.Shop) {
		return nil, Errorf(Unauthorized, "error.shop_not_visible", map[string]any{"Shop": sc.Shop}, nil)
	}
	all, err := e.Store.Shops(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: shops: %w", err)
	}
	var out []Shop
	for _, s := range all {
		if (sc.Shop == "" || s.ID == sc.Shop) && (sc.Platform == "" || s.Platform == sc.Platform) &&
			(len(allowed) == 0 || slices.Contains(allowed, s.ID)) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		switch {
		case sc.Shop != "":
			return nil, Errorf(NotFound, "error.unknown_shop", map[string]any{"Shop": sc.Shop}, nil)
		case sc.Platform != "":
			return nil, Errorf(NotFound, "error.no_shops_on_platform", map[string]any{"Platform": string(sc.Platform)}, nil)
		}
		return nil, Errorf(NotFound, "error.no_shops", nil, nil)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
