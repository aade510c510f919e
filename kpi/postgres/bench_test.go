package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/postgres/pgtest"
	"github.com/kpibot/kpibot/kpi/storetest"
)

// bench1M is the busy shop of storetest.Bench1M on PostgreSQL, as
// kpi/sqlite's bench_test.go has it on SQLite. The schema is the top-level
// benchmark's (pgtest.DSN), dropped when it ends: BenchmarkFacts1M and
// BenchmarkMetricMonth1M each seed their own, which takes a while; run one
// at a time to seed once.
func bench1M(top *testing.B) storetest.Bench1M {
	var (
		once  sync.Once
		store *Store
		err   error
		clock atomic.Int64 // Unix nanoseconds of the store's now
	)
	setClock := func(t time.Time) { clock.Store(t.UnixNano()) }
	dsn := pgtest.DSN(top)
	top.Cleanup(func() {
		if store != nil {
			store.Close() // before pgtest drops the schema
		}
	})
	return storetest.Bench1M{
		SetClock: setClock,
		Store: func(b *testing.B) kpi.Store {
			once.Do(func() {
				ctx := context.Background()
				setClock(storetest.BusyNow)
				store, err = Open(ctx, dsn, func() time.Time { return time.Unix(0, clock.Load()) })
				if err != nil {
					return
				}
				start := time.Now()
				var n int
				if n, err = storetest.SeedBusyShop(ctx, store); err != nil {
					return
				}
				var size string
				if err = store.pool.QueryRow(ctx, `SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid)))
					FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'`).Scan(&size); err != nil {
					return
				}
				b.Logf("seed: %d records written in %v (%s)", n, time.Since(start).Round(time.Millisecond), size)
				if _, err = store.pool.Exec(ctx, "ANALYZE"); err != nil {
					return
				}
				start = time.Now()
				_, err = store.Facts(ctx, kpi.FactQuery{Shops: []string{storetest.BusyShop},
					From: storetest.BusyEnd.AddDays(-365), To: storetest.BusyEnd, Dists: true, Catalog: true})
				b.Logf("warm: 365 daily rollups built in %v", time.Since(start).Round(time.Millisecond))
			})
			if err != nil {
				b.Fatal(err)
			}
			return store
		},
	}
}

// BenchmarkFacts1M: see storetest.Bench1M.Facts.
func BenchmarkFacts1M(b *testing.B) { bench1M(b).Facts(b) }

// BenchmarkMetricMonth1M: see storetest.Bench1M.MetricMonth.
func BenchmarkMetricMonth1M(b *testing.B) { bench1M(b).MetricMonth(b) }
