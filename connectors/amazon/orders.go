package amazon

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

const (
	ordersStream = "orders"

	api2026 = "2026-01-01"
	apiV0   = "v0"

	// ordersSettle is how long Amazon's searches take to show an order's
	// update: a window ends that long before now.
	ordersSettle = 2 * time.Minute
	// ordersOverlap is how far before the last update seen the next window
	// starts, for updates that Amazon indexed late (it recommends
	// overlapping). What is read again is written unchanged.
	ordersOverlap = 2 * time.Minute

	ordersPerPage = 100
)

// includedData are the datasets of searchOrders the mapping reads. BUYER
// brings the buyer's name and company with the e-mail: they are not
// decoded, and only a hash of the e-mail is kept.
const includedData = "BUYER,CANCELLATION,FULFILLMENT,PACKAGES,PROCEEDS"

// ordersCursor is where the orders stream stands, saved as JSON.
type ordersCursor struct {
	After  time.Time `json:"after"`           // the window's start
	Before time.Time `json:"before,omitzero"` // its end; zero: no window open
	Token  string    `json:"token,omitempty"` // the next page's; "": the first
	API    string    `json:"api,omitempty"`   // the API Token is of
	Latest time.Time `json:"latest,omitzero"` // the last update seen in the window
}

// nextAfter is where the window after c starts: ordersOverlap before the
// last update seen in c, or before c's end if it had none; never before
// c's start nor after its end.
func (c ordersCursor) nextAfter() time.Time {
	last := c.Before
	if !c.Latest.IsZero() && c.Latest.Before(c.Before) {
		last = c.Latest
	}
	if next := last.Add(-ordersOverlap); next.After(c.After) {
		return next
	}
	return c.After
}

// ordersPage is one page of orders, mapped.
type ordersPage struct {
	orders    []kpi.Order
	shipments []kpi.Shipment
	read      int       // orders in Amazon's answer, kept or not
	latest    time.Time // their last update
	next      string    // the next page's token; "": the last page
}

// ordersPull is one pull of the orders stream.
type ordersPull struct {
	s   *Syncer
	log *slog.Logger
	api string // api2026, or apiV0 once 2026-01-01 was refused
	p   Progress
}

// SyncOrders pulls the shop's orders alone, as Run does among the other
// streams.
func (s *Syncer) SyncOrders(ctx context.Context) (Progress, error) {
	if s.Client == nil || s.Store == nil || s.Shop.ID == "" {
		return Progress{Stream: ordersStream}, errors.New("amazon: sync orders: a client, a store and a shop are required")
	}
	return s.syncOrders(ctx)
}

// syncOrders pulls the orders and their packages updated since the
// stream's cursor: the window an earlier pull left open first, then the
// updates since.
//
// A window is the orders last updated from its start to ordersSettle
// before the pull began, read page by page from the Orders API 2026-01-01
// (searchOrders), or from the Orders API v0 (getOrders) where the seller's
// app cannot call 2026-01-01: the pull falls back to v0 on its own, for
// the rest of the pull, when searchOrders answers 404 or 403 (a 403 even
// with a new access token). Each pull tries 2026-01-01 first again, so
// that a role granted later is used; a window left open on v0 is finished
// on v0.
//
// The cursor is saved after each page is written, with the next page's
// token: a pull that stops resumes at that page (or reads the window
// again if Amazon no longer knows the token), and records are upserts
// keyed by (shop, id), so nothing is counted twice. When a window is
// read, the next one starts ordersOverlap before the last update seen in
// it.
func (s *Syncer) syncOrders(ctx context.Context) (Progress, error) {
	pull := &ordersPull{s: s, log: s.log().With("stream", ordersStream), api: api2026, p: Progress{Stream: ordersStream}}
	cur, err := pull.cursor(ctx)
	if err != nil {
		return pull.p, err
	}
	for {
		resumed := !cur.Before.IsZero()
		if !resumed {
			cur.Before = s.now().Add(-ordersSettle).UTC().Truncate(time.Second)
			if !cur.Before.After(cur.After) {
				return pull.p, nil // nothing has settled since the last pull
			}
		}
		if err := pull.window(ctx, &cur, resumed); err != nil {
			return pull.p, err
		}
		if !resumed {
			return pull.p, nil
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
		pull.log.Warn("amazon: orders cursor unreadable, starting again", "cursor", clip(raw, 200))
	}
	return ordersCursor{After: pull.s.since().UTC().Truncate(time.Second)}, nil
}

// window reads the window of cur from the page cur says, saving cur after
// each page; at its end, cur is the next window's start. resumed says that
// cur was left by an earlier pull: its page token may be stale.
func (pull *ordersPull) window(ctx context.Context, cur *ordersCursor, resumed bool) error {
	log := pull.log
	api := pull.api
	if cur.Token != "" && cur.API != "" {
		api = cur.API // a page token serves the API that made it
	}
	staleToken := resumed && cur.Token != ""
	for {
		page, err := pull.fetch(ctx, api, *cur)
		var ae *APIError
		switch {
		case err == nil:
		case api == api2026 && errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden):
			log.Warn("amazon: Orders API 2026-01-01 not available, using v0", "err", err)
			pull.api, api = apiV0, apiV0
			cur.Token, cur.API, staleToken = "", "", false // the window again, from its start
			continue
		case staleToken && cur.Token != "" && errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
			log.Warn("amazon: saved page token refused, reading the window again", "err", err)
			cur.Token, cur.API, staleToken = "", "", false
			continue
		default:
			return fmt.Errorf("page %d: %w", pull.p.Pages+1, err)
		}
		staleToken = false
		if page.next != "" && page.next == cur.Token {
			return fmt.Errorf("page %d: Amazon answered the same page token again", pull.p.Pages+1)
		}

		stats, err := pull.s.Store.Write(ctx, &kpi.Batch{Orders: page.orders, Shipments: page.shipments})
		if err != nil {
			return fmt.Errorf("page %d: write: %w", pull.p.Pages+1, err)
		}
		pull.p.Pages++
		pull.p.Read += page.read
		pull.p.Stats.Add(stats)
		if page.latest.After(cur.Latest) {
			cur.Latest = page.latest
		}
		window := *cur
		if page.next == "" {
			*cur = ordersCursor{After: window.nextAfter()}
		} else {
			cur.Token, cur.API = page.next, api
		}
		if err := pull.save(ctx, *cur); err != nil {
			return fmt.Errorf("page %d: %w", pull.p.Pages, err)
		}

		log.Debug("amazon: orders page", "api", api, "page", pull.p.Pages, "orders", page.read,
			"kept", len(page.orders), "shipments", len(page.shipments), "inserted", stats.Inserted, "updated", stats.Updated)
		if page.next == "" {
			log.Info("amazon: orders window read", "api", api, "after", window.After, "before", window.Before,
				"pages", pull.p.Pages, "read", pull.p.Read, "next", cur.After)
			return nil
		}
		if pull.p.Pages%10 == 0 {
			log.Info("amazon: orders progress", "api", api, "pages", pull.p.Pages, "read", pull.p.Read,
				"inserted", pull.p.Stats.Inserted, "updated", pull.p.Stats.Updated)
		}
	}
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

// fetch reads the page of cur's window that cur says from api.
func (pull *ordersPull) fetch(ctx context.Context, api string, cur ordersCursor) (ordersPage, error) {
	if api == apiV0 {
		return pull.fetchV0(ctx, cur)
	}
	q := url.Values{
		"marketplaceIds":    {pull.s.Client.Marketplace()},
		"lastUpdatedAfter":  {isoString(cur.After)},
		"lastUpdatedBefore": {isoString(cur.Before)},
		"maxResultsPerPage": {itoa(ordersPerPage)},
		"includedData":      {includedData},
	}
	if cur.Token != "" {
		q.Set("paginationToken", cur.Token)
	}
	var res struct {
		Orders     []order2026 `json:"orders"`
		Pagination struct {
			NextToken string `json:"nextToken"`
		} `json:"pagination"`
	}
	if err := pull.s.Client.get(ctx, "searchOrders", "/orders/2026-01-01/orders", q, &res); err != nil {
		return ordersPage{}, err
	}
	page := ordersPage{read: len(res.Orders), next: res.Pagination.NextToken}
	for i := range res.Orders {
		o := &res.Orders[i]
		if o.LastUpdatedTime.After(page.latest) {
			page.latest = o.LastUpdatedTime.Time
		}
		if ord, ok := pull.order2026(o); ok {
			page.orders = append(page.orders, ord)
			page.shipments = append(page.shipments, pull.packages(o)...)
		}
	}
	return page, nil
}

// fetchV0 reads a page from the Orders API v0.
func (pull *ordersPull) fetchV0(ctx context.Context, cur ordersCursor) (ordersPage, error) {
	q := url.Values{
		"MarketplaceIds":    {pull.s.Client.Marketplace()},
		"LastUpdatedAfter":  {isoString(cur.After)},
		"LastUpdatedBefore": {isoString(cur.Before)},
		"MaxResultsPerPage": {itoa(ordersPerPage)},
	}
	if cur.Token != "" {
		q.Set("NextToken", cur.Token)
	}
	var res struct {
		Payload struct {
			Orders    []orderV0 `json:"Orders"`
			NextToken string    `json:"NextToken"`
		} `json:"payload"`
	}
	if err := pull.s.Client.get(ctx, "getOrders", "/orders/v0/orders", q, &res); err != nil {
		return ordersPage{}, err
	}
	page := ordersPage{read: len(res.Payload.Orders), next: res.Payload.NextToken}
	for i := range res.Payload.Orders {
		o := &res.Payload.Orders[i]
		if o.LastUpdateDate.After(page.latest) {
			page.latest = o.LastUpdateDate.Time
		}
		if ord, ok := pull.orderV0(o); ok {
			page.orders = append(page.orders, ord)
		}
	}
	return page, nil
}

// order2026 is an Orders API 2026-01-01 Order: only what the KPIs need.
// The buyer's name and company, the recipient and the gift messages are
// not decoded.
type order2026 struct {
	OrderID         string  `json:"orderId"`
	CreatedTime     isoTime `json:"createdTime"`
	LastUpdatedTime isoTime `json:"lastUpdatedTime"`
	SalesChannel    struct {
		ChannelName string `json:"channelName"` // AMAZON, NON_AMAZON
	} `json:"salesChannel"`
	Buyer struct {
		BuyerEmail string `json:"buyerEmail"` // anonymized by Amazon; hashed here
	} `json:"buyer"`
	Proceeds struct {
		GrandTotal *money `json:"grandTotal"`
	} `json:"proceeds"`
	Fulfillment struct {
		FulfillmentStatus string    `json:"fulfillmentStatus"`
		FulfilledBy       string    `json:"fulfilledBy"` // AMAZON, MERCHANT
		ShipByWindow      dateRange `json:"shipByWindow"`
		DeliverByWindow   dateRange `json:"deliverByWindow"`
	} `json:"fulfillment"`
	OrderItems []struct {
		QuantityOrdered int64 `json:"quantityOrdered"`
		Cancellation    struct {
			CancellationExecution struct {
				CancelledBy string `json:"cancelledBy"` // BUYER, MERCHANT, AMAZON
			} `json:"cancellationExecution"`
		} `json:"cancellation"`
	} `json:"orderItems"`
	Packages []package2026 `json:"packages"`
}

// package2026 is a package of a merchant-fulfilled order; the address it
// was shipped from is not decoded.
type package2026 struct {
	PackageReferenceID string `json:"packageReferenceId"`
	PackageStatus      struct {
		Status string `json:"status"` // PENDING, IN_TRANSIT, SHIPPED, DELIVERED, CANCELLED, UNDELIVERABLE
	} `json:"packageStatus"`
	Carrier        string  `json:"carrier"`
	ShipTime       isoTime `json:"shipTime"`
	TrackingNumber string  `json:"trackingNumber"`
	PackageItems   []struct {
		Quantity int64 `json:"quantity"`
	} `json:"packageItems"`
}

type dateRange struct {
	EarliestDateTime isoTime `json:"earliestDateTime"`
	LatestDateTime   isoTime `json:"latestDateTime"`
}

type money struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

// order2026 maps o; ok is false for an order the shop's KPIs do not count.
func (pull *ordersPull) order2026(o *order2026) (kpi.Order, bool) {
	log := pull.log.With("order", o.OrderID)
	if o.SalesChannel.ChannelName == "NON_AMAZON" {
		// Multi-channel fulfilment of another storefront's order: that
		// storefront counts it.
		log.Debug("amazon: order of another sales channel skipped")
		return kpi.Order{}, false
	}
	status, ok := status2026(o)
	if !ok {
		log.Warn("amazon: order skipped: unknown fulfillment status", "status", o.Fulfillment.FulfillmentStatus)
		return kpi.Order{}, false
	}
	ord := kpi.Order{
		Shop:        pull.s.Shop.ID,
		ID:          o.OrderID,
		CustomerRef: kpi.CustomerRef("amazon", pull.s.Shop.ID, strings.ToLower(o.Buyer.BuyerEmail)),
		Placed:      o.CreatedTime.Time,
		ShipBy:      o.Fulfillment.ShipByWindow.LatestDateTime.Time,
		PromisedBy:  o.Fulfillment.DeliverByWindow.LatestDateTime.Time,
		Status:      status,
		Total:       pull.total(o.Proceeds.GrandTotal, log),
		Channel:     channel(o.Fulfillment.FulfilledBy),
	}
	for _, it := range o.OrderItems {
		ord.Units += max(it.QuantityOrdered, 0)
	}
	if ord.ID == "" || ord.Placed.IsZero() {
		log.Warn("amazon: order skipped: no order id or creation time")
		return kpi.Order{}, false
	}
	return ord, true
}

// status2026 maps an order's fulfillment status, with its packages' and
// items' cancellations where they tell more.
func status2026(o *order2026) (kpi.OrderStatus, bool) {
	switch o.Fulfillment.FulfillmentStatus {
	case "PENDING_AVAILABILITY", "PENDING":
		return kpi.StatusPending, true
	case "UNSHIPPED":
		return kpi.StatusUnshipped, true
	case "PARTIALLY_SHIPPED":
		return kpi.StatusShipped, true
	case "SHIPPED":
		if delivered(o.Packages) {
			return kpi.StatusDelivered, true
		}
		return kpi.StatusShipped, true
	case "CANCELLED":
		for _, it := range o.OrderItems {
			if it.Cancellation.CancellationExecution.CancelledBy == "MERCHANT" {
				return kpi.StatusSellerCancelled, true
			}
		}
		return kpi.StatusCancelled, true
	case "UNFULFILLABLE": // an FBA order of another channel that cannot be filled
		return kpi.StatusCancelled, true
	}
	return "", false
}

// delivered reports whether every package that was not cancelled was
// delivered, and there was one.
func delivered(packages []package2026) bool {
	n := 0
	for _, p := range packages {
		switch p.PackageStatus.Status {
		case "CANCELLED":
		case "DELIVERED":
			n++
		default:
			return false
		}
	}
	return n > 0
}

// packages maps the packages of o that left: one shipment each. Their ids
// are unique within the order only, so a shipment's id is the order's and
// the package's. Amazon-fulfilled orders have none: their ship times come
// from the FBA shipments report.
func (pull *ordersPull) packages(o *order2026) []kpi.Shipment {
	var out []kpi.Shipment
	for _, p := range o.Packages {
		if p.ShipTime.IsZero() || p.PackageReferenceID == "" || p.PackageStatus.Status == "CANCELLED" {
			continue // not handed to a carrier
		}
		sh := kpi.Shipment{
			Shop:     pull.s.Shop.ID,
			ID:       o.OrderID + "/" + p.PackageReferenceID,
			OrderID:  o.OrderID,
			Shipped:  p.ShipTime.Time,
			Carrier:  kpi.Carrier(p.Carrier),
			Tracking: strings.TrimSpace(p.TrackingNumber),
		}
		for _, it := range p.PackageItems {
			sh.Units += max(it.Quantity, 0)
		}
		out = append(out, sh)
	}
	return out
}

// orderV0 is an Orders API v0 Order: only what the KPIs need. BuyerInfo's
// name and tax info and the shipping address are not decoded.
type orderV0 struct {
	AmazonOrderID      string  `json:"AmazonOrderId"`
	PurchaseDate       isoTime `json:"PurchaseDate"`
	LastUpdateDate     isoTime `json:"LastUpdateDate"`
	OrderStatus        string  `json:"OrderStatus"`
	FulfillmentChannel string  `json:"FulfillmentChannel"` // AFN, MFN
	SalesChannel       string  `json:"SalesChannel"`       // Amazon.co.jp, Non-Amazon …
	OrderTotal         *struct {
		Amount       string `json:"Amount"`
		CurrencyCode string `json:"CurrencyCode"`
	} `json:"OrderTotal"`
	NumberOfItemsShipped   int64   `json:"NumberOfItemsShipped"`
	NumberOfItemsUnshipped int64   `json:"NumberOfItemsUnshipped"`
	LatestShipDate         isoTime `json:"LatestShipDate"`
	LatestDeliveryDate     isoTime `json:"LatestDeliveryDate"`
	BuyerInfo              struct {
		BuyerEmail string `json:"BuyerEmail"` // anonymized by Amazon; hashed here
	} `json:"BuyerInfo"`
}

// statusesV0 maps the Orders API v0 statuses. v0 does not say who
// cancelled an order.
var statusesV0 = map[string]kpi.OrderStatus{
	"PendingAvailability": kpi.StatusPending,
	"Pending":             kpi.StatusPending,
	"Unshipped":           kpi.StatusUnshipped,
	"PartiallyShipped":    kpi.StatusShipped,
	"Shipped":             kpi.StatusShipped,
	"InvoiceUnconfirmed":  kpi.StatusShipped, // shipped; the invoice not yet confirmed
	"Canceled":            kpi.StatusCancelled,
	"Unfulfillable":       kpi.StatusCancelled,
}

// orderV0 maps o; ok is false for an order the shop's KPIs do not count.
// v0 has no packages: ship times come from the reports.
func (pull *ordersPull) orderV0(o *orderV0) (kpi.Order, bool) {
	log := pull.log.With("order", o.AmazonOrderID)
	if strings.HasPrefix(letters(o.SalesChannel), "nonamazon") {
		log.Debug("amazon: order of another sales channel skipped")
		return kpi.Order{}, false
	}
	status, ok := statusesV0[o.OrderStatus]
	if !ok {
		log.Warn("amazon: order skipped: unknown order status", "status", o.OrderStatus)
		return kpi.Order{}, false
	}
	var total *money
	if o.OrderTotal != nil {
		total = &money{Amount: o.OrderTotal.Amount, CurrencyCode: o.OrderTotal.CurrencyCode}
	}
	ord := kpi.Order{
		Shop:        pull.s.Shop.ID,
		ID:          o.AmazonOrderID,
		CustomerRef: kpi.CustomerRef("amazon", pull.s.Shop.ID, strings.ToLower(o.BuyerInfo.BuyerEmail)),
		Placed:      o.PurchaseDate.Time,
		ShipBy:      o.LatestShipDate.Time,
		PromisedBy:  o.LatestDeliveryDate.Time,
		Status:      status,
		Total:       pull.total(total, log),
		Units:       max(o.NumberOfItemsShipped, 0) + max(o.NumberOfItemsUnshipped, 0),
		Channel:     channel(o.FulfillmentChannel),
	}
	if ord.ID == "" || ord.Placed.IsZero() {
		log.Warn("amazon: order skipped: no order id or purchase date")
		return kpi.Order{}, false
	}
	return ord, true
}

// total returns m in the shop's currency, rounded to its major unit (JPY
// has no minor unit); 0, with a warning, if m is in another currency or
// is not an amount.
func (pull *ordersPull) total(m *money, log *slog.Logger) int64 {
	if m == nil || m.Amount == "" {
		return 0
	}
	v, err := kpi.ParseMoney(m.Amount, m.CurrencyCode, pull.s.Shop.Currency)
	switch {
	case errors.Is(err, kpi.ErrOtherCurrency):
		log.Warn("amazon: order total in another currency not kept", "currency", m.CurrencyCode, "shop_currency", cmp.Or(pull.s.Shop.Currency, "JPY"))
	case err != nil:
		log.Warn("amazon: order total not kept: not an amount", "amount", clip(m.Amount, 40))
	}
	return v
}

// channel maps who fulfils an order: AFN / AMAZON, MFN / MERCHANT.
func channel(by string) kpi.Channel {
	switch by {
	case "AFN", "AMAZON":
		return kpi.ByPlatform
	case "MFN", "MERCHANT":
		return kpi.ByMerchant
	}
	return ""
}

// isoTime is a time in Amazon's JSON (ISO 8601), in UTC; "" or null is
// the zero time.
type isoTime struct{ time.Time }

func (t *isoTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("a time: %w", err)
	}
	t.Time = v.UTC()
	return nil
}

// isoString formats t as Amazon's query parameters want it.
func isoString(t time.Time) string { return t.UTC().Format(time.RFC3339) }
