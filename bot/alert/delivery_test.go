package alert

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/schedule"
	"github.com/kpibot/kpibot/kpi"
)

// flaky is a chat platform that is down until a time, then delivers.
type flaky struct {
	clock     clockwork.Clock
	downUntil time.Time

	mu        sync.Mutex
	failed    int
	delivered []string // keys, in the order delivered
	messages  map[string]schedule.Message
}

func (s *flaky) Send(_ context.Context, msgs []schedule.Message) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clock.Now().Before(s.downUntil) {
		s.failed++
		return nil, errors.New("503 service unavailable")
	}
	var keys []string
	for _, m := range msgs {
		keys = append(keys, m.Key)
		s.delivered = append(s.delivered, m.Key)
		s.messages[m.Key] = m
	}
	return keys, nil
}

// noReports is a renderer for a scheduler that only flushes.
type noReports struct{}

func (noReports) Report(context.Context, string, kpi.ChatChannel, kpi.Date) (bot.Reply, error) {
	return bot.Reply{}, errors.New("no reports here")
}

// A 30-minute chat outage: the alerts opened, updated, acknowledged and
// resolved meanwhile wait in the outbox, are tried again with backoff, and
// once the platforms are back every message reaches each of its channels
// exactly once, none lost and none doubled.
func TestOutageLosesNothing(t *testing.T) {
	start := jst(2026, 11, 18, 10, 0)
	fake := clockwork.NewFakeClockAt(start)
	f := newFixture(t, start, []kpi.ChatChannel{hq, jp, team}, nil)
	f.clock = nil // the fake clock rules
	f.m.now = fake.Now
	down := start.Add(30 * time.Minute)
	slack := &flaky{clock: fake, downUntil: down, messages: map[string]schedule.Message{}}
	line := &flaky{clock: fake, downUntil: down, messages: map[string]schedule.Message{}}
	s, err := schedule.New(schedule.Config{Channels: f.store, Outbox: f.store, Renderer: noReports{}, Clock: fake,
		Senders: map[string]schedule.Sender{"slack": slack, "line": line}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })

	// What happens, minute by minute; Evaluate, Escalate and Flush run
	// every minute, as the scheduler's jobs would.
	events := map[int]func(){
		0: func() { f.engine.set("negative_reviews", "amazon-jp", 6) }, // #1 critical, hq and jp
		5: func() { // #2 a warning and #3 critical, of one shop: one message to each channel
			f.engine.set("return_rate", "rakuten", 0.09)
			f.engine.set("first_response_minutes", "rakuten", 200)
		},
		10: func() { f.engine.set("return_rate", "rakuten", 0.15) }, // #2 much worse: an update
		12: func() { // #2 acknowledged
			if _, err := f.m.Ack(f.ctx, 2, bot.Actor{User: "slack:T1:U2"}); err != nil {
				t.Fatal(err)
			}
		},
		20: func() { f.engine.set("negative_reviews", "amazon-jp", 1) }, // #1 resolves
		45: func() { f.engine.set("acos", "yahoo", 0.6) },               // #4 after the outage
	}
	for minute := 0; minute <= 90; minute++ {
		fake.Advance(fake.Until(start.Add(time.Duration(minute) * time.Minute)))
		if ev := events[minute]; ev != nil {
			ev()
		}
		if _, err := f.m.Evaluate(f.ctx); err != nil {
			t.Fatalf("minute %d: Evaluate: %v", minute, err)
		}
		if _, err := f.m.Escalate(f.ctx); err != nil {
			t.Fatalf("minute %d: Escalate: %v", minute, err)
		}
		if err := s.Flush(f.ctx); err != nil {
			t.Fatalf("minute %d: Flush: %v", minute, err)
		}
	}
	if slack.failed == 0 || line.failed == 0 {
		t.Fatalf("the outage failed no delivery: slack %d, line %d", slack.failed, line.failed)
	}
	if n, err := f.store.Pending(f.ctx); err != nil || n != 0 {
		t.Errorf("pending after the outage: %d, %v", n, err)
	}
	var all []string
	for _, p := range []*flaky{slack, line} {
		all = append(all, p.delivered...)
	}
	counts := map[string]int{}
	for _, k := range all {
		counts[k]++
		if counts[k] == 2 {
			t.Errorf("%s delivered twice", k)
		}
	}
	// Each alert's messages, per channel: none lost. (The outbox backs off
	// item by item: after the outage the messages of a channel need not
	// come in the order they were made.)
	want := []string{
		"alert:1:open:slack:C-HQ", "alert:1:open:line:U-JP", "alert:1:resolve:slack:C-HQ", "alert:1:resolve:line:U-JP",
		"alert:2+3:open:slack:C-HQ", "alert:2+3:open:line:U-JP", "alert:2+3:open:slack:C-RAKUTEN",
		"alert:2:update-1:slack:C-HQ", "alert:2:update-1:line:U-JP", "alert:2:update-1:slack:C-RAKUTEN",
		"alert:2:ack-1:slack:C-HQ", "alert:2:ack-1:line:U-JP", "alert:2:ack-1:slack:C-RAKUTEN",
		"alert:3:resend-1:slack:C-HQ", "alert:3:resend-1:line:U-JP", "alert:3:resend-1:slack:C-RAKUTEN", // nobody acknowledged #3
		"alert:3:resend-2:slack:C-HQ", "alert:3:resend-2:line:U-JP", "alert:3:resend-2:slack:C-RAKUTEN",
		"alert:4:open:slack:C-HQ",
	}
	for _, k := range want {
		if counts[k] != 1 {
			t.Errorf("%s delivered %d times, want once", k, counts[k])
		}
	}
	if len(counts) != len(want) {
		t.Errorf("delivered %d messages, want %d: %q", len(counts), len(want), all)
	}
	if m := line.messages["alert:2+3:open:line:U-JP"]; m.Channel.ID != jp.ID || m.Reply.Lang != "ja" || len(m.Reply.Sections) != 2 {
		t.Errorf("the grouped message to Japan support: %+v", m)
	}
}

// The negative reviews an alert quotes are masked: what a store kept
// masked, and again before display, Japanese and Chinese alike.
func TestReviewQuotesMasked(t *testing.T) {
	now := jst(2026, 11, 18, 15, 0)
	raw := []kpi.Review{
		{Shop: "amazon-jp", ID: "r1", Posted: now.Add(-5 * time.Hour), Rating: 1,
			Text: "山田太郎様へ。〒150-0001 東京都渋谷区神宮前1-2-3 に届いた箱が潰れていました。電話 090-1234-5678、メール yamada.taro@example.co.jp"},
		{Shop: "amazon-jp", ID: "r2", Posted: now.Add(-4 * time.Hour), Rating: 2,
			Text: "王先生您好，寄到上海市浦东新区世纪大道100号的耳机坏了，请打13812345678或发邮件到wang.lei@qq.com"},
		{Shop: "amazon-jp", ID: "r3", Posted: now.Add(-3 * time.Hour), Rating: 1,
			Text: "佐藤さんの対応が遅い。お名前：鈴木花子　ＴＥＬ０３－１２３４－５６７８"},
		{Shop: "amazon-jp", ID: "r4", Posted: now.Add(-2 * time.Hour), Rating: 5, Text: "よかった"},
	}
	leaks := []string{"山田", "150-0001", "渋谷区", "090-1234-5678", "yamada.taro", "王", "上海市", "世纪大道",
		"13812345678", "wang.lei", "佐藤", "鈴木花子", "０３－１２３４"}
	check := func(t *testing.T, f *fixture) {
		t.Helper()
		rep := f.evaluate()
		if len(rep.Opened) != 1 || rep.Opened[0].Key != "negative_reviews:amazon-jp" {
			t.Fatalf("opened %+v", rep.Opened)
		}
		msgs := f.pending(true)
		for _, key := range []string{"alert:1:open:slack:C-HQ", "alert:1:open:line:U-JP"} {
			r := msgs[key].reply
			if len(r.Rows) != 3 {
				t.Errorf("%s quotes %d reviews, want the 3 negative ones:\n%s", key, len(r.Rows), r.PlainText())
			}
			text := r.PlainText()
			for _, leak := range leaks {
				if strings.Contains(text, leak) {
					t.Errorf("%s shows %q:\n%s", key, leak, text)
				}
			}
			for _, kept := range []string{"***様", "***先生", "***さん", "箱が潰れていました", "耳机坏了", "お名前：***"} {
				if !strings.Contains(text, kept) {
					t.Errorf("%s lacks %q:\n%s", key, kept, text)
				}
			}
		}
	}

	t.Run("stored", func(t *testing.T) {
		only := func(c *Config) {
			c.Rules = []Rule{{Metric: "negative_reviews", Severity: kpi.SeverityCritical, Period: Recent, Days: 3}}
		}
		f := newFixture(t, now, []kpi.ChatChannel{hq, jp}, only)
		if _, err := f.store.Write(f.ctx, &kpi.Batch{Reviews: raw}); err != nil {
			t.Fatal(err)
		}
		f.m.c.Engine = &kpi.Engine{Store: f.store, Now: f.clock.Now}
		check(t, f)
	})
	t.Run("shown", func(t *testing.T) {
		// A source that hands the text over unmasked: the alert masks it.
		f := newFixture(t, now, []kpi.ChatChannel{hq, jp}, nil)
		f.m.c.Source = rawSource{f.store, raw}
		f.engine.set("negative_reviews", "amazon-jp", 3)
		check(t, f)
	})
}

// rawSource serves reviews as written, personal data and all.
type rawSource struct {
	kpi.AlertSource
	reviews []kpi.Review
}

func (s rawSource) NegativeReviews(_ context.Context, shop string, from, to time.Time, limit int) ([]kpi.Review, error) {
	var out []kpi.Review
	for i := len(s.reviews) - 1; i >= 0; i-- {
		r := s.reviews[i]
		if r.Shop == shop && r.Negative() && !r.Posted.Before(from) && r.Posted.Before(to) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

// A shop whose data stops coming raises a critical freshness alert after
// three sync intervals; it resolves when data comes again.
func TestFreshness(t *testing.T) {
	start := jst(2026, 11, 21, 3, 0) // a Saturday night: critical, it goes at once
	f := newFixture(t, start, []kpi.ChatChannel{hq, jp}, func(c *Config) { c.SyncEvery = 15 * time.Minute })
	write := func() {
		t.Helper()
		if _, err := f.store.Write(f.ctx, &kpi.Batch{Orders: []kpi.Order{{Shop: "rakuten", ID: fmt.Sprint(f.clock.Now().Unix()),
			Placed: f.clock.Now(), Status: kpi.StatusPending, Total: 1000, Units: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	// Every shop was written at start (the fixture's shops).
	f.clock.Add(44 * time.Minute)
	write()
	if rep := f.evaluate(); len(rep.Opened) != 0 {
		t.Fatalf("fresh: %+v", rep)
	}
	f.clock.Add(2 * time.Minute) // amazon-jp and yahoo: 46 minutes old
	rep := f.evaluate()
	if got := ids(rep.Opened); len(got) != 2 {
		t.Fatalf("stale: opened %+v", rep.Opened)
	}
	for _, a := range rep.Opened {
		if a.Metric != Freshness || a.Severity != kpi.SeverityCritical || a.Shop == "rakuten" || a.Target != 0.75 {
			t.Errorf("opened %+v", a)
		}
	}
	msgs := f.pending(true)
	sameKeys(t, "stale", msgs, "alert:1:open:slack:C-HQ", "alert:2:open:slack:C-HQ") // not for Japan support
	if got := msgs["alert:1:open:slack:C-HQ"].text(); !strings.Contains(got, "46 分钟") || !strings.Contains(got, "45 分钟") ||
		!strings.Contains(got, "2026-11-21 03:00") {
		t.Errorf("the freshness alert says how stale, against what, and since when the data is missing:\n%s", got)
	}
	if m := msgs["alert:1:open:slack:C-HQ"]; !m.nextTry.Equal(f.clock.Now()) {
		t.Errorf("a freshness alert waits until %v", m.nextTry)
	}
	f.clock.Add(10 * time.Minute)
	if _, err := f.store.Write(f.ctx, &kpi.Batch{Shops: []kpi.Shop{amazon}}); err != nil {
		t.Fatal(err)
	}
	rep = f.evaluate()
	if len(rep.Resolved) != 1 || rep.Resolved[0].Shop != "amazon-jp" {
		t.Errorf("data again: resolved %+v", rep.Resolved)
	}
	sameKeys(t, "data again", f.pending(true), "alert:1:resolve:slack:C-HQ")
}

// Tick evaluates, then escalates.
func TestTick(t *testing.T) {
	start := jst(2026, 11, 18, 10, 0)
	f := newFixture(t, start, []kpi.ChatChannel{hq}, nil)
	f.engine.set("days_of_cover", "yahoo", 3)
	if err := f.m.Tick(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(30 * time.Minute)
	if err := f.m.Tick(f.ctx); err != nil {
		t.Fatal(err)
	}
	sameKeys(t, "two ticks", f.pending(true), "alert:1:open:slack:C-HQ", "alert:1:resend-1:slack:C-HQ")
}
