package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// Enqueue adds an item to the outbox unless its key was ever enqueued.
// Times are kept to the second.
func (s *Store) Enqueue(ctx context.Context, it kpi.OutboxItem) (bool, error) {
	if it.Key == "" {
		return false, errors.New("postgres: enqueue: an outbox item needs a key")
	}
	payload := it.Payload
	if payload == nil {
		payload = []byte{} // the column is NOT NULL, as SQLite's, which takes an empty blob
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO outbox
		(key, platform, channel, payload, attempts, next_try, last_error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (key) DO NOTHING`,
		it.Key, it.Platform, it.Channel, payload, it.Attempts, it.NextTry.Unix(), it.LastError, it.Created.Unix())
	if err != nil {
		return false, fmt.Errorf("postgres: enqueue %s: %w", it.Key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Enqueued reports whether key was ever enqueued.
func (s *Store) Enqueued(ctx context.Context, key string) (bool, error) {
	var found bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM outbox WHERE key = $1)", key).Scan(&found); err != nil {
		return false, fmt.Errorf("postgres: look up outbox item %s: %w", key, err)
	}
	return found, nil
}

// Due returns up to limit unsent items due at now, oldest first.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]kpi.OutboxItem, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+sqlstore.OutboxColumns+
		" FROM outbox WHERE sent_at IS NULL AND next_try <= $1 ORDER BY created_at, seq LIMIT $2", now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read due outbox items: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kpi.OutboxItem, error) { return sqlstore.ScanOutboxItem(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: read due outbox items: %w", err)
	}
	return items, nil
}

// Claim returns up to limit unsent items due at now, oldest first, and
// leases them until now+lease in the same statement; rows another claim
// holds are skipped (FOR UPDATE SKIP LOCKED), so replicas flushing at once
// never take the same item.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]kpi.OutboxItem, error) {
	until := time.Unix(now.Add(lease).Unix(), 0).UTC() // kept to the second
	rows, err := s.pool.Query(ctx, `UPDATE outbox o SET next_try = $1
		FROM (SELECT key FROM outbox WHERE sent_at IS NULL AND next_try <= $2 ORDER BY created_at, seq LIMIT $3
			FOR UPDATE SKIP LOCKED) due
		WHERE o.key = due.key
		RETURNING o.seq, o.key, o.platform, o.channel, o.payload, o.attempts, o.last_error, o.created_at`,
		until.Unix(), now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim due outbox items: %w", err)
	}
	type claimed struct {
		seq int64
		it  kpi.OutboxItem
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		var created int64
		err := r.Scan(&c.seq, &c.it.Key, &c.it.Platform, &c.it.Channel, &c.it.Payload, &c.it.Attempts, &c.it.LastError, &created)
		c.it.Created = time.Unix(created, 0).UTC()
		c.it.NextTry = until
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim due outbox items: %w", err)
	}
	// RETURNING keeps no order: oldest first, as Due.
	slices.SortFunc(got, func(a, b claimed) int {
		return cmp.Or(a.it.Created.Compare(b.it.Created), cmp.Compare(a.seq, b.seq))
	})
	items := make([]kpi.OutboxItem, len(got))
	for i, c := range got {
		items[i] = c.it
	}
	return items, nil
}

// Extend moves the NextTry of the unsent items of keys to until.
func (s *Store) Extend(ctx context.Context, keys []string, until time.Time) error {
	_, err := s.pool.Exec(ctx, "UPDATE outbox SET next_try = $1 WHERE sent_at IS NULL AND key = ANY($2::text[])", until.Unix(), keys)
	if err != nil {
		return fmt.Errorf("postgres: extend the lease of %d outbox items: %w", len(keys), err)
	}
	return nil
}

// MarkSent records that an item was delivered, as the platform's message
// ref; the first delivery's time and ref stay if it is marked twice.
func (s *Store) MarkSent(ctx context.Context, key string, at time.Time, ref string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET ref = CASE WHEN sent_at IS NULL THEN $1 ELSE ref END,
		sent_at = COALESCE(sent_at, $2) WHERE key = $3`, ref, at.Unix(), key)
	return updated(tag, err, "mark outbox item "+key+" sent", "no such item")
}

// Item returns the item of key, sent or not.
func (s *Store) Item(ctx context.Context, key string) (kpi.OutboxItem, bool, error) {
	it, err := sqlstore.ScanOutboxItem(s.pool.QueryRow(ctx, "SELECT "+sqlstore.OutboxColumns+" FROM outbox WHERE key = $1", key))
	if errors.Is(err, pgx.ErrNoRows) {
		return kpi.OutboxItem{}, false, nil
	}
	if err != nil {
		return kpi.OutboxItem{}, false, fmt.Errorf("postgres: read outbox item %s: %w", key, err)
	}
	return it, true, nil
}

// MarkFailed records a failed delivery of an unsent item.
func (s *Store) MarkFailed(ctx context.Context, key string, next time.Time, reason string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_try = $1, last_error = $2
		WHERE key = $3 AND sent_at IS NULL`, next.Unix(), reason, key)
	return updated(tag, err, "mark outbox item "+key+" failed", "no such unsent item")
}

// Pending returns the number of unsent items.
func (s *Store) Pending(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE sent_at IS NULL").Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count pending outbox items: %w", err)
	}
	return n, nil
}
