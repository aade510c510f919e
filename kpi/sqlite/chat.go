package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
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

// channelColumns are the columns of a binding that scanChannel reads, in
// its order; chat_channels and bind_codes both have them.
const channelColumns = "role, lang, shops, digest_at"

// scanChannel scans a row whose columns are lead, then channelColumns, the
// latter into c.
func scanChannel(row interface{ Scan(...any) error }, c *kpi.ChatChannel, lead ...any) error {
	var role, shops string
	if err := row.Scan(append(lead, &role, &c.Lang, &shops, &c.DigestAt)...); err != nil {
		return err
	}
	c.Role = kpi.Role(role)
	if shops != "" {
		c.Shops = strings.Split(shops, ",")
	}
	return nil
}

// ChatChannel returns the binding of a chat channel, if it has one.
func (s *Store) ChatChannel(ctx context.Context, platform, id string) (kpi.ChatChannel, bool, error) {
	var c kpi.ChatChannel
	row := s.db.QueryRowContext(ctx, "SELECT platform, id, "+channelColumns+" FROM chat_channels WHERE platform = ? AND id = ?", platform, id)
	err := scanChannel(row, &c, &c.Platform, &c.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return kpi.ChatChannel{}, false, nil
	}
	if err != nil {
		return kpi.ChatChannel{}, false, fmt.Errorf("sqlite: read chat channel: %w", err)
	}
	return c, true, nil
}

// ChatChannelList returns every bound chat channel, ordered by platform and id.
func (s *Store) ChatChannelList(ctx context.Context) ([]kpi.ChatChannel, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT platform, id, "+channelColumns+" FROM chat_channels ORDER BY platform, id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: list chat channels: %w", err)
	}
	defer rows.Close()
	var list []kpi.ChatChannel
	for rows.Next() {
		var c kpi.ChatChannel
		if err := scanChannel(rows, &c, &c.Platform, &c.ID); err != nil {
			return nil, fmt.Errorf("sqlite: list chat channels: %w", err)
		}
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list chat channels: %w", err)
	}
	return list, nil
}

// BindChatChannel keeps a chat channel's role, language, shops and digest
// time, replacing all of them when it was bound before.
func (s *Store) BindChatChannel(ctx context.Context, c kpi.ChatChannel) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO chat_channels (platform, id, role, lang, shops, digest_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, id) DO UPDATE SET role = excluded.role, lang = excluded.lang, shops = excluded.shops,
		digest_at = excluded.digest_at`,
		c.Platform, c.ID, string(c.Role), c.Lang, strings.Join(c.Shops, ","), c.DigestAt)
	if err != nil {
		return fmt.Errorf("sqlite: bind chat channel: %w", err)
	}
	return nil
}

// SaveBindCode keeps a bind code by its hash.
func (s *Store) SaveBindCode(ctx context.Context, hash string, c kpi.BindCode) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO bind_codes (hash, "+channelColumns+", expires_at) VALUES (?, ?, ?, ?, ?, ?)",
		hash, string(c.Channel.Role), c.Channel.Lang, strings.Join(c.Channel.Shops, ","), c.Channel.DigestAt, c.Expires.Unix())
	if err != nil {
		return fmt.Errorf("sqlite: save bind code: %w", err)
	}
	return nil
}

// UseBindCode marks a bind code used and returns it. One statement both
// checks and marks it, so that of two channels using it at once only one
// gets it.
func (s *Store) UseBindCode(ctx context.Context, hash string, now time.Time) (kpi.BindCode, error) {
	var expires int64
	var c kpi.BindCode
	row := s.db.QueryRowContext(ctx, `UPDATE bind_codes SET used_at = ?
		WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING expires_at, `+channelColumns,
		now.Unix(), hash, now.Unix())
	err := scanChannel(row, &c.Channel, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return kpi.BindCode{}, s.unusableBindCode(ctx, hash)
	}
	if err != nil {
		return kpi.BindCode{}, fmt.Errorf("sqlite: use bind code: %w", err)
	}
	c.Expires = time.Unix(expires, 0).UTC()
	return c, nil
}

// unusableBindCode says why a code could not be used.
func (s *Store) unusableBindCode(ctx context.Context, hash string) error {
	var used bool
	err := s.db.QueryRowContext(ctx, "SELECT used_at IS NOT NULL FROM bind_codes WHERE hash = ?", hash).Scan(&used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return kpi.Errorf(kpi.NotFound, "error.bind_code_unknown", nil, nil)
	case err != nil:
		return fmt.Errorf("sqlite: use bind code: %w", err)
	case used:
		return kpi.Errorf(kpi.NotFound, "error.bind_code_used", nil, nil)
	}
	return kpi.Errorf(kpi.NotFound, "error.bind_code_expired", nil, nil)
}
