package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// conversionDays is how many days before an order's placed day a pre-sale
// ticket can be converted by it (kpi.ConversionWindow), so how many rollup
// days before it an order touches.
const conversionDays = int(kpi.ConversionWindow / (24 * time.Hour))

// checkEvery is how many records a write handles between two looks at its
// context.
const checkEvery = 256

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
		w := &writer{conn: c, stmts: make(map[string]*sql.Stmt), dirty: make(map[shopDay]struct{}),
			placedOf: make(map[shopKey]struct{}), shipmentsOf: make(map[shopKey]struct{})}
		defer w.close()
		// Orders first: the shipments and reviews of an order written in the
		// same batch need not look its placed day up (see markPlaced).
		steps := []func() error{
			func() error { return put(ctx, w, &shopCodec, b.Shops, nil) },
			func() error { return put(ctx, w, &orderCodec, b.Orders, w.touchOrder) },
			func() error { return put(ctx, w, &shipmentCodec, b.Shipments, w.touchShipment) },
			func() error { return put(ctx, w, &returnCodec, b.Returns, w.touchReturn) },
			func() error { return put(ctx, w, &reviewCodec, reviews, w.touchReview) },
			func() error { return put(ctx, w, &inventoryCodec, b.Inventory, w.touchInventory) },
			func() error { return put(ctx, w, &inboundCodec, b.Inbound, w.touchInbound) },
			func() error { return put(ctx, w, &adCodec, b.Ads, w.touchAd) },
			func() error { return put(ctx, w, &customsCodec, b.Customs, w.touchCustoms) },
			func() error { return put(ctx, w, &ticketCodec, b.Tickets, w.touchTicket) },
			func() error { return put(ctx, w, &shiftCodec, b.AgentShifts, w.touchShift) },
			// Listings and competitor observations are read live: no rollup to touch.
			func() error { return put(ctx, w, &listingCodec, b.Listings, nil) },
			func() error { return put(ctx, w, &competitorCodec, b.Competitors, nil) },
			func() error { return w.markLinked(ctx) },
			func() error { return w.invalidate(ctx) },
			func() error { return w.recordWrites(ctx, b.ShopIDs(), s.now()) },
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

type shopDay struct {
	shop string
	day  kpi.Date
}

// writer is the state of one Write transaction.
type writer struct {
	conn  *sql.Conn            // in a transaction
	stmts map[string]*sql.Stmt // prepared once per transaction, by query text
	dirty map[shopDay]struct{} // the rollups to delete at the end
	stats kpi.WriteStats

	placedOf    map[shopKey]struct{} // orders whose placed day to mark
	shipmentsOf map[shopKey]struct{} // orders written, whose shipments' days to mark
}

type shopKey struct{ shop, id string }

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

// put upserts recs and counts them. It first tries to insert each record
// as new; only a record whose key is taken is read back and compared:
// equal stored values are Unchanged (and nothing is written), others are
// Updated. A bulk load of new records so costs one statement per record.
// touch, if not nil, marks the rollup days of the old and the new version of
// each inserted or changed record.
func put[T any](ctx context.Context, w *writer, c *codec[T], recs []T, touch func(*T)) error {
	if len(recs) == 0 {
		return nil
	}
	var sts [3]*sql.Stmt
	for i, q := range []string{c.insertNew(), c.selectByKey(), c.upsert()} {
		st, err := w.stmt(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: write %s: %w", c.table, err)
		}
		sts[i] = st
	}
	ins, sel, ups := sts[0], sts[1], sts[2]
	nkeys := len(c.keys)
	rowCtx := context.WithoutCancel(ctx) // see writeTx
	for i := range recs {
		if i%checkEvery == 0 && ctx.Err() != nil {
			return fmt.Errorf("sqlite: write %s: %w", c.table, ctx.Err())
		}
		rec := &recs[i]
		row := c.row(rec)
		res, err := ins.ExecContext(rowCtx, row...)
		if err != nil {
			return fmt.Errorf("sqlite: write %s: %w", c.table, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: write %s: %w", c.table, err)
		} else if n == 1 {
			w.stats.Inserted++
			if touch != nil {
				touch(rec)
			}
			continue
		}
		old, err := c.scan(sel.QueryRowContext(rowCtx, row[:nkeys]...))
		if err != nil {
			return fmt.Errorf("sqlite: write %s: read stored: %w", c.table, err)
		}
		if slices.Equal(c.row(&old), row) {
			w.stats.Unchanged++
			continue
		}
		w.stats.Updated++
		if _, err := ups.ExecContext(rowCtx, row...); err != nil {
			return fmt.Errorf("sqlite: write %s: %w", c.table, err)
		}
		if touch != nil {
			touch(&old)
			touch(rec)
		}
	}
	return nil
}

// mark adds the days [first, last] of shop to the rollups to delete.
func (w *writer) mark(shop string, first, last kpi.Date) {
	for d := first; d <= last; d++ {
		w.dirty[shopDay{shop, d}] = struct{}{}
	}
}

// markTime marks the day of t; a zero time marks nothing.
func (w *writer) markTime(shop string, t time.Time) {
	if !t.IsZero() {
		d := kpi.DateOf(t)
		w.mark(shop, d, d)
	}
}

// An order counts on its placed day, converts the pre-sale tickets of the
// days before it, and gives its promised date to its deliveries: the days
// of its shipments are marked at the end, by markLinked.
func (w *writer) touchOrder(o *kpi.Order) {
	placed := kpi.DateOf(o.Placed)
	w.mark(o.Shop, placed.AddDays(-conversionDays), placed)
	w.shipmentsOf[shopKey{o.Shop, o.ID}] = struct{}{}
}

// A shipment counts on its ship and delivery days, and on its order's
// placed day (marked by markLinked).
func (w *writer) touchShipment(s *kpi.Shipment) {
	w.markTime(s.Shop, s.Shipped)
	w.markTime(s.Shop, s.Delivered)
	w.markPlaced(s.Shop, s.OrderID)
}

// markPlaced marks the placed day of order shop/id: now if the order was
// written in this batch, which marked it, or else by markLinked.
func (w *writer) markPlaced(shop, id string) {
	k := shopKey{shop, id}
	if _, ok := w.shipmentsOf[k]; !ok {
		w.placedOf[k] = struct{}{}
	}
}

// A review counts on its posted day, and a 1-2 star one on its order's
// placed day.
func (w *writer) touchReview(r *kpi.Review) {
	w.markTime(r.Shop, r.Posted)
	if r.OrderID != "" {
		w.markPlaced(r.Shop, r.OrderID)
	}
}

func (w *writer) touchReturn(r *kpi.Return)               { w.markTime(r.Shop, r.Returned) }
func (w *writer) touchInventory(s *kpi.InventorySnapshot) { w.markTime(s.Shop, s.Taken) }
func (w *writer) touchInbound(s *kpi.InboundShipment)     { w.markTime(s.Shop, s.Created) }
func (w *writer) touchAd(a *kpi.AdDay)                    { w.mark(a.Shop, a.Day, a.Day) }
func (w *writer) touchCustoms(c *kpi.CustomsEntry)        { w.markTime(c.Shop, c.Declared) }
func (w *writer) touchTicket(t *kpi.Ticket)               { w.markTime(t.Shop, t.Opened) }

// A shift counts on every day it overlaps.
func (w *writer) touchShift(s *kpi.AgentShift) {
	w.mark(s.Shop, kpi.DateOf(s.Start), kpi.DateOf(s.End))
}

// lookupChunk is how many ids one statement looks up.
const lookupChunk = 500

// markLinked marks the days that the touched records reach through other
// tables: the placed days of the orders in placedOf, and the ship and
// delivery days of the shipments of the orders in shipmentsOf. It runs once
// all records are written, in a few queries of many ids each rather than one
// per record, and so sees the orders and shipments of this batch too.
func (w *writer) markLinked(ctx context.Context) error {
	err := w.lookup(ctx, w.placedOf, placedDaysOf)
	if err != nil {
		return fmt.Errorf("sqlite: write: read placed days: %w", err)
	}
	err = w.lookup(ctx, w.shipmentsOf, shipmentDaysOf)
	if err != nil {
		return fmt.Errorf("sqlite: write: read shipment days: %w", err)
	}
	return nil
}

// lookup runs prefix + "(?, ?, ...)" for the ids of each shop in keys, in
// chunks, and marks the one or two days each row returns after the shop.
func (w *writer) lookup(ctx context.Context, keys map[shopKey]struct{}, prefix string) error {
	byShop := make(map[string][]any)
	for k := range keys {
		byShop[k.shop] = append(byShop[k.shop], k.id)
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
						w.mark(shop, kpi.Date(d), kpi.Date(d))
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
	if len(w.dirty) == 0 {
		return nil
	}
	st, err := w.stmt(ctx, "DELETE FROM rollups WHERE shop = ? AND day = ?")
	if err != nil {
		return fmt.Errorf("sqlite: write: invalidate rollups: %w", err)
	}
	rowCtx := context.WithoutCancel(ctx) // see writeTx
	for k := range w.dirty {
		if _, err := st.ExecContext(rowCtx, k.shop, int64(k.day)); err != nil {
			return fmt.Errorf("sqlite: write: invalidate rollups: %w", err)
		}
	}
	return nil
}
