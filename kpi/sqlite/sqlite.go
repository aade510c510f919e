// Package sqlite is the embedded kpi.Store: one SQLite file holding the raw records and the daily fact rollups built from them.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" database/sql driver

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// Store keeps a seller's records in one SQLite file. It is safe for
// concurrent use, also by several processes sharing the file.
type Store struct {
	db    *sql.DB
	now   func() time.Time
	hours kpi.BusinessHours // what rollups are built with
}

var (
	_ kpi.Store         = (*Store)(nil)
	_ kpi.ChatChannels  = (*Store)(nil)
	_ kpi.BindCodes     = (*Store)(nil)
	_ kpi.ChannelLister = (*Store)(nil)
)

// Open opens the SQLite file at path, creating it if needed, and brings its
// schema up to date. now is the clock rollups are built against (time.Now if
// nil). Rollups are built with kpi.DefaultHours unless WithHours says
// otherwise. A file that cannot be opened or written gives an Unavailable
// error.
func Open(ctx context.Context, path string, now func() time.Time, opts ...Option) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	fail := func(err error) (*Store, error) {
		return nil, kpi.Errorf(kpi.Unavailable, "error.store_open", map[string]any{"Path": path}, err)
	}
	o, err := sqlstore.OpenOptions(opts)
	if err != nil {
		return fail(fmt.Errorf("sqlite: open: %w", err))
	}
	// "" and ":memory:" would give every pooled connection a database of its own.
	if path == "" || path == ":memory:" {
		return fail(errors.New("sqlite: open: a file path is required"))
	}
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return fail(fmt.Errorf("sqlite: open: %w", err))
	}
	// SQLite opens the file lazily: migrating is what surfaces a bad path.
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return fail(err)
	}
	s := &Store{db: db, now: now}
	if err := s.useHours(ctx, o.Hours, o.Fingerprint); err != nil {
		db.Close()
		return fail(err)
	}
	return s, nil
}

// dsn returns the driver's data source name for a file path: WAL so that
// readers do not wait for writers, a busy timeout for writers that do wait,
// and BEGIN IMMEDIATE for sql.Tx too (see writeTx), so that a transaction
// takes the write lock up front rather than failing when it upgrades from
// reading. synchronous=NORMAL is safe with WAL: a power cut can lose the
// last commits, never corrupt the file.
func dsn(path string) string {
	// A file: URI, so that a '?' or '#' in the path is not read as parameters.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate" +
		"&_synchronous=NORMAL&_cache_size=-65536"
}

// writeTx runs fn in a write transaction (BEGIN IMMEDIATE) on one pooled
// connection and commits if fn returns nil.
//
// It manages the transaction by hand rather than with sql.Tx because
// database/sql starts a goroutine for each query made in a sql.Tx (to watch
// the transaction's context), which costs more than the query itself when a
// write reads a row or two per record. For the same reason the statements
// run per record are given context.WithoutCancel(ctx), and the loops check
// ctx themselves.
func (s *Store) writeTx(ctx context.Context, fn func(c *sql.Conn) error) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: connect: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	err = fn(c)
	if err == nil {
		if _, err = c.ExecContext(ctx, "COMMIT"); err != nil {
			err = fmt.Errorf("sqlite: commit: %w", err)
		}
	}
	if err != nil {
		if _, rerr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			// Never hand a connection with an open transaction back to the pool.
			c.Raw(func(any) error { return driver.ErrBadConn })
		}
		return err
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// migrations are the schema changes, applied in the order of their names.
// Each name starts with its version: 0001_init.sql is version 1. Versions
// increase but may leave gaps, so that two changes made at once can each
// take a number; the table schema_migrations records which versions a
// database has, and PRAGMA user_version the highest.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the embedded migrations the database lacks.
func migrate(ctx context.Context, db *sql.DB) error { return migrateFS(ctx, db, migrations) }

// migrateFS applies the migrations of fsys (migrations/*.sql) that the
// database lacks, in the order of their versions, each in a transaction of
// its own together with its record in schema_migrations, so that a reopen
// (or a second process racing this one) applies nothing twice, and a
// migration numbered below one already applied (version 6 arriving after 7)
// is still applied. A database that has a version this program does not
// know is newer than the program, and is left alone.
func migrateFS(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "migrations/*.sql") // sorted
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	versions := make([]int, len(names))
	for i, name := range names {
		version, _, _ := strings.Cut(path.Base(name), "_")
		v, err := strconv.Atoi(version)
		if err != nil || v < 1 {
			return fmt.Errorf("sqlite: migrate: %s: want a version first in the name", name)
		}
		if i > 0 && v <= versions[i-1] {
			return fmt.Errorf("sqlite: migrate: %s and %s: want versions that increase with the names", names[i-1], name)
		}
		versions[i] = v
	}
	if err := trackMigrations(ctx, db, versions); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for i, name := range names {
		if err := migrateOne(ctx, db, fsys, name, versions[i]); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", name, err)
		}
	}
	return nil
}

// trackMigrations creates schema_migrations if the database lacks it — a
// database migrated before it existed has versions 1 to user_version,
// which were applied without gaps — and checks that the database has no
// version the program does not know.
func trackMigrations(ctx context.Context, db *sql.DB, known []int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return err
	}
	latest := 0
	if len(known) > 0 {
		latest = known[len(known)-1]
	}
	if current > latest {
		return fmt.Errorf("schema version %d is newer than this program's %d", current, latest)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"); err != nil {
		return err
	}
	var tracked int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&tracked); err != nil {
		return err
	}
	if tracked == 0 && current > 0 {
		if _, err := tx.ExecContext(ctx, `WITH RECURSIVE v(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM v WHERE n < ?)
			INSERT INTO schema_migrations (version) SELECT n FROM v`, current); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return err
		}
		if _, ok := slices.BinarySearch(known, v); !ok {
			return fmt.Errorf("schema version %d is unknown to this program: the database is newer, or from another branch", v)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return tx.Commit()
}

func migrateOne(ctx context.Context, db *sql.DB, fsys fs.FS, name string, version int) error {
	script, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var applied int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&applied); err != nil {
		return err
	}
	if applied > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(script)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES (?)", version); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return err
	}
	// PRAGMA takes no parameters; version is an int we control.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", max(current, version))); err != nil {
		return err
	}
	return tx.Commit()
}

// CopyTo writes a consistent copy of the database to path (a new file), as
// a snapshot to try things on.
func (s *Store) CopyTo(ctx context.Context, path string) error {
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("sqlite: copy the database: %w", err)
	}
	return nil
}
