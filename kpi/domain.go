package kpi

import "time"

// Platform is a marketplace or shop system.
type Platform string

// The platforms kpibot knows.
const (
	Amazon  Platform = "amazon"
	Rakuten Platform = "rakuten"
	Yahoo   Platform = "yahoo"
	Shopify Platform = "shopify"
)

// Platforms lists every known platform in display order.
var Platforms = []Platform{Amazon, Rakuten, Yahoo, Shopify}

// Shop is one storefront of the seller on one platform.
type Shop struct {
	ID          string   // stable short id chosen by the seller, e.g. "amz-main"
	Platform    Platform //
	Marketplace string   // the platform's marketplace id, e.g. A1VC38T7YXB528 for amazon.co.jp
	Name        string   // display name
	Currency    string   // ISO 4217; amounts are in its major unit (JPY has no minor unit)
}

// OrderStatus is where an order stands.
type OrderStatus string

// Order statuses, normalised from each platform's own.
const (
	StatusPending         OrderStatus = "pending"          // placed, not yet paid or confirmed
	StatusUnshipped       OrderStatus = "unshipped"        // paid, waiting to ship
	StatusShipped         OrderStatus = "shipped"          // at least one shipment left
	StatusDelivered       OrderStatus = "delivered"        // delivered to the buyer
	StatusCancelled       OrderStatus = "cancelled"        // cancelled by the buyer or the platform
	StatusSellerCancelled OrderStatus = "seller_cancelled" // cancelled by the seller before shipping
)

// Cancelled reports whether the status is a cancellation of any kind.
func (s OrderStatus) Cancelled() bool {
	return s == StatusCancelled || s == StatusSellerCancelled
}

// Channel is who fulfils an order.
type Channel string

// Fulfilment channels.
const (
	ByMerchant Channel = "merchant" // the seller or its overseas warehouse ships
	ByPlatform Channel = "platform" // FBA, Rakuten Super Logistics and the like
)

// Order is one order as the KPIs need it. It holds no buyer name, e-mail,
// phone number or address (APPI); CustomerRef is an opaque pseudonymous key
// that links a customer's inquiries to their orders.
type Order struct {
	Shop        string
	ID          string // the platform's order id
	CustomerRef string // opaque, e.g. a hash of the platform's buyer id; never a name or e-mail
	Placed      time.Time
	Paid        time.Time // zero if unknown
	ShipBy      time.Time // latest ship date promised by the platform; zero if none
	PromisedBy  time.Time // latest promised delivery; zero if none
	Status      OrderStatus
	Total       int64 // in the shop's currency
	Units       int64
	Channel     Channel
	Claim       bool // an A-to-z guarantee claim or the platform's equivalent was filed
	Chargeback  bool
}

// Shipment is one package of an order.
type Shipment struct {
	Shop      string
	ID        string // the platform's shipment or package id
	OrderID   string
	Shipped   time.Time
	Carrier   string // yamato, sagawa, japanpost, or another carrier's name
	Tracking  string
	Delivered time.Time // zero until delivered
	Units     int64
}

// Return is units of an order sent back by the buyer.
type Return struct {
	Shop     string
	ID       string
	OrderID  string
	Returned time.Time
	Units    int64
	Reason   string
}

// Review is a product review or seller feedback. Text is stored with
// personal data masked.
type Review struct {
	Shop      string
	ID        string
	OrderID   string // empty when the platform does not link it
	Posted    time.Time
	Rating    int // 1 to 5 stars
	Text      string
	RepliedAt time.Time // zero until the shop replies
}

// Negative reports whether the review has one or two stars.
func (r Review) Negative() bool { return r.Rating >= 1 && r.Rating <= 2 }

// InventorySnapshot is the stock of one SKU at one moment.
type InventorySnapshot struct {
	Shop     string
	SKU      string
	Taken    time.Time
	OnHand   int64 // sellable units
	Inbound  int64 // units on their way to the warehouse
	Reserved int64
}

// InboundShipment is a replenishment sent to FBA or an overseas warehouse.
type InboundShipment struct {
	Shop     string
	ID       string
	Created  time.Time
	Received time.Time // zero until received
	Units    int64
}

// AdDay is one day of one advertising campaign.
type AdDay struct {
	Shop        string
	Campaign    string
	Day         Date
	Impressions int64
	Clicks      int64
	Spend       int64 // in the shop's currency
	Sales       int64 // ad-attributed sales
	Orders      int64 // ad-attributed orders
}

// CustomsStatus is where a customs entry stands.
type CustomsStatus string

// Customs statuses.
const (
	CustomsPending  CustomsStatus = "pending"
	CustomsCleared  CustomsStatus = "cleared"
	CustomsHeld     CustomsStatus = "held"
	CustomsRejected CustomsStatus = "rejected"
)

// CustomsEntry is one import declaration into Japan.
type CustomsEntry struct {
	Shop          string
	ID            string
	Declared      time.Time
	Cleared       time.Time // zero until cleared
	Status        CustomsStatus
	DocsCompleted bool // the documents were complete at first submission
}

// TicketKind tells inquiries before a purchase from those after it.
type TicketKind string

// Ticket kinds.
const (
	PreSale   TicketKind = "presale"
	AfterSale TicketKind = "aftersale"
)

// Ticket is one customer-service conversation.
type Ticket struct {
	Shop        string
	ID          string
	CustomerRef string // opaque, as in Order
	Opened      time.Time
	FirstReply  time.Time // zero until answered
	Kind        TicketKind
	Lang        string // the customer's language: ja, zh, en, ...
}

// AgentShift is an interval in which one support agent was online.
type AgentShift struct {
	Shop  string
	Agent string // opaque agent id
	Start time.Time
	End   time.Time
	Langs []string // languages the agent serves: ja, zh, en
}

// Speaks reports whether the agent serves lang.
func (s AgentShift) Speaks(lang string) bool {
	for _, l := range s.Langs {
		if l == lang {
			return true
		}
	}
	return false
}

// LabelCheck is the result of a Japanese labelling (JIS, 家庭用品品質表示法) check.
type LabelCheck string

// Label check results; the empty value means not checked.
const (
	LabelUnchecked LabelCheck = ""
	LabelPassed    LabelCheck = "passed"
	LabelFailed    LabelCheck = "failed"
)

// Listing is one product the shop sells.
type Listing struct {
	Shop     string
	SKU      string
	Launched time.Time
	NeedsPSE bool // an electrical product under the PSE law
	PSEValid bool // a valid PSE certificate is on file
	Label    LabelCheck
	Price    int64 // our current price
}

// CompetitorObservation is a competitor's offer seen by a price tracker.
type CompetitorObservation struct {
	Shop       string
	SKU        string // our SKU the offer competes with
	Competitor string
	Observed   time.Time
	Price      int64
	NewListing bool // the competitor's listing was new when observed
}
