package kpi

import (
	"context"
	"regexp"
)

// Batch is a set of records written together: all of it or none of it.
// Records are keyed by (shop, the platform's own id), so writing the same
// batch twice changes nothing.
type Batch struct {
	Shops       []Shop
	Orders      []Order
	Shipments   []Shipment
	Returns     []Return
	Reviews     []Review
	Inventory   []InventorySnapshot // keyed by (shop, SKU, Taken)
	Inbound     []InboundShipment
	Ads         []AdDay // keyed by (shop, Campaign, Day)
	Customs     []CustomsEntry
	Tickets     []Ticket
	AgentShifts []AgentShift            // keyed by (shop, Agent, Start)
	Listings    []Listing               // keyed by (shop, SKU)
	Competitors []CompetitorObservation // keyed by (shop, SKU, Competitor, Observed)
}

// Len returns the number of records in b.
func (b *Batch) Len() int {
	return len(b.Shops) + len(b.Orders) + len(b.Shipments) + len(b.Returns) + len(b.Reviews) +
		len(b.Inventory) + len(b.Inbound) + len(b.Ads) + len(b.Customs) + len(b.Tickets) +
		len(b.AgentShifts) + len(b.Listings) + len(b.Competitors)
}

// WriteStats says what a write did.
type WriteStats struct {
	Inserted  int // new records
	Updated   int // records that existed and changed
	Unchanged int // records that existed as they are
}

// Writer stores records. Connectors and importers use it.
type Writer interface {
	Write(ctx context.Context, b *Batch) (WriteStats, error)
}

// FactQuery asks for the facts of shops over the days [From, To).
type FactQuery struct {
	Shops    []string
	From, To Date
	// Dists asks for the distributions too. Without it they may be left
	// empty: most metrics do not need them, and they are most of the work.
	Dists bool
	// Catalog asks for the catalog facts (listings, competitor offers),
	// which are read from the records on every query; only the compliance
	// and market metrics need them.
	Catalog bool
}

// FactReader answers the engine: the shops, and each shop's facts summed over
// the days of a query, with the catalog facts (listings, competitors) of that
// window added when asked for. Every shop asked for is in the map; a shop the store does not
// know has zero facts.
type FactReader interface {
	Shops(ctx context.Context) ([]Shop, error)
	Facts(ctx context.Context, q FactQuery) (map[string]*Facts, error)
}

// Store is what a storage backend (kpi/sqlite, kpi/postgres) provides.
type Store interface {
	Writer
	FactReader
	Close() error
}

// Validate checks every record of b and returns the first problem as an
// Invalid *Error naming the kind, the index and the field.
func (b *Batch) Validate() error {
	bad := func(kind string, i int, field string) error {
		return Errorf(Invalid, "error.bad_record", map[string]any{"Kind": kind, "Index": i, "Field": field}, nil)
	}
	for i, s := range b.Shops {
		switch {
		case s.ID == "":
			return bad("shop", i, "id")
		case s.Platform == "":
			return bad("shop", i, "platform")
		case !currencyRE.MatchString(s.Currency):
			return bad("shop", i, "currency")
		}
	}
	for i, o := range b.Orders {
		switch {
		case o.Shop == "" || o.ID == "":
			return bad("order", i, "id")
		case o.Placed.IsZero():
			return bad("order", i, "placed")
		case !validStatus(o.Status):
			return bad("order", i, "status")
		case o.Total < 0 || o.Units < 0:
			return bad("order", i, "total")
		}
	}
	for i, s := range b.Shipments {
		switch {
		case s.Shop == "" || s.ID == "" || s.OrderID == "":
			return bad("shipment", i, "id")
		case s.Shipped.IsZero():
			return bad("shipment", i, "shipped")
		case !s.Delivered.IsZero() && s.Delivered.Before(s.Shipped):
			return bad("shipment", i, "delivered")
		}
	}
	for i, r := range b.Returns {
		if r.Shop == "" || r.ID == "" {
			return bad("return", i, "id")
		}
		if r.Returned.IsZero() {
			return bad("return", i, "returned")
		}
	}
	for i, r := range b.Reviews {
		switch {
		case r.Shop == "" || r.ID == "":
			return bad("review", i, "id")
		case r.Posted.IsZero():
			return bad("review", i, "posted")
		case r.Rating < 1 || r.Rating > 5:
			return bad("review", i, "rating")
		}
	}
	for i, s := range b.Inventory {
		if s.Shop == "" || s.SKU == "" || s.Taken.IsZero() {
			return bad("inventory", i, "sku")
		}
	}
	for i, s := range b.Inbound {
		if s.Shop == "" || s.ID == "" || s.Created.IsZero() {
			return bad("inbound", i, "id")
		}
	}
	for i, a := range b.Ads {
		if a.Shop == "" || a.Campaign == "" || a.Day == 0 {
			return bad("ad", i, "campaign")
		}
	}
	for i, c := range b.Customs {
		if c.Shop == "" || c.ID == "" || c.Declared.IsZero() {
			return bad("customs", i, "id")
		}
	}
	for i, t := range b.Tickets {
		if t.Shop == "" || t.ID == "" || t.Opened.IsZero() {
			return bad("ticket", i, "id")
		}
	}
	for i, s := range b.AgentShifts {
		if s.Shop == "" || s.Agent == "" || s.Start.IsZero() || !s.End.After(s.Start) {
			return bad("shift", i, "start")
		}
	}
	for i, l := range b.Listings {
		if l.Shop == "" || l.SKU == "" {
			return bad("listing", i, "sku")
		}
	}
	for i, c := range b.Competitors {
		if c.Shop == "" || c.SKU == "" || c.Competitor == "" || c.Observed.IsZero() {
			return bad("competitor", i, "sku")
		}
	}
	return nil
}

func validStatus(s OrderStatus) bool {
	switch s {
	case StatusPending, StatusUnshipped, StatusShipped, StatusDelivered, StatusCancelled, StatusSellerCancelled:
		return true
	}
	return false
}

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	emailRE    = regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}.\-]+\.[\p{L}]{2,}`)
	phoneRE    = regexp.MustCompile(`(?:\+81[\s\-]?|\b0)\d{1,4}[\s\-ー－]?\d{1,4}[\s\-ー－]?\d{3,4}\b`)
	postalRE   = regexp.MustCompile(`〒\s?\d{3}[\-ー－]?\d{4}|\b\d{3}[\-ー－]\d{4}\b`)
	// A street address: a prefecture, city or ward followed by block numbers.
	addressRE = regexp.MustCompile(`(?:東京都|北海道|(?:京都|大阪)府|\p{Han}{2,3}県)?\p{Han}{1,6}[市区町村郡]\p{Han}{0,8}(?:\p{Hiragana}|\p{Katakana}|\p{Han}){0,8}\d+(?:[\-ー－丁目番地号の]+\d*)*`)
	// A person addressed by name: up to five kanji or kana before 様 or さん.
	honorificRE = regexp.MustCompile(`[\p{Han}\p{Katakana}]{1,5}(様|さん|殿)`)
)

// MaskPII replaces e-mail addresses, phone numbers, postal codes, street
// addresses and names addressed with 様 or さん in text by ***, as APPI
// requires before text is stored or shown in chat.
func MaskPII(text string) string {
	text = emailRE.ReplaceAllString(text, "***")
	text = phoneRE.ReplaceAllString(text, "***")
	text = postalRE.ReplaceAllString(text, "***")
	text = addressRE.ReplaceAllString(text, "***")
	text = honorificRE.ReplaceAllString(text, "***$1")
	return text
}
