package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Ping reads the schema with a trivial query: whether the store answers at
// all, for serve's /readyz.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// AlertCounts counts the alert episodes not resolved, by state ("open",
// "acked", "snoozed"); a state no episode is in is absent.
func (s *Store) AlertCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, "SELECT state, count(*) FROM alerts WHERE state <> 'resolved' GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("postgres: count alerts: %w", err)
	}
	out := map[string]int{}
	var state string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&state, &n}, func() error { out[state] = n; return nil }); err != nil {
		return nil, fmt.Errorf("postgres: count alerts: %w", err)
	}
	return out, nil
}
