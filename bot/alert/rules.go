package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
)

// Freshness is the Metric of the alert a shop raises when its data stops
// coming: no write for longer than three sync intervals.
const Freshness = "freshness"

// Recent is a Rule.Period: the Days days up to now, today included (the
// catalog's last_days ends yesterday).
const Recent kpi.PeriodKind = "recent"

// Rule says when a KPI of a shop is out of bounds, how urgent that is, and
// when it is back.
type Rule struct {
	Metric   string // a catalog metric with a target, or Freshness
	Shop     string // "": every shop; a rule for one shop overrides it there
	Severity kpi.Severity
	// Target is the alert level: the KPI breaches beyond it, by the
	// metric's operator. nil: the catalog's target; for Freshness, three
	// sync intervals (in hours).
	Target *float64
	// Consecutive is how many evaluations in a row the KPI must be beyond
	// its target before an episode opens, and within Clear before it
	// resolves; 0 means 1.
	Consecutive int
	// Clear is where the KPI must come back to for the episode to resolve
	// (hysteresis): ship_24h_rate alerts below 98% and clears at or above
	// 98.5%. nil: the target itself. It must lie on the good side of the
	// target.
	Clear *float64
	// MinSample is the sample below which the KPI neither breaches nor
	// clears; 0: the metric's.
	MinSample int64
	// Period is the window evaluated: a kind of kpi.PeriodOf (yesterday,
	// this_month, last_days with Days …) or Recent with Days; "": the
	// metric's default period.
	Period kpi.PeriodKind
	Days   int
	// Runbook is what to do, shown with the alert: a message id
	// (alert.runbook_…) in the channel's language, or a line shown as it is.
	Runbook  string
	Disabled bool
}

// Level returns a level for Rule.Target or Rule.Clear.
func Level(v float64) *float64 { return &v }

// Key is the key of the rule's episodes and streaks for shop:
// "return_rate:rakuten".
func Key(metric, shop string) string { return metric + ":" + shop }

// consecutive is Consecutive with its default.
func (r Rule) consecutive() int { return max(r.Consecutive, 1) }

// window is the period the rule evaluates at now; the zero Period asks for
// the metric's default.
func (r Rule) window(now time.Time) kpi.Period {
	switch r.Period {
	case "":
		return kpi.Period{}
	case Recent:
		today := kpi.DateOf(now)
		return kpi.Range(today-kpi.Date(max(r.Days, 1)-1), today)
	}
	return kpi.PeriodOf(r.Period, r.Days, now)
}

// target returns the alert level of the rule for metric m.
func (r Rule) target(m *kpi.Metric) float64 {
	if r.Target != nil {
		return *r.Target
	}
	return m.Target
}

// clear returns the clear level of the rule for metric m.
func (r Rule) clear(m *kpi.Metric) float64 {
	if r.Clear != nil {
		return *r.Clear
	}
	return r.target(m)
}

// freshLimit is how old a shop's data may be under a Freshness rule, with
// data pulled every syncEvery; 0: not watched.
func (r Rule) freshLimit(syncEvery time.Duration) time.Duration {
	if r.Target != nil {
		return time.Duration(*r.Target * float64(time.Hour))
	}
	return 3 * syncEvery
}

// with returns the rule changed as o says: each field o sets replaces the
// rule's. A new target without a new clear level moves the clear level
// with it, so that the rule keeps its hysteresis.
func (r Rule) with(o kpi.RuleOverride) Rule {
	if o.Severity != "" {
		r.Severity = o.Severity
	}
	if o.Target != nil {
		if m, ok := kpi.Lookup(r.Metric); ok && o.Clear == nil && r.Clear != nil {
			c := *r.Clear + *o.Target - r.target(m)
			r.Clear = Level(math.Round(c*1e9) / 1e9)
		}
		r.Target = Level(*o.Target)
	}
	if o.Clear != nil {
		r.Clear = Level(*o.Clear)
	}
	if o.Consecutive != nil {
		r.Consecutive = *o.Consecutive
	}
	if o.MinSample != nil {
		r.MinSample = *o.MinSample
	}
	if o.Runbook != nil {
		r.Runbook = *o.Runbook
	}
	if o.Disabled != nil {
		r.Disabled = *o.Disabled
	}
	return r
}

// check tells what is wrong with the rule, if anything, as a kpi.Invalid
// error that chat can show.
func (r Rule) check() error {
	bad := func(key string, args map[string]any) error { return kpi.Errorf(kpi.Invalid, key, args, nil) }
	switch r.Severity {
	case kpi.SeverityCritical, kpi.SeverityWarning:
	default:
		return bad("error.alert_rule_severity", map[string]any{"Severity": string(r.Severity)})
	}
	if r.Consecutive < 0 || r.Consecutive > 100 || r.MinSample < 0 || r.Days < 0 {
		return bad("error.alert_rule_count", map[string]any{"Consecutive": r.Consecutive, "MinSample": r.MinSample})
	}
	if r.Metric == Freshness {
		if r.Target != nil && !(*r.Target > 0 && *r.Target <= 24*90) {
			return bad("error.alert_rule_level", map[string]any{"Level": show(nil, *r.Target)})
		}
		return nil
	}
	m, ok := kpi.Lookup(r.Metric)
	if !ok {
		return bad("error.alert_rule_metric", map[string]any{"Metric": r.Metric})
	}
	if m.Op == "" {
		return bad("error.alert_rule_no_target", map[string]any{"Metric": r.Metric})
	}
	for _, l := range []float64{r.target(m), r.clear(m)} {
		if math.IsNaN(l) || math.IsInf(l, 0) || l < 0 || m.Unit == kpi.Percent && l > 1 {
			return bad("error.alert_rule_level", map[string]any{"Level": show(m, l)})
		}
	}
	if t, c := r.target(m), r.clear(m); !m.Op.Holds(c, t) && c != t {
		return bad("error.alert_rule_clear_beyond", map[string]any{"Clear": show(m, c), "Target": show(m, t)})
	}
	return nil
}

// show writes a level of metric m (nil: Freshness, in hours) for an error
// message: rates as percentages.
func show(m *kpi.Metric, v float64) string {
	if m != nil && m.Unit == kpi.Percent {
		return strconv.FormatFloat(v*100, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// defaults is how the default rules differ from a warning at the
// catalog's target, evaluated over the metric's default period, in one
// table. Critical: what hurts customers or the shop's standing today. The
// rates that hover near their target clear only a little inside it
// (hysteresis), and the 24-hour ship rate alerts after two evaluations in
// a row; the review alerts look at the last three days, today included, so
// that a burst still shows the day after. The key metrics have a runbook.
var defaults = map[string]Rule{
	"ship_24h_rate":          {Severity: kpi.SeverityCritical, Consecutive: 2, Clear: Level(0.985), Runbook: "alert.runbook_ship_24h_rate"},
	"negative_reviews":       {Severity: kpi.SeverityCritical, Period: Recent, Days: 3, Runbook: "alert.runbook_negative_reviews"},
	"reviews_awaiting_reply": {Severity: kpi.SeverityCritical, Runbook: "alert.runbook_reviews_awaiting_reply"},
	"first_response_minutes": {Severity: kpi.SeverityCritical, Clear: Level(100), Runbook: "alert.runbook_first_response_minutes"},
	"customs_failure_rate":   {Severity: kpi.SeverityCritical, Runbook: "alert.runbook_customs_failure_rate"},
	"days_of_cover":          {Severity: kpi.SeverityCritical, Runbook: "alert.runbook_days_of_cover"},
	Freshness:                {Severity: kpi.SeverityCritical, Runbook: "alert.runbook_freshness"},
	"late_shipment_rate":     {Clear: Level(0.035)},
	"cancel_rate":            {Clear: Level(0.02)},
	"on_time_delivery_rate":  {Clear: Level(0.975)},
	"return_rate":            {Clear: Level(0.045), Runbook: "alert.runbook_return_rate"},
	"acos":                   {Clear: Level(0.28), Runbook: "alert.runbook_acos"},
}

// DefaultRules returns a rule for every shop for each catalog metric with
// a target, in the catalog's order, and for Freshness, as defaults says.
func DefaultRules() []Rule {
	var rules []Rule
	add := func(id string) {
		r := defaults[id]
		r.Metric = id
		if r.Severity == "" {
			r.Severity = kpi.SeverityWarning
		}
		rules = append(rules, r)
	}
	for _, m := range kpi.Catalog {
		if m.Op != "" {
			add(m.ID)
		}
	}
	add(Freshness)
	return rules
}

// Where a rule comes from: the catalog's defaults (or the Config's own
// rules), the config file, or a change made from chat.
const (
	FromDefault = "default"
	FromConfig  = "config"
	FromChat    = "chat"
)

// ruleBook finds the rule of a metric for a shop: the shop's own, else the
// one for every shop.
type ruleBook struct {
	byKey   map[string]Rule   // by Key(metric, shop); shop "" for every shop
	from    map[string]origin // by the same key: where the rule's last change came from
	metrics []string          // each once, in the order of the rules
}

// origin is where a rule's last change came from, and for a change made
// from chat when and by whom.
type origin struct {
	source string
	at     time.Time
	by     string
}

// newRuleBook checks the rules and files them; a second rule for the same
// metric and shop is an error.
func newRuleBook(rules []Rule) (ruleBook, error) {
	b := ruleBook{byKey: map[string]Rule{}, from: map[string]origin{}}
	for i, r := range rules {
		if err := r.check(); err != nil {
			return ruleBook{}, fmt.Errorf("rule %d (%s): %w", i+1, Key(r.Metric, r.Shop), err)
		}
		k := Key(r.Metric, r.Shop)
		if _, dup := b.byKey[k]; dup {
			return ruleBook{}, fmt.Errorf("rule %d (%s): a second rule for it", i+1, k)
		}
		b.put(r, origin{source: FromDefault})
	}
	return b, nil
}

// put files rule r as coming from o.
func (b *ruleBook) put(r Rule, o origin) {
	k := Key(r.Metric, r.Shop)
	if !slices.Contains(b.metrics, r.Metric) {
		b.metrics = append(b.metrics, r.Metric)
	}
	b.byKey[k], b.from[k] = r, o
}

// withOverrides returns the book with the overrides of the config file
// and of chat applied, from the broadest to the narrowest: the every-shop
// overrides of the config file, then of chat, then the one-shop overrides
// of the config file, then of chat. A one-shop override starts from the
// rule for every shop as it stands by then; an override of a metric
// without a rule starts from a warning. Each rule changed is checked.
func (b ruleBook) withOverrides(config, chat []kpi.RuleOverride) (ruleBook, error) {
	out := ruleBook{byKey: maps.Clone(b.byKey), from: maps.Clone(b.from), metrics: slices.Clone(b.metrics)}
	changed := map[string]bool{}
	for _, oneShop := range []bool{false, true} {
		for _, layer := range []struct {
			source    string
			overrides []kpi.RuleOverride
		}{{FromConfig, config}, {FromChat, chat}} {
			for _, o := range layer.overrides {
				if (o.Shop != "") != oneShop {
					continue
				}
				r, ok := out.byKey[Key(o.Metric, o.Shop)]
				if !ok {
					r, ok = out.byKey[Key(o.Metric, "")]
					r.Shop = o.Shop
				}
				if !ok {
					r = Rule{Metric: o.Metric, Shop: o.Shop, Severity: kpi.SeverityWarning}
				}
				out.put(r.with(o), origin{source: layer.source, at: o.Updated, by: o.By})
				changed[Key(o.Metric, o.Shop)] = true
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(changed)) {
		if err := out.byKey[k].check(); err != nil {
			return ruleBook{}, fmt.Errorf("%s rule %s: %w", out.from[k].source, k, err)
		}
	}
	return out, nil
}

// CheckOverrides tells what is wrong, if anything, with the rules that
// overrides (a config file's) make of the default rules: the error names
// the rule (return_rate:rakuten) and wraps a kpi.Error chat can show.
func CheckOverrides(overrides []kpi.RuleOverride) error {
	defaults, err := newRuleBook(DefaultRules())
	if err != nil {
		return err
	}
	_, err = defaults.withOverrides(overrides, nil)
	return err
}

// rule returns the enabled rule of metric for shop.
func (b ruleBook) rule(metric, shop string) (Rule, bool) {
	r, ok := b.lookup(metric, shop)
	return r, ok && !r.Disabled
}

// lookup returns the rule of metric for shop, enabled or not.
func (b ruleBook) lookup(metric, shop string) (Rule, bool) {
	r, ok := b.byKey[Key(metric, shop)]
	if !ok {
		r, ok = b.byKey[Key(metric, "")]
	}
	return r, ok
}

// Rules lists the rules in force for the allowed shops (nil: every shop):
// the rule of each metric for every shop, then each shop's own where it
// has one. A Freshness rule without a target shows the limit that three
// sync intervals make (0 while nothing syncs on a schedule: not watched).
func (m *Manager) Rules(ctx context.Context, allowed []string) ([]bot.RuleView, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.refresh(ctx); err != nil {
		return nil, err
	}
	var out []bot.RuleView
	for _, id := range m.rules.metrics {
		if r, ok := m.rules.byKey[Key(id, "")]; ok {
			out = append(out, m.view(r))
		}
	}
	var shopRules []Rule
	for _, r := range m.rules.byKey {
		if r.Shop != "" && (len(allowed) == 0 || slices.Contains(allowed, r.Shop)) {
			shopRules = append(shopRules, r)
		}
	}
	order := func(id string) int { return slices.Index(m.rules.metrics, id) }
	slices.SortFunc(shopRules, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(order(a.Metric), order(b.Metric)), cmp.Compare(a.Shop, b.Shop))
	})
	for _, r := range shopRules {
		out = append(out, m.view(r))
	}
	return out, nil
}

// view shows rule r as chat does.
func (m *Manager) view(r Rule) bot.RuleView {
	v := bot.RuleView{Metric: r.Metric, Shop: r.Shop, Severity: r.Severity, Consecutive: r.consecutive(), MinSample: r.MinSample,
		Runbook: r.Runbook, Disabled: r.Disabled}
	if met, ok := kpi.Lookup(r.Metric); ok {
		v.Target, v.Clear = r.target(met), r.clear(met)
		v.MinSample = cmp.Or(r.MinSample, met.MinSample)
	} else {
		v.Target = r.freshLimit(m.c.SyncEvery).Hours()
		v.Clear = v.Target
		v.Disabled = v.Disabled || v.Target == 0
	}
	o := m.rules.from[Key(r.Metric, r.Shop)]
	v.Source, v.Updated, v.By = o.source, o.at, o.by
	return v
}

// ChangeRule applies a change made from chat to the rule of
// (change.Metric, change.Shop), on top of the earlier changes from chat to
// it; reset removes those changes instead. The result is checked before it
// is kept: a bad level or a clear level beyond the target is refused with
// a message chat can show. Each change is in the audit log under actor.
// It returns the rule now in force for the shop.
func (m *Manager) ChangeRule(ctx context.Context, change kpi.RuleOverride, reset bool, actor string) (bot.RuleView, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if met, ok := kpi.Lookup(change.Metric); change.Metric != Freshness && (!ok || met.Op == "") {
		key := "error.alert_rule_metric"
		if ok {
			key = "error.alert_rule_no_target"
		}
		return bot.RuleView{}, kpi.Errorf(kpi.Invalid, key, map[string]any{"Metric": change.Metric}, nil)
	}
	if change.Shop != "" {
		shops, err := m.c.Shops.Shops(ctx)
		if err != nil {
			return bot.RuleView{}, fmt.Errorf("alert: change rule: %w", err)
		}
		if !slices.ContainsFunc(shops, func(s kpi.Shop) bool { return s.ID == change.Shop }) {
			return bot.RuleView{}, kpi.Errorf(kpi.NotFound, "error.alert_rule_shop", map[string]any{"Shop": change.Shop}, nil)
		}
	}
	key := Key(change.Metric, change.Shop)
	entry := kpi.AuditEntry{At: now, Actor: actor, Action: "rule", Target: "rule:" + key}
	if reset {
		entry.Detail = "reset"
		if _, err := m.c.Store.DeleteRuleOverride(ctx, change.Metric, change.Shop, entry); err != nil {
			return bot.RuleView{}, fmt.Errorf("alert: change rule %s: %w", key, err)
		}
	} else {
		chat, err := m.c.Store.RuleOverrides(ctx)
		if err != nil {
			return bot.RuleView{}, fmt.Errorf("alert: change rule %s: %w", key, err)
		}
		merged := change
		i := slices.IndexFunc(chat, func(o kpi.RuleOverride) bool { return o.Metric == change.Metric && o.Shop == change.Shop })
		if i >= 0 {
			merged = merge(chat[i], change)
			chat[i] = merged
		} else {
			chat = append(chat, merged)
		}
		if _, err := m.base.withOverrides(nil, chat); err != nil {
			var ke *kpi.Error
			if errors.As(err, &ke) {
				return bot.RuleView{}, ke
			}
			return bot.RuleView{}, fmt.Errorf("alert: change rule %s: %w", key, err)
		}
		entry.Detail = change.String()
		if err := m.c.Store.SaveRuleOverride(ctx, merged, entry); err != nil {
			return bot.RuleView{}, fmt.Errorf("alert: change rule %s: %w", key, err)
		}
	}
	if err := m.refresh(ctx); err != nil {
		return bot.RuleView{}, err
	}
	m.log.Info("alert: rule changed", "rule", key, "actor", actor, "change", entry.Detail)
	r, _ := m.rules.lookup(change.Metric, change.Shop)
	if r.Metric == "" { // a metric without any rule, reset
		r = Rule{Metric: change.Metric, Severity: kpi.SeverityWarning, Disabled: true}
	}
	return m.view(r), nil
}

// merge returns override o with the fields that change sets replaced.
func merge(o, change kpi.RuleOverride) kpi.RuleOverride {
	o.Severity = cmp.Or(change.Severity, o.Severity)
	o.Target = cmp.Or(change.Target, o.Target)
	o.Clear = cmp.Or(change.Clear, o.Clear)
	o.Consecutive = cmp.Or(change.Consecutive, o.Consecutive)
	o.MinSample = cmp.Or(change.MinSample, o.MinSample)
	o.Runbook = cmp.Or(change.Runbook, o.Runbook)
	o.Disabled = cmp.Or(change.Disabled, o.Disabled)
	return o
}
