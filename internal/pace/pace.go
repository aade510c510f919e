// Package pace paces the connectors' calls to their platforms: token
// buckets as the platforms publish their limits, and calls tried again
// after doubling, jittered waits while they fail for a reason that passes.
package pace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Bucket is a token bucket refilled at Rate tokens a second that holds at
// most Burst, full at first.
type Bucket struct {
	rate, burst float64
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error

	mu     sync.Mutex
	tokens float64
	at     time.Time // when tokens was counted; zero: never used, full
}

// NewBucket returns a full bucket on the clock now, waiting with sleep.
func NewBucket(rate, burst float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *Bucket {
	return &Bucket{rate: rate, burst: burst, now: now, sleep: sleep}
}

// Wait takes a token, sleeping until one is there.
func (b *Bucket) Wait(ctx context.Context) error {
	for {
		d := b.take()
		if d <= 0 {
			return nil
		}
		if err := b.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// take takes a token and returns 0, or returns how long until one comes.
func (b *Bucket) take() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.at.IsZero() {
		b.tokens, b.at = b.burst, now
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	// Rounded up: a wait rounded down to 0 would return without a token.
	return time.Duration(math.Ceil((1 - b.tokens) / b.rate * float64(time.Second)))
}

// Empty drains the bucket: the platform said 429, so its count of our
// calls is ahead of ours.
func (b *Bucket) Empty() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens, b.at = 0, b.now()
}

// Sleep waits for d or until ctx ends: the real clock's wait.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry tries a call again while it fails for a reason that passes: a
// throttle, a server error, the network.
type Retry struct {
	Name  string // the platform, in errors and logs: "amazon"
	Tries int    // how many times a call is tried again at most
	Sleep func(context.Context, time.Duration) error
	Log   *slog.Logger
}

// ByType is a classify for Do: an error of the platform's type E says
// itself whether it is temporary; any other (a network error) is.
func ByType[E interface {
	error
	Temporary() bool
}](err error) (temporary, typed bool) {
	var e E
	if errors.As(err, &e) {
		return e.Temporary(), true
	}
	return true, false
}

// Do runs try until it succeeds, fails for good, or has been tried Tries
// times more, waiting 1 s, 2 s, 4 s … (at most a minute), each with
// jitter, in between. classify tells of an error whether trying again may
// help, and whether it is the platform's own typed error, returned as it
// is; any other error comes back as "name: op: err".
func (r Retry) Do(ctx context.Context, op string, try func() error, classify func(error) (temporary, typed bool)) error {
	wait := time.Second
	for attempt := 0; ; attempt++ {
		err := try()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %s: %w", r.Name, op, ctx.Err())
		}
		temporary, typed := classify(err)
		if !temporary || attempt >= r.Tries {
			if typed {
				return err
			}
			return fmt.Errorf("%s: %s: %w", r.Name, op, err)
		}
		d := wait/2 + rand.N(wait)
		r.Log.Warn(r.Name+": retrying", "op", op, "attempt", attempt+1, "in", d.Round(time.Millisecond), "err", err)
		if err := r.Sleep(ctx, d); err != nil {
			return fmt.Errorf("%s: %s: %w", r.Name, op, err)
		}
		wait = min(2*wait, time.Minute)
	}
}

// LogFailed logs a sync run of connector ("rakuten") that failed with
// args: an error, unless ctx ended — kpibot stopping cancels the calls in
// flight, which is no failure — and then "sync stopped", as info.
func LogFailed(ctx context.Context, log *slog.Logger, connector string, args ...any) {
	if ctx.Err() != nil {
		log.Info(connector+": sync stopped", args...)
		return
	}
	log.Error(connector+": sync failed", args...)
}
