package rakutentest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
)

var now = time.Date(2026, 3, 20, 12, 0, 0, 0, time.FixedZone("JST", 9*60*60))

// post sends body to the fake's op with the credentials it accepts, or
// auth, and returns the status and the decoded answer.
func post(t *testing.T, s *rakutentest.Server, op, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/es/2.0/order/"+op+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth == "" {
		auth = "ESA " + base64.StdEncoding.EncodeToString([]byte(rakutentest.ServiceSecret+":"+rakutentest.LicenseKey))
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s answered %s: %v", op, data, err)
	}
	return res.StatusCode, out
}

// search is a searchOrder request body.
func search(start, end time.Time, amount, page, direction int) string {
	return fmt.Sprintf(`{"dateType": 1, "startDatetime": %q, "endDatetime": %q, "PaginationRequestModel":
		{"requestRecordsAmount": %d, "requestPage": %d, "SortModelList": [{"sortColumn": 1, "sortDirection": %d}]}}`,
		rakutentest.Time(start), rakutentest.Time(end), amount, page, direction)
}

// code returns the first messageCode of an answer, or the gateway's
// errorCode.
func code(out map[string]any) string {
	if l, ok := out["MessageModelList"].([]any); ok && len(l) > 0 {
		return l[0].(map[string]any)["messageCode"].(string)
	}
	if r, ok := out["Results"].(map[string]any); ok {
		return r["errorCode"].(string)
	}
	return ""
}

func TestFakeChecksRequests(t *testing.T) {
	s := rakutentest.New(t)
	s.SetClock(func() time.Time { return now })
	s.Set(rakutentest.NewOrder("338411-20260319-0000000001", now.Add(-24*time.Hour)))
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprintf("338411-20260319-%010d", i+1))
	}
	tests := []struct {
		name      string
		op, auth  string
		body      string
		status    int
		code      string
		violation string // "": none
	}{
		{name: "a wrong key", op: "searchOrder", auth: "ESA " + base64.StdEncoding.EncodeToString([]byte("x:y")),
			body: search(now.Add(-time.Hour), now, 1000, 1, 1), status: 401, code: "ES01-01"},
		{name: "no dateType", op: "searchOrder", body: `{"startDatetime": "2026-03-01T00:00:00+0900"}`,
			status: 400, code: "ORDER_EXT_API_SEARCH_ORDER_ERROR_009"},
		{name: "an RFC 3339 time", op: "searchOrder", body: `{"dateType": 1, "startDatetime": "2026-03-01T00:00:00+09:00",
			"endDatetime": "2026-03-02T00:00:00+09:00"}`, status: 400, code: "ORDER_EXT_API_SEARCH_ORDER_ERROR_011"},
		{name: "63 days", op: "searchOrder", body: search(now.Add(-63*24*time.Hour), now, 1000, 1, 1), status: 200,
			code: "ORDER_EXT_API_SEARCH_ORDER_INFO_101"},
		{name: "63 days and a second", op: "searchOrder", body: search(now.Add(-63*24*time.Hour-time.Second), now, 1000, 1, 1),
			status: 400, violation: "more than 63 days"},
		{name: "1001 a page", op: "searchOrder", body: search(now.Add(-time.Hour), now, 1001, 1, 1), status: 400,
			violation: "requestRecordsAmount 1001"},
		{name: "no pagination", op: "searchOrder", body: fmt.Sprintf(`{"dateType": 1, "startDatetime": %q, "endDatetime": %q}`,
			rakutentest.Time(now.Add(-time.Hour)), rakutentest.Time(now)), status: 400, violation: "no PaginationRequestModel"},
		{name: "more than 730 days ago", op: "searchOrder", body: search(now.Add(-731*24*time.Hour), now.Add(-700*24*time.Hour), 1000, 1, 1),
			status: 400, violation: "more than 730 days ago"},
		{name: "100 orders", op: "getOrder", body: `{"orderNumberList": [` + strings.Join(many[:100], ",") + `], "version": 10}`,
			status: 200, code: "ORDER_EXT_API_GET_ORDER_INFO_101"},
		{name: "101 orders", op: "getOrder", body: `{"orderNumberList": [` + strings.Join(many, ",") + `], "version": 10}`,
			status: 400, violation: "101 order numbers"},
		{name: "no version", op: "getOrder", body: `{"orderNumberList": ["338411-20260319-0000000001"]}`,
			status: 400, code: "ORDER_EXT_API_GET_ORDER_ERROR_009"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := post(t, s, tt.op, tt.auth, tt.body)
			v := s.Violations()
			if status != tt.status {
				t.Errorf("status %d, want %d: %v", status, tt.status, out)
			}
			if tt.code != "" && code(out) != tt.code {
				t.Errorf("code %q, want %q: %v", code(out), tt.code, out)
			}
			if tt.violation == "" && len(v) != 0 || tt.violation != "" && (len(v) != 1 || !strings.Contains(v[0], tt.violation)) {
				t.Errorf("violations %q, want %q", v, tt.violation)
			}
		})
	}
}

func TestFakePagesAndCounts(t *testing.T) {
	s := rakutentest.New(t)
	clock := now
	s.SetClock(func() time.Time { return clock })
	var orders []rakutentest.Order
	for i := range 25 {
		orders = append(orders, rakutentest.NewOrder(fmt.Sprintf("338411-20260319-%010d", i+1), now.Add(-time.Duration(25-i)*time.Hour)))
	}
	s.Set(orders...)

	var got []string
	for page := 1; page <= 3; page++ {
		_, out := post(t, s, "searchOrder", "", search(now.Add(-48*time.Hour), now, 10, page, 2))
		p := out["PaginationResponseModel"].(map[string]any)
		if p["totalRecordsAmount"] != 25.0 || p["totalPages"] != 3.0 || p["requestPage"] != float64(page) {
			t.Errorf("page %d: PaginationResponseModel %v, want 25 orders in 3 pages", page, p)
		}
		for _, n := range out["orderNumberList"].([]any) {
			got = append(got, n.(string))
		}
		clock = clock.Add(400 * time.Millisecond)
	}
	want := make([]string, 25) // newest first, as asked
	for i := range want {
		want[i] = fmt.Sprintf("338411-20260319-%010d", 25-i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages listed %v, want %v", got, want)
	}
	// Three requests 400 ms apart: at most three in a second.
	if got := s.MaxPerSecond(); got != 3 {
		t.Errorf("MaxPerSecond = %d, want 3", got)
	}

	_, out := post(t, s, "searchOrder", "", search(now.Add(-10*24*time.Hour), now.Add(-9*24*time.Hour), 10, 1, 1))
	if code(out) != "ORDER_EXT_API_SEARCH_ORDER_INFO_102" || len(out["orderNumberList"].([]any)) != 0 ||
		out["PaginationResponseModel"].(map[string]any)["totalPages"] != nil {
		t.Errorf("a search without results answered %v", out)
	}

	_, out = post(t, s, "getOrder", "", `{"orderNumberList": ["338411-20260319-0000000003", "338411-20260319-0000000099"], "version": 10}`)
	list := out["OrderModelList"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["orderNumber"] != "338411-20260319-0000000003" {
		t.Errorf("getOrder answered %v, want the one order it has", list)
	}
	if got := s.Batches(); len(got) != 1 || len(got[0]) != 2 {
		t.Errorf("Batches = %v, want the one getOrder call", got)
	}
}

// A request held by a Delay, from a client that never gives up, is dropped
// unanswered when the fake closes: the test's end does not wait for it.
func TestFakeDropsHeldRequestsAtClose(t *testing.T) {
	done := make(chan error, 1)
	began := time.Now()
	t.Run("held", func(t *testing.T) {
		s := rakutentest.New(t)
		s.Fail("searchOrder", rakutentest.Fault{Delay: time.Hour})
		body := search(now.Add(-time.Hour), now, 10, 1, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/es/2.0/order/searchOrder/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			res, err := http.DefaultClient.Do(req) // no timeout
			if err == nil {
				res.Body.Close()
				err = fmt.Errorf("answered %s", res.Status)
			}
			done <- err
		}()
		for s.Calls("searchOrder") == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}) // the fake closes here
	select {
	case err := <-done:
		if strings.HasPrefix(err.Error(), "answered") {
			t.Errorf("the held request was %s, want it dropped", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the held request still open 5 s after the fake closed")
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("the fake took %v to close", d)
	}
}
