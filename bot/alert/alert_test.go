package alert

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/calendar"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

func jst(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, kpi.Tokyo)
}

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	amazon  = kpi.Shop{ID: "amazon-jp", Platform: kpi.Amazon, Name: "Amazon JP", Currency: "JPY"}
	rakuten = kpi.Shop{ID: "rakuten", Platform: kpi.Rakuten, Name: "Rakuten Flagship", Currency: "JPY"}
	yahoo   = kpi.Shop{ID: "yahoo", Platform: kpi.Yahoo, Name: "Yahoo Store", Currency: "JPY"}

	hq   = kpi.ChatChannel{Platform: "slack", ID: "C-HQ", Role: kpi.RoleHQ, Lang: "zh"}
	jp   = kpi.ChatChannel{Platform: "line", ID: "U-JP", Role: kpi.RoleJPSupport, Lang: "ja"}
	team = kpi.ChatChannel{Platform: "slack", ID: "C-RAKUTEN", Role: kpi.RoleShop, Lang: "zh+ja", Shops: []string{"rakuten"}}
)

// scripted is an engine whose values the test sets, by metric and shop;
// every other value is undefined (no data).
type scripted struct {
	mu     sync.Mutex
	shops  []kpi.Shop
	values map[string]float64 // by Key(metric, shop)
	sample int64
	asked  []kpi.Query
}

func (s *scripted) set(metric, shop string, v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[Key(metric, shop)] = v
}

func (s *scripted) Compute(_ context.Context, q kpi.Query) (*kpi.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, q)
	m, ok := kpi.Lookup(q.Metric)
	if !ok {
		return nil, errors.New("no metric " + q.Metric)
	}
	r := &kpi.Result{Metric: m, Scope: q.Scope}
	for _, sh := range s.shops {
		v := kpi.Value{V: math.NaN(), Secondary: math.NaN()}
		if x, ok := s.values[Key(q.Metric, sh.ID)]; ok {
			v = kpi.Value{V: x, Secondary: x, Sample: s.sample}
		}
		r.Breakdown = append(r.Breakdown, kpi.ShopResult{Shop: sh, Value: v, Verdict: m.Judge(v)})
	}
	return r, nil
}

// fixture is a Manager on a SQLite store in a temporary directory, with a
// clock the test moves and bound channels.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	clock  *clock
	store  *sqlite.Store
	engine *scripted
	text   *locales.Catalog
	m      *Manager
}

var text = func() *locales.Catalog {
	c, err := locales.Load()
	if err != nil {
		panic(err)
	}
	return c
}()

// newFixture opens a store at now with the shops and channels; engine
// nil uses a scripted one; change edits the config.
func newFixture(t *testing.T, now time.Time, channels []kpi.ChatChannel, change func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: now}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kpi.db"), c.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	shops := []kpi.Shop{amazon, rakuten, yahoo}
	if _, err := store.Write(ctx, &kpi.Batch{Shops: shops}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range channels {
		if err := store.BindChatChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{t: t, ctx: ctx, clock: c, store: store, text: text,
		engine: &scripted{shops: shops, values: map[string]float64{}, sample: 500}}
	cfg := Config{Engine: f.engine, Store: store, Source: store, Shops: store, Channels: store, Outbox: store,
		Calendar: calendar.Default(), Text: text, Now: c.Now}
	if change != nil {
		change(&cfg)
	}
	f.m, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) evaluate() Report {
	f.t.Helper()
	rep, err := f.m.Evaluate(f.ctx)
	if err != nil {
		f.t.Fatalf("Evaluate at %v: %v", f.clock.Now(), err)
	}
	return rep
}

func (f *fixture) escalate() []kpi.Alert {
	f.t.Helper()
	out, err := f.m.Escalate(f.ctx)
	if err != nil {
		f.t.Fatalf("Escalate at %v: %v", f.clock.Now(), err)
	}
	return out
}

// message is an outbox item, decoded.
type message struct {
	key     string
	ch      kpi.ChatChannel
	reply   bot.Reply
	nextTry time.Time
}

// text is the message as the console shows it.
func (m message) text() string { return m.reply.PlainText() }

// pending returns the unsent outbox items by key; taking marks them sent,
// so that the next call returns the new ones only.
func (f *fixture) pending(take bool) map[string]message {
	f.t.Helper()
	items, err := f.store.Due(f.ctx, f.clock.Now().AddDate(1, 0, 0), 10000)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]message{}
	for _, it := range items {
		ch, r, err := bot.DecodeOutgoing(it.Payload)
		if err != nil {
			f.t.Fatalf("%s: %v", it.Key, err)
		}
		out[it.Key] = message{key: it.Key, ch: ch, reply: r, nextTry: it.NextTry}
		if take {
			if err := f.store.MarkSent(f.ctx, it.Key, f.clock.Now(), ""); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	return out
}

// keys returns the sorted keys of msgs.
func keys(msgs map[string]message) []string {
	out := make([]string, 0, len(msgs))
	for k := range msgs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sameKeys(t *testing.T, what string, got map[string]message, want ...string) {
	t.Helper()
	sort.Strings(want)
	if g := keys(got); !slices.Equal(g, want) {
		t.Errorf("%s: outbox keys\n got %q\nwant %q", what, g, want)
	}
}

func (f *fixture) alert(id int64) kpi.Alert {
	f.t.Helper()
	a, ok, err := f.store.Alert(f.ctx, id)
	if err != nil || !ok {
		f.t.Fatalf("Alert(%d) = %v, %v", id, ok, err)
	}
	return a
}

func ids(list []kpi.Alert) []int64 {
	var out []int64
	for _, a := range list {
		out = append(out, a.ID)
	}
	return out
}

// An episode opens once, is updated only when it gets materially worse or
// a day has passed, resolves once within its clear level with a notice to
// the channels that got it, and a new breach is a new episode.
func TestEpisodeOpenUpdateResolve(t *testing.T) {
	f := newFixture(t, jst(2026, 11, 18, 10, 0), []kpi.ChatChannel{hq, jp}, nil) // a Wednesday
	f.engine.set("return_rate", "rakuten", 0.09)
	rep := f.evaluate()
	if len(rep.Opened) != 1 || rep.Opened[0].Key != "return_rate:rakuten" || len(rep.Updated)+len(rep.Resolved) != 0 {
		t.Fatalf("first evaluation: %+v", rep)
	}
	a := rep.Opened[0]
	if a.Severity != kpi.SeverityWarning || a.State != kpi.AlertOpen || a.Value != 0.09 || a.Target != 0.05 ||
		!slices.Equal(a.Channels, []string{"line:U-JP", "slack:C-HQ"}) {
		t.Errorf("opened %+v", a)
	}
	msgs := f.pending(true)
	sameKeys(t, "opened", msgs, "alert:1:open:slack:C-HQ", "alert:1:open:line:U-JP")
	zh, ja := msgs["alert:1:open:slack:C-HQ"], msgs["alert:1:open:line:U-JP"]
	if zh.reply.Lang != locales.Chinese || ja.reply.Lang != locales.Japanese || zh.reply.Verdict != kpi.VerdictBreach {
		t.Errorf("languages: hq %s, jp-support %s", zh.reply.Lang, ja.reply.Lang)
	}
	for _, want := range []string{"Rakuten Flagship", "退货率", "9.0%", "≤ 5.0%", "≤ 4.5%", "#1", "/kpi 确认 1", "2026-11-18 10:00"} {
		if !strings.Contains(zh.text(), want) {
			t.Errorf("the hq message lacks %q:\n%s", want, zh.text())
		}
	}
	for _, want := range []string{"返品率", "9.0%", "/kpi 確認 1", "/kpi スヌーズ 1 2時間"} {
		if !strings.Contains(ja.text(), want) {
			t.Errorf("the jp-support message lacks %q:\n%s", want, ja.text())
		}
	}

	// A little worse, then again: no message; half as far again: an update.
	f.clock.Add(15 * time.Minute)
	f.engine.set("return_rate", "rakuten", 0.095)
	if rep := f.evaluate(); len(rep.Opened)+len(rep.Updated)+len(rep.Resolved) != 0 {
		t.Errorf("a little worse: %+v", rep)
	}
	f.clock.Add(15 * time.Minute)
	f.engine.set("return_rate", "rakuten", 0.12)
	if rep := f.evaluate(); !slices.Equal(ids(rep.Updated), []int64{1}) {
		t.Errorf("much worse: %+v", rep)
	}
	msgs = f.pending(true)
	sameKeys(t, "much worse", msgs, "alert:1:update-1:slack:C-HQ", "alert:1:update-1:line:U-JP")
	if got := msgs["alert:1:update-1:slack:C-HQ"].text(); !strings.Contains(got, "12.0%") || !strings.Contains(got, "9.0%") {
		t.Errorf("the update shows the value now and as last reported:\n%s", got)
	}
	if a := f.alert(1); a.Value != 0.12 || a.NotifiedValue != 0.12 || a.Updates != 1 {
		t.Errorf("after the update: %+v", a)
	}
	f.clock.Add(15 * time.Minute)
	if rep := f.evaluate(); len(rep.Updated) != 0 {
		t.Errorf("no change: %+v", rep)
	}
	// A day later, still there: once.
	f.clock.Add(24 * time.Hour)
	if rep := f.evaluate(); !slices.Equal(ids(rep.Updated), []int64{1}) {
		t.Errorf("a day later: %+v", rep)
	}
	f.clock.Add(15 * time.Minute)
	f.evaluate()
	sameKeys(t, "a day later", f.pending(true), "alert:1:update-2:slack:C-HQ", "alert:1:update-2:line:U-JP")

	// Within the target, not yet within the clear level: still open.
	f.engine.set("return_rate", "rakuten", 0.048)
	if rep := f.evaluate(); len(rep.Resolved) != 0 || f.alert(1).State != kpi.AlertOpen {
		t.Errorf("between the levels: %+v", rep)
	}
	f.engine.set("return_rate", "rakuten", 0.04)
	rep = f.evaluate()
	if !slices.Equal(ids(rep.Resolved), []int64{1}) || f.alert(1).State != kpi.AlertResolved {
		t.Fatalf("recovered: %+v", rep)
	}
	msgs = f.pending(true)
	sameKeys(t, "resolved", msgs, "alert:1:resolve:slack:C-HQ", "alert:1:resolve:line:U-JP")
	if r := msgs["alert:1:resolve:line:U-JP"].reply; r.Verdict != kpi.VerdictOK || !strings.Contains(r.PlainText(), "4.0%") {
		t.Errorf("the resolve notice:\n%s", r.PlainText())
	}
	if rep := f.evaluate(); len(rep.Opened)+len(rep.Updated)+len(rep.Resolved) != 0 || len(f.pending(false)) != 0 {
		t.Errorf("after the resolution: %+v", rep)
	}
	// A new breach is a new episode.
	f.engine.set("return_rate", "rakuten", 0.08)
	if rep := f.evaluate(); !slices.Equal(ids(rep.Opened), []int64{2}) {
		t.Errorf("a new breach: %+v", rep)
	}
	sameKeys(t, "a new episode", f.pending(true), "alert:2:open:slack:C-HQ", "alert:2:open:line:U-JP")
}

// A rate that flaps around its target opens one episode, not one per
// dip: it takes two breaches in a row to open and two evaluations at or
// above the clear level (98.5%) in a row to resolve. Without hysteresis
// the same series opens and resolves again and again.
func TestHysteresis(t *testing.T) {
	series := []float64{0.982, 0.979, 0.981, 0.978, 0.979, 0.981, 0.983, 0.979, 0.984, 0.978, 0.986, 0.979, 0.981, 0.982,
		0.976, 0.983, 0.986, 0.987, 0.982, 0.979, 0.984}
	run := func(t *testing.T, rules []Rule) (opened, resolved int) {
		f := newFixture(t, jst(2026, 11, 18, 10, 0), []kpi.ChatChannel{hq}, func(c *Config) { c.Rules = rules })
		for _, v := range series {
			f.engine.set("ship_24h_rate", "amazon-jp", v)
			rep := f.evaluate()
			opened += len(rep.Opened)
			resolved += len(rep.Resolved)
			f.clock.Add(15 * time.Minute)
		}
		return opened, resolved
	}
	def := DefaultRules()
	i := slices.IndexFunc(def, func(r Rule) bool { return r.Metric == "ship_24h_rate" })
	if r := def[i]; r.Consecutive != 2 || r.Clear == nil || *r.Clear != 0.985 || r.Severity != kpi.SeverityCritical {
		t.Fatalf("the default ship_24h_rate rule: %+v", r)
	}
	// Breaches at 0.979 0.978 (not in a row: 0.981 between), then 0.978,
	// 0.979 in a row: open; 0.986 once, then 0.986 0.987 in a row: resolve.
	if opened, resolved := run(t, []Rule{def[i]}); opened != 1 || resolved != 1 {
		t.Errorf("with hysteresis: %d opened, %d resolved; want 1 and 1", opened, resolved)
	}
	naive := Rule{Metric: "ship_24h_rate", Severity: kpi.SeverityCritical}
	if opened, _ := run(t, []Rule{naive}); opened < 5 {
		t.Errorf("without hysteresis: %d opened; the series should flap", opened)
	}
}

// A warning raised outside business hours waits until 09:00 JST of the
// next business day; a critical one goes at once.
func TestBusinessHoursDeferral(t *testing.T) {
	friday := jst(2026, 11, 20, 19, 0) // Monday 11-23 is Labour Thanksgiving Day
	f := newFixture(t, friday, []kpi.ChatChannel{hq}, nil)
	f.engine.set("acos", "yahoo", 0.5)                 // a warning
	f.engine.set("days_of_cover", "amazon-jp", 4)      // critical
	f.engine.set("customs_failure_rate", "yahoo", 0.1) // critical: the yahoo group goes at once
	f.engine.set("return_rate", "rakuten", 0.09)       // a warning
	rep := f.evaluate()
	if len(rep.Opened) != 4 {
		t.Fatalf("opened %+v", rep.Opened)
	}
	// Ids follow the catalog's order: return_rate, days_of_cover, acos,
	// customs_failure_rate.
	msgs := f.pending(false)
	sameKeys(t, "Friday evening", msgs, "alert:1:open:slack:C-HQ", "alert:2:open:slack:C-HQ",
		"alert:3+4:open:slack:C-HQ")
	tuesday := jst(2026, 11, 24, 9, 0)
	for key, want := range map[string]time.Time{
		"alert:1:open:slack:C-HQ":   tuesday, // return_rate:rakuten, a warning
		"alert:2:open:slack:C-HQ":   friday,  // days_of_cover:amazon-jp
		"alert:3+4:open:slack:C-HQ": friday,  // acos and customs_failure_rate of yahoo: one is critical
	} {
		if got := msgs[key].nextTry; !got.Equal(want) {
			t.Errorf("%s goes at %v, want %v", key, got.In(kpi.Tokyo), want)
		}
	}
	due, err := f.store.Due(f.ctx, jst(2026, 11, 24, 8, 59), 10)
	if err != nil || len(due) != 2 {
		t.Errorf("due before Tuesday 09:00: %d items, %v; want the two critical", len(due), err)
	}
	// A message of one alert is what its notices will edit; a message of
	// several, without buttons, is not.
	for id, want := range map[int64][]string{2: {"alert:2:open:slack:C-HQ"}, 3: nil, 4: nil} {
		if got := f.alert(id).Messages; !slices.Equal(got, want) {
			t.Errorf("alert %d's messages %q, want %q", id, got, want)
		}
	}

	tests := []struct {
		at   time.Time
		sev  kpi.Severity
		want time.Time
	}{
		{jst(2026, 11, 20, 19, 0), kpi.SeverityWarning, jst(2026, 11, 24, 9, 0)},    // Friday evening, over the holiday weekend
		{jst(2026, 11, 21, 10, 0), kpi.SeverityWarning, jst(2026, 11, 24, 9, 0)},    // Saturday
		{jst(2026, 11, 23, 10, 0), kpi.SeverityWarning, jst(2026, 11, 24, 9, 0)},    // the holiday
		{jst(2026, 11, 24, 7, 30), kpi.SeverityWarning, jst(2026, 11, 24, 9, 0)},    // early on a business day
		{jst(2026, 11, 24, 9, 0), kpi.SeverityWarning, jst(2026, 11, 24, 9, 0)},     // at opening
		{jst(2026, 11, 24, 17, 59), kpi.SeverityWarning, jst(2026, 11, 24, 17, 59)}, // within
		{jst(2026, 11, 24, 18, 0), kpi.SeverityWarning, jst(2026, 11, 25, 9, 0)},    // at closing
		{jst(2026, 12, 28, 20, 0), kpi.SeverityWarning, jst(2027, 1, 4, 9, 0)},      // into the New Year break
		{jst(2026, 11, 21, 3, 0), kpi.SeverityCritical, jst(2026, 11, 21, 3, 0)},    // urgent: now
	}
	for _, tt := range tests {
		if got := f.m.release(tt.at, tt.sev); !got.Equal(tt.want) {
			t.Errorf("release(%v, %s) = %v, want %v", tt.at, tt.sev, got.In(kpi.Tokyo), tt.want)
		}
	}
}

// An acknowledgement in one channel shows in the other channel that got
// the alert (and in the first); the audit log says who did what.
// Acknowledging twice changes nothing; snoozing and resolving are told
// too; a resolved alert cannot be acknowledged; an unknown one is not
// found.
func TestAckShownInOtherChannels(t *testing.T) {
	f := newFixture(t, jst(2026, 11, 18, 10, 0), []kpi.ChatChannel{hq, jp, team}, nil)
	f.engine.set("first_response_minutes", "rakuten", 180)
	if rep := f.evaluate(); !slices.Equal(ids(rep.Opened), []int64{1}) {
		t.Fatalf("opened %+v", rep.Opened)
	}
	sameKeys(t, "opened", f.pending(true),
		"alert:1:open:slack:C-HQ", "alert:1:open:line:U-JP", "alert:1:open:slack:C-RAKUTEN")

	f.clock.Add(5 * time.Minute)
	queued := 0
	f.m.WhenQueued(func() { queued++ })
	// From the LINE chat, which the command's reply tells: no push there.
	a, err := f.m.Ack(f.ctx, 1, bot.Actor{User: "line:U-SATO", Chat: "line:U-JP"})
	if err != nil || a.State != kpi.AlertAcked || a.AckedBy != "line:U-SATO" {
		t.Fatalf("Ack = %+v, %v", a, err)
	}
	if queued != 1 {
		t.Errorf("WhenQueued's func called %d times after an Ack, want 1", queued)
	}
	msgs := f.pending(true)
	sameKeys(t, "acknowledged", msgs, "alert:1:ack-1:slack:C-HQ", "alert:1:ack-1:slack:C-RAKUTEN")
	// Each notice amends the message its channel got: Slack edits it.
	for key, m := range msgs {
		_, _, _, platform, channel := splitKey(t, key)
		want := []string{"alert:1:open:" + platform + ":" + channel}
		if !slices.Equal(m.reply.Amends, want) {
			t.Errorf("%s amends %q, want %q", key, m.reply.Amends, want)
		}
	}
	hqNotice := msgs["alert:1:ack-1:slack:C-HQ"]
	if !strings.Contains(hqNotice.text(), "line:U-SATO") || !strings.Contains(hqNotice.text(), "#1") || hqNotice.reply.Lang != locales.Chinese {
		t.Errorf("the hq channel's notice:\n%s", hqNotice.text())
	}
	if r := msgs["alert:1:ack-1:slack:C-RAKUTEN"].reply; r.Lang != locales.Bilingual {
		t.Errorf("the shop team's notice is in %s, want zh+ja", r.Lang)
	}
	if _, err := f.m.Ack(f.ctx, 1, bot.Actor{User: "slack:T1:U2"}); err != nil || len(f.pending(false)) != 0 {
		t.Errorf("a second Ack: %v, %d messages", err, len(f.pending(false)))
	}

	f.clock.Add(time.Minute)
	until := jst(2026, 11, 19, 9, 0)
	// From a Slack channel, which still gets the notice: it edits the
	// alert there.
	if a, err := f.m.Snooze(f.ctx, 1, bot.Actor{User: "slack:T1:U2", Chat: "slack:C-HQ"}, until); err != nil || a.State != kpi.AlertSnoozed || !a.SnoozedUntil.Equal(until) {
		t.Fatalf("Snooze = %+v, %v", a, err)
	}
	msgs = f.pending(true)
	sameKeys(t, "snoozed", msgs, "alert:1:snooze-2:slack:C-HQ", "alert:1:snooze-2:line:U-JP", "alert:1:snooze-2:slack:C-RAKUTEN")
	if got := msgs["alert:1:snooze-2:line:U-JP"].text(); !strings.Contains(got, "2026-11-19 09:00") || !strings.Contains(got, "slack:T1:U2") {
		t.Errorf("the snooze notice:\n%s", got)
	}

	f.clock.Add(time.Minute)
	if a, err := f.m.Resolve(f.ctx, 1, bot.Actor{User: "slack:T1:U3"}); err != nil || a.State != kpi.AlertResolved {
		t.Fatalf("Resolve = %+v, %v", a, err)
	}
	sameKeys(t, "resolved", f.pending(true), "alert:1:resolve:slack:C-HQ", "alert:1:resolve:line:U-JP", "alert:1:resolve:slack:C-RAKUTEN")

	log, err := f.store.AuditLog(f.ctx, "alert:1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.Actor+" "+e.Action+" "+e.Detail)
	}
	want := []string{"line:U-SATO ack ", "slack:T1:U2 snooze until 2026-11-19T09:00:00+09:00", "slack:T1:U3 resolve "}
	if !slices.Equal(got, want) {
		t.Errorf("audit log:\n got %q\nwant %q", got, want)
	}

	var e *kpi.Error
	if _, err := f.m.Ack(f.ctx, 1, bot.Actor{User: "x"}); !errors.As(err, &e) || e.Key != "error.alert_over" {
		t.Errorf("Ack of a resolved alert: %v", err)
	}
	if _, err := f.m.Ack(f.ctx, 99, bot.Actor{User: "x"}); !errors.As(err, &e) || e.Code != kpi.NotFound || e.Key != "error.alert_unknown" || e.Args["ID"] != int64(99) {
		t.Errorf("Ack of an unknown alert: %v", err)
	}

	// Resolved by hand while still breached: no new episode until the
	// KPI clears.
	f.clock.Add(15 * time.Minute)
	if rep := f.evaluate(); len(rep.Opened) != 0 {
		t.Errorf("still breached after a resolution by hand: %+v", rep)
	}
	f.engine.set("first_response_minutes", "rakuten", 60)
	f.evaluate()
	f.engine.set("first_response_minutes", "rakuten", 200)
	if rep := f.evaluate(); !slices.Equal(ids(rep.Opened), []int64{2}) {
		t.Errorf("breached again after clearing: %+v", rep)
	}
}

// A critical alert nobody acknowledges is sent again every ResendAfter;
// an acknowledged one is not; a snoozed one is not until its snooze ends;
// a warning never is.
func TestEscalation(t *testing.T) {
	start := jst(2026, 11, 18, 10, 0)
	f := newFixture(t, start, []kpi.ChatChannel{hq, jp}, nil)
	// Ids follow the catalog's order.
	f.engine.set("return_rate", "rakuten", 0.09)     // #1, a warning
	f.engine.set("negative_reviews", "amazon-jp", 6) // #2, critical
	f.engine.set("days_of_cover", "yahoo", 3)        // #3, critical
	f.evaluate()
	f.pending(true)
	if _, err := f.m.Snooze(f.ctx, 3, bot.Actor{User: "slack:T1:U2"}, start.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.pending(true)
	at := func(d time.Duration, want ...string) {
		t.Helper()
		f.clock.Set(start.Add(d))
		f.escalate()
		sameKeys(t, "after "+d.String(), f.pending(true), want...)
	}
	at(29 * time.Minute)
	at(30*time.Minute, "alert:2:resend-1:slack:C-HQ", "alert:2:resend-1:line:U-JP")
	at(45 * time.Minute)
	at(59 * time.Minute)
	at(60*time.Minute, "alert:2:resend-2:slack:C-HQ", "alert:2:resend-2:line:U-JP")
	if a := f.alert(2); a.Escalations != 2 {
		t.Errorf("escalations %d, want 2", a.Escalations)
	}
	f.clock.Set(start.Add(61 * time.Minute))
	if _, err := f.m.Ack(f.ctx, 2, bot.Actor{User: "line:U-SATO"}); err != nil {
		t.Fatal(err)
	}
	// The acknowledgement amends every message hq got of #2 that showed it
	// with its buttons: the opening and both reminders.
	want := []string{"alert:2:open:slack:C-HQ", "alert:2:resend-1:slack:C-HQ", "alert:2:resend-2:slack:C-HQ"}
	if got := f.pending(true)["alert:2:ack-1:slack:C-HQ"].reply.Amends; !slices.Equal(got, want) {
		t.Errorf("the acknowledgement in hq amends %q, want %q", got, want)
	}
	at(90 * time.Minute)
	at(119 * time.Minute)
	// The snooze of #3 ends at 2h: it is open again, and re-sent (to hq:
	// days of cover is not for Japan support).
	at(120*time.Minute, "alert:3:resend-1:slack:C-HQ")
	if a := f.alert(3); a.State != kpi.AlertOpen {
		t.Errorf("after its snooze: %+v", a)
	}
	at(149 * time.Minute)
	at(150*time.Minute, "alert:3:resend-2:slack:C-HQ")
	at(10*time.Hour, "alert:3:resend-3:slack:C-HQ")
	if got := f.alert(1); got.Escalations != 0 {
		t.Errorf("a warning was escalated: %+v", got)
	}
}

// An episode whose rule is disabled, or whose shop is gone, resolves.
func TestRuleGoneResolves(t *testing.T) {
	f := newFixture(t, jst(2026, 11, 18, 10, 0), []kpi.ChatChannel{hq}, nil)
	f.engine.set("acos", "yahoo", 0.6)
	f.engine.set("acos", "rakuten", 0.6)
	if rep := f.evaluate(); len(rep.Opened) != 2 {
		t.Fatalf("opened %+v", rep.Opened)
	}
	f.pending(true)
	c := f.m.c
	c.Rules = append(DefaultRules(), Rule{Metric: "acos", Shop: "yahoo", Severity: kpi.SeverityWarning, Disabled: true})
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.Evaluate(f.ctx)
	if err != nil || len(rep.Resolved) != 1 || rep.Resolved[0].Key != "acos:yahoo" {
		t.Fatalf("after disabling acos for yahoo: %+v, %v", rep, err)
	}
	sameKeys(t, "disabled", f.pending(true), "alert:2:resolve:slack:C-HQ") // rakuten is #1
}

// splitKey splits an alert's outbox key, alert:ID:EVENT:PLATFORM:CHANNEL.
func splitKey(t *testing.T, key string) (kind, id, event, platform, channel string) {
	t.Helper()
	parts := strings.Split(key, ":")
	if len(parts) != 5 {
		t.Fatalf("outbox key %q: want alert:ID:EVENT:PLATFORM:CHANNEL", key)
	}
	return parts[0], parts[1], parts[2], parts[3], parts[4]
}
