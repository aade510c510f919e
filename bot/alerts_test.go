package bot

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

func TestParseAlertCommands(t *testing.T) {
	p := testParser(t)
	forH := func(h time.Duration) Snooze { return Snooze{Kind: SnoozeFor, For: h} }
	deflt := forH(DefaultSnooze)
	tomorrow := Snooze{Kind: SnoozeTomorrow}
	resolved := Snooze{Kind: SnoozeResolved}
	tests := []struct {
		text    string
		action  Action
		id      int64
		snooze  Snooze
		written locales.Lang
	}{
		// The list, in three languages.
		{"/kpi alerts", ActionAlerts, 0, Snooze{}, locales.English},
		{"/kpi open alerts", ActionAlerts, 0, Snooze{}, locales.English},
		{"/kpi 告警", ActionAlerts, 0, Snooze{}, locales.Chinese},
		{"/kpi 警报", ActionAlerts, 0, Snooze{}, locales.Chinese},
		{"/kpi アラート", ActionAlerts, 0, Snooze{}, locales.Japanese},
		{"/kpi アラート一覧", ActionAlerts, 0, Snooze{}, locales.Japanese},
		// Ack: the number bare, with #, full width, without a space.
		{"/kpi ack 12", ActionAck, 12, Snooze{}, locales.English},
		{"/kpi ack #12", ActionAck, 12, Snooze{}, locales.English},
		{"@kpibot acknowledge ＃１２", ActionAck, 12, Snooze{}, locales.English},
		{"/kpi 12 ack", ActionAck, 12, Snooze{}, locales.English},
		{"确认 12", ActionAck, 12, Snooze{}, locales.Chinese},
		{"/kpi 确认12", ActionAck, 12, Snooze{}, locales.Chinese},
		{"/kpi 收到 #7", ActionAck, 7, Snooze{}, locales.Chinese},
		{"/kpi 確認 12", ActionAck, 12, Snooze{}, locales.Japanese},
		{"/kpi 認識 12", ActionAck, 12, Snooze{}, locales.Japanese},
		{"/kpi 対応中 ＃１２", ActionAck, 12, Snooze{}, locales.Japanese},
		{"/kpi アラート12を確認", ActionAck, 12, Snooze{}, locales.Japanese}, // the list's word, then what is done
		{"/kpi ack 1234567", ActionAck, 1234567, Snooze{}, locales.English},
		// Snooze: each choice in three languages; none is the default.
		{"/kpi snooze 12", ActionSnooze, 12, deflt, locales.English},
		{"/kpi snooze 12 2h", ActionSnooze, 12, forH(2 * time.Hour), locales.English},
		{"/kpi snooze #12 for 3 hours", ActionSnooze, 12, forH(3 * time.Hour), locales.English},
		{"/kpi snooze 12 30m", ActionSnooze, 12, forH(30 * time.Minute), locales.English},
		{"/kpi snooze 12 ４ｈ", ActionSnooze, 12, forH(4 * time.Hour), locales.English},
		{"/kpi snooze 12 1d", ActionSnooze, 12, forH(24 * time.Hour), locales.English},
		{"/kpi snooze 12 tomorrow", ActionSnooze, 12, tomorrow, locales.English},
		{"/kpi snooze 12 until resolved", ActionSnooze, 12, resolved, locales.English},
		{"/kpi snooze 12 18:00", ActionSnooze, 12, Snooze{Kind: SnoozeClock, Clock: 18 * time.Hour}, locales.English},
		{"/kpi mute 12 until ８：３０", ActionSnooze, 12, Snooze{Kind: SnoozeClock, Clock: 8*time.Hour + 30*time.Minute}, locales.English},
		{"稍后 12", ActionSnooze, 12, deflt, locales.Chinese},
		{"/kpi 暂停提醒 12 2小时", ActionSnooze, 12, forH(2 * time.Hour), locales.Chinese},
		{"/kpi 稍后提醒 #12 30分钟", ActionSnooze, 12, forH(30 * time.Minute), locales.Chinese},
		{"/kpi 暂停提醒 12 明天", ActionSnooze, 12, tomorrow, locales.Chinese},
		{"/kpi 暂停提醒 12 直到解决", ActionSnooze, 12, resolved, locales.Chinese},
		{"/kpi 暂停提醒 12 3天", ActionSnooze, 12, forH(72 * time.Hour), locales.Chinese},
		{"/kpi スヌーズ 12", ActionSnooze, 12, deflt, locales.Japanese},
		{"/kpi スヌーズ 12 2時間", ActionSnooze, 12, forH(2 * time.Hour), locales.Japanese},
		{"/kpi スヌーズ １２ ３０分", ActionSnooze, 12, forH(30 * time.Minute), locales.Japanese},
		{"/kpi スヌーズ 12 明日", ActionSnooze, 12, tomorrow, locales.Japanese},
		{"/kpi 12をスヌーズ 明日まで", ActionSnooze, 12, tomorrow, locales.Japanese},
		{"/kpi スヌーズ 12 解決まで", ActionSnooze, 12, resolved, locales.Japanese},
		// Resolve.
		{"/kpi resolve 12", ActionResolve, 12, Snooze{}, locales.English},
		{"/kpi close #3", ActionResolve, 3, Snooze{}, locales.English},
		{"解决 12", ActionResolve, 12, Snooze{}, locales.Chinese},
		{"/kpi 已解决 ＃１２", ActionResolve, 12, Snooze{}, locales.Chinese},
		{"/kpi 解決 12", ActionResolve, 12, Snooze{}, locales.Japanese},
		{"/kpi 12 解決済み", ActionResolve, 12, Snooze{}, locales.Japanese},
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		if err != nil || cmd.Action != tt.action || cmd.AlertID != tt.id || cmd.Snooze != tt.snooze || cmd.Written != tt.written {
			t.Errorf("%q = %+v, %v; want %s #%d %+v in %s", tt.text, cmd, err, tt.action, tt.id, tt.snooze, tt.written)
		}
	}
}

func TestParseAlertListNarrowed(t *testing.T) {
	p := testParser(t)
	for text, want := range map[string]kpi.Query{
		"/kpi alerts rakuten":   {Scope: kpi.Scope{Platform: kpi.Rakuten}},
		"/kpi 告警 amazon-jp":     {Scope: kpi.Scope{Shop: "amazon-jp"}},
		"/kpi 返品率のアラート":         {Metric: "return_rate"},
		"/kpi アラート 12":          {}, // a number means nothing to the list
		"/kpi alerts tomorrow":  {},
		"/kpi 退货率 乐天 告警":        {Metric: "return_rate", Scope: kpi.Scope{Platform: kpi.Rakuten}},
		"/kpi 警报 乐天 上周":         {Scope: kpi.Scope{Platform: kpi.Rakuten}}, // a period too
		"/kpi alerts 2h":        {},
		"/kpi alerts yahoo 12h": {Scope: kpi.Scope{Platform: kpi.Yahoo}},
	} {
		cmd, err := p.Parse(text, shops, now)
		if err != nil || cmd.Action != ActionAlerts || cmd.Query.Metric != want.Metric || cmd.Query.Scope != want.Scope {
			t.Errorf("%q = %+v, %v; want the alerts of %+v", text, cmd, err, want)
		}
	}
}

// Numbers, lengths and tomorrow mean nothing to the other commands: they
// are ignored words, as before; a word that may mean ack in a question
// about a metric is no ack.
func TestParseAlertWordsElsewhere(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		text    string
		action  Action
		metric  string
		ignored []string
	}{
		{"/kpi gmv 7", ActionMetric, "gmv", []string{"7"}},
		{"/kpi returns last week 2h", ActionMetric, "return_rate", []string{"2h"}},
		{"/kpi returns tomorrow", ActionMetric, "return_rate", []string{"tomorrow"}},
		{"/kpi 返品率 先週 確認", ActionMetric, "return_rate", nil},
		{"/kpi 先週の返品率を確認", ActionMetric, "return_rate", []string{"の", "を"}},
		{"/kpi 确认 退货率", ActionMetric, "return_rate", nil},
		{"/kpi 楽天 確認", ActionStatus, "", nil},
		{"/kpi ack 12 2h", ActionAck, "", []string{"2h"}},
		{"/kpi resolve 12 tomorrow", ActionResolve, "", []string{"tomorrow"}},
		{"/kpi help snooze", ActionHelp, "", nil},
		{"/kpi help 12", ActionHelp, "", []string{"12"}},
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		var ignored []string
		for _, n := range cmd.Notes {
			if n.Key == "note.ignored" {
				ignored = append(ignored, n.Args["Word"].(string))
			}
		}
		slices.Sort(ignored)
		slices.Sort(tt.ignored)
		if err != nil || cmd.Action != tt.action || cmd.Query.Metric != tt.metric || !slices.Equal(ignored, tt.ignored) {
			t.Errorf("%q = %+v, %v; want %s %q ignoring %q", tt.text, cmd, err, tt.action, tt.metric, tt.ignored)
		}
	}
	if cmd, _ := p.Parse("/kpi help snooze", shops, now); cmd.Topic != "snooze" {
		t.Errorf("help snooze: topic %q", cmd.Topic)
	}
	// Nothing understood but a number is still not understood.
	if _, err := p.Parse("/kpi xyzzy 12", shops, now); !hasKey(err, "error.not_understood") {
		t.Errorf("xyzzy 12: %v", err)
	}
}

func TestParseAlertErrors(t *testing.T) {
	p := testParser(t)
	for text, key := range map[string]string{
		"/kpi ack":                                 "error.alert_needs_id",
		"/kpi snooze":                              "error.alert_needs_id",
		"/kpi snooze tomorrow":                     "error.alert_needs_id",
		"/kpi snooze 2h":                           "error.alert_needs_id",
		"/kpi 解决":                                  "error.alert_needs_id",
		"/kpi スヌーズ 明日":                             "error.alert_needs_id",
		"/kpi ack twelve":                          "error.alert_needs_id",
		"/kpi ack 12 13":                           "error.alert_two_ids",
		"/kpi 确认 12 13":                            "error.alert_two_ids",
		"/kpi ack 0":                               "error.alert_bad_id",
		"/kpi ack 99999999999999999999":            "error.alert_bad_id",
		"/kpi snooze 12 2h tomorrow":               "error.snooze_choice",
		"/kpi snooze 12 0h":                        "error.snooze_choice",
		"/kpi snooze 12 last week":                 "error.snooze_choice",
		"/kpi snooze 12 tomorrow 18:00":            "error.snooze_choice",
		"/kpi 暂停提醒 12 明天 直到解决":                     "error.snooze_choice",
		"/kpi snooze 12 25:00":                     "error.bad_clock",
		"/kpi alerts return_rate negative reviews": "error.two_metrics",
	} {
		_, err := p.Parse(text, shops, now)
		if !hasKey(err, key) {
			t.Errorf("%q: %v, want %s", text, err, key)
		}
	}
}

func hasKey(err error, key string) bool {
	var e *kpi.Error
	return errors.As(err, &e) && e.Key == key
}

func TestSnoozeUntil(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, kpi.Tokyo) }
	late := at(29, 0, 30) // past midnight: tomorrow is the 30th
	tests := []struct {
		s    Snooze
		now  time.Time
		want time.Time
	}{
		{Snooze{Kind: SnoozeFor, For: 2 * time.Hour}, now, at(28, 14, 0)},
		{Snooze{}, now, at(28, 14, 0)}, // the default
		{Snooze{Kind: SnoozeFor, For: 30 * time.Minute}, now, at(28, 12, 30)},
		{Snooze{Kind: SnoozeTomorrow}, now, at(29, 9, 0)},
		{Snooze{Kind: SnoozeTomorrow}, late, at(30, 9, 0)},
		{Snooze{Kind: SnoozeClock, Clock: 18 * time.Hour}, now, at(28, 18, 0)},
		{Snooze{Kind: SnoozeClock, Clock: 8 * time.Hour}, now, at(29, 8, 0)}, // past today: tomorrow's
		{Snooze{Kind: SnoozeClock, Clock: 12 * time.Hour}, now, at(29, 12, 0)},
		{Snooze{Kind: SnoozeResolved}, now, time.Time{}},
	}
	for _, tt := range tests {
		if got := tt.s.Until(tt.now); !got.Equal(tt.want) {
			t.Errorf("%+v at %v: until %v, want %v", tt.s, tt.now, got, tt.want)
		}
	}
}

// fakeDesk is an AlertDesk made of functions.
type fakeDesk struct {
	active  func(ctx context.Context, allowed []string) ([]kpi.Alert, error)
	ack     func(ctx context.Context, id int64, actor string) (kpi.Alert, error)
	snooze  func(ctx context.Context, id int64, actor string, until time.Time) (kpi.Alert, error)
	resolve func(ctx context.Context, id int64, actor string) (kpi.Alert, error)
	rules   func(ctx context.Context, allowed []string) ([]RuleView, error)
	change  func(ctx context.Context, change kpi.RuleOverride, reset bool, actor string) (RuleView, error)
}

var _ AlertDesk = (*fakeDesk)(nil)

func (d *fakeDesk) Active(ctx context.Context, allowed []string) ([]kpi.Alert, error) {
	return d.active(ctx, allowed)
}
func (d *fakeDesk) Ack(ctx context.Context, id int64, by Actor) (kpi.Alert, error) {
	return d.ack(ctx, id, by.User)
}
func (d *fakeDesk) Snooze(ctx context.Context, id int64, by Actor, until time.Time) (kpi.Alert, error) {
	return d.snooze(ctx, id, by.User, until)
}
func (d *fakeDesk) Resolve(ctx context.Context, id int64, by Actor) (kpi.Alert, error) {
	return d.resolve(ctx, id, by.User)
}
func (d *fakeDesk) Rules(ctx context.Context, allowed []string) ([]RuleView, error) {
	return d.rules(ctx, allowed)
}
func (d *fakeDesk) ChangeRule(ctx context.Context, change kpi.RuleOverride, reset bool, actor string) (RuleView, error) {
	return d.change(ctx, change, reset, actor)
}

// testAlerts are the active alerts of the tests, oldest first.
func testAlerts() []kpi.Alert {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, kpi.Tokyo) }
	return []kpi.Alert{
		{ID: 13, Key: "negative_reviews:amazon-jp", Metric: "negative_reviews", Shop: "amazon-jp", Severity: kpi.SeverityWarning,
			State: kpi.AlertAcked, Opened: at(27, 16, 40), Value: 5, Target: 2, AckedBy: "slack:T1:U9"},
		{ID: 14, Key: "freshness:yahoo", Metric: "freshness", Shop: "yahoo", Severity: kpi.SeverityCritical,
			State: kpi.AlertSnoozed, Opened: at(28, 6, 0), SnoozedUntil: at(28, 18, 0), Value: 30, Target: 24},
		{ID: 15, Key: "first_response_minutes:rakuten", Metric: "first_response_minutes", Shop: "rakuten", Severity: kpi.SeverityWarning,
			State: kpi.AlertSnoozed, Opened: at(28, 9, 5), Value: 95, Target: 60},
		{ID: 12, Key: "return_rate:rakuten", Metric: "return_rate", Shop: "rakuten", Severity: kpi.SeverityCritical,
			State: kpi.AlertOpen, Opened: at(28, 10, 15), Value: 0.098, Target: 0.05},
	}
}

// call is one call of the desk's that changes an alert.
type call struct {
	op    string
	id    int64
	actor string
	until time.Time
}

// newDesk is a desk over alerts that records the calls that change one,
// and the shops each listing was for.
func newDesk(alerts []kpi.Alert) (*fakeDesk, *[]call, *[][]string) {
	var calls []call
	var listed [][]string
	find := func(id int64) (kpi.Alert, error) {
		for _, a := range alerts {
			if a.ID == id {
				return a, nil
			}
		}
		return kpi.Alert{}, kpi.Errorf(kpi.NotFound, "error.alert_unknown", map[string]any{"ID": id}, nil)
	}
	d := &fakeDesk{
		active: func(_ context.Context, allowed []string) ([]kpi.Alert, error) {
			listed = append(listed, allowed)
			var out []kpi.Alert
			for _, a := range alerts {
				if len(allowed) == 0 || slices.Contains(allowed, a.Shop) {
					out = append(out, a)
				}
			}
			return out, nil
		},
		ack: func(_ context.Context, id int64, actor string) (kpi.Alert, error) {
			calls = append(calls, call{"ack", id, actor, time.Time{}})
			a, err := find(id)
			a.State, a.AckedBy = kpi.AlertAcked, actor
			return a, err
		},
		snooze: func(_ context.Context, id int64, actor string, until time.Time) (kpi.Alert, error) {
			calls = append(calls, call{"snooze", id, actor, until})
			a, err := find(id)
			a.State, a.AckedBy, a.SnoozedUntil = kpi.AlertSnoozed, actor, until
			return a, err
		},
		resolve: func(_ context.Context, id int64, actor string) (kpi.Alert, error) {
			calls = append(calls, call{"resolve", id, actor, time.Time{}})
			a, err := find(id)
			a.State, a.AckedBy = kpi.AlertResolved, actor
			return a, err
		},
	}
	return d, &calls, &listed
}

func newAlertBot(t *testing.T, desk AlertDesk) *Bot {
	t.Helper()
	engine := engineFunc(func(context.Context, kpi.Query) (*kpi.Result, error) {
		t.Error("an alert command computed a metric")
		return nil, errors.New("no")
	})
	b, err := New(engine, shopList(shops), nil, nil, catalog(t), func() time.Time { return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if desk != nil {
		b.SetAlerts(desk)
	}
	return b
}

func TestAlertListGolden(t *testing.T) {
	desk, _, listed := newDesk(testAlerts())
	b := newAlertBot(t, desk)
	for _, lang := range []locales.Lang{locales.English, locales.Chinese, locales.Japanese, locales.Bilingual} {
		r := b.Handle(context.Background(), Request{Text: "/kpi alerts", ChannelLang: lang})
		if r.Err != nil {
			t.Fatalf("%s: %v", lang, r.Err)
		}
		golden(t, "alerts."+string(lang)+".golden", text(r)+"---\n"+r.PlainText())
	}
	if len(*listed) != 4 || (*listed)[0] != nil {
		t.Errorf("the console lists every shop's alerts: %q", *listed)
	}
	// The CLI's list is the same.
	r, err := b.AlertList(context.Background(), nil, locales.Japanese)
	if err != nil || len(r.Rows) != 4 || !strings.HasPrefix(r.Rows[0].Label, "#12 · Rakuten Flagship · 返品率") {
		t.Errorf("AlertList: %+v, %v", r, err)
	}
}

func TestAlertListInChannels(t *testing.T) {
	ctx := context.Background()
	desk, calls, listed := newDesk(testAlerts())
	b := newAlertBot(t, desk)
	team := &kpi.ChatChannel{Platform: "slack", ID: "C1", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten"}}

	// A channel lists the alerts of its shops only.
	r := b.Handle(ctx, Request{Text: "/kpi alerts", Channel: team})
	if r.Err != nil || r.Lang != locales.Japanese || len(r.Rows) != 2 || !strings.HasPrefix(r.Rows[0].Label, "#12 ") || !strings.HasPrefix(r.Rows[1].Label, "#15 ") {
		t.Errorf("the team's alerts: %s", text(r))
	}
	if got := (*listed)[len(*listed)-1]; !reflect.DeepEqual(got, []string{"rakuten"}) {
		t.Errorf("listed for %q, want rakuten", got)
	}
	// Even if the desk gave it more.
	leaky := &fakeDesk{active: func(context.Context, []string) ([]kpi.Alert, error) { return testAlerts(), nil }}
	if r := newAlertBot(t, leaky).Handle(ctx, Request{Text: "/kpi alerts", Channel: team}); len(r.Rows) != 2 {
		t.Errorf("another shop's alert reached the channel: %s", text(r))
	}
	// Narrowed to a platform, a shop or a metric.
	for text, ids := range map[string][]string{
		"/kpi alerts rakuten":        {"#12", "#15"},
		"/kpi alerts yahoo":          {"#14"},
		"/kpi 告警 amazon-jp":          {"#13"},
		"/kpi 返品率のアラート":              {"#12"},
		"/kpi first response alerts": {"#15"},
	} {
		r := b.Handle(ctx, Request{Text: text})
		var got []string
		for _, row := range r.Rows {
			got = append(got, strings.Fields(row.Label)[0])
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%q listed %q, want %q", text, got, ids)
		}
	}
	// Nothing active.
	quiet, _, _ := newDesk(nil)
	for lang, want := range map[locales.Lang]string{locales.English: "No open alerts", locales.Chinese: "没有未处理的告警", locales.Japanese: "未対応のアラートはありません"} {
		r := newAlertBot(t, quiet).Handle(ctx, Request{Text: "/kpi alerts", ChannelLang: lang})
		if r.Err != nil || !strings.Contains(r.Text, want) || len(r.Rows) != 0 {
			t.Errorf("%s, nothing active: %+v", lang, r)
		}
	}
	if r := b.Handle(ctx, Request{Text: "/kpi alerts shopify"}); r.Err != nil || !strings.Contains(r.Text, "No open alerts") {
		t.Errorf("no Shopify alerts: %+v", r)
	}
	// An unbound channel sees none, and changes none.
	before := len(*listed)
	for _, line := range []string{"/kpi alerts", "/kpi ack 12", "/kpi スヌーズ 12", "/kpi 解决 12"} {
		r := b.Handle(ctx, Request{Text: line, Channel: &kpi.ChatChannel{Platform: "slack", ID: "C9"}, IsAdmin: func(context.Context) (bool, error) { return true, nil }})
		if r.Err == nil || !strings.Contains(r.Text, "/kpi") || len(*listed) != before || len(*calls) != 0 {
			t.Errorf("unbound channel, %q: %+v; listed %d, calls %v", line, r, len(*listed)-before, *calls)
		}
	}
}

func TestAlertActions(t *testing.T) {
	ctx := context.Background()
	jst := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, kpi.Tokyo) }
	hq := &kpi.ChatChannel{Platform: "slack", ID: "C2", Role: kpi.RoleHQ, Lang: "zh"} // every shop
	tests := []struct {
		text    string
		lang    locales.Lang // the asker's, on the console
		channel *kpi.ChatChannel
		want    call
		reply   []string
	}{
		{"/kpi ack #12", locales.English, nil, call{"ack", 12, "slack:T1:U2", time.Time{}},
			[]string{"#12 acknowledged", "Rakuten Flagship", "return rate"}},
		{"/kpi 确认 12", "", hq, call{"ack", 12, "slack:T1:U2", time.Time{}},
			[]string{"已确认 #12", "Rakuten Flagship", "退货率"}},
		{"/kpi 対応中 ＃１３", locales.Japanese, nil, call{"ack", 13, "slack:T1:U2", time.Time{}},
			[]string{"#13", "Amazon JP Main", "低評価レビュー"}},
		{"/kpi snooze 12", locales.English, nil, call{"snooze", 12, "slack:T1:U2", jst(28, 14, 0)},
			[]string{"#12 snoozed until 14:00 JST", "Rakuten Flagship", "return rate"}},
		{"/kpi snooze 14 tomorrow", locales.English, nil, call{"snooze", 14, "slack:T1:U2", jst(29, 9, 0)},
			[]string{"#14 snoozed until 2026-11-29 09:00 JST", "Yahoo Shopping Outlet", "data"}},
		{"/kpi snooze 12 until resolved", locales.English, nil, call{"snooze", 12, "slack:T1:U2", time.Time{}},
			[]string{"#12 snoozed until it resolves"}},
		{"/kpi 暂停提醒 12 2小时", "", hq, call{"snooze", 12, "slack:T1:U2", jst(28, 14, 0)},
			[]string{"#12", "14:00", "退货率"}},
		{"/kpi 稍后 12 明天", "", hq, call{"snooze", 12, "slack:T1:U2", jst(29, 9, 0)},
			[]string{"#12", "2026-11-29 09:00"}},
		{"/kpi 暂停提醒 12 直到解决", "", hq, call{"snooze", 12, "slack:T1:U2", time.Time{}},
			[]string{"#12", "直到解决"}},
		{"/kpi スヌーズ 12 30分", locales.Japanese, nil, call{"snooze", 12, "slack:T1:U2", jst(28, 12, 30)},
			[]string{"#12", "12:30", "返品率"}},
		{"/kpi スヌーズ 12 明日", locales.Japanese, nil, call{"snooze", 12, "slack:T1:U2", jst(29, 9, 0)},
			[]string{"#12", "2026-11-29 09:00"}},
		{"/kpi スヌーズ 12 解決まで", locales.Japanese, nil, call{"snooze", 12, "slack:T1:U2", time.Time{}},
			[]string{"#12", "解決まで"}},
		{"/kpi snooze 12 18:00", locales.English, nil, call{"snooze", 12, "slack:T1:U2", jst(28, 18, 0)},
			[]string{"until 18:00 JST"}},
		{"/kpi resolve 12", locales.English, nil, call{"resolve", 12, "slack:T1:U2", time.Time{}},
			[]string{"#12 resolved", "Rakuten Flagship", "return rate"}},
		{"/kpi 解决 15", "", hq, call{"resolve", 15, "slack:T1:U2", time.Time{}},
			[]string{"#15", "首次回复时间"}},
		{"/kpi 解決 12", locales.Japanese, nil, call{"resolve", 12, "slack:T1:U2", time.Time{}},
			[]string{"#12", "解決"}},
	}
	for _, tt := range tests {
		desk, calls, _ := newDesk(testAlerts())
		b := newAlertBot(t, desk)
		r := b.Handle(ctx, Request{Text: tt.text, User: "slack:T1:U2", ChannelLang: tt.lang, Channel: tt.channel})
		if len(*calls) != 1 || !(*calls)[0].until.Equal(tt.want.until) || (*calls)[0].op != tt.want.op || (*calls)[0].id != tt.want.id ||
			(*calls)[0].actor != tt.want.actor {
			t.Errorf("%q: calls %+v, want %+v", tt.text, *calls, tt.want)
		}
		if r.Err != nil {
			t.Errorf("%q: %v", tt.text, r.Err)
		}
		for _, w := range tt.reply {
			if !strings.Contains(r.Text, w) {
				t.Errorf("%q: %q lacks %q", tt.text, r.Text, w)
			}
		}
	}
}

func TestAlertActionErrors(t *testing.T) {
	ctx := context.Background()
	team := &kpi.ChatChannel{Platform: "line", ID: "G1", Role: kpi.RoleShop, Lang: "zh", Shops: []string{"rakuten"}}
	tests := []struct {
		name    string
		desk    func() AlertDesk // nil: none set
		text    string
		lang    locales.Lang
		channel *kpi.ChatChannel
		key     string // the error's
		reply   string // in the reply's text
	}{
		{"no desk", nil, "/kpi alerts", locales.Japanese, nil, "error.alerts_unavailable", "アラート"},
		{"no desk, ack", nil, "/kpi ack 12", locales.English, nil, "error.alerts_unavailable", "Alerts are not set up here"},
		{"no desk, zh", nil, "/kpi 解决 12", "", team, "error.alerts_unavailable", "告警"},
		{"unknown alert", nil, "/kpi ack 99", locales.English, nil, "error.alert_unknown", ""},
		{"another shop's", nil, "/kpi 确认 13", "", team, "error.alert_not_here", "#13"},
		{"another shop's snooze", nil, "/kpi snooze 14 tomorrow", "", team, "error.alert_not_here", "/kpi"},
		{"no number", nil, "/kpi ack", locales.English, nil, "error.alert_needs_id", "/kpi ack 12"},
		{"no number, ja", nil, "/kpi スヌーズ", "", nil, "error.alert_needs_id", "/kpi スヌーズ 12"},
		{"two numbers", nil, "/kpi 解决 12 13", "", nil, "error.alert_two_ids", "#12"},
		{"bad number", nil, "/kpi 確認 0", "", nil, "error.alert_bad_id", "「0」"},
		{"two choices", nil, "/kpi snooze 12 2h tomorrow", locales.English, nil, "error.snooze_choice", "/kpi snooze 12 tomorrow"},
		{"two choices, zh", nil, "/kpi 暂停提醒 12 明天 2小时", "", nil, "error.snooze_choice", "直到解决"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var desk AlertDesk
			var calls *[]call
			if tt.desk != nil {
				desk = tt.desk()
			} else if !strings.HasPrefix(tt.name, "no desk") {
				var d *fakeDesk
				d, calls, _ = newDesk(testAlerts())
				desk = d
			}
			r := newAlertBot(t, desk).Handle(ctx, Request{Text: tt.text, User: "line:U1", ChannelLang: tt.lang, Channel: tt.channel})
			var e *kpi.Error
			if !errors.As(r.Err, &e) || e.Key != tt.key || !strings.Contains(r.Text, tt.reply) {
				t.Errorf("%q: %q (%v), want %s saying %q", tt.text, r.Text, r.Err, tt.key, tt.reply)
			}
			if tt.key != "error.alert_unknown" && calls != nil && len(*calls) != 0 {
				t.Errorf("%q changed an alert: %+v", tt.text, *calls)
			}
		})
	}
	// A desk that fails says so without its details.
	failing := &fakeDesk{
		active: func(context.Context, []string) ([]kpi.Alert, error) {
			return nil, errors.New("sqlite: disk I/O error at /secret/path")
		},
		ack: func(context.Context, int64, string) (kpi.Alert, error) {
			return kpi.Alert{}, errors.New("sqlite: disk I/O error at /secret/path")
		},
	}
	for _, line := range []string{"/kpi alerts", "/kpi ack 12", "/kpi 确认 12"} {
		r := newAlertBot(t, failing).Handle(ctx, Request{Text: line, ChannelLang: locales.Chinese})
		if r.Err == nil || !strings.Contains(r.Text, "系统出了点问题") || strings.Contains(r.Text, "secret") {
			t.Errorf("%q with a failing desk: %+v", line, r)
		}
	}
}

func TestAlertHelp(t *testing.T) {
	b := newAlertBot(t, nil)
	for text, want := range map[string]string{
		"/kpi help snooze": "/kpi snooze 12 tomorrow",
		"/kpi 帮助 告警":       "/kpi 暂停提醒 12",
		"/kpi ヘルプ 確認":      "/kpi スヌーズ 12",
		"/kpi help":        "/kpi ack 12",
		"/kpi 帮助":          "/kpi 告警",
		"/kpi ヘルプ":         "/kpi アラート",
	} {
		r := b.Handle(context.Background(), Request{Text: text})
		if r.Err != nil || !strings.Contains(r.Text, want) {
			t.Errorf("%q:\n%s\nwant it to contain %q", text, r.Text, want)
		}
	}
}
