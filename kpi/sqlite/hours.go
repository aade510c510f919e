package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// An Option configures a Store at Open.
type Option = sqlstore.Option

// WithHours makes the store build its daily rollups with hours (holidays,
// pause days) rather than kpi.DefaultHours. fingerprint names hours, e.g.
// calendar.Calendar.Fingerprint: equal fingerprints must mean equal hours.
// The store keeps the fingerprint its rollups were built with, and an Open
// with another one deletes them all; each is rebuilt when it is next read.
// Processes sharing a file should agree on the hours, or each Open throws
// away the rollups of the other.
func WithHours(hours kpi.BusinessHours, fingerprint string) Option {
	return sqlstore.WithHours(hours, fingerprint)
}

// useHours makes s build its rollups with hours, named fingerprint: if the
// stored rollups were built with other hours, it deletes them, and records
// fingerprint as the hours of the rollups from now on.
func (s *Store) useHours(ctx context.Context, hours kpi.BusinessHours, fingerprint string) error {
	s.hours = hours
	const read = "SELECT value FROM meta WHERE key = 'rollup_hours'"
	var stored string
	err := s.db.QueryRowContext(ctx, read).Scan(&stored)
	if err == nil && stored == fingerprint {
		return nil // the usual case, without taking the write lock
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: read rollup hours: %w", err)
	}
	err = s.writeTx(ctx, func(c *sql.Conn) error {
		// Again under the write lock: another process may have done it.
		err := c.QueryRowContext(ctx, read).Scan(&stored)
		if err == nil && stored == fingerprint {
			return nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := c.ExecContext(ctx, "DELETE FROM rollups"); err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, "INSERT OR REPLACE INTO meta (key, value) VALUES ('rollup_hours', ?)", fingerprint)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: change rollup hours: %w", err)
	}
	return nil
}

// usable reports whether a rollup of day built at asOf (Unix seconds) may be
// used at now (see sqlstore.Usable).
func (s *Store) usable(day kpi.Date, asOf int64, now time.Time) bool {
	return sqlstore.Usable(s.hours, day, asOf, now)
}
