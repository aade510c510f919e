package yahoo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

const (
	ordersStream = "orders"

	// ordersPerPage is how many orders a page of orderList holds.
	ordersPerPage = 100

	// ordersReread is how far back, in order time, each pull reads the
	// orders again, to see what changed after they were placed: payment,
	// shipping, delivery, cancellation. Yahoo's orderList is searched by
	// order time only, so an order that changes later than this after it
	// was placed is not seen again.
	ordersReread = 14 * 24 * time.Hour

	// ordersSkew is the margin allowed between Yahoo's clock and ours when
	// an order's last update is compared with when a pull began.
	ordersSkew = 10 * time.Minute
)

// The fields asked for. orderList gives what decides whether an order is
// read again; orderInfo what the KPIs need. Names, addresses and phones
// are never asked for; the e-mail only to be hashed.
const (
	listFields = "OrderId,OrderTime,LastUpdateTime,PublicationTime"
	infoFields = "OrderId,OrderTime,LastUpdateTime,OrderStatus,TotalPrice,Quantity,BillMailAddress," +
		"ShipStatus,ShipDate,ArrivalDate,ShipCompanyCode,ShipInvoiceNumber1"
)

// orderList reads the page of the orders placed from from to to (both
// included) that starts at position start (from 1), oldest first.
func (c *Client) orderList(ctx context.Context, from, to time.Time, start int) (listAnswer, error) {
	req := listRequest{
		Search: listSearch{
			Result:    ordersPerPage,
			Start:     start,
			Sort:      "+order_time",
			Condition: listCondition{OrderTimeFrom: conditionTime(from), OrderTimeTo: conditionTime(to)},
			Field:     listFields,
		},
		SellerID: c.c.SellerID,
	}
	var res listAnswer
	err := c.post(ctx, "orderList", req, &res)
	return res, err
}

// orderInfo reads order id.
func (c *Client) orderInfo(ctx context.Context, id string) (orderInfo, error) {
	req := infoRequest{Target: infoTarget{OrderID: id, Field: infoFields}, SellerID: c.c.SellerID}
	var res infoAnswer
	if err := c.post(ctx, "orderInfo", req, &res); err != nil {
		return orderInfo{}, err
	}
	if got := res.Result.OrderInfo.OrderID; got != id {
		return orderInfo{}, fmt.Errorf("yahoo: orderInfo: asked for order %s, answered %q", id, clip(got, 60))
	}
	return res.Result.OrderInfo, nil
}

// ordersCursor is where the orders stream stands, saved as JSON.
//
// A window is the orders placed from After to Before, read page by page
// from position Start. It ends when its reading begins: Before is also
// when its first page was asked for. Once read to its end it becomes the
// last window done (DoneAfter, DoneBefore), and the next one starts
// ordersReread before its end, but not before its start.
type ordersCursor struct {
	After  time.Time `json:"after,omitzero"`
	Before time.Time `json:"before,omitzero"` // zero: no window open
	Start  int       `json:"start,omitempty"`

	DoneAfter  time.Time `json:"done_after,omitzero"`
	DoneBefore time.Time `json:"done_before,omitzero"` // zero: no window read yet
}

// open reports whether a window is being read.
func (c ordersCursor) open() bool { return !c.Before.IsZero() }

// nextAfter is where the next window starts: since for the first one.
func (c ordersCursor) nextAfter(since time.Time) time.Time {
	if c.DoneBefore.IsZero() {
		return since
	}
	return later(c.DoneBefore.Add(-ordersReread), c.DoneAfter)
}

// finish makes the window read the last one done.
func (c *ordersCursor) finish() {
	*c = ordersCursor{DoneAfter: c.After, DoneBefore: c.Before}
}

// current reports whether the store already holds o as it is now, so that
// orderInfo need not be asked again: o was placed within the last window
// done, and was both shown by orderList and last updated before that
// window's reading began (by ordersSkew), so that reading fetched it in
// its present state. Yahoo moves an order's LastUpdateTime on each of its
// changes.
func (c ordersCursor) current(o listedOrder) bool {
	if c.DoneBefore.IsZero() || o.LastUpdateTime.IsZero() || o.OrderTime.IsZero() {
		return false
	}
	published := o.PublicationTime.Time
	if published.IsZero() {
		published = o.OrderTime.Time // shown as soon as placed
	}
	seen := c.DoneBefore.Add(-ordersSkew) // when its reading began, less the skew
	return !o.OrderTime.Before(c.DoneAfter) && !o.OrderTime.After(c.DoneBefore) &&
		published.Before(seen) && o.LastUpdateTime.Before(seen)
}

// ordersPull is one pull of the orders stream.
type ordersPull struct {
	s   *Syncer
	log *slog.Logger
	p   Progress
}

// syncOrders pulls the orders placed since the stream's cursor, and those
// placed in the ordersReread before it again: the window an earlier pull
// left open first, then a new one up to now.
//
// Each page of orderList is followed by an orderInfo call for each of its
// orders that may have changed since it was last read (see
// ordersCursor.current), and is written, then the cursor is saved with the
// next page's position: a pull that stops resumes at that page. Records
// are upserts keyed by (shop, id), so what is read twice is not counted
// twice.
func (s *Syncer) syncOrders(ctx context.Context) (Progress, error) {
	pull := &ordersPull{s: s, log: s.log().With("stream", ordersStream), p: Progress{Stream: ordersStream}}
	cur, err := pull.cursor(ctx)
	if err != nil {
		return pull.p, err
	}
	for {
		resumed := cur.open()
		if !resumed {
			now := s.now().UTC().Truncate(time.Second)
			after := cur.nextAfter(s.since().UTC().Truncate(time.Second))
			if !now.After(after) {
				return pull.p, nil
			}
			cur.After, cur.Before, cur.Start = after, now, 1
		}
		if err := pull.window(ctx, &cur); err != nil {
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
		if err := json.Unmarshal([]byte(raw), &cur); err == nil && (!cur.open() || cur.Start >= 1) {
			return cur, nil
		}
		pull.log.Warn("yahoo: orders cursor unreadable, starting again", "cursor", clip(raw, 200))
	}
	return ordersCursor{}, nil
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

// window reads cur's window from the page cur says, saving cur after each
// page; at its end, cur is the window done.
func (pull *ordersPull) window(ctx context.Context, cur *ordersCursor) error {
	client, log := pull.s.Client, pull.log
	for {
		page := pull.p.Pages + 1
		list, err := client.orderList(ctx, cur.After, cur.Before, cur.Start)
		if err != nil {
			return fmt.Errorf("page %d: %w", page, err)
		}
		listed := list.Search.OrderInfo
		var b kpi.Batch
		fetched := 0
		for _, lo := range listed {
			if lo.OrderID == "" {
				log.Warn("yahoo: listed order without an id skipped")
				continue
			}
			if cur.current(lo) {
				continue
			}
			info, err := client.orderInfo(ctx, lo.OrderID)
			if err != nil {
				return fmt.Errorf("page %d: order %s: %w", page, lo.OrderID, err)
			}
			fetched++
			if ord, sh, ok := pull.order(&info); ok {
				b.Orders = append(b.Orders, ord)
				if sh != nil {
					b.Shipments = append(b.Shipments, *sh)
				}
			}
		}
		if b.Len() > 0 {
			stats, err := pull.s.Store.Write(ctx, &b)
			if err != nil {
				return fmt.Errorf("page %d: write: %w", page, err)
			}
			pull.p.Stats.Add(stats)
		}
		pull.p.Pages++
		pull.p.Read += len(listed)

		cur.Start += len(listed)
		last := len(listed) == 0 || cur.Start > list.Search.TotalCount
		window := *cur
		if last {
			cur.finish()
		}
		if err := pull.save(ctx, *cur); err != nil {
			return fmt.Errorf("page %d: %w", page, err)
		}
		log.Debug("yahoo: orders page", "page", page, "listed", len(listed), "total", list.Search.TotalCount,
			"fetched", fetched, "orders", len(b.Orders), "shipments", len(b.Shipments))
		if last {
			log.Info("yahoo: orders window read", "after", window.After, "before", window.Before, "pages", pull.p.Pages,
				"read", pull.p.Read, "inserted", pull.p.Stats.Inserted, "updated", pull.p.Stats.Updated)
			return nil
		}
	}
}

// order maps o, with its shipment if it left; ok is false for an order the
// KPIs cannot count.
func (pull *ordersPull) order(o *orderInfo) (ord kpi.Order, sh *kpi.Shipment, ok bool) {
	log := pull.log.With("order", o.OrderID)
	status, known := orderStatus(o.OrderStatus, o.Ship.ShipStatus)
	if !known {
		log.Warn("yahoo: order skipped: unknown status", "order_status", clip(o.OrderStatus, 10), "ship_status", clip(o.Ship.ShipStatus, 10))
		return kpi.Order{}, nil, false
	}
	if o.OrderTime.IsZero() {
		log.Warn("yahoo: order skipped: no order time")
		return kpi.Order{}, nil, false
	}
	ord = kpi.Order{
		Shop:        pull.s.Shop.ID,
		ID:          o.OrderID,
		CustomerRef: kpi.CustomerRef("yahoo", pull.s.Shop.ID, strings.ToLower(o.Pay.BillMailAddress)),
		Placed:      o.OrderTime.Time,
		Status:      status,
		Total:       pull.amount(o.Detail.TotalPrice, log),
		Channel:     kpi.ByMerchant,
	}
	for _, it := range o.Items {
		if n, err := strconv.ParseInt(strings.TrimSpace(it.Quantity), 10, 64); err == nil && n > 0 {
			ord.Units += n
		}
	}
	return ord, pull.shipment(o, ord), true
}

// shipment is the package of o once it shipped (ShipStatus 3) or arrived
// (4), with the date it left: Yahoo keeps one per order, so it takes the
// order's id. ArrivalDate is its delivery.
func (pull *ordersPull) shipment(o *orderInfo, ord kpi.Order) *kpi.Shipment {
	switch strings.TrimSpace(o.Ship.ShipStatus) {
	case "3", "4":
	default:
		return nil
	}
	if o.Ship.ShipDate.IsZero() {
		pull.log.Debug("yahoo: shipped order without a ship date: no shipment", "order", o.OrderID)
		return nil
	}
	return &kpi.Shipment{
		Shop:      ord.Shop,
		ID:        o.OrderID,
		OrderID:   o.OrderID,
		Shipped:   o.Ship.ShipDate.Time,
		Carrier:   carrier(o.Ship.ShipCompanyCode),
		Tracking:  strings.TrimSpace(o.Ship.ShipInvoiceNumber1),
		Delivered: o.Ship.ArrivalDate.Time,
		Units:     ord.Units,
	}
}

// orderStatus maps Yahoo's OrderStatus, with the ShipStatus where it tells
// more:
//
//	1 reserved (予約中)                  → pending
//	2 processing (処理中), 3 on hold (保留) → unshipped; shipped (ShipStatus 3)
//	                                       or delivered (4) once the package left
//	4 cancelled (キャンセル)              → cancelled (Yahoo does not say by whom)
//	5 complete (完了)                    → delivered if ShipStatus is 4, else shipped
//
// A store often marks the package shipped before it completes the order:
// the order then counts as shipped, as its shipment does.
func orderStatus(orderStatus, shipStatus string) (kpi.OrderStatus, bool) {
	left := map[string]kpi.OrderStatus{"3": kpi.StatusShipped, "4": kpi.StatusDelivered}[strings.TrimSpace(shipStatus)]
	switch strings.TrimSpace(orderStatus) {
	case "1":
		return kpi.StatusPending, true
	case "2", "3":
		if left != "" {
			return left, true
		}
		return kpi.StatusUnshipped, true
	case "4":
		return kpi.StatusCancelled, true
	case "5":
		if left == kpi.StatusDelivered {
			return kpi.StatusDelivered, true
		}
		return kpi.StatusShipped, true
	}
	return "", false
}

// carriers are Yahoo's ShipCompanyCode of the carriers kpi.Shipment names
// (注文詳細API 配送会社コード).
var carriers = map[string]string{
	"1001": "yamato",    // ヤマト運輸
	"1002": "sagawa",    // 佐川急便
	"1003": "japanpost", // 日本郵便
}

// carrier names the carrier of Yahoo's ShipCompanyCode: yamato, sagawa,
// japanpost, or "yahoo:<code>" for another (1000 is "other"); "" without
// a code.
func carrier(code string) string {
	code = strings.TrimSpace(code)
	if code == "" {
		return ""
	}
	if c, ok := carriers[code]; ok {
		return c
	}
	return "yahoo:" + clip(code, 20)
}

// amount reads a yen amount (Yahoo's answers are in yen); 0, with a
// warning, if it is not one.
func (pull *ordersPull) amount(s string, log *slog.Logger) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		log.Warn("yahoo: order total not kept: not an amount", "amount", clip(s, 40))
		return 0
	}
	return v
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
