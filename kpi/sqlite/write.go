package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// Write upserts every record of b in one transaction, keyed as kpi.Batch
// says, deletes the daily rollups that a new or changed record touches, and
// records the time (the store's clock) as each shop's last write
// (LastWrite), also when its records were unchanged: the data is fresh.
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
	var stats kpi.WriteStats
	err := s.writeTx(ctx, func(c *sql.Conn) error {
		w := &writer{conn: c, stmts: make(map[string]*sql.Stmt), stale: sqlstore.NewStale()}
		defer w.close()
		// Orders first: the shipments and reviews of an order written in the
		// same batch need not look its placed day up (see sqlstore.Stale).
		steps := []func() error{
			func() error { return put(ctx, w, shopCodec, b.Shops, nil) },
			func() error { return put(ctx, w, orderCodec, b.Orders, w.stale.Order) },
			func() error { return w.skipUnlinked(ctx) },
			func() error { return put(ctx, w, shipmentCodec, b.Shipments, w.stale.Shipment) },
			func() error { return put(ctx, w, returnCodec, b.Returns, w.stale.Return) },
			func() error { return put(ctx, w, reviewCodec, reviews, w.stale.Review) },
			func() error { return put(ctx, w, inventoryCodec, b.Inventory, w.stale.Inventory) },
			func() error { return put(ctx, w, inboundCodec, b.Inbound, w.stale.Inbound) },
			func() error { return put(ctx, w, adCodec, b.Ads, w.stale.Ad) },
			func() error { return put(ctx, w, customsCodec, b.Customs, w.stale.Customs) },
			func() error { return put(ctx, w, ticketCodec, b.Tickets, w.stale.Ticket) },
			func() error { return put(ctx, w, shiftCodec, b.AgentShifts, w.stale.Shift) },
			// Listings and competitor observations are read live: no rollup to touch.
			func() error { return put(ctx, w, listingCodec, b.Listings, nil) },
			func() error { return put(ctx, w, competitorCodec, b.Competitors, nil) },
			func() error { return w.markLinked(ctx) },
			func() error { return w.invalidate(ctx) },
			func() error { return w.recordWrites(ctx, b, s.now()) },
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
	conn  *sql.Conn            // in a transaction
	stmts map[string]*sql.Stmt // prepared once per transaction, by query text
	stale *sqlstore.Stale      // the rollups to delete at the end
	stats kpi.WriteStats

	unlinked map[string]bool // shops whose orders in stale.ShipmentsOf have no stored shipment
}

// stmt returns query prepared in the transaction, preparing it the first time.
func (w *writer) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}

func (w *writer) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// bulkRows is how many new records one statement inserts (see putNew).
const bulkRows = 64

// put upserts recs and counts them. They are taken in runs of bulkRows,
// each inserted by one statement when all of its records are new, as in a
// bulk load (putNew); the records of any other run, and of the last one,
// are upserted one by one (putOne). touch, if not nil, marks the rollup
// days of the old and the new version of each inserted or changed record.
func put[T any](ctx context.Context, w *writer, c *codec[T], recs []T, touch func(*T)) error {
	if len(recs) == 0 {
		return nil
	}
	ps, err := prepare(ctx, w, c)
	if err != nil {
		return fmt.Errorf("sqlite: write %s: %w", c.Table, err)
	}
	for i := 0; i < len(recs); {
		if ctx.Err() != nil {
			return fmt.Errorf("sqlite: write %s: %w", c.Table, ctx.Err())
		}
		end := min(i+bulkRows, len(recs))
		run := recs[i:end]
		rows := make([][]any, len(run))
		for j := range run {
			rows[j] = c.Row(&run[j])
		}
		done := false
		if len(run) == bulkRows {
			if done, err = putNew(ctx, w, ps, run, rows, touch); err != nil {
				return fmt.Errorf("sqlite: write %s: %w", c.Table, err)
			}
		}
		for j := 0; j < len(run) && !done; j++ {
			if err := putOne(ctx, w, c, ps, &run[j], rows[j], touch); err != nil {
				return fmt.Errorf("sqlite: write %s: %w", c.Table, err)
			}
		}
		i = end
	}
	return nil
}

// putStmts are the statements put uses for one table.
type putStmts struct {
	ins, sel, ups *sql.Stmt // one record: insert if new, read by key, upsert
	insRun        *sql.Stmt // insert a run of bulkRows new records
}

// prepare returns the statements of c's table, prepared in the
// transaction.
func prepare[T any](ctx context.Context, w *writer, c *codec[T]) (putStmts, error) {
	var ps putStmts
	for _, x := range []struct {
		st    **sql.Stmt
		query string
	}{
		{&ps.ins, insertNew(c)}, {&ps.sel, selectByKey(c)}, {&ps.ups, upsert(c)},
		{&ps.insRun, insertRun(c, bulkRows)},
	} {
		st, err := w.stmt(ctx, x.query)
		if err != nil {
			return putStmts{}, err
		}
		*x.st = st
	}
	return ps, nil
}

// putNew inserts a run of bulkRows records whose stored values are rows
// with one statement, and reports true, when their keys are all different
// and none of them is stored yet. Otherwise the statement fails on the
// first key taken, which undoes it (SQLite's ABORT), and putNew reports
// false, having changed nothing.
func putNew[T any](ctx context.Context, w *writer, ps putStmts, run []T, rows [][]any, touch func(*T)) (bool, error) {
	vals := make([]any, 0, len(rows)*len(rows[0]))
	for _, row := range rows {
		vals = append(vals, row...)
	}
	_, err := ps.insRun.ExecContext(context.WithoutCancel(ctx), vals...) // see writeTx
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	w.stats.Inserted += len(run)
	if touch != nil {
		for i := range run {
			touch(&run[i])
		}
	}
	return true, nil
}

// putOne upserts one record whose stored values are row. It first tries
// to insert it as new; only a record whose key is taken is read back and
// compared: equal stored values are Unchanged (and nothing is written),
// others are Updated.
func putOne[T any](ctx context.Context, w *writer, c *codec[T], ps putStmts, rec *T, row []any, touch func(*T)) error {
	rowCtx := context.WithoutCancel(ctx) // see writeTx
	res, err := ps.ins.ExecContext(rowCtx, row...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 1 {
		w.stats.Inserted++
		if touch != nil {
			touch(rec)
		}
		return nil
	}
	old, err := c.Scan(ps.sel.QueryRowContext(rowCtx, row[:len(c.Keys)]...))
	if err != nil {
		return fmt.Errorf("read stored: %w", err)
	}
	if slices.Equal(c.Row(&old), row) {
		w.stats.Unchanged++
		return nil
	}
	w.stats.Updated++
	if _, err := ps.ups.ExecContext(rowCtx, row...); err != nil {
		return err
	}
	if touch != nil {
		touch(&old)
		touch(rec)
	}
	return nil
}

// insertRun returns the statement that inserts n new records, and fails
// with nothing inserted when a key is taken.
func insertRun[T any](c *codec[T], n int) string {
	all := c.Columns()
	return "INSERT INTO " + c.Table + " (" + strings.Join(all, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(params(len(all))+", ", n), ", ")
}

// lookupChunk is how many ids one statement looks up.
const lookupChunk = 500

// markLinked marks the days that the touched records reach through other
// tables: the placed days of the orders in stale.PlacedOf, and the ship and
// delivery days of the shipments of the orders in stale.ShipmentsOf. It runs once
// all records are written, in a few queries of many ids each rather than one
// per record, and so sees the orders and shipments of this batch too.
func (w *writer) markLinked(ctx context.Context) error {
	err := w.lookup(ctx, w.stale.PlacedOf, distinct(placedDaysOf))
	if err != nil {
		return fmt.Errorf("sqlite: write: read placed days: %w", err)
	}
	linked := w.stale.ShipmentsOf
	if len(w.unlinked) > 0 {
		linked = make(map[sqlstore.ShopKey]struct{})
		for k := range w.stale.ShipmentsOf {
			if !w.unlinked[k.Shop] {
				linked[k] = struct{}{}
			}
		}
	}
	err = w.lookup(ctx, linked, distinct(shipmentDaysOf))
	if err != nil {
		return fmt.Errorf("sqlite: write: read shipment days: %w", err)
	}
	return nil
}

// anyShipmentOfOrders finds a shipment of a shop whose order id is in a
// range.
const anyShipmentOfOrders = "SELECT 1 FROM shipments INDEXED BY shipments_order " +
	"WHERE shop = ? AND order_id >= ? AND order_id <= ? LIMIT 1"

// skipUnlinked runs after the orders are written and before the
// shipments. When no shipment of a shop is stored whose order id lies
// between the least and the greatest of the shop's orders written, none of
// those orders has a stored shipment, and markLinked need not look their
// shipments up: the shipments of this batch mark their own days. A bulk
// load of orders in the order of their ids so costs one index read per
// shop, not one per order.
func (w *writer) skipUnlinked(ctx context.Context) error {
	type span struct{ lo, hi string }
	spans := make(map[string]span)
	for k := range w.stale.ShipmentsOf {
		sp, ok := spans[k.Shop]
		if !ok {
			sp = span{k.ID, k.ID}
		}
		spans[k.Shop] = span{min(sp.lo, k.ID), max(sp.hi, k.ID)}
	}
	if len(spans) == 0 {
		return nil
	}
	st, err := w.stmt(ctx, anyShipmentOfOrders)
	if err != nil {
		return fmt.Errorf("sqlite: write: find shipments: %w", err)
	}
	w.unlinked = make(map[string]bool)
	for shop, sp := range spans {
		var one int
		err := st.QueryRowContext(context.WithoutCancel(ctx), shop, sp.lo, sp.hi).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			w.unlinked[shop] = true
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: write: find shipments: %w", err)
		}
	}
	return nil
}

// distinct returns query selecting each row once: a batch's orders mostly
// share their days, and reading one row costs more than finding it.
func distinct(query string) string {
	return strings.Replace(query, "SELECT ", "SELECT DISTINCT ", 1)
}

// lookup runs prefix + "(?, ?, ...)" for the ids of each shop in keys, in
// chunks, and marks the one or two days each row returns after the shop.
func (w *writer) lookup(ctx context.Context, keys map[sqlstore.ShopKey]struct{}, prefix string) error {
	byShop := make(map[string][]any)
	for k := range keys {
		byShop[k.Shop] = append(byShop[k.Shop], k.ID)
	}
	for shop, ids := range byShop {
		for chunk := range slices.Chunk(ids, lookupChunk) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			st, err := w.stmt(ctx, prefix+params(len(chunk)))
			if err != nil {
				return err
			}
			rows, err := st.QueryContext(context.WithoutCancel(ctx), append([]any{shop}, chunk...)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var days [2]any // int64 or nil; see vals
				if err := rows.Scan(&days[0], &days[1]); err != nil {
					rows.Close()
					return err
				}
				for _, d := range days {
					if d, ok := d.(int64); ok {
						w.stale.Mark(shop, kpi.Date(d), kpi.Date(d))
					}
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// invalidate deletes the rollups of the days marked dirty.
func (w *writer) invalidate(ctx context.Context) error {
	if len(w.stale.Days) == 0 {
		return nil
	}
	st, err := w.stmt(ctx, "DELETE FROM rollups WHERE shop = ? AND day = ?")
	if err != nil {
		return fmt.Errorf("sqlite: write: invalidate rollups: %w", err)
	}
	rowCtx := context.WithoutCancel(ctx) // see writeTx
	for k := range w.stale.Days {
		if _, err := st.ExecContext(rowCtx, k.Shop, int64(k.Day)); err != nil {
			return fmt.Errorf("sqlite: write: invalidate rollups: %w", err)
		}
	}
	return nil
}
