package rakuten

import (
	"context"
	"math"
	"sync"
	"time"
)

// requestsPerSecond is the pace the client keeps: RMS allows a shop's
// license key about one request a second across its APIs and answers 429
// above it.
const requestsPerSecond = 1

// bucket is a token bucket refilled at rate tokens a second that holds at
// most burst.
type bucket struct {
	rate, burst float64
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error

	mu     sync.Mutex
	tokens float64
	at     time.Time // when tokens was counted; zero: never used, full
}

func newBucket(rate, burst float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *bucket {
	return &bucket{rate: rate, burst: burst, now: now, sleep: sleep}
}

// wait takes a token, sleeping until one is there.
func (b *bucket) wait(ctx context.Context) error {
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
func (b *bucket) take() time.Duration {
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

// empty drains the bucket: RMS said 429, so its count of our calls is
// ahead of ours.
func (b *bucket) empty() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens, b.at = 0, b.now()
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
