// Package rakutentest is a fake RMS RakutenPay order API on 127.0.0.1 for
// the connector's tests: searchOrder and getOrder as RMS documents them,
// answering with the orders a test sets. It checks what RMS checks (the
// ESA credentials, a window of at most 63 days, at most 1,000 orders a
// page and 100 a getOrder call), counts the requests in each second of a
// test's clock, and injects the faults a test asks for.
//
// The order API's own errors (MessageModelList, messageCode
// ORDER_EXT_API_…) are as RMS documents them. RMS does not document the
// API gateway's: a 401 is answered {"Results": {"errorCode": "ES01-01",
// "message": "Un-Authorised"}} as RMS has been seen to, and the other
// faults in the same shape with codes made up here (RAKUTENTEST_429 …).
// A request that breaks RMS's rules is answered 400 with a RAKUTENTEST_
// code and fails the test, unless the test takes it with Violations.
package rakutentest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten"
)

// The credentials the fake accepts.
const (
	ServiceSecret = "SP338411_fake-service-secret-never-logged"
	LicenseKey    = "SL338411_fake-license-key-never-logged"
)

// Fault is what the fake answers instead of the real thing, once.
type Fault struct {
	Status int    // an HTTP status
	Body   string // the answer's JSON; "": the gateway's error for Status
	// Delay is a wait before answering (beyond a client's timeout: a
	// timeout). With Status 0 the fake then answers as usual. The wait
	// ends early when the client gives up; when the fake closes (the test
	// ends), the request is dropped unanswered, so that a long Delay never
	// holds the test's end.
	Delay time.Duration
}

// ExpiredKey is RMS's answer to an expired or wrong license key.
var ExpiredKey = Fault{Status: http.StatusUnauthorized}

// Search is a searchOrder request the fake answered.
type Search struct {
	DateType   int
	Start, End time.Time
	Page       int
	PerPage    int
}

// Server is the fake.
type Server struct {
	URL string

	t      testing.TB
	srv    *httptest.Server
	closed chan struct{} // closed when the fake closes: delays end

	mu         sync.Mutex
	clock      func() time.Time           // when a request comes; nil: time.Now
	maxResults int                        // how many orders a search can reach
	pageSize   int                        // the most orders a page answers; 0: as asked
	orders     []entry                    // by order date, then number
	byNumber   map[string]json.RawMessage // the orders' JSON
	faults     map[string][]Fault
	calls      map[string]int
	times      []time.Time // of every request, by Clock
	searches   []Search
	batches    [][]string // getOrder's order number lists answered
	violations []string
}

type entry struct {
	number string
	placed time.Time
}

// New starts a fake that stops when the test ends; the test fails if a
// request broke RMS's rules.
func New(t testing.TB) *Server {
	s := &Server{t: t, closed: make(chan struct{}), maxResults: 15000, byNumber: map[string]json.RawMessage{}, faults: map[string][]Fault{},
		calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /es/2.0/order/searchOrder/", s.handle("searchOrder", s.searchOrder))
	mux.HandleFunc("POST /es/2.0/order/getOrder/", s.handle("getOrder", s.getOrder))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(func() {
		close(s.closed) // before Close, which waits for the requests held
		s.srv.Close()
		for _, v := range s.Violations() {
			t.Errorf("rakutentest: %s", v)
		}
	})
	return s
}

// Config returns a client config pointed at the fake.
func (s *Server) Config() rakuten.Config {
	return rakuten.Config{ServiceSecret: ServiceSecret, LicenseKey: LicenseKey, Endpoint: s.URL}
}

// SetClock makes now the clock by which the fake tells when a request
// comes, for MaxPerSecond: the test's clock. Without it, time.Now.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = now
}

// SetMaxResults sets how many orders a search can reach: the later ones
// cannot be paged to. RMS: 15,000.
func (s *Server) SetMaxResults(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxResults = n
}

// SetPageSize makes the fake answer at most n orders a page, fewer than
// a client asks for: a test pages through fewer orders.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// now is the time by the test's clock.
func (s *Server) now() time.Time {
	s.mu.Lock()
	clock := s.clock
	s.mu.Unlock()
	if clock == nil {
		return time.Now()
	}
	return clock()
}

// Set makes orders the fake's orders, replacing any before.
func (s *Server) Set(orders ...Order) {
	s.t.Helper()
	list := make([]entry, 0, len(orders))
	by := make(map[string]json.RawMessage, len(orders))
	for _, o := range orders {
		placed, err := o.placed()
		if err != nil || o.number() == "" {
			s.t.Fatalf("rakutentest: an order without an orderNumber or an orderDatetime: %v", err)
		}
		data, err := json.Marshal(o)
		if err != nil {
			s.t.Fatalf("rakutentest: order %s: %v", o.number(), err)
		}
		list = append(list, entry{number: o.number(), placed: placed})
		by[o.number()] = data
	}
	slices.SortFunc(list, func(a, b entry) int {
		return cmp.Or(a.placed.Compare(b.placed), strings.Compare(a.number, b.number))
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders, s.byNumber = list, by
}

// Fail queues faults for operation op ("searchOrder", "getOrder"): its
// next calls get them, one each, in order.
func (s *Server) Fail(op string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], faults...)
}

// Calls returns how many times op was called, faults included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Searches returns the searchOrder requests answered, faults left out.
func (s *Server) Searches() []Search {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.searches)
}

// Batches returns the order number lists of the getOrder requests
// answered, faults left out.
func (s *Server) Batches() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

// MaxPerSecond returns the most requests, of any operation and faults
// included, that came within one second of the test's clock (SetClock).
func (s *Server) MaxPerSecond() int {
	s.mu.Lock()
	times := slices.Clone(s.times)
	s.mu.Unlock()
	slices.SortFunc(times, time.Time.Compare)
	most := 0
	for i, t := range times {
		n := 0
		for _, u := range times[i:] {
			if u.Sub(t) >= time.Second {
				break
			}
			n++
		}
		most = max(most, n)
	}
	return most
}

// Violations returns the broken rules seen so far and forgets them: the
// test no longer fails for them.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

// handle serves op: counts the call, answers its next fault if one is
// queued, checks the credentials, and passes the body on to h.
func (s *Server) handle(op string, h func(w http.ResponseWriter, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.now()
		s.mu.Lock()
		s.calls[op]++
		s.times = append(s.times, now)
		s.mu.Unlock()
		// Read first: the server notices a client that gives up (its
		// request's context ends) only once the body is read.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if s.fault(w, r, op) {
			return
		}
		auth := "ESA " + base64.StdEncoding.EncodeToString([]byte(ServiceSecret+":"+LicenseKey))
		if r.Header.Get("Authorization") != auth {
			gatewayError(w, http.StatusUnauthorized, "ES01-01", "Un-Authorised")
			return
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			s.violate(w, op, "Content-Type %q, want application/json; charset=utf-8", ct)
			return
		}
		h(w, body)
	}
}

// fault answers the next queued fault of op, if there is one.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, op string) bool {
	s.mu.Lock()
	var f Fault
	queued := len(s.faults[op]) > 0
	if queued {
		f, s.faults[op] = s.faults[op][0], s.faults[op][1:]
	}
	s.mu.Unlock()
	if !queued {
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done(): // the client gave up
			t.Stop()
		case <-s.closed:
			t.Stop()
			panic(http.ErrAbortHandler) // the connection is dropped, unanswered
		}
	}
	switch {
	case f.Status == 0:
		return false
	case f.Body != "":
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(f.Status)
		io.WriteString(w, f.Body)
	case f.Status == http.StatusUnauthorized || f.Status == http.StatusForbidden:
		gatewayError(w, f.Status, "ES01-01", "Un-Authorised")
	default:
		gatewayError(w, f.Status, "RAKUTENTEST_"+strconv.Itoa(f.Status), http.StatusText(f.Status))
	}
	return true
}

// violate records a broken rule and answers it 400.
func (s *Server) violate(w http.ResponseWriter, op, format string, args ...any) {
	v := op + ": " + fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.violations = append(s.violations, v)
	s.mu.Unlock()
	Error(w, http.StatusBadRequest, "RAKUTENTEST_BAD_REQUEST", v)
}

// The order API's message codes, as RMS documents them.
const (
	searchFound    = "ORDER_EXT_API_SEARCH_ORDER_INFO_101"
	searchNone     = "ORDER_EXT_API_SEARCH_ORDER_INFO_102"
	searchRequired = "ORDER_EXT_API_SEARCH_ORDER_ERROR_009"
	searchFormat   = "ORDER_EXT_API_SEARCH_ORDER_ERROR_011"
	getFound       = "ORDER_EXT_API_GET_ORDER_INFO_101"
	getRequired    = "ORDER_EXT_API_GET_ORDER_ERROR_009"
)

// searchOrder lists the numbers of the orders placed in a window.
func (s *Server) searchOrder(w http.ResponseWriter, body []byte) {
	const op = "searchOrder"
	var req struct {
		DateType      *int   `json:"dateType"`
		StartDatetime string `json:"startDatetime"`
		EndDatetime   string `json:"endDatetime"`
		Pagination    *struct {
			RequestRecordsAmount int `json:"requestRecordsAmount"`
			RequestPage          int `json:"requestPage"`
			SortModelList        []struct {
				SortColumn    int `json:"sortColumn"`
				SortDirection int `json:"sortDirection"`
			} `json:"SortModelList"`
		} `json:"PaginationRequestModel"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.violate(w, op, "the body is not the request's JSON: %v", err)
		return
	}
	if req.DateType == nil {
		Error(w, http.StatusBadRequest, searchRequired, "dateType is required")
		return
	}
	start, err := time.Parse(timeLayout, req.StartDatetime)
	if err != nil {
		Error(w, http.StatusBadRequest, searchFormat, "startDatetime is malformed")
		return
	}
	end, err := time.Parse(timeLayout, req.EndDatetime)
	if err != nil {
		Error(w, http.StatusBadRequest, searchFormat, "endDatetime is malformed")
		return
	}
	now := s.now()
	p := req.Pagination
	switch {
	case *req.DateType != 1:
		s.violate(w, op, "dateType %d: the fake serves dateType 1 (order date) only", *req.DateType)
		return
	case end.Before(start):
		s.violate(w, op, "endDatetime %s before startDatetime %s", req.EndDatetime, req.StartDatetime)
		return
	case end.Sub(start) > 63*24*time.Hour:
		s.violate(w, op, "a window of %v: more than 63 days", end.Sub(start))
		return
	case start.Before(now.AddDate(0, 0, -730)):
		s.violate(w, op, "startDatetime %s: more than 730 days ago", req.StartDatetime)
		return
	case p == nil:
		s.violate(w, op, "no PaginationRequestModel: RMS would answer 30 orders a page")
		return
	case p.RequestRecordsAmount < 1 || p.RequestRecordsAmount > 1000:
		s.violate(w, op, "requestRecordsAmount %d: RMS takes 1 to 1000", p.RequestRecordsAmount)
		return
	case p.RequestPage < 1:
		s.violate(w, op, "requestPage %d", p.RequestPage)
		return
	}
	ascending := len(p.SortModelList) > 0 && p.SortModelList[0].SortColumn == 1 && p.SortModelList[0].SortDirection == 1

	s.mu.Lock()
	s.searches = append(s.searches, Search{DateType: *req.DateType, Start: start, End: end, Page: p.RequestPage, PerPage: p.RequestRecordsAmount})
	var found []string
	for _, o := range s.orders {
		if !o.placed.Before(start) && !o.placed.After(end) {
			found = append(found, o.number)
		}
	}
	s.mu.Unlock()
	if !ascending {
		slices.Reverse(found)
	}
	if len(found) == 0 {
		JSON(w, http.StatusOK, map[string]any{
			"orderNumberList":         []string{},
			"MessageModelList":        []map[string]string{{"messageType": "INFO", "messageCode": searchNone, "message": "no orders found"}},
			"PaginationResponseModel": map[string]any{"totalRecordsAmount": nil, "totalPages": nil, "requestPage": nil},
		})
		return
	}
	s.mu.Lock()
	reachable := found[:min(len(found), s.maxResults)]
	size := p.RequestRecordsAmount
	if s.pageSize > 0 {
		size = min(size, s.pageSize)
	}
	s.mu.Unlock()
	pages := (len(reachable) + size - 1) / size
	from := min((p.RequestPage-1)*size, len(reachable))
	JSON(w, http.StatusOK, map[string]any{
		"orderNumberList":         reachable[from:min(from+size, len(reachable))],
		"MessageModelList":        []map[string]string{{"messageType": "INFO", "messageCode": searchFound, "message": "orders found"}},
		"PaginationResponseModel": map[string]any{"totalRecordsAmount": len(found), "totalPages": pages, "requestPage": p.RequestPage},
	})
}

// getOrder answers the orders asked for that the fake has, in the order
// asked.
func (s *Server) getOrder(w http.ResponseWriter, body []byte) {
	const op = "getOrder"
	var req struct {
		OrderNumberList []string `json:"orderNumberList"`
		Version         *int     `json:"version"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.violate(w, op, "the body is not the request's JSON: %v", err)
		return
	}
	switch {
	case len(req.OrderNumberList) == 0:
		Error(w, http.StatusBadRequest, getRequired, "orderNumberList is required")
		return
	case req.Version == nil:
		Error(w, http.StatusBadRequest, getRequired, "version is required")
		return
	case len(req.OrderNumberList) > 100:
		s.violate(w, op, "%d order numbers: RMS takes at most 100", len(req.OrderNumberList))
		return
	case *req.Version < 3 || *req.Version > 10:
		s.violate(w, op, "version %d: RMS documents 3 to 10", *req.Version)
		return
	}
	s.mu.Lock()
	s.batches = append(s.batches, slices.Clone(req.OrderNumberList))
	orders := []json.RawMessage{}
	for _, n := range req.OrderNumberList {
		if o, ok := s.byNumber[n]; ok {
			orders = append(orders, o)
		}
	}
	s.mu.Unlock()
	JSON(w, http.StatusOK, map[string]any{
		"MessageModelList": []map[string]string{{"messageType": "INFO", "messageCode": getFound,
			"message": fmt.Sprintf("order information read (%d)", len(orders))}},
		"OrderModelList": orders,
		"version":        *req.Version,
	})
}

const timeLayout = "2006-01-02T15:04:05-0700"

// JSON writes v as a JSON answer.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Error writes the order API's error answer: a MessageModelList with one
// ERROR.
func Error(w http.ResponseWriter, status int, code, message string) {
	JSON(w, status, map[string]any{
		"MessageModelList": []map[string]string{{"messageType": "ERROR", "messageCode": code, "message": message}},
	})
}

// gatewayError writes the API gateway's error answer.
func gatewayError(w http.ResponseWriter, status int, code, message string) {
	JSON(w, status, map[string]any{"Results": map[string]string{"errorCode": code, "message": message}})
}
