package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// ActiveAlert returns the episode of key that is not resolved, if any.
func (s *Store) ActiveAlert(ctx context.Context, key string) (kpi.Alert, bool, error) {
	a, err := sqlstore.ScanAlert(s.pool.QueryRow(ctx, "SELECT "+sqlstore.AlertColumns+" FROM alerts WHERE key = $1 AND state <> 'resolved'", key))
	if errors.Is(err, pgx.ErrNoRows) {
		return kpi.Alert{}, false, nil
	}
	if err != nil {
		return kpi.Alert{}, false, fmt.Errorf("postgres: read active alert %s: %w", key, err)
	}
	return a, true, nil
}

// Alert returns an episode by its id.
func (s *Store) Alert(ctx context.Context, id int64) (kpi.Alert, bool, error) {
	a, err := sqlstore.ScanAlert(s.pool.QueryRow(ctx, "SELECT "+sqlstore.AlertColumns+" FROM alerts WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return kpi.Alert{}, false, nil
	}
	if err != nil {
		return kpi.Alert{}, false, fmt.Errorf("postgres: read alert %d: %w", id, err)
	}
	return a, true, nil
}

// ActiveAlerts lists the episodes not resolved, oldest first.
func (s *Store) ActiveAlerts(ctx context.Context) ([]kpi.Alert, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+sqlstore.AlertColumns+" FROM alerts WHERE state <> 'resolved' ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("postgres: list active alerts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kpi.Alert, error) { return sqlstore.ScanAlert(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list active alerts: %w", err)
	}
	return out, nil
}

// SaveAlert inserts a, setting its ID, or updates the episode of a.ID.
// Times are kept to the second. A second episode of a key that is not
// over is refused.
func (s *Store) SaveAlert(ctx context.Context, a *kpi.Alert) error {
	vals, err := sqlstore.AlertValues(a)
	if err != nil {
		return fmt.Errorf("postgres: save alert %s: %w", a.Key, err)
	}
	if a.ID == 0 {
		err := s.pool.QueryRow(ctx, `INSERT INTO alerts (key, metric, shop, severity, state, opened_at, updated_at, resolved_at,
			snoozed_until, acked_by, escalations, value, target, sample, channels, notified_at, notified_value, updates, paged_at,
			messages) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) RETURNING id`,
			vals...).Scan(&a.ID)
		if err != nil {
			return fmt.Errorf("postgres: save new alert %s: %w", a.Key, err)
		}
		return nil
	}
	tag, err := s.pool.Exec(ctx, `UPDATE alerts SET key = $1, metric = $2, shop = $3, severity = $4, state = $5, opened_at = $6,
		updated_at = $7, resolved_at = $8, snoozed_until = $9, acked_by = $10, escalations = $11, value = $12, target = $13,
		sample = $14, channels = $15, notified_at = $16, notified_value = $17, updates = $18, paged_at = $19,
		messages = $20 WHERE id = $21`,
		append(vals, a.ID)...)
	return updated(tag, err, fmt.Sprintf("save alert %d", a.ID), "no such alert")
}

// updated checks that an update changed a row; none is the error missing.
func updated(tag pgconn.CommandTag, err error, what, missing string) error {
	if err == nil && tag.RowsAffected() == 0 {
		err = errors.New(missing)
	}
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return nil
}

// Streak returns the streak of key; a key never evaluated has none.
func (s *Store) Streak(ctx context.Context, key string) (kpi.AlertStreak, error) {
	st := kpi.AlertStreak{Key: key}
	err := s.pool.QueryRow(ctx, "SELECT breached, cleared, hold FROM alert_streaks WHERE key = $1", key).
		Scan(&st.Breached, &st.Cleared, &st.Hold)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return kpi.AlertStreak{}, fmt.Errorf("postgres: read alert streak %s: %w", key, err)
	}
	return st, nil
}

// SaveStreak keeps st.
func (s *Store) SaveStreak(ctx context.Context, st kpi.AlertStreak) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO alert_streaks (key, breached, cleared, hold) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO UPDATE SET breached = excluded.breached, cleared = excluded.cleared, hold = excluded.hold`,
		st.Key, st.Breached, st.Cleared, st.Hold)
	if err != nil {
		return fmt.Errorf("postgres: save alert streak %s: %w", st.Key, err)
	}
	return nil
}

// execer runs statements: the pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Audit appends e to the audit log; times are kept to the second.
func (s *Store) Audit(ctx context.Context, e kpi.AuditEntry) error {
	if err := audit(ctx, s.pool, e); err != nil {
		return fmt.Errorf("postgres: audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// audit writes an audit entry through x: the pool, or a transaction.
func audit(ctx context.Context, x execer, e kpi.AuditEntry) error {
	_, err := x.Exec(ctx, "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
		e.At.Unix(), e.Actor, e.Action, e.Target, e.Detail)
	return err
}

// AuditLog returns the entries about target, in the order they were made.
func (s *Store) AuditLog(ctx context.Context, target string) ([]kpi.AuditEntry, error) {
	rows, err := s.pool.Query(ctx, "SELECT at, actor, action, target, detail FROM audit_log WHERE target = $1 ORDER BY seq", target)
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit log of %s: %w", target, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kpi.AuditEntry, error) {
		var e kpi.AuditEntry
		var at int64
		err := r.Scan(&at, &e.Actor, &e.Action, &e.Target, &e.Detail)
		e.At = time.Unix(at, 0).UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit log of %s: %w", target, err)
	}
	return out, nil
}

// NegativeReviews returns the shop's 1-2 star reviews posted in [from,
// to), newest first, at most limit.
func (s *Store) NegativeReviews(ctx context.Context, shop string, from, to time.Time, limit int) ([]kpi.Review, error) {
	// posted_day narrows the search to the index's days.
	out, err := query(ctx, s.pool, &sqlstore.Reviews, `FROM reviews t
		WHERE t.shop = $1 AND t.posted_day BETWEEN $2 AND $3 AND t.posted >= $4 AND t.posted < $5 AND t.rating <= 2
		ORDER BY t.posted DESC, t.id COLLATE "C" LIMIT $6`,
		shop, int64(kpi.DateOf(from)), int64(kpi.DateOf(to)), from.Unix(), to.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read negative reviews of %s: %w", shop, err)
	}
	return out, nil
}

// LastWrite returns when records of the shop were last written.
func (s *Store) LastWrite(ctx context.Context, shop string) (time.Time, bool, error) {
	var at int64
	err := s.pool.QueryRow(ctx, "SELECT written_at FROM shop_writes WHERE shop = $1", shop).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("postgres: read last write of %s: %w", shop, err)
	}
	return time.Unix(at, 0).UTC(), true, nil
}

// Recorded tells which of shops have had records stored.
func (s *Store) Recorded(ctx context.Context, shops []string) (map[string]bool, error) {
	out := make(map[string]bool, len(shops))
	rows, err := s.pool.Query(ctx, "SELECT shop FROM shop_writes WHERE data_at IS NOT NULL AND shop = ANY($1::text[])", shops)
	if err != nil {
		return nil, fmt.Errorf("postgres: shops with records: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: shops with records: %w", err)
	}
	for _, shop := range got {
		out[shop] = true
	}
	return out, nil
}

// RuleOverrides lists the rule changes made from chat, by metric then shop.
func (s *Store) RuleOverrides(ctx context.Context) ([]kpi.RuleOverride, error) {
	rows, err := s.pool.Query(ctx, `SELECT spec, updated_at, updated_by FROM alert_rules ORDER BY metric COLLATE "C", shop COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: read rule overrides: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kpi.RuleOverride, error) {
		var spec string
		var at int64
		var o kpi.RuleOverride
		if err := r.Scan(&spec, &at, &o.By); err != nil {
			return o, err
		}
		if err := json.Unmarshal([]byte(spec), &o); err != nil {
			return o, err
		}
		o.Updated = time.Unix(at, 0).UTC()
		return o, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read rule overrides: %w", err)
	}
	return out, nil
}

// SaveRuleOverride replaces the override of (o.Metric, o.Shop) and writes
// the audit entry e with it, in one transaction. o.Updated and o.By are
// e's time and actor.
func (s *Store) SaveRuleOverride(ctx context.Context, o kpi.RuleOverride, e kpi.AuditEntry) error {
	spec, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("postgres: save rule override %s:%s: %w", o.Metric, o.Shop, err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO alert_rules (metric, shop, spec, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (metric, shop) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			o.Metric, o.Shop, string(spec), e.At.Unix(), e.Actor); err != nil {
			return err
		}
		return audit(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("postgres: save rule override %s:%s: %w", o.Metric, o.Shop, err)
	}
	return nil
}

// DeleteRuleOverride removes the override of (metric, shop) and writes the
// audit entry e with it; false, and no entry, if there was none.
func (s *Store) DeleteRuleOverride(ctx context.Context, metric, shop string, e kpi.AuditEntry) (bool, error) {
	var found bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM alert_rules WHERE metric = $1 AND shop = $2", metric, shop)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		found = true
		return audit(ctx, tx, e)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: delete rule override %s:%s: %w", metric, shop, err)
	}
	return found, nil
}
