package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// Write upserts every record of b in one transaction, keyed as kpi.Batch
// says, deletes the daily rollups that a new or changed record touches, and
// records the time (the store's clock) as each shop's last write
// (LastWrite), also when its records were unchanged: the data is fresh.
// It holds the locks of b's shops (see lockShops) until it commits.
func (s *Store) Write(ctx context.Context, b *kpi.Batch) (kpi.WriteStats, error) {
	if b == nil {
		return kpi.WriteStats{}, nil
	}
	if err := b.Validate(); err != nil {
		return kpi.WriteStats{}, err
	}
	if b.Len() == 0 {
		return kpi.WriteStats{}, nil
	}
	// Masked copies: the caller's batch stays as it was.
	reviews := slices.Clone(b.Reviews)
	for i := range reviews {
		reviews[i].Text = kpi.MaskPII(reviews[i].Text)
	}
	shops := b.ShopIDs()
	var stats kpi.WriteStats
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockShops(ctx, tx, shops); err != nil {
			return fmt.Errorf("postgres: write: %w", err)
		}
		w := &writer{tx: tx, stale: sqlstore.NewStale()}
		// Orders first: the shipments and reviews of an order written in the
		// same batch need not look its placed day up (see sqlstore.Stale).
		steps := []func() error{
			func() error { return put(ctx, w, &sqlstore.Shops, b.Shops, nil) },
			func() error { return put(ctx, w, &sqlstore.Orders, b.Orders, w.stale.Order) },
			func() error { return w.skipUnlinked(ctx) },
			func() error { return put(ctx, w, &sqlstore.Shipments, b.Shipments, w.stale.Shipment) },
			func() error { return put(ctx, w, &sqlstore.Returns, b.Returns, w.stale.Return) },
			func() error { return put(ctx, w, &sqlstore.Reviews, reviews, w.stale.Review) },
			func() error { return put(ctx, w, &sqlstore.Inventory, b.Inventory, w.stale.Inventory) },
			func() error { return put(ctx, w, &sqlstore.Inbound, b.Inbound, w.stale.Inbound) },
			func() error { return put(ctx, w, &sqlstore.Ads, b.Ads, w.stale.Ad) },
			func() error { return put(ctx, w, &sqlstore.Customs, b.Customs, w.stale.Customs) },
			func() error { return put(ctx, w, &sqlstore.Tickets, b.Tickets, w.stale.Ticket) },
			func() error { return put(ctx, w, &sqlstore.AgentShifts, b.AgentShifts, w.stale.Shift) },
			// Listings and competitor observations are read live: no rollup to touch.
			func() error { return put(ctx, w, &sqlstore.Listings, b.Listings, nil) },
			func() error { return put(ctx, w, &sqlstore.Competitors, b.Competitors, nil) },
			func() error { return w.markLinked(ctx) },
			func() error { return w.invalidate(ctx) },
			func() error { return w.recordWrites(ctx, shops, b.RecordShopIDs(), s.now()) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		stats = w.stats
		return nil
	})
	if err != nil {
		return kpi.WriteStats{}, err
	}
	return stats, nil
}

// writer is the state of one Write transaction.
type writer struct {
	tx    pgx.Tx
	stale *sqlstore.Stale // the rollups to delete at the end
	stats kpi.WriteStats

	unlinked map[string]bool // shops whose orders in stale.ShipmentsOf have no stored shipment
}

// writeChunk is how many records put reads and writes with one statement
// each.
const writeChunk = 5000

// copyMin is how many new records of a chunk put sends with COPY rather
// than INSERT.
const copyMin = 500

// put upserts recs and counts them, a chunk at a time: it reads the stored
// versions of the chunk's keys with one statement, compares, and writes the
// new and changed records with one more (COPY for many new ones), so that
// only a record that changed is written. A key repeated in recs counts as
// if the records were written one by one: the later updates the earlier.
// touch, if not nil, marks the rollup days of the old and the new version
// of each inserted or changed record.
func put[T any](ctx context.Context, w *writer, c *sqlstore.Codec[T], recs []T, touch func(*T)) error {
	if len(recs) == 0 {
		return nil
	}
	st := statementsOf(c)
	for chunk := range slices.Chunk(recs, writeChunk) {
		if err := putChunk(ctx, w, c, st, chunk, touch); err != nil {
			return fmt.Errorf("postgres: write %s: %w", c.Table, err)
		}
	}
	return nil
}

func putChunk[T any](ctx context.Context, w *writer, c *sqlstore.Codec[T], st *statements, recs []T, touch func(*T)) error {
	type version struct {
		row []any
		rec *T
	}
	rows := make([][]any, len(recs))
	keys := make([]string, len(recs))
	for i := range recs {
		rows[i] = c.Row(&recs[i])
		keys[i] = rowKey(rows[i], len(c.Keys))
	}

	// The stored versions.
	current := make(map[string]version, len(recs))
	res, err := w.tx.Query(ctx, st.selectByKeys, st.columnArrays(rows, len(c.Keys))...)
	if err != nil {
		return fmt.Errorf("read stored: %w", err)
	}
	stored, err := pgx.CollectRows(res, func(r pgx.CollectableRow) (T, error) { return c.Scan(r) })
	if err != nil {
		return fmt.Errorf("read stored: %w", err)
	}
	for i := range stored {
		row := c.Row(&stored[i])
		current[rowKey(row, len(c.Keys))] = version{row, &stored[i]}
	}
	wasStored := make(map[string]bool, len(current))
	for k := range current {
		wasStored[k] = true
	}

	// Compare, in order; the last version of each key is written.
	last := make(map[string]int, len(recs))
	for i := range recs {
		k := keys[i]
		old, ok := current[k]
		switch {
		case !ok:
			w.stats.Inserted++
			if touch != nil {
				touch(&recs[i])
			}
		case slices.Equal(old.row, rows[i]):
			w.stats.Unchanged++
			continue
		default:
			w.stats.Updated++
			if touch != nil {
				touch(old.rec)
				touch(&recs[i])
			}
		}
		current[k] = version{rows[i], &recs[i]}
		last[k] = i
	}
	if len(last) == 0 {
		return nil
	}
	var news, changed [][]any
	for i := range recs {
		if j, ok := last[keys[i]]; ok && j == i {
			if wasStored[keys[i]] {
				changed = append(changed, rows[i])
			} else {
				news = append(news, rows[i])
			}
		}
	}
	if len(news) >= copyMin {
		if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{c.Table}, c.Columns(), pgx.CopyFromRows(news)); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
	} else {
		changed = append(changed, news...)
	}
	if len(changed) > 0 {
		if _, err := w.tx.Exec(ctx, st.upsert, st.columnArrays(changed, len(st.types))...); err != nil {
			return err
		}
	}
	return nil
}

// rowKey is the key of a stored row: its first n values, in a form that
// tells them apart.
func rowKey(row []any, n int) string {
	var b strings.Builder
	for _, v := range row[:n] {
		switch v := v.(type) {
		case string:
			b.WriteString(strconv.Itoa(len(v)))
			b.WriteByte(':')
			b.WriteString(v)
		case int64:
			b.WriteByte('#')
			b.WriteString(strconv.FormatInt(v, 10))
		}
		b.WriteByte(',')
	}
	return b.String()
}

// statements are the statements put uses for a codec's table. Rows go as
// one array a column (unnest), so that a statement has as many parameters
// as columns whatever the number of rows, and is prepared once.
type statements struct {
	types        []string // each column's array type: text[] or int8[]
	selectByKeys string   // the stored rows of the keys given, $1 … one array a key column
	upsert       string   // insert or replace the rows given, one array a column
}

var statementCache sync.Map // *sqlstore.Codec[T] → *statements

// statementsOf returns the statements of c's table. A column holds text
// where c.Row gives a string, an integer otherwise (see sqlstore.Codec).
func statementsOf[T any](c *sqlstore.Codec[T]) *statements {
	if st, ok := statementCache.Load(c); ok {
		return st.(*statements)
	}
	var zero T
	sample := c.Row(&zero)
	st := &statements{types: make([]string, len(sample))}
	for i, v := range sample {
		if _, ok := v.(string); ok {
			st.types[i] = "text[]"
		} else {
			st.types[i] = "int8[]"
		}
	}
	cols := c.Columns()
	arrays := func(n int) string {
		params := make([]string, n)
		for i := range params {
			params[i] = "$" + strconv.Itoa(i+1) + "::" + st.types[i]
		}
		return "unnest(" + strings.Join(params, ", ") + ")"
	}
	on := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		on[i] = "t." + k + " = k." + k
	}
	st.selectByKeys = "SELECT " + c.List("t") + " FROM " + c.Table + " t JOIN " + arrays(len(c.Keys)) +
		" AS k (" + strings.Join(c.Keys, ", ") + ") ON " + strings.Join(on, " AND ")
	set := make([]string, len(c.Cols))
	for i, col := range c.Cols {
		set[i] = col + " = excluded." + col
	}
	st.upsert = "INSERT INTO " + c.Table + " (" + strings.Join(cols, ", ") + ") SELECT * FROM " + arrays(len(cols)) +
		" ON CONFLICT (" + strings.Join(c.Keys, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
	actual, _ := statementCache.LoadOrStore(c, st)
	return actual.(*statements)
}

// columnArrays returns the first n columns of rows, one array each, as the
// statements take them.
func (st *statements) columnArrays(rows [][]any, n int) []any {
	out := make([]any, n)
	for j := 0; j < n; j++ {
		if st.types[j] == "text[]" {
			col := make([]string, len(rows))
			for i, row := range rows {
				col[i], _ = row[j].(string)
			}
			out[j] = col
			continue
		}
		col := make([]pgtype.Int8, len(rows))
		for i, row := range rows {
			if v, ok := row[j].(int64); ok {
				col[i] = pgtype.Int8{Int64: v, Valid: true}
			}
		}
		out[j] = col
	}
	return out
}

// skipUnlinked runs after the orders are written and before the
// shipments. When no shipment of a shop is stored whose order id lies
// between the least and the greatest of the shop's orders written, none of
// those orders has a stored shipment, and markLinked need not look their
// shipments up: the shipments of this batch mark their own days. A bulk
// load of orders in the order of their ids so costs one index read per
// shop, not one per order. The least and greatest are taken by the
// database, in the collation of its index.
func (w *writer) skipUnlinked(ctx context.Context) error {
	byShop := make(map[string][]string)
	for k := range w.stale.ShipmentsOf {
		byShop[k.Shop] = append(byShop[k.Shop], k.ID)
	}
	w.unlinked = make(map[string]bool)
	for shop, ids := range byShop {
		var linked bool
		err := w.tx.QueryRow(ctx, `WITH span AS (SELECT min(id) AS lo, max(id) AS hi FROM unnest($2::text[]) AS id)
			SELECT EXISTS (SELECT 1 FROM shipments s, span WHERE s.shop = $1 AND s.order_id >= span.lo AND s.order_id <= span.hi)`,
			shop, ids).Scan(&linked)
		if err != nil {
			return fmt.Errorf("postgres: write: find shipments: %w", err)
		}
		w.unlinked[shop] = !linked
	}
	return nil
}

// markLinked marks the days that the touched records reach through other
// tables: the placed days of the orders in stale.PlacedOf, and the ship and
// delivery days of the shipments of the orders in stale.ShipmentsOf. It
// runs once all records are written, with one statement for each, and so
// sees the orders and shipments of this batch too.
func (w *writer) markLinked(ctx context.Context) error {
	err := w.lookup(ctx, w.stale.PlacedOf, `SELECT DISTINCT o.shop, o.placed_day, NULL::bigint FROM orders o
		JOIN unnest($1::text[], $2::text[]) AS k (shop, id) ON o.shop = k.shop AND o.id = k.id`)
	if err != nil {
		return fmt.Errorf("postgres: write: read placed days: %w", err)
	}
	linked := make(map[sqlstore.ShopKey]struct{})
	for k := range w.stale.ShipmentsOf {
		if !w.unlinked[k.Shop] {
			linked[k] = struct{}{}
		}
	}
	err = w.lookup(ctx, linked, `SELECT DISTINCT t.shop, t.shipped_day, t.delivered_day FROM shipments t
		JOIN unnest($1::text[], $2::text[]) AS k (shop, order_id) ON t.shop = k.shop AND t.order_id = k.order_id`)
	if err != nil {
		return fmt.Errorf("postgres: write: read shipment days: %w", err)
	}
	return nil
}

// lookup runs query for the keys, given as an array of shops and one of
// ids, and marks the one or two days (NULL for none) after the shop of
// each row.
func (w *writer) lookup(ctx context.Context, keys map[sqlstore.ShopKey]struct{}, query string) error {
	if len(keys) == 0 {
		return nil
	}
	shops := make([]string, 0, len(keys))
	ids := make([]string, 0, len(keys))
	for k := range keys {
		shops = append(shops, k.Shop)
		ids = append(ids, k.ID)
	}
	rows, err := w.tx.Query(ctx, query, shops, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	var shop string
	var days [2]*int64
	_, err = pgx.ForEachRow(rows, []any{&shop, &days[0], &days[1]}, func() error {
		for _, d := range days {
			if d != nil {
				w.stale.Mark(shop, kpi.Date(*d), kpi.Date(*d))
			}
		}
		return nil
	})
	return err
}

// invalidate deletes the rollups of the days marked stale.
func (w *writer) invalidate(ctx context.Context) error {
	if len(w.stale.Days) == 0 {
		return nil
	}
	shops := make([]string, 0, len(w.stale.Days))
	days := make([]int64, 0, len(w.stale.Days))
	for k := range w.stale.Days {
		shops = append(shops, k.Shop)
		days = append(days, int64(k.Day))
	}
	_, err := w.tx.Exec(ctx, `DELETE FROM rollups r USING unnest($1::text[], $2::int8[]) AS k (shop, day)
		WHERE r.shop = k.shop AND r.day = k.day`, shops, days)
	if err != nil {
		return fmt.Errorf("postgres: write: invalidate rollups: %w", err)
	}
	return nil
}

// recordWrites notes, in a Write's transaction, that the shops were
// written at at, and, for those of withData, when their first records
// were.
func (w *writer) recordWrites(ctx context.Context, shops, withData []string, at time.Time) error {
	_, err := w.tx.Exec(ctx, `INSERT INTO shop_writes (shop, written_at, data_at)
		SELECT shop, $2::bigint, CASE WHEN shop = ANY($3::text[]) THEN $2::bigint END FROM unnest($1::text[]) AS shop
		ON CONFLICT (shop) DO UPDATE SET written_at = excluded.written_at,
		data_at = COALESCE(shop_writes.data_at, excluded.data_at)`, shops, at.Unix(), withData)
	if err != nil {
		return fmt.Errorf("postgres: record writes: %w", err)
	}
	return nil
}
