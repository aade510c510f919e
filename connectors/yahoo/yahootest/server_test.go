package yahootest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/yahoo/yahootest"
)

var now = time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)

// sign is an X-sws-signature of seller at t with key's public half.
func sign(t *testing.T, key *rsa.PrivateKey, seller string, at time.Time) string {
	t.Helper()
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &key.PublicKey, fmt.Appendf(nil, "%s:%d", seller, at.Unix()))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(ct)
}

// call posts body to op with the headers given, and returns the answer's
// status and body.
func call(t *testing.T, fake *yahootest.Server, op, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fake.URL+"/ShoppingWebService/V1/"+op, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func newFake(t *testing.T) (*yahootest.Server, map[string]string) {
	fake := yahootest.New(t)
	fake.Now = func() time.Time { return now }
	placed := time.Date(2026, 8, 18, 10, 0, 0, 0, time.UTC)
	var orders []yahootest.Order
	for i := range 3 {
		orders = append(orders, yahootest.Order{OrderID: fmt.Sprintf("store-%d", i), OrderTime: placed.Add(time.Duration(i) * time.Hour),
			LastUpdateTime: placed, OrderStatus: 2, ShipStatus: 1, TotalPrice: 1000,
			Items: []yahootest.Item{{ItemID: "a", Quantity: 2}},
			Bill:  yahootest.Person{FirstName: "Taro", LastName: "Yamada", PhoneNumber: "090-0000-0000", MailAddress: "taro@example.jp", Address1: "1-1 Chiyoda"}})
	}
	held := orders[0]
	held.OrderID, held.PublicationTime = "store-held", now.Add(time.Hour)
	fake.Set(append(orders, held)...)
	headers := map[string]string{
		"Authorization":           "Bearer " + yahootest.Token,
		"X-sws-signature":         sign(t, yahootest.StoreKey(t), yahootest.SellerID, now),
		"X-sws-signature-version": yahootest.KeyVersion,
	}
	return fake, headers
}

func listBody(search string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><Req><Search>` + search + `</Search><SellerId>` + yahootest.SellerID + `</SellerId></Req>`
}

func TestOrderList(t *testing.T) {
	fake, headers := newFake(t)
	const window = "<Condition><OrderTimeFrom>20260818000000</OrderTimeFrom><OrderTimeTo>20260820235959</OrderTimeTo></Condition>"
	tests := []struct {
		name       string
		body       string
		status     int
		has, lacks []string
	}{
		{name: "a page", body: listBody("<Result>2</Result><Start>1</Start>" + window + "<Field>OrderId,OrderTime</Field>"), status: 200,
			has:   []string{"<Status>OK</Status>", "<TotalCount>3</TotalCount>", "<Index>1</Index><OrderId>store-0</OrderId><OrderTime>2026-08-18T19:00:00+09:00</OrderTime>", "<OrderId>store-1</OrderId>"},
			lacks: []string{"store-2", "store-held", "LastUpdateTime", "Taro"}},
		{name: "the next page", body: listBody("<Result>2</Result><Start>3</Start>" + window + "<Field>OrderId,BillFirstName</Field>"), status: 200,
			has: []string{"<TotalCount>3</TotalCount>", "<Index>3</Index><OrderId>store-2</OrderId><BillFirstName>Taro</BillFirstName>"}, lacks: []string{"store-1"}},
		{name: "a window's ends included", body: listBody("<Condition><OrderTimeFrom>20260818200000</OrderTimeFrom><OrderTimeTo>20260818210000</OrderTimeTo></Condition><Field>OrderId</Field>"),
			status: 200, has: []string{"<TotalCount>2</TotalCount>", "store-1", "store-2"}, lacks: []string{"store-0"}},
		{name: "no e-mail nor phone in a list", body: listBody(window + "<Field>OrderId,BillMailAddress</Field>"), status: 400,
			has: []string{"<Status>NG</Status>", `unknown Field &#34;BillMailAddress&#34;`}},
		{name: "no field", body: listBody(window), status: 400, has: []string{"Field is required"}},
		{name: "a bad time", body: listBody("<Condition><OrderTimeFrom>2026-08-18</OrderTimeFrom></Condition><Field>OrderId</Field>"), status: 400,
			has: []string{"YYYYMMDDHH24MISS"}},
		{name: "an unknown condition", body: listBody("<Condition><LastUpdateTimeFrom>20260818000000</LastUpdateTimeFrom></Condition><Field>OrderId</Field>"),
			status: 400, has: []string{"no condition LastUpdateTimeFrom"}},
		{name: "a bad start", body: listBody("<Start>0</Start><Field>OrderId</Field>"), status: 400, has: []string{"Start must be"}},
		{name: "another store", body: strings.Replace(listBody("<Field>OrderId</Field>"), yahootest.SellerID, "another", 1), status: 400,
			has: []string{"is not the store"}},
		{name: "not XML", body: "OrderId", status: 400, has: []string{"not XML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, fake, "orderList", tt.body, headers)
			if status != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", status, tt.status, body)
			}
			for _, s := range tt.has {
				if !strings.Contains(body, s) {
					t.Errorf("the answer has no %s:\n%s", s, body)
				}
			}
			for _, s := range tt.lacks {
				if strings.Contains(body, s) {
					t.Errorf("the answer has %s:\n%s", s, body)
				}
			}
		})
	}
}

func TestOrderInfo(t *testing.T) {
	fake, headers := newFake(t)
	body := func(id, fields string) string {
		return `<Req><Target><OrderId>` + id + `</OrderId><Field>` + fields + `</Field></Target><SellerId>` + yahootest.SellerID + `</SellerId></Req>`
	}
	status, got := call(t, fake, "orderInfo", body("store-1", "OrderId,OrderStatus,BillMailAddress,ShipStatus,TotalPrice,Quantity"), headers)
	want := `<ResultSet totalResultsAvailable="1" totalResultsReturned="1" firstResultPosition="1"><Result><Status>OK</Status><OrderInfo>` +
		`<OrderId>store-1</OrderId><OrderStatus>2</OrderStatus><Pay><BillMailAddress>taro@example.jp</BillMailAddress></Pay>` +
		`<Ship><ShipStatus>1</ShipStatus></Ship><Detail><TotalPrice>1000</TotalPrice></Detail><Item><Quantity>2</Quantity></Item>` +
		`</OrderInfo></Result></ResultSet>`
	if status != 200 || !strings.HasSuffix(got, want) {
		t.Errorf("HTTP %d\n%s\nwant the fields asked for:\n%s", status, got, want)
	}

	fake.AllFields = true
	_, got = call(t, fake, "orderInfo", body("store-1", "OrderId"), headers)
	for _, s := range []string{"<BillFirstName>Taro</BillFirstName>", "<BillPhoneNumber>090-0000-0000</BillPhoneNumber>", "<BillAddress1>1-1 Chiyoda</BillAddress1>"} {
		if !strings.Contains(got, s) {
			t.Errorf("with AllFields the answer has no %s:\n%s", s, got)
		}
	}
	for _, c := range []struct{ id, fields, says string }{
		{"store-held", "OrderId", "no order"}, // not shown yet
		{"store-9", "OrderId", "no order"},
		{"store-1", "OrderId,Shoesize", "unknown Field"},
	} {
		if status, got := call(t, fake, "orderInfo", body(c.id, c.fields), headers); status != 400 || !strings.Contains(got, c.says) {
			t.Errorf("order %s, fields %s: HTTP %d %s, want 400 saying %q", c.id, c.fields, status, got, c.says)
		}
	}
}

func TestAuthorization(t *testing.T) {
	fake, good := newFake(t)
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for a, b := range good {
			h[a] = b
		}
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	key := yahootest.StoreKey(t)
	tests := []struct {
		name    string
		headers map[string]string
		status  int
		code    string
	}{
		{"valid", good, 200, ""},
		{"no token", with("Authorization", ""), 401, "px-04102"},
		{"wrong token", with("Authorization", "Bearer nope"), 401, "px-04102"},
		{"no signature", with("X-sws-signature", ""), 403, "px-14303"},
		{"not base64", with("X-sws-signature", "%%%"), 403, "px-14303"},
		{"another key", with("X-sws-signature", sign(t, yahootest.NewKey(t), yahootest.SellerID, now)), 403, "px-14303"},
		{"another store", with("X-sws-signature", sign(t, key, "another", now)), 403, "px-14303"},
		{"stale", with("X-sws-signature", sign(t, key, yahootest.SellerID, now.Add(-6*time.Minute))), 403, "px-14303"},
		{"from the future", with("X-sws-signature", sign(t, key, yahootest.SellerID, now.Add(6*time.Minute))), 403, "px-14303"},
		{"a little off", with("X-sws-signature", sign(t, key, yahootest.SellerID, now.Add(-4*time.Minute))), 200, ""},
		{"another version", with("X-sws-signature-version", "1"), 403, "px-14303"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, fake, "orderList", listBody("<Field>OrderId</Field>"), tt.headers)
			if status != tt.status || tt.code != "" && !strings.Contains(body, "<Code>"+tt.code+"</Code>") {
				t.Errorf("HTTP %d %s, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
	fake.Expire()
	if status, _ := call(t, fake, "orderList", listBody("<Field>OrderId</Field>"), good); status != 401 {
		t.Errorf("an expired token: HTTP %d, want 401", status)
	}
}

func TestFaults(t *testing.T) {
	fake, headers := newFake(t)
	fake.Fail("orderInfo", yahootest.Fault{Status: 429}, yahootest.Fault{Status: 200, Code: "od1", Message: "no"})
	list := listBody("<Field>OrderId</Field>")
	if status, _ := call(t, fake, "orderList", list, headers); status != 200 {
		t.Errorf("orderList: HTTP %d, want 200: the faults are orderInfo's", status)
	}
	info := `<Req><Target><OrderId>store-0</OrderId><Field>OrderId</Field></Target><SellerId>` + yahootest.SellerID + `</SellerId></Req>`
	for i, want := range []struct {
		status int
		has    string
	}{{429, "<Error><Message>Too Many Requests</Message></Error>"}, {200, "<Status>NG</Status><Error><Code>od1</Code><Message>no</Message>"}, {200, "<Status>OK</Status>"}} {
		status, body := call(t, fake, "orderInfo", info, headers)
		if status != want.status || !strings.Contains(body, want.has) {
			t.Errorf("call %d: HTTP %d %s, want %d with %s", i+1, status, body, want.status, want.has)
		}
	}
	if got := fake.Calls("orderInfo"); got != 3 {
		t.Errorf("%d orderInfo calls counted, want 3", got)
	}
	if got := len(fake.Bodies("orderInfo")); got != 1 {
		t.Errorf("%d orderInfo bodies kept, want the one answered", got)
	}
}
