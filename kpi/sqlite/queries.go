package sqlite

// The statements that find records by day or by id, in one place so that
// TestQueryPlans can check that each uses an index on more than the shop.
// Without statistics SQLite guesses that shop = ? alone picks a handful of
// rows and may prefer the primary key to the right index, which turns a
// lookup into a scan of the whole shop: the lookups by id name their index.
//
// A FROM clause calls the table whose records it selects t (see query).
const (
	// Rollup builds, by day ranges [?, ?).
	ordersPlacedIn     = "FROM orders t WHERE t.shop = ? AND t.placed_day >= ? AND t.placed_day < ?"
	shipmentsShippedIn = "FROM shipments t WHERE t.shop = ? AND t.shipped_day >= ? AND t.shipped_day < ?"
	shipmentsDelivered = "FROM shipments t INDEXED BY shipments_delivered_day " +
		"WHERE t.shop = ? AND t.delivered_day >= ? AND t.delivered_day < ?"
	shipmentsOfOrdersPlacedIn = "FROM orders o JOIN shipments t INDEXED BY shipments_order " +
		"ON t.shop = o.shop AND t.order_id = o.id WHERE o.shop = ? AND o.placed_day >= ? AND o.placed_day < ?"
	reviewsPosted = "FROM reviews t INDEXED BY reviews_posted_day " +
		"WHERE t.shop = ? AND t.posted_day >= ? AND t.posted_day < ?"
	negativeReviewsOfOrdersPlacedIn = "FROM orders o JOIN reviews t INDEXED BY reviews_order " +
		"ON t.shop = o.shop AND t.order_id = o.id WHERE o.shop = ? AND o.placed_day >= ? AND o.placed_day < ? AND t.rating <= 2"
	returnsIn = "FROM returns t INDEXED BY returns_returned_day " +
		"WHERE t.shop = ? AND t.returned_day >= ? AND t.returned_day < ?"
	inventoryIn = "FROM inventory t INDEXED BY inventory_taken_day " +
		"WHERE t.shop = ? AND t.taken_day >= ? AND t.taken_day < ?"
	inboundIn = "FROM inbound t INDEXED BY inbound_created_day " +
		"WHERE t.shop = ? AND t.created_day >= ? AND t.created_day < ?"
	adsIn     = "FROM ads t INDEXED BY ads_day WHERE t.shop = ? AND t.day >= ? AND t.day < ?"
	customsIn = "FROM customs t INDEXED BY customs_declared_day " +
		"WHERE t.shop = ? AND t.declared_day >= ? AND t.declared_day < ?"
	ticketsIn = "FROM tickets t INDEXED BY tickets_opened_day " +
		"WHERE t.shop = ? AND t.opened_day >= ? AND t.opened_day < ?"
	// Shifts that end on or after the first day and start before the end,
	// then exactly: end_at after the window starts, start_at before it ends.
	shiftsOverlapping = "FROM agent_shifts t INDEXED BY agent_shifts_end_day " +
		"WHERE t.shop = ? AND t.end_day >= ? AND t.start_day < ? AND t.end_at > ? AND t.start_at < ?"
	competitorsIn = "FROM competitors t INDEXED BY competitors_observed_day " +
		"WHERE t.shop = ? AND t.observed_day >= ? AND t.observed_day < ?"
	rollupsIn = "SELECT day, as_of, facts FROM rollups WHERE shop = ? AND day >= ? AND day < ?"

	// Writes: the days linked records reach, for a list of ids "(?, ...)"
	// appended. Each row is one or two days (NULL for none).
	placedDaysOf   = "SELECT placed_day, NULL FROM orders INDEXED BY orders_id WHERE shop = ? AND id IN "
	shipmentDaysOf = "SELECT shipped_day, delivered_day FROM shipments INDEXED BY shipments_order " +
		"WHERE shop = ? AND order_id IN "
)
