// Package sqlstore is what the SQL stores, kpi/sqlite and kpi/postgres,
// share: how each kind of record maps to a row of its table (the codecs),
// and which daily rollups a write makes stale (Stale). The two stores'
// migrations create the same tables and columns; the SQL itself, and how
// each store runs it, stays in each store.
package sqlstore

import (
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// A Codec maps one kind of record to its table: the columns, the stored
// values of a record, and the record back from a row. A store compares the
// stored values of the old and the new record to tell Updated from
// Unchanged, so Row must be a pure function of the record, and
// Row(Scan(Row(r))) must equal Row(r).
//
// Stored values are int64, string or nil (NULL): times are Unix seconds
// (NULL for a zero time where the column allows it), days kpi.Date, flags 0
// or 1. A column holds text where Row gives a string, an integer otherwise.
type Codec[T any] struct {
	Table string
	Keys  []string       // the key columns, first in Row's order
	ByKey string         // the unique index on Keys, if they are not the primary key
	Cols  []string       // the other columns
	Row   func(*T) []any // the stored values of Keys then Cols
	Scan  func(Scanner) (T, error)
}

// Scanner reads one row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows are
// ones. Scanning into *any must give int64 (int16 and int32 will do),
// string or nil, as both drivers do.
type Scanner interface{ Scan(dest ...any) error }

// Columns returns the key columns, then the others.
func (c *Codec[T]) Columns() []string {
	return append(append(make([]string, 0, len(c.Keys)+len(c.Cols)), c.Keys...), c.Cols...)
}

// List returns Columns, each prefixed with alias and a dot, comma-separated.
func (c *Codec[T]) List(alias string) string {
	all := c.Columns()
	for i, col := range all {
		all[i] = alias + "." + col
	}
	return strings.Join(all, ", ")
}

// Stored forms. A zero time is NULL, as is its day.

func unix(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

func dayOf(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return int64(kpi.DateOf(t))
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// vals is a stored row as the driver gives it. Scanning into *any spares
// database/sql the reflection it uses to convert an integer, which costs
// more than the rest of reading a row.
type vals []any

func scanVals(r Scanner, n int) (vals, error) {
	v := make(vals, n)
	ptrs := make([]any, n)
	for i := range v {
		ptrs[i] = &v[i]
	}
	return v, r.Scan(ptrs...)
}

func (v vals) str(i int) string {
	s, _ := v[i].(string)
	return s
}

func (v vals) int(i int) int64 {
	switch n := v[i].(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int16:
		return int64(n)
	}
	return 0
}

func (v vals) bool(i int) bool { return v.int(i) != 0 }

// time reads Unix seconds; NULL is the zero time.
func (v vals) time(i int) time.Time {
	if v[i] == nil {
		return time.Time{}
	}
	return time.Unix(v.int(i), 0).UTC()
}

func splitLangs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Shops is the codec of kpi.Shop.
var Shops = Codec[kpi.Shop]{
	Table: "shops",
	Keys:  []string{"id"},
	Cols:  []string{"platform", "marketplace", "name", "currency"},
	Row: func(s *kpi.Shop) []any {
		return []any{s.ID, string(s.Platform), s.Marketplace, s.Name, s.Currency}
	},
	Scan: func(r Scanner) (kpi.Shop, error) {
		v, err := scanVals(r, 5)
		return kpi.Shop{ID: v.str(0), Platform: kpi.Platform(v.str(1)), Marketplace: v.str(2), Name: v.str(3),
			Currency: v.str(4)}, err
	},
}

// Orders is the codec of kpi.Order.
var Orders = Codec[kpi.Order]{
	Table: "orders",
	Keys:  []string{"shop", "id"},
	ByKey: "orders_id",
	Cols: []string{"customer_ref", "placed", "placed_day", "paid", "ship_by", "promised_by",
		"status", "total", "units", "channel", "claim", "chargeback"},
	Row: func(o *kpi.Order) []any {
		return []any{o.Shop, o.ID, o.CustomerRef, o.Placed.Unix(), dayOf(o.Placed), unix(o.Paid),
			unix(o.ShipBy), unix(o.PromisedBy), string(o.Status), o.Total, o.Units,
			string(o.Channel), boolInt(o.Claim), boolInt(o.Chargeback)}
	},
	Scan: func(r Scanner) (kpi.Order, error) {
		v, err := scanVals(r, 14)
		return kpi.Order{Shop: v.str(0), ID: v.str(1), CustomerRef: v.str(2), Placed: v.time(3), Paid: v.time(5),
			ShipBy: v.time(6), PromisedBy: v.time(7), Status: kpi.OrderStatus(v.str(8)), Total: v.int(9),
			Units: v.int(10), Channel: kpi.Channel(v.str(11)), Claim: v.bool(12), Chargeback: v.bool(13)}, err
	},
}

// Shipments is the codec of kpi.Shipment.
var Shipments = Codec[kpi.Shipment]{
	Table: "shipments",
	Keys:  []string{"shop", "id"},
	ByKey: "shipments_id",
	Cols: []string{"order_id", "shipped", "shipped_day", "carrier", "tracking", "delivered",
		"delivered_day", "units"},
	Row: func(s *kpi.Shipment) []any {
		return []any{s.Shop, s.ID, s.OrderID, s.Shipped.Unix(), dayOf(s.Shipped), s.Carrier,
			s.Tracking, unix(s.Delivered), dayOf(s.Delivered), s.Units}
	},
	Scan: func(r Scanner) (kpi.Shipment, error) {
		v, err := scanVals(r, 10)
		return kpi.Shipment{Shop: v.str(0), ID: v.str(1), OrderID: v.str(2), Shipped: v.time(3), Carrier: v.str(5),
			Tracking: v.str(6), Delivered: v.time(7), Units: v.int(9)}, err
	},
}

// Returns is the codec of kpi.Return.
var Returns = Codec[kpi.Return]{
	Table: "returns",
	Keys:  []string{"shop", "id"},
	Cols:  []string{"order_id", "returned", "returned_day", "units", "reason"},
	Row: func(r *kpi.Return) []any {
		return []any{r.Shop, r.ID, r.OrderID, r.Returned.Unix(), dayOf(r.Returned), r.Units, r.Reason}
	},
	Scan: func(r Scanner) (kpi.Return, error) {
		v, err := scanVals(r, 7)
		return kpi.Return{Shop: v.str(0), ID: v.str(1), OrderID: v.str(2), Returned: v.time(3), Units: v.int(5),
			Reason: v.str(6)}, err
	},
}

// Reviews is the codec of kpi.Review. It stores Text as given: a store
// masks it before (kpi.MaskPII).
var Reviews = Codec[kpi.Review]{
	Table: "reviews",
	Keys:  []string{"shop", "id"},
	Cols:  []string{"order_id", "posted", "posted_day", "rating", "text", "replied_at"},
	Row: func(r *kpi.Review) []any {
		return []any{r.Shop, r.ID, r.OrderID, r.Posted.Unix(), dayOf(r.Posted), int64(r.Rating),
			r.Text, unix(r.RepliedAt)}
	},
	Scan: func(r Scanner) (kpi.Review, error) {
		v, err := scanVals(r, 8)
		return kpi.Review{Shop: v.str(0), ID: v.str(1), OrderID: v.str(2), Posted: v.time(3), Rating: int(v.int(5)),
			Text: v.str(6), RepliedAt: v.time(7)}, err
	},
}

// Inventory is the codec of kpi.InventorySnapshot.
var Inventory = Codec[kpi.InventorySnapshot]{
	Table: "inventory",
	Keys:  []string{"shop", "sku", "taken"},
	Cols:  []string{"taken_day", "on_hand", "inbound", "reserved"},
	Row: func(s *kpi.InventorySnapshot) []any {
		return []any{s.Shop, s.SKU, s.Taken.Unix(), dayOf(s.Taken), s.OnHand, s.Inbound, s.Reserved}
	},
	Scan: func(r Scanner) (kpi.InventorySnapshot, error) {
		v, err := scanVals(r, 7)
		return kpi.InventorySnapshot{Shop: v.str(0), SKU: v.str(1), Taken: v.time(2), OnHand: v.int(4),
			Inbound: v.int(5), Reserved: v.int(6)}, err
	},
}

// Inbound is the codec of kpi.InboundShipment.
var Inbound = Codec[kpi.InboundShipment]{
	Table: "inbound",
	Keys:  []string{"shop", "id"},
	Cols:  []string{"created", "created_day", "received", "units"},
	Row: func(s *kpi.InboundShipment) []any {
		return []any{s.Shop, s.ID, s.Created.Unix(), dayOf(s.Created), unix(s.Received), s.Units}
	},
	Scan: func(r Scanner) (kpi.InboundShipment, error) {
		v, err := scanVals(r, 6)
		return kpi.InboundShipment{Shop: v.str(0), ID: v.str(1), Created: v.time(2), Received: v.time(4),
			Units: v.int(5)}, err
	},
}

// Ads is the codec of kpi.AdDay.
var Ads = Codec[kpi.AdDay]{
	Table: "ads",
	Keys:  []string{"shop", "campaign", "day"},
	Cols:  []string{"impressions", "clicks", "spend", "sales", "orders"},
	Row: func(a *kpi.AdDay) []any {
		return []any{a.Shop, a.Campaign, int64(a.Day), a.Impressions, a.Clicks, a.Spend, a.Sales, a.Orders}
	},
	Scan: func(r Scanner) (kpi.AdDay, error) {
		v, err := scanVals(r, 8)
		return kpi.AdDay{Shop: v.str(0), Campaign: v.str(1), Day: kpi.Date(v.int(2)), Impressions: v.int(3),
			Clicks: v.int(4), Spend: v.int(5), Sales: v.int(6), Orders: v.int(7)}, err
	},
}

// Customs is the codec of kpi.CustomsEntry.
var Customs = Codec[kpi.CustomsEntry]{
	Table: "customs",
	Keys:  []string{"shop", "id"},
	Cols:  []string{"declared", "declared_day", "cleared", "status", "docs_completed"},
	Row: func(c *kpi.CustomsEntry) []any {
		return []any{c.Shop, c.ID, c.Declared.Unix(), dayOf(c.Declared), unix(c.Cleared),
			string(c.Status), boolInt(c.DocsCompleted)}
	},
	Scan: func(r Scanner) (kpi.CustomsEntry, error) {
		v, err := scanVals(r, 7)
		return kpi.CustomsEntry{Shop: v.str(0), ID: v.str(1), Declared: v.time(2), Cleared: v.time(4),
			Status: kpi.CustomsStatus(v.str(5)), DocsCompleted: v.bool(6)}, err
	},
}

// Tickets is the codec of kpi.Ticket.
var Tickets = Codec[kpi.Ticket]{
	Table: "tickets",
	Keys:  []string{"shop", "id"},
	Cols:  []string{"customer_ref", "opened", "opened_day", "first_reply", "kind", "lang"},
	Row: func(t *kpi.Ticket) []any {
		return []any{t.Shop, t.ID, t.CustomerRef, t.Opened.Unix(), dayOf(t.Opened),
			unix(t.FirstReply), string(t.Kind), t.Lang}
	},
	Scan: func(r Scanner) (kpi.Ticket, error) {
		v, err := scanVals(r, 8)
		return kpi.Ticket{Shop: v.str(0), ID: v.str(1), CustomerRef: v.str(2), Opened: v.time(3),
			FirstReply: v.time(5), Kind: kpi.TicketKind(v.str(6)), Lang: v.str(7)}, err
	},
}

// AgentShifts is the codec of kpi.AgentShift; Langs are comma-joined.
var AgentShifts = Codec[kpi.AgentShift]{
	Table: "agent_shifts",
	Keys:  []string{"shop", "agent", "start_at"},
	Cols:  []string{"start_day", "end_at", "end_day", "langs"},
	Row: func(s *kpi.AgentShift) []any {
		return []any{s.Shop, s.Agent, s.Start.Unix(), dayOf(s.Start), s.End.Unix(), dayOf(s.End),
			strings.Join(s.Langs, ",")}
	},
	Scan: func(r Scanner) (kpi.AgentShift, error) {
		v, err := scanVals(r, 7)
		return kpi.AgentShift{Shop: v.str(0), Agent: v.str(1), Start: v.time(2), End: v.time(4),
			Langs: splitLangs(v.str(6))}, err
	},
}

// Listings is the codec of kpi.Listing.
var Listings = Codec[kpi.Listing]{
	Table: "listings",
	Keys:  []string{"shop", "sku"},
	Cols:  []string{"launched", "needs_pse", "pse_valid", "label", "price"},
	Row: func(l *kpi.Listing) []any {
		return []any{l.Shop, l.SKU, unix(l.Launched), boolInt(l.NeedsPSE), boolInt(l.PSEValid),
			string(l.Label), l.Price}
	},
	Scan: func(r Scanner) (kpi.Listing, error) {
		v, err := scanVals(r, 7)
		return kpi.Listing{Shop: v.str(0), SKU: v.str(1), Launched: v.time(2), NeedsPSE: v.bool(3),
			PSEValid: v.bool(4), Label: kpi.LabelCheck(v.str(5)), Price: v.int(6)}, err
	},
}

// Competitors is the codec of kpi.CompetitorObservation.
var Competitors = Codec[kpi.CompetitorObservation]{
	Table: "competitors",
	Keys:  []string{"shop", "sku", "competitor", "observed"},
	Cols:  []string{"observed_day", "price", "new_listing"},
	Row: func(c *kpi.CompetitorObservation) []any {
		return []any{c.Shop, c.SKU, c.Competitor, c.Observed.Unix(), dayOf(c.Observed), c.Price,
			boolInt(c.NewListing)}
	},
	Scan: func(r Scanner) (kpi.CompetitorObservation, error) {
		v, err := scanVals(r, 7)
		return kpi.CompetitorObservation{Shop: v.str(0), SKU: v.str(1), Competitor: v.str(2), Observed: v.time(3),
			Price: v.int(5), NewListing: v.bool(6)}, err
	},
}
