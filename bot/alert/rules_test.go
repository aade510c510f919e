package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// The default rules cover every metric with a target and freshness, once
// each, and are valid; the urgent ones are critical.
func TestDefaultRules(t *testing.T) {
	rules := DefaultRules()
	if _, err := newRuleBook(rules); err != nil {
		t.Fatal(err)
	}
	by := map[string]Rule{}
	for _, r := range rules {
		by[r.Metric] = r
	}
	for _, m := range kpi.Catalog {
		if _, ok := by[m.ID]; ok != (m.Op != "") {
			t.Errorf("%s: a rule %v, a target %q", m.ID, ok, m.Op)
		}
	}
	critical := []string{"negative_reviews", "reviews_awaiting_reply", "ship_24h_rate", "first_response_minutes",
		"customs_failure_rate", "days_of_cover", Freshness}
	for id, r := range by {
		want := kpi.SeverityWarning
		for _, c := range critical {
			if c == id {
				want = kpi.SeverityCritical
			}
		}
		if r.Severity != want || r.Shop != "" || r.Disabled {
			t.Errorf("%s: %+v, want %s for every shop", id, r, want)
		}
		if rb := r.Runbook; rb != "" && text.Printer(locales.Japanese).T(rb, nil) == rb {
			t.Errorf("%s: runbook %q has no Japanese text", id, rb)
		}
	}
}

// A rule is refused when its metric is unknown or has no target, its
// severity unknown, its clear level beyond the target, or a second rule
// names the same metric and shop.
func TestRuleChecks(t *testing.T) {
	ok := Rule{Metric: "return_rate", Severity: kpi.SeverityWarning}
	tests := []struct {
		name  string
		rules []Rule
		want  string
	}{
		{"unknown metric", []Rule{{Metric: "nope", Severity: kpi.SeverityWarning}}, "alert_rule_metric"},
		{"no target", []Rule{{Metric: "gmv", Severity: kpi.SeverityWarning}}, "alert_rule_no_target"},
		{"a rate above 100%", []Rule{{Metric: "return_rate", Severity: kpi.SeverityWarning, Target: Level(1.5)}}, "alert_rule_level"},
		{"a negative level", []Rule{{Metric: "negative_reviews", Severity: kpi.SeverityWarning, Target: Level(-1)}}, "alert_rule_level"},
		{"a freshness limit of 0", []Rule{{Metric: Freshness, Severity: kpi.SeverityWarning, Target: Level(0)}}, "alert_rule_level"},
		{"no severity", []Rule{{Metric: "return_rate"}}, "alert_rule_severity"},
		{"clear beyond target", []Rule{{Metric: "return_rate", Severity: kpi.SeverityWarning, Clear: Level(0.06)}}, "alert_rule_clear_beyond"},
		{"clear beyond a higher target", []Rule{{Metric: "ship_24h_rate", Severity: kpi.SeverityWarning, Clear: Level(0.97)}}, "alert_rule_clear_beyond"},
		{"twice", []Rule{ok, ok}, "second rule"},
		{"negative", []Rule{{Metric: "return_rate", Severity: kpi.SeverityWarning, Consecutive: -1}}, "alert_rule_count"},
	}
	for _, tt := range tests {
		if _, err := newRuleBook(tt.rules); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error about %s", tt.name, err, tt.want)
		}
	}
	shopRule := ok
	shopRule.Shop, shopRule.Disabled = "yahoo", true
	b, err := newRuleBook([]Rule{ok, shopRule, {Metric: Freshness, Severity: kpi.SeverityCritical}})
	if err != nil {
		t.Fatal(err)
	}
	if _, on := b.rule("return_rate", "yahoo"); on {
		t.Error("a rule disabled for one shop applies there")
	}
	if r, on := b.rule("return_rate", "rakuten"); !on || r.Shop != "" {
		t.Errorf("the rule for every shop: %+v, %v", r, on)
	}
}

// The window a rule evaluates.
func TestRuleWindow(t *testing.T) {
	now := jst(2026, 11, 18, 10, 0)
	today := kpi.DateOf(now)
	tests := []struct {
		rule Rule
		want kpi.Period
	}{
		{Rule{}, kpi.Period{}},
		{Rule{Period: Recent, Days: 3}, kpi.Range(today-2, today)},
		{Rule{Period: kpi.KindYesterday}, kpi.Yesterday(now)},
		{Rule{Period: kpi.KindLastDays, Days: 7}, kpi.LastDays(now, 7)},
	}
	for _, tt := range tests {
		if got := tt.rule.window(now); got != tt.want {
			t.Errorf("%+v: window %v, want %v", tt.rule, got, tt.want)
		}
	}
}

// Routing: hq and shop teams get every alert of the shops they see, Japan
// support the customer-facing ones; each channel reads its language.
func TestRoutes(t *testing.T) {
	tests := []struct {
		ch     kpi.ChatChannel
		metric string
		shop   string
		want   bool
	}{
		{hq, "acos", "yahoo", true},
		{hq, Freshness, "yahoo", true},
		{jp, "acos", "yahoo", false},
		{jp, "return_rate", "rakuten", true},
		{jp, "negative_reviews", "amazon-jp", true},
		{jp, "first_response_minutes", "rakuten", true},
		{jp, "on_time_delivery_rate", "rakuten", true},
		{jp, "ship_24h_rate", "rakuten", false},
		{jp, Freshness, "rakuten", false},
		{team, "acos", "rakuten", true},
		{team, "acos", "yahoo", false},
		{kpi.ChatChannel{Role: kpi.RoleJPSupport, Shops: []string{"yahoo"}}, "return_rate", "rakuten", false},
		{kpi.ChatChannel{Role: kpi.RoleShop}, "acos", "yahoo", true},
		{kpi.ChatChannel{}, "acos", "yahoo", false}, // not bound
	}
	for _, tt := range tests {
		if got := Routes(tt.ch, tt.metric, tt.shop); got != tt.want {
			t.Errorf("Routes(%s %v, %s, %s) = %v", tt.ch.Role, tt.ch.Shops, tt.metric, tt.shop, got)
		}
	}
	for ch, want := range map[*kpi.ChatChannel]locales.Lang{
		&hq: locales.Chinese, &jp: locales.Japanese, &team: locales.Bilingual,
		{Role: kpi.RoleHQ}:                    locales.Chinese,
		{Role: kpi.RoleJPSupport}:             locales.Japanese,
		{Role: kpi.RoleJPSupport, Lang: "en"}: locales.English,
		{Role: kpi.RoleShop}:                  locales.Chinese,
	} {
		if got := Lang(*ch); got != want {
			t.Errorf("Lang(%+v) = %s, want %s", *ch, got, want)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	f := newFixture(t, jst(2026, 11, 18, 10, 0), nil, nil)
	good := f.m.c
	for name, change := range map[string]func(*Config){
		"no engine":   func(c *Config) { c.Engine = nil },
		"no outbox":   func(c *Config) { c.Outbox = nil },
		"no texts":    func(c *Config) { c.Text = nil },
		"bad rule":    func(c *Config) { c.Rules = []Rule{{Metric: "gmv"}} },
		"bad hours":   func(c *Config) { c.Open, c.Close = 18*time.Hour, 9*time.Hour },
		"bad resend":  func(c *Config) { c.ResendAfter = -time.Minute },
		"bad freshes": func(c *Config) { c.SyncEvery = -time.Minute },
	} {
		c := good
		change(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
