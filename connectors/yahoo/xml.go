package yahoo

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// jst is Japan time, in which Yahoo writes and reads times.
var jst = time.FixedZone("JST", 9*60*60)

// answerHead is what every answer of the Store API says about itself,
// whatever its root: <Result><Status>OK</Status>…</Result> (orderList),
// <ResultSet><Result><Status>…</Status>…</Result></ResultSet> (orderInfo),
// <Result><Status>NG</Status><Error><Code>…</Code><Message>…</Message></Error></Result>,
// or <Error><Message>…</Message><Code>…</Code></Error> (a call refused
// before it reached the operation, such as an expired token).
type answerHead struct {
	XMLName xml.Name
	Status  string      `xml:"Status"`
	Code    string      `xml:"Code"`
	Message string      `xml:"Message"`
	Error   *answerHead `xml:"Error"`
	Result  *answerHead `xml:"Result"`
}

// readHead reads the head of an answer; an answer that is not XML has an
// empty one.
func readHead(body []byte) *answerHead {
	var h answerHead
	if err := xml.Unmarshal(body, &h); err != nil {
		return &answerHead{}
	}
	return &h
}

// status is the answer's <Status>: OK, NG, or "" if it has none.
func (h *answerHead) status() string {
	for ; h != nil; h = h.Result {
		if s := strings.TrimSpace(h.Status); s != "" {
			return s
		}
	}
	return ""
}

// failure is the code and message of the answer's <Error>, if it has one.
func (h *answerHead) failure() (code, message string) {
	for ; h != nil; h = h.Result {
		e := h.Error
		if h.XMLName.Local == "Error" {
			e = h
		}
		if e != nil {
			return strings.TrimSpace(e.Code), strings.TrimSpace(e.Message)
		}
	}
	return "", ""
}

// apiError is the answer as an *APIError of operation op answered with
// HTTP status.
func (h *answerHead) apiError(op string, status int) *APIError {
	code, msg := h.failure()
	if code == "" && msg == "" && status/100 == 2 {
		msg = "the answer has no <Status>OK</Status>"
		if s := h.status(); s != "" {
			msg = "the answer's status is " + clip(s, 20)
		}
	}
	return &APIError{Op: op, Status: status, Code: clip(code, 40), Message: clip(msg, 300)}
}

// yahooTime is a time in Yahoo's answers: "2026-08-06T17:16:34+09:00",
// or, without a zone, in Japan time: "2026-08-06T17:16:34",
// "20260806171634", or a date alone, "20260806", "2026-08-06" or
// "2026/08/06", which is the start of that day in Japan. "" is the zero
// time. It is kept in UTC.
type yahooTime struct{ time.Time }

// yahooLayouts are the forms yahooTime reads, without a zone first.
var yahooLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "20060102150405", "20060102", "2006-01-02", "2006/01/02"}

func (t *yahooTime) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	if v, err := time.Parse(time.RFC3339, s); err == nil {
		t.Time = v.UTC()
		return nil
	}
	for _, layout := range yahooLayouts {
		if v, err := time.ParseInLocation(layout, s, jst); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("%q is not a time", clip(s, 40))
}

// conditionTime writes t as orderList's time conditions want it:
// YYYYMMDDHH24MISS in Japan time.
func conditionTime(t time.Time) string { return t.In(jst).Format("20060102150405") }

// listRequest is orderList's request.
type listRequest struct {
	XMLName  xml.Name   `xml:"Req"`
	Search   listSearch `xml:"Search"`
	SellerID string     `xml:"SellerId"`
}

type listSearch struct {
	Result    int           `xml:"Result"` // orders a page
	Start     int           `xml:"Start"`  // the first order's position, from 1
	Sort      string        `xml:"Sort"`
	Condition listCondition `xml:"Condition"`
	Field     string        `xml:"Field"`
}

type listCondition struct {
	OrderTimeFrom string `xml:"OrderTimeFrom"`
	OrderTimeTo   string `xml:"OrderTimeTo"`
}

// listAnswer is orderList's answer: only the fields listFields asks for.
type listAnswer struct {
	XMLName xml.Name `xml:"Result"`
	Search  struct {
		TotalCount int           `xml:"TotalCount"`
		OrderInfo  []listedOrder `xml:"OrderInfo"`
	} `xml:"Search"`
}

// listedOrder is an order as orderList lists it.
type listedOrder struct {
	OrderID         string    `xml:"OrderId"`
	OrderTime       yahooTime `xml:"OrderTime"`
	LastUpdateTime  yahooTime `xml:"LastUpdateTime"`
	PublicationTime yahooTime `xml:"PublicationTime"` // when orderList first showed it (later than OrderTime for a held order)
}

// infoRequest is orderInfo's request: one order.
type infoRequest struct {
	XMLName  xml.Name   `xml:"Req"`
	Target   infoTarget `xml:"Target"`
	SellerID string     `xml:"SellerId"`
}

type infoTarget struct {
	OrderID string `xml:"OrderId"`
	Field   string `xml:"Field"`
}

// infoAnswer is orderInfo's answer.
type infoAnswer struct {
	XMLName xml.Name `xml:"ResultSet"`
	Result  struct {
		OrderInfo orderInfo `xml:"OrderInfo"`
	} `xml:"Result"`
}

// orderInfo is an order as orderInfo answers it: only what the KPIs need.
// The buyer's and the recipient's names, addresses and phones are not
// decoded even when Yahoo sends them; the e-mail is decoded to be hashed.
type orderInfo struct {
	OrderID        string    `xml:"OrderId"`
	OrderTime      yahooTime `xml:"OrderTime"`
	LastUpdateTime yahooTime `xml:"LastUpdateTime"`
	OrderStatus    string    `xml:"OrderStatus"` // 1 reserved, 2 processing, 3 on hold, 4 cancelled, 5 complete
	Pay            struct {
		BillMailAddress string `xml:"BillMailAddress"` // hashed into the CustomerRef, never kept
	} `xml:"Pay"`
	Ship struct {
		ShipStatus         string    `xml:"ShipStatus"` // 0 cannot ship, 1 can ship, 2 shipping, 3 shipped, 4 delivered
		ShipDate           yahooTime `xml:"ShipDate"`
		ArrivalDate        yahooTime `xml:"ArrivalDate"`
		ShipCompanyCode    string    `xml:"ShipCompanyCode"`
		ShipInvoiceNumber1 string    `xml:"ShipInvoiceNumber1"`
	} `xml:"Ship"`
	Detail struct {
		TotalPrice string `xml:"TotalPrice"`
	} `xml:"Detail"`
	Items []struct {
		Quantity string `xml:"Quantity"`
	} `xml:"Item"`
}
