package amazon

import (
	"context"
	"math"
	"sync"
	"time"
)

// Limit is an operation's usage plan as Amazon publishes it: a token bucket
// refilled at Rate requests a second that holds at most Burst.
type Limit struct {
	Rate  float64
	Burst float64
}

// Limits are the usage plans of the operations the connector calls, from
// the SP-API models' rate tables.
var Limits = map[string]Limit{
	"searchOrders":      {0.0056, 20}, // Orders 2026-01-01
	"getOrders":         {0.0167, 20}, // Orders v0
	"getOrderItems":     {0.5, 30},
	"createReport":      {0.0167, 15},
	"getReport":         {2, 15},
	"getReportDocument": {0.0167, 15},
	"downloadDocument":  {10, 10}, // the pre-signed S3 URL: not metered by Amazon, kept gentle
	"adsCreateReport":   {1, 5},   // Amazon Ads publishes no fixed plan; it answers 429
	"adsGetReport":      {1, 10},
}

// buckets keeps one token bucket per operation.
type buckets struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu sync.Mutex
	by map[string]*bucket
}

type bucket struct {
	limit  Limit
	tokens float64
	at     time.Time
}

func newBuckets(now func() time.Time, sleep func(context.Context, time.Duration) error) *buckets {
	return &buckets{now: now, sleep: sleep, by: map[string]*bucket{}}
}

// wait takes a token of op's bucket, sleeping until one is there. An
// operation without a published plan is not limited here.
func (b *buckets) wait(ctx context.Context, op string) error {
	for {
		d := b.take(op)
		if d <= 0 {
			return nil
		}
		if err := b.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// take takes a token and returns 0, or returns how long until one comes.
func (b *buckets) take(op string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	k, ok := b.by[op]
	if !ok {
		l, known := Limits[op]
		if !known {
			return 0
		}
		k = &bucket{limit: l, tokens: l.Burst, at: now}
		b.by[op] = k
	}
	if el := now.Sub(k.at).Seconds(); el > 0 {
		k.tokens = min(k.limit.Burst, k.tokens+el*k.limit.Rate)
		k.at = now
	}
	if k.tokens >= 1 {
		k.tokens--
		return 0
	}
	// Rounded up: a wait rounded down to 0 would return without a token.
	return time.Duration(math.Ceil((1 - k.tokens) / k.limit.Rate * float64(time.Second)))
}

// empty drains op's bucket: Amazon said 429, so its count of our calls is
// ahead of ours.
func (b *buckets) empty(op string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k, ok := b.by[op]; ok {
		k.tokens, k.at = 0, b.now()
	}
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
