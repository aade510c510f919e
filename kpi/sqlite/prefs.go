package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// UserLang returns the language user chose, or "" if they chose none.
func (s *Store) UserLang(ctx context.Context, user string) (string, error) {
	var lang string
	err := s.db.QueryRowContext(ctx, "SELECT lang FROM user_prefs WHERE user_id = ?", user).Scan(&lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: read language of a user: %w", err)
	}
	return lang, nil
}

// SetUserLang keeps the language user chose.
func (s *Store) SetUserLang(ctx context.Context, user, lang string) error {
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO user_prefs (user_id, lang) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang",
		user, lang)
	if err != nil {
		return fmt.Errorf("sqlite: keep language of a user: %w", err)
	}
	return nil
}

// FirstSeen records key and reports whether it was new: a webhook delivery
// answered once, whatever the platform retries and across restarts.
func (s *Store) FirstSeen(ctx context.Context, key string) (bool, error) {
	res, err := s.db.ExecContext(ctx, "INSERT OR IGNORE INTO seen_events (key, seen_at) VALUES (?, ?)", key, s.now().Unix())
	if err != nil {
		return false, fmt.Errorf("sqlite: remember event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: remember event: %w", err)
	}
	return n == 1, nil
}
