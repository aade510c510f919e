package amazontest

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Order is one order of the fake's lists as Amazon's JSON object: an
// Orders 2026-01-01 Order (orderId, lastUpdatedTime …) or an Orders v0
// Order (AmazonOrderId, LastUpdateDate …).
type Order map[string]any

// Clone returns a deep copy of o, to be edited without touching o.
func (o Order) Clone() Order {
	data, err := json.Marshal(o)
	if err != nil {
		panic(fmt.Sprintf("amazontest: clone order: %v", err))
	}
	var c Order
	if err := json.Unmarshal(data, &c); err != nil {
		panic(fmt.Sprintf("amazontest: clone order: %v", err))
	}
	return c
}

// Set sets the value at path (object keys, or indexes of arrays, as
// strings) to v, creating the objects on the way.
func (o Order) Set(v any, path ...string) {
	var cur any = map[string]any(o)
	for i, key := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[key] = v
				return
			}
			if c[key] == nil {
				c[key] = map[string]any{}
			}
			cur = c[key]
		case []any:
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n >= len(c) {
				panic(fmt.Sprintf("amazontest: set %v: no element %q", path, key))
			}
			if last {
				c[n] = v
				return
			}
			cur = c[n]
		default:
			panic(fmt.Sprintf("amazontest: set %v: %q is not an object or an array", path, key))
		}
	}
}

// modelExample returns the example body of operation op's 200 answer in an
// SP-API model, the JSON of a Swagger 2.0 file such as
// testdata/spec/orders_2026-01-01.json.
func modelExample(t testing.TB, model []byte, op string) map[string]any {
	t.Helper()
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(model, &spec); err != nil {
		t.Fatalf("amazontest: read model: %v", err)
	}
	for _, methods := range spec.Paths {
		for _, raw := range methods {
			var o struct {
				OperationID string `json:"operationId"`
				Responses   map[string]struct {
					Examples map[string]map[string]any `json:"examples"`
				} `json:"responses"`
			}
			if json.Unmarshal(raw, &o) != nil || o.OperationID != op {
				continue // "parameters" shared by the path's methods, or another operation
			}
			if ex := o.Responses["200"].Examples["application/json"]; ex != nil {
				return ex
			}
			t.Fatalf("amazontest: operation %s has no example 200 answer", op)
		}
	}
	t.Fatalf("amazontest: the model has no operation %s", op)
	return nil
}

// ExampleOrders returns the orders of the example answer of searchOrders
// (model: orders_2026-01-01.json) or getOrders (model: ordersV0.json).
func ExampleOrders(t testing.TB, model []byte, op string) []Order {
	t.Helper()
	ex := modelExample(t, model, op)
	list, _ := ex["orders"].([]any) // searchOrders
	if p, ok := ex["payload"].(map[string]any); ok {
		list, _ = p["Orders"].([]any) // getOrders
	}
	if len(list) == 0 {
		t.Fatalf("amazontest: the example answer of %s has no orders", op)
	}
	out := make([]Order, 0, len(list))
	for _, o := range list {
		m, ok := o.(map[string]any)
		if !ok {
			t.Fatalf("amazontest: an example order of %s is not an object", op)
		}
		out = append(out, Order(m))
	}
	return out
}

// orderDatasets are what searchOrders leaves out unless includedData asks
// for them: their keys in an Order, and in each of its orderItems.
var orderDatasets = map[string]struct{ order, item []string }{
	"BUYER":              {order: []string{"buyer"}},
	"RECIPIENT":          {order: []string{"recipient"}},
	"PROCEEDS":           {order: []string{"proceeds"}, item: []string{"proceeds"}},
	"EXPENSE":            {item: []string{"expense"}},
	"PROMOTION":          {item: []string{"promotion"}},
	"CANCELLATION":       {item: []string{"cancellation"}},
	"FULFILLMENT":        {order: []string{"fulfillment"}, item: []string{"fulfillment"}},
	"PACKAGES":           {order: []string{"packages"}},
	"TAX":                {order: []string{"tax"}, item: []string{"tax"}},
	"PAYMENT":            {order: []string{"payment"}},
	"FULFILLMENT_ORDERS": {order: []string{"fulfillmentOrders"}},
}

// Orders is the fake's Orders API: searchOrders (2026-01-01) and getOrders
// (v0) over lists of orders the test sets, paginated, filtered by their
// last update (or creation) times. It checks the parameters as Amazon
// documents them and answers 400 InvalidInput to a bad request.
type Orders struct {
	// PageSize caps the orders of a page below maxResultsPerPage (Amazon
	// may answer fewer); 0: no cap.
	PageSize int
	// AllData answers every dataset of an order whatever includedData
	// asks for, as a careless server might.
	AllData bool

	mu       sync.Mutex
	orders   []Order // 2026-01-01
	ordersV0 []Order
	queries  map[string][]url.Values
	epoch    int // of the page tokens; ExpireTokens moves it on
}

// ServeOrders registers searchOrders and getOrders on s.
func (s *Server) ServeOrders() *Orders {
	o := &Orders{queries: map[string][]url.Values{}}
	s.Handle("searchOrders", "sp", "GET /orders/2026-01-01/orders", o.searchOrders)
	s.Handle("getOrders", "sp", "GET /orders/v0/orders", o.getOrders)
	return o
}

// Set replaces the orders searchOrders answers from (2026-01-01 orders).
func (o *Orders) Set(orders ...Order) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.orders = slices.Clone(orders)
}

// SetV0 replaces the orders getOrders answers from (v0 orders).
func (o *Orders) SetV0(orders ...Order) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ordersV0 = slices.Clone(orders)
}

// ExpireTokens makes every page token issued so far invalid, as Amazon's
// expire: a request with one gets 400 InvalidInput.
func (o *Orders) ExpireTokens() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.epoch++
}

// Queries returns the query of every call of op ("searchOrders",
// "getOrders") that was not answered with a fault nor refused its access
// token, in order.
func (o *Orders) Queries(op string) []url.Values {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.queries[op])
}

// record notes the query of a call of op and returns it.
func (o *Orders) record(op string, r *http.Request) url.Values {
	q := r.URL.Query()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.queries[op] = append(o.queries[op], q)
	return q
}

// ordersParams are the names of one API's query parameters and order fields.
type ordersParams struct {
	op                          string
	marketplaces                string
	createdAfter, createdBefore string
	updatedAfter, updatedBefore string
	maxResults, token           string
	id, created, updated        string
}

var (
	ordersParams2026 = ordersParams{op: "searchOrders", marketplaces: "marketplaceIds", createdAfter: "createdAfter",
		createdBefore: "createdBefore", updatedAfter: "lastUpdatedAfter", updatedBefore: "lastUpdatedBefore",
		maxResults: "maxResultsPerPage", token: "paginationToken", id: "orderId", created: "createdTime",
		updated: "lastUpdatedTime"}
	ordersParamsV0 = ordersParams{op: "getOrders", marketplaces: "MarketplaceIds", createdAfter: "CreatedAfter",
		createdBefore: "CreatedBefore", updatedAfter: "LastUpdatedAfter", updatedBefore: "LastUpdatedBefore",
		maxResults: "MaxResultsPerPage", token: "NextToken", id: "AmazonOrderId", created: "PurchaseDate",
		updated: "LastUpdateDate"}
)

// searchOrders is GET /orders/2026-01-01/orders.
func (o *Orders) searchOrders(w http.ResponseWriter, r *http.Request) {
	q := o.record(ordersParams2026.op, r)
	included := map[string]bool{}
	for _, v := range csvParam(q["includedData"]) {
		if _, ok := orderDatasets[v]; !ok {
			Error(w, http.StatusBadRequest, "InvalidInput", "Invalid includedData: "+v)
			return
		}
		included[v] = true
	}
	page, next, ok := o.page(w, q, ordersParams2026)
	if !ok {
		return
	}
	orders := make([]Order, 0, len(page))
	for _, ord := range page {
		if !o.AllData {
			ord = withDatasets(ord, included)
		}
		orders = append(orders, ord)
	}
	body := map[string]any{"orders": orders}
	if next != "" {
		body["pagination"] = map[string]any{"nextToken": next}
	}
	if v := q.Get("lastUpdatedBefore"); v != "" {
		body["lastUpdatedBefore"] = v
	}
	JSON(w, http.StatusOK, body)
}

// getOrders is GET /orders/v0/orders.
func (o *Orders) getOrders(w http.ResponseWriter, r *http.Request) {
	q := o.record(ordersParamsV0.op, r)
	page, next, ok := o.page(w, q, ordersParamsV0)
	if !ok {
		return
	}
	payload := map[string]any{"Orders": page}
	if next != "" {
		payload["NextToken"] = next
	}
	if v := q.Get("LastUpdatedBefore"); v != "" {
		payload["LastUpdatedBefore"] = v
	}
	JSON(w, http.StatusOK, map[string]any{"payload": payload})
}

// withDatasets returns ord with the datasets included only: a copy as
// deep as what it leaves out, so that ord itself is not changed.
func withDatasets(ord Order, included map[string]bool) Order {
	out := make(Order, len(ord))
	for k, v := range ord {
		out[k] = v
	}
	items, _ := ord["orderItems"].([]any)
	items = slices.Clone(items)
	for i, it := range items {
		if m, ok := it.(map[string]any); ok {
			c := make(map[string]any, len(m))
			for k, v := range m {
				c[k] = v
			}
			items[i] = c
		}
	}
	if items != nil {
		out["orderItems"] = items
	}
	for name, keys := range orderDatasets {
		if included[name] {
			continue
		}
		for _, k := range keys.order {
			delete(out, k)
		}
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				for _, k := range keys.item {
					delete(m, k)
				}
			}
		}
	}
	return out
}

// page checks a request's parameters and returns its page of orders and
// the token of the next page; it has answered 400 if ok is false.
func (o *Orders) page(w http.ResponseWriter, q url.Values, p ordersParams) (page []Order, next string, ok bool) {
	bad := func(format string, args ...any) ([]Order, string, bool) {
		Error(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf(format, args...))
		return nil, "", false
	}
	if len(csvParam(q[p.marketplaces])) == 0 {
		return bad("%s is required", p.marketplaces)
	}
	created, updated := q.Get(p.createdAfter) != "", q.Get(p.updatedAfter) != ""
	if created == updated {
		return bad("exactly one of %s and %s is required", p.createdAfter, p.updatedAfter)
	}
	if created && q.Get(p.updatedBefore) != "" || updated && q.Get(p.createdBefore) != "" {
		return bad("%s and %s cannot be combined with the other", p.createdBefore, p.updatedBefore)
	}
	field, after, before := p.updated, p.updatedAfter, p.updatedBefore
	if created {
		field, after, before = p.created, p.createdAfter, p.createdBefore
	}
	from, err := time.Parse(time.RFC3339, q.Get(after))
	if err != nil {
		return bad("%s is not an ISO 8601 time", after)
	}
	to := time.Time{}
	if v := q.Get(before); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			return bad("%s is not an ISO 8601 time", before)
		}
		if to.Before(from) {
			return bad("%s is before %s", before, after)
		}
	}
	size := 100
	if v := q.Get(p.maxResults); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 100 {
			return bad("%s must be between 1 and 100", p.maxResults)
		}
	}
	if o.PageSize > 0 {
		size = min(size, o.PageSize)
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	all := o.orders
	if p.op == ordersParamsV0.op {
		all = o.ordersV0
	}
	type timed struct {
		ord Order
		at  time.Time
		id  string
	}
	var match []timed
	for _, ord := range all {
		s, _ := ord[field].(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return bad("the fake's order %v has no %s", ord[p.id], field)
		}
		if !t.Before(from) && (to.IsZero() || !t.After(to)) {
			id, _ := ord[p.id].(string)
			match = append(match, timed{ord, t, id})
		}
	}
	slices.SortFunc(match, func(a, b timed) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.id, b.id)) })
	// A page token holds the offset and the filters it was made for: it
	// only serves a request with the same filters, as Amazon's does, until
	// ExpireTokens.
	filters := fmt.Sprintf("%s.%d", ordersFilterKey(q, p), o.epoch)
	offset := 0
	if tok := q.Get(p.token); tok != "" {
		var ok bool
		if offset, ok = readOrdersToken(tok, filters); !ok || offset > len(match) {
			return bad("Invalid %s", p.token)
		}
	}
	end := min(offset+size, len(match))
	if end < len(match) {
		next = ordersToken(end, filters)
	}
	page = make([]Order, 0, end-offset)
	for _, m := range match[offset:end] {
		page = append(page, m.ord)
	}
	return page, next, true
}

// csvParam splits Amazon's comma-separated array parameters.
func csvParam(vs []string) []string {
	var out []string
	for _, v := range vs {
		for x := range strings.SplitSeq(v, ",") {
			if x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

// ordersFilterKey digests the parameters that choose the orders.
func ordersFilterKey(q url.Values, p ordersParams) string {
	h := sha256.New()
	for _, k := range []string{p.marketplaces, p.createdAfter, p.createdBefore, p.updatedAfter, p.updatedBefore} {
		fmt.Fprintf(h, "%s=%s\n", k, strings.Join(csvParam(q[k]), ","))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func ordersToken(offset int, filters string) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%s", offset, filters))
}

func readOrdersToken(tok, filters string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	n, f, ok := strings.Cut(string(b), ":")
	if !ok || f != filters {
		return 0, false
	}
	offset, err := strconv.Atoi(n)
	return offset, err == nil && offset >= 0
}
