package sqlite

import (
	"context"
	"strings"
	"testing"
)

// TestQueryPlans checks that every statement that finds records by day or
// by id uses an index beyond the shop: on an empty database, as SQLite
// plans without statistics, where a wrong guess scans the whole shop.
func TestQueryPlans(t *testing.T) {
	s := open(t, nil)
	defer s.Close()
	ctx := context.Background()
	stmts := []string{rollupsIn, placedDaysOf + "(?, ?)", shipmentDaysOf + "(?, ?)",
		"SELECT t.id " + shipmentsOfOrdersPlacedIn, "SELECT t.id " + shipmentsDelivered,
		"SELECT t.* " + byIDs(orderCodec, 2), "SELECT t.* " + byIDs(shipmentCodec, 2)}
	for _, from := range []string{ordersPlacedIn, shipmentsShippedIn, shipmentsDelivered,
		shipmentsOfOrdersPlacedIn, reviewsPosted, negativeReviewsOfOrdersPlacedIn, returnsIn,
		inventoryIn, inboundIn, adsIn, customsIn, ticketsIn, shiftsOverlapping, competitorsIn} {
		stmts = append(stmts, "SELECT t.* "+from)
	}
	for _, sel := range []string{selectByKey(shopCodec), selectByKey(orderCodec), selectByKey(shipmentCodec),
		selectByKey(returnCodec), selectByKey(reviewCodec), selectByKey(inventoryCodec), selectByKey(inboundCodec),
		selectByKey(adCodec), selectByKey(customsCodec), selectByKey(ticketCodec), selectByKey(shiftCodec),
		selectByKey(listingCodec), selectByKey(competitorCodec)} {
		stmts = append(stmts, sel)
	}
	for _, q := range stmts {
		args := make([]any, strings.Count(q, "?"))
		for i := range args {
			args[i] = "x"
		}
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN") || strings.HasSuffix(step, "(shop=?)") {
				t.Errorf("%s\n  scans a whole shop: %s", q, strings.Join(plan, "; "))
			}
		}
	}
}
