package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/storetest"
)

// benchDB is the busy shop of storetest.Bench1M (storetest.SeedBusyShop)
// on SQLite, seeded once per test binary and shared by the benchmarks, as
// kpi/postgres's bench_test.go has it on PostgreSQL; TestMain removes it.
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

// benchStore returns the store, the busy shop seeded and its rollups warm:
// the first call seeds it, outside the timing of b, and logs the seed and
// warm times.
func benchStore(b *testing.B) kpi.Store {
	benchDB.once.Do(func() {
		ctx := context.Background()
		if benchDB.dir, benchDB.err = os.MkdirTemp("", "kpibot-bench-"); benchDB.err != nil {
			return
		}
		setBenchClock(storetest.BusyNow)
		now := func() time.Time { return time.Unix(0, benchDB.clock.Load()) }
		path := filepath.Join(benchDB.dir, "kpi.db")
		s, err := Open(ctx, path, now)
		if err != nil {
			benchDB.err = err
			return
		}
		benchDB.store = s
		start := time.Now()
		n, err := storetest.SeedBusyShop(ctx, s)
		if err != nil {
			benchDB.err = err
			return
		}
		took := time.Since(start)
		var size, wal int64
		if fi, err := os.Stat(path); err == nil {
			size = fi.Size()
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			wal = fi.Size()
		}
		b.Logf("seed: %d records written in %v (%d MB file, %d MB WAL)", n, took.Round(time.Millisecond), size>>20, wal>>20)
		start = time.Now()
		if _, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{storetest.BusyShop},
			From: storetest.BusyEnd.AddDays(-365), To: storetest.BusyEnd, Dists: true, Catalog: true}); err != nil {
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

var bench1M = storetest.Bench1M{Store: benchStore, SetClock: setBenchClock}

// BenchmarkFacts1M: see storetest.Bench1M.Facts.
func BenchmarkFacts1M(b *testing.B) { bench1M.Facts(b) }

// BenchmarkMetricMonth1M: see storetest.Bench1M.MetricMonth.
func BenchmarkMetricMonth1M(b *testing.B) { bench1M.MetricMonth(b) }
