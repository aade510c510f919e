package bot

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

func ptr[T any](v T) *T { return &v }

func TestParseRuleChanges(t *testing.T) {
	p := testParser(t)
	rr := func(o kpi.RuleOverride) kpi.RuleOverride {
		if o.Metric == "" {
			o.Metric = "return_rate"
		}
		return o
	}
	tests := []struct {
		text    string
		want    kpi.RuleOverride
		reset   bool
		written locales.Lang
	}{
		// English: percentages with and without %, other units as typed.
		{"/kpi rule return_rate threshold 3%", rr(kpi.RuleOverride{Target: ptr(0.03)}), false, locales.English},
		{"/kpi rule return_rate threshold 3", rr(kpi.RuleOverride{Target: ptr(0.03)}), false, locales.English},
		{"/kpi rule ship_24h_rate target 98.5% clear 99%", kpi.RuleOverride{Metric: "ship_24h_rate", Target: ptr(0.985), Clear: ptr(0.99)}, false, locales.English},
		{"/kpi rule ctr threshold 0.25", kpi.RuleOverride{Metric: "ctr", Target: ptr(0.0025)}, false, locales.English},
		{"/kpi rule return_rate rakuten threshold 3% after 2 sample 30 critical",
			rr(kpi.RuleOverride{Shop: "rakuten", Target: ptr(0.03), Consecutive: ptr(2), MinSample: ptr(int64(30)), Severity: kpi.SeverityCritical}), false, locales.English},
		{"/kpi rule returns Rakuten Flagship min sample 50 warning", rr(kpi.RuleOverride{Shop: "rakuten", MinSample: ptr(int64(50)), Severity: kpi.SeverityWarning}), false, locales.English},
		{"/kpi rule return_rate amazon-jp 3 times in a row", rr(kpi.RuleOverride{Shop: "amazon-jp", Consecutive: ptr(3)}), false, locales.English},
		{"/kpi rule acos off", kpi.RuleOverride{Metric: "acos", Disabled: ptr(true)}, false, locales.English},
		{"/kpi alert rule acos enable", kpi.RuleOverride{Metric: "acos", Disabled: ptr(false)}, false, locales.English},
		{"/kpi rule review_score threshold 4.5 clear 4.6", kpi.RuleOverride{Metric: "review_score", Target: ptr(4.5), Clear: ptr(4.6)}, false, locales.English},
		{"/kpi rule negative_reviews threshold 3 after 2 times", kpi.RuleOverride{Metric: "negative_reviews", Target: ptr(3.0), Consecutive: ptr(2)}, false, locales.English},
		{"/kpi rule first_response_minutes threshold 90", kpi.RuleOverride{Metric: "first_response_minutes", Target: ptr(90.0)}, false, locales.English},
		{"/kpi rule freshness threshold 6h", kpi.RuleOverride{Metric: "freshness", Target: ptr(6.0)}, false, locales.English},
		{"/kpi rule data freshness yahoo threshold 1.5 hours", kpi.RuleOverride{Metric: "freshness", Shop: "yahoo", Target: ptr(1.5)}, false, locales.English},
		{"/kpi rule order_to_ship_hours threshold 30h", kpi.RuleOverride{Metric: "order_to_ship_hours", Target: ptr(30.0)}, false, locales.English},
		{"/kpi set the return rate rule threshold to 3%.", rr(kpi.RuleOverride{Target: ptr(0.03)}), false, locales.English},
		{"/kpi rule return_rate reset", rr(kpi.RuleOverride{}), true, locales.English},
		{"/kpi rule return_rate reset to default", rr(kpi.RuleOverride{}), true, locales.English},
		// A runbook is the rest of the line as typed: case, width and
		// punctuation kept, words of the grammar in it not read.
		{"@kpibot rule return_rate runbook: Check the RETURNS tab; call Ｙａｍａｄａ-san before 18:00 (off-site? reset!)  ",
			rr(kpi.RuleOverride{Runbook: ptr("Check the RETURNS tab; call Ｙａｍａｄａ-san before 18:00 (off-site? reset!)")}), false, locales.English},
		{"/KPI Rule return_rate critical Runbook   see https://wiki.example.com/Returns#SKU",
			rr(kpi.RuleOverride{Severity: kpi.SeverityCritical, Runbook: ptr("see https://wiki.example.com/Returns#SKU")}), false, locales.English},
		{"/kpi rule return_rate runbook " + strings.Repeat("x", RunbookMax), rr(kpi.RuleOverride{Runbook: ptr(strings.Repeat("x", RunbookMax))}), false, locales.English},

		// Chinese.
		{"/kpi 规则 退货率 阈值 3%", rr(kpi.RuleOverride{Target: ptr(0.03)}), false, locales.Chinese},
		{"/kpi 规则 退货率 阈值３％ 恢复2.5% 连续2次", rr(kpi.RuleOverride{Target: ptr(0.03), Clear: ptr(0.025), Consecutive: ptr(2)}), false, locales.Chinese},
		{"/kpi 规则 退货率 解除 ２．５ 连续 3 次 最少样本 20 紧急", rr(kpi.RuleOverride{Clear: ptr(0.025), Consecutive: ptr(3), MinSample: ptr(int64(20)), Severity: kpi.SeverityCritical}), false, locales.Chinese},
		{"/kpi 规则 退货率 目标 4 提醒", rr(kpi.RuleOverride{Target: ptr(0.04), Severity: kpi.SeverityWarning}), false, locales.Chinese},
		{"/kpi 告警规则 广告成本 关闭", kpi.RuleOverride{Metric: "acos", Disabled: ptr(true)}, false, locales.Chinese}, // 关闭 resolves an alert elsewhere
		{"/kpi 规则 广告成本 启用", kpi.RuleOverride{Metric: "acos", Disabled: ptr(false)}, false, locales.Chinese},
		{"/kpi 规则 数据新鲜度 阈值 6小时", kpi.RuleOverride{Metric: "freshness", Target: ptr(6.0)}, false, locales.Chinese},
		{"/kpi 规则 退货率 重置", rr(kpi.RuleOverride{}), true, locales.Chinese},
		{"/kpi 规则 退货率 恢复默认", rr(kpi.RuleOverride{}), true, locales.Chinese},
		{"/kpi 把退货率规则的阈值设为3%", rr(kpi.RuleOverride{Target: ptr(0.03)}), false, locales.Chinese},
		{"/kpi 规则 退货率 处理 先按 SKU 看退货原因，再联系仓库（ＡＢＣ仓）。",
			rr(kpi.RuleOverride{Runbook: ptr("先按 SKU 看退货原因，再联系仓库（ＡＢＣ仓）。")}), false, locales.Chinese},

		// Japanese.
		{"/kpi ルール 返品率 閾値 3%", rr(kpi.RuleOverride{Target: ptr(0.03)}), false, locales.Japanese},
		{"/kpi ルール ship_24h_rate しきい値 ９８．５％", kpi.RuleOverride{Metric: "ship_24h_rate", Target: ptr(0.985)}, false, locales.Japanese},
		{"/kpi ルール 返品率 3回連続 解除 4%", rr(kpi.RuleOverride{Consecutive: ptr(3), Clear: ptr(0.04)}), false, locales.Japanese},
		{"/kpi ルール 返品率 連続 3 回 最小サンプル ３０ 重大", rr(kpi.RuleOverride{Consecutive: ptr(3), MinSample: ptr(int64(30)), Severity: kpi.SeverityCritical}), false, locales.Japanese},
		{"/kpi アラートルール 返品率 Rakuten Flagship 注意 復帰 4.5", rr(kpi.RuleOverride{Shop: "rakuten", Severity: kpi.SeverityWarning, Clear: ptr(0.045)}), false, locales.Japanese},
		{"/kpi ルール データ鮮度 閾値 12時間", kpi.RuleOverride{Metric: "freshness", Target: ptr(12.0)}, false, locales.Japanese},
		{"/kpi ルール 返品率 オフ", rr(kpi.RuleOverride{Disabled: ptr(true)}), false, locales.Japanese},
		{"/kpi ルール 返品率 有効", rr(kpi.RuleOverride{Disabled: ptr(false)}), false, locales.Japanese},
		{"/kpi ルール 返品率 既定に戻す", rr(kpi.RuleOverride{}), true, locales.Japanese},
		{"/kpi 返品率のルールを閾値3%に", rr(kpi.RuleOverride{Target: ptr(0.03)}), false, locales.Japanese},
		{"/kpi ルール 返品率 対応：ＳＫＵ別の返品理由を確認し、倉庫へ連絡。",
			rr(kpi.RuleOverride{Runbook: ptr("ＳＫＵ別の返品理由を確認し、倉庫へ連絡。")}), false, locales.Japanese},
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		if err != nil || cmd.Action != ActionRule || !reflect.DeepEqual(cmd.Rule, tt.want) || cmd.RuleReset != tt.reset || cmd.Written != tt.written {
			t.Errorf("%q = %s %s reset %v in %q, %v;\nwant %s reset %v in %q", tt.text, cmd.Action, override(cmd.Rule), cmd.RuleReset, cmd.Written, err,
				override(tt.want), tt.reset, tt.written)
		}
	}
}

// override writes a change with its pointers followed, for messages.
func override(o kpi.RuleOverride) string {
	s := fmt.Sprintf("{%s:%s severity=%q", o.Metric, o.Shop, o.Severity)
	if o.Target != nil {
		s += fmt.Sprintf(" target=%v", *o.Target)
	}
	if o.Clear != nil {
		s += fmt.Sprintf(" clear=%v", *o.Clear)
	}
	if o.Consecutive != nil {
		s += fmt.Sprintf(" after=%d", *o.Consecutive)
	}
	if o.MinSample != nil {
		s += fmt.Sprintf(" sample=%d", *o.MinSample)
	}
	if o.Runbook != nil {
		s += fmt.Sprintf(" runbook=%q", *o.Runbook)
	}
	if o.Disabled != nil {
		s += fmt.Sprintf(" disabled=%v", *o.Disabled)
	}
	return s + "}"
}

func TestParseRuleErrors(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		text    string
		key     string
		written locales.Lang // the language of the error's reply
	}{
		// A setting without its number.
		{"/kpi rule return_rate threshold", "error.rule_needs_number", locales.English},
		{"/kpi rule return_rate threshold abc", "error.rule_needs_number", locales.English},
		{"/kpi rule return_rate after times", "error.rule_needs_number", locales.English},
		{"/kpi 规则 退货率 阈值", "error.rule_needs_number", locales.Chinese},
		{"/kpi 规则 退货率 连续 次", "error.rule_needs_number", locales.Chinese},
		{"/kpi ルール 返品率 回連続", "error.rule_needs_number", locales.Japanese},
		{"/kpi ルール 返品率 閾値 を", "error.rule_needs_number", locales.Japanese},
		// A word no setting has, in a line that sets something.
		{"/kpi rule return_rate threshold 3% frobnicate", "error.rule_unknown_word", locales.English},
		{"/kpi rule return_rate threshold 3% last week", "error.rule_unknown_word", locales.English},
		{"/kpi rule return_rate snooze threshold 3%", "error.rule_unknown_word", locales.English},
		{"/kpi rule return_rate threshold 3x", "error.rule_needs_number", locales.English},
		{"/kpi 规则 退货率 阈值 3% 马上", "error.rule_unknown_word", locales.Chinese},
		{"/kpi ルール 返品率 閾値 3% すぐ", "error.rule_unknown_word", locales.Japanese},
		// A number of no setting.
		{"/kpi rule return_rate 3%", "error.rule_stray_number", locales.English},
		{"/kpi 规则 退货率 3% 紧急", "error.rule_stray_number", locales.Chinese},
		// Reset goes alone.
		{"/kpi rule return_rate reset threshold 3%", "error.rule_reset_alone", locales.English},
		{"/kpi 规则 退货率 重置 关闭", "error.rule_reset_alone", locales.Chinese},
		{"/kpi ルール 返品率 リセット 緊急", "error.rule_reset_alone", locales.Japanese},
		// A metric without a target has no rule; a change names one metric.
		{"/kpi rule gmv threshold 100", "error.rule_no_target", locales.English},
		{"/kpi 规则 新品数 关闭", "error.rule_no_target", locales.Chinese},
		{"/kpi rules gmv", "error.rule_no_target", locales.English},
		{"/kpi rule threshold 3%", "error.rule_needs_metric", locales.English},
		{"/kpi ルール 閾値 3%", "error.rule_needs_metric", locales.Japanese},
		{"/kpi rule return_rate acos threshold 3", "error.two_metrics", locales.English},
		// One shop or every shop.
		{"/kpi rule return_rate amazon-jp yahoo threshold 3", "error.two_scopes", locales.English},
		// Each setting once.
		{"/kpi rule return_rate threshold 3% threshold 4%", "error.rule_setting_twice", locales.English},
		{"/kpi rule return_rate critical warning", "error.rule_setting_twice", locales.English},
		{"/kpi 规则 退货率 关闭 开启", "error.rule_setting_twice", locales.Chinese},
		// Numbers that do not fit.
		{"/kpi rule return_rate threshold 150%", "error.rule_bad_number", locales.English},
		{"/kpi rule return_rate after 2.5", "error.rule_bad_number", locales.English},
		{"/kpi rule return_rate after 0", "error.rule_bad_number", locales.English},
		{"/kpi rule return_rate sample 1.5", "error.rule_bad_number", locales.English},
		{"/kpi rule negative_reviews threshold 2.5", "error.rule_bad_number", locales.English},
		{"/kpi rule return_rate threshold 3h", "error.rule_bad_number", locales.English},
		{"/kpi rule return_rate after 99999999999999999999", "error.rule_bad_number", locales.English},
		{"/kpi ルール 返品率 閾値 ２０１％", "error.rule_bad_number", locales.Japanese},
		// A runbook says something, briefly.
		{"/kpi rule return_rate runbook", "error.rule_runbook_empty", locales.English},
		{"/kpi rule return_rate runbook :  ", "error.rule_runbook_empty", locales.English},
		{"/kpi 规则 退货率 处理", "error.rule_runbook_empty", locales.Chinese},
		{"/kpi rule return_rate runbook " + strings.Repeat("x", RunbookMax+1), "error.rule_runbook_long", locales.English},
		{"/kpi ルール 返品率 対応 " + strings.Repeat("確", RunbookMax+1), "error.rule_runbook_long", locales.Japanese},
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		if !hasKey(err, tt.key) || cmd.Written != tt.written {
			t.Errorf("%q = %s %s, %v in %q; want %s in %q", tt.text, cmd.Action, override(cmd.Rule), err, cmd.Written, tt.key, tt.written)
		}
	}

	// A platform stands for its shop where it has only one, and for none
	// where it has two.
	two := []kpi.Shop{{ID: "rk-main", Platform: kpi.Rakuten, Name: "Main"}, {ID: "rk-outlet", Platform: kpi.Rakuten, Name: "Outlet"}}
	for _, tt := range []struct {
		text, shop string
	}{
		{"/kpi ルール 返品率 楽天 閾値 3%", "rakuten"},
		{"/kpi rule return_rate amazon threshold 3", "amazon-jp"},
		{"/kpi 规则 退货率 乐天 阈值 8%", "rakuten"},
	} {
		cmd, err := p.Parse(tt.text, shops, now)
		if err != nil || cmd.Rule.Shop != tt.shop {
			t.Errorf("%q = %s, %v; want the rule of %s", tt.text, override(cmd.Rule), err, tt.shop)
		}
		if c, err := p.Parse(tt.text, two, now); tt.shop == "rakuten" && !hasKey(err, "error.rule_platform") {
			t.Errorf("%q with two Rakuten shops: %s %s, %v; want error.rule_platform", tt.text, c.Action, override(c.Rule), err)
		}
	}
}

func TestParseRuleList(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		text    string
		want    kpi.Query
		written locales.Lang
		ignored []string
	}{
		{"/kpi rules", kpi.Query{}, locales.English, nil},
		{"/kpi alert rules", kpi.Query{}, locales.English, nil},
		{"/kpi 规则", kpi.Query{}, locales.Chinese, nil},
		{"/kpi 告警规则", kpi.Query{}, locales.Chinese, nil},
		{"/kpi ルール", kpi.Query{}, locales.Japanese, nil},
		{"/kpi アラートルール", kpi.Query{}, locales.Japanese, nil},
		// Narrowed, like the alerts, in any order.
		{"/kpi rules return_rate", kpi.Query{Metric: "return_rate"}, locales.English, nil},
		{"/kpi rule returns", kpi.Query{Metric: "return_rate"}, locales.English, nil},
		{"/kpi rules amazon", kpi.Query{Scope: kpi.Scope{Platform: kpi.Amazon}}, locales.English, nil},
		{"/kpi rules yahoo shopping", kpi.Query{Scope: kpi.Scope{Platform: kpi.Yahoo}}, locales.English, nil},
		{"/kpi rules Amazon JP Main freshness", kpi.Query{Metric: "freshness", Scope: kpi.Scope{Shop: "amazon-jp"}}, locales.English, nil},
		{"/kpi 退货率 亚马逊 规则", kpi.Query{Metric: "return_rate", Scope: kpi.Scope{Platform: kpi.Amazon}}, locales.Chinese, nil},
		{"/kpi 返品率のルール", kpi.Query{Metric: "return_rate"}, locales.Japanese, nil},
		{"/kpi アラート ルール データ鮮度", kpi.Query{Metric: "freshness"}, locales.Japanese, nil},
		// What a list does not read is ignored, as elsewhere.
		{"/kpi ルール 返品率 見せて", kpi.Query{Metric: "return_rate"}, locales.Japanese, []string{"見せて"}},
		{"/kpi rules last week", kpi.Query{}, locales.English, []string{"last week"}},
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		var ignored []string
		for _, n := range cmd.Notes {
			ignored = append(ignored, n.Args["Word"].(string))
		}
		if err != nil || cmd.Action != ActionRules || cmd.Query.Metric != tt.want.Metric || cmd.Query.Scope != tt.want.Scope ||
			cmd.Written != tt.written || !slices.Equal(ignored, tt.ignored) {
			t.Errorf("%q = %s %+v in %q ignoring %q, %v; want the rules of %+v in %q ignoring %q", tt.text, cmd.Action, cmd.Query, cmd.Written, ignored, err,
				tt.want, tt.written, tt.ignored)
		}
	}
	// A mistyped rules word is read as the rules word, by the rest of the
	// language.
	if cmd, err := p.Parse("/kpi rulse return_rate", shops, now); err != nil || cmd.Action != ActionRules || cmd.Query.Metric != "return_rate" ||
		len(cmd.Notes) != 1 || cmd.Notes[0].Key != "note.read_as" {
		t.Errorf("rulse: %+v, %v", cmd, err)
	}
	// Help about the rules is the alerts' help.
	for _, text := range []string{"/kpi help rules", "/kpi 帮助 规则", "/kpi ヘルプ ルール"} {
		if cmd, err := p.Parse(text, shops, now); err != nil || cmd.Action != ActionHelp || cmd.Topic != string(ActionAlerts) {
			t.Errorf("%q = %s about %q, %v; want help about alerts", text, cmd.Action, cmd.Topic, err)
		}
	}
}

// The rule words mean nothing outside a rule line: the phrases they share
// with the rest of the language keep their meaning.
func TestParseRuleWordsElsewhere(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		text   string
		action Action
		metric string
		id     int64
	}{
		{"/kpi 关闭 12", ActionResolve, "", 12},
		{"/kpi 对应中 12", ActionHelp, "", 0}, // not Japanese: nothing understood but a number
		{"/kpi 対応中 12", ActionAck, "", 12},
		{"/kpi 处理完毕 12", ActionResolve, "", 12},
		{"/kpi on time delivery last week", ActionMetric, "on_time_delivery_rate", 0},
		{"/kpi 有効追跡率", ActionMetric, "valid_tracking_rate", 0},
		{"/kpi 暂停提醒 12 直到恢复", ActionSnooze, "", 12},
		{"/kpi customs clearance time", ActionMetric, "customs_clearance_hours", 0},
		{"/kpi 低評価対応時間", ActionMetric, "review_response_hours", 0},
		{"/kpi gmv after reset", ActionMetric, "gmv", 0},
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		if tt.action == ActionHelp {
			if !hasKey(err, "error.not_understood") {
				t.Errorf("%q = %s, %v; want not understood", tt.text, cmd.Action, err)
			}
			continue
		}
		if err != nil || cmd.Action != tt.action || cmd.Query.Metric != tt.metric || cmd.AlertID != tt.id {
			t.Errorf("%q = %s %q #%d, %v; want %s %q #%d", tt.text, cmd.Action, cmd.Query.Metric, cmd.AlertID, err, tt.action, tt.metric, tt.id)
		}
	}
}

// change is one ChangeRule call of the desk's.
type change struct {
	rule  kpi.RuleOverride
	reset bool
	actor string
}

// testRules are the rules of the tests, in the desk's order.
func testRules() []RuleView {
	changed := time.Date(2026, 11, 27, 15, 30, 0, 0, kpi.Tokyo)
	return []RuleView{
		{Metric: "ship_24h_rate", Severity: kpi.SeverityCritical, Target: 0.98, Clear: 0.985, Consecutive: 2, MinSample: 20,
			Runbook: "alert.runbook_ship_24h_rate", Source: "default"},
		{Metric: "return_rate", Severity: kpi.SeverityWarning, Target: 0.05, Clear: 0.045, Consecutive: 1, MinSample: 20,
			Runbook: "alert.runbook_return_rate", Source: "config"},
		{Metric: "return_rate", Shop: "rakuten", Severity: kpi.SeverityCritical, Target: 0.03, Clear: 0.025, Consecutive: 2, MinSample: 30,
			Runbook: "Check the RETURNS tab first", Source: "chat", Updated: changed, By: "slack:T1:U2"},
		{Metric: "negative_reviews", Severity: kpi.SeverityCritical, Target: 2, Clear: 2, Consecutive: 1, Source: "default",
			Runbook: "alert.runbook_negative_reviews"},
		{Metric: "acos", Shop: "amazon-jp", Severity: kpi.SeverityWarning, Target: 0.30, Clear: 0.28, Consecutive: 1, MinSample: 20,
			Disabled: true, Source: "chat", Updated: changed, By: "line:U7"},
		{Metric: "freshness", Severity: kpi.SeverityCritical, Target: 6, Clear: 6, Consecutive: 1, Runbook: "alert.runbook_freshness", Source: "default"},
	}
}

// newRuleDesk is a desk with rules that records the shops each listing
// was for and the changes asked; a change answers the rule it makes.
func newRuleDesk(rules []RuleView) (*fakeDesk, *[]change, *[][]string) {
	var changes []change
	var listed [][]string
	d := &fakeDesk{
		rules: func(_ context.Context, allowed []string) ([]RuleView, error) {
			listed = append(listed, allowed)
			var out []RuleView
			for _, r := range rules {
				if r.Shop == "" || len(allowed) == 0 || slices.Contains(allowed, r.Shop) {
					out = append(out, r)
				}
			}
			return out, nil
		},
		change: func(_ context.Context, c kpi.RuleOverride, reset bool, actor string) (RuleView, error) {
			changes = append(changes, change{c, reset, actor})
			v := RuleView{Metric: c.Metric, Shop: c.Shop, Severity: kpi.SeverityWarning, Target: 0.05, Clear: 0.045, Consecutive: 1, MinSample: 20,
				Source: "chat", Updated: now, By: actor}
			if reset {
				v.Source, v.By, v.Updated = "default", "", time.Time{}
			}
			if c.Target != nil {
				v.Target, v.Clear = *c.Target, *c.Target
			}
			if c.Consecutive != nil {
				v.Consecutive = *c.Consecutive
			}
			if c.Severity != "" {
				v.Severity = c.Severity
			}
			return v, nil
		},
	}
	return d, &changes, &listed
}

func TestRuleListGolden(t *testing.T) {
	desk, _, listed := newRuleDesk(testRules())
	b := newAlertBot(t, desk)
	for _, lang := range []locales.Lang{locales.English, locales.Chinese, locales.Japanese} {
		r := b.Handle(context.Background(), Request{Text: "/kpi rules", ChannelLang: lang})
		if r.Err != nil {
			t.Fatalf("%s: %v", lang, r.Err)
		}
		golden(t, "rules."+string(lang)+".golden", text(r)+"---\n"+r.PlainText())
	}
	if len(*listed) != 3 || (*listed)[0] != nil {
		t.Errorf("the console lists every shop's rules: %q", *listed)
	}
}

func TestRuleListInChannels(t *testing.T) {
	ctx := context.Background()
	desk, changes, listed := newRuleDesk(testRules())
	b := newAlertBot(t, desk)
	labels := func(r Reply) []string {
		var out []string
		for _, row := range r.Rows {
			out = append(out, row.Label)
		}
		return out
	}
	// Any bound channel lists its shops' rules, whatever its role.
	team := &kpi.ChatChannel{Platform: "line", ID: "G1", Role: kpi.RoleShop, Lang: "en", Shops: []string{"rakuten"}}
	r := b.Handle(ctx, Request{Text: "/kpi rules", Channel: team})
	want := []string{"24h ship rate · all shops", "return rate · all shops", "return rate · Rakuten Flagship", "negative reviews · all shops",
		"data freshness · all shops"}
	if r.Err != nil || !slices.Equal(labels(r), want) {
		t.Errorf("the team's rules: %q, %v; want %q", labels(r), r.Err, want)
	}
	if got := (*listed)[len(*listed)-1]; !reflect.DeepEqual(got, []string{"rakuten"}) {
		t.Errorf("listed for %q, want rakuten", got)
	}
	// Even if the desk gave it more.
	leaky := &fakeDesk{rules: func(context.Context, []string) ([]RuleView, error) { return testRules(), nil }}
	if r := newAlertBot(t, leaky).Handle(ctx, Request{Text: "/kpi rules", Channel: team}); !slices.Equal(labels(r), want) {
		t.Errorf("another shop's rule reached the channel: %q", labels(r))
	}
	// Narrowed: for a shop, each metric's rule in force there.
	for text, want := range map[string][]string{
		"/kpi rules return_rate": {"return rate · all shops", "return rate · Rakuten Flagship"},
		"/kpi rules Rakuten Flagship": {"24h ship rate · all shops", "return rate · Rakuten Flagship", "negative reviews · all shops",
			"data freshness · all shops"},
		"/kpi rules amazon-jp acos": {"ACoS · Amazon JP Main"},
		"/kpi rules yahoo":          {"24h ship rate · all shops", "return rate · all shops", "negative reviews · all shops", "data freshness · all shops"},
		"/kpi rules amazon":         {"24h ship rate · all shops", "return rate · all shops", "negative reviews · all shops", "ACoS · Amazon JP Main", "data freshness · all shops"},
		"/kpi rules freshness":      {"data freshness · all shops"},
		"/kpi rules cancel_rate":    nil,
	} {
		r := b.Handle(ctx, Request{Text: text, ChannelLang: locales.English})
		if r.Err != nil || !slices.Equal(labels(r), want) {
			t.Errorf("%q listed %q, %v; want %q", text, labels(r), r.Err, want)
		}
		if want == nil && !strings.Contains(r.Text, "No alert rules") {
			t.Errorf("%q: %q", text, r.Text)
		}
	}
	// An unbound channel sees none.
	before := len(*listed)
	for _, admin := range []func(context.Context) (bool, error){nil, func(context.Context) (bool, error) { return true, nil }} {
		r := b.Handle(ctx, Request{Text: "/kpi rules", Channel: &kpi.ChatChannel{Platform: "slack", ID: "C9"}, IsAdmin: admin})
		if r.Err == nil || !strings.Contains(r.Text, "/kpi bind") || len(*listed) != before {
			t.Errorf("unbound channel: %+v; listed %d", r, len(*listed)-before)
		}
	}
	if len(*changes) != 0 {
		t.Errorf("a list changed a rule: %+v", *changes)
	}
	// Without a desk, or with a failing one, it says so.
	if r := newAlertBot(t, nil).Handle(ctx, Request{Text: "/kpi ルール"}); !hasKey(r.Err, "error.alerts_unavailable") || !strings.Contains(r.Text, "アラート") {
		t.Errorf("no desk: %+v", r)
	}
	failing := &fakeDesk{rules: func(context.Context, []string) ([]RuleView, error) {
		return nil, errors.New("sqlite: disk I/O error at /secret/path")
	}}
	if r := newAlertBot(t, failing).Handle(ctx, Request{Text: "/kpi 规则"}); r.Err == nil || !strings.Contains(r.Text, "系统出了点问题") || strings.Contains(r.Text, "secret") {
		t.Errorf("failing desk: %+v", r)
	}
}

func TestRuleChange(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		text  string
		lang  locales.Lang
		want  change
		reply []string // in the reply's title and row
	}{
		{"/kpi rule return_rate rakuten threshold 3% after 2", locales.English,
			change{kpi.RuleOverride{Metric: "return_rate", Shop: "rakuten", Target: ptr(0.03), Consecutive: ptr(2)}, false, "slack:T1:U2"},
			[]string{"Alert rule changed", "return rate · Rakuten Flagship", "alert if > 3.0%", "2 in a row", "changed in chat by slack:T1:U2 on 2026-11-28"}},
		{"/kpi 规则 退货率 阈值 4% 紧急", "",
			change{kpi.RuleOverride{Metric: "return_rate", Target: ptr(0.04), Severity: kpi.SeverityCritical}, false, "slack:T1:U2"},
			[]string{"告警规则已修改", "退货率 · 全部店铺", "> 4.0%", "严重"}},
		{"/kpi ルール 返品率 リセット", "",
			change{kpi.RuleOverride{Metric: "return_rate"}, true, "slack:T1:U2"},
			[]string{"アラートルールをリセットしました", "返品率 · 全ショップ", "既定"}},
		{"/kpi rule data freshness threshold 12h", locales.English,
			change{kpi.RuleOverride{Metric: "freshness", Target: ptr(12.0)}, false, "slack:T1:U2"},
			[]string{"data freshness · all shops", "alert if > 12.0 h"}},
	}
	for _, tt := range tests {
		desk, changes, _ := newRuleDesk(testRules())
		r := newAlertBot(t, desk).Handle(ctx, Request{Text: tt.text, User: "slack:T1:U2", ChannelLang: tt.lang})
		if r.Err != nil || len(*changes) != 1 || !reflect.DeepEqual((*changes)[0], tt.want) {
			var got []string
			for _, c := range *changes {
				got = append(got, fmt.Sprintf("%s reset %v by %s", override(c.rule), c.reset, c.actor))
			}
			t.Errorf("%q: %v; changes %q, want %s reset %v by %s", tt.text, r.Err, got, override(tt.want.rule), tt.want.reset, tt.want.actor)
			continue
		}
		shown := r.Title + "\n" + text(r)
		for _, w := range tt.reply {
			if !strings.Contains(shown, w) {
				t.Errorf("%q: %q lacks %q", tt.text, shown, w)
			}
		}
	}
}

func TestRuleChangeWhoMay(t *testing.T) {
	ctx := context.Background()
	admin := func(yes bool) func(context.Context) (bool, error) {
		return func(context.Context) (bool, error) { return yes, nil }
	}
	slack := func(role kpi.Role, shops ...string) *kpi.ChatChannel {
		return &kpi.ChatChannel{Platform: "slack", ID: "C1", Role: role, Lang: "en", Shops: shops}
	}
	line := func(role kpi.Role) *kpi.ChatChannel {
		return &kpi.ChatChannel{Platform: "line", ID: "G1", Role: role, Lang: "en"}
	}
	tests := []struct {
		name    string
		channel *kpi.ChatChannel
		isAdmin func(context.Context) (bool, error)
		text    string
		key     string // the error's; "" allowed
	}{
		{"console", nil, nil, "/kpi rule acos off", ""},
		{"Slack admin", slack(kpi.RoleShop, "rakuten"), admin(true), "/kpi rule acos off", ""},
		{"Slack admin, unbound channel", slack(""), admin(true), "/kpi rule acos off", ""},
		{"Slack non-admin in HQ", slack(kpi.RoleHQ), admin(false), "/kpi rule acos off", "error.rule_admin_only"},
		{"Slack, admin check fails", slack(kpi.RoleHQ), func(context.Context) (bool, error) { return false, errors.New("slack: 500") }, "/kpi rule acos off", ""},
		{"Slack admin, another shop", slack(kpi.RoleShop, "rakuten"), admin(true), "/kpi rule acos amazon-jp off", "error.shop_not_visible"},
		{"Slack admin, its shop", slack(kpi.RoleShop, "rakuten"), admin(true), "/kpi rule acos rakuten off", ""},
		{"LINE HQ", line(kpi.RoleHQ), nil, "/kpi rule acos off", ""},
		{"LINE shop team", line(kpi.RoleShop), nil, "/kpi rule acos off", "error.rule_hq_only"},
		{"LINE Japan support", line(kpi.RoleJPSupport), nil, "/kpi 规则 ACOS 关闭", "error.rule_hq_only"},
		{"LINE unbound", line(""), nil, "/kpi ルール ACOS オフ", "error.rule_hq_only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desk, changes, _ := newRuleDesk(testRules())
			r := newAlertBot(t, desk).Handle(ctx, Request{Text: tt.text, User: "u1", Channel: tt.channel, IsAdmin: tt.isAdmin})
			switch {
			case tt.name == "Slack, admin check fails":
				if r.Err == nil || len(*changes) != 0 || strings.Contains(r.Text, "500") {
					t.Errorf("%+v; changes %+v", r, *changes)
				}
			case tt.key == "":
				if r.Err != nil || len(*changes) != 1 || (*changes)[0].actor != "u1" {
					t.Errorf("refused: %q (%v); changes %+v", r.Text, r.Err, *changes)
				}
			default:
				if !hasKey(r.Err, tt.key) || len(*changes) != 0 || r.Text == "" || strings.Contains(r.Text, "error.") {
					t.Errorf("%q (%v), changes %+v; want %s and no change", r.Text, r.Err, *changes, tt.key)
				}
			}
		})
	}
}

func TestRuleChangeErrors(t *testing.T) {
	ctx := context.Background()
	// The desk's own errors are shown in the asker's language.
	refusing := &fakeDesk{change: func(context.Context, kpi.RuleOverride, bool, string) (RuleView, error) {
		return RuleView{}, kpi.Errorf(kpi.Invalid, "error.rule_bad_number", map[string]any{"Text": "0.2"}, nil)
	}}
	for lang, want := range map[locales.Lang]string{locales.English: "“0.2” does not fit", locales.Chinese: "“0.2”不合适", locales.Japanese: "「0.2」は使えません"} {
		r := newAlertBot(t, refusing).Handle(ctx, Request{Text: "/kpi rule return_rate threshold 3%", ChannelLang: lang})
		if !hasKey(r.Err, "error.rule_bad_number") || !strings.Contains(r.Text, want) {
			t.Errorf("%s: %q (%v), want %q", lang, r.Text, r.Err, want)
		}
	}
	// A failing desk says so without its details; none says alerts are
	// not set up.
	failing := &fakeDesk{change: func(context.Context, kpi.RuleOverride, bool, string) (RuleView, error) {
		return RuleView{}, errors.New("sqlite: disk I/O error at /secret/path")
	}}
	if r := newAlertBot(t, failing).Handle(ctx, Request{Text: "/kpi 规则 退货率 关闭"}); r.Err == nil || !strings.Contains(r.Text, "系统出了点问题") || strings.Contains(r.Text, "secret") {
		t.Errorf("failing desk: %+v", r)
	}
	if r := newAlertBot(t, nil).Handle(ctx, Request{Text: "/kpi rule return_rate off"}); !hasKey(r.Err, "error.alerts_unavailable") {
		t.Errorf("no desk: %+v", r)
	}
	// A parse error is said in the language of the line, with the metric
	// named in it.
	desk, changes, _ := newRuleDesk(testRules())
	b := newAlertBot(t, desk)
	for text, want := range map[string]string{
		"/kpi 规则 新品数 阈值 3":                       "新品上架数 没有目标值",
		"/kpi rule gmv threshold 3":              "GMV has no target",
		"/kpi ルール 返品率 閾値":                        "「閾値」には数値が必要です",
		"/kpi rule return_rate meh threshold 3%": "“meh”",
		"/kpi rule return_rate meh 3%":           "Which setting is “3” for?", // it sets nothing: a list, with a stray number
		"/kpi 规则 退货率 3%":                         "“3”是哪项设置的数值",
	} {
		r := b.Handle(ctx, Request{Text: text})
		if r.Err == nil || !strings.Contains(r.Text, want) {
			t.Errorf("%q: %q, want %q", text, r.Text, want)
		}
	}
	if len(*changes) != 0 {
		t.Errorf("a bad line changed a rule: %+v", *changes)
	}
}

func TestRuleHelp(t *testing.T) {
	b := newAlertBot(t, nil)
	for text, want := range map[string][]string{
		"/kpi help rules":  {"/kpi rules return_rate", "/kpi rule return_rate threshold 3% after 2"},
		"/kpi help alerts": {"/kpi rules return_rate", "/kpi snooze 12 tomorrow"},
		"/kpi 帮助 规则":       {"/kpi 规则 退货率", "/kpi 规则 退货率 阈值 3% 连续 2 次"},
		"/kpi ヘルプ ルール":     {"/kpi ルール 返品率", "/kpi ルール 返品率 閾値 3% 2回連続"},
	} {
		r := b.Handle(context.Background(), Request{Text: text})
		for _, w := range want {
			if r.Err != nil || !strings.Contains(r.Text, w) {
				t.Errorf("%q:\n%s\nwant it to contain %q", text, r.Text, w)
			}
		}
	}
	// The examples of the help do what they say.
	p := testParser(t)
	for _, line := range []string{"/kpi rule return_rate threshold 3% after 2", "/kpi 规则 退货率 阈值 3% 连续 2 次", "/kpi ルール 返品率 閾値 3% 2回連続"} {
		cmd, err := p.Parse(line, shops, now)
		if err != nil || !reflect.DeepEqual(cmd.Rule, kpi.RuleOverride{Metric: "return_rate", Target: ptr(0.03), Consecutive: ptr(2)}) {
			t.Errorf("%q = %s, %v", line, override(cmd.Rule), err)
		}
	}
}
