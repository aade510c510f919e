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
