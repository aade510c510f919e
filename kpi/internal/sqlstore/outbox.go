package sqlstore

import (
	"database/sql"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// OutboxColumns are the columns of the outbox table that ScanOutboxItem
// reads, in its order.
const OutboxColumns = "key, platform, channel, payload, attempts, next_try, last_error, created_at, sent_at, ref"

// ScanOutboxItem reads a row of OutboxColumns: times are Unix seconds,
// sent_at NULL while unsent. Its error is the row's, unwrapped, so that a
// missing row can be told (sql.ErrNoRows, pgx.ErrNoRows).
func ScanOutboxItem(row interface{ Scan(...any) error }) (kpi.OutboxItem, error) {
	var it kpi.OutboxItem
	var next, created int64
	var sent sql.NullInt64
	if err := row.Scan(&it.Key, &it.Platform, &it.Channel, &it.Payload, &it.Attempts, &next, &it.LastError, &created, &sent,
		&it.Ref); err != nil {
		return kpi.OutboxItem{}, err
	}
	it.NextTry, it.Created = time.Unix(next, 0).UTC(), time.Unix(created, 0).UTC()
	if sent.Valid {
		it.Sent = time.Unix(sent.Int64, 0).UTC()
	}
	return it, nil
}
