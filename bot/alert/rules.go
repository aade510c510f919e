package alert

import (
	"fmt"
	"math"
	"time"

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
	// Consecutive is how many evaluations in a row the KPI must be beyond
	// its target before an episode opens, and within ClearLevel before it
	// resolves; 0 means 1.
	Consecutive int
	// ClearLevel is where the KPI must come back to for the episode to
	// resolve (hysteresis): ship_24h_rate alerts below 98% and clears at or
	// above 98.5%. 0: the target itself. It must lie on the good side of
	// the target.
	ClearLevel float64
	// MinSample is the sample below which the KPI neither breaches nor
	// clears; 0: the metric's.
	MinSample int64
	// Period is the window evaluated: a kind of kpi.PeriodOf (yesterday,
	// this_month, last_days with Days …) or Recent with Days; "": the
	// metric's default period.
	Period kpi.PeriodKind
	Days   int
	// Runbook is what to do, shown with the alert: a message id (alert.…)
	// in the channel's language, or a line shown as it is.
	Runbook  string
	Disabled bool
}

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

// clear returns the clear level of the rule for metric m.
func (r Rule) clear(m *kpi.Metric) float64 {
	if r.ClearLevel == 0 {
		return m.Target
	}
	return r.ClearLevel
}

// check tells what is wrong with the rule, if anything.
func (r Rule) check() error {
	switch r.Severity {
	case kpi.SeverityCritical, kpi.SeverityWarning:
	default:
		return fmt.Errorf("severity %q: want critical or warning", r.Severity)
	}
	if r.Consecutive < 0 || r.MinSample < 0 || r.Days < 0 {
		return fmt.Errorf("negative Consecutive, MinSample or Days")
	}
	if r.Metric == Freshness {
		return nil
	}
	m, ok := kpi.Lookup(r.Metric)
	if !ok {
		return fmt.Errorf("no metric %q", r.Metric)
	}
	if m.Op == "" {
		return fmt.Errorf("metric %s has no target", r.Metric)
	}
	if c := r.clear(m); math.IsNaN(c) || !m.Op.Holds(c, m.Target) && c != m.Target {
		return fmt.Errorf("clear level %v lies beyond the target %v", c, m.Target)
	}
	return nil
}

// defaults is how the default rules differ from a warning at the
// catalog's target, evaluated over the metric's default period, in one
// table. Critical: what hurts customers or the shop's standing today. The
// rates that hover near their target clear only a little inside it
// (hysteresis), and the 24-hour ship rate alerts after two evaluations in
// a row; the review alerts look at the last three days, today included, so
// that a burst still shows the day after. The key metrics have a runbook.
var defaults = map[string]Rule{
	"ship_24h_rate":          {Severity: kpi.SeverityCritical, Consecutive: 2, ClearLevel: 0.985, Runbook: "alert.runbook_ship_24h_rate"},
	"negative_reviews":       {Severity: kpi.SeverityCritical, Period: Recent, Days: 3, Runbook: "alert.runbook_negative_reviews"},
	"reviews_awaiting_reply": {Severity: kpi.SeverityCritical, Runbook: "alert.runbook_reviews_awaiting_reply"},
	"first_response_minutes": {Severity: kpi.SeverityCritical, ClearLevel: 100, Runbook: "alert.runbook_first_response_minutes"},
	"customs_failure_rate":   {Severity: kpi.SeverityCritical, Runbook: "alert.runbook_customs_failure_rate"},
	"days_of_cover":          {Severity: kpi.SeverityCritical, Runbook: "alert.runbook_days_of_cover"},
	Freshness:                {Severity: kpi.SeverityCritical, Runbook: "alert.runbook_freshness"},
	"late_shipment_rate":     {ClearLevel: 0.035},
	"cancel_rate":            {ClearLevel: 0.02},
	"on_time_delivery_rate":  {ClearLevel: 0.975},
	"return_rate":            {ClearLevel: 0.045, Runbook: "alert.runbook_return_rate"},
	"acos":                   {ClearLevel: 0.28, Runbook: "alert.runbook_acos"},
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

// ruleBook finds the rule of a metric for a shop: the shop's own, else the
// one for every shop.
type ruleBook struct {
	byKey   map[string]Rule // by Key(metric, shop); shop "" for every shop
	metrics []string        // each once, in the order of the rules
}

func newRuleBook(rules []Rule) (ruleBook, error) {
	b := ruleBook{byKey: map[string]Rule{}}
	seen := map[string]bool{}
	for i, r := range rules {
		if err := r.check(); err != nil {
			return ruleBook{}, fmt.Errorf("rule %d (%s): %w", i+1, Key(r.Metric, r.Shop), err)
		}
		k := Key(r.Metric, r.Shop)
		if _, dup := b.byKey[k]; dup {
			return ruleBook{}, fmt.Errorf("rule %d (%s): a second rule for it", i+1, k)
		}
		b.byKey[k] = r
		if !seen[r.Metric] {
			seen[r.Metric] = true
			b.metrics = append(b.metrics, r.Metric)
		}
	}
	return b, nil
}

// rule returns the enabled rule of metric for shop.
func (b ruleBook) rule(metric, shop string) (Rule, bool) {
	r, ok := b.byKey[Key(metric, shop)]
	if !ok {
		r, ok = b.byKey[Key(metric, "")]
	}
	return r, ok && !r.Disabled
}
