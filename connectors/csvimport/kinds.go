package csvimport

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"

	"github.com/kpibot/kpibot/kpi"
)

// readOrder reads an order and, when it has a shipped time, its shipment:
// one per order, keyed by the order id. An empty status is inferred:
// shipped with a shipped time, else unshipped when paid, else pending.
func readOrder(r *row, b *kpi.Batch) {
	o := kpi.Order{
		Shop:        r.shop(),
		ID:          r.need("id"),
		CustomerRef: r.customer("customer"),
		Placed:      r.time("placed", true),
		Paid:        r.time("paid", false),
		ShipBy:      r.time("ship_by", false),
		Total:       r.amount("total", false),
		Units:       r.count("units"),
		Channel:     word(r, "channel", channels, kpi.ByMerchant, "cli.import_bad_channel"),
	}
	shipped := r.time("shipped", false)
	def := kpi.StatusPending
	switch {
	case !shipped.IsZero():
		def = kpi.StatusShipped
	case !o.Paid.IsZero():
		def = kpi.StatusUnshipped
	}
	o.Status = word(r, "status", orderStatuses, def, "cli.import_bad_order_status")
	r.notBefore("paid", o.Paid, "placed", o.Placed)
	r.notBefore("shipped", shipped, "placed", o.Placed)
	if !r.claim("id", o.ID) {
		return
	}
	b.Orders = append(b.Orders, o)
	if !shipped.IsZero() {
		b.Shipments = append(b.Shipments, kpi.Shipment{
			Shop:     o.Shop,
			ID:       o.ID,
			OrderID:  o.ID,
			Shipped:  shipped,
			Carrier:  kpi.Carrier(r.text("carrier")),
			Tracking: r.text("tracking"),
			Units:    o.Units,
		})
	}
}

// readReview reads a review. Without a review id column its id is a hash
// of the order, the time, the rating and the text, which review exports
// do not change. The replied column holds the reply's time, or yes or no:
// a yes without a time counts as replied when posted.
func readReview(r *row, b *kpi.Batch) {
	rv := kpi.Review{
		Shop:    r.shop(),
		ID:      r.text("id"),
		OrderID: r.text("order"),
		Posted:  r.time("posted", true),
		Rating:  r.rating("rating"),
		Text:    r.text("text"),
	}
	if v := r.text("replied"); v != "" {
		if yes, ok := yesNo[fold(v)]; ok {
			if yes {
				rv.RepliedAt = rv.Posted
			}
		} else if t, ok := parseTime(v, r.im.loc); ok {
			rv.RepliedAt = t
			r.notBefore("replied", t, "posted", rv.Posted)
		} else {
			r.fail("replied", "cli.import_not_replied", map[string]any{"Value": v})
		}
	}
	if rv.ID == "" {
		sum := sha256.Sum256([]byte(rv.OrderID + "\x00" + strconv.FormatInt(rv.Posted.Unix(), 10) + "\x00" +
			strconv.Itoa(rv.Rating) + "\x00" + rv.Text))
		rv.ID = "csv-" + hex.EncodeToString(sum[:8])
	}
	if r.claim("id", rv.ID) {
		b.Reviews = append(b.Reviews, rv)
	}
}

// rating reads a star rating from 1 to 5: 4, 4.0 or ★★★★☆.
func (r *row) rating(name string) int {
	v := r.text(name)
	if v == "" {
		r.fail(name, "cli.import_empty", nil)
		return 0
	}
	n := -1
	if stars := strings.Count(v, "★"); stars > 0 && strings.Trim(v, "★☆ ") == "" {
		n = stars
	} else if s := strings.TrimSuffix(width.Narrow.String(v), ".0"); len(s) <= 2 {
		if d, ok := digits(s); ok && s != "" {
			n = d
		}
	}
	if n < 1 || n > 5 {
		r.fail(name, "cli.import_bad_rating", map[string]any{"Value": v})
		return 0
	}
	return n
}

// readTicket reads a customer-service ticket; its customer id is hashed.
func readTicket(r *row, b *kpi.Batch) {
	t := kpi.Ticket{
		Shop:        r.shop(),
		ID:          r.need("id"),
		CustomerRef: r.customer("customer"),
		Opened:      r.time("opened", true),
		FirstReply:  r.time("first_reply", false),
		Kind:        word(r, "kind", ticketKinds, "", "cli.import_bad_ticket_kind"),
	}
	if v := r.text("lang"); v != "" {
		l, ok := lang(v)
		if !ok {
			r.fail("lang", "cli.import_bad_lang", map[string]any{"Value": v})
		}
		t.Lang = l
	}
	r.notBefore("first_reply", t.FirstReply, "opened", t.Opened)
	if r.claim("id", t.ID) {
		b.Tickets = append(b.Tickets, t)
	}
}

// readShift reads an agent's shift: the languages are a list (ja,zh or
// 日本語・中文).
func readShift(r *row, b *kpi.Batch) {
	s := kpi.AgentShift{
		Shop:  r.shop(),
		Agent: r.need("agent"),
		Start: r.time("start", true),
		End:   r.time("end", true),
	}
	if v := r.text("langs"); v != "" {
		for _, name := range langSeparators.Split(strings.ReplaceAll(v, "・", ","), -1) {
			if name == "" {
				continue
			}
			l, ok := lang(name)
			if !ok {
				r.fail("langs", "cli.import_bad_lang", map[string]any{"Value": name})
				break
			}
			if !s.Speaks(l) {
				s.Langs = append(s.Langs, l)
			}
		}
	}
	if !s.Start.IsZero() && !s.End.IsZero() && !s.End.After(s.Start) {
		r.fail("end", "cli.import_not_after", map[string]any{"Value": r.text("end"), "Other": r.header("start")})
	}
	if r.claim("start", s.Agent+"\x00"+unixKey(s.Start)) {
		b.AgentShifts = append(b.AgentShifts, s)
	}
}

// readCustoms reads a customs entry. An empty status is cleared with a
// cleared time, else pending.
func readCustoms(r *row, b *kpi.Batch) {
	c := kpi.CustomsEntry{
		Shop:          r.shop(),
		ID:            r.need("id"),
		Declared:      r.time("declared", true),
		Cleared:       r.time("cleared", false),
		DocsCompleted: r.flag("docs_complete"),
	}
	def := kpi.CustomsPending
	if !c.Cleared.IsZero() {
		def = kpi.CustomsCleared
	}
	c.Status = word(r, "status", customsStatuses, def, "cli.import_bad_customs_status")
	r.notBefore("cleared", c.Cleared, "declared", c.Declared)
	if r.claim("id", c.ID) {
		b.Customs = append(b.Customs, c)
	}
}

// readListing reads a listing's compliance and price.
func readListing(r *row, b *kpi.Batch) {
	l := kpi.Listing{
		Shop:     r.shop(),
		SKU:      r.need("sku"),
		Launched: r.time("launched", false),
		NeedsPSE: r.flag("pse_needed"),
		PSEValid: r.flag("pse_valid"),
		Label:    word(r, "label", labelChecks, kpi.LabelUnchecked, "cli.import_bad_label"),
		Price:    r.amount("price", false),
	}
	if r.claim("sku", l.SKU) {
		b.Listings = append(b.Listings, l)
	}
}

// readCompetitor reads a competitor's offer seen by a price tracker.
func readCompetitor(r *row, b *kpi.Batch) {
	c := kpi.CompetitorObservation{
		Shop:       r.shop(),
		SKU:        r.need("sku"),
		Competitor: r.need("competitor"),
		Observed:   r.time("observed", true),
		Price:      r.amount("price", true),
		NewListing: r.flag("new_listing"),
	}
	if r.claim("observed", c.SKU+"\x00"+c.Competitor+"\x00"+unixKey(c.Observed)) {
		b.Competitors = append(b.Competitors, c)
	}
}

// readInventory reads a stock snapshot of one SKU: one row per SKU and
// time (a file with a row per warehouse is summed by the warehouse first).
func readInventory(r *row, b *kpi.Batch) {
	s := kpi.InventorySnapshot{
		Shop:     r.shop(),
		SKU:      r.need("sku"),
		Taken:    r.time("taken", true),
		Inbound:  r.count("inbound"),
		Reserved: r.count("reserved"),
	}
	if r.text("on_hand") == "" {
		r.fail("on_hand", "cli.import_empty", nil)
	}
	s.OnHand = r.count("on_hand")
	if r.claim("taken", s.SKU+"\x00"+unixKey(s.Taken)) {
		b.Inventory = append(b.Inventory, s)
	}
}

// readAd reads a day of an ad campaign.
func readAd(r *row, b *kpi.Batch) {
	a := kpi.AdDay{
		Shop:        r.shop(),
		Campaign:    r.need("campaign"),
		Impressions: r.count("impressions"),
		Clicks:      r.count("clicks"),
		Spend:       r.amount("spend", false),
		Sales:       r.amount("sales", false),
		Orders:      r.count("orders"),
	}
	if t := r.time("day", true); !t.IsZero() {
		a.Day = kpi.NewDate(t.Date())
	}
	if r.claim("day", a.Campaign+"\x00"+a.Day.String()) {
		b.Ads = append(b.Ads, a)
	}
}

func unixKey(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
