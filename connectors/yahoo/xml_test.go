package yahoo

import (
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

func TestAnswerHead(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int // the HTTP status
		ok     bool
		want   APIError // when not ok
	}{
		{name: "orderList OK", status: 200, ok: true,
			body: `<?xml version="1.0" encoding="UTF-8"?><Result><Status>OK</Status><Search><TotalCount>0</TotalCount></Search></Result>`},
		{name: "orderInfo OK", status: 200, ok: true,
			body: `<ResultSet totalResultsAvailable="1"><Result><Status>OK</Status><OrderInfo><OrderId>s-1</OrderId></OrderInfo></Result></ResultSet>`},
		{name: "NG with an error", status: 200,
			body: `<Result><Status>NG</Status><Error><Code>od00001</Code><Message>order not found</Message></Error></Result>`,
			want: APIError{Op: "op", Status: 200, Code: "od00001", Message: "order not found"}},
		{name: "NG in a result set", status: 200,
			body: "<ResultSet>\n <Result>\n  <Status>NG</Status>\n  <Error>\n   <Target>path</Target>\n   <Code>it-01011</Code>\n   <Message><![CDATA[パスは必須です。]]></Message>\n  </Error>\n </Result>\n</ResultSet>",
			want: APIError{Op: "op", Status: 200, Code: "it-01011", Message: "パスは必須です。"}},
		{name: "status beside the result", status: 200,
			body: `<ResultSet><Status>NG</Status><Result><Error><Code>it-02002</Code><Message>no such item</Message></Error></Result></ResultSet>`,
			want: APIError{Op: "op", Status: 200, Code: "it-02002", Message: "no such item"}},
		{name: "refused token", status: 401,
			body: `<Error><Message>AccessToken has been expired. This API session is shorter than another API.</Message><Code>px-04102</Code></Error>`,
			want: APIError{Op: "op", Status: 401, Code: "px-04102", Message: "AccessToken has been expired. This API session is shorter than another API."}},
		{name: "error page that is not XML", status: 503, body: "<html><body>Service Unavailable",
			want: APIError{Op: "op", Status: 503}},
		{name: "OK status with an HTTP error", status: 500, body: `<Result><Status>OK</Status></Result>`,
			want: APIError{Op: "op", Status: 500}},
		{name: "200 without a status", status: 200, body: `<Result><Search></Search></Result>`,
			want: APIError{Op: "op", Status: 200, Message: "the answer has no <Status>OK</Status>"}},
		{name: "200 with another status", status: 200, body: `<Result><Status>WAIT</Status></Result>`,
			want: APIError{Op: "op", Status: 200, Message: "the answer's status is WAIT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := readHead([]byte(tt.body))
			ok := tt.status/100 == 2 && h.status() == "OK"
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (status %q)", ok, tt.ok, h.status())
			}
			if ok {
				return
			}
			if got := h.apiError("op", tt.status); *got != tt.want {
				t.Errorf("error = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestAPIErrorKinds(t *testing.T) {
	tests := []struct {
		err                              APIError
		temporary, unauthorized, refused bool
		says                             string
	}{
		{err: APIError{Op: "orderList", Status: 401, Code: CodeTokenExpired}, unauthorized: true, says: "authorize the store again"},
		{err: APIError{Op: "orderList", Status: 403, Code: CodeNotPermitted}, refused: true, says: "public key"},
		{err: APIError{Op: "orderList", Status: 401, Code: CodeNotPermitted}, refused: true, says: "public key"},
		{err: APIError{Op: "orderInfo", Status: 429}, temporary: true, says: "HTTP 429"},
		{err: APIError{Op: "orderInfo", Status: 503}, temporary: true, says: "HTTP 503"},
		{err: APIError{Op: "orderInfo", Status: 400, Code: "od00001", Message: "bad"}, says: "HTTP 400 od00001: bad"},
		{err: APIError{Op: "orderInfo", Status: 200, Code: "od00001"}, says: "orderInfo: HTTP 200 od00001"},
	}
	for _, tt := range tests {
		e := tt.err
		if e.Temporary() != tt.temporary || e.Unauthorized() != tt.unauthorized || e.SignatureRefused() != tt.refused {
			t.Errorf("%+v: temporary %v, unauthorized %v, refused %v; want %v, %v, %v", e, e.Temporary(), e.Unauthorized(),
				e.SignatureRefused(), tt.temporary, tt.unauthorized, tt.refused)
		}
		if !strings.Contains(e.Error(), tt.says) {
			t.Errorf("%+v says %q, want it to say %q", e, e.Error(), tt.says)
		}
	}
}

func TestYahooTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2026-08-06T17:16:34+09:00", want: time.Date(2026, 8, 6, 8, 16, 34, 0, time.UTC)},
		{in: "2026-08-06T08:16:34Z", want: time.Date(2026, 8, 6, 8, 16, 34, 0, time.UTC)},
		{in: "2026-08-06T17:16:34", want: time.Date(2026, 8, 6, 8, 16, 34, 0, time.UTC)},
		{in: "2026-08-06 17:16:34", want: time.Date(2026, 8, 6, 8, 16, 34, 0, time.UTC)},
		{in: "20260806171634", want: time.Date(2026, 8, 6, 8, 16, 34, 0, time.UTC)},
		{in: "20260807", want: time.Date(2026, 8, 6, 15, 0, 0, 0, time.UTC)},
		{in: "2026-08-07", want: time.Date(2026, 8, 6, 15, 0, 0, 0, time.UTC)},
		{in: "2026/08/07", want: time.Date(2026, 8, 6, 15, 0, 0, 0, time.UTC)},
		{in: "  ", want: time.Time{}},
		{in: "yesterday", bad: true},
		{in: "2026-13-01", bad: true},
	}
	for _, tt := range tests {
		var got yahooTime
		err := got.UnmarshalText([]byte(tt.in))
		if tt.bad {
			if err == nil {
				t.Errorf("%q read as %v, want an error", tt.in, got.Time)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("%q read as %v, %v; want %v in UTC", tt.in, got.Time, err, tt.want)
		}
	}
	if got := conditionTime(time.Date(2026, 8, 6, 15, 0, 0, 0, time.UTC)); got != "20260807000000" {
		t.Errorf("conditionTime = %q, want 20260807000000 (Japan time)", got)
	}
}

func TestOrderStatus(t *testing.T) {
	tests := []struct {
		order, ship string
		want        kpi.OrderStatus // "": unknown
	}{
		{"1", "0", kpi.StatusPending},
		{"1", "", kpi.StatusPending},
		{"2", "1", kpi.StatusUnshipped},
		{"2", "2", kpi.StatusUnshipped},
		{"2", "3", kpi.StatusShipped},
		{"2", "4", kpi.StatusDelivered},
		{"3", "0", kpi.StatusUnshipped},
		{"3", "3", kpi.StatusShipped},
		{"4", "0", kpi.StatusCancelled},
		{"4", "3", kpi.StatusCancelled},
		{"5", "3", kpi.StatusShipped},
		{"5", "4", kpi.StatusDelivered},
		{"5", "2", kpi.StatusShipped},
		{" 5 ", " 4 ", kpi.StatusDelivered},
		{"0", "0", ""},
		{"6", "3", ""},
		{"", "3", ""},
	}
	for _, tt := range tests {
		got, ok := orderStatus(tt.order, tt.ship)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("orderStatus(%q, %q) = %q, %v; want %q", tt.order, tt.ship, got, ok, tt.want)
		}
	}
}

func TestCarrier(t *testing.T) {
	tests := map[string]string{
		"1001": "yamato", "1002": "sagawa", "1003": "japanpost", " 1001 ": "yamato",
		"1000": "yahoo:1000", "1004": "yahoo:1004", "": "",
	}
	for code, want := range tests {
		if got := carrier(code); got != want {
			t.Errorf("carrier(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestCursorCurrent(t *testing.T) {
	at := func(h int) time.Time {
		return time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h) * time.Hour)
	}
	done := ordersCursor{DoneAfter: at(0), DoneBefore: at(100)}
	listed := func(placed, updated, published int) listedOrder {
		o := listedOrder{OrderTime: yahooTime{at(placed)}, LastUpdateTime: yahooTime{at(updated)}}
		if published >= 0 {
			o.PublicationTime = yahooTime{at(published)}
		}
		return o
	}
	tests := []struct {
		name string
		cur  ordersCursor
		o    listedOrder
		want bool
	}{
		{"placed, shown and updated within the window done", done, listed(10, 20, 10), true},
		{"no publication time: shown when placed", done, listed(10, 20, -1), true},
		{"updated after the window's reading began", done, listed(10, 100, 10), false},
		{"updated an hour before the reading began", done, listed(10, 99, 10), true},
		{"shown after the window's reading began", done, listed(10, 20, 100), false},
		{"placed after the window", done, listed(101, 101, 101), false},
		{"placed before the window", done, listed(-1, 20, -1), false},
		{"no window done yet", ordersCursor{}, listed(10, 20, 10), false},
		{"no last update", done, listedOrder{OrderTime: yahooTime{at(10)}}, false},
	}
	for _, tt := range tests {
		if got := tt.cur.current(tt.o); got != tt.want {
			t.Errorf("%s: current = %v, want %v", tt.name, got, tt.want)
		}
	}
	// The skew: an update ordersSkew before the reading began may not yet
	// have been seen by it.
	o := listed(10, 20, 10)
	o.LastUpdateTime = yahooTime{at(100).Add(-ordersSkew)}
	if done.current(o) {
		t.Error("an order updated ordersSkew before the reading began counts as current")
	}
}
