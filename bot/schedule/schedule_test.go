package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

// wait bounds every wait for the scheduler's goroutines.
const wait = 5 * time.Second

var (
	hq   = kpi.ChatChannel{Platform: "slack", ID: "C-HQ", Role: kpi.RoleHQ, Lang: "zh"}
	jp   = kpi.ChatChannel{Platform: "line", ID: "U-JP", Role: kpi.RoleJPSupport, Lang: "ja"}
	shop = kpi.ChatChannel{Platform: "slack", ID: "C-SHOP", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten"}}
)

func jst(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, kpi.Tokyo)
}

// renderer names the report, day and channel in the reply's title, and
// records when it was asked for what.
type renderer struct {
	clock clockwork.Clock
	fail  func(kind string, ch kpi.ChatChannel) error // nil: never

	mu    sync.Mutex
	calls []string // "digest 2026-11-26 slack:C-HQ @ 09:00"
}

func title(kind string, day kpi.Date, ch kpi.ChatChannel) string {
	return fmt.Sprintf("%s %s %s:%s", kind, day, ch.Platform, ch.ID)
}

func (r *renderer) Report(_ context.Context, kind string, ch kpi.ChatChannel, day kpi.Date) (bot.Reply, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, title(kind, day, ch)+" @ "+r.clock.Now().In(kpi.Tokyo).Format("01-02 15:04"))
	if r.fail != nil {
		if err := r.fail(kind, ch); err != nil {
			return bot.Reply{}, err
		}
	}
	return bot.Reply{Title: title(kind, day, ch), Text: "report", Lang: "ja", Err: errors.New("dropped")}, nil
}

func (r *renderer) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// sender records what it delivered and when it was called; fn, if set,
// decides which keys of a call it delivers.
type sender struct {
	clock clockwork.Clock
	fn    func(call int, msgs []Message) ([]string, error)

	mu        sync.Mutex
	calls     []string // the time of each call
	delivered []string // "key @ time"
}

func (s *sender) Send(_ context.Context, msgs []Message) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.clock.Now().In(kpi.Tokyo).Format("01-02 15:04")
	s.calls = append(s.calls, at)
	var keys []string
	for _, m := range msgs {
		// The message is what the renderer made for the key's channel.
		parts := strings.SplitN(m.Key, ":", 4)
		if len(parts) != 4 || m.Reply.Title != fmt.Sprintf("%s %s %s:%s", parts[0], parts[1], parts[2], parts[3]) ||
			m.Channel.Platform != parts[2] || m.Channel.ID != parts[3] || m.Reply.Err != nil {
			return nil, fmt.Errorf("message %s garbled: %+v", m.Key, m)
		}
		keys = append(keys, m.Key)
	}
	var err error
	if s.fn != nil {
		keys, err = s.fn(len(s.calls), msgs)
	}
	for _, k := range keys {
		s.delivered = append(s.delivered, k+" @ "+at)
	}
	return keys, err
}

func (s *sender) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *sender) Delivered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}

// logs is a log the test reads.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logs) Count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

// harness is a Scheduler on a SQLite file, a fake clock, a stub renderer
// and a recording sender per platform.
type harness struct {
	t      *testing.T
	clock  *clockwork.FakeClock
	store  *sqlite.Store
	s      *Scheduler
	render *renderer
	slack  *sender
	line   *sender
	log    *logs

	mu   sync.Mutex
	runs map[string]int // finished runs by job
}

// newHarness opens the store at path (binding channels), and makes a
// scheduler at now; change edits its config. It does not start it.
func newHarness(t *testing.T, path string, now time.Time, channels []kpi.ChatChannel, change func(*Config)) *harness {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, ch := range channels {
		if err := store.BindChatChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	clock := clockwork.NewFakeClockAt(now)
	h := &harness{t: t, clock: clock, store: store, render: &renderer{clock: clock},
		slack: &sender{clock: clock}, line: &sender{clock: clock}, log: &logs{}, runs: map[string]int{}}
	c := Config{Channels: store, Outbox: store, Renderer: h.render, Clock: clock,
		Senders: map[string]Sender{"slack": h.slack, "line": h.line},
		Log:     slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:   10 * time.Minute}
	if change != nil {
		change(&c)
	}
	h.s, err = New(c)
	if err != nil {
		t.Fatal(err)
	}
	h.s.ran = func(job string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.runs[job]++
	}
	return h
}

// start starts the scheduler (and its catch-up) and stops it at the end of
// the test.
func start(t *testing.T, path string, now time.Time, channels []kpi.ChatChannel, change func(*Config)) *harness {
	t.Helper()
	h := newHarness(t, path, now, channels, change)
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if err := h.s.Stop(); err != nil {
		h.t.Errorf("Stop: %v", err)
	}
}

func (h *harness) finished(job string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runs[job]
}

// eventually waits until ok, failing the test after wait.
func (h *harness) eventually(what string, ok func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for !ok() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; the log:\n%s", what, h.log.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// next waits until every job is scheduled after now, and returns when.
func (h *harness) next() map[string]time.Time {
	h.t.Helper()
	var next map[string]time.Time
	h.eventually("the jobs to be scheduled", func() bool {
		now := h.clock.Now()
		next = map[string]time.Time{}
		for name, j := range h.s.jobs {
			at, err := j.NextRun()
			if err != nil || !at.After(now) {
				return false
			}
			next[name] = at
		}
		return true
	})
	return next
}

// timers waits until the fake clock has n timers: every job is scheduled.
// (A job's NextRun is no help for a skipped singleton run: gocron keeps
// the skipped time as its next run until a run finishes.)
func (h *harness) timers(n int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := h.clock.BlockUntilContext(ctx, n); err != nil {
		h.t.Fatalf("waiting for %d timers: %v", n, err)
	}
}

// advanceTo moves the clock to t one scheduled run at a time, and after
// each step waits for the jobs that were due to finish, so that every job
// runs at its time and sees it.
func (h *harness) advanceTo(t time.Time) {
	h.t.Helper()
	for {
		next := h.next()
		step := t
		for _, at := range next {
			if at.Before(step) {
				step = at
			}
		}
		var due []string
		before := map[string]int{}
		for name, at := range next {
			if !at.After(step) {
				due = append(due, name)
				before[name] = h.finished(name)
			}
		}
		h.clock.Advance(step.Sub(h.clock.Now()))
		for _, name := range due {
			h.eventually(name+" to run", func() bool { return h.finished(name) > before[name] })
		}
		if !step.Before(t) {
			return
		}
	}
}

func (h *harness) pending() int {
	h.t.Helper()
	n, err := h.store.Pending(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func filter(list []string, prefix string) []string {
	var out []string
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out
}

func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "kpi.db") }

// The digest goes out at 09:00 JST and not before, once per channel and
// day, across a day boundary.
func TestDigestAtNine(t *testing.T) {
	h := start(t, dbPath(t), jst(2026, 11, 26, 8, 59), []kpi.ChatChannel{hq, jp, shop}, nil)
	if next := h.next()["digest"]; !next.Equal(jst(2026, 11, 26, 9, 0)) {
		t.Fatalf("the digest is next at %v, want 09:00 JST", next)
	}
	if got := filter(h.render.Calls(), "digest"); len(got) != 0 {
		t.Fatalf("before 09:00: rendered %q", got)
	}
	h.advanceTo(jst(2026, 11, 26, 9, 0))
	day1 := []string{
		"digest:2026-11-26:slack:C-HQ @ 11-26 09:00",
		"digest:2026-11-26:slack:C-SHOP @ 11-26 09:00",
	}
	sameSet(t, "slack at 09:00", filter(h.slack.Delivered(), "digest"), day1)
	sameSet(t, "line at 09:00", h.line.Delivered(), []string{"digest:2026-11-26:line:U-JP @ 11-26 09:00"})

	h.advanceTo(jst(2026, 11, 27, 8, 59))
	if next := h.next()["digest"]; !next.Equal(jst(2026, 11, 27, 9, 0)) {
		t.Fatalf("the digest is next at %v, want 09:00 JST", next)
	}
	sameSet(t, "slack before 09:00 on day 2", filter(h.slack.Delivered(), "digest"), day1)
	h.advanceTo(jst(2026, 11, 27, 9, 30))
	sameSet(t, "slack on day 2", filter(h.slack.Delivered(), "digest"), append(day1,
		"digest:2026-11-27:slack:C-HQ @ 11-27 09:00",
		"digest:2026-11-27:slack:C-SHOP @ 11-27 09:00"))
	sameSet(t, "line on day 2", h.line.Delivered(), []string{
		"digest:2026-11-26:line:U-JP @ 11-26 09:00",
		"digest:2026-11-27:line:U-JP @ 11-27 09:00"})
	if n := len(filter(h.render.Calls(), "digest")); n != 6 {
		t.Errorf("rendered %d reports, want 6: %q", n, h.render.Calls())
	}
	if n := h.pending(); n != 0 {
		t.Errorf("%d pending", n)
	}
}

// A restart after 09:00 sends the day's digest, once; reviews more than a
// day late are not caught up; a restart the next morning sends nothing
// until 09:00.
func TestRestartCatchesUp(t *testing.T) {
	path := dbPath(t)
	channels := []kpi.ChatChannel{hq, jp, shop}

	a := start(t, path, jst(2026, 11, 26, 9, 5), channels, nil) // a Thursday
	sameSet(t, "sent by a start at 09:05", append(a.slack.Delivered(), a.line.Delivered()...), []string{
		"digest:2026-11-26:slack:C-HQ @ 11-26 09:05",
		"digest:2026-11-26:slack:C-SHOP @ 11-26 09:05",
		"digest:2026-11-26:line:U-JP @ 11-26 09:05",
		// Not Monday's weekly review nor the 1st's monthly one: days late.
	})
	a.stop()

	b := start(t, path, jst(2026, 11, 26, 9, 30), channels, nil)
	if got := append(b.slack.Calls(), b.line.Calls()...); len(got) != 0 {
		t.Errorf("a second restart sent again at %q", got)
	}
	if got := b.render.Calls(); len(got) != 0 {
		t.Errorf("a second restart rendered again: %q", got)
	}
	b.stop()

	c := start(t, path, jst(2026, 11, 27, 8, 0), channels, nil)
	c.advanceTo(jst(2026, 11, 27, 8, 59))
	if got := append(c.slack.Calls(), c.line.Calls()...); len(got) != 0 {
		t.Errorf("a restart the next morning sent at %q before 09:00", got)
	}
	c.advanceTo(jst(2026, 11, 27, 9, 0))
	sameSet(t, "the next day at 09:00", append(c.slack.Delivered(), c.line.Delivered()...), []string{
		"digest:2026-11-27:slack:C-HQ @ 11-27 09:00",
		"digest:2026-11-27:slack:C-SHOP @ 11-27 09:00",
		"digest:2026-11-27:line:U-JP @ 11-27 09:00",
	})
}

// The weekly review goes out on Mondays at 10:00, the monthly one on the
// 1st at 10:00, to hq and the shop teams only.
func TestReviews(t *testing.T) {
	other := kpi.ChatChannel{Platform: "slack", ID: "C-X", Role: "auditor", Lang: "en"}
	h := start(t, dbPath(t), jst(2026, 11, 29, 10, 30), []kpi.ChatChannel{hq, jp, shop, other}, nil) // a Sunday
	h.advanceTo(jst(2026, 11, 30, 9, 59))                                                            // Monday
	reviews := func() []string {
		d := append(h.slack.Delivered(), h.line.Delivered()...)
		return append(filter(d, "weekly:2026-11-30"), filter(d, "monthly:2026-12")...)
	}
	if got := reviews(); len(got) != 0 {
		t.Errorf("before Monday 10:00: %q", got)
	}
	h.advanceTo(jst(2026, 12, 1, 9, 59)) // Tuesday the 1st
	sameSet(t, "the weekly review", reviews(), []string{
		"weekly:2026-11-30:slack:C-HQ @ 11-30 10:00",
		"weekly:2026-11-30:slack:C-SHOP @ 11-30 10:00",
	})
	h.advanceTo(jst(2026, 12, 1, 10, 0))
	sameSet(t, "the reviews", reviews(), []string{
		"weekly:2026-11-30:slack:C-HQ @ 11-30 10:00",
		"weekly:2026-11-30:slack:C-SHOP @ 11-30 10:00",
		"monthly:2026-12-01:slack:C-HQ @ 12-01 10:00",
		"monthly:2026-12-01:slack:C-SHOP @ 12-01 10:00",
	})
	digests := filter(append(h.slack.Delivered(), h.line.Delivered()...), "digest:")
	if len(digests) != 3*3 { // the catch-up on Sunday, Monday, Tuesday; not to C-X
		t.Errorf("digests: %q", digests)
	}
	if got := filter(h.render.Calls(), "weekly 2026-11-23"); len(got) != 0 { // six days late on Sunday
		t.Errorf("a start on Sunday caught up last Monday's review: %q", got)
	}
}

// A review missed on its day goes out at a start the day after.
func TestReviewCaughtUpTheDayAfter(t *testing.T) {
	h := start(t, dbPath(t), jst(2026, 12, 1, 8, 0), []kpi.ChatChannel{hq}, nil) // Tuesday the 1st, 08:00
	sameSet(t, "caught up", filter(h.slack.Delivered(), "weekly"), []string{
		"weekly:2026-11-30:slack:C-HQ @ 12-01 08:00",
	})
	if got := filter(h.slack.Delivered(), "monthly"); len(got) != 0 {
		t.Errorf("the monthly review went out before 10:00 on the 1st: %q", got)
	}
}

func TestGoesTo(t *testing.T) {
	for _, tt := range []struct {
		role                    kpi.Role
		digest, weekly, monthly bool
	}{
		{kpi.RoleHQ, true, true, true},
		{kpi.RoleJPSupport, true, false, false},
		{kpi.RoleShop, true, true, true},
		{"", false, false, false},
		{"auditor", false, false, false},
	} {
		for r, want := range map[Report]bool{Digest: tt.digest, Weekly: tt.weekly, Monthly: tt.monthly, "yearly": false} {
			if got := goesTo(r, tt.role); got != want {
				t.Errorf("goesTo(%s, %q) = %v, want %v", r, tt.role, got, want)
			}
		}
	}
}

func TestOccurrence(t *testing.T) {
	for _, tt := range []struct {
		r    Report
		now  time.Time
		day  string
		past bool
	}{
		{Digest, jst(2026, 11, 26, 8, 59), "2026-11-26", false},
		{Digest, jst(2026, 11, 26, 9, 0), "2026-11-26", true},
		{Digest, jst(2026, 11, 26, 23, 59), "2026-11-26", true},
		{Digest, time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC), "2026-11-26", true}, // 09:30 JST
		{Weekly, jst(2026, 11, 30, 9, 59), "2026-11-30", false},                      // Monday
		{Weekly, jst(2026, 11, 30, 10, 0), "2026-11-30", true},
		{Weekly, jst(2026, 12, 6, 23, 0), "2026-11-30", true}, // Sunday
		{Weekly, jst(2026, 12, 7, 0, 0), "2026-12-07", false},
		{Monthly, jst(2026, 12, 1, 9, 0), "2026-12-01", false},
		{Monthly, jst(2026, 12, 1, 10, 0), "2026-12-01", true},
		{Monthly, jst(2026, 12, 31, 23, 59), "2026-12-01", true},
	} {
		c := Config{DigestAt: 9 * time.Hour, WeeklyOn: 1, WeeklyAt: 10 * time.Hour, MonthlyOn: 1, MonthlyAt: 10 * time.Hour}
		day, past := occurrence(tt.r, c, tt.now)
		if day.String() != tt.day || past != tt.past {
			t.Errorf("occurrence(%s, %v) = %s, %v; want %s, %v", tt.r, tt.now, day, past, tt.day, tt.past)
		}
	}
}

// The reviews' days and times may be changed: the last occurrence, today
// included, is the current one.
func TestOccurrenceOtherDays(t *testing.T) {
	c := Config{DigestAt: 9 * time.Hour, WeeklyOn: 5, WeeklyAt: 17 * time.Hour, MonthlyOn: 3, MonthlyAt: 8 * time.Hour}
	sunday := c
	sunday.WeeklyOn = 7
	for _, tt := range []struct {
		r    Report
		c    Config
		now  time.Time
		day  string
		past bool
	}{
		{Weekly, c, jst(2026, 12, 4, 16, 59), "2026-12-04", false}, // Friday
		{Weekly, c, jst(2026, 12, 4, 17, 0), "2026-12-04", true},
		{Weekly, c, jst(2026, 12, 7, 10, 0), "2026-12-04", true},   // Monday
		{Weekly, c, jst(2026, 12, 10, 23, 59), "2026-12-04", true}, // Thursday
		{Weekly, sunday, jst(2026, 12, 5, 12, 0), "2026-11-29", true},
		{Weekly, sunday, jst(2026, 12, 6, 9, 0), "2026-12-06", false},
		{Monthly, c, jst(2026, 12, 3, 7, 59), "2026-12-03", false},
		{Monthly, c, jst(2026, 12, 3, 8, 0), "2026-12-03", true},
		{Monthly, c, jst(2026, 12, 2, 8, 0), "2026-11-03", true},
		{Monthly, c, jst(2027, 1, 1, 8, 0), "2026-12-03", true},
	} {
		day, past := occurrence(tt.r, tt.c, tt.now)
		if day.String() != tt.day || past != tt.past {
			t.Errorf("occurrence(%s, on %d/%d, %v) = %s, %v; want %s, %v", tt.r, tt.c.WeeklyOn, tt.c.MonthlyOn, tt.now, day, past,
				tt.day, tt.past)
		}
	}
}

// The weekly review goes out on WeeklyOn at WeeklyAt, the monthly one on
// MonthlyOn at MonthlyAt.
func TestReviewsOtherDays(t *testing.T) {
	h := start(t, dbPath(t), jst(2026, 11, 30, 12, 0), []kpi.ChatChannel{hq}, func(c *Config) { // a Monday
		c.WeeklyOn, c.WeeklyAt, c.MonthlyOn, c.MonthlyAt = 5, 17*time.Hour, 3, 8*time.Hour
	})
	reviews := func() []string {
		d := h.slack.Delivered()
		return append(filter(d, "weekly:"), filter(d, "monthly:")...)
	}
	if next := h.next(); !next["weekly"].Equal(jst(2026, 12, 4, 17, 0)) || !next["monthly"].Equal(jst(2026, 12, 3, 8, 0)) {
		t.Errorf("next: weekly %v, monthly %v", next["weekly"], next["monthly"])
	}
	h.advanceTo(jst(2026, 12, 4, 16, 59))
	sameSet(t, "by Friday 16:59", reviews(), []string{"monthly:2026-12-03:slack:C-HQ @ 12-03 08:00"})
	h.advanceTo(jst(2026, 12, 4, 17, 0))
	sameSet(t, "on Friday 17:00", reviews(), []string{
		"monthly:2026-12-03:slack:C-HQ @ 12-03 08:00",
		"weekly:2026-12-04:slack:C-HQ @ 12-04 17:00",
	})
}

// A Sender that fails keeps its items in the outbox; they are tried again
// after 1m, then 2m, and delivered once when it recovers.
func TestSenderFails(t *testing.T) {
	jp2 := kpi.ChatChannel{Platform: "slack", ID: "C-JP", Role: kpi.RoleJPSupport, Lang: "ja"}
	h := newHarness(t, dbPath(t), jst(2026, 11, 26, 8, 59), []kpi.ChatChannel{jp, jp2}, func(c *Config) { c.Retry = time.Minute })
	h.slack.fn = func(call int, msgs []Message) ([]string, error) {
		if call <= 2 {
			return nil, errors.New("slack is down")
		}
		return []string{msgs[0].Key}, nil
	}
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)

	h.advanceTo(jst(2026, 11, 26, 9, 0))
	sameSet(t, "line", h.line.Delivered(), []string{"digest:2026-11-26:line:U-JP @ 11-26 09:00"})
	if n := h.pending(); n != 1 {
		t.Fatalf("%d pending, want 1", n)
	}
	due, err := h.store.Due(context.Background(), jst(2026, 11, 26, 9, 1), 10)
	if err != nil || len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "slack is down" ||
		!due[0].NextTry.Equal(jst(2026, 11, 26, 9, 1)) {
		t.Fatalf("after a failure: %+v, %v", due, err)
	}
	h.advanceTo(jst(2026, 11, 26, 9, 10))
	if got, want := h.slack.Calls(), []string{"11-26 09:00", "11-26 09:01", "11-26 09:03"}; !slices.Equal(got, want) {
		t.Errorf("slack was called at %q, want %q", got, want)
	}
	sameSet(t, "slack", h.slack.Delivered(), []string{"digest:2026-11-26:slack:C-JP @ 11-26 09:03"})
	if n := h.pending(); n != 0 {
		t.Errorf("%d pending", n)
	}
}

// A Sender that delivers some of the messages: the others are tried again
// and delivered once. A platform without a Sender keeps its messages.
func TestSenderDeliversSome(t *testing.T) {
	jp2 := kpi.ChatChannel{Platform: "slack", ID: "C-JP2", Role: kpi.RoleJPSupport, Lang: "ja"}
	jp3 := kpi.ChatChannel{Platform: "slack", ID: "C-JP3", Role: kpi.RoleJPSupport, Lang: "ja"}
	h := newHarness(t, dbPath(t), jst(2026, 11, 26, 8, 59), []kpi.ChatChannel{jp, jp2, jp3}, func(c *Config) {
		c.Retry = time.Minute
		delete(c.Senders, "line")
	})
	held := false
	h.slack.fn = func(_ int, msgs []Message) ([]string, error) {
		var keys []string
		for _, m := range msgs {
			if m.Channel.ID == jp3.ID && !held {
				held = true // held back once, say, for lack of quota
				continue
			}
			keys = append(keys, m.Key)
		}
		return keys, nil
	}
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	h.advanceTo(jst(2026, 11, 26, 9, 5))
	sameSet(t, "slack", h.slack.Delivered(), []string{
		"digest:2026-11-26:slack:C-JP2 @ 11-26 09:00",
		"digest:2026-11-26:slack:C-JP3 @ 11-26 09:01",
	})
	if n := h.pending(); n != 1 {
		t.Errorf("%d pending, want the line message", n)
	}
	if h.log.Count(`no sender for platform \"line\"`) == 0 {
		t.Errorf("no warning about the platform without a sender")
	}
}

// eachSender is an EachSender: it delivers the messages one by one until
// stop says to stop before one, then waits for the flush's context and
// fails, as a replica that dies in the middle of a batch.
type eachSender struct {
	stop    func(m Message) bool
	stopped chan struct{} // closed when it stops

	mu        sync.Mutex
	delivered []string
}

func (s *eachSender) Send(context.Context, []Message) ([]string, error) {
	return nil, errors.New("Send called: Flush is to call SendEach")
}

func (s *eachSender) SendEach(ctx context.Context, msgs []Message, delivered func(key, ref string)) error {
	for _, m := range msgs {
		if s.stop(m) {
			close(s.stopped)
			<-ctx.Done()
			return ctx.Err()
		}
		s.mu.Lock()
		s.delivered = append(s.delivered, m.Key)
		s.mu.Unlock()
		delivered(m.Key, "ts-"+m.Channel.ID)
		delivered(m.Key, "again")   // told twice: marked once
		delivered("other", "other") // not of the batch: ignored
	}
	return nil
}

// The messages an EachSender delivers are marked sent as it goes, not when
// the batch is over: a sender that dies in the middle of one leaves only
// the rest to be sent again.
func TestEachSenderMarksAsItGoes(t *testing.T) {
	chans := []kpi.ChatChannel{
		{Platform: "slack", ID: "C-1", Role: kpi.RoleJPSupport, Lang: "ja"},
		{Platform: "slack", ID: "C-2", Role: kpi.RoleJPSupport, Lang: "ja"},
		{Platform: "slack", ID: "C-3", Role: kpi.RoleJPSupport, Lang: "ja"},
	}
	each := &eachSender{stop: func(m Message) bool { return m.Channel.ID == "C-3" }, stopped: make(chan struct{})}
	h := newHarness(t, dbPath(t), jst(2026, 11, 26, 9, 0), chans, func(c *Config) { c.Senders = map[string]Sender{"slack": each} })
	day := kpi.DateOf(h.clock.Now())
	if n, err := h.s.Enqueue(context.Background(), Digest, day); n != 3 || err != nil {
		t.Fatalf("enqueued %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	flushed := make(chan error, 1)
	go func() { flushed <- h.s.Flush(ctx) }()
	select {
	case <-each.stopped:
	case <-time.After(wait):
		t.Fatal("the sender did not get to the third message")
	}
	// In the middle of the batch, the two messages out are marked sent.
	if n := h.pending(); n != 1 {
		t.Errorf("%d pending in the middle of the batch, want 1: the two delivered are marked at once", n)
	}
	cancel()
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if n := h.pending(); n != 1 {
		t.Errorf("%d pending after the flush, want the third", n)
	}
	due, err := h.store.Due(context.Background(), h.clock.Now().Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].Key != Key(Digest, day, chans[2]) || due[0].Attempts != 1 {
		t.Errorf("left: %+v, %v; want the third, failed once", due, err)
	}
	// Each message out keeps the ref the sender gave first: what an edit
	// of it names.
	for _, ch := range chans[:2] {
		it, ok, err := h.store.Item(context.Background(), Key(Digest, day, ch))
		if err != nil || !ok || it.Ref != "ts-"+ch.ID {
			t.Errorf("%s: ref %q (%v, %v), want ts-%s", ch.ID, it.Ref, ok, err, ch.ID)
		}
	}
}

// A report that cannot be made for a channel is made again on the outbox's
// tick after a backoff, for that channel alone.
func TestRenderRetried(t *testing.T) {
	var failures atomic.Int32
	h := newHarness(t, dbPath(t), jst(2026, 11, 26, 8, 59), []kpi.ChatChannel{hq, jp, shop}, func(c *Config) { c.Retry = time.Minute })
	h.render.fail = func(kind string, ch kpi.ChatChannel) error {
		if kind == "digest" && ch.ID == shop.ID && failures.Add(1) == 1 {
			return errors.New("store busy")
		}
		return nil
	}
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	h.advanceTo(jst(2026, 11, 26, 9, 3))
	if got := filter(h.render.Calls(), "digest 2026-11-26 slack:C-SHOP"); !slices.Equal(got, []string{
		"digest 2026-11-26 slack:C-SHOP @ 11-26 09:00", "digest 2026-11-26 slack:C-SHOP @ 11-26 09:01"}) {
		t.Errorf("the shop's digest was rendered %q", got)
	}
	if n := len(filter(h.render.Calls(), "digest")); n != 4 {
		t.Errorf("%d renders, want 4: %q", n, h.render.Calls())
	}
	sameSet(t, "slack", filter(h.slack.Delivered(), "digest"), []string{
		"digest:2026-11-26:slack:C-HQ @ 11-26 09:00",
		"digest:2026-11-26:slack:C-SHOP @ 11-26 09:01",
	})
	if h.log.Count("store busy") != 1 {
		t.Errorf("the render failure was not logged once")
	}
}

// A sync slower than its interval never runs twice at once: the runs that
// fall due meanwhile are skipped and logged; its errors are logged and it
// keeps running.
func TestSyncNeverOverlaps(t *testing.T) {
	var running, most, runs atomic.Int32
	release := make(chan error)
	h := newHarness(t, dbPath(t), jst(2026, 11, 26, 12, 0), nil, func(c *Config) {
		c.Syncs = []Sync{{Name: "rakuten", Every: time.Minute, Run: func(ctx context.Context) error {
			runs.Add(1)
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			select {
			case err := <-release:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}}}
	})
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	h.eventually("the first sync, at the start", func() bool { return running.Load() == 1 })
	// gocron drops a run's time from the job's schedule when the run starts,
	// reading the clock: let it do so before the clock moves, or it would
	// drop the next time too and run the job again at once.
	h.next()
	for i := 1; i <= 3; i++ {
		h.timers(5)
		h.clock.Advance(time.Minute)
		h.eventually("a skipped run", func() bool { return h.log.Count("run skipped") >= i })
		if n := h.log.Count("run skipped"); n != i {
			t.Fatalf("%d runs skipped, want %d; the log:\n%s", n, i, h.log.String())
		}
	}
	release <- errors.New("rakuten: 503")
	h.eventually("the first sync to end", func() bool { return h.finished("sync:rakuten") == 1 })
	if h.log.Count("rakuten: 503") != 1 {
		t.Error("the sync's error was not logged")
	}
	// The run that comes as the first ends may be skipped too: gocron
	// frees a singleton's slot a moment after its function returns.
	for skipped := h.log.Count("run skipped"); runs.Load() < 2; skipped = h.log.Count("run skipped") {
		h.timers(5)
		h.clock.Advance(time.Minute)
		h.eventually("the second sync or a skip", func() bool { return runs.Load() == 2 || h.log.Count("run skipped") > skipped })
	}
	release <- nil
	h.eventually("the second sync to end", func() bool { return h.finished("sync:rakuten") == 2 })
	if m := most.Load(); m != 1 {
		t.Errorf("%d syncs ran at once", m)
	}
}

// Stop returns promptly, cancelling what runs.
func TestStopPromptly(t *testing.T) {
	stopped := make(chan error, 1)
	h := newHarness(t, dbPath(t), jst(2026, 11, 26, 12, 0), []kpi.ChatChannel{hq}, func(c *Config) {
		c.Syncs = []Sync{{Name: "amazon", Every: time.Hour, Run: func(ctx context.Context) error {
			<-ctx.Done()
			stopped <- ctx.Err()
			return ctx.Err()
		}}}
	})
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.next()
	begin := time.Now()
	if err := h.s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if took := time.Since(begin); took > time.Second {
		t.Errorf("Stop took %v", took)
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the sync ended with %v", err)
		}
	default:
		t.Error("the running sync was not cancelled")
	}
	if err := h.s.Start(context.Background()); err == nil {
		t.Error("Start after Stop: no error")
	}
}

func TestNewChecksConfig(t *testing.T) {
	store, err := sqlite.Open(context.Background(), dbPath(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ok := Config{Channels: store, Outbox: store, Renderer: &renderer{}}
	for name, change := range map[string]func(*Config){
		"no outbox":      func(c *Config) { c.Outbox = nil },
		"digest at 24h":  func(c *Config) { c.DigestAt = 24 * time.Hour },
		"review at 10.5": func(c *Config) { c.ReviewAt = 10*time.Hour + time.Millisecond },
		"weekly at -1h":  func(c *Config) { c.WeeklyAt = -time.Hour },
		"monthly at 25h": func(c *Config) { c.MonthlyAt = 25 * time.Hour },
		"weekly on 8":    func(c *Config) { c.WeeklyOn = 8 },
		"monthly on 29":  func(c *Config) { c.MonthlyOn = 29 },
		"monthly on -1":  func(c *Config) { c.MonthlyOn = -1 },
		"evaluate every -1m": func(c *Config) {
			c.Evaluate, c.EvaluateEvery = func(context.Context) error { return nil }, -time.Minute
		},
		"sync no name": func(c *Config) { c.Syncs = []Sync{{Every: time.Hour, Run: func(context.Context) error { return nil }}} },
		"sync twice": func(c *Config) {
			y := Sync{Name: "a", Every: time.Hour, Run: func(context.Context) error { return nil }}
			c.Syncs = []Sync{y, y}
		},
	} {
		c := ok
		change(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	s, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	if s.c.DigestAt != 9*time.Hour || s.c.ReviewAt != 10*time.Hour || s.c.Retry != 30*time.Second || s.c.EvaluateEvery != 5*time.Minute ||
		s.c.WeeklyOn != 1 || s.c.WeeklyAt != 10*time.Hour || s.c.MonthlyOn != 1 || s.c.MonthlyAt != 10*time.Hour {
		t.Errorf("defaults: %+v", s.c)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
}

func TestKey(t *testing.T) {
	if got := Key(Digest, kpi.NewDate(2026, 11, 28), kpi.ChatChannel{Platform: "slack", ID: "C123"}); got != "digest:2026-11-28:slack:C123" {
		t.Errorf("Key = %q", got)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		if got := backoff(i); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i, got, w)
		}
	}
	if got := backoff(100); got != time.Hour {
		t.Errorf("backoff(100) = %v", got)
	}
}

// Every field of bot.Reply but Err survives the outbox (bot.EncodeOutgoing,
// decode), so that a field added to it later travels too.
func TestPayloadRoundTrip(t *testing.T) {
	var r bot.Reply
	fill(reflect.ValueOf(&r).Elem())
	r.Err = errors.New("not carried")
	data, err := bot.EncodeOutgoing(shop, r)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decode(kpi.OutboxItem{Key: "k", Payload: data})
	if err != nil {
		t.Fatal(err)
	}
	r.Err = nil
	if !reflect.DeepEqual(m.Reply, r) || !reflect.DeepEqual(m.Channel, shop) || m.Key != "k" {
		t.Errorf("round trip:\n got %+v %+v\nwant %+v %+v", m.Reply, m.Channel, r, shop)
	}
	if _, err := decode(kpi.OutboxItem{Key: "k", Payload: []byte("{")}); err == nil {
		t.Error("a broken payload decoded")
	}
}

// fill sets every field of v that JSON can carry to something not zero.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s-" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

// Channels with their own digest times: each gets today's digest at its
// time, to the tick, and not before; the default one at 09:00; the 09:00
// job sends no later channel's early; nothing goes twice.
func TestDigestAtChannelTimes(t *testing.T) {
	early := kpi.ChatChannel{Platform: "slack", ID: "C-EARLY", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"}
	late := kpi.ChatChannel{Platform: "slack", ID: "C-LATE", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten"}, DigestAt: "10:15"}
	// A tick every 15 minutes from 08:00: at 08:30, 09:00 (with the 09:00
	// job) and 10:15.
	h := start(t, dbPath(t), jst(2026, 11, 26, 8, 0), []kpi.ChatChannel{early, late, jp}, func(c *Config) { c.Retry = 15 * time.Minute })
	all := func() []string { return append(h.slack.Delivered(), h.line.Delivered()...) }

	h.advanceTo(jst(2026, 11, 26, 8, 29))
	if got := all(); len(got) != 0 || len(h.render.Calls()) != 0 {
		t.Fatalf("before 08:30: delivered %q, rendered %q", got, h.render.Calls())
	}
	h.advanceTo(jst(2026, 11, 26, 8, 30))
	day1 := []string{"digest:2026-11-26:slack:C-EARLY @ 11-26 08:30"}
	sameSet(t, "at 08:30", all(), day1)
	h.advanceTo(jst(2026, 11, 26, 8, 59))
	sameSet(t, "before 09:00", all(), day1)
	h.advanceTo(jst(2026, 11, 26, 9, 0))
	day1 = append(day1, "digest:2026-11-26:line:U-JP @ 11-26 09:00")
	sameSet(t, "at 09:00", all(), day1)
	h.advanceTo(jst(2026, 11, 26, 10, 14))
	sameSet(t, "before 10:15", all(), day1)
	h.advanceTo(jst(2026, 11, 26, 10, 15))
	day1 = append(day1, "digest:2026-11-26:slack:C-LATE @ 11-26 10:15")
	sameSet(t, "at 10:15", all(), day1)

	h.advanceTo(jst(2026, 11, 27, 10, 30))
	sameSet(t, "the next day", all(), append(day1,
		"digest:2026-11-27:slack:C-EARLY @ 11-27 08:30",
		"digest:2026-11-27:line:U-JP @ 11-27 09:00",
		"digest:2026-11-27:slack:C-LATE @ 11-27 10:15"))
	sameSet(t, "rendered", h.render.Calls(), []string{
		"digest 2026-11-26 slack:C-EARLY @ 11-26 08:30",
		"digest 2026-11-26 line:U-JP @ 11-26 09:00",
		"digest 2026-11-26 slack:C-LATE @ 11-26 10:15",
		"digest 2026-11-27 slack:C-EARLY @ 11-27 08:30",
		"digest 2026-11-27 line:U-JP @ 11-27 09:00",
		"digest 2026-11-27 slack:C-LATE @ 11-27 10:15",
	})
	if n := h.pending(); n != 0 {
		t.Errorf("%d pending", n)
	}
}

// With a tick every 7 minutes, a channel's digest comes at the first tick
// at or after its time.
func TestDigestAtWithinATick(t *testing.T) {
	early := kpi.ChatChannel{Platform: "slack", ID: "C-EARLY", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"}
	h := start(t, dbPath(t), jst(2026, 11, 26, 8, 0), []kpi.ChatChannel{early}, func(c *Config) { c.Retry = 7 * time.Minute })
	h.advanceTo(jst(2026, 11, 26, 8, 34)) // ticks at 08:07, 08:14, 08:21, 08:28
	if got := h.slack.Delivered(); len(got) != 0 {
		t.Fatalf("before the first tick after 08:30: %q", got)
	}
	h.advanceTo(jst(2026, 11, 26, 8, 35))
	sameSet(t, "at the tick", h.slack.Delivered(), []string{"digest:2026-11-26:slack:C-EARLY @ 11-26 08:35"})
}

// A restart at 09:05 sends the digest of the channels whose time has
// passed (08:30 and the default), and the 10:15 one's at 10:15; a restart
// after that sends and renders nothing again.
func TestDigestAtRestart(t *testing.T) {
	path := dbPath(t)
	early := kpi.ChatChannel{Platform: "slack", ID: "C-EARLY", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"}
	late := kpi.ChatChannel{Platform: "slack", ID: "C-LATE", Role: kpi.RoleShop, Lang: "ja", DigestAt: "10:15"}
	channels := []kpi.ChatChannel{early, late, jp}

	a := start(t, path, jst(2026, 11, 26, 9, 5), channels, nil) // a tick every 10 minutes
	all := func(h *harness) []string { return append(h.slack.Delivered(), h.line.Delivered()...) }
	caughtUp := []string{
		"digest:2026-11-26:slack:C-EARLY @ 11-26 09:05",
		"digest:2026-11-26:line:U-JP @ 11-26 09:05",
	}
	sameSet(t, "caught up at 09:05", all(a), caughtUp)
	a.advanceTo(jst(2026, 11, 26, 10, 14))
	sameSet(t, "before 10:15", all(a), caughtUp)
	a.advanceTo(jst(2026, 11, 26, 10, 15))
	sameSet(t, "at 10:15", all(a), append(caughtUp, "digest:2026-11-26:slack:C-LATE @ 11-26 10:15"))
	if n := len(a.render.Calls()); n != 3 {
		t.Errorf("rendered %q", a.render.Calls())
	}
	a.stop()

	b := start(t, path, jst(2026, 11, 26, 10, 20), channels, nil)
	b.advanceTo(jst(2026, 11, 26, 11, 0))
	if got := append(b.slack.Calls(), b.line.Calls()...); len(got) != 0 {
		t.Errorf("a second restart sent again at %q", got)
	}
	if got := b.render.Calls(); len(got) != 0 {
		t.Errorf("a second restart rendered again: %q", got)
	}
}

// A channel bound again during the day: moved to a time that has passed,
// it gets the digest at the next tick; moved after it got the digest, it
// does not get it again.
func TestDigestAtRebound(t *testing.T) {
	early := kpi.ChatChannel{Platform: "slack", ID: "C-EARLY", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"}
	late := kpi.ChatChannel{Platform: "slack", ID: "C-LATE", Role: kpi.RoleShop, Lang: "ja", DigestAt: "10:15"}
	h := start(t, dbPath(t), jst(2026, 11, 26, 8, 0), []kpi.ChatChannel{early, late}, func(c *Config) { c.Retry = 15 * time.Minute })
	h.advanceTo(jst(2026, 11, 26, 9, 30))
	early.DigestAt, late.DigestAt = "11:00", "07:00"
	for _, ch := range []kpi.ChatChannel{early, late} {
		if err := h.store.BindChatChannel(context.Background(), ch); err != nil {
			t.Fatal(err)
		}
	}
	h.advanceTo(jst(2026, 11, 26, 12, 0))
	sameSet(t, "slack", h.slack.Delivered(), []string{
		"digest:2026-11-26:slack:C-EARLY @ 11-26 08:30",
		"digest:2026-11-26:slack:C-LATE @ 11-26 09:45",
	})
}

// A channel whose stored time cannot be read gets the digest at the
// default time, and the log says so once.
func TestDigestAtUnreadable(t *testing.T) {
	odd := kpi.ChatChannel{Platform: "slack", ID: "C-ODD", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "25:00"}
	h := start(t, dbPath(t), jst(2026, 11, 26, 8, 0), []kpi.ChatChannel{odd}, func(c *Config) { c.Retry = 10 * time.Minute })
	h.advanceTo(jst(2026, 11, 26, 8, 59))
	if got := h.slack.Delivered(); len(got) != 0 {
		t.Fatalf("before 09:00: %q", got)
	}
	h.advanceTo(jst(2026, 11, 26, 10, 0))
	sameSet(t, "slack", h.slack.Delivered(), []string{"digest:2026-11-26:slack:C-ODD @ 11-26 09:00"})
	if n := h.log.Count("digest time cannot be read"); n != 1 || h.log.Count(`digest_at=25:00`) != 1 {
		t.Errorf("the unreadable time was logged %d times; the log:\n%s", n, h.log.String())
	}
}

// A render that fails for a channel with its own time is tried again after
// its backoff, and does not hold back another channel's digest.
func TestDigestAtRenderRetried(t *testing.T) {
	early := kpi.ChatChannel{Platform: "slack", ID: "C-EARLY", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"}
	next := kpi.ChatChannel{Platform: "slack", ID: "C-NEXT", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:32"}
	var failures atomic.Int32
	h := newHarness(t, dbPath(t), jst(2026, 11, 26, 8, 0), []kpi.ChatChannel{early, next}, func(c *Config) { c.Retry = time.Minute })
	h.render.fail = func(kind string, ch kpi.ChatChannel) error {
		if ch.ID == early.ID && failures.Add(1) <= 3 {
			return errors.New("store busy")
		}
		return nil
	}
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	h.advanceTo(jst(2026, 11, 26, 8, 45))
	// Failed at 08:30, 08:31 (after 1m) and 08:33 (after 2m); made at 08:37 (after 4m).
	if got := filter(h.render.Calls(), "digest 2026-11-26 slack:C-EARLY"); !slices.Equal(got, []string{
		"digest 2026-11-26 slack:C-EARLY @ 11-26 08:30", "digest 2026-11-26 slack:C-EARLY @ 11-26 08:31",
		"digest 2026-11-26 slack:C-EARLY @ 11-26 08:33", "digest 2026-11-26 slack:C-EARLY @ 11-26 08:37"}) {
		t.Errorf("the early channel's digest was rendered %q", got)
	}
	sameSet(t, "slack", h.slack.Delivered(), []string{
		"digest:2026-11-26:slack:C-NEXT @ 11-26 08:32",
		"digest:2026-11-26:slack:C-EARLY @ 11-26 08:37",
	})
}

// listFails is a ChannelLister that fails its first fails calls.
type listFails struct {
	kpi.ChannelLister
	fails atomic.Int32
}

func (l *listFails) ChatChannelList(ctx context.Context) ([]kpi.ChatChannel, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, errors.New("database is locked")
	}
	return l.ChannelLister.ChatChannelList(ctx)
}

// When the channels cannot be listed, the digest waits out a backoff rather
// than trying on every tick.
func TestDigestListingRetried(t *testing.T) {
	var lister *listFails
	h := newHarness(t, dbPath(t), jst(2026, 11, 26, 8, 59), []kpi.ChatChannel{jp}, func(c *Config) {
		c.Retry = time.Minute
		lister = &listFails{ChannelLister: c.Channels}
		c.Channels = lister
	})
	if err := h.s.Start(context.Background()); err != nil { // lists once, fine
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	lister.fails.Store(2)
	// At 09:00 the job or the tick fails, and the other waits: tried again
	// after 1m, and after 2m more.
	h.advanceTo(jst(2026, 11, 26, 9, 5))
	sameSet(t, "line", h.line.Delivered(), []string{"digest:2026-11-26:line:U-JP @ 11-26 09:03"})
	if n := h.log.Count("database is locked"); n != 2 {
		t.Errorf("%d listing failures logged, want 2; the log:\n%s", n, h.log.String())
	}
}

// evaluating reports whether an evaluation is going.
func (h *harness) evaluating() bool {
	h.s.eval.mu.Lock()
	defer h.s.eval.mu.Unlock()
	return h.s.eval.running
}

// evaluations records when Config.Evaluate ran, and fails with err.
type evaluations struct {
	clock clockwork.Clock
	err   error

	mu sync.Mutex
	at []string // "15:04"
}

func (e *evaluations) Evaluate(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.at = append(e.at, e.clock.Now().In(kpi.Tokyo).Format("15:04"))
	return e.err
}

func (e *evaluations) At() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.at)
}

// The evaluation runs at the start and every EvaluateEvery; its errors are
// logged and do not stop it.
func TestEvaluateEvery(t *testing.T) {
	for _, tt := range []struct {
		name  string
		every time.Duration
		err   error
		want  []string
	}{
		{"default", 0, nil, []string{"12:00", "12:05", "12:10", "12:15", "12:20", "12:25", "12:30"}},
		{"every 15 minutes", 15 * time.Minute, nil, []string{"12:00", "12:15", "12:30"}},
		{"failing", 15 * time.Minute, errors.New("alerts: store busy"), []string{"12:00", "12:15", "12:30"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ev *evaluations
			h := start(t, dbPath(t), jst(2026, 11, 26, 12, 0), nil, func(c *Config) {
				ev = &evaluations{clock: c.Clock, err: tt.err}
				c.Evaluate, c.EvaluateEvery = ev.Evaluate, tt.every
			})
			h.eventually("the evaluation at the start", func() bool { return len(ev.At()) == 1 })
			h.advanceTo(jst(2026, 11, 26, 12, 30))
			if got := ev.At(); !slices.Equal(got, tt.want) {
				t.Errorf("evaluated at %q, want %q", got, tt.want)
			}
			want := 0
			if tt.err != nil {
				want = len(tt.want)
			}
			if n := h.log.Count("alerts: store busy"); n != want {
				t.Errorf("%d errors logged, want %d; the log:\n%s", n, want, h.log.String())
			}
		})
	}
}

// Each run of a sync is followed by one evaluation, also when it fails.
func TestEvaluateAfterSync(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"synced", nil},
		{"failed", errors.New("rakuten: 503")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ev *evaluations
			h := start(t, dbPath(t), jst(2026, 11, 26, 12, 0), nil, func(c *Config) {
				ev = &evaluations{clock: c.Clock}
				c.Evaluate, c.EvaluateEvery = ev.Evaluate, 24*time.Hour
				c.Syncs = []Sync{{Name: "rakuten", Every: 10 * time.Minute, Run: func(context.Context) error { return tt.err }}}
			})
			// At the start, the evaluation's own run and the one after the
			// sync: two requests, whichever comes first, make two runs.
			h.eventually("the evaluations at the start", func() bool { return len(ev.At()) == 2 })
			h.eventually("the first sync", func() bool { return h.finished("sync:rakuten") == 1 })
			for i, at := range []time.Time{jst(2026, 11, 26, 12, 10), jst(2026, 11, 26, 12, 20)} {
				h.advanceTo(at)
				h.eventually("the evaluation after the sync", func() bool { return len(ev.At()) == 3+i })
			}
			h.stop() // waits for the evaluations: nothing more comes
			if got, want := ev.At(), []string{"12:00", "12:00", "12:10", "12:20"}; !slices.Equal(got, want) {
				t.Errorf("evaluated at %q, want %q", got, want)
			}
			want := 0
			if tt.err != nil {
				want = 3
			}
			if n := h.log.Count("rakuten: 503"); n != want {
				t.Errorf("the sync's error was logged %d times, want %d", n, want)
			}
		})
	}
}

// The evaluations asked for while one runs make exactly one more run after
// it, never two runs at once.
func TestEvaluateCoalesces(t *testing.T) {
	for _, tt := range []struct {
		burst int // requests while the first run blocks
		want  int32
	}{
		{0, 1},
		{1, 2},
		{50, 2},
	} {
		t.Run(fmt.Sprint(tt.burst), func(t *testing.T) {
			var runs, running, most atomic.Int32
			release := make(chan struct{})
			h := start(t, dbPath(t), jst(2026, 11, 26, 12, 0), nil, func(c *Config) {
				c.EvaluateEvery = time.Hour
				c.Evaluate = func(ctx context.Context) error {
					runs.Add(1)
					n := running.Add(1)
					defer running.Add(-1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					select {
					case <-release:
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			})
			h.eventually("the evaluation at the start", func() bool { return running.Load() == 1 })
			var burst sync.WaitGroup
			for range tt.burst {
				burst.Go(func() { h.s.eval.run(h.s.ctx) })
			}
			burst.Wait() // each returned at once: a run is going
			for i := range tt.want {
				h.eventually("a run to block", func() bool { return runs.Load() == i+1 && running.Load() == 1 })
				release <- struct{}{}
			}
			// A run more would block, and the evaluation runner would never be idle.
			h.eventually("the evaluations to end", func() bool { return !h.evaluating() })
			if n := runs.Load(); n != tt.want {
				t.Errorf("%d runs, want %d", n, tt.want)
			}
			if m := most.Load(); m != 1 {
				t.Errorf("%d evaluations ran at once", m)
			}
		})
	}
}

// Stop returns promptly while an evaluation blocks on its context, whether
// the evaluation's own job or a sync started it, and not before it returned.
func TestStopWhileEvaluating(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sync  bool  // the blocked evaluation is the one after a sync
		calls int32 // evaluations in all
	}{
		{"periodic", false, 1},
		{"after a sync", true, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var calls, blocked atomic.Int32
			var cancelled atomic.Bool
			ended := make(chan error, 1)
			synced, finish := make(chan struct{}), make(chan struct{})
			h := newHarness(t, dbPath(t), jst(2026, 11, 26, 12, 0), nil, func(c *Config) {
				c.EvaluateEvery = time.Hour
				c.Evaluate = func(ctx context.Context) error {
					if calls.Add(1) == 1 && tt.sync {
						return nil // the start's: the one after the sync blocks
					}
					blocked.Add(1)
					<-ctx.Done()
					cancelled.Store(true)
					<-finish // the test looks at Stop meanwhile
					ended <- ctx.Err()
					return ctx.Err()
				}
				if tt.sync {
					c.Syncs = []Sync{{Name: "amazon", Every: time.Hour, Run: func(ctx context.Context) error {
						select {
						case <-synced:
							return nil
						case <-ctx.Done():
							return ctx.Err()
						}
					}}}
				}
			})
			if err := h.s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(h.stop)
			if tt.sync {
				h.eventually("the evaluation at the start", func() bool { return calls.Load() == 1 && !h.evaluating() })
				close(synced)
			}
			h.eventually("an evaluation to block", func() bool { return blocked.Load() == 1 })
			stopped := make(chan error, 1)
			go func() { stopped <- h.s.Stop() }()
			h.eventually("the evaluation to be cancelled", cancelled.Load)
			select {
			case err := <-stopped:
				close(finish)
				t.Fatalf("Stop returned (%v) before the evaluation", err)
			default:
			}
			close(finish)
			select {
			case err := <-stopped:
				if err != nil {
					t.Fatalf("Stop: %v", err)
				}
			case <-time.After(wait):
				t.Fatal("Stop did not return")
			}
			select {
			case err := <-ended:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("the evaluation ended with %v", err)
				}
			default:
				t.Error("Stop returned before the evaluation")
			}
			if n := calls.Load(); n != tt.calls {
				t.Errorf("%d evaluations, want %d", n, tt.calls)
			}
		})
	}
}

// elector is a fake Config.Elector: the replica leads while lead is set.
type elector struct{ lead atomic.Bool }

func (e *elector) IsLeader(context.Context) error {
	if e.lead.Load() {
		return nil
	}
	return errors.New("another replica leads")
}

func leader(lead bool) *elector {
	e := &elector{}
	e.lead.Store(lead)
	return e
}

// enqueueAlert puts in the outbox a message another part of kpibot (the
// alerts, on any replica) made, due at now.
func (h *harness) enqueueAlert(ch kpi.ChatChannel, day kpi.Date) {
	h.t.Helper()
	key := fmt.Sprintf("alert:%s:%s:%s", day, ch.Platform, ch.ID)
	data, err := bot.EncodeOutgoing(ch, bot.Reply{Title: title("alert", day, ch), Text: "alert", Lang: "ja"})
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.clock.Now()
	if _, err := h.store.Enqueue(context.Background(), kpi.OutboxItem{Key: key, Platform: ch.Platform, Channel: ch.ID,
		Payload: data, NextTry: now, Created: now}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) delivered() []string { return append(h.slack.Delivered(), h.line.Delivered()...) }

// A follower does nothing at all — no catch-up at the start, no report, no
// flush of what is in the outbox, no sync, no evaluation — until it leads;
// then, at the outbox's next tick, it catches up as a restart would: the
// day's digest, the review of the day, the outbox, and at once the sync
// and the evaluation that fell due meanwhile.
func TestFollowerDoesNothingUntilItLeads(t *testing.T) {
	var syncs atomic.Int32
	var ev *evaluations
	el := leader(false)
	h := newHarness(t, dbPath(t), jst(2026, 11, 30, 9, 30), []kpi.ChatChannel{hq, jp, shop}, func(c *Config) { // a Monday
		ev = &evaluations{clock: c.Clock}
		c.Evaluate, c.EvaluateEvery = ev.Evaluate, time.Hour
		c.Syncs = []Sync{{Name: "rakuten", Every: time.Hour, Run: func(context.Context) error { syncs.Add(1); return nil }}}
		c.Elector = el
	})
	h.enqueueAlert(hq, kpi.DateOf(h.clock.Now()))
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	h.advanceTo(jst(2026, 11, 30, 10, 35)) // past the digest's 09:00 and the weekly review's 10:00
	if got := h.render.Calls(); len(got) != 0 {
		t.Errorf("a follower rendered %q", got)
	}
	if got := append(h.slack.Calls(), h.line.Calls()...); len(got) != 0 {
		t.Errorf("a follower sent at %q", got)
	}
	if n := h.pending(); n != 1 {
		t.Errorf("%d pending, want the alert", n)
	}
	if n := syncs.Load(); n != 0 {
		t.Errorf("a follower synced %d times", n)
	}
	if got := ev.At(); len(got) != 0 {
		t.Errorf("a follower evaluated at %q", got)
	}
	if h.log.Count("following") != 1 {
		t.Errorf("the following was not logged once; the log:\n%s", h.log.String())
	}

	el.lead.Store(true)
	h.advanceTo(jst(2026, 11, 30, 10, 40)) // the outbox's tick
	sameSet(t, "sent by the new leader", h.delivered(), []string{
		"alert:2026-11-30:slack:C-HQ @ 11-30 10:40",
		"digest:2026-11-30:slack:C-HQ @ 11-30 10:40",
		"digest:2026-11-30:slack:C-SHOP @ 11-30 10:40",
		"digest:2026-11-30:line:U-JP @ 11-30 10:40",
		"weekly:2026-11-30:slack:C-HQ @ 11-30 10:40",
		"weekly:2026-11-30:slack:C-SHOP @ 11-30 10:40",
	})
	h.eventually("the sync run at once", func() bool { return syncs.Load() == 1 })
	h.eventually("the evaluation", func() bool { return len(ev.At()) > 0 })
	h.stop() // waits for the evaluations
	for _, at := range ev.At() {
		if at != "10:40" {
			t.Errorf("evaluated at %q, want at 10:40 only", ev.At())
			break
		}
	}
	if h.log.Count("leading") != 1 {
		t.Errorf("the leadership was not logged once; the log:\n%s", h.log.String())
	}
}

// A leader that comes to follow stops sending — the reports and what is in
// the outbox — and, leading again, catches up.
func TestLeaderComesToFollow(t *testing.T) {
	el := leader(true)
	h := start(t, dbPath(t), jst(2026, 11, 26, 8, 59), []kpi.ChatChannel{hq, jp}, func(c *Config) { c.Elector = el }) // Thursday
	h.advanceTo(jst(2026, 11, 26, 9, 30))
	day1 := []string{
		"digest:2026-11-26:slack:C-HQ @ 11-26 09:00",
		"digest:2026-11-26:line:U-JP @ 11-26 09:00",
	}
	sameSet(t, "the leader's", h.delivered(), day1)

	el.lead.Store(false)
	h.enqueueAlert(jp, kpi.DateOf(h.clock.Now()))
	h.advanceTo(jst(2026, 11, 27, 9, 30))
	sameSet(t, "after it came to follow", h.delivered(), day1)
	if got := filter(h.render.Calls(), "digest 2026-11-27"); len(got) != 0 {
		t.Errorf("a follower rendered %q", got)
	}
	if n := h.pending(); n != 1 {
		t.Errorf("%d pending, want the alert", n)
	}

	el.lead.Store(true)
	h.advanceTo(jst(2026, 11, 27, 9, 39)) // the outbox's tick: every 10 minutes from 08:59
	sameSet(t, "leading again", h.delivered(), append(slices.Clone(day1),
		"alert:2026-11-26:line:U-JP @ 11-27 09:39",
		"digest:2026-11-27:slack:C-HQ @ 11-27 09:39",
		"digest:2026-11-27:line:U-JP @ 11-27 09:39",
	))
	if h.log.Count("following") != 1 || h.log.Count("leading") != 2 { // at the start, and again
		t.Errorf("the changes were not logged once each; the log:\n%s", h.log.String())
	}
}

// Two replicas on one store: the leader sends the day's digest and dies
// with an alert in the outbox; the other, leading a few minutes later,
// sends the weekly review that came due meanwhile and the alert, and not
// the digest again. Every message goes out once.
func TestFailover(t *testing.T) {
	path := dbPath(t)
	channels := []kpi.ChatChannel{hq, jp, shop}
	elA, elB := leader(true), leader(false)
	a := start(t, path, jst(2026, 11, 30, 9, 55), channels, func(c *Config) { c.Elector = elA }) // a Monday
	b := start(t, path, jst(2026, 11, 30, 9, 55), channels, func(c *Config) { c.Elector = elB })
	a.advanceTo(jst(2026, 11, 30, 9, 57))
	a.enqueueAlert(shop, kpi.DateOf(a.clock.Now()))
	a.stop() // it dies; its lock goes

	b.advanceTo(jst(2026, 11, 30, 10, 2)) // the weekly review's 10:00 passes: b follows
	if got := b.delivered(); len(got) != 0 {
		t.Fatalf("the follower sent %q", got)
	}
	elB.lead.Store(true)
	b.advanceTo(jst(2026, 11, 30, 10, 5)) // b's tick
	sameSet(t, "sent by both", append(a.delivered(), b.delivered()...), []string{
		"digest:2026-11-30:slack:C-HQ @ 11-30 09:55",
		"digest:2026-11-30:slack:C-SHOP @ 11-30 09:55",
		"digest:2026-11-30:line:U-JP @ 11-30 09:55",
		"alert:2026-11-30:slack:C-SHOP @ 11-30 10:05",
		"weekly:2026-11-30:slack:C-HQ @ 11-30 10:05",
		"weekly:2026-11-30:slack:C-SHOP @ 11-30 10:05",
	})
	if got := filter(b.render.Calls(), "digest"); len(got) != 0 {
		t.Errorf("the new leader rendered the digest again: %q", got)
	}
	if n := b.pending(); n != 0 {
		t.Errorf("%d pending", n)
	}
}

// The evaluation that follows a sync is skipped when the replica no longer
// leads as the sync ends; leading again, it evaluates at once.
func TestFollowerSkipsEvaluationAfterSync(t *testing.T) {
	el := leader(true)
	var ev *evaluations
	release := make(chan struct{})
	var syncing atomic.Bool
	h := start(t, dbPath(t), jst(2026, 11, 26, 12, 0), nil, func(c *Config) {
		ev = &evaluations{clock: c.Clock}
		c.Evaluate, c.EvaluateEvery = ev.Evaluate, time.Hour
		c.Syncs = []Sync{{Name: "rakuten", Every: time.Hour, Run: func(ctx context.Context) error {
			syncing.Store(true)
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}}
		c.Elector = el
	})
	h.eventually("the evaluation at the start", func() bool { return len(ev.At()) == 1 && !h.evaluating() })
	h.eventually("the sync at the start", syncing.Load)
	el.lead.Store(false)
	close(release)
	h.eventually("the evaluation after the sync to be skipped", func() bool { return h.log.Count("evaluate skipped") == 1 })
	if got := ev.At(); len(got) != 1 {
		t.Errorf("evaluated at %q, want at the start only", got)
	}
	el.lead.Store(true)
	h.advanceTo(jst(2026, 11, 26, 12, 10)) // the outbox's tick catches up
	h.eventually("the evaluation caught up", func() bool { return len(ev.At()) == 2 })
	if got, want := ev.At(), []string{"12:00", "12:10"}; !slices.Equal(got, want) {
		t.Errorf("evaluated at %q, want %q", got, want)
	}
}

// FlushSoon sends what is in the outbox now, not at the next tick (10
// minutes away on the fake clock, which stands still); the messages an
// evaluation queues go out after it the same way. Before Start it does
// nothing.
func TestFlushSoon(t *testing.T) {
	day := kpi.DateOf(jst(2026, 11, 26, 8, 0)) // before the digest's time: no catch-up
	var evaluate atomic.Pointer[func()]
	h := newHarness(t, dbPath(t), jst(2026, 11, 26, 8, 0), []kpi.ChatChannel{hq, jp}, func(c *Config) {
		c.EvaluateEvery = time.Hour
		c.Evaluate = func(context.Context) error {
			if f := evaluate.Load(); f != nil {
				(*f)()
			}
			return nil
		}
	})
	h.enqueueAlert(hq, day)
	h.s.FlushSoon() // not started: nothing
	time.Sleep(50 * time.Millisecond)
	if got := h.delivered(); len(got) != 0 {
		t.Fatalf("delivered before Start: %q", got)
	}
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	h.eventually("the start's flush", func() bool { return len(h.delivered()) == 1 })

	h.enqueueAlert(jp, day) // as an acknowledgement from chat does
	h.s.FlushSoon()
	h.eventually("the message queued from chat", func() bool { return len(h.delivered()) == 2 })

	next := day + 1
	queue := func() { h.enqueueAlert(hq, next) }
	evaluate.Store(&queue)
	h.s.eval.run(h.s.ctx)
	h.eventually("the message the evaluation queued", func() bool { return len(h.delivered()) == 3 })
	if n := h.pending(); n != 0 {
		t.Errorf("%d pending, want none", n)
	}
}

// blockingSender delivers its messages only once release is closed;
// started is closed when it is first asked.
type blockingSender struct {
	once     sync.Once
	started  chan struct{}
	release  chan struct{}
	mu       sync.Mutex
	received []string
}

func (s *blockingSender) Send(_ context.Context, msgs []Message) ([]string, error) {
	s.once.Do(func() { close(s.started) })
	<-s.release
	var keys []string
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.received = append(s.received, m.Key)
		keys = append(keys, m.Key)
	}
	return keys, nil
}

// A flush renews the lease of what it claimed while it delivers, so a
// slow batch is never taken by another sender; a sender that died (a
// claim never delivered) leaves its items to be taken again once the
// short lease ends, not ten minutes later.
func TestLeaseRenewedWhileSending(t *testing.T) {
	start := jst(2026, 11, 26, 8, 0)
	slow := &blockingSender{started: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, dbPath(t), start, []kpi.ChatChannel{hq, jp}, func(c *Config) {
		c.Senders = map[string]Sender{"slack": slow, "line": slow}
	})
	ctx := context.Background()
	day := kpi.DateOf(start)
	h.enqueueAlert(hq, day)
	flushed := make(chan error, 1)
	go func() { flushed <- h.s.Flush(ctx) }()
	<-slow.started
	// Five minutes of a stuck send, in steps of the renewal: the lease is
	// renewed each time, and nobody else may claim the message.
	for range 8 {
		h.timers(1) // the renewal's ticker
		h.clock.Advance(claimLease / 3)
		want := h.clock.Now().Add(claimLease).Truncate(time.Second)
		h.eventually("the lease to be renewed", func() bool {
			it, _, err := h.store.Item(ctx, "alert:"+day.String()+":slack:"+hq.ID)
			return err == nil && it.NextTry.Equal(want)
		})
		if items, err := h.store.Claim(ctx, h.clock.Now(), claimLease, 10); err != nil || len(items) != 0 {
			t.Fatalf("another sender claimed %d items %v after %v, while the first still sends", len(items), err, h.clock.Since(start))
		}
	}
	close(slow.release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if n := h.pending(); n != 0 || len(slow.received) != 1 {
		t.Errorf("%d pending, %d sent; want the message sent once", n, len(slow.received))
	}

	// A sender that claimed and died: its item is free again after the
	// lease, and a flush then delivers it.
	h.enqueueAlert(jp, day)
	if items, err := h.store.Claim(ctx, h.clock.Now(), claimLease, 10); err != nil || len(items) != 1 {
		t.Fatalf("claim: %d items, %v", len(items), err)
	}
	h.clock.Advance(claimLease - time.Second)
	if err := h.s.Flush(ctx); err != nil || len(slow.received) != 1 {
		t.Fatalf("a flush within the dead sender's lease sent %d, %v; want nothing more", len(slow.received), err)
	}
	h.clock.Advance(time.Second)
	if err := h.s.Flush(ctx); err != nil || len(slow.received) != 2 || h.pending() != 0 {
		t.Errorf("a flush after the dead sender's lease: %d sent, %d pending, %v; want it sent", len(slow.received), h.pending(), err)
	}
}

// slowBatches is a Sender whose first batch takes three minutes on the
// fake clock, and which, during the next, has another sender try to claim.
type slowBatches struct {
	h       *harness
	calls   int
	claimed int // what the other sender got during the second batch
	sent    int
}

func (s *slowBatches) Send(ctx context.Context, msgs []Message) ([]string, error) {
	s.calls++
	switch s.calls {
	case 1:
		s.h.clock.Advance(3 * time.Minute)
	case 2:
		items, err := s.h.store.Claim(ctx, s.h.clock.Now(), claimLease, 1000)
		if err != nil {
			return nil, err
		}
		s.claimed = len(items)
	}
	var keys []string
	for _, m := range msgs {
		keys = append(keys, m.Key)
	}
	s.sent += len(keys)
	return keys, nil
}

// The batches after a slow first one are leased from when they are
// claimed, not from when the flush began: another sender cannot take them
// while they are being sent.
func TestLaterBatchesLeasedFromTheirClaim(t *testing.T) {
	start := jst(2026, 11, 26, 8, 0)
	h := newHarness(t, dbPath(t), start, []kpi.ChatChannel{hq}, nil)
	sender := &slowBatches{h: h}
	h.s.c.Senders = map[string]Sender{"slack": sender}
	ctx := context.Background()
	for i := range batch + 50 {
		data, err := bot.EncodeOutgoing(hq, bot.Reply{Text: fmt.Sprint(i), Lang: "zh"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.Enqueue(ctx, kpi.OutboxItem{Key: fmt.Sprintf("alert:%03d:slack:%s", i, hq.ID), Platform: "slack",
			Channel: hq.ID, Payload: data, NextTry: start, Created: start.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if sender.calls != 2 || sender.sent != batch+50 || sender.claimed != 0 || h.pending() != 0 {
		t.Errorf("%d batches, %d sent, %d claimed by another sender during the second, %d pending; want 2, %d, 0, 0",
			sender.calls, sender.sent, sender.claimed, h.pending(), batch+50)
	}
}
