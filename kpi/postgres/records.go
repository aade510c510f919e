package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// The statements that find records by day, as kpi/sqlite's, for the
// indexes of migration 0001. A FROM clause calls the table whose records it
// selects t (see query); day ranges are [$2, $3).
const (
	ordersPlacedIn     = "FROM orders t WHERE t.shop = $1 AND t.placed_day >= $2 AND t.placed_day < $3"
	shipmentsShippedIn = "FROM shipments t WHERE t.shop = $1 AND t.shipped_day >= $2 AND t.shipped_day < $3"
	// The ids of the shipments delivered in the window or of orders placed in it.
	shipmentIDsDeliveredOrOfOrdersPlacedIn = "SELECT t.id FROM shipments t " +
		"WHERE t.shop = $1 AND t.delivered_day >= $2 AND t.delivered_day < $3 " +
		"UNION SELECT t.id FROM orders o JOIN shipments t ON t.shop = o.shop AND t.order_id = o.id " +
		"WHERE o.shop = $1 AND o.placed_day >= $2 AND o.placed_day < $3"
	reviewsPosted                   = "FROM reviews t WHERE t.shop = $1 AND t.posted_day >= $2 AND t.posted_day < $3"
	negativeReviewsOfOrdersPlacedIn = "FROM orders o JOIN reviews t ON t.shop = o.shop AND t.order_id = o.id " +
		"WHERE o.shop = $1 AND o.placed_day >= $2 AND o.placed_day < $3 AND t.rating <= 2"
	returnsIn   = "FROM returns t WHERE t.shop = $1 AND t.returned_day >= $2 AND t.returned_day < $3"
	inventoryIn = "FROM inventory t WHERE t.shop = $1 AND t.taken_day >= $2 AND t.taken_day < $3"
	inboundIn   = "FROM inbound t WHERE t.shop = $1 AND t.created_day >= $2 AND t.created_day < $3"
	adsIn       = "FROM ads t WHERE t.shop = $1 AND t.day >= $2 AND t.day < $3"
	customsIn   = "FROM customs t WHERE t.shop = $1 AND t.declared_day >= $2 AND t.declared_day < $3"
	ticketsIn   = "FROM tickets t WHERE t.shop = $1 AND t.opened_day >= $2 AND t.opened_day < $3"
	// Shifts that end on or after the first day and start before the end,
	// then exactly: end_at after the window starts, start_at before it ends.
	shiftsOverlapping = "FROM agent_shifts t " +
		"WHERE t.shop = $1 AND t.end_day >= $2 AND t.start_day < $3 AND t.end_at > $4 AND t.start_at < $5"
	competitorsIn = "FROM competitors t WHERE t.shop = $1 AND t.observed_day >= $2 AND t.observed_day < $3"
	// The records of a shop by id, for a codec keyed by shop and id.
	byIDs = "WHERE t.shop = $1 AND t.id = ANY($2::text[])"
)

// loadRecords reads the records of shop that the facts of the days
// [from, to) are built from, each once, as the field comments of kpi.Records
// ask.
func loadRecords(ctx context.Context, tx pgx.Tx, shop string, from, to kpi.Date) (*kpi.Records, error) {
	f, t := int64(from), int64(to)
	recs := &kpi.Records{}
	var err error

	// Orders placed in the window or within the conversion window after it.
	recs.Orders, err = query(ctx, tx, &sqlstore.Orders, ordersPlacedIn, shop, f, int64(to.AddDays(sqlstore.ConversionDays)))
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}

	// Shipments of the orders placed in the window, or shipped or delivered
	// in it. Most of them shipped in it: those are read whole. Of the other
	// two sets only the ids are read, and the few shipments missing are read
	// by id.
	if recs.Shipments, err = query(ctx, tx, &sqlstore.Shipments, shipmentsShippedIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	have := make(map[string]bool, len(recs.Shipments))
	for _, s := range recs.Shipments {
		have[s.ID] = true
	}
	rows, err := tx.Query(ctx, shipmentIDsDeliveredOrOfOrdersPlacedIn, shop, f, t)
	if err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	var missing []string
	for _, id := range ids {
		if !have[id] {
			have[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		more, err := query(ctx, tx, &sqlstore.Shipments, "FROM shipments t "+byIDs, shop, missing)
		if err != nil {
			return nil, fmt.Errorf("read shipments: %w", err)
		}
		recs.Shipments = append(recs.Shipments, more...)
	}

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
	if len(missing) > 0 {
		orders, err := query(ctx, tx, &sqlstore.Orders, "FROM orders t "+byIDs, shop, missing)
		if err != nil {
			return nil, fmt.Errorf("read orders: %w", err)
		}
		recs.Orders = append(recs.Orders, orders...)
	}

	// Reviews posted in the window, and 1-2 star reviews of orders placed in it.
	seenReview := make(map[string]bool)
	for _, clause := range []string{reviewsPosted, negativeReviewsOfOrdersPlacedIn} {
		got, err := query(ctx, tx, &sqlstore.Reviews, clause, shop, f, t)
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
	if recs.Returns, err = query(ctx, tx, &sqlstore.Returns, returnsIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read returns: %w", err)
	}
	if recs.Inventory, err = query(ctx, tx, &sqlstore.Inventory, inventoryIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	if recs.Inbound, err = query(ctx, tx, &sqlstore.Inbound, inboundIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read inbound: %w", err)
	}
	if recs.Ads, err = query(ctx, tx, &sqlstore.Ads, adsIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read ads: %w", err)
	}
	if recs.Customs, err = query(ctx, tx, &sqlstore.Customs, customsIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read customs: %w", err)
	}
	if recs.Tickets, err = query(ctx, tx, &sqlstore.Tickets, ticketsIn, shop, f, t); err != nil {
		return nil, fmt.Errorf("read tickets: %w", err)
	}
	if recs.AgentShifts, err = query(ctx, tx, &sqlstore.AgentShifts, shiftsOverlapping,
		shop, f, t, from.Start().Unix(), to.Start().Unix()); err != nil {
		return nil, fmt.Errorf("read agent shifts: %w", err)
	}
	return recs, nil
}
