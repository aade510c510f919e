package yahootest

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// jst is Japan time, in which Yahoo writes times.
var jst = time.FixedZone("JST", 9*60*60)

// Order is an order of the fake's store, with everything Yahoo keeps that
// the tests need: the KPIs' fields and the buyer's and the recipient's
// personal data.
type Order struct {
	OrderID         string
	OrderTime       time.Time
	LastUpdateTime  time.Time
	PublicationTime time.Time // when orderList first shows it; zero: OrderTime
	OrderStatus     int       // 1 reserved, 2 processing, 3 on hold, 4 cancelled, 5 complete
	ShipStatus      int       // 0 cannot ship, 1 can ship, 2 shipping, 3 shipped, 4 delivered
	ShipDate        time.Time // a day in Japan; zero: none
	ArrivalDate     time.Time
	ShipCompanyCode string
	ShipInvoice     string // ShipInvoiceNumber1
	TotalPrice      int64
	Items           []Item
	Bill            Person // the buyer (ご請求先)
	Ship            Person // the recipient (お届け先)
}

// Item is a line of an order.
type Item struct {
	ItemID    string
	Title     string
	UnitPrice int64
	Quantity  int
}

// Person is a buyer or a recipient.
type Person struct {
	FirstName, LastName, FirstNameKana, LastNameKana string
	ZipCode, Prefecture, City, Address1, Address2    string
	PhoneNumber, MailAddress                         string
}

// Set replaces the store's orders.
func (s *Server) Set(orders ...Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders = slices.Clone(orders)
}

// field is a field of an order as Yahoo names it, and its value ("": left
// out).
type field struct{ name, value string }

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(jst).Format(time.RFC3339) // 2026-08-06T17:16:34+09:00
}

// dateText writes a day as the fake writes Yahoo's dates: YYYYMMDD, the
// form orderShipStatusChange takes them in.
func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(jst).Format("20060102")
}

func published(o Order) time.Time { return cmp.Or(o.PublicationTime, o.OrderTime) }

// orderFields are o's fields directly under <OrderInfo>.
func (o Order) orderFields() []field {
	return []field{{"OrderId", o.OrderID}, {"OrderTime", timeText(o.OrderTime)}, {"LastUpdateTime", timeText(o.LastUpdateTime)},
		{"PublicationTime", timeText(published(o))}, {"OrderStatus", strconv.Itoa(o.OrderStatus)}}
}

// person are p's fields, as Bill… or Ship….
func person(prefix string, p Person) []field {
	return []field{{prefix + "FirstName", p.FirstName}, {prefix + "FirstNameKana", p.FirstNameKana},
		{prefix + "LastName", p.LastName}, {prefix + "LastNameKana", p.LastNameKana}, {prefix + "ZipCode", p.ZipCode},
		{prefix + "Prefecture", p.Prefecture}, {prefix + "City", p.City}, {prefix + "Address1", p.Address1},
		{prefix + "Address2", p.Address2}, {prefix + "PhoneNumber", p.PhoneNumber}, {prefix + "MailAddress", p.MailAddress}}
}

// payFields are o's fields under <Pay>.
func (o Order) payFields() []field { return person("Bill", o.Bill) }

// shipFields are o's fields under <Ship>.
func (o Order) shipFields() []field {
	return append([]field{{"ShipStatus", strconv.Itoa(o.ShipStatus)}, {"ShipDate", dateText(o.ShipDate)},
		{"ArrivalDate", dateText(o.ArrivalDate)}, {"ShipCompanyCode", o.ShipCompanyCode},
		{"ShipInvoiceNumber1", o.ShipInvoice}}, person("Ship", o.Ship)...)
}

// detailFields are o's fields under <Detail>.
func (o Order) detailFields() []field {
	return []field{{"TotalPrice", strconv.FormatInt(o.TotalPrice, 10)}}
}

// itemFields are an item's fields under <Item>.
func itemFields(line int, it Item) []field {
	return []field{{"LineId", strconv.Itoa(line)}, {"ItemId", it.ItemID}, {"Title", it.Title},
		{"UnitPrice", strconv.FormatInt(it.UnitPrice, 10)}, {"Quantity", strconv.Itoa(it.Quantity)}}
}

// listFields are o's fields in orderList, all directly under <OrderInfo>:
// orderList gives the names and prefectures, not the e-mails, phones nor
// addresses.
func (o Order) listFields() []field {
	return append(o.orderFields(), field{"ShipStatus", strconv.Itoa(o.ShipStatus)},
		field{"ShipDate", dateText(o.ShipDate)}, field{"ArrivalDate", dateText(o.ArrivalDate)},
		field{"ShipCompanyCode", o.ShipCompanyCode}, field{"ShipInvoiceNumber1", o.ShipInvoice},
		field{"TotalPrice", strconv.FormatInt(o.TotalPrice, 10)},
		field{"BillFirstName", o.Bill.FirstName}, field{"BillLastName", o.Bill.LastName},
		field{"BillPrefecture", o.Bill.Prefecture}, field{"ShipFirstName", o.Ship.FirstName},
		field{"ShipLastName", o.Ship.LastName}, field{"ShipPrefecture", o.Ship.Prefecture})
}

// names are the names of fields.
func names(groups ...[]field) map[string]bool {
	out := map[string]bool{}
	for _, g := range groups {
		for _, f := range g {
			out[f.name] = true
		}
	}
	return out
}

var (
	infoKnown = names(Order{}.orderFields(), Order{}.payFields(), Order{}.shipFields(), Order{}.detailFields(), itemFields(0, Item{}))
	listKnown = names(Order{}.listFields())
)

// wanted reads a Field list: the names it asks for, or the first it does
// not know.
func wanted(list string, known map[string]bool) (map[string]bool, string) {
	out := map[string]bool{}
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !known[name] {
			return nil, name
		}
		out[name] = true
	}
	return out, ""
}

// writeFields writes the fields asked for (all with AllFields) that have a
// value.
func (s *Server) writeFields(b *strings.Builder, fields []field, want map[string]bool) {
	for _, f := range fields {
		if f.value != "" && (s.AllFields || want[f.name]) {
			element(b, f.name, f.value)
		}
	}
}

func element(b *strings.Builder, name, value string) {
	b.WriteString("<" + name + ">")
	xml.EscapeText(b, []byte(value))
	b.WriteString("</" + name + ">")
}

// conditionTime matches orderList's time conditions: YYYYMMDDHH24MISS.
var conditionTime = regexp.MustCompile(`^\d{14}$`)

// orderList answers the orders placed in the window the conditions give
// (both ends included) that orderList shows by now, oldest first, a page
// of Result from position Start.
func (s *Server) orderList(w http.ResponseWriter, body []byte) {
	var req struct {
		Search struct {
			Result    string `xml:"Result"`
			Start     string `xml:"Start"`
			Sort      string `xml:"Sort"`
			Condition struct {
				OrderTimeFrom string     `xml:"OrderTimeFrom"`
				OrderTimeTo   string     `xml:"OrderTimeTo"`
				Other         []xml.Name `xml:",any"`
			} `xml:"Condition"`
			Field string `xml:"Field"`
		} `xml:"Search"`
		SellerID string `xml:"SellerId"`
	}
	bad := func(format string, args ...any) {
		NG(w, http.StatusBadRequest, "yahootest-bad-request", fmt.Sprintf(format, args...))
	}
	if err := xml.Unmarshal(body, &req); err != nil {
		bad("the body is not XML: %v", err)
		return
	}
	q := req.Search
	if req.SellerID != SellerID {
		bad("SellerId %q is not the store's", req.SellerID)
		return
	}
	want, unknown := wanted(q.Field, listKnown)
	switch {
	case unknown != "":
		bad("unknown Field %q", unknown)
		return
	case len(want) == 0:
		bad("Field is required")
		return
	case len(q.Condition.Other) > 0:
		bad("the fake knows no condition %s", q.Condition.Other[0].Local)
		return
	case q.Sort != "" && q.Sort != "+order_time":
		bad("the fake sorts by +order_time only, not %q", q.Sort)
		return
	}
	result, start := 10, 1
	for _, p := range []struct {
		name string
		s    string
		n    *int
	}{{"Result", q.Result, &result}, {"Start", q.Start, &start}} {
		if p.s == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(p.s))
		if err != nil || n < 1 {
			bad("%s must be a positive integer, not %q", p.name, p.s)
			return
		}
		*p.n = n
	}
	var from, to time.Time
	for _, c := range []struct {
		name string
		s    string
		t    *time.Time
	}{{"OrderTimeFrom", q.Condition.OrderTimeFrom, &from}, {"OrderTimeTo", q.Condition.OrderTimeTo, &to}} {
		if c.s == "" {
			continue
		}
		if !conditionTime.MatchString(c.s) {
			bad("%s must be YYYYMMDDHH24MISS, not %q", c.name, c.s)
			return
		}
		t, err := time.ParseInLocation("20060102150405", c.s, jst)
		if err != nil {
			bad("%s is not a time: %q", c.name, c.s)
			return
		}
		*c.t = t
	}

	s.mu.Lock()
	now := s.now()
	var match []Order
	for _, o := range s.orders {
		placed := o.OrderTime.Truncate(time.Second)
		if published(o).After(now) || !from.IsZero() && placed.Before(from) || !to.IsZero() && placed.After(to) {
			continue
		}
		match = append(match, o)
	}
	s.mu.Unlock()
	slices.SortFunc(match, func(a, b Order) int {
		return cmp.Or(a.OrderTime.Compare(b.OrderTime), cmp.Compare(a.OrderID, b.OrderID))
	})

	var b strings.Builder
	fmt.Fprintf(&b, "<Result><Status>OK</Status><Search><TotalCount>%d</TotalCount>", len(match))
	for i := start - 1; i < len(match) && i < start-1+result; i++ {
		fmt.Fprintf(&b, "<OrderInfo><Index>%d</Index>", i+1)
		s.writeFields(&b, match[i].listFields(), want)
		b.WriteString("</OrderInfo>")
	}
	b.WriteString("</Search></Result>")
	write(w, http.StatusOK, b.String())
}

// orderInfo answers one order of the store that orderList shows by now.
func (s *Server) orderInfo(w http.ResponseWriter, body []byte) {
	var req struct {
		Target struct {
			OrderID string `xml:"OrderId"`
			Field   string `xml:"Field"`
		} `xml:"Target"`
		SellerID string `xml:"SellerId"`
	}
	bad := func(format string, args ...any) {
		NG(w, http.StatusBadRequest, "yahootest-bad-request", fmt.Sprintf(format, args...))
	}
	if err := xml.Unmarshal(body, &req); err != nil {
		bad("the body is not XML: %v", err)
		return
	}
	if req.SellerID != SellerID {
		bad("SellerId %q is not the store's", req.SellerID)
		return
	}
	want, unknown := wanted(req.Target.Field, infoKnown)
	if unknown != "" {
		bad("unknown Field %q", unknown)
		return
	}
	s.mu.Lock()
	now := s.now()
	var o Order
	found := false
	for _, c := range s.orders {
		if c.OrderID == req.Target.OrderID && !published(c).After(now) {
			o, found = c, true
			break
		}
	}
	s.mu.Unlock()
	if !found {
		bad("no order %q", req.Target.OrderID)
		return
	}

	var b strings.Builder
	b.WriteString(`<ResultSet totalResultsAvailable="1" totalResultsReturned="1" firstResultPosition="1">`)
	b.WriteString("<Result><Status>OK</Status><OrderInfo>")
	s.writeFields(&b, o.orderFields(), want)
	for _, g := range []struct {
		name   string
		fields []field
	}{{"Pay", o.payFields()}, {"Ship", o.shipFields()}, {"Detail", o.detailFields()}} {
		b.WriteString("<" + g.name + ">")
		s.writeFields(&b, g.fields, want)
		b.WriteString("</" + g.name + ">")
	}
	for i, it := range o.Items {
		b.WriteString("<Item>")
		s.writeFields(&b, itemFields(i+1, it), want)
		b.WriteString("</Item>")
	}
	b.WriteString("</OrderInfo></Result></ResultSet>")
	write(w, http.StatusOK, b.String())
}
