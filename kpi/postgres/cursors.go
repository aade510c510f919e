package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SyncCursor returns the cursor of a shop's stream; "" if it has none.
func (s *Store) SyncCursor(ctx context.Context, shop, stream string) (string, error) {
	var c string
	err := s.pool.QueryRow(ctx, "SELECT cursor FROM sync_cursors WHERE shop = $1 AND stream = $2", shop, stream).Scan(&c)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: read sync cursor %s/%s: %w", shop, stream, err)
	}
	return c, nil
}

// SaveSyncCursor keeps the cursor of a shop's stream; "" removes it.
func (s *Store) SaveSyncCursor(ctx context.Context, shop, stream, cursor string) error {
	var err error
	if cursor == "" {
		_, err = s.pool.Exec(ctx, "DELETE FROM sync_cursors WHERE shop = $1 AND stream = $2", shop, stream)
	} else {
		_, err = s.pool.Exec(ctx, `INSERT INTO sync_cursors (shop, stream, cursor, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (shop, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
			shop, stream, cursor, s.now().Unix())
	}
	if err != nil {
		return fmt.Errorf("postgres: save sync cursor %s/%s: %w", shop, stream, err)
	}
	return nil
}
