package yahoo

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kpibot/kpibot/internal/pace"
)

// ErrDailyLimit is the client's refusal to call Yahoo once it has made its
// DailyLimit calls of the day (Japan time): the pull stops and the next one
// after midnight goes on. The count is the client's own, since it was made.
var ErrDailyLimit = errors.New("yahoo: the day's call allowance is spent")

// limiter spaces the client's calls: a token bucket refilled at rate calls
// a second that holds one call, so that calls never come in bursts, and a
// count of the day's calls.
type limiter struct {
	now    func() time.Time
	daily  int
	bucket *pace.Bucket

	mu   sync.Mutex
	day  string // the day counted, YYYY-MM-DD in Japan
	used int    // calls that day
}

func newLimiter(now func() time.Time, sleep func(context.Context, time.Duration) error, rate float64, daily int) *limiter {
	return &limiter{now: now, daily: daily, bucket: pace.NewBucket(rate, 1, now, sleep)}
}

// wait takes a call of the day and of the bucket, sleeping until there is
// one; ErrDailyLimit once the day's calls are spent.
func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	if day := l.now().In(jst).Format(time.DateOnly); day != l.day {
		l.day, l.used = day, 0
	}
	if l.used >= l.daily {
		l.mu.Unlock()
		return ErrDailyLimit
	}
	l.used++
	l.mu.Unlock()
	return l.bucket.Wait(ctx)
}
