package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kpibot/kpibot/kpi"
)

// UserLang returns the language user chose, or "" if they chose none.
func (s *Store) UserLang(ctx context.Context, user string) (string, error) {
	var lang string
	err := s.pool.QueryRow(ctx, "SELECT lang FROM user_prefs WHERE user_id = $1", user).Scan(&lang)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: read language of a user: %w", err)
	}
	return lang, nil
}

// SetUserLang keeps the language user chose.
func (s *Store) SetUserLang(ctx context.Context, user, lang string) error {
	_, err := s.pool.Exec(ctx,
		"INSERT INTO user_prefs (user_id, lang) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang",
		user, lang)
	if err != nil {
		return fmt.Errorf("postgres: keep language of a user: %w", err)
	}
	return nil
}

// FirstSeen records key and reports whether it was new: a webhook delivery
// answered once, whatever the platform retries, across restarts and across
// replicas (of two recording a key at once, one finds it new).
func (s *Store) FirstSeen(ctx context.Context, key string) (bool, error) {
	tag, err := s.pool.Exec(ctx, "INSERT INTO seen_events (key, seen_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
		key, s.now().Unix())
	if err != nil {
		return false, fmt.Errorf("postgres: remember event: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// channelColumns are the columns of a binding that scanChannel reads, in
// its order; chat_channels and bind_codes both have them.
const channelColumns = "role, lang, shops, digest_at"

// scanChannel scans a row whose columns are lead, then channelColumns, the
// latter into c.
func scanChannel(row pgx.Row, c *kpi.ChatChannel, lead ...any) error {
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
	row := s.pool.QueryRow(ctx, "SELECT platform, id, "+channelColumns+" FROM chat_channels WHERE platform = $1 AND id = $2", platform, id)
	err := scanChannel(row, &c, &c.Platform, &c.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return kpi.ChatChannel{}, false, nil
	}
	if err != nil {
		return kpi.ChatChannel{}, false, fmt.Errorf("postgres: read chat channel: %w", err)
	}
	return c, true, nil
}

// ChatChannelList returns every bound chat channel, ordered by platform and
// id (bytewise, as SQLite orders).
func (s *Store) ChatChannelList(ctx context.Context) ([]kpi.ChatChannel, error) {
	rows, err := s.pool.Query(ctx, "SELECT platform, id, "+channelColumns+
		` FROM chat_channels ORDER BY platform COLLATE "C", id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list chat channels: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kpi.ChatChannel, error) {
		var c kpi.ChatChannel
		err := scanChannel(r, &c, &c.Platform, &c.ID)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list chat channels: %w", err)
	}
	return list, nil
}

// BindChatChannel keeps a chat channel's role, language, shops and digest
// time, replacing all of them when it was bound before.
func (s *Store) BindChatChannel(ctx context.Context, c kpi.ChatChannel) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO chat_channels (platform, id, role, lang, shops, digest_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (platform, id) DO UPDATE SET role = excluded.role, lang = excluded.lang, shops = excluded.shops,
		digest_at = excluded.digest_at`,
		c.Platform, c.ID, string(c.Role), c.Lang, strings.Join(c.Shops, ","), c.DigestAt)
	if err != nil {
		return fmt.Errorf("postgres: bind chat channel: %w", err)
	}
	return nil
}

// SaveBindCode keeps a bind code by its hash.
func (s *Store) SaveBindCode(ctx context.Context, hash string, c kpi.BindCode) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO bind_codes (hash, "+channelColumns+", expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
		hash, string(c.Channel.Role), c.Channel.Lang, strings.Join(c.Channel.Shops, ","), c.Channel.DigestAt, c.Expires.Unix())
	if err != nil {
		return fmt.Errorf("postgres: save bind code: %w", err)
	}
	return nil
}

// UseBindCode marks a bind code used and returns it. One statement both
// checks and marks it, so that of two channels using it at once only one
// gets it: the other waits for the row, then finds it used.
func (s *Store) UseBindCode(ctx context.Context, hash string, now time.Time) (kpi.BindCode, error) {
	var expires int64
	var c kpi.BindCode
	row := s.pool.QueryRow(ctx, `UPDATE bind_codes SET used_at = $1
		WHERE hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING expires_at, `+channelColumns,
		now.Unix(), hash)
	err := scanChannel(row, &c.Channel, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return kpi.BindCode{}, s.unusableBindCode(ctx, hash)
	}
	if err != nil {
		return kpi.BindCode{}, fmt.Errorf("postgres: use bind code: %w", err)
	}
	c.Expires = time.Unix(expires, 0).UTC()
	return c, nil
}

// unusableBindCode says why a code could not be used.
func (s *Store) unusableBindCode(ctx context.Context, hash string) error {
	var used bool
	err := s.pool.QueryRow(ctx, "SELECT used_at IS NOT NULL FROM bind_codes WHERE hash = $1", hash).Scan(&used)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return kpi.Errorf(kpi.NotFound, "error.bind_code_unknown", nil, nil)
	case err != nil:
		return fmt.Errorf("postgres: use bind code: %w", err)
	case used:
		return kpi.Errorf(kpi.NotFound, "error.bind_code_used", nil, nil)
	}
	return kpi.Errorf(kpi.NotFound, "error.bind_code_expired", nil, nil)
}
