package rakuten

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// The RakutenPay order API as RMS documents it (RakutenPayOrderAPI,
// searchOrder and getOrder).
const (
	searchOrderPath = "/es/2.0/order/searchOrder/"
	getOrderPath    = "/es/2.0/order/getOrder/"

	// dateTypeOrder searches by order date. RMS has no date type for an
	// order's last change (1 order, 2 confirmation, 3 fixing, 4 shipping,
	// 5 shipping report, 6 settlement), so the sync reads orders by the
	// date they were placed and reads the recent ones again (Overlap).
	dateTypeOrder = 1

	// maxWindow is the longest search: endDatetime at most 63 days after
	// startDatetime.
	maxWindow = 63 * 24 * time.Hour
	// reach is how far back searchOrder and getOrder reach: 730 days,
	// less a day of margin.
	reach = 729 * 24 * time.Hour
	// maxSearchResults is how many orders one search can list: the
	// 15,001st and later cannot be reached by paging.
	maxSearchResults = 15000

	perPage     = 1000 // requestRecordsAmount: at most 1,000
	perGetOrder = 100  // orderNumberList of getOrder: at most 100

	// getOrderVersion is the getOrder answer's version: the newest RMS
	// documents (10, social gifts). The fields read here exist since 4.
	getOrderVersion = 10

	// timeLayout is how RMS writes a date and time: 2026-01-01T00:00:00+0900.
	timeLayout = "2006-01-02T15:04:05-0700"
)

// jst is Japan's time zone: RMS's times and dates are in it.
var jst = time.FixedZone("JST", 9*60*60)

// rmsString formats t as searchOrder wants it, in JST.
func rmsString(t time.Time) string { return t.In(jst).Format(timeLayout) }

// searchRequest is searchOrder's request: the orders placed in a window,
// oldest first, a page of them.
type searchRequest struct {
	DateType      int               `json:"dateType"`
	StartDatetime string            `json:"startDatetime"`
	EndDatetime   string            `json:"endDatetime"`
	Pagination    paginationRequest `json:"PaginationRequestModel"`
}

type paginationRequest struct {
	RequestRecordsAmount int         `json:"requestRecordsAmount"`
	RequestPage          int         `json:"requestPage"`
	SortModelList        []sortModel `json:"SortModelList"`
}

type sortModel struct {
	SortColumn    int `json:"sortColumn"`    // 1: order date and time
	SortDirection int `json:"sortDirection"` // 1: ascending
}

// searchResult is a page of searchOrder's answer.
type searchResult struct {
	numbers []string
	total   int // orders in the window (0 when there are none)
	pages   int
}

// searchOrder lists page (from 1) of the orders placed from start to end.
// An ERROR in a 200 answer is an *APIError too.
func (c *Client) searchOrder(ctx context.Context, start, end time.Time, page int) (searchResult, error) {
	const op = "searchOrder"
	req := searchRequest{
		DateType:      dateTypeOrder,
		StartDatetime: rmsString(start),
		EndDatetime:   rmsString(end),
		Pagination: paginationRequest{RequestRecordsAmount: perPage, RequestPage: page,
			SortModelList: []sortModel{{SortColumn: 1, SortDirection: 1}}},
	}
	var res struct {
		MessageModelList []message `json:"MessageModelList"`
		OrderNumberList  []string  `json:"orderNumberList"`
		Pagination       struct {
			TotalRecordsAmount int `json:"totalRecordsAmount"` // null without results
			TotalPages         int `json:"totalPages"`
		} `json:"PaginationResponseModel"`
	}
	if err := c.post(ctx, op, searchOrderPath, req, &res); err != nil {
		return searchResult{}, err
	}
	if m, ok := firstError(res.MessageModelList); ok {
		return searchResult{}, &APIError{Op: op, Status: 200, Code: m.MessageCode, Message: clip(m.Message, 300)}
	}
	return searchResult{numbers: res.OrderNumberList, total: res.Pagination.TotalRecordsAmount, pages: res.Pagination.TotalPages}, nil
}

// getOrders reads the orders numbers, perGetOrder a call. An order RMS
// answers an ERROR about is logged and left out; an ERROR about no order
// fails the call.
func (c *Client) getOrders(ctx context.Context, numbers []string) ([]orderModel, error) {
	const op = "getOrder"
	var out []orderModel
	for batch := range slices.Chunk(numbers, perGetOrder) {
		req := struct {
			OrderNumberList []string `json:"orderNumberList"`
			Version         int      `json:"version"`
		}{batch, getOrderVersion}
		var res struct {
			MessageModelList []message    `json:"MessageModelList"`
			OrderModelList   []orderModel `json:"OrderModelList"`
		}
		if err := c.post(ctx, op, getOrderPath, req, &res); err != nil {
			return nil, err
		}
		for _, m := range res.MessageModelList {
			switch {
			case m.MessageType == "ERROR" && m.OrderNumber == "":
				return nil, &APIError{Op: op, Status: 200, Code: m.MessageCode, Message: clip(m.Message, 300)}
			case m.MessageType == "ERROR", m.MessageType == "WARNING":
				c.log.Warn("rakuten: getOrder: "+strings.ToLower(m.MessageType), "order", m.OrderNumber,
					"code", m.MessageCode, "message", clip(m.Message, 200))
			}
		}
		out = append(out, res.OrderModelList...)
	}
	return out, nil
}

// orderModel is a getOrder OrderModel: only what the KPIs need. Of the
// OrdererModel only the e-mail (masked by RMS) is decoded, to be hashed:
// the orderer's names, phones, address, sex and birthday, the receivers
// (SenderModel), the card owner (SettlementModel), the remarks and the
// memo are not.
type orderModel struct {
	OrderNumber             string  `json:"orderNumber"`
	OrderProgress           int     `json:"orderProgress"`
	OrderDatetime           rmsTime `json:"orderDatetime"`
	ShippingCmplRptDatetime rmsTime `json:"shippingCmplRptDatetime"` // the shop reported the shipment
	DeliveryDate            rmsDate `json:"deliveryDate"`            // the delivery day the buyer chose
	TotalPrice              int64   `json:"totalPrice"`              // -9999 until fixed
	OrdererModel            struct {
		EmailAddress string `json:"emailAddress"`
	} `json:"OrdererModel"`
	PackageModelList      []packageModel      `json:"PackageModelList"`
	ChangeReasonModelList []changeReasonModel `json:"ChangeReasonModelList"`
}

// packageModel is one destination of an order; its SenderModel
// (the receiver) is not decoded.
type packageModel struct {
	BasketID                   int64  `json:"basketId"`
	DefaultDeliveryCompanyCode string `json:"defaultDeliveryCompanyCode"`
	ItemModelList              []struct {
		Units int64 `json:"units"`
	} `json:"ItemModelList"`
	ShippingModelList []shippingModel `json:"ShippingModelList"`
}

// shippingModel is one parcel sent to a destination.
type shippingModel struct {
	ShippingDetailID int64   `json:"shippingDetailId"`
	ShippingNumber   string  `json:"shippingNumber"`
	DeliveryCompany  string  `json:"deliveryCompany"`
	ShippingDate     rmsDate `json:"shippingDate"`
}

// changeReasonModel is a change or cancellation of an order.
type changeReasonModel struct {
	ChangeID     int64 `json:"changeId"`
	ChangeType   *int  `json:"changeType"`   // 0 cancel applied, 1 fixed, 2 done, 3 withdrawn, 4–7 changes, 8 confirmed, 9 re-payment
	ChangeReason *int  `json:"changeReason"` // 0 the shop's reason, 1 the customer's
}

// mapOrder maps o to the shop's order and shipments, or says why it
// cannot. A shipment is a parcel handed to a carrier (its shipping date,
// or the order's shipment report, is known), cancelled orders' too; its
// id is the order's number, the destination's basketId and the parcel's
// shippingDetailId.
func mapOrder(shop string, o *orderModel) (kpi.Order, []kpi.Shipment, error) {
	if o.OrderNumber == "" || o.OrderDatetime.IsZero() {
		return kpi.Order{}, nil, errors.New("no order number or order date")
	}
	status, ok := orderStatus(o)
	if !ok {
		return kpi.Order{}, nil, fmt.Errorf("unknown orderProgress %d", o.OrderProgress)
	}
	ord := kpi.Order{
		Shop:        shop,
		ID:          o.OrderNumber,
		CustomerRef: kpi.CustomerRef("rakuten", shop, strings.ToLower(o.OrdererModel.EmailAddress)),
		Placed:      o.OrderDatetime.Time,
		// RMS promises no ship-by time (shippingTerm is the delivery time
		// slot, not a date): ShipBy stays zero.
		PromisedBy: o.DeliveryDate.endOfDay(),
		Status:     status,
		Total:      max(o.TotalPrice, 0), // -9999: not fixed yet
		Channel:    kpi.ByMerchant,
	}
	var shipments []kpi.Shipment
	for _, p := range o.PackageModelList {
		var units int64
		for _, it := range p.ItemModelList {
			units += max(it.Units, 0)
		}
		ord.Units += units
		if p.DefaultDeliveryCompanyCode == fromRakutenWarehouse {
			ord.Channel = kpi.ByPlatform
		}
		for _, s := range p.ShippingModelList {
			if s.DeliveryCompany == fromRakutenWarehouse {
				ord.Channel = kpi.ByPlatform
			}
			shipped := s.ShippingDate.Time
			if shipped.IsZero() {
				shipped = o.ShippingCmplRptDatetime.Time
			}
			if shipped.IsZero() || s.ShippingDetailID == 0 {
				continue // not handed to a carrier yet
			}
			sh := kpi.Shipment{
				Shop:     shop,
				ID:       o.OrderNumber + "/" + strconv.FormatInt(p.BasketID, 10) + "/" + strconv.FormatInt(s.ShippingDetailID, 10),
				OrderID:  o.OrderNumber,
				Shipped:  shipped,
				Carrier:  carrier(s.DeliveryCompany),
				Tracking: strings.TrimSpace(s.ShippingNumber),
			}
			if len(p.ShippingModelList) == 1 {
				sh.Units = units // else RMS does not say which parcel holds what
			}
			shipments = append(shipments, sh)
		}
	}
	return ord, shipments, nil
}

// orderStatus maps orderProgress:
//
//   - 100 awaiting the shop's confirmation: pending.
//   - 200 Rakuten processing (payment checks), 300 awaiting shipment:
//     unshipped.
//   - 400 a change awaiting confirmation: unshipped, or shipped if the
//     shop already reported the shipment.
//   - 500 shipped, 600 payment processing, 700 payment done: shipped.
//     RMS never says that a parcel was delivered, so no order is
//     delivered.
//   - 800 cancellation awaiting confirmation, 900 cancelled: cancelled,
//     or seller_cancelled if the cancellation was for the shop's reason.
func orderStatus(o *orderModel) (kpi.OrderStatus, bool) {
	switch o.OrderProgress {
	case 100:
		return kpi.StatusPending, true
	case 200, 300:
		return kpi.StatusUnshipped, true
	case 400:
		if !o.ShippingCmplRptDatetime.IsZero() {
			return kpi.StatusShipped, true
		}
		return kpi.StatusUnshipped, true
	case 500, 600, 700:
		return kpi.StatusShipped, true
	case 800, 900:
		return cancelStatus(o.ChangeReasonModelList), true
	}
	return "", false
}

// cancelStatus says who cancelled an order: the shop if its last
// cancellation (applied, fixed or done; the highest changeId) was for the
// shop's reason, else the customer or Rakuten.
func cancelStatus(changes []changeReasonModel) kpi.OrderStatus {
	var last *changeReasonModel
	for i := range changes {
		c := &changes[i]
		if c.ChangeType == nil || *c.ChangeType < 0 || *c.ChangeType > 2 {
			continue
		}
		if last == nil || c.ChangeID > last.ChangeID {
			last = c
		}
	}
	if last != nil && last.ChangeReason != nil && *last.ChangeReason == 0 {
		return kpi.StatusSellerCancelled
	}
	return kpi.StatusCancelled
}

// fromRakutenWarehouse is the delivery company code of Japan Post parcels
// shipped from a Rakuten warehouse (1029): the order was fulfilled by
// Rakuten Super Logistics. RMS has no other field that says so.
const fromRakutenWarehouse = "1029"

// carrier names a delivery company code as kpi.Shipment does: Yamato
// (1001, and 1030 Kuroneko Yu-Packet), Sagawa (1002), Japan Post (1003,
// and 1029 from a Rakuten warehouse); any other code is kept as
// "rakuten:<code>".
func carrier(code string) string {
	switch code = strings.TrimSpace(code); code {
	case "":
		return ""
	case "1001", "1030":
		return "yamato"
	case "1002":
		return "sagawa"
	case "1003", "1029":
		return "japanpost"
	}
	return "rakuten:" + code
}

// rmsTime is a date and time in RMS's JSON (2026-01-01T09:30:00+0900), in
// UTC; "" or null is the zero time.
type rmsTime struct{ time.Time }

func (t *rmsTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t.Time = time.Time{}
	if s == "" {
		return nil
	}
	v, err := time.Parse(timeLayout, s)
	if err != nil {
		if v, err = time.Parse(time.RFC3339, s); err != nil {
			return fmt.Errorf("a time: %q", clip(s, 40))
		}
	}
	t.Time = v.UTC()
	return nil
}

// rmsDate is a day in RMS's JSON (2026-01-01), in JST: the time is its
// start, in UTC; "" or null is the zero time.
type rmsDate struct{ time.Time }

func (d *rmsDate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d.Time = time.Time{}
	if s == "" {
		return nil
	}
	v, err := time.ParseInLocation(time.DateOnly, s, jst)
	if err != nil {
		return fmt.Errorf("a date: %q", clip(s, 40))
	}
	d.Time = v.UTC()
	return nil
}

// endOfDay is the last second of the day, or the zero time.
func (d rmsDate) endOfDay() time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	return d.Add(24*time.Hour - time.Second)
}
