package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// The busy shop of BenchmarkFacts1M: a million orders over the 365 days
// before benchEnd, read at 15:00 JST on the last of them.
const (
	benchShop   = "busy"
	benchOrders = 1_000_000
	benchBatch  = 10_000
)

var (
	benchEnd = kpi.NewDate(2026, 7, 1) // exclusive
	benchNow = benchEnd.AddDays(-1).Start().Add(15 * time.Hour)
)

// benchDB is seeded once per test binary and shared by the sub-benchmarks;
// TestMain removes it.
var benchDB struct {
	once  sync.Once
	dir   string
	store *Store
	clock atomic.Int64 // Unix nanoseconds of the store's now
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDB.store != nil {
		benchDB.store.Close()
	}
	if benchDB.dir != "" {
		os.RemoveAll(benchDB.dir)
	}
	os.Exit(code)
}

func setBenchClock(t time.Time) { benchDB.clock.Store(t.UnixNano()) }

func benchStore(b *testing.B) *Store {
	benchDB.once.Do(func() {
		ctx := context.Background()
		if benchDB.dir, benchDB.err = os.MkdirTemp("", "kpibot-bench-"); benchDB.err != nil {
			return
		}
		setBenchClock(benchNow)
		now := func() time.Time { return time.Unix(0, benchDB.clock.Load()) }
		s, err := Open(ctx, filepath.Join(benchDB.dir, "kpi.db"), now)
		if err != nil {
			benchDB.err = err
			return
		}
		benchDB.store = s
		start := time.Now()
		n, err := seedBusyShop(ctx, s)
		if err != nil {
			benchDB.err = err
			return
		}
		var size int64
		if fi, err := os.Stat(filepath.Join(benchDB.dir, "kpi.db")); err == nil {
			size = fi.Size()
		}
		b.Logf("seed: %d records written in %v (%d MB)", n, time.Since(start).Round(time.Millisecond), size>>20)
		start = time.Now()
		if _, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{benchShop}, From: benchEnd.AddDays(-365), To: benchEnd, Dists: true, Catalog: true}); err != nil {
			benchDB.err = err
			return
		}
		b.Logf("warm: 365 daily rollups built in %v", time.Since(start).Round(time.Millisecond))
	})
	if benchDB.err != nil {
		b.Fatal(benchDB.err)
	}
	return benchDB.store
}

// seedBusyShop writes the busy shop's orders in batches of 10,000, each with
// their shipments (about 90% of orders), reviews (6%) and returns (2%). The
// orders come in the order they were placed, give or take ten minutes, as a
// connector pages through a marketplace's history.
func seedBusyShop(ctx context.Context, s *Store) (int, error) {
	r := rand.New(rand.NewPCG(2026, 7))
	first := benchEnd.AddDays(-365).Start()
	span := benchNow.Add(-10 * time.Minute).Sub(first)
	carriers := []string{"yamato", "sagawa", "japanpost"}
	written := 0
	b := &kpi.Batch{Shops: []kpi.Shop{{ID: benchShop, Platform: kpi.Amazon, Name: "Busy", Currency: "JPY"}}}
	for i := range benchOrders {
		placed := first.Add(time.Duration(int64(span/time.Second)*int64(i)/benchOrders+r.Int64N(600)) * time.Second)
		o := kpi.Order{Shop: benchShop, ID: fmt.Sprintf("o%07d", i), CustomerRef: fmt.Sprintf("c%d", r.IntN(200_000)),
			Placed: placed, Paid: placed.Add(time.Duration(r.IntN(3600)) * time.Second), ShipBy: placed.Add(48 * time.Hour),
			PromisedBy: placed.Add(5 * 24 * time.Hour), Status: kpi.StatusUnshipped, Total: 1000 + r.Int64N(30_000),
			Units: 1 + r.Int64N(3), Channel: kpi.ByMerchant}
		shipped := o.Paid.Add(time.Duration(30+r.IntN(40*60)) * time.Minute)
		switch {
		case r.IntN(50) == 0:
			o.Status = kpi.StatusCancelled
		case r.IntN(10) > 0 && shipped.Before(benchNow):
			o.Status = kpi.StatusShipped
			sh := kpi.Shipment{Shop: benchShop, ID: "s" + o.ID[1:], OrderID: o.ID, Shipped: shipped,
				Carrier: carriers[r.IntN(len(carriers))], Tracking: fmt.Sprintf("%012d", r.Int64N(1e12)), Units: o.Units}
			if delivered := shipped.Add(time.Duration(12*60+r.IntN(60*60)) * time.Minute); delivered.Before(benchNow) {
				o.Status, sh.Delivered = kpi.StatusDelivered, delivered
			}
			b.Shipments = append(b.Shipments, sh)
		}
		b.Orders = append(b.Orders, o)
		if posted := placed.Add(time.Duration(3+r.IntN(10)) * 24 * time.Hour); r.IntN(100) < 6 && posted.Before(benchNow) {
			b.Reviews = append(b.Reviews, kpi.Review{Shop: benchShop, ID: "v" + o.ID[1:], OrderID: o.ID, Posted: posted,
				Rating: 1 + r.IntN(5), Text: "fine"})
		}
		if returned := placed.Add(7 * 24 * time.Hour); r.IntN(100) < 2 && returned.Before(benchNow) {
			b.Returns = append(b.Returns, kpi.Return{Shop: benchShop, ID: "r" + o.ID[1:], OrderID: o.ID, Returned: returned, Units: 1})
		}
		if len(b.Orders) == benchBatch || i == benchOrders-1 {
			st, err := s.Write(ctx, b)
			if err != nil {
				return written, err
			}
			written += st.Inserted
			b = &kpi.Batch{}
		}
	}
	return written, nil
}

// BenchmarkFacts1M reads the facts of the busy shop with their
// distributions (the slowest kind of question), its rollups warm:
//   - month: a whole month and the month before, as the engine asks;
//   - last30: the 30 days up to now, whose last days are not final yet but
//     still fresh;
//   - last30_stale: the same with the clock 61 s later at every op, so that
//     the 3 days that are not final are built again each time;
//   - year: the 365 days.
//
// The shop is seeded, and its rollups warmed, by the first sub-benchmark
// that runs, outside its timing: the seed and warm times are logged.
func BenchmarkFacts1M(b *testing.B) {
	ctx := context.Background()
	facts := func(b *testing.B, from, to kpi.Date) {
		m, err := benchStore(b).Facts(ctx, kpi.FactQuery{Shops: []string{benchShop}, From: from, To: to, Dists: true, Catalog: true})
		if err != nil {
			b.Fatal(err)
		}
		if m[benchShop].Count[kpi.OrdersPlaced] == 0 {
			b.Fatalf("no orders in %s..%s", from, to)
		}
	}
	may := kpi.Month(2026, time.May)
	april := may.Previous()
	today := kpi.DateOf(benchNow)

	b.Run("month", func(b *testing.B) {
		benchStore(b)
		for b.Loop() {
			facts(b, may.From, may.To)
			facts(b, april.From, april.To)
		}
	})
	b.Run("last30", func(b *testing.B) {
		benchStore(b)
		setBenchClock(benchNow)
		for b.Loop() {
			facts(b, today-29, today+1)
		}
	})
	b.Run("last30_stale", func(b *testing.B) {
		benchStore(b)
		now := benchNow
		for b.Loop() {
			now = now.Add(freshFor + time.Second)
			setBenchClock(now)
			facts(b, today-29, today+1)
		}
		setBenchClock(benchNow)
	})
	b.Run("year", func(b *testing.B) {
		benchStore(b)
		for b.Loop() {
			facts(b, benchEnd.AddDays(-365), benchEnd)
		}
	})
}

// BenchmarkMetricMonth1M computes every catalog metric for the busy shop
// over May through kpi.Engine, as a chat question does: the shop list, the
// month and the month before (or the metric's lookback), the breakdown. The
// goal of the issue is under 10 ms; goal-ratio is the time per op ÷ 10 ms.
func BenchmarkMetricMonth1M(b *testing.B) {
	ctx := context.Background()
	may := kpi.Month(2026, time.May)
	for _, m := range kpi.Catalog {
		b.Run(m.ID, func(b *testing.B) {
			s := benchStore(b)
			setBenchClock(benchNow)
			e := &kpi.Engine{Store: s, Now: func() time.Time { return benchNow }}
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
