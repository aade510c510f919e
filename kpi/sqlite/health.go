package sqlite

import (
	"context"
	"fmt"
)

// Ping reads the store's file with a trivial query: whether the store
// answers at all, for serve's /readyz.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// AlertCounts counts the alert episodes not resolved, by state ("open",
// "acked", "snoozed"); a state no episode is in is absent.
func (s *Store) AlertCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT state, count(*) FROM alerts WHERE state <> 'resolved' GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("sqlite: count alerts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("sqlite: count alerts: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count alerts: %w", err)
	}
	return out, nil
}
