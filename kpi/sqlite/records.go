package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// loadRecords reads the records of shop that the facts of the days
// [from, to) are built from, each once, as the field comments of kpi.Records
// ask.
func loadRecords(ctx context.Context, c *sql.Conn, shop string, from, to kpi.Date) (*kpi.Records, error) {
	f, t := int64(from), int64(to)
	recs := &kpi.Records{}
	var err error

	// Orders placed in the window or within the conversion window after it.
	recs.Orders, err = query(ctx, c, orderCodec, ordersPlacedIn, shop, f, int64(to.AddDays(sqlstore.ConversionDays)))
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}

	// Shipments of the orders placed in the window, or shipped or delivered
	// in it. Most of them shipped in it: those are read whole, in key order.
	// Of the other two sets only the ids are read (from their indexes alone),
	// and the few shipments missing are read by key.
	if recs.Shipments, err = query(ctx, c, shipmentCodec, shipmentsShippedIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	have := make(map[string]bool, len(recs.Shipments))
	for _, s := range recs.Shipments {
		have[s.ID] = true
	}
	var missing []string
	for _, clause := range []string{shipmentsOfOrdersPlacedIn, shipmentsDelivered} {
		ids, err := queryIDs(ctx, c, clause, shop, f, t)
		if err != nil {
			return nil, fmt.Errorf("read shipments: %w", err)
		}
		for _, id := range ids {
			if !have[id] {
				have[id] = true
				missing = append(missing, id)
			}
		}
	}
	more, err := fetch(ctx, c, shipmentCodec, shop, missing)
	if err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	recs.Shipments = append(recs.Shipments, more...)

	// The orders of those shipments that were placed outside the window.
	have = make(map[string]bool, len(recs.Orders))
	for _, o := range recs.Orders {
		have[o.ID] = true
	}
	missing = missing[:0]
	for _, s := range recs.Shipments {
		if !have[s.OrderID] {
			have[s.OrderID] = true
			missing = append(missing, s.OrderID)
		}
	}
	orders, err := fetch(ctx, c, orderCodec, shop, missing)
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	recs.Orders = append(recs.Orders, orders...)

	// Reviews posted in the window, and 1-2 star reviews of orders placed in it.
	seenReview := make(map[string]bool)
	for _, clause := range []string{reviewsPosted, negativeReviewsOfOrdersPlacedIn} {
		got, err := query(ctx, c, reviewCodec, clause, shop, f, t)
		if err != nil {
			return nil, fmt.Errorf("read reviews: %w", err)
		}
		for _, r := range got {
			if !seenReview[r.ID] {
				seenReview[r.ID] = true
				recs.Reviews = append(recs.Reviews, r)
			}
		}
	}

	// The rest by the day they happened on.
	if recs.Returns, err = query(ctx, c, returnCodec, returnsIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read returns: %w", err)
	}
	if recs.Inventory, err = query(ctx, c, inventoryCodec, inventoryIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	if recs.Inbound, err = query(ctx, c, inboundCodec, inboundIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read inbound: %w", err)
	}
	if recs.Ads, err = query(ctx, c, adCodec, adsIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read ads: %w", err)
	}
	if recs.Customs, err = query(ctx, c, customsCodec, customsIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read customs: %w", err)
	}
	if recs.Tickets, err = query(ctx, c, ticketCodec, ticketsIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read tickets: %w", err)
	}
	if recs.AgentShifts, err = query(ctx, c, shiftCodec, shiftsOverlapping,
		shop, f, t, from.Start().Unix(), to.Start().Unix()); err != nil {
		return nil, fmt.Errorf("read agent shifts: %w", err)
	}
	return recs, nil
}

// queryIDs returns the ids (t.id) of the records that the FROM clause
// selects.
func queryIDs(ctx context.Context, c *sql.Conn, clause string, args ...any) ([]string, error) {
	rows, err := c.QueryContext(ctx, "SELECT t.id "+clause, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// fetch reads the records of shop with the given ids, a few hundred a
// statement; an id that is not stored (a shipment's order not written yet)
// is skipped. cd's keys must be shop and id.
func fetch[T any](ctx context.Context, c *sql.Conn, cd *codec[T], shop string, ids []string) ([]T, error) {
	out := make([]T, 0, len(ids))
	for chunk := range slices.Chunk(ids, lookupChunk) {
		args := make([]any, 0, 1+len(chunk))
		args = append(args, shop)
		for _, id := range chunk {
			args = append(args, id)
		}
		got, err := query(ctx, c, cd, byIDs(cd, len(chunk)), args...)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}
