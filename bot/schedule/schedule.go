// Package schedule runs kpibot's timed work on gocron: every bound channel's
// daily digest, at the channel's own time, and weekly and monthly reviews,
// exactly once through a persistent outbox; the connectors' syncs; and the
// alert evaluation, every few minutes and right after each sync. With
// several replicas, only the one an Elector names leader does any of it.
package schedule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
)

// Report names a scheduled report; the names are bot's report kinds.
type Report string

// The reports.
const (
	Digest  Report = bot.ReportDigest  // every day at the channel's DigestAt, else Config.DigestAt
	Weekly  Report = bot.ReportWeekly  // on WeeklyOn (Mondays) at WeeklyAt (ReviewAt)
	Monthly Report = bot.ReportMonthly // on MonthlyOn (the 1st) at MonthlyAt (ReviewAt)
)

// reports lists the reports in the order a catch-up enqueues them.
var reports = []Report{Digest, Weekly, Monthly}

// Renderer builds a report for a channel and the JST day it is sent on
// (the digest sent on d covers d-1, but that is the renderer's business, as
// is the language). *bot.Bot is one.
type Renderer interface {
	Report(ctx context.Context, kind string, ch kpi.ChatChannel, day kpi.Date) (bot.Reply, error)
}

// Sender delivers the rendered messages of one platform. It returns the keys
// of the messages it delivered, also when it fails part way; the others stay
// in the outbox and are tried again later.
type Sender interface {
	Send(ctx context.Context, msgs []Message) (sent []string, err error)
}

// EachSender is a Sender that tells of each message as it is delivered:
// Flush then marks it sent at once, rather than when the batch is over, so
// that a replica that dies in the middle of a batch leaves only the message
// in flight to be sent again, not every message it had sent. It is for a
// platform that takes no idempotency key (Slack); with one (LINE's retry
// key), sending again is harmless. Flush calls SendEach instead of Send;
// delivered may be called from any goroutine until SendEach returns, with
// the platform's reference to the message (Slack's ts, what an edit of it
// names; "" for none), and the messages not reported are tried again later.
type EachSender interface {
	Sender
	SendEach(ctx context.Context, msgs []Message, delivered func(key, ref string)) error
}

// Message is a rendered report for one channel. Key is unique per report,
// day and channel: a platform that takes an idempotency key (LINE's retry
// key) can derive it from Key.
type Message struct {
	Key     string
	Channel kpi.ChatChannel // the channel's binding when the report was made
	Reply   bot.Reply       // Reply.Err is always nil
}

// Sync is a connector's periodic pull. A run that takes longer than Every
// is never run twice at once: the runs that fall due meanwhile are skipped.
// Each run, failed or not, is followed by Config.Evaluate.
type Sync struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Config is what a Scheduler works with.
type Config struct {
	Channels kpi.ChannelLister
	Outbox   kpi.Outbox
	Renderer Renderer
	Senders  map[string]Sender // by platform: "slack", "line"
	Clock    clockwork.Clock   // nil: the real clock
	Log      *slog.Logger      // nil: no logs
	DigestAt time.Duration     // since midnight JST, for the channels without their own time; 0: kpi.DefaultDigestAt (9h)
	ReviewAt time.Duration     // since midnight JST; 0: 10h
	// WeeklyOn is the weekly review's day, 1 (Monday) to 7 (Sunday); 0:
	// Monday. WeeklyAt is its time since midnight JST; 0: ReviewAt. The
	// review is of the last whole week, Monday to Sunday, before that day.
	WeeklyOn int
	WeeklyAt time.Duration
	// MonthlyOn is the monthly review's day of the month, 1 to 28 (every
	// month has it); 0: the 1st. MonthlyAt is its time since midnight JST;
	// 0: ReviewAt. The review is of the month before.
	MonthlyOn int
	MonthlyAt time.Duration

	Retry time.Duration // how often the outbox is flushed and the channels' digest times looked at; 0: 30s
	Syncs []Sync

	// Evaluate judges the data: kpibot's alert evaluation. It runs at the
	// start, every EvaluateEvery, and right after each sync's run returns,
	// failed or not (a connector that fails is what the freshness alert is
	// for). Never two runs at once: the runs asked for while one is going
	// make one more run after it. Its errors are logged. nil: none.
	Evaluate      func(ctx context.Context) error
	EvaluateEvery time.Duration // 0: 5 minutes

	// Elector, with several replicas, names the one that runs the jobs
	// (kpi/postgres's Elector); nil: this one always does. Each job asks it
	// as it starts, so it should answer at once. A follower does nothing:
	// no job, no catch-up, no flush of the outbox, no evaluation. A replica
	// that comes to lead after following, or after starting as a follower,
	// catches up at its outbox's next tick (or report job) as a restart
	// does: the reports whose time in their current period has passed,
	// then the outbox; and it runs at once the syncs and the evaluation
	// that fell due while it followed. The outbox's keys keep what the last
	// leader enqueued from being made again. Flush and Enqueue, called
	// directly, do not ask it.
	Elector gocron.Elector
}

// Scheduler enqueues the reports when they are due, delivers the outbox and
// runs the syncs and the evaluation.
type Scheduler struct {
	c     Config
	clock clockwork.Clock
	log   *slog.Logger
	cron  gocron.Scheduler
	jobs  map[string]gocron.Job // by name: digest, weekly, monthly, outbox, evaluate, sync:<name>
	ctx   context.Context       // the jobs' context, cancelled by Stop
	stop  context.CancelFunc
	ran   func(job string) // called after each run of a job, also as a follower; for tests
	eval  *runner          // nil without Config.Evaluate
	soon  *runner          // FlushSoon's flushes

	stopOnce sync.Once
	stopErr  error

	flushing sync.Mutex // one Flush at a time, so that no item is sent twice

	// enqueuing lets one enqueue run at a time, so that a report's job and
	// the tick that come together do not render a report twice; it guards
	// keys and warned.
	enqueuing sync.Mutex
	keys      map[string]keyState // by outbox key, for the reports' current occurrences
	warned    map[string]string   // by platform:id, a channel's DigestAt that was logged as unreadable

	// behind is set while the catch-up is to be done: from the start, and
	// whenever this replica is found not to lead. catching lets one
	// catch-up run at a time. role is what was last logged of leadership.
	behind   atomic.Bool
	catching sync.Mutex
	role     atomic.Int32

	mu      sync.Mutex
	started bool
	retry   map[Report]retry // reports that some channels did not get yet
	missed  map[string]bool  // by job name: the jobs skipped while following
}

// The roles logged.
const (
	leading   = 1
	following = 2
)

// retry is a report that could not be made for every channel it goes to: it
// is enqueued again on the outbox's tick, once next has come, while it is
// the report's current occurrence. (The digest is looked at on every tick
// anyway: its channels each have their time.)
type retry struct {
	day      kpi.Date
	listing  bool // the channels could not be listed: next is a backoff of the report's
	attempts int  // how many times in a row they could not be listed, less one
	next     time.Time
}

// keyState is what enqueue knows of one report to one channel on one day,
// so that the tick need not ask the outbox about every channel every time:
// whether it is in the outbox, or else how often it could not be made and
// when it may be tried again.
type keyState struct {
	r        Report
	day      kpi.Date
	done     bool
	attempts int
	next     time.Time
}

// New checks c, fills in its defaults and sets the jobs up; Start starts them.
func New(c Config) (*Scheduler, error) {
	if c.Channels == nil || c.Outbox == nil || c.Renderer == nil {
		return nil, errors.New("schedule: channels, an outbox and a renderer are required")
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.DigestAt = cmp.Or(c.DigestAt, kpi.DefaultDigestAt)
	c.ReviewAt = cmp.Or(c.ReviewAt, 10*time.Hour)
	c.WeeklyOn = cmp.Or(c.WeeklyOn, 1)
	c.WeeklyAt = cmp.Or(c.WeeklyAt, c.ReviewAt)
	c.MonthlyOn = cmp.Or(c.MonthlyOn, 1)
	c.MonthlyAt = cmp.Or(c.MonthlyAt, c.ReviewAt)
	c.Retry = cmp.Or(c.Retry, 30*time.Second)
	c.EvaluateEvery = cmp.Or(c.EvaluateEvery, 5*time.Minute)
	for name, at := range map[string]time.Duration{"DigestAt": c.DigestAt, "ReviewAt": c.ReviewAt, "WeeklyAt": c.WeeklyAt,
		"MonthlyAt": c.MonthlyAt} {
		if at < 0 || at >= 24*time.Hour || at%time.Second != 0 {
			return nil, fmt.Errorf("schedule: %s %v: want whole seconds within a day", name, at)
		}
	}
	if c.WeeklyOn < 1 || c.WeeklyOn > 7 {
		return nil, fmt.Errorf("schedule: WeeklyOn %d: want 1 (Monday) to 7 (Sunday)", c.WeeklyOn)
	}
	if c.MonthlyOn < 1 || c.MonthlyOn > 28 {
		return nil, fmt.Errorf("schedule: MonthlyOn %d: want a day from 1 to 28", c.MonthlyOn)
	}
	if c.Retry < 0 {
		return nil, fmt.Errorf("schedule: Retry %v: want a positive duration", c.Retry)
	}
	if c.EvaluateEvery < 0 {
		return nil, fmt.Errorf("schedule: EvaluateEvery %v: want a positive duration", c.EvaluateEvery)
	}
	s := &Scheduler{c: c, clock: c.Clock, log: c.Log, jobs: map[string]gocron.Job{}, retry: map[Report]retry{},
		keys: map[string]keyState{}, warned: map[string]string{}, missed: map[string]bool{}}
	s.behind.Store(true)
	// The jobs ask Config.Elector themselves (see add), rather than through
	// gocron.WithDistributedElector: gocron (v2.21) keeps every run its
	// elector skips in the job's next runs, for good, so that a follower's
	// list grows by a run per tick and NextRun says a time long past.
	cron, err := gocron.NewScheduler(
		gocron.WithLocation(kpi.Tokyo),
		gocron.WithClock(c.Clock),
		gocron.WithLogger(c.Log),
		gocron.WithMonitor(skips{c.Log}),
	)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	s.cron = cron
	s.soon = &runner{name: "flush", clock: c.Clock, log: c.Log,
		fn: func(ctx context.Context) error { return s.flushWhile(ctx, nil) }}
	if c.Evaluate != nil {
		// What an evaluation queues (an alert opened, updated, resolved)
		// goes out at once, not at the next flush.
		s.eval = &runner{name: "evaluate", clock: c.Clock, log: c.Log,
			fn:    func(ctx context.Context) error { defer s.FlushSoon(); return c.Evaluate(ctx) },
			leads: func(ctx context.Context) bool { return s.leads(ctx, "evaluate") }}
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	if err := s.addJobs(); err != nil {
		s.stop()
		cron.Shutdown()
		return nil, err
	}
	return s, nil
}

// addJobs sets up the jobs: the reports at their times in JST (the digest
// at Config.DigestAt, for the channels without their own time), the outbox
// every Retry (with the digests of the channels whose time has come), the
// evaluation every EvaluateEvery and each sync every Every, both from the
// start on.
func (s *Scheduler) addJobs() error {
	at := func(d time.Duration) gocron.AtTimes {
		return gocron.NewAtTimes(gocron.NewAtTime(uint(d/time.Hour), uint(d%time.Hour/time.Minute), uint(d%time.Minute/time.Second)))
	}
	if err := s.add("digest", gocron.DailyJob(1, at(s.c.DigestAt)), s.reportJob(Digest)); err != nil {
		return err
	}
	weekday := time.Weekday(s.c.WeeklyOn % 7) // 7: Sunday
	if err := s.add("weekly", gocron.WeeklyJob(1, gocron.NewWeekdays(weekday), at(s.c.WeeklyAt)), s.reportJob(Weekly)); err != nil {
		return err
	}
	if err := s.add("monthly", gocron.MonthlyJob(1, gocron.NewDaysOfTheMonth(s.c.MonthlyOn), at(s.c.MonthlyAt)), s.reportJob(Monthly)); err != nil {
		return err
	}
	// Not a singleton: gocron would skip a tick that comes as the previous
	// one returns; Flush runs one at a time anyway.
	if err := s.add("outbox", gocron.DurationJob(s.c.Retry), s.tick); err != nil {
		return err
	}
	// Not a singleton either: a tick that comes while an evaluation runs
	// asks for one more after it rather than being skipped.
	if s.eval != nil {
		if err := s.add("evaluate", gocron.DurationJob(s.c.EvaluateEvery), s.eval.run,
			gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
			return err
		}
	}
	for _, y := range s.c.Syncs {
		if y.Name == "" || y.Every <= 0 || y.Run == nil {
			return fmt.Errorf("schedule: sync %q: want a name, a positive interval and a function", y.Name)
		}
		if _, dup := s.jobs["sync:"+y.Name]; dup {
			return fmt.Errorf("schedule: sync %q twice", y.Name)
		}
		if err := s.add("sync:"+y.Name, gocron.DurationJob(y.Every), s.syncJob(y), gocron.WithSingletonMode(gocron.LimitModeReschedule),
			gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
			return err
		}
	}
	return nil
}

// add adds a job whose function gets the jobs' context, does nothing but
// note that it was skipped unless this replica leads, logs its panics
// rather than dying of them, and reports its end to s.ran.
func (s *Scheduler) add(name string, def gocron.JobDefinition, run func(context.Context), opts ...gocron.JobOption) error {
	task := func(ctx context.Context) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("schedule: job panicked", "job", name, "panic", p)
			}
			if s.ran != nil {
				s.ran(name)
			}
		}()
		if !s.leads(ctx, name) {
			return
		}
		s.mu.Lock()
		delete(s.missed, name) // it runs now
		s.mu.Unlock()
		run(ctx)
	}
	j, err := s.cron.NewJob(def, gocron.NewTask(task), append(opts, gocron.WithName(name), gocron.WithContext(s.ctx))...)
	if err != nil {
		return fmt.Errorf("schedule: job %s: %w", name, err)
	}
	s.jobs[name] = j
	return nil
}

// Start starts the jobs, then catches up: today's digest is enqueued for
// the channels whose time today has passed, and each review whose time in
// the current period (the last WeeklyOn's WeeklyAt, the last MonthlyOn's
// MonthlyAt) has passed is enqueued for that day — which enqueues nothing
// for the channels that have it already — and the outbox is flushed. It returns
// when the catch-up is done; its failures are logged and retried like
// those of the jobs. Cancelling ctx stops the jobs, as Stop does. A
// follower does not catch up: it does when it comes to lead.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("schedule: started twice")
	}
	s.started = true
	s.mu.Unlock()
	if s.ctx.Err() != nil {
		return errors.New("schedule: start after stop")
	}
	context.AfterFunc(ctx, s.stop)
	s.cron.Start()
	s.takeOver(ctx)
	s.flush(ctx)
	return nil
}

// FlushSoon has the outbox flushed now, in the background, rather than at
// the next tick: for a message that should not wait up to Config.Retry,
// such as the news that an alert was acknowledged from chat. It flushes
// on a replica that does not lead too, since the acknowledgement may have
// come to it: the claims keep two senders from taking the same message.
// Requests that come while a flush runs make one more flush after it.
// Before Start and after Stop it does nothing.
func (s *Scheduler) FlushSoon() {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		s.soon.runAsync(s.ctx)
	}
}

// leads reports whether this replica leads: always without an elector.
// When it does not, job, if not "", is remembered as missed, and the
// catch-up is to be done again when it comes to lead.
func (s *Scheduler) leads(ctx context.Context, job string) bool {
	if s.c.Elector == nil {
		return true
	}
	if err := s.c.Elector.IsLeader(ctx); err != nil {
		s.follow(job)
		return false
	}
	return true
}

// follow notes that this replica does not lead and that job (if not "")
// was skipped for it, and logs the change.
func (s *Scheduler) follow(job string) {
	s.behind.Store(true)
	if job != "" {
		s.mu.Lock()
		s.missed[job] = true
		s.mu.Unlock()
	}
	if s.role.Swap(following) != following {
		s.log.Info("schedule: following: another replica runs the jobs")
	}
}

// takeOver catches up, at the start and after a time this replica
// followed, if it leads: it runs at once the syncs and the evaluation skipped meanwhile (their
// jobs' next runs stay as they were), and enqueues each report's current
// occurrence whose time has passed, no more than catchUp days ago — for
// the channels that do not have it yet. Its caller flushes the outbox.
// One catch-up runs at a time; the others wait for it.
func (s *Scheduler) takeOver(ctx context.Context) {
	s.catching.Lock()
	defer s.catching.Unlock()
	// behind is cleared first: a replica found to follow during the
	// catch-up sets it again, and catches up again when it leads.
	if !s.behind.Swap(false) || !s.leads(ctx, "") {
		return
	}
	if s.c.Elector != nil && s.role.Swap(leading) != leading {
		s.log.Info("schedule: leading: this replica runs the jobs; catching up what is due")
	}
	s.mu.Lock()
	missed := s.missed
	s.missed = map[string]bool{}
	s.mu.Unlock()
	for _, y := range s.c.Syncs {
		if name := "sync:" + y.Name; missed[name] {
			if err := s.jobs[name].RunNow(); err != nil { // each is followed by an evaluation
				s.log.Warn("schedule: catch-up: cannot run a sync", "sync", y.Name, "err", err)
			}
		}
	}
	if s.eval != nil && missed["evaluate"] {
		s.eval.runAsync(s.ctx)
	}
	now := s.clock.Now()
	for _, r := range reports {
		if day, ok := s.current(r, now); ok && kpi.DateOf(now)-day <= catchUp {
			s.enqueue(ctx, r, day)
		}
	}
}

// catchUp is how many days late a missed report is still sent at start (or
// when a follower comes to lead): a
// review missed on Monday or the 1st goes out the day after, not a week or
// a month later, when the next one is near and a first start would send
// stale reviews.
const catchUp = 1

// Stop cancels the jobs' context and waits for the running jobs, the
// evaluations that follow the syncs and FlushSoon's flushes to return. It may be called again: it
// then waits for the first call and returns its error. (gocron's Shutdown
// called again right after it returns waits for a stop that never comes.)
func (s *Scheduler) Stop() error {
	s.stopOnce.Do(func() {
		s.stop()
		err := s.cron.Shutdown()
		if s.eval != nil {
			s.eval.close()
		}
		s.soon.close()
		if err != nil {
			s.stopErr = fmt.Errorf("schedule: stop: %w", err)
		}
	})
	return s.stopErr
}

// goesTo reports whether report r goes to the channels of role: the digest
// to every channel (hq and Japan support read it in both languages, a shop
// team in its own); the reviews to hq and the shop teams.
func goesTo(r Report, role kpi.Role) bool {
	switch role {
	case kpi.RoleHQ, kpi.RoleShop:
		return r == Digest || r == Weekly || r == Monthly
	case kpi.RoleJPSupport:
		return r == Digest
	}
	return false
}

// current returns the day of report r's occurrence in the period now is in
// and whether it may be enqueued: for the digest, today, always — each
// channel has its time, and enqueue leaves out those whose time has not
// come; for the reviews, as occurrence says.
func (s *Scheduler) current(r Report, now time.Time) (kpi.Date, bool) {
	if r == Digest {
		return kpi.DateOf(now), true
	}
	return occurrence(r, s.c, now)
}

// occurrence returns the day of report r's occurrence in the period now is
// in — today for the digest, the last WeeklyOn (this week's Monday by
// default) for the weekly review, the last MonthlyOn (this month's 1st by
// default) for the monthly one, today included — and whether its time
// (c's DigestAt, WeeklyAt or MonthlyAt, since midnight JST) is not after
// now. c has its defaults filled in.
func occurrence(r Report, c Config, now time.Time) (kpi.Date, bool) {
	today := kpi.DateOf(now)
	day, at := today, c.DigestAt
	switch r {
	case Digest:
	case Weekly:
		iso := (int(today.Weekday())+6)%7 + 1 // 1 Monday … 7 Sunday
		day, at = today.AddDays(-((iso - c.WeeklyOn + 7) % 7)), c.WeeklyAt
	case Monthly:
		day, at = kpi.NewDate(today.Year(), today.Month(), c.MonthlyOn), c.MonthlyAt
		if today.Day() < c.MonthlyOn {
			day = day.AddMonths(-1)
		}
	default:
		return 0, false
	}
	return day, !now.Before(day.Start().Add(at))
}

// due is when report r of day is due to channel ch: the digest at the
// channel's time, the reviews at their times.
func (s *Scheduler) due(r Report, day kpi.Date, ch kpi.ChatChannel) time.Time {
	at := s.c.WeeklyAt
	switch r {
	case Digest:
		at = s.digestAt(ch)
	case Monthly:
		at = s.c.MonthlyAt
	}
	return day.Start().Add(at)
}

// digestAt is when channel ch gets the daily digest, since midnight JST:
// its own time, else Config.DigestAt — also when its time cannot be read,
// which is logged once. Only enqueue calls it.
func (s *Scheduler) digestAt(ch kpi.ChatChannel) time.Duration {
	if ch.DigestAt == "" {
		return s.c.DigestAt
	}
	at, err := kpi.ParseClock(ch.DigestAt)
	if err == nil {
		return at
	}
	if id := ch.Platform + ":" + ch.ID; s.warned[id] != ch.DigestAt {
		s.warned[id] = ch.DigestAt
		s.log.Warn("schedule: a channel's digest time cannot be read: it gets the digest at the default time",
			"platform", ch.Platform, "channel", ch.ID, "digest_at", ch.DigestAt, "default", kpi.FormatClock(s.c.DigestAt))
	}
	return s.c.DigestAt
}

// reportJob is the job of report r: catch up if this replica followed
// before, enqueue it for today (JST), then flush.
func (s *Scheduler) reportJob(r Report) func(context.Context) {
	return func(ctx context.Context) {
		s.takeOver(ctx)
		s.enqueue(ctx, r, kpi.DateOf(s.clock.Now()))
		s.flush(ctx)
	}
}

// tick is the outbox's job: catch up if this replica followed before,
// enqueue today's digest for the channels whose time has come (and that do
// not have it yet), enqueue again the reviews that some channels did not
// get, once their backoff is over, and flush.
func (s *Scheduler) tick(ctx context.Context) {
	s.takeOver(ctx)
	now := s.clock.Now()
	type todo struct {
		r   Report
		day kpi.Date
	}
	var again []todo
	s.mu.Lock()
	for r, st := range s.retry {
		day, ok := s.current(r, now)
		switch {
		case !ok || day != st.day:
			s.log.Warn("schedule: gave up a report some channels did not get: its time is over", "report", r, "day", st.day.String())
			delete(s.retry, r)
		case r == Digest: // below, on every tick
		case !now.Before(st.next):
			again = append(again, todo{r, st.day})
		}
	}
	s.mu.Unlock()
	again = append(again, todo{Digest, kpi.DateOf(now)})
	for _, t := range again {
		s.enqueue(ctx, t.r, t.day)
	}
	s.flush(ctx)
}

// enqueue enqueues report r of day for the channels it goes to whose time
// has come (see due) and that do not have it yet, but for those whose
// report could not be made, until their backoff is over; it logs what it
// did and, when some channels did not get the report, remembers to try
// again. After the channels could not be listed, it does nothing until the
// backoff is over.
func (s *Scheduler) enqueue(ctx context.Context, r Report, day kpi.Date) {
	s.enqueuing.Lock()
	defer s.enqueuing.Unlock()
	now := s.clock.Now()
	s.mu.Lock()
	prev, waiting := s.retry[r]
	s.mu.Unlock()
	if waiting && prev.listing && prev.day == day && now.Before(prev.next) {
		return
	}
	chans, err := s.c.Channels.ChatChannelList(ctx)
	if err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		attempts := 0
		if waiting && prev.day == day && prev.listing {
			attempts = prev.attempts + 1
		}
		next := now.Add(backoff(attempts))
		s.retry[r] = retry{day: day, listing: true, attempts: attempts, next: next}
		s.log.Error("schedule: enqueue", "report", r, "day", day.String(), "retry_at", next, "err", fmt.Errorf("schedule: enqueue %s of %s: %w", r, day, err))
		return
	}
	for key, st := range s.keys {
		if st.r == r && st.day != day {
			delete(s.keys, key) // a past occurrence's
		}
	}
	added, failed, left, total := 0, 0, 0, 0
	var first error
	var next time.Time // the earliest time a channel left may be tried again
	for _, ch := range chans {
		if !goesTo(r, ch.Role) || s.due(r, day, ch).After(now) {
			continue
		}
		total++
		key := Key(r, day, ch)
		st := s.keys[key]
		if st.done {
			continue
		}
		if st.attempts > 0 && now.Before(st.next) {
			left++
			next = earliest(next, st.next)
			continue
		}
		if ctx.Err() != nil {
			return // stopping: a restart catches up
		}
		ok, err := s.enqueueOne(ctx, r, day, ch)
		if err != nil {
			failed++
			left++
			first = cmp.Or(first, err)
			st = keyState{r: r, day: day, attempts: st.attempts + 1, next: now.Add(backoff(st.attempts))}
			s.keys[key] = st
			next = earliest(next, st.next)
			continue
		}
		s.keys[key] = keyState{r: r, day: day, done: true}
		if ok {
			added++
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if added > 0 {
		s.log.Info("schedule: enqueued", "report", r, "day", day.String(), "messages", added)
	}
	if left == 0 {
		delete(s.retry, r)
		return
	}
	s.retry[r] = retry{day: day, next: next}
	if failed > 0 {
		s.log.Error("schedule: enqueue", "report", r, "day", day.String(), "messages", added, "retry_at", next,
			"err", fmt.Errorf("schedule: enqueue %s of %s: %d of %d channels failed, the first: %w", r, day, failed, total, first))
	}
}

// earliest returns the earlier of a and b, a zero time being none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// flush is Flush that logs its error, and that sends only while this
// replica leads.
func (s *Scheduler) flush(ctx context.Context) {
	if err := s.flushWhile(ctx, s.leads); err != nil {
		s.log.Error("schedule: flush", "err", err)
	}
}

// syncJob runs a sync and logs its failure; then, whether it failed or
// not, it has the data evaluated, without waiting for the evaluation.
func (s *Scheduler) syncJob(y Sync) func(context.Context) {
	log := s.log.With("sync", y.Name)
	return func(ctx context.Context) {
		if s.eval != nil {
			defer s.eval.runAsync(s.ctx)
		}
		start := s.clock.Now()
		if err := y.Run(ctx); err != nil {
			if ctx.Err() != nil { // stopping: the run was cancelled, not failed
				log.Info("schedule: sync stopped", "err", err)
				return
			}
			log.Error("schedule: sync", "err", err)
			return
		}
		log.Debug("schedule: synced", "took", s.clock.Since(start))
	}
}

// skips logs the runs gocron skipped because the job's previous run had not
// finished.
type skips struct{ log *slog.Logger }

func (m skips) IncrementJob(_ uuid.UUID, name string, _ []string, status gocron.JobStatus) {
	if status == gocron.SingletonRescheduled {
		m.log.Warn("schedule: run skipped: the previous run is still going", "job", name)
	}
}

func (skips) RecordJobTiming(time.Time, time.Time, uuid.UUID, string, []string) {}
