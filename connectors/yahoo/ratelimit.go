package yahoo

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// ErrDailyLimit is the client's refusal to call Yahoo once it has made its
// DailyLimit calls of the day (Japan time): the pull stops and the next one
// after midnight goes on. The count is the client's own, since it was made.
var ErrDailyLimit = errors.New("yahoo: the day's call allowance is spent")

// limiter spaces the client's calls: a token bucket refilled at rate calls
// a second that holds one call, so that calls never come in bursts, and a
// count of the day's calls.
type limiter struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	rate  float64
	daily int

	mu     sync.Mutex
	tokens float64
	at     time.Time
	day    string // the day counted, YYYY-MM-DD in Japan
	used   int    // calls that day
}

func newLimiter(now func() time.Time, sleep func(context.Context, time.Duration) error, rate float64, daily int) *limiter {
	return &limiter{now: now, sleep: sleep, rate: rate, daily: daily, tokens: 1, at: now()}
}

// wait takes a call of the bucket and the day, sleeping until there is one.
func (l *limiter) wait(ctx context.Context) error {
	for {
		d, err := l.take()
		if err != nil || d <= 0 {
			return err
		}
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// take takes a call and returns 0, or returns how long until there is one.
func (l *limiter) take() (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if day := now.In(jst).Format(time.DateOnly); day != l.day {
		l.day, l.used = day, 0
	}
	if l.used >= l.daily {
		return 0, ErrDailyLimit
	}
	if el := now.Sub(l.at).Seconds(); el > 0 {
		l.tokens = min(1, l.tokens+el*l.rate)
		l.at = now
	}
	if l.tokens >= 1 {
		l.tokens--
		l.used++
		return 0, nil
	}
	// Rounded up: a wait rounded down to 0 would return without a call.
	return time.Duration(math.Ceil((1 - l.tokens) / l.rate * float64(time.Second))), nil
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
