package sqlite

import (
	"strings"

	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// A codec maps one kind of record to its table (see sqlstore.Codec); the
// codecs are shared with kpi/postgres, whose tables have the same columns.
type codec[T any] = sqlstore.Codec[T]

var (
	shopCodec       = &sqlstore.Shops
	orderCodec      = &sqlstore.Orders
	shipmentCodec   = &sqlstore.Shipments
	returnCodec     = &sqlstore.Returns
	reviewCodec     = &sqlstore.Reviews
	inventoryCodec  = &sqlstore.Inventory
	inboundCodec    = &sqlstore.Inbound
	adCodec         = &sqlstore.Ads
	customsCodec    = &sqlstore.Customs
	ticketCodec     = &sqlstore.Tickets
	shiftCodec      = &sqlstore.AgentShifts
	listingCodec    = &sqlstore.Listings
	competitorCodec = &sqlstore.Competitors
)

// selectByKey returns the statement that reads one record of c by its key.
func selectByKey[T any](c *codec[T]) string {
	where := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		where[i] = "t." + k + " = ?"
	}
	from := " FROM " + c.Table + " t"
	if c.ByKey != "" {
		from += " INDEXED BY " + c.ByKey
	}
	return "SELECT " + c.List("t") + from + " WHERE " + strings.Join(where, " AND ")
}

// insertNew returns the statement that inserts a record of c unless its
// key is taken: it changes one row or none.
func insertNew[T any](c *codec[T]) string {
	all := c.Columns()
	return "INSERT INTO " + c.Table + " (" + strings.Join(all, ", ") + ") VALUES " + params(len(all)) +
		" ON CONFLICT DO NOTHING"
}

// byIDs returns the FROM clause (see query) that selects the records of a
// shop with one of n ids, for a codec keyed by shop and id.
func byIDs[T any](c *codec[T], n int) string {
	from := "FROM " + c.Table + " t"
	if c.ByKey != "" {
		from += " INDEXED BY " + c.ByKey
	}
	return from + " WHERE t.shop = ? AND t.id IN " + params(n)
}

// params returns "(?, ?, ...)" with n parameters.
func params(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// upsert returns the statement that inserts a record of c or replaces the
// non-key columns of the one with its key.
func upsert[T any](c *codec[T]) string {
	set := make([]string, len(c.Cols))
	for i, col := range c.Cols {
		set[i] = col + " = excluded." + col
	}
	return "INSERT INTO " + c.Table + " (" + strings.Join(c.Columns(), ", ") + ") VALUES " + params(len(c.Keys)+len(c.Cols)) +
		" ON CONFLICT (" + strings.Join(c.Keys, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}
