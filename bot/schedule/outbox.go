package schedule

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
)

// batch is how many due items Flush reads at a time.
const batch = 100

// claimLease is how long a flush holds the items it claimed: no other
// sender takes them meanwhile (another replica, a kpibot digest run by
// hand). The flush renews it every claimLease/3 while it delivers them, so
// a batch may take as long as it must (paced, retried); a sender that dies
// leaves its items to be taken again within claimLease.
const claimLease = 2 * time.Minute

// Key is the outbox key of report r sent on day to channel ch: what makes
// it go out once.
func Key(r Report, day kpi.Date, ch kpi.ChatChannel) string {
	return fmt.Sprintf("%s:%s:%s:%s", r, day, ch.Platform, ch.ID)
}

// Enqueue renders report r for every channel it goes to and puts it in the
// outbox, to send on day, whatever the channels' times: it is what kpibot
// digest does when asked (the jobs leave out a channel whose time has not
// come). It returns how many messages were new. A channel whose key is in
// the outbox already is skipped before rendering, so that a catch-up or a
// second run does not render 500 shops' reports again. A channel whose
// report cannot be made does not keep the others from theirs: the error
// says how many failed, and the first failure.
func (s *Scheduler) Enqueue(ctx context.Context, r Report, day kpi.Date) (int, error) {
	s.enqueuing.Lock()
	defer s.enqueuing.Unlock()
	chans, err := s.c.Channels.ChatChannelList(ctx)
	if err != nil {
		return 0, fmt.Errorf("schedule: enqueue %s of %s: %w", r, day, err)
	}
	added, failed, total := 0, 0, 0
	var first error
	for _, ch := range chans {
		if !goesTo(r, ch.Role) {
			continue
		}
		total++
		if err := ctx.Err(); err != nil {
			return added, fmt.Errorf("schedule: enqueue %s of %s: %w", r, day, err)
		}
		ok, err := s.enqueueOne(ctx, r, day, ch)
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
			continue
		}
		if ok {
			added++
		}
	}
	if failed > 0 {
		return added, fmt.Errorf("schedule: enqueue %s of %s: %d of %d channels failed, the first: %w", r, day, failed, total, first)
	}
	return added, nil
}

// enqueueOne enqueues report r of day for one channel, unless it was ever
// enqueued.
func (s *Scheduler) enqueueOne(ctx context.Context, r Report, day kpi.Date, ch kpi.ChatChannel) (bool, error) {
	key := Key(r, day, ch)
	if done, err := s.c.Outbox.Enqueued(ctx, key); err != nil || done {
		return false, err
	}
	reply, err := s.c.Renderer.Report(ctx, string(r), ch, day)
	if err != nil {
		return false, fmt.Errorf("render %s: %w", key, err)
	}
	data, err := bot.EncodeOutgoing(ch, reply)
	if err != nil {
		return false, fmt.Errorf("encode %s: %w", key, err)
	}
	now := s.clock.Now()
	return s.c.Outbox.Enqueue(ctx, kpi.OutboxItem{
		Key: key, Platform: ch.Platform, Channel: ch.ID, Payload: data, NextTry: now, Created: now,
	})
}

// decode reads an outbox item that bot.EncodeOutgoing made.
func decode(it kpi.OutboxItem) (Message, error) {
	ch, r, err := bot.DecodeOutgoing(it.Payload)
	if err != nil {
		return Message{}, fmt.Errorf("decode %s: %w", it.Key, err)
	}
	return Message{Key: it.Key, Channel: ch, Reply: r}, nil
}

// backoff is how long to wait after the attempts+1st failure: 1m, 2m, 4m
// … up to 1h.
func backoff(attempts int) time.Duration {
	if attempts >= 6 {
		return time.Hour
	}
	return min(time.Minute<<attempts, time.Hour)
}

// Flush sends what is due in the outbox now: the due items of each
// platform go to its Sender together; the keys it returns are marked sent
// (those an EachSender reports, as it reports them), the others failed,
// due again after a backoff (1m, 2m, 4m … 1h). The items of a platform
// without a Sender are marked failed too, and stay pending.
// One Flush runs at a time. The outbox is written with a context that is
// not cancelled, so that a message sent is recorded as sent. Called
// directly (kpibot digest, kpibot alerts), it does not ask Config.Elector.
func (s *Scheduler) Flush(ctx context.Context) error {
	return s.flushWhile(ctx, nil)
}

// flushWhile is Flush that, unless leads is nil, asks it before each batch
// and stops when it says no.
func (s *Scheduler) flushWhile(ctx context.Context, leads func(context.Context, string) bool) error {
	s.flushing.Lock()
	defer s.flushing.Unlock()
	now := s.clock.Now()
	for {
		if leads != nil && !leads(ctx, "") {
			return nil
		}
		// What was due at the start, leased for claimLease from this
		// moment, however long the batches before took.
		items, err := s.c.Outbox.Claim(ctx, now, claimLease+s.clock.Since(now), batch)
		if err != nil {
			return fmt.Errorf("schedule: flush: %w", err)
		}
		// Every item is now sent or due later than now: the loop ends.
		if err := s.deliver(ctx, items); err != nil {
			return fmt.Errorf("schedule: flush: %w", err)
		}
		if len(items) < batch {
			return nil
		}
	}
}

// deliver sends items by platform and records the outcome of each,
// holding their lease until each is marked. A failed item is due again
// after its backoff from the moment it failed.
func (s *Scheduler) deliver(ctx context.Context, items []kpi.OutboxItem) error {
	if len(items) == 0 {
		return nil
	}
	book := context.WithoutCancel(ctx)
	held := s.hold(book, items)
	defer held.stop()
	var errs []error
	fail := func(it kpi.OutboxItem, reason string) {
		if err := held.release(it.Key, func() error {
			return s.c.Outbox.MarkFailed(book, it.Key, s.clock.Now().Add(backoff(it.Attempts)), reason)
		}); err != nil {
			errs = append(errs, err)
		}
	}
	byPlatform := map[string][]Message{}
	byKey := map[string]kpi.OutboxItem{}
	for _, it := range items {
		m, err := decode(it)
		if err != nil {
			s.log.Error("schedule: unreadable outbox item", "key", it.Key, "err", err)
			fail(it, err.Error())
			continue
		}
		byPlatform[it.Platform] = append(byPlatform[it.Platform], m)
		byKey[it.Key] = it
	}
	platforms := make([]string, 0, len(byPlatform))
	for p := range byPlatform {
		platforms = append(platforms, p)
	}
	slices.Sort(platforms)
	for _, p := range platforms {
		msgs := byPlatform[p]
		// delivered marks a message of msgs sent, once; marked holds the
		// keys of msgs, true once marked sent or failed.
		var mu sync.Mutex
		marked := map[string]bool{}
		for _, m := range msgs {
			marked[m.Key] = false
		}
		delivered := func(key string, at time.Time, ref string) {
			mu.Lock()
			defer mu.Unlock()
			if done, ours := marked[key]; !ours || done {
				return
			}
			marked[key] = true
			if err := held.release(key, func() error { return s.c.Outbox.MarkSent(book, key, at, ref) }); err != nil {
				errs = append(errs, err)
			}
		}
		var err error
		sender, ok := s.c.Senders[p]
		each, eachOK := sender.(EachSender)
		switch {
		case !ok:
			err = fmt.Errorf("no sender for platform %q", p)
		case eachOK:
			// Each message is marked as soon as it is out.
			err = each.SendEach(ctx, msgs, func(key, ref string) { delivered(key, s.clock.Now(), ref) })
		default:
			var sent []string
			sent, err = sender.Send(ctx, msgs)
			at := s.clock.Now()
			for _, k := range sent {
				delivered(k, at, "")
			}
		}
		mu.Lock() // the messages not delivered are failed, and stay so
		left := 0
		for _, m := range msgs {
			if marked[m.Key] {
				continue
			}
			marked[m.Key] = true
			left++
			reason := "not delivered"
			if err != nil {
				reason = truncate(err.Error(), 500)
			}
			fail(byKey[m.Key], reason)
		}
		mu.Unlock()
		switch {
		case err != nil:
			s.log.Warn("schedule: send", "platform", p, "sent", len(msgs)-left, "left", left, "err", err)
		case left > 0:
			s.log.Warn("schedule: send: some messages were not delivered", "platform", p, "sent", len(msgs)-left, "left", left)
		default:
			s.log.Info("schedule: sent", "platform", p, "messages", len(msgs))
		}
	}
	return errors.Join(errs...)
}

// holder keeps the lease on the items a flush claimed while it delivers
// them: every claimLease/3 it moves the NextTry of those not marked yet to
// claimLease from then. A mark and a renewal never interleave, so a
// renewal never undoes the NextTry a failure set.
type holder struct {
	mu    sync.Mutex
	open  map[string]bool // the keys not marked sent or failed yet
	quit  chan struct{}
	ended chan struct{}
}

// hold starts renewing the lease of items.
func (s *Scheduler) hold(ctx context.Context, items []kpi.OutboxItem) *holder {
	h := &holder{open: make(map[string]bool, len(items)), quit: make(chan struct{}), ended: make(chan struct{})}
	for _, it := range items {
		h.open[it.Key] = true
	}
	tick := s.clock.NewTicker(claimLease / 3)
	go func() {
		defer close(h.ended)
		defer tick.Stop()
		for {
			select {
			case <-h.quit:
				return
			case <-tick.Chan():
				h.mu.Lock()
				keys := slices.Collect(maps.Keys(h.open))
				if len(keys) > 0 {
					if err := s.c.Outbox.Extend(ctx, keys, s.clock.Now().Add(claimLease)); err != nil {
						s.log.Warn("schedule: renew the lease of the messages being sent", "messages", len(keys), "err", err)
					}
				}
				h.mu.Unlock()
			}
		}
	}()
	return h
}

// release marks key with mark, and renews its lease no more.
func (h *holder) release(key string, mark func() error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.open, key)
	return mark()
}

// stop ends the renewals and waits for the last.
func (h *holder) stop() {
	close(h.quit)
	<-h.ended
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
