package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/postgres/pgtest"
	"github.com/kpibot/kpibot/kpi/storetest"
)

// benchDB is the busy shop of storetest.Bench1M (storetest.SeedBusyShop)
// on PostgreSQL, as kpi/sqlite's bench_test.go has it on SQLite: seeded
// once per test binary, in a schema of its own on KPIBOT_TEST_POSTGRES, and
// shared by the benchmarks; TestMain drops the schema. (pgtest.DSN drops
// its schema when the test or benchmark that asked ends, which would seed
// the shop again for each benchmark.)
var benchDB struct {
	once   sync.Once
	base   string // KPIBOT_TEST_POSTGRES
	schema string
	store  *Store
	clock  atomic.Int64 // Unix nanoseconds of the store's now
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDB.store != nil {
		benchDB.store.Close() // before the schema is dropped
	}
	if benchDB.schema != "" {
		if err := dropBenchSchema(); err != nil {
			os.Stderr.WriteString("postgres bench: drop schema " + benchDB.schema + ": " + err.Error() + "\n")
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

func dropBenchSchema() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, benchDB.base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA "+benchDB.schema+" CASCADE")
	return err
}

// benchSchema creates the benchmarks' schema and returns the URL that
// uses it (its search_path).
func benchSchema(ctx context.Context) (string, error) {
	var r [6]byte
	rand.Read(r[:])
	schema := "bench_" + hex.EncodeToString(r[:])
	conn, err := pgx.Connect(ctx, benchDB.base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", err
	}
	benchDB.schema = schema
	u, err := url.Parse(benchDB.base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func setBenchClock(t time.Time) { benchDB.clock.Store(t.UnixNano()) }

// benchStore returns the store, the busy shop seeded and its rollups warm:
// the first call seeds it, outside the timing of b, and logs the seed and
// warm times and the size of the schema's tables with their indexes.
// Without KPIBOT_TEST_POSTGRES the benchmark is skipped.
func benchStore(b *testing.B) kpi.Store {
	if benchDB.base = os.Getenv(pgtest.Env); benchDB.base == "" {
		b.Skipf("no PostgreSQL: set %s=postgres://user:password@127.0.0.1:5432/db to run this benchmark", pgtest.Env)
	}
	benchDB.once.Do(func() {
		ctx := context.Background()
		dsn, err := benchSchema(ctx)
		if err != nil {
			benchDB.err = err
			return
		}
		setBenchClock(storetest.BusyNow)
		s, err := Open(ctx, dsn, func() time.Time { return time.Unix(0, benchDB.clock.Load()) })
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
		var size string
		if err := s.pool.QueryRow(ctx, `SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid)))
			FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'`).Scan(&size); err != nil {
			benchDB.err = err
			return
		}
		b.Logf("seed: %d records written in %v (%s of tables with their indexes)", n, took.Round(time.Millisecond), size)
		start = time.Now()
		if _, err := s.pool.Exec(ctx, "ANALYZE"); err != nil {
			benchDB.err = err
			return
		}
		b.Logf("analyze: %v", time.Since(start).Round(time.Millisecond))
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
