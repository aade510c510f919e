package amazon

import (
	"context"
	"sync"
	"time"

	"github.com/kpibot/kpibot/internal/pace"
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
	by map[string]*pace.Bucket
}

func newBuckets(now func() time.Time, sleep func(context.Context, time.Duration) error) *buckets {
	return &buckets{now: now, sleep: sleep, by: map[string]*pace.Bucket{}}
}

// of returns op's bucket; nil for an operation without a published plan,
// which is not limited here.
func (b *buckets) of(op string) *pace.Bucket {
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.by[op]
	if !ok {
		l, known := Limits[op]
		if !known {
			return nil
		}
		k = pace.NewBucket(l.Rate, l.Burst, b.now, b.sleep)
		b.by[op] = k
	}
	return k
}

// wait takes a token of op's bucket, sleeping until one is there.
func (b *buckets) wait(ctx context.Context, op string) error {
	if k := b.of(op); k != nil {
		return k.Wait(ctx)
	}
	return nil
}

// empty drains op's bucket: Amazon said 429, so its count of our calls is
// ahead of ours.
func (b *buckets) empty(op string) {
	if k := b.of(op); k != nil {
		k.Empty()
	}
}
