// Package shopifytest is a fake Shopify Admin GraphQL API on 127.0.0.1
// for the connector's tests. It checks the access token and the API
// version in the path, answers the orders query from the orders a test
// sets, charges each query's cost to a leaky bucket on the test's clock,
// throttles as Shopify does (HTTP 200 with a THROTTLED error, or HTTP 429
// with Retry-After, as the test chooses) and injects the faults a test
// asks for.
//
// It is not a GraphQL server: it reads first, after and query from the
// request's variables, and answers the fields the connector asks for. The
// orders it keeps carry customer names, e-mails, phones and addresses; it
// answers one only if the query text names its field, so a test can tell
// whether the connector asks for them.
package shopifytest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/shopify"
)

// What the fake accepts.
const (
	Store   = "kpibot-test"
	Token   = "shpat_fake0token0never0logged0000"
	Version = shopify.DefaultAPIVersion
)

// The bucket of a shop on Shopify's standard plans.
const (
	MaximumAvailable = 2000.0
	RestoreRate      = 100.0 // points a second
)

// Customer is a shop's customer, with the personal data the connector
// must never ask for.
type Customer struct {
	ID        string // gid://shopify/Customer/…
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Address   string
}

// Fulfillment is a shipment of some of an order's items.
type Fulfillment struct {
	ID          string // gid://shopify/Fulfillment/…
	Status      string // "": SUCCESS
	CreatedAt   time.Time
	DeliveredAt time.Time // zero: null
	Quantity    int
	Company     string // the tracking company; "" with Number "": no tracking info
	Number      string
}

// Return is a return of some of an order's items.
type Return struct {
	ID        string // gid://shopify/Return/…
	Status    string
	CreatedAt time.Time // zero: null
	Quantity  int
}

// Order is an order as the fake keeps it.
type Order struct {
	ID                string // gid://shopify/Order/…
	Name              string // #1001
	CreatedAt         time.Time
	UpdatedAt         time.Time
	CancelledAt       time.Time // zero: null
	FinancialStatus   string    // PAID, PENDING …
	FulfillmentStatus string    // UNFULFILLED, FULFILLED …
	Quantity          int
	Total             string // "1980.0"
	Currency          string // "": JPY
	Email             string
	Phone             string
	ShippingAddress   string
	Customer          *Customer // nil: a guest without an account
	Fulfillments      []Fulfillment
	Returns           []Return
}

// Fault is what the fake answers instead of the query, once.
type Fault struct {
	Status int           // an HTTP status; its body is Body, or Shopify's for the status
	Body   string        //
	Delay  time.Duration // wait this long first, or until the client gives up (a timeout)
	Drop   bool          // close the connection without an answer
}

// Request is a query the fake answered (faults, refusals and throttles
// left out).
type Request struct {
	Query  string // the GraphQL text
	First  int
	After  string
	Filter string // the query variable: "updated_at:>='…'"
	Cost   Cost   // what the fake answered in extensions.cost
}

// Cost is an answer's extensions.cost.
type Cost struct {
	Requested, Actual float64
	Available         float64 // currentlyAvailable after the query
}

// Server is the fake.
type Server struct {
	URL string

	now func() time.Time
	srv *httptest.Server

	mu        sync.Mutex
	orders    map[string]Order
	faults    []Fault
	calls     int
	requests  []Request
	throttles int
	mode429   bool
	nodeCost  float64
	available float64
	at        time.Time
}

// New starts a fake that stops when the test ends. now is the clock its
// bucket fills by (nil: time.Now); share it with the client's Sleep to
// make waits instant.
func New(t testing.TB, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{now: now, orders: map[string]Order{}, nodeCost: 21, available: MaximumAvailable, at: now()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/api/{version}/graphql.json", s.graphql)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Config returns a client config pointed at the fake.
func (s *Server) Config() shopify.Config {
	return shopify.Config{Store: Store, AccessToken: Token, Endpoint: s.URL}
}

// Set adds orders, or replaces those with the same id.
func (s *Server) Set(orders ...Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range orders {
		s.orders[o.ID] = o
	}
}

// Fail queues faults: the next calls get them, one each, in order.
func (s *Server) Fail(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// Throttle429 makes the fake throttle with HTTP 429 and Retry-After
// instead of HTTP 200 and a THROTTLED error.
func (s *Server) Throttle429(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode429 = on
}

// SetAvailable sets the points in the bucket now.
func (s *Server) SetAvailable(points float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.available, s.at = points, s.now()
}

// SetNodeCost sets what an order node costs; 21 by default, what
// Shopify's rules give the connector's selection.
func (s *Server) SetNodeCost(points float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodeCost = points
}

// Calls returns how many calls the fake got, faults included.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Throttles returns how many calls the fake throttled.
func (s *Server) Throttles() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttles
}

// Requests returns the queries the fake answered, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

var (
	// filterRE is the search filter the fake understands.
	filterRE = regexp.MustCompile(`^updated_at:(>=?)'([^']+)'$`)
	ordersRE = regexp.MustCompile(`\borders\s*\(`)
	shopRE   = regexp.MustCompile(`\bshop\s*\{\s*name\s*\}`)
)

// ShopName is the shop's name the fake answers { shop { name } } with.
const ShopName = "kpibot テストショップ"

// shop answers the query of the shop's name, at its cost of 1 point.
func (s *Server) shop(w http.ResponseWriter, query string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.available = round3(min(MaximumAvailable, s.available+RestoreRate*max(now.Sub(s.at).Seconds(), 0)))
	s.at = now
	s.available = round3(max(s.available-1, 0))
	s.requests = append(s.requests, Request{Query: query, Cost: Cost{Requested: 1, Actual: 1, Available: s.available}})
	writeJSON(w, http.StatusOK, map[string]any{
		"data":       map[string]any{"shop": map[string]any{"name": ShopName}},
		"extensions": map[string]any{"cost": map[string]any{"requestedQueryCost": 1, "actualQueryCost": 1, "throttleStatus": s.status()}},
	})
}

func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	// The whole body is read first: then the server notices a client that
	// gives up during a fault's delay.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if s.fault(w, r) {
		return
	}
	if r.PathValue("version") != Version {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != Token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
		return
	}
	var req struct {
		Query     string `json:"query"`
		Variables struct {
			First *int    `json:"first"`
			After *string `json:"after"`
			Query *string `json:"query"`
		} `json:"variables"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "Bad Request: " + err.Error()})
		return
	}
	if shopRE.MatchString(req.Query) && !ordersRE.MatchString(req.Query) {
		s.shop(w, req.Query)
		return
	}
	v := req.Variables
	switch {
	case !ordersRE.MatchString(req.Query):
		gqlError(w, "the fake answers the orders and shop queries only", "")
		return
	case v.First == nil || v.Query == nil:
		gqlError(w, "the fake reads first, after and query from the variables", "")
		return
	case *v.First < 1 || *v.First > 250:
		gqlError(w, "The page size must be between 1 and 250", "BAD_USER_INPUT")
		return
	}
	after := ""
	if v.After != nil {
		after = *v.After
	}
	since, inclusive, ok := parseFilter(*v.Query)
	if !ok {
		gqlError(w, fmt.Sprintf("the fake cannot read the search filter %q", *v.Query), "")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	requested := 2 + float64(*v.First)*s.nodeCost
	now := s.now()
	s.available = round3(min(MaximumAvailable, s.available+RestoreRate*max(now.Sub(s.at).Seconds(), 0)))
	s.at = now
	if requested > s.available+1e-6 {
		s.throttles++
		cost := map[string]any{"requestedQueryCost": requested, "actualQueryCost": nil, "throttleStatus": s.status()}
		throttledBody := map[string]any{
			"errors": []any{map[string]any{"message": "Throttled", "extensions": map[string]any{
				"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
		}
		if s.mode429 {
			secs := math.Ceil((requested - s.available) / RestoreRate)
			w.Header().Set("Retry-After", fmt.Sprint(secs))
			writeJSON(w, http.StatusTooManyRequests, throttledBody)
			return
		}
		throttledBody["extensions"] = map[string]any{"cost": cost}
		writeJSON(w, http.StatusOK, throttledBody)
		return
	}

	list := s.sorted(since, inclusive)
	start := 0
	if after != "" {
		pos, ok := decodeCursor(after)
		if !ok {
			gqlError(w, "Invalid cursor for current pagination sort.", "BAD_USER_INPUT")
			return
		}
		start = len(list)
		for i, o := range list {
			if orderKey(o).after(pos) {
				start = i
				break
			}
		}
	}
	end := min(start+*v.First, len(list))
	page := list[start:end]
	nodes := make([]any, 0, len(page))
	for _, o := range page {
		nodes = append(nodes, node(o, req.Query))
	}
	endCursor := any(nil)
	if len(page) > 0 {
		endCursor = orderKey(page[len(page)-1]).encode()
	}
	actual := 2 + float64(len(page))*s.nodeCost
	s.available = round3(max(s.available-actual, 0))
	s.requests = append(s.requests, Request{Query: req.Query, First: *v.First, After: after, Filter: *v.Query,
		Cost: Cost{Requested: requested, Actual: actual, Available: s.available}})
	writeJSON(w, http.StatusOK, map[string]any{
		"data": map[string]any{"orders": map[string]any{
			"pageInfo": map[string]any{"hasNextPage": end < len(list), "endCursor": endCursor},
			"nodes":    nodes,
		}},
		"extensions": map[string]any{"cost": map[string]any{
			"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": s.status(),
		}},
	})
}

// status is the bucket's throttleStatus.
func (s *Server) status() map[string]any {
	return map[string]any{"maximumAvailable": MaximumAvailable, "currentlyAvailable": s.available, "restoreRate": RestoreRate}
}

// sorted returns the orders updated since (at or after, if inclusive),
// oldest update first.
func (s *Server) sorted(since time.Time, inclusive bool) []Order {
	var list []Order
	for _, o := range s.orders {
		if o.UpdatedAt.After(since) || inclusive && o.UpdatedAt.Equal(since) {
			list = append(list, o)
		}
	}
	slices.SortFunc(list, func(a, b Order) int { return orderKey(a).compare(orderKey(b)) })
	return list
}

// fault answers the next queued fault, if there is one.
func (s *Server) fault(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.calls++
	var f Fault
	queued := len(s.faults) > 0
	if queued {
		f, s.faults = s.faults[0], s.faults[1:]
	}
	s.mu.Unlock()
	if !queued {
		return false
	}
	if f.Delay > 0 {
		// Waits less if the client gives up first.
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case f.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return true
	case f.Status == 0:
		return false // a delay alone
	case f.Body != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		fmt.Fprint(w, f.Body)
		return true
	}
	switch f.Status {
	case http.StatusUnauthorized:
		writeJSON(w, f.Status, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
	case http.StatusForbidden:
		writeJSON(w, f.Status, map[string]any{"errors": "This action requires merchant approval for read_orders scope."})
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "2")
		writeJSON(w, f.Status, map[string]any{"errors": []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED"}}}})
	default:
		writeJSON(w, f.Status, map[string]any{"errors": []any{map[string]any{
			"message": "Internal error. Looks like something went wrong on our end.", "extensions": map[string]any{"code": "INTERNAL_SERVER_ERROR"}}}})
	}
	return true
}

// node is o as the orders query's answer has it. A field of personal data
// is there only if the query names it.
func node(o Order, query string) map[string]any {
	asks := func(field string) bool { return regexp.MustCompile(`\b` + field + `\b`).MatchString(query) }
	n := map[string]any{
		"id":                        o.ID,
		"name":                      o.Name,
		"createdAt":                 timeOrNull(o.CreatedAt),
		"updatedAt":                 timeOrNull(o.UpdatedAt),
		"cancelledAt":               timeOrNull(o.CancelledAt),
		"displayFinancialStatus":    o.FinancialStatus,
		"displayFulfillmentStatus":  o.FulfillmentStatus,
		"subtotalLineItemsQuantity": o.Quantity,
		"currentTotalPriceSet": map[string]any{"shopMoney": map[string]any{
			"amount": o.Total, "currencyCode": cmp.Or(o.Currency, "JPY")}},
		"customer": nil,
	}
	for field, value := range map[string]string{"email": o.Email, "phone": o.Phone, "shippingAddress": o.ShippingAddress, "billingAddress": o.ShippingAddress} {
		if asks(field) {
			n[field] = value
		}
	}
	if c := o.Customer; c != nil {
		cust := map[string]any{"id": c.ID}
		for field, value := range map[string]string{"firstName": c.FirstName, "lastName": c.LastName,
			"displayName": c.FirstName + " " + c.LastName, "email": c.Email, "phone": c.Phone, "defaultAddress": c.Address} {
			if asks(field) {
				cust[field] = value
			}
		}
		n["customer"] = cust
	}
	fulfillments := []any{}
	for _, f := range o.Fulfillments {
		tracking := []any{}
		if f.Company != "" || f.Number != "" {
			tracking = append(tracking, map[string]any{"company": f.Company, "number": f.Number})
		}
		fulfillments = append(fulfillments, map[string]any{
			"id": f.ID, "status": cmp.Or(f.Status, "SUCCESS"), "createdAt": timeOrNull(f.CreatedAt),
			"deliveredAt": timeOrNull(f.DeliveredAt), "totalQuantity": f.Quantity, "trackingInfo": tracking,
		})
	}
	n["fulfillments"] = fulfillments
	returns := []any{}
	for _, r := range o.Returns {
		returns = append(returns, map[string]any{"id": r.ID, "status": r.Status, "createdAt": timeOrNull(r.CreatedAt), "totalQuantity": r.Quantity})
	}
	n["returns"] = map[string]any{"nodes": returns}
	return n
}

// parseFilter reads a search filter of the form the fake understands.
func parseFilter(q string) (since time.Time, inclusive, ok bool) {
	m := filterRE.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		return time.Time{}, false, false
	}
	t, err := time.Parse(time.RFC3339, m[2])
	if err != nil {
		return time.Time{}, false, false
	}
	return t, m[1] == ">=", true
}

// key is an order's place in the sort by update: its update, then its id
// (shorter numbers first).
type key struct {
	Updated time.Time `json:"u"`
	ID      string    `json:"id"`
}

func orderKey(o Order) key { return key{Updated: o.UpdatedAt, ID: o.ID} }

func (k key) compare(o key) int {
	return cmp.Or(k.Updated.Compare(o.Updated), cmp.Compare(len(k.ID), len(o.ID)), strings.Compare(k.ID, o.ID))
}

func (k key) after(o key) bool { return k.compare(o) > 0 }

// encode is the page cursor after k: opaque to clients, as Shopify's.
func (k key) encode() string {
	b, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (key, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return key{}, false
	}
	var k key
	if json.Unmarshal(b, &k) != nil || k.ID == "" {
		return key{}, false
	}
	return k, true
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// gqlError answers a GraphQL error with HTTP 200, as Shopify does.
func gqlError(w http.ResponseWriter, message, code string) {
	e := map[string]any{"message": message}
	if code != "" {
		e["extensions"] = map[string]any{"code": code}
	}
	writeJSON(w, http.StatusOK, map[string]any{"errors": []any{e}})
}
