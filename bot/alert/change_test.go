package alert

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

func f64(v float64) *float64 { return &v }
func integer(v int) *int     { return &v }
func str(s string) *string   { return &s }
func boolean(b bool) *bool   { return &b }

// Overrides apply from the broadest to the narrowest: the config file's
// for every shop, chat's for every shop, the config file's for one shop,
// chat's for one shop; a new target moves the clear level with it.
func TestOverrideLayers(t *testing.T) {
	defaults, err := newRuleBook(DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	config := []kpi.RuleOverride{
		{Metric: "return_rate", Shop: "rakuten", Target: f64(0.08), Severity: kpi.SeverityCritical},
		{Metric: "return_rate", Target: f64(0.04), Consecutive: integer(2)},
		{Metric: "gmv_unknown_to_rules", Target: f64(1)}, // checked below, not here
	}
	chat := []kpi.RuleOverride{
		{Metric: "return_rate", Target: f64(0.03), By: "slack:T1:U2"},
		{Metric: "return_rate", Shop: "yahoo", Clear: f64(0.02)},
		{Metric: "review_score", Shop: "rakuten", Disabled: boolean(true)},
	}
	if _, err := defaults.withOverrides(config, chat); err == nil || !strings.Contains(err.Error(), "alert_rule_metric") {
		t.Fatalf("an override of an unknown metric: %v", err)
	}
	config = config[:2]
	b, err := defaults.withOverrides(config, chat)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		shop        string
		target      float64
		clear       float64
		consecutive int
		severity    kpi.Severity
		source      string
	}{
		// Every shop: the config file's 4% in 2 evaluations, then chat's
		// 3%; the default clear level 4.5% follows the target: 2.5%.
		{"", 0.03, 0.025, 2, kpi.SeverityWarning, FromChat},
		{"amazon-jp", 0.03, 0.025, 2, kpi.SeverityWarning, FromChat},
		// Rakuten's own rule starts from every shop's as chat left it.
		{"rakuten", 0.08, 0.075, 2, kpi.SeverityCritical, FromConfig},
		{"yahoo", 0.03, 0.02, 2, kpi.SeverityWarning, FromChat},
	}
	met, _ := kpi.Lookup("return_rate")
	for _, tt := range tests {
		r, ok := b.rule("return_rate", tt.shop)
		if !ok || r.target(met) != tt.target || r.clear(met) != tt.clear || r.consecutive() != tt.consecutive || r.Severity != tt.severity {
			t.Errorf("return_rate for %q: %v %+v (target %v clear %v); want %+v", tt.shop, ok, r, r.target(met), r.clear(met), tt)
		}
		k := Key("return_rate", tt.shop)
		if _, own := b.byKey[k]; own && b.from[k].source != tt.source {
			t.Errorf("return_rate for %q from %q, want %q", tt.shop, b.from[k].source, tt.source)
		}
	}
	if _, ok := b.rule("review_score", "rakuten"); ok {
		t.Error("review_score is disabled for rakuten")
	}
	if _, ok := b.rule("review_score", "yahoo"); !ok {
		t.Error("review_score is enabled for yahoo")
	}
	// The defaults are not touched.
	if r, _ := defaults.rule("return_rate", ""); r.Target != nil {
		t.Errorf("the default rule was changed: %+v", r)
	}
	// A lower target that leaves a clear level set by hand beyond it is refused.
	bad := []kpi.RuleOverride{{Metric: "return_rate", Clear: f64(0.045)}, {Metric: "return_rate", Shop: "yahoo", Target: f64(0.02), Clear: f64(0.03)}}
	if _, err := defaults.withOverrides(nil, bad); err == nil || !strings.Contains(err.Error(), "alert_rule_clear_beyond") {
		t.Errorf("a clear level beyond the target: %v", err)
	}
}

// A rule changed from chat is merged with the earlier changes, kept in
// the store with an audit entry, used by the next evaluation, listed with
// where it comes from, and reset; bad changes are refused and change
// nothing.
func TestChangeRule(t *testing.T) {
	start := jst(2026, 11, 18, 10, 0)
	f := newFixture(t, start, []kpi.ChatChannel{hq}, func(c *Config) {
		c.Overrides = []kpi.RuleOverride{{Metric: "acos", Target: f64(0.25)}}
	})
	f.engine.set("return_rate", "rakuten", 0.04) // within the default 5%
	if rep := f.evaluate(); len(rep.Opened) != 0 {
		t.Fatalf("opened %+v", rep.Opened)
	}
	view, err := f.m.ChangeRule(f.ctx, kpi.RuleOverride{Metric: "return_rate", Shop: "rakuten", Target: f64(0.03)}, false, "slack:T1:U2")
	if err != nil {
		t.Fatal(err)
	}
	want := bot.RuleView{Metric: "return_rate", Shop: "rakuten", Severity: kpi.SeverityWarning, Target: 0.03, Clear: 0.025,
		Consecutive: 1, MinSample: 20, Runbook: "alert.runbook_return_rate", Source: FromChat, Updated: start, By: "slack:T1:U2"}
	if !view.Updated.Equal(want.Updated) || (func() bool { v := view; v.Updated = want.Updated; return v != want })() {
		t.Errorf("ChangeRule = %+v\nwant %+v", view, want)
	}
	f.clock.Add(time.Minute)
	if _, err := f.m.ChangeRule(f.ctx, kpi.RuleOverride{Metric: "return_rate", Shop: "rakuten", Severity: kpi.SeverityCritical,
		Runbook: str("换备用仓 / 予備倉庫へ")}, false, "line:U9"); err != nil {
		t.Fatal(err)
	}
	// The next evaluation judges rakuten by 3%: critical, with the runbook.
	rep := f.evaluate()
	if len(rep.Opened) != 1 || rep.Opened[0].Target != 0.03 || rep.Opened[0].Severity != kpi.SeverityCritical {
		t.Fatalf("opened %+v", rep.Opened)
	}
	msgs := f.pending(true)
	if m := msgs["alert:1:open:slack:C-HQ"]; !strings.Contains(m.text(), "≤ 3.0%") || !strings.Contains(m.text(), "换备用仓 / 予備倉庫へ") {
		t.Errorf("the alert does not show the new target and runbook:\n%s", m.text())
	}
	log, err := f.store.AuditLog(f.ctx, "rule:return_rate:rakuten")
	if err != nil || len(log) != 2 || log[0].Actor != "slack:T1:U2" || log[0].Detail != "target=0.03" ||
		log[1].Actor != "line:U9" || !strings.HasPrefix(log[1].Detail, "severity=critical runbook=") {
		t.Errorf("audit log = %+v, %v", log, err)
	}

	// Refused: each leaves the rule as it was and writes no audit entry.
	for _, tt := range []struct {
		change kpi.RuleOverride
		key    string
	}{
		{kpi.RuleOverride{Metric: "return_rate", Shop: "rakuten", Clear: f64(0.04)}, "error.alert_rule_clear_beyond"},
		{kpi.RuleOverride{Metric: "return_rate", Shop: "rakuten", Target: f64(1.2)}, "error.alert_rule_level"},
		{kpi.RuleOverride{Metric: "return_rate", Shop: "nowhere", Target: f64(0.1)}, "error.alert_rule_shop"},
		{kpi.RuleOverride{Metric: "gmv", Target: f64(1)}, "error.alert_rule_no_target"},
		{kpi.RuleOverride{Metric: "nope", Target: f64(1)}, "error.alert_rule_metric"},
		{kpi.RuleOverride{Metric: "return_rate", Consecutive: integer(0)}, "error.alert_rule_count"},
	} {
		if tt.key == "error.alert_rule_count" {
			tt.change.Consecutive = integer(101)
		}
		_, err := f.m.ChangeRule(f.ctx, tt.change, false, "slack:T1:U2")
		if ke, ok := err.(*kpi.Error); !ok || ke.Key != tt.key {
			t.Errorf("ChangeRule(%s) = %v, want %s", tt.change, err, tt.key)
		}
	}
	if log, _ := f.store.AuditLog(f.ctx, "rule:return_rate:rakuten"); len(log) != 2 {
		t.Errorf("refused changes were audited: %+v", log)
	}

	// The list: every metric's rule for every shop, then rakuten's own.
	rules, err := f.m.Rules(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rules, func(v bot.RuleView) bool { return v.Metric == "return_rate" && v.Shop == "rakuten" })
	j := slices.IndexFunc(rules, func(v bot.RuleView) bool { return v.Metric == "acos" && v.Shop == "" })
	if i < 0 || j < 0 || rules[i].Severity != kpi.SeverityCritical || rules[j].Target != 0.25 || rules[j].Source != FromConfig {
		t.Fatalf("Rules = %+v", rules)
	}
	if last := rules[len(rules)-1]; last.Shop != "rakuten" {
		t.Errorf("the shops' own rules do not come last: %+v", last)
	}
	if only, _ := f.m.Rules(f.ctx, []string{"yahoo"}); slices.ContainsFunc(only, func(v bot.RuleView) bool { return v.Shop == "rakuten" }) {
		t.Errorf("a yahoo channel sees rakuten's rule: %+v", only)
	}

	// Disabling it resolves the episode; a reset brings the default back.
	f.clock.Add(time.Minute)
	if _, err := f.m.ChangeRule(f.ctx, kpi.RuleOverride{Metric: "return_rate", Shop: "rakuten", Disabled: boolean(true)}, false, "console:ops"); err != nil {
		t.Fatal(err)
	}
	if rep := f.evaluate(); len(rep.Resolved) != 1 {
		t.Errorf("disabling the rule resolved %+v", rep.Resolved)
	}
	view, err = f.m.ChangeRule(f.ctx, kpi.RuleOverride{Metric: "return_rate", Shop: "rakuten"}, true, "console:ops")
	if err != nil || view.Target != 0.05 || view.Source != FromDefault || view.Disabled {
		t.Errorf("after a reset: %+v, %v", view, err)
	}
	if log, _ := f.store.AuditLog(f.ctx, "rule:return_rate:rakuten"); len(log) != 4 || log[3].Detail != "reset" {
		t.Errorf("audit log after the reset: %+v", log)
	}
}

// A configured route sends the alerts it matches where it says and
// nowhere else; the others keep the default routing.
func TestConfiguredRoutes(t *testing.T) {
	ops := kpi.ChatChannel{Platform: "slack", ID: "C-OPS", Role: kpi.RoleShop, Lang: "zh", Shops: []string{"amazon-jp"}}
	f := newFixture(t, jst(2026, 11, 18, 10, 0), []kpi.ChatChannel{hq, jp, team, ops}, func(c *Config) {
		c.Routes = []Route{
			{Metrics: []string{"return_rate"}, Shops: []string{"rakuten"}, To: []string{"slack:C-OPS"}},
			{Metrics: []string{"acos"}, To: []string{"jp-support", "shop"}},
		}
	})
	f.engine.set("return_rate", "rakuten", 0.09)   // route 1: C-OPS alone, though it sees only amazon-jp
	f.engine.set("return_rate", "amazon-jp", 0.09) // no route: hq, jp-support, C-OPS (its shop)
	f.engine.set("acos", "rakuten", 0.6)           // route 2: jp-support and rakuten's team, not hq
	f.evaluate()
	sameKeys(t, "routed", f.pending(true),
		"alert:1:open:slack:C-HQ", "alert:1:open:line:U-JP", "alert:1:open:slack:C-OPS", // amazon-jp's return rate
		"alert:2:open:slack:C-OPS",                               // rakuten's return rate
		"alert:3:open:line:U-JP", "alert:3:open:slack:C-RAKUTEN") // rakuten's acos
	for _, bad := range []Route{
		{To: nil},
		{Metrics: []string{"gmv"}, To: []string{"hq"}},
		{To: []string{"managers"}},
		{To: []string{"slack:"}},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("route %+v accepted", bad)
		}
	}
}

// A critical alert still unacknowledged an hour after it opened is
// escalated to the managers once: mentioned in the Slack channels that
// got it, pushed to in LINE; their LINE chats hear how it ends. Without
// managers, or once acknowledged, nobody is paged.
func TestEscalationToManagers(t *testing.T) {
	const wangLINE = "U0123456789abcdef0123456789abcdef"
	start := jst(2026, 11, 18, 10, 0)
	f := newFixture(t, start, []kpi.ChatChannel{hq, jp}, func(c *Config) {
		c.Managers = []Contact{
			{Name: "王经理", Slack: "U0WANG", LINE: wangLINE, Lang: "zh"},
			{Name: "佐藤", Slack: "U0SATO"},
			{Name: "Yahoo lead", Slack: "U0YAHOO", Shops: []string{"yahoo"}},
		}
	})
	f.engine.set("negative_reviews", "amazon-jp", 6) // #1, critical
	f.engine.set("days_of_cover", "yahoo", 3)        // #2, critical, acknowledged below
	f.evaluate()
	f.pending(true)
	f.clock.Set(start.Add(10 * time.Minute))
	if _, err := f.m.Ack(f.ctx, 2, bot.Actor{User: "slack:T1:U2"}); err != nil {
		t.Fatal(err)
	}
	f.pending(true)
	f.clock.Set(start.Add(30 * time.Minute))
	f.escalate()
	sameKeys(t, "30 min", f.pending(true), "alert:1:resend-1:slack:C-HQ", "alert:1:resend-1:line:U-JP")
	f.clock.Set(start.Add(60 * time.Minute))
	f.escalate()
	msgs := f.pending(true)
	sameKeys(t, "60 min", msgs, "alert:1:page:slack:C-HQ", "alert:1:page:line:"+wangLINE)
	slackMsg, lineMsg := msgs["alert:1:page:slack:C-HQ"], msgs["alert:1:page:line:"+wangLINE]
	if !slices.Equal(slackMsg.reply.Mentions, []string{"U0WANG", "U0SATO"}) || !strings.Contains(slackMsg.text(), "王经理, 佐藤") {
		t.Errorf("the Slack page mentions %v:\n%s", slackMsg.reply.Mentions, slackMsg.text())
	}
	if lineMsg.ch.ID != wangLINE || lineMsg.ch.Platform != "line" || len(lineMsg.reply.Mentions) != 0 || lineMsg.reply.Lang != locales.Chinese ||
		len(lineMsg.reply.Buttons) == 0 {
		t.Errorf("the LINE page: %+v", lineMsg)
	}
	// Paged once; the resends go on every 30 minutes.
	f.clock.Set(start.Add(80 * time.Minute))
	f.escalate()
	sameKeys(t, "80 min", f.pending(true))
	f.clock.Set(start.Add(90 * time.Minute))
	f.escalate()
	sameKeys(t, "90 min", f.pending(true), "alert:1:resend-2:slack:C-HQ", "alert:1:resend-2:line:U-JP")
	// The acknowledgement reaches the manager's LINE too.
	if _, err := f.m.Ack(f.ctx, 1, bot.Actor{User: "line:U-SATO"}); err != nil {
		t.Fatal(err)
	}
	sameKeys(t, "ack", f.pending(true), "alert:1:ack-1:slack:C-HQ", "alert:1:ack-1:line:U-JP", "alert:1:ack-1:line:"+wangLINE)
	if a := f.alert(2); !a.Paged.IsZero() {
		t.Errorf("an acknowledged alert was paged: %+v", a)
	}

	for _, bad := range []Contact{{Name: "nobody"}, {Slack: "wang"}, {LINE: "U123"}, {Slack: "U0WANG", Lang: "fr"}} {
		if err := bad.Check(); err == nil {
			t.Errorf("contact %+v accepted", bad)
		}
	}
}
