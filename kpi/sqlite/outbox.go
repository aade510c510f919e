package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

var _ kpi.Outbox = (*Store)(nil)

// Enqueue adds an item to the outbox unless its key was ever enqueued.
// Times are kept to the second.
func (s *Store) Enqueue(ctx context.Context, it kpi.OutboxItem) (bool, error) {
	if it.Key == "" {
		return false, errors.New("sqlite: enqueue: an outbox item needs a key")
	}
	res, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO outbox
		(key, platform, channel, payload, attempts, next_try, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		it.Key, it.Platform, it.Channel, it.Payload, it.Attempts, it.NextTry.Unix(), it.LastError, it.Created.Unix())
	if err != nil {
		return false, fmt.Errorf("sqlite: enqueue %s: %w", it.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: enqueue %s: %w", it.Key, err)
	}
	return n == 1, nil
}

// Enqueued reports whether key was ever enqueued.
func (s *Store) Enqueued(ctx context.Context, key string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, "SELECT 1 FROM outbox WHERE key = ?", key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: look up outbox item %s: %w", key, err)
	}
	return true, nil
}

// Due returns up to limit unsent items due at now, oldest first.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]kpi.OutboxItem, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+sqlstore.OutboxColumns+
		" FROM outbox WHERE sent_at IS NULL AND next_try <= ? ORDER BY created_at, rowid LIMIT ?", now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read due outbox items: %w", err)
	}
	defer rows.Close()
	var items []kpi.OutboxItem
	for rows.Next() {
		it, err := sqlstore.ScanOutboxItem(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read due outbox items: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read due outbox items: %w", err)
	}
	return items, nil
}

// Claim returns up to limit unsent items due at now, oldest first, and
// leases them until now+lease in the same statement (SQLite runs one
// writer at a time).
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]kpi.OutboxItem, error) {
	until := time.Unix(now.Add(lease).Unix(), 0).UTC() // kept to the second
	rows, err := s.db.QueryContext(ctx, `UPDATE outbox SET next_try = ?
		WHERE key IN (SELECT key FROM outbox WHERE sent_at IS NULL AND next_try <= ? ORDER BY created_at, rowid LIMIT ?)
		RETURNING rowid, key, platform, channel, payload, attempts, last_error, created_at`,
		until.Unix(), now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim due outbox items: %w", err)
	}
	defer rows.Close()
	type claimed struct {
		rowid int64
		it    kpi.OutboxItem
	}
	var got []claimed
	for rows.Next() {
		var c claimed
		var created int64
		if err := rows.Scan(&c.rowid, &c.it.Key, &c.it.Platform, &c.it.Channel, &c.it.Payload, &c.it.Attempts, &c.it.LastError, &created); err != nil {
			return nil, fmt.Errorf("sqlite: claim due outbox items: %w", err)
		}
		c.it.Created = time.Unix(created, 0).UTC()
		c.it.NextTry = until
		got = append(got, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: claim due outbox items: %w", err)
	}
	// RETURNING keeps no order: oldest first, as Due.
	slices.SortFunc(got, func(a, b claimed) int {
		return cmp.Or(a.it.Created.Compare(b.it.Created), cmp.Compare(a.rowid, b.rowid))
	})
	items := make([]kpi.OutboxItem, len(got))
	for i, c := range got {
		items[i] = c.it
	}
	return items, nil
}

// Extend moves the NextTry of the unsent items of keys to until.
func (s *Store) Extend(ctx context.Context, keys []string, until time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, 0, len(keys)+1)
	args = append(args, until.Unix())
	for _, k := range keys {
		args = append(args, k)
	}
	_, err := s.db.ExecContext(ctx, "UPDATE outbox SET next_try = ? WHERE sent_at IS NULL AND key IN "+params(len(keys)), args...)
	if err != nil {
		return fmt.Errorf("sqlite: extend the lease of %d outbox items: %w", len(keys), err)
	}
	return nil
}

// MarkSent records that an item was delivered, as the platform's message
// ref; the first delivery's time and ref stay if it is marked twice.
func (s *Store) MarkSent(ctx context.Context, key string, at time.Time, ref string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE outbox SET ref = CASE WHEN sent_at IS NULL THEN ? ELSE ref END,
		sent_at = COALESCE(sent_at, ?) WHERE key = ?`, ref, at.Unix(), key)
	return outboxUpdated(res, err, "mark outbox item "+key+" sent", "no such item")
}

// Item returns the item of key, sent or not.
func (s *Store) Item(ctx context.Context, key string) (kpi.OutboxItem, bool, error) {
	it, err := sqlstore.ScanOutboxItem(s.db.QueryRowContext(ctx, "SELECT "+sqlstore.OutboxColumns+" FROM outbox WHERE key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return kpi.OutboxItem{}, false, nil
	}
	if err != nil {
		return kpi.OutboxItem{}, false, fmt.Errorf("sqlite: read outbox item %s: %w", key, err)
	}
	return it, true, nil
}

// MarkFailed records a failed delivery of an unsent item.
func (s *Store) MarkFailed(ctx context.Context, key string, next time.Time, reason string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_try = ?, last_error = ?
		WHERE key = ? AND sent_at IS NULL`, next.Unix(), reason, key)
	return outboxUpdated(res, err, "mark outbox item "+key+" failed", "no such unsent item")
}

// outboxUpdated checks that an update of the outbox changed an item; none is
// the error missing.
func outboxUpdated(res sql.Result, err error, what, missing string) error {
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = errors.New(missing)
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return nil
}

// Pending returns the number of unsent items.
func (s *Store) Pending(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM outbox WHERE sent_at IS NULL").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count pending outbox items: %w", err)
	}
	return n, nil
}
