package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

var (
	_ kpi.AlertStore  = (*Store)(nil)
	_ kpi.AlertSource = (*Store)(nil)
)

// ActiveAlert returns the episode of key that is not resolved, if any.
func (s *Store) ActiveAlert(ctx context.Context, key string) (kpi.Alert, bool, error) {
	row := s.db.QueryRowContext(ctx, "SELECT "+sqlstore.AlertColumns+" FROM alerts WHERE key = ? AND state <> 'resolved'", key)
	a, err := sqlstore.ScanAlert(row)
	if errors.Is(err, sql.ErrNoRows) {
		return kpi.Alert{}, false, nil
	}
	if err != nil {
		return kpi.Alert{}, false, fmt.Errorf("sqlite: read active alert %s: %w", key, err)
	}
	return a, true, nil
}

// Alert returns an episode by its id.
func (s *Store) Alert(ctx context.Context, id int64) (kpi.Alert, bool, error) {
	a, err := sqlstore.ScanAlert(s.db.QueryRowContext(ctx, "SELECT "+sqlstore.AlertColumns+" FROM alerts WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return kpi.Alert{}, false, nil
	}
	if err != nil {
		return kpi.Alert{}, false, fmt.Errorf("sqlite: read alert %d: %w", id, err)
	}
	return a, true, nil
}

// ActiveAlerts lists the episodes not resolved, oldest first.
func (s *Store) ActiveAlerts(ctx context.Context) ([]kpi.Alert, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+sqlstore.AlertColumns+" FROM alerts WHERE state <> 'resolved' ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: list active alerts: %w", err)
	}
	defer rows.Close()
	var out []kpi.Alert
	for rows.Next() {
		a, err := sqlstore.ScanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list active alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list active alerts: %w", err)
	}
	return out, nil
}

// SaveAlert inserts a, setting its ID, or updates the episode of a.ID.
// Times are kept to the second. A second episode of a key that is not
// over is refused.
func (s *Store) SaveAlert(ctx context.Context, a *kpi.Alert) error {
	vals, err := sqlstore.AlertValues(a)
	if err != nil {
		return fmt.Errorf("sqlite: save alert %s: %w", a.Key, err)
	}
	if a.ID == 0 {
		res, err := s.db.ExecContext(ctx, `INSERT INTO alerts (key, metric, shop, severity, state, opened_at, updated_at, resolved_at,
			snoozed_until, acked_by, escalations, value, target, sample, channels, notified_at, notified_value, updates, paged_at, messages)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, vals...)
		if err != nil {
			return fmt.Errorf("sqlite: save new alert %s: %w", a.Key, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("sqlite: save new alert %s: %w", a.Key, err)
		}
		a.ID = id
		return nil
	}
	res, err := s.db.ExecContext(ctx, `UPDATE alerts SET key = ?, metric = ?, shop = ?, severity = ?, state = ?, opened_at = ?,
		updated_at = ?, resolved_at = ?, snoozed_until = ?, acked_by = ?, escalations = ?, value = ?, target = ?, sample = ?,
		channels = ?, notified_at = ?, notified_value = ?, updates = ?, paged_at = ?, messages = ? WHERE id = ?`, append(vals, a.ID)...)
	return outboxUpdated(res, err, fmt.Sprintf("save alert %d", a.ID), "no such alert")
}

// Streak returns the streak of key; a key never evaluated has none.
func (s *Store) Streak(ctx context.Context, key string) (kpi.AlertStreak, error) {
	st := kpi.AlertStreak{Key: key}
	err := s.db.QueryRowContext(ctx, "SELECT breached, cleared, hold FROM alert_streaks WHERE key = ?", key).
		Scan(&st.Breached, &st.Cleared, &st.Hold)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return kpi.AlertStreak{}, fmt.Errorf("sqlite: read alert streak %s: %w", key, err)
	}
	return st, nil
}

// SaveStreak keeps st.
func (s *Store) SaveStreak(ctx context.Context, st kpi.AlertStreak) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO alert_streaks (key, breached, cleared, hold) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET breached = excluded.breached, cleared = excluded.cleared, hold = excluded.hold`,
		st.Key, st.Breached, st.Cleared, st.Hold)
	if err != nil {
		return fmt.Errorf("sqlite: save alert streak %s: %w", st.Key, err)
	}
	return nil
}

// Audit appends e to the audit log; times are kept to the second.
func (s *Store) Audit(ctx context.Context, e kpi.AuditEntry) error {
	if err := audit(ctx, s.db, e); err != nil {
		return fmt.Errorf("sqlite: audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// audit writes an audit entry through x: the database, or a connection in
// a transaction.
func audit(ctx context.Context, x interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}, e kpi.AuditEntry) error {
	_, err := x.ExecContext(ctx, "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
		e.At.Unix(), e.Actor, e.Action, e.Target, e.Detail)
	return err
}

// AuditLog returns the entries about target, in the order they were made.
func (s *Store) AuditLog(ctx context.Context, target string) ([]kpi.AuditEntry, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT at, actor, action, target, detail FROM audit_log WHERE target = ? ORDER BY rowid", target)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit log of %s: %w", target, err)
	}
	defer rows.Close()
	var out []kpi.AuditEntry
	for rows.Next() {
		var e kpi.AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: read audit log of %s: %w", target, err)
		}
		e.At = time.Unix(at, 0).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read audit log of %s: %w", target, err)
	}
	return out, nil
}

// NegativeReviews returns the shop's 1-2 star reviews posted in [from,
// to), newest first, at most limit.
func (s *Store) NegativeReviews(ctx context.Context, shop string, from, to time.Time, limit int) ([]kpi.Review, error) {
	// posted_day narrows the search to the index's days.
	rows, err := s.db.QueryContext(ctx, "SELECT "+reviewCodec.List("t")+` FROM reviews t
		WHERE t.shop = ? AND t.posted_day BETWEEN ? AND ? AND t.posted >= ? AND t.posted < ? AND t.rating <= 2
		ORDER BY t.posted DESC, t.id LIMIT ?`,
		shop, int64(kpi.DateOf(from)), int64(kpi.DateOf(to)), from.Unix(), to.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read negative reviews of %s: %w", shop, err)
	}
	defer rows.Close()
	var out []kpi.Review
	for rows.Next() {
		r, err := reviewCodec.Scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read negative reviews of %s: %w", shop, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read negative reviews of %s: %w", shop, err)
	}
	return out, nil
}

// LastWrite returns when records of the shop were last written.
func (s *Store) LastWrite(ctx context.Context, shop string) (time.Time, bool, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, "SELECT written_at FROM shop_writes WHERE shop = ?", shop).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: read last write of %s: %w", shop, err)
	}
	return time.Unix(at, 0).UTC(), true, nil
}

// recordWrites notes, in a Write's transaction, that the shops of b were
// written at at, and when the first records of each were.
func (w *writer) recordWrites(ctx context.Context, b *kpi.Batch, at time.Time) error {
	st, err := w.stmt(ctx, `INSERT INTO shop_writes (shop, written_at, data_at) VALUES (?, ?, ?)
		ON CONFLICT (shop) DO UPDATE SET written_at = excluded.written_at,
		data_at = COALESCE(shop_writes.data_at, excluded.data_at)`)
	if err != nil {
		return fmt.Errorf("sqlite: record writes: %w", err)
	}
	withData := b.RecordShopIDs()
	for _, shop := range b.ShopIDs() {
		var dataAt any // NULL: no records of the shop in b
		if slices.Contains(withData, shop) {
			dataAt = at.Unix()
		}
		if _, err := st.ExecContext(context.WithoutCancel(ctx), shop, at.Unix(), dataAt); err != nil {
			return fmt.Errorf("sqlite: record a write of %s: %w", shop, err)
		}
	}
	return nil
}

// Recorded tells which of shops have had records stored.
func (s *Store) Recorded(ctx context.Context, shops []string) (map[string]bool, error) {
	out := make(map[string]bool, len(shops))
	if len(shops) == 0 {
		return out, nil
	}
	q := "SELECT shop FROM shop_writes WHERE data_at IS NOT NULL AND shop IN " + params(len(shops))
	args := make([]any, len(shops))
	for i, s := range shops {
		args[i] = s
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: shops with records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var shop string
		if err := rows.Scan(&shop); err != nil {
			return nil, fmt.Errorf("sqlite: shops with records: %w", err)
		}
		out[shop] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: shops with records: %w", err)
	}
	return out, nil
}

// RuleOverrides lists the rule changes made from chat, by metric then shop.
func (s *Store) RuleOverrides(ctx context.Context) ([]kpi.RuleOverride, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT spec, updated_at, updated_by FROM alert_rules ORDER BY metric, shop")
	if err != nil {
		return nil, fmt.Errorf("sqlite: read rule overrides: %w", err)
	}
	defer rows.Close()
	var out []kpi.RuleOverride
	for rows.Next() {
		var spec string
		var at int64
		var o kpi.RuleOverride
		if err := rows.Scan(&spec, &at, &o.By); err != nil {
			return nil, fmt.Errorf("sqlite: read rule overrides: %w", err)
		}
		if err := json.Unmarshal([]byte(spec), &o); err != nil {
			return nil, fmt.Errorf("sqlite: read rule overrides: %w", err)
		}
		o.Updated = time.Unix(at, 0).UTC()
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read rule overrides: %w", err)
	}
	return out, nil
}

// SaveRuleOverride replaces the override of (o.Metric, o.Shop) and writes
// the audit entry e with it, in one transaction. o.Updated and o.By are
// e's time and actor.
func (s *Store) SaveRuleOverride(ctx context.Context, o kpi.RuleOverride, e kpi.AuditEntry) error {
	spec, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("sqlite: save rule override %s:%s: %w", o.Metric, o.Shop, err)
	}
	err = s.writeTx(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `INSERT INTO alert_rules (metric, shop, spec, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (metric, shop) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			o.Metric, o.Shop, string(spec), e.At.Unix(), e.Actor); err != nil {
			return err
		}
		return audit(ctx, c, e)
	})
	if err != nil {
		return fmt.Errorf("sqlite: save rule override %s:%s: %w", o.Metric, o.Shop, err)
	}
	return nil
}

// DeleteRuleOverride removes the override of (metric, shop) and writes the
// audit entry e with it; false, and no entry, if there was none.
func (s *Store) DeleteRuleOverride(ctx context.Context, metric, shop string, e kpi.AuditEntry) (bool, error) {
	var found bool
	err := s.writeTx(ctx, func(c *sql.Conn) error {
		res, err := c.ExecContext(ctx, "DELETE FROM alert_rules WHERE metric = ? AND shop = ?", metric, shop)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		found = true
		return audit(ctx, c, e)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: delete rule override %s:%s: %w", metric, shop, err)
	}
	return found, nil
}
