package kpi

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"
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

// Add adds the counts of o to s.
func (s *WriteStats) Add(o WriteStats) {
	s.Inserted += o.Inserted
	s.Updated += o.Updated
	s.Unchanged += o.Unchanged
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
	// Recorded tells which of shops have had records stored, ever: a shop
	// registered whose first sync or import has stored nothing has not.
	// A shop's answer only goes from false to true, so a caller may keep
	// a true.
	Recorded(ctx context.Context, shops []string) (map[string]bool, error)
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

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// The personal data MaskPII finds, in Japanese and Chinese text. Digits
// may be ASCII or full-width (０-９), and numbers be split by spaces,
// hyphens, the long vowel mark or a full-width minus.
const (
	piiDigit = `[0-9０-９]`
	piiDash  = `[\s\-‐－ー―−]?`
	// A building, unit and room after an address: 5号楼1203室, 2栋301.
	piiBuilding = `(?:\s?(?:[\p{Han}A-Za-z]{0,8}` + piiDigit + `+(?:号楼|號樓|栋|棟|幢|座|单元|單元|楼|樓|階|号室|室|号|號))+` + piiDigit + `*)?`
)

var (
	// An e-mail address; its @ may be full-width.
	emailRE = regexp.MustCompile(`[A-Za-z0-9Ａ-Ｚａ-ｚ０-９._%+\-]+\s?[@＠]\s?[A-Za-z0-9Ａ-Ｚａ-ｚ０-９\-]+(?:[.．][A-Za-z0-9Ａ-Ｚａ-ｚ０-９\-]+)*[.．][A-Za-zＡ-Ｚａ-ｚ]{2,}`)
	// Phone numbers, masked only where no digit touches them (an order
	// number is not a phone number): Japanese ones (0 or +81 first),
	// Chinese landlines (0 first) and Chinese mobiles (1[3-9] and nine
	// digits, +86 or 0086 first or not).
	phoneRE = regexp.MustCompile(`(?:[+＋]81` + piiDash + `|[0０])` + piiDigit + `{1,4}` + piiDash + piiDigit + `{1,4}` + piiDash + piiDigit + `{3,4}` +
		`|(?:(?:[+＋]86|0086)` + piiDash + `)?[1１][3-9３-９]` + piiDigit + piiDash + piiDigit + `{4}` + piiDash + piiDigit + `{4}`)
	// A Japanese postal code (with 〒, or 123-4567 on its own) or a Chinese
	// one after 邮编.
	postalRE     = regexp.MustCompile(`〒\s?` + piiDigit + `{3}` + piiDash + piiDigit + `{4}|(?:邮编|郵便番号)[:：]?\s?` + piiDigit + `{6,7}`)
	postalBareRE = regexp.MustCompile(piiDigit + `{3}[\-ー－]` + piiDigit + `{4}`)
	// A street address: a prefecture, province, city or ward followed by
	// block or house numbers (丁目, 番地, 号 …) and a building's (栋, 室 …).
	addressRE = regexp.MustCompile(`(?:東京都|北海道|(?:京都|大阪)府|\p{Han}{2,3}[県省]|\p{Han}{2,8}自治区)?\p{Han}{1,6}[市区町村郡县縣镇鎮]` +
		`\p{Han}{0,8}(?:\p{Hiragana}|\p{Katakana}|\p{Han}){0,8}` + piiDigit + `+(?:[\-ー－‐−丁目番地号號の]+` + piiDigit + `*)*` + piiBuilding)
	// A Chinese street and number without a city: 世纪大道100号.
	streetRE = regexp.MustCompile(`\p{Han}{1,8}[路街道巷弄]` + piiDigit + `+[号號](?:` + piiDigit + `+[号號弄])?` + piiBuilding)
	// A person addressed by name: up to five kanji or katakana before 様,
	// さん or 殿; up to three Chinese characters before 先生, 女士 or 小姐.
	honorificRE = regexp.MustCompile(`[\p{Han}\p{Katakana}]{1,5}(様|さま|さん|殿)|\p{Han}{1,3}(先生|女士|小姐)`)
	// A name after a label: 收货人：张伟, お名前：山田太郎.
	labelledNameRE = regexp.MustCompile(`(姓名|收货人|收件人|联系人|聯絡人|氏名|お名前|宛名|受取人)(\s*[:：]\s*)[\p{Han}\p{Katakana}・]{2,6}`)
)

// MaskPII replaces e-mail addresses, phone numbers, postal codes, street
// addresses, names addressed with 様, さん, 先生, 女士 and the like, and
// names after a label (收货人：, お名前：) in Japanese or Chinese text by
// ***, as APPI (and China's PIPL) require before text is stored or shown in
// chat. A name written without an honorific or a label is not found; an
// address may take a word or two before it along (寄到上海市… is all ***).
// Masking masked text changes nothing.
func MaskPII(text string) string {
	text = emailRE.ReplaceAllString(text, "***")
	text = postalRE.ReplaceAllString(text, "***")
	text = maskUntouched(phoneRE, text)
	text = maskUntouched(postalBareRE, text)
	text = addressRE.ReplaceAllString(text, "***")
	text = streetRE.ReplaceAllString(text, "***")
	text = labelledNameRE.ReplaceAllString(text, "$1$2***")
	text = honorificRE.ReplaceAllStringFunc(text, func(s string) string {
		m := honorificRE.FindStringSubmatch(s)
		return "***" + m[1] + m[2]
	})
	return text
}

// maskUntouched replaces the matches of re that no digit touches on
// either side by ***.
func maskUntouched(re *regexp.Regexp, text string) string {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringIndex(text, -1) {
		before, _ := utf8.DecodeLastRuneInString(text[:m[0]])
		after, _ := utf8.DecodeRuneInString(text[m[1]:])
		if isDigit(before) || isDigit(after) {
			continue
		}
		b.WriteString(text[last:m[0]])
		b.WriteString("***")
		last = m[1]
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }

// ShopIDs returns the shops that b's records belong to, each once, in the
// order they first appear.
func (b *Batch) ShopIDs() []string {
	return b.shopIDs(true)
}

// RecordShopIDs is ShopIDs without the shops of b.Shops alone: the shops
// whose records b holds.
func (b *Batch) RecordShopIDs() []string {
	return b.shopIDs(false)
}

// shopIDs lists the shops b names, those of b.Shops too if withShops.
func (b *Batch) shopIDs(withShops bool) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if withShops {
		for _, s := range b.Shops {
			add(s.ID)
		}
	}
	for _, r := range b.Orders {
		add(r.Shop)
	}
	for _, r := range b.Shipments {
		add(r.Shop)
	}
	for _, r := range b.Returns {
		add(r.Shop)
	}
	for _, r := range b.Reviews {
		add(r.Shop)
	}
	for _, r := range b.Inventory {
		add(r.Shop)
	}
	for _, r := range b.Inbound {
		add(r.Shop)
	}
	for _, r := range b.Ads {
		add(r.Shop)
	}
	for _, r := range b.Customs {
		add(r.Shop)
	}
	for _, r := range b.Tickets {
		add(r.Shop)
	}
	for _, r := range b.AgentShifts {
		add(r.Shop)
	}
	for _, r := range b.Listings {
		add(r.Shop)
	}
	for _, r := range b.Competitors {
		add(r.Shop)
	}
	return ids
}

// SyncProgress says what a connector's pull of one stream did.
type SyncProgress struct {
	Stream string // "orders", "report:returns", "ads" …
	Pages  int    // pages or documents read
	Read   int    // records read from the platform
	// Rejected are the rows of a file refused for a bad value or a wrong
	// column count: logged with their line and reason, the others stored.
	Rejected int
	Stats    WriteStats
}

// SyncState keeps where a connector's pulls of each shop stand, per
// stream ("orders", "report:returns" …): a cursor, such as a time and a
// page token, that the next pull resumes from. Writes are idempotent, so a
// cursor saved after its records makes an interrupted pull resume without
// losing or counting anything twice.
type SyncState interface {
	// SyncCursor returns the stream's cursor; "" if it has none.
	SyncCursor(ctx context.Context, shop, stream string) (string, error)
	SaveSyncCursor(ctx context.Context, shop, stream, cursor string) error
}
