// Package postgres is the kpi store on PostgreSQL (pgx), for several bot
// replicas sharing one database: the same tables as kpi/sqlite (the
// migrations are kept in step, the record codecs shared through
// kpi/internal/sqlstore) and the same behaviour, with the writes and the
// rollup builds of a shop serialized across replicas by advisory locks.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// Store keeps a seller's records in a PostgreSQL database (the schema the
// connection's search_path names). It is safe for concurrent use, also by
// several processes sharing the database.
type Store struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	hours kpi.BusinessHours // what rollups are built with
}

var (
	_ kpi.Store         = (*Store)(nil)
	_ kpi.ChatChannels  = (*Store)(nil)
	_ kpi.BindCodes     = (*Store)(nil)
	_ kpi.ChannelLister = (*Store)(nil)
	_ kpi.Outbox        = (*Store)(nil)
	_ kpi.AlertStore    = (*Store)(nil)
	_ kpi.AlertSource   = (*Store)(nil)
	_ kpi.SyncState     = (*Store)(nil)
)

// Open connects to the database dsn names (a postgres:// URL or key=value
// pairs, as pgx takes them: pool_max_conns and the other pgxpool settings
// included) and brings its schema up to date; replicas opening it at once
// migrate it once. now is the clock rollups are built against (time.Now if
// nil). Rollups are built with kpi.DefaultHours unless WithHours says
// otherwise. A database that cannot be reached or migrated gives an
// Unavailable error, naming dsn without its password.
func Open(ctx context.Context, dsn string, now func() time.Time, opts ...Option) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	fail := func(err error) (*Store, error) {
		return nil, kpi.Errorf(kpi.Unavailable, "error.store_open", map[string]any{"Path": Redact(dsn)}, err)
	}
	o, err := sqlstore.OpenOptions(opts)
	if err != nil {
		return fail(fmt.Errorf("postgres: open: %w", err))
	}
	if strings.TrimSpace(dsn) == "" {
		return fail(errors.New("postgres: open: a postgres:// URL is required"))
	}
	cfg, err := pgxpool.ParseConfig(dsn) // its errors leave the password out
	if err != nil {
		return fail(fmt.Errorf("postgres: open: %w", err))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fail(fmt.Errorf("postgres: open: %w", err))
	}
	// The pool connects lazily: migrating is what surfaces a bad address.
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return fail(err)
	}
	s := &Store{pool: pool, now: now}
	if err := s.useHours(ctx, o.Hours, o.Fingerprint); err != nil {
		pool.Close()
		return fail(err)
	}
	return s, nil
}

// Close closes the pool's connections, waiting for those in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

var (
	kvPassword  = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*)`)
	urlPassword = regexp.MustCompile(`(?i)((?:^|[?&])password=)[^&#]*`)
)

// Redact returns dsn with its password, if any, replaced by xxxxx: what an
// error or a log may show of it.
func Redact(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			u.RawQuery = urlPassword.ReplaceAllString(u.RawQuery, "${1}xxxxx")
			return u.Redacted()
		}
		// Unparsable: drop everything that could be user info.
		if at := strings.LastIndex(dsn, "@"); at >= 0 {
			scheme, _, _ := strings.Cut(dsn, "://")
			return scheme + "://xxxxx@" + urlPassword.ReplaceAllString(dsn[at+1:], "${1}xxxxx")
		}
		return urlPassword.ReplaceAllString(dsn, "${1}xxxxx")
	}
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}

// inTx runs fn in a transaction and commits if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// lockShops takes, for the rest of tx, the advisory lock of each shop: a
// Write and a rollup build of a shop exclude each other, on every replica,
// as SQLite's write lock makes them (see build). The locks are taken in one
// order, that of their keys, so that two writes of several shops cannot
// deadlock; they are per schema, so that stores in other schemas of the
// database do not wait for each other.
func lockShops(ctx context.Context, tx pgx.Tx, shops []string) error {
	if len(shops) == 0 {
		return nil
	}
	keys := make([]int32, 0, len(shops))
	for _, shop := range shops {
		keys = append(keys, shopLockKey(shop))
	}
	// PostgreSQL calls the volatile lock function after the sort, in its order.
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('kpibot.shop:' || current_schema()), k)
		FROM unnest($1::int4[]) AS k ORDER BY k`, keys)
	if err != nil {
		return fmt.Errorf("lock shops: %w", err)
	}
	return nil
}

// shopLockKey is the second half of a shop's advisory lock key (FNV-1a):
// shops that share one merely wait for each other.
func shopLockKey(shop string) int32 {
	h := uint32(2166136261)
	for i := 0; i < len(shop); i++ {
		h ^= uint32(shop[i])
		h *= 16777619
	}
	return int32(h)
}
