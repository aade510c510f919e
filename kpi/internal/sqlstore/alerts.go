package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// AlertColumns are the columns of the alerts table that ScanAlert reads and
// AlertValues gives, id first (AlertValues leaves it out), in their order.
const AlertColumns = `id, key, metric, shop, severity, state, opened_at, updated_at, resolved_at, snoozed_until,
	acked_by, escalations, value, target, sample, channels, notified_at, notified_value, updates, paged_at, messages`

// ScanAlert reads a row of AlertColumns: times are Unix seconds (0 for
// none), values NULL for NaN, channels and messages joined by commas.
func ScanAlert(row interface{ Scan(...any) error }) (kpi.Alert, error) {
	var a kpi.Alert
	var severity, state, channels, messages string
	var opened, updated, resolved, snoozed, notified, paged int64
	var value, notifiedValue sql.NullFloat64
	err := row.Scan(&a.ID, &a.Key, &a.Metric, &a.Shop, &severity, &state, &opened, &updated, &resolved, &snoozed,
		&a.AckedBy, &a.Escalations, &value, &a.Target, &a.Sample, &channels, &notified, &notifiedValue, &a.Updates, &paged, &messages)
	if err != nil {
		return kpi.Alert{}, err
	}
	a.Severity, a.State = kpi.Severity(severity), kpi.AlertState(state)
	a.Opened, a.Updated, a.Resolved = UnixTime(opened), UnixTime(updated), UnixTime(resolved)
	a.SnoozedUntil, a.Notified, a.Paged = UnixTime(snoozed), UnixTime(notified), UnixTime(paged)
	a.Value, a.NotifiedValue = nullNaN(value), nullNaN(notifiedValue)
	if channels != "" {
		a.Channels = strings.Split(channels, ",")
	}
	if messages != "" {
		a.Messages = strings.Split(messages, ",")
	}
	return a, nil
}

// AlertValues are the stored values of a, in the order of AlertColumns
// without the id. An alert needs a key and a state, and channels and
// messages that are not empty and hold no comma.
func AlertValues(a *kpi.Alert) ([]any, error) {
	if a.Key == "" || a.State == "" {
		return nil, errors.New("an alert needs a key and a state")
	}
	for _, c := range a.Channels {
		if c == "" || strings.Contains(c, ",") {
			return nil, fmt.Errorf("bad channel %q", c)
		}
	}
	for _, k := range a.Messages {
		if k == "" || strings.Contains(k, ",") {
			return nil, fmt.Errorf("bad message key %q", k)
		}
	}
	return []any{a.Key, a.Metric, a.Shop, string(a.Severity), string(a.State), UnixOrZero(a.Opened), UnixOrZero(a.Updated),
		UnixOrZero(a.Resolved), UnixOrZero(a.SnoozedUntil), a.AckedBy, a.Escalations, nanNull(a.Value), a.Target, a.Sample,
		strings.Join(a.Channels, ","), UnixOrZero(a.Notified), nanNull(a.NotifiedValue), a.Updates, UnixOrZero(a.Paged),
		strings.Join(a.Messages, ",")}, nil
}

// UnixTime is the time of Unix seconds; 0 is the zero time.
func UnixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// UnixOrZero is t in Unix seconds; the zero time is 0.
func UnixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// nanNull keeps NaN, which SQLite has no REAL for, as NULL.
func nanNull(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

func nullNaN(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}
