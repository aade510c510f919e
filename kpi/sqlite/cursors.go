package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kpibot/kpibot/kpi"
)

var _ kpi.SyncState = (*Store)(nil)

// SyncCursor returns the cursor of a shop's stream; "" if it has none.
func (s *Store) SyncCursor(ctx context.Context, shop, stream string) (string, error) {
	var c string
	err := s.db.QueryRowContext(ctx, "SELECT cursor FROM sync_cursors WHERE shop = ? AND stream = ?", shop, stream).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: read sync cursor %s/%s: %w", shop, stream, err)
	}
	return c, nil
}

// SaveSyncCursor keeps the cursor of a shop's stream; "" removes it.
func (s *Store) SaveSyncCursor(ctx context.Context, shop, stream, cursor string) error {
	var err error
	if cursor == "" {
		_, err = s.db.ExecContext(ctx, "DELETE FROM sync_cursors WHERE shop = ? AND stream = ?", shop, stream)
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO sync_cursors (shop, stream, cursor, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (shop, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
			shop, stream, cursor, s.now().Unix())
	}
	if err != nil {
		return fmt.Errorf("sqlite: save sync cursor %s/%s: %w", shop, stream, err)
	}
	return nil
}
