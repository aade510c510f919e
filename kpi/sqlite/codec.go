package sqlite

import (
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// A codec maps one kind of record to its table: the columns, the stored
// values of a record, and the record back from a row. Write compares the
// stored values of the old and the new record to tell Updated from Unchanged,
// so row must be a pure function of the record, and row(scan(row(r))) must
// equal row(r).
type codec[T any] struct {
	table string
	keys  []string       // the key columns, first in row order
	byKey string         // the unique index on keys, if not the primary key
	cols  []string       // the other columns
	row   func(*T) []any // the stored values of keys then cols: int64, string or nil
	scan  func(scanner) (T, error)
}

type scanner interface{ Scan(dest ...any) error }

// list returns the columns, keys first, each prefixed with alias and a dot.
func (c *codec[T]) list(alias string) string {
	all := append(append([]string{}, c.keys...), c.cols...)
	for i, col := range all {
		all[i] = alias + "." + col
	}
	return strings.Join(all, ", ")
}

// selectByKey returns the statement that reads one record by its key.
func (c *codec[T]) selectByKey() string {
	where := make([]string, len(c.keys))
	for i, k := range c.keys {
		where[i] = "t." + k + " = ?"
	}
	from := " FROM " + c.table + " t"
	if c.byKey != "" {
		from += " INDEXED BY " + c.byKey
	}
	return "SELECT " + c.list("t") + from + " WHERE " + strings.Join(where, " AND ")
}

// insertNew returns the statement that inserts a record unless its key is
// taken: it changes one row or none.
func (c *codec[T]) insertNew() string {
	all := append(append([]string{}, c.keys...), c.cols...)
	return "INSERT INTO " + c.table + " (" + strings.Join(all, ", ") + ") VALUES " + params(len(all)) +
		" ON CONFLICT DO NOTHING"
}

// byIDs returns the FROM clause (see query) that selects the records of a
// shop with one of n ids, for a codec keyed by shop and id.
func (c *codec[T]) byIDs(n int) string {
	from := "FROM " + c.table + " t"
	if c.byKey != "" {
		from += " INDEXED BY " + c.byKey
	}
	return from + " WHERE t.shop = ? AND t.id IN " + params(n)
}

// params returns "(?, ?, ...)" with n parameters.
func params(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// upsert returns the statement that inserts a record or replaces the
// non-key columns of the one with its key.
func (c *codec[T]) upsert() string {
	all := append(append([]string{}, c.keys...), c.cols...)
	set := make([]string, len(c.cols))
	for i, col := range c.cols {
		set[i] = col + " = excluded." + col
	}
	return "INSERT INTO " + c.table + " (" + strings.Join(all, ", ") + ") VALUES " + params(len(all)) +
		" ON CONFLICT (" + strings.Join(c.keys, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
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

// vals is a stored row as the driver gives it: int64, string or nil.
// Scanning into *any spares database/sql the reflection it uses to convert
// an integer, which costs more than the rest of reading a row.
type vals []any

func scanVals(r scanner, n int) (vals, error) {
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
	n, _ := v[i].(int64)
	return n
}

func (v vals) bool(i int) bool { return v.int(i) != 0 }

// time reads Unix seconds; NULL is the zero time.
func (v vals) time(i int) time.Time {
	n, ok := v[i].(int64)
	if !ok {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func splitLangs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

var shopCodec = codec[kpi.Shop]{
	table: "shops",
	keys:  []string{"id"},
	cols:  []string{"platform", "marketplace", "name", "currency"},
	row: func(s *kpi.Shop) []any {
		return []any{s.ID, string(s.Platform), s.Marketplace, s.Name, s.Currency}
	},
	scan: func(r scanner) (kpi.Shop, error) {
		v, err := scanVals(r, 5)
		return kpi.Shop{ID: v.str(0), Platform: kpi.Platform(v.str(1)), Marketplace: v.str(2), Name: v.str(3),
			Currency: v.str(4)}, err
	},
}

var orderCodec = codec[kpi.Order]{
	table: "orders",
	keys:  []string{"shop", "id"},
	byKey: "orders_id",
	cols: []string{"customer_ref", "placed", "placed_day", "paid", "ship_by", "promised_by",
		"status", "total", "units", "channel", "claim", "chargeback"},
	row: func(o *kpi.Order) []any {
		return []any{o.Shop, o.ID, o.CustomerRef, o.Placed.Unix(), dayOf(o.Placed), unix(o.Paid),
			unix(o.ShipBy), unix(o.PromisedBy), string(o.Status), o.Total, o.Units,
			string(o.Channel), boolInt(o.Claim), boolInt(o.Chargeback)}
	},
	scan: func(r scanner) (kpi.Order, error) {
		v, err := scanVals(r, 14)
		return kpi.Order{Shop: v.str(0), ID: v.str(1), CustomerRef: v.str(2), Placed: v.time(3), Paid: v.time(5),
			ShipBy: v.time(6), PromisedBy: v.time(7), Status: kpi.OrderStatus(v.str(8)), Total: v.int(9),
			Units: v.int(10), Channel: kpi.Channel(v.str(11)), Claim: v.bool(12), Chargeback: v.bool(13)}, err
	},
}

var shipmentCodec = codec[kpi.Shipment]{
	table: "shipments",
	keys:  []string{"shop", "id"},
	byKey: "shipments_id",
	cols: []string{"order_id", "shipped", "shipped_day", "carrier", "tracking", "delivered",
		"delivered_day", "units"},
	row: func(s *kpi.Shipment) []any {
		return []any{s.Shop, s.ID, s.OrderID, s.Shipped.Unix(), dayOf(s.Shipped), s.Carrier,
			s.Tracking, unix(s.Delivered), dayOf(s.Delivered), s.Units}
	},
	scan: func(r scanner) (kpi.Shipment, error) {
		v, err := scanVals(r, 10)
		return kpi.Shipment{Shop: v.str(0), ID: v.str(1), OrderID: v.str(2), Shipped: v.time(3), Carrier: v.str(5),
			Tracking: v.str(6), Delivered: v.time(7), Units: v.int(9)}, err
	},
}

var returnCodec = codec[kpi.Return]{
	table: "returns",
	keys:  []string{"shop", "id"},
	cols:  []string{"order_id", "returned", "returned_day", "units", "reason"},
	row: func(r *kpi.Return) []any {
		return []any{r.Shop, r.ID, r.OrderID, r.Returned.Unix(), dayOf(r.Returned), r.Units, r.Reason}
	},
	scan: func(r scanner) (kpi.Return, error) {
		v, err := scanVals(r, 7)
		return kpi.Return{Shop: v.str(0), ID: v.str(1), OrderID: v.str(2), Returned: v.time(3), Units: v.int(5),
			Reason: v.str(6)}, err
	},
}

// reviewCodec stores Text as given: Write masks it before.
var reviewCodec = codec[kpi.Review]{
	table: "reviews",
	keys:  []string{"shop", "id"},
	cols:  []string{"order_id", "posted", "posted_day", "rating", "text", "replied_at"},
	row: func(r *kpi.Review) []any {
		return []any{r.Shop, r.ID, r.OrderID, r.Posted.Unix(), dayOf(r.Posted), int64(r.Rating),
			r.Text, unix(r.RepliedAt)}
	},
	scan: func(r scanner) (kpi.Review, error) {
		v, err := scanVals(r, 8)
		return kpi.Review{Shop: v.str(0), ID: v.str(1), OrderID: v.str(2), Posted: v.time(3), Rating: int(v.int(5)),
			Text: v.str(6), RepliedAt: v.time(7)}, err
	},
}

var inventoryCodec = codec[kpi.InventorySnapshot]{
	table: "inventory",
	keys:  []string{"shop", "sku", "taken"},
	cols:  []string{"taken_day", "on_hand", "inbound", "reserved"},
	row: func(s *kpi.InventorySnapshot) []any {
		return []any{s.Shop, s.SKU, s.Taken.Unix(), dayOf(s.Taken), s.OnHand, s.Inbound, s.Reserved}
	},
	scan: func(r scanner) (kpi.InventorySnapshot, error) {
		v, err := scanVals(r, 7)
		return kpi.InventorySnapshot{Shop: v.str(0), SKU: v.str(1), Taken: v.time(2), OnHand: v.int(4),
			Inbound: v.int(5), Reserved: v.int(6)}, err
	},
}

var inboundCodec = codec[kpi.InboundShipment]{
	table: "inbound",
	keys:  []string{"shop", "id"},
	cols:  []string{"created", "created_day", "received", "units"},
	row: func(s *kpi.InboundShipment) []any {
		return []any{s.Shop, s.ID, s.Created.Unix(), dayOf(s.Created), unix(s.Received), s.Units}
	},
	scan: func(r scanner) (kpi.InboundShipment, error) {
		v, err := scanVals(r, 6)
		return kpi.InboundShipment{Shop: v.str(0), ID: v.str(1), Created: v.time(2), Received: v.time(4),
			Units: v.int(5)}, err
	},
}

var adCodec = codec[kpi.AdDay]{
	table: "ads",
	keys:  []string{"shop", "campaign", "day"},
	cols:  []string{"impressions", "clicks", "spend", "sales", "orders"},
	row: func(a *kpi.AdDay) []any {
		return []any{a.Shop, a.Campaign, int64(a.Day), a.Impressions, a.Clicks, a.Spend, a.Sales, a.Orders}
	},
	scan: func(r scanner) (kpi.AdDay, error) {
		v, err := scanVals(r, 8)
		return kpi.AdDay{Shop: v.str(0), Campaign: v.str(1), Day: kpi.Date(v.int(2)), Impressions: v.int(3),
			Clicks: v.int(4), Spend: v.int(5), Sales: v.int(6), Orders: v.int(7)}, err
	},
}

var customsCodec = codec[kpi.CustomsEntry]{
	table: "customs",
	keys:  []string{"shop", "id"},
	cols:  []string{"declared", "declared_day", "cleared", "status", "docs_completed"},
	row: func(c *kpi.CustomsEntry) []any {
		return []any{c.Shop, c.ID, c.Declared.Unix(), dayOf(c.Declared), unix(c.Cleared),
			string(c.Status), boolInt(c.DocsCompleted)}
	},
	scan: func(r scanner) (kpi.CustomsEntry, error) {
		v, err := scanVals(r, 7)
		return kpi.CustomsEntry{Shop: v.str(0), ID: v.str(1), Declared: v.time(2), Cleared: v.time(4),
			Status: kpi.CustomsStatus(v.str(5)), DocsCompleted: v.bool(6)}, err
	},
}

var ticketCodec = codec[kpi.Ticket]{
	table: "tickets",
	keys:  []string{"shop", "id"},
	cols:  []string{"customer_ref", "opened", "opened_day", "first_reply", "kind", "lang"},
	row: func(t *kpi.Ticket) []any {
		return []any{t.Shop, t.ID, t.CustomerRef, t.Opened.Unix(), dayOf(t.Opened),
			unix(t.FirstReply), string(t.Kind), t.Lang}
	},
	scan: func(r scanner) (kpi.Ticket, error) {
		v, err := scanVals(r, 8)
		return kpi.Ticket{Shop: v.str(0), ID: v.str(1), CustomerRef: v.str(2), Opened: v.time(3),
			FirstReply: v.time(5), Kind: kpi.TicketKind(v.str(6)), Lang: v.str(7)}, err
	},
}

var shiftCodec = codec[kpi.AgentShift]{
	table: "agent_shifts",
	keys:  []string{"shop", "agent", "start_at"},
	cols:  []string{"start_day", "end_at", "end_day", "langs"},
	row: func(s *kpi.AgentShift) []any {
		return []any{s.Shop, s.Agent, s.Start.Unix(), dayOf(s.Start), s.End.Unix(), dayOf(s.End),
			strings.Join(s.Langs, ",")}
	},
	scan: func(r scanner) (kpi.AgentShift, error) {
		v, err := scanVals(r, 7)
		return kpi.AgentShift{Shop: v.str(0), Agent: v.str(1), Start: v.time(2), End: v.time(4),
			Langs: splitLangs(v.str(6))}, err
	},
}

var listingCodec = codec[kpi.Listing]{
	table: "listings",
	keys:  []string{"shop", "sku"},
	cols:  []string{"launched", "needs_pse", "pse_valid", "label", "price"},
	row: func(l *kpi.Listing) []any {
		return []any{l.Shop, l.SKU, unix(l.Launched), boolInt(l.NeedsPSE), boolInt(l.PSEValid),
			string(l.Label), l.Price}
	},
	scan: func(r scanner) (kpi.Listing, error) {
		v, err := scanVals(r, 7)
		return kpi.Listing{Shop: v.str(0), SKU: v.str(1), Launched: v.time(2), NeedsPSE: v.bool(3),
			PSEValid: v.bool(4), Label: kpi.LabelCheck(v.str(5)), Price: v.int(6)}, err
	},
}

var competitorCodec = codec[kpi.CompetitorObservation]{
	table: "competitors",
	keys:  []string{"shop", "sku", "competitor", "observed"},
	cols:  []string{"observed_day", "price", "new_listing"},
	row: func(c *kpi.CompetitorObservation) []any {
		return []any{c.Shop, c.SKU, c.Competitor, c.Observed.Unix(), dayOf(c.Observed), c.Price,
			boolInt(c.NewListing)}
	},
	scan: func(r scanner) (kpi.CompetitorObservation, error) {
		v, err := scanVals(r, 7)
		return kpi.CompetitorObservation{Shop: v.str(0), SKU: v.str(1), Competitor: v.str(2), Observed: v.time(3),
			Price: v.int(5), NewListing: v.bool(6)}, err
	},
}
