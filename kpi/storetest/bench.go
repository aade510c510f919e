package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// The busy shop of the 1M benchmarks: a million orders over the 365 days
// before BusyEnd, read at 15:00 JST on the last of them. kpi/sqlite's and
// kpi/postgres's bench_test.go seed it with SeedBusyShop and run Bench1M.
const (
	BusyShop   = "busy"
	BusyOrders = 1_000_000
	busyBatch  = 10_000
)

var (
	BusyEnd = kpi.NewDate(2026, 7, 1) // exclusive
	BusyNow = BusyEnd.AddDays(-1).Start().Add(15 * time.Hour)
)

// SeedBusyShop writes the busy shop's orders in batches of 10,000, each
// with their shipments (about 90% of orders), reviews (6%) and returns
// (2%). The orders come in the order they were placed, give or take ten
// minutes, as a connector pages through a marketplace's history. It
// returns the number of records inserted.
func SeedBusyShop(ctx context.Context, w kpi.Writer) (int, error) {
	r := rand.New(rand.NewPCG(2026, 7))
	first := BusyEnd.AddDays(-365).Start()
	span := BusyNow.Add(-10 * time.Minute).Sub(first)
	carriers := []string{"yamato", "sagawa", "japanpost"}
	written := 0
	b := &kpi.Batch{Shops: []kpi.Shop{{ID: BusyShop, Platform: kpi.Amazon, Name: "Busy", Currency: "JPY"}}}
	for i := range BusyOrders {
		placed := first.Add(time.Duration(int64(span/time.Second)*int64(i)/BusyOrders+r.Int64N(600)) * time.Second)
		o := kpi.Order{Shop: BusyShop, ID: fmt.Sprintf("o%07d", i), CustomerRef: fmt.Sprintf("c%d", r.IntN(200_000)),
			Placed: placed, Paid: placed.Add(time.Duration(r.IntN(3600)) * time.Second), ShipBy: placed.Add(48 * time.Hour),
			PromisedBy: placed.Add(5 * 24 * time.Hour), Status: kpi.StatusUnshipped, Total: 1000 + r.Int64N(30_000),
			Units: 1 + r.Int64N(3), Channel: kpi.ByMerchant}
		shipped := o.Paid.Add(time.Duration(30+r.IntN(40*60)) * time.Minute)
		switch {
		case r.IntN(50) == 0:
			o.Status = kpi.StatusCancelled
		case r.IntN(10) > 0 && shipped.Before(BusyNow):
			o.Status = kpi.StatusShipped
			sh := kpi.Shipment{Shop: BusyShop, ID: "s" + o.ID[1:], OrderID: o.ID, Shipped: shipped,
				Carrier: carriers[r.IntN(len(carriers))], Tracking: fmt.Sprintf("%012d", r.Int64N(1e12)), Units: o.Units}
			if delivered := shipped.Add(time.Duration(12*60+r.IntN(60*60)) * time.Minute); delivered.Before(BusyNow) {
				o.Status, sh.Delivered = kpi.StatusDelivered, delivered
			}
			b.Shipments = append(b.Shipments, sh)
		}
		b.Orders = append(b.Orders, o)
		if posted := placed.Add(time.Duration(3+r.IntN(10)) * 24 * time.Hour); r.IntN(100) < 6 && posted.Before(BusyNow) {
			b.Reviews = append(b.Reviews, kpi.Review{Shop: BusyShop, ID: "v" + o.ID[1:], OrderID: o.ID, Posted: posted,
				Rating: 1 + r.IntN(5), Text: "fine"})
		}
		if returned := placed.Add(7 * 24 * time.Hour); r.IntN(100) < 2 && returned.Before(BusyNow) {
			b.Returns = append(b.Returns, kpi.Return{Shop: BusyShop, ID: "r" + o.ID[1:], OrderID: o.ID, Returned: returned, Units: 1})
		}
		if len(b.Orders) == busyBatch || i == BusyOrders-1 {
			st, err := w.Write(ctx, b)
			if err != nil {
				return written, err
			}
			written += st.Inserted
			b = &kpi.Batch{}
		}
	}
	return written, nil
}

// Bench1M runs the benchmarks of the busy shop on a store.
type Bench1M struct {
	// Store returns the store, the busy shop seeded (SeedBusyShop) and its
	// rollups warm: the first call seeds it, outside the timing of b.
	Store func(b *testing.B) kpi.Store
	// SetClock sets the store's clock.
	SetClock func(time.Time)
}

// Facts reads the facts of the busy shop with their distributions (the
// slowest kind of question), its rollups warm:
//   - month: a whole month and the month before, as the engine asks;
//   - last30: the 30 days up to now, whose last days are not final yet but
//     still fresh;
//   - last30_stale: the same with the clock moved past the freshness of a
//     rollup at every op, so that the 3 days that are not final are built
//     again each time;
//   - year: the 365 days.
func (x Bench1M) Facts(b *testing.B) {
	ctx := context.Background()
	facts := func(b *testing.B, from, to kpi.Date) {
		m, err := x.Store(b).Facts(ctx, kpi.FactQuery{Shops: []string{BusyShop}, From: from, To: to, Dists: true, Catalog: true})
		if err != nil {
			b.Fatal(err)
		}
		if m[BusyShop].Count[kpi.OrdersPlaced] == 0 {
			b.Fatalf("no orders in %s..%s", from, to)
		}
	}
	may := kpi.Month(2026, time.May)
	april := may.Previous()
	today := kpi.DateOf(BusyNow)

	b.Run("month", func(b *testing.B) {
		x.Store(b)
		x.SetClock(BusyNow)
		for b.Loop() {
			facts(b, may.From, may.To)
			facts(b, april.From, april.To)
		}
	})
	b.Run("last30", func(b *testing.B) {
		x.Store(b)
		x.SetClock(BusyNow)
		for b.Loop() {
			facts(b, today-29, today+1)
		}
	})
	b.Run("last30_stale", func(b *testing.B) {
		x.Store(b)
		now := BusyNow
		for b.Loop() {
			now = now.Add(sqlstore.FreshFor + time.Second)
			x.SetClock(now)
			facts(b, today-29, today+1)
		}
		x.SetClock(BusyNow)
	})
	b.Run("year", func(b *testing.B) {
		x.Store(b)
		x.SetClock(BusyNow)
		for b.Loop() {
			facts(b, BusyEnd.AddDays(-365), BusyEnd)
		}
	})
}

// MetricMonth computes every catalog metric for the busy shop over May
// through kpi.Engine, as a chat question does: the shop list, the month and
// the month before (or the metric's lookback), the breakdown. The goal of
// the issue is under 10 ms; goal-ratio is the time per op ÷ 10 ms.
func (x Bench1M) MetricMonth(b *testing.B) {
	ctx := context.Background()
	may := kpi.Month(2026, time.May)
	for _, m := range kpi.Catalog {
		b.Run(m.ID, func(b *testing.B) {
			s := x.Store(b)
			x.SetClock(BusyNow)
			e := &kpi.Engine{Store: s, Now: func() time.Time { return BusyNow }}
			for b.Loop() {
				r, err := e.Compute(ctx, kpi.Query{Metric: m.ID, Period: may})
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Breakdown) != 1 {
					b.Fatalf("breakdown of %d shops", len(r.Breakdown))
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(10*time.Millisecond), "goal-ratio")
		})
	}
}
