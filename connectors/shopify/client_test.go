package shopify_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/shopify"
	"github.com/kpibot/kpibot/connectors/shopify/shopifytest"
)

// wrongToken is a token the fake refuses.
const wrongToken = "shpat_wrong0token0never0logged0000"

func TestClientRefusalsAreTypedAndNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		fault  *shopifytest.Fault
		status int
		code   string
	}{
		{name: "a wrong token", token: wrongToken, status: 401},
		{name: "a revoked token", fault: &shopifytest.Fault{Status: 401}, status: 401},
		{name: "a missing scope", fault: &shopifytest.Fault{Status: 403}, status: 403},
		{name: "access denied to a field", fault: &shopifytest.Fault{Status: 200,
			Body: `{"errors":[{"message":"Access denied for returns field.","extensions":{"code":"ACCESS_DENIED"}}]}`},
			status: 200, code: "ACCESS_DENIED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{token: tt.token})
			list, _ := genOrders(10, testNow.Add(-24*time.Hour))
			e.fake.Set(list...)
			if tt.fault != nil {
				e.fake.Fail(*tt.fault)
			}

			p, err := e.sync(t.Context())
			var ae *shopify.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status || ae.Code != tt.code || !ae.Unauthorized() || ae.Temporary() {
				t.Fatalf("sync: %v, want an unauthorized *APIError with HTTP %d %s", err, tt.status, tt.code)
			}
			if n := e.fake.Calls(); n != 1 {
				t.Errorf("the fake was called %d times, want once: not retried", n)
			}
			if w := e.clock.TakeWaits(); len(w) != 0 {
				t.Errorf("the pull waited %v, want no wait", w)
			}
			if p.Pages != 0 || len(e.stored().Orders) != 0 {
				t.Errorf("%d pages read, %d orders stored; want none", p.Pages, len(e.stored().Orders))
			}
			assertNoSecret(t, "the error", err.Error(), shopifytest.Token, wrongToken)
		})
	}
}

func TestClientRetriesServerAndNetworkErrors(t *testing.T) {
	tests := []struct {
		name   string
		http   *http.Client
		faults []shopifytest.Fault
		log    string // what the logs show of the failures
	}{
		{name: "server errors", faults: []shopifytest.Fault{{Status: 500}, {Status: 502}, {Status: 503}}, log: "INTERNAL_SERVER_ERROR"},
		{name: "an error page", faults: []shopifytest.Fault{{Status: 502, Body: "<html>Bad Gateway</html>"}}, log: "HTTP 502"},
		{name: "a dropped connection", faults: []shopifytest.Fault{{Drop: true}}, log: "shopify: retrying"},
		// The timeout is long enough for every other call, on a busy machine too.
		{name: "a timeout", http: &http.Client{Timeout: 2 * time.Second}, faults: []shopifytest.Fault{{Delay: time.Minute}},
			log: "Client.Timeout"},
		{name: "throttled without a bucket", faults: []shopifytest.Fault{{Status: 429}}, log: "THROTTLED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{http: tt.http})
			list, want := genOrders(100, testNow.Add(-24*time.Hour)) // 3 pages
			e.fake.Set(list...)
			e.fake.Fail(tt.faults...)

			p := e.mustSync()
			e.assertStored(want)
			if p.Pages != 3 {
				t.Errorf("%d pages, want 3", p.Pages)
			}
			if got, want := e.fake.Calls(), 3+len(tt.faults); got != want {
				t.Errorf("the fake was called %d times, want %d: each failure tried again", got, want)
			}
			if len(e.clock.TakeWaits()) < len(tt.faults) {
				t.Error("the pull did not wait before trying again")
			}
			if !strings.Contains(e.logs.String(), tt.log) {
				t.Errorf("the logs do not show %q:\n%s", tt.log, e.logs.String())
			}
		})
	}
}

func TestClientGivesUpAfterItsRetries(t *testing.T) {
	e := newEnv(t, setup{retries: 2})
	list, _ := genOrders(10, testNow.Add(-24*time.Hour))
	e.fake.Set(list...)
	e.fake.Fail(shopifytest.Fault{Status: 503}, shopifytest.Fault{Status: 503}, shopifytest.Fault{Status: 503})

	_, err := e.sync(t.Context())
	var ae *shopify.APIError
	if !errors.As(err, &ae) || ae.Status != 503 || !ae.Temporary() {
		t.Fatalf("sync: %v, want the 503", err)
	}
	if n := e.fake.Calls(); n != 3 {
		t.Errorf("the fake was called %d times, want 3: the first try and 2 retries", n)
	}
}

func TestClientKeepsTheTokenSecret(t *testing.T) {
	// A pull through every kind of trouble, logging at Debug: throttled
	// both ways, server errors, a dropped connection.
	e := newEnv(t, setup{})
	list, _ := genOrders(200, testNow.Add(-3*24*time.Hour))
	e.fake.Set(list...)
	e.fake.SetAvailable(0)
	e.fake.Fail(shopifytest.Fault{Status: 500}, shopifytest.Fault{Drop: true}, shopifytest.Fault{Status: 429})
	e.mustSync()
	if e.fake.Throttles() == 0 {
		t.Fatal("the fake throttled nothing: the test would not show it")
	}

	// Pulls that fail: a wrong token, a missing scope, retries run out.
	var errs []string
	bad := newEnv(t, setup{token: wrongToken})
	if _, err := bad.sync(t.Context()); err == nil {
		t.Error("a pull with a wrong token succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	e.fake.Fail(shopifytest.Fault{Status: 403})
	if _, err := e.sync(t.Context()); err == nil {
		t.Error("a pull refused 403 succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	e.fake.Fail(repeatFault(shopifytest.Fault{Status: 500}, 6)...)
	if _, err := e.sync(t.Context()); err == nil {
		t.Error("a pull failing 500 succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	for _, s := range errs {
		assertNoSecret(t, "the error", s, shopifytest.Token, wrongToken)
	}
	// newEnv checks the logs of both when the test ends.

	// Nor does a config the client refuses say it.
	cfg := e.fake.Config()
	cfg.Store = "not a shop"
	if _, err := shopify.NewClient(cfg); err == nil {
		t.Error("NewClient took a bad store")
	} else {
		assertNoSecret(t, "the config error", err.Error(), shopifytest.Token)
	}
}

func TestClientReportsAnUnknownAPIVersion(t *testing.T) {
	fake := shopifytest.New(t, nil)
	cfg := fake.Config()
	cfg.APIVersion = "2019-04" // long retired
	client, err := shopify.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = shopify.ProbeForTest(t.Context(), client, `query { orders(first: 1) { nodes { id } } }`, nil)
	var ae *shopify.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Temporary() {
		t.Fatalf("query: %v, want a 404 *APIError", err)
	}
	if n := fake.Calls(); n != 1 {
		t.Errorf("the fake was called %d times, want once: not retried", n)
	}
}
