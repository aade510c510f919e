package shopify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

const (
	ordersStream = "orders"

	// ordersOverlap is how far before the last update seen the next pull
	// starts, for updates that Shopify's search indexed late. What is read
	// again is written unchanged.
	ordersOverlap = 5 * time.Minute

	// ordersPerPage is how many orders a query asks for. By Shopify's
	// rules (an object costs 1, a connection 2 plus first × its node) an
	// order of ordersQuery costs about 21 points, so a page asks for
	// about 842: under the 1,000 a single query may cost, and under half
	// of a standard shop's bucket.
	ordersPerPage = 40

	// maxFulfillments and maxReturns are how many of an order's
	// fulfillments and returns a query asks for; an order with more is
	// logged.
	maxFulfillments = 5
	maxReturns      = 5
)

// ordersQuery asks for the orders updated since a time, oldest update
// first, with only what the KPIs need. It never asks for the customer's
// name, e-mail, phone or addresses: customer { id } is hashed.
var ordersQuery = `query KpiOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      createdAt
      updatedAt
      cancelledAt
      displayFinancialStatus
      displayFulfillmentStatus
      subtotalLineItemsQuantity
      currentTotalPriceSet { shopMoney { amount currencyCode } }
      customer { id }
      fulfillments(first: ` + strconv.Itoa(maxFulfillments) + `) {
        id
        status
        createdAt
        deliveredAt
        totalQuantity
        trackingInfo(first: 1) { company number }
      }
      returns(first: ` + strconv.Itoa(maxReturns) + `) {
        nodes { id status createdAt totalQuantity }
      }
    }
  }
}`

// ordersCursor is where the orders stream stands, saved as JSON.
type ordersCursor struct {
	After  time.Time `json:"after"`           // the pass's lower bound on updatedAt
	Page   string    `json:"page,omitempty"`  // the endCursor of the last page written; "": the first page
	Latest time.Time `json:"latest,omitzero"` // the last update seen in the pass
}

// next is the cursor of the pass after c: it starts ordersOverlap before
// the last update seen in c, never before c's start.
func (c ordersCursor) next() ordersCursor {
	after := c.After
	if n := c.Latest.Add(-ordersOverlap); n.After(after) {
		after = n
	}
	return ordersCursor{After: after}
}

// filter is the orders query's search filter for c.
func (c ordersCursor) filter() string {
	return "updated_at:>='" + c.After.UTC().Format(time.RFC3339) + "'"
}

// ordersPull is one pull of the orders stream.
type ordersPull struct {
	s   *Syncer
	log *slog.Logger
	p   Progress
}

// syncOrders pulls the orders updated since the stream's cursor, with
// their fulfillments and returns.
//
// A pass asks for the orders updated at or after its start, sorted by
// their update, page by page. The cursor is saved after each page is
// written, with the page's endCursor: a pull that stops resumes at the
// next page (or starts the pass again if Shopify no longer takes the
// saved cursor). Records are upserts keyed by (shop, id), so nothing is
// counted twice. An order updated while a pass is read moves behind the
// pages read and is read again later in the same pass. When a pass ends,
// the next one starts ordersOverlap before the last update seen in it.
func (s *Syncer) syncOrders(ctx context.Context) (Progress, error) {
	pull := &ordersPull{s: s, log: s.log().With("stream", ordersStream), p: Progress{Stream: ordersStream}}
	cur, err := pull.cursor(ctx)
	if err != nil {
		return pull.p, err
	}
	staleCursor := cur.Page != "" // saved by an earlier pull: Shopify may refuse it
	for {
		page, err := pull.fetch(ctx, cur)
		var ae *APIError
		switch {
		case err == nil:
		case staleCursor && errors.As(err, &ae) && ae.Status == 200 && !ae.Temporary() && !ae.Unauthorized():
			pull.log.Warn("shopify: saved page cursor refused, reading the pass again", "err", err)
			cur.Page, cur.Latest, staleCursor = "", time.Time{}, false
			continue
		default:
			return pull.p, fmt.Errorf("page %d: %w", pull.p.Pages+1, err)
		}
		staleCursor = false
		if page.hasNext && (page.endCursor == "" || page.endCursor == cur.Page) {
			return pull.p, fmt.Errorf("page %d: Shopify said there is a next page without a new cursor", pull.p.Pages+1)
		}

		stats, err := s.Store.Write(ctx, &page.batch)
		if err != nil {
			return pull.p, fmt.Errorf("page %d: write: %w", pull.p.Pages+1, err)
		}
		pull.p.Pages++
		pull.p.Read += page.read
		pull.p.Stats.Add(stats)
		if page.latest.After(cur.Latest) {
			cur.Latest = page.latest
		}
		pass := cur
		if page.hasNext {
			cur.Page = page.endCursor
		} else {
			cur = cur.next()
		}
		if err := pull.save(ctx, cur); err != nil {
			return pull.p, fmt.Errorf("page %d: %w", pull.p.Pages, err)
		}

		pull.log.Debug("shopify: orders page", "page", pull.p.Pages, "orders", page.read, "kept", len(page.batch.Orders),
			"shipments", len(page.batch.Shipments), "returns", len(page.batch.Returns), "inserted", stats.Inserted, "updated", stats.Updated)
		if !page.hasNext {
			pull.log.Info("shopify: orders read", "after", pass.After, "latest", pass.Latest, "pages", pull.p.Pages,
				"read", pull.p.Read, "next", cur.After)
			return pull.p, nil
		}
		if pull.p.Pages%10 == 0 {
			pull.log.Info("shopify: orders progress", "pages", pull.p.Pages, "read", pull.p.Read,
				"inserted", pull.p.Stats.Inserted, "updated", pull.p.Stats.Updated)
		}
	}
}

// cursor reads the stream's cursor; without one (or with one it cannot
// read) the pull starts at s.since().
func (pull *ordersPull) cursor(ctx context.Context) (ordersCursor, error) {
	raw, err := pull.s.Store.SyncCursor(ctx, pull.s.Shop.ID, ordersStream)
	if err != nil {
		return ordersCursor{}, fmt.Errorf("read cursor: %w", err)
	}
	var cur ordersCursor
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &cur); err == nil && !cur.After.IsZero() {
			return cur, nil
		}
		pull.log.Warn("shopify: orders cursor unreadable, starting again", "cursor", clip(raw, 200))
	}
	return ordersCursor{After: pull.s.since().UTC().Truncate(time.Second)}, nil
}

// save keeps cur as the stream's cursor.
func (pull *ordersPull) save(ctx context.Context, cur ordersCursor) error {
	raw, err := json.Marshal(cur)
	if err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	if err := pull.s.Store.SaveSyncCursor(ctx, pull.s.Shop.ID, ordersStream, string(raw)); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}

// ordersPage is one page of orders, mapped.
type ordersPage struct {
	batch     kpi.Batch
	read      int       // orders in Shopify's answer, kept or not
	latest    time.Time // their last update
	hasNext   bool
	endCursor string
}

// fetch reads the page of the pass that cur says.
func (pull *ordersPull) fetch(ctx context.Context, cur ordersCursor) (ordersPage, error) {
	vars := map[string]any{"first": ordersPerPage, "query": cur.filter(), "after": nil}
	if cur.Page != "" {
		vars["after"] = cur.Page
	}
	var res struct {
		Orders struct {
			PageInfo struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
			Nodes []order `json:"nodes"`
		} `json:"orders"`
	}
	if err := pull.s.Client.query(ctx, "orders", ordersQuery, vars, &res); err != nil {
		return ordersPage{}, err
	}
	page := ordersPage{read: len(res.Orders.Nodes), hasNext: res.Orders.PageInfo.HasNextPage, endCursor: res.Orders.PageInfo.EndCursor}
	for i := range res.Orders.Nodes {
		o := &res.Orders.Nodes[i]
		if o.UpdatedAt.After(page.latest) {
			page.latest = o.UpdatedAt
		}
		pull.add(&page.batch, o)
	}
	return page, nil
}

// order is an Order of ordersQuery's answer.
type order struct {
	ID                        string     `json:"id"` // gid://shopify/Order/…
	CreatedAt                 time.Time  `json:"createdAt"`
	UpdatedAt                 time.Time  `json:"updatedAt"`
	CancelledAt               *time.Time `json:"cancelledAt"`
	DisplayFinancialStatus    string     `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus  string     `json:"displayFulfillmentStatus"`
	SubtotalLineItemsQuantity int64      `json:"subtotalLineItemsQuantity"`
	CurrentTotalPriceSet      struct {
		ShopMoney money `json:"shopMoney"`
	} `json:"currentTotalPriceSet"`
	Customer *struct {
		ID string `json:"id"` // gid://shopify/Customer/…
	} `json:"customer"`
	Fulfillments []fulfillment `json:"fulfillments"`
	Returns      struct {
		Nodes []orderReturn `json:"nodes"`
	} `json:"returns"`
}

type money struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

// fulfillment is a shipment of some of an order's items.
type fulfillment struct {
	ID            string     `json:"id"`
	Status        string     `json:"status"` // SUCCESS, CANCELLED, ERROR, FAILURE, OPEN, PENDING
	CreatedAt     time.Time  `json:"createdAt"`
	DeliveredAt   *time.Time `json:"deliveredAt"`
	TotalQuantity int64      `json:"totalQuantity"`
	TrackingInfo  []struct {
		Company string `json:"company"`
		Number  string `json:"number"`
	} `json:"trackingInfo"`
}

// orderReturn is a return of some of an order's items.
type orderReturn struct {
	ID            string     `json:"id"`
	Status        string     `json:"status"`    // REQUESTED, OPEN, CLOSED, DECLINED, CANCELED
	CreatedAt     *time.Time `json:"createdAt"` // null in answers of versions that lack it
	TotalQuantity int64      `json:"totalQuantity"`
}

// add maps o, its fulfillments and its returns into b.
func (pull *ordersPull) add(b *kpi.Batch, o *order) {
	log := pull.log.With("order", o.ID)
	id := numericID(o.ID)
	if id == "" || o.CreatedAt.IsZero() {
		log.Warn("shopify: order skipped: no id or creation time")
		return
	}
	status, ok := orderStatus(o)
	if !ok {
		log.Warn("shopify: order skipped: unknown fulfillment status", "status", o.DisplayFulfillmentStatus)
		return
	}
	ord := kpi.Order{
		Shop:    pull.s.Shop.ID,
		ID:      id,
		Placed:  o.CreatedAt.UTC(),
		Status:  status,
		Total:   pull.total(o.CurrentTotalPriceSet.ShopMoney, log),
		Units:   max(o.SubtotalLineItemsQuantity, 0),
		Channel: kpi.ByMerchant, // a Shopify shop ships its orders itself or through its own warehouse
	}
	if o.Customer != nil {
		ord.CustomerRef = kpi.CustomerRef("shopify", pull.s.Shop.ID, o.Customer.ID)
	}
	b.Orders = append(b.Orders, ord)

	if len(o.Fulfillments) >= maxFulfillments {
		log.Warn("shopify: order has more fulfillments than asked for; the rest are not read", "asked", maxFulfillments)
	}
	for _, f := range o.Fulfillments {
		if sh, ok := pull.shipment(id, &f, log); ok {
			b.Shipments = append(b.Shipments, sh)
		}
	}
	if len(o.Returns.Nodes) >= maxReturns {
		log.Warn("shopify: order has more returns than asked for; the rest are not read", "asked", maxReturns)
	}
	for _, r := range o.Returns.Nodes {
		if ret, ok := pull.orderReturn(id, o, &r, log); ok {
			b.Returns = append(b.Returns, ret)
		}
	}
}

// orderStatus maps an order's state:
//
//   - cancelled (cancelledAt set): cancelled, whatever else it says;
//     Shopify does not tell a seller's cancellation from a buyer's here;
//   - FULFILLED: delivered once every fulfillment that left was
//     delivered, else shipped; PARTIALLY_FULFILLED: shipped;
//   - not yet fulfilled (UNFULFILLED, IN_PROGRESS, ON_HOLD, SCHEDULED …):
//     pending while the payment is (PENDING: a bank transfer or konbini
//     payment not yet made), else unshipped. A fulfilled order whose
//     payment is pending (cash on delivery) counts as shipped.
//
// ok is false for a fulfillment status it does not know.
func orderStatus(o *order) (kpi.OrderStatus, bool) {
	if o.CancelledAt != nil {
		return kpi.StatusCancelled, true
	}
	switch o.DisplayFulfillmentStatus {
	case "FULFILLED":
		if allDelivered(o.Fulfillments) {
			return kpi.StatusDelivered, true
		}
		return kpi.StatusShipped, true
	case "PARTIALLY_FULFILLED":
		return kpi.StatusShipped, true
	case "FULFILLMENT_NOT_REQUIRED": // nothing to ship (a digital product): the buyer has it
		return kpi.StatusDelivered, true
	case "UNFULFILLED", "OPEN", "IN_PROGRESS", "PENDING_FULFILLMENT", "ON_HOLD", "SCHEDULED", "REQUEST_DECLINED", "RESTOCKED":
		if o.DisplayFinancialStatus == "PENDING" {
			return kpi.StatusPending, true
		}
		return kpi.StatusUnshipped, true
	}
	return "", false
}

// allDelivered reports whether every fulfillment that left was delivered,
// and there was one.
func allDelivered(fs []fulfillment) bool {
	n := 0
	for _, f := range fs {
		if !shipped(&f) {
			continue
		}
		if f.DeliveredAt == nil {
			return false
		}
		n++
	}
	return n > 0
}

// shipped reports whether a fulfillment left: not cancelled nor failed.
func shipped(f *fulfillment) bool {
	switch f.Status {
	case "CANCELLED", "ERROR", "FAILURE":
		return false
	}
	return true
}

// shipment maps a fulfillment that left: shipped when it was created,
// delivered when Shopify (from the carrier's tracking) says so. Its id is
// the fulfillment's, unique in the shop.
func (pull *ordersPull) shipment(orderID string, f *fulfillment, log *slog.Logger) (kpi.Shipment, bool) {
	id := numericID(f.ID)
	if id == "" || f.CreatedAt.IsZero() || !shipped(f) {
		return kpi.Shipment{}, false
	}
	sh := kpi.Shipment{
		Shop:    pull.s.Shop.ID,
		ID:      id,
		OrderID: orderID,
		Shipped: f.CreatedAt.UTC(),
		Units:   max(f.TotalQuantity, 0),
	}
	if len(f.TrackingInfo) > 0 {
		sh.Carrier = kpi.Carrier(f.TrackingInfo[0].Company)
		sh.Tracking = strings.TrimSpace(f.TrackingInfo[0].Number)
	}
	if f.DeliveredAt != nil {
		if f.DeliveredAt.Before(f.CreatedAt) {
			log.Warn("shopify: delivery time before the fulfillment's creation not kept", "fulfillment", id)
		} else {
			sh.Delivered = f.DeliveredAt.UTC()
		}
	}
	return sh, true
}

// orderReturn maps a return the shop accepted (OPEN or CLOSED): a return
// still requested, declined or cancelled is not one. It is dated when it
// was created; where the answer has no creation time, by the order's last
// update, the first time kpibot can have seen it.
func (pull *ordersPull) orderReturn(orderID string, o *order, r *orderReturn, log *slog.Logger) (kpi.Return, bool) {
	id := numericID(r.ID)
	if id == "" {
		return kpi.Return{}, false
	}
	switch r.Status {
	case "OPEN", "CLOSED":
	case "REQUESTED", "DECLINED", "CANCELED":
		return kpi.Return{}, false
	default:
		log.Warn("shopify: return skipped: unknown status", "return", id, "status", r.Status)
		return kpi.Return{}, false
	}
	when := o.UpdatedAt
	if r.CreatedAt != nil && !r.CreatedAt.IsZero() {
		when = *r.CreatedAt
	}
	if when.IsZero() {
		log.Warn("shopify: return skipped: no time", "return", id)
		return kpi.Return{}, false
	}
	return kpi.Return{Shop: pull.s.Shop.ID, ID: id, OrderID: orderID, Returned: when.UTC(), Units: max(r.TotalQuantity, 0)}, true
}

// total returns m, the order's total in the shop's currency, rounded to
// its major unit (JPY has no minor unit); 0, with a warning, if m is in
// another currency or is not an amount.
func (pull *ordersPull) total(m money, log *slog.Logger) int64 {
	if m.Amount == "" {
		return 0
	}
	v, err := kpi.ParseMoney(m.Amount, m.CurrencyCode, pull.s.Shop.Currency)
	switch {
	case errors.Is(err, kpi.ErrOtherCurrency):
		log.Warn("shopify: order total in another currency not kept", "currency", m.CurrencyCode, "shop_currency", cmp.Or(pull.s.Shop.Currency, "JPY"))
	case err != nil:
		log.Warn("shopify: order total not kept: not an amount", "amount", clip(m.Amount, 40))
	}
	return v
}

// numericID returns the number at the end of a global id
// ("gid://shopify/Order/5678901234" → "5678901234"), or the id itself if
// it is not one.
func numericID(gid string) string {
	if i := strings.LastIndexByte(gid, '/'); i >= 0 && strings.HasPrefix(gid, "gid://") {
		return gid[i+1:]
	}
	return gid
}
