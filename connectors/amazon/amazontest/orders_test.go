package amazontest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
)

// accessToken asks the fake's token endpoint for an access token.
func accessToken(t *testing.T, fake *amazontest.Server) string {
	t.Helper()
	c := amazontest.Credentials
	res, err := http.PostForm(fake.URL+"/auth/o2/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {c.RefreshToken}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("token: %v %q", err, out.AccessToken)
	}
	return out.AccessToken
}

func readModel(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "spec", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOrdersChecksRequests(t *testing.T) {
	fake := amazontest.New(t)
	orders := fake.ServeOrders()
	orders.Set(amazontest.ExampleOrders(t, readModel(t, "orders_2026-01-01.json"), "searchOrders")...)
	orders.SetV0(amazontest.ExampleOrders(t, readModel(t, "ordersV0.json"), "getOrders")...)
	token := accessToken(t, fake)

	const search, v0 = "/orders/2026-01-01/orders?", "/orders/v0/orders?"
	tests := []struct {
		name, path string
		noToken    bool
		status     int    // want
		count      int    // orders in a 200 answer
		has, lacks string // in a 200 answer
	}{
		{name: "search", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-01T00:00:00Z", status: 200, count: 1,
			lacks: `"buyer"`},
		{name: "search with the buyer", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-01T00:00:00Z&includedData=BUYER,PACKAGES",
			status: 200, count: 1, has: `"buyerEmail"`, lacks: `"recipient"`},
		{name: "search after the order", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-25T14:45:01Z", status: 200},
		{name: "search before the order", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-01T00:00:00Z&lastUpdatedBefore=2024-12-25T14:44:59Z",
			status: 200},
		{name: "search by creation", path: search + "marketplaceIds=A1VC38T7YXB528&createdAfter=2024-12-25T10:30:00Z", status: 200, count: 1},
		{name: "search without marketplace", path: search + "lastUpdatedAfter=2024-12-01T00:00:00Z", status: 400},
		{name: "search without a time", path: search + "marketplaceIds=A1VC38T7YXB528", status: 400},
		{name: "search with both times", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-01T00:00:00Z&createdAfter=2024-12-01T00:00:00Z",
			status: 400},
		{name: "search with a bad time", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=yesterday", status: 400},
		{name: "search 101 per page", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-01T00:00:00Z&maxResultsPerPage=101",
			status: 400},
		{name: "search 0 per page", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-01T00:00:00Z&maxResultsPerPage=0",
			status: 400},
		{name: "search an unknown dataset", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-01T00:00:00Z&includedData=EVERYTHING",
			status: 400},
		{name: "search an unknown page", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-01T00:00:00Z&paginationToken=abc",
			status: 400},
		{name: "search without a token", path: search + "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2024-12-01T00:00:00Z", noToken: true,
			status: 403},
		{name: "v0", path: v0 + "MarketplaceIds=A1VC38T7YXB528&LastUpdatedAfter=2017-01-01T00:00:00Z&MaxResultsPerPage=100", status: 200, count: 1,
			has: `"AmazonOrderId"`},
		{name: "v0 without marketplace", path: v0 + "LastUpdatedAfter=2017-01-01T00:00:00Z", status: 400},
		{name: "v0 with both times", path: v0 + "MarketplaceIds=A1VC38T7YXB528&LastUpdatedAfter=2017-01-01T00:00:00Z&CreatedAfter=2017-01-01T00:00:00Z",
			status: 400},
		{name: "v0 without a time", path: v0 + "MarketplaceIds=A1VC38T7YXB528", status: 400},
		{name: "v0 101 per page", path: v0 + "MarketplaceIds=A1VC38T7YXB528&LastUpdatedAfter=2017-01-01T00:00:00Z&MaxResultsPerPage=101",
			status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fake.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.noToken {
				req.Header.Set("x-amz-access-token", token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Orders  []json.RawMessage `json:"orders"`
				Payload struct {
					Orders []json.RawMessage `json:"Orders"`
				} `json:"payload"`
				Errors []struct{ Code string } `json:"errors"`
			}
			raw := new(strings.Builder)
			if err := json.NewDecoder(io.TeeReader(res.Body, raw)).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", res.StatusCode, tt.status, raw)
			}
			switch {
			case tt.status == 400 && (len(body.Errors) != 1 || body.Errors[0].Code != "InvalidInput"):
				t.Errorf("400 without InvalidInput: %s", raw)
			case tt.status == 200 && len(body.Orders)+len(body.Payload.Orders) != tt.count:
				t.Errorf("%d orders, want %d: %s", len(body.Orders)+len(body.Payload.Orders), tt.count, raw)
			case tt.has != "" && !strings.Contains(raw.String(), tt.has):
				t.Errorf("the answer lacks %s: %s", tt.has, raw)
			case tt.lacks != "" && strings.Contains(raw.String(), tt.lacks):
				t.Errorf("the answer has %s: %s", tt.lacks, raw)
			}
		})
	}
}

func TestOrdersPaginates(t *testing.T) {
	fake := amazontest.New(t)
	orders := fake.ServeOrders()
	ex := amazontest.ExampleOrders(t, readModel(t, "orders_2026-01-01.json"), "searchOrders")[0]
	var list []amazontest.Order
	for i := range 5 { // listed newest first: the fake sorts by last update
		o := ex.Clone()
		o.Set(fmt.Sprintf("order-%d", i), "orderId")
		o.Set(fmt.Sprintf("2025-01-01T00:0%d:00Z", 4-i), "lastUpdatedTime")
		list = append(list, o)
	}
	orders.Set(list...)
	token := accessToken(t, fake)
	get := func(query string) (ids []string, next string, status int) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fake.URL+"/orders/2026-01-01/orders?"+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-amz-access-token", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Orders []struct {
				OrderID string `json:"orderId"`
			} `json:"orders"`
			Pagination struct {
				NextToken string `json:"nextToken"`
			} `json:"pagination"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		for _, o := range body.Orders {
			ids = append(ids, o.OrderID)
		}
		return ids, body.Pagination.NextToken, res.StatusCode
	}

	base := "marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2025-01-01T00:01:00Z&maxResultsPerPage=2"
	var got []string
	pages := 0
	for next := ""; pages == 0 || next != ""; pages++ {
		q := base
		if next != "" {
			q += "&paginationToken=" + url.QueryEscape(next)
		}
		var ids []string
		var status int
		ids, next, status = get(q)
		if status != 200 {
			t.Fatalf("page %d: HTTP %d", pages+1, status)
		}
		got = append(got, ids...)
		if pages == 0 {
			// The first page's token serves the same filters only.
			if _, _, status := get("marketplaceIds=A1VC38T7YXB528&lastUpdatedAfter=2025-01-01T00:00:00Z&maxResultsPerPage=2&paginationToken=" +
				url.QueryEscape(next)); status != 400 {
				t.Errorf("a token with other filters: HTTP %d, want 400", status)
			}
		}
	}
	if want := "order-3,order-2,order-1,order-0"; strings.Join(got, ",") != want || pages != 2 {
		t.Errorf("%d pages of %v, want 2 pages of %s", pages, got, want)
	}
}
