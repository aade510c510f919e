package rakuten_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
)

func TestSyncKeyRefused(t *testing.T) {
	tests := []struct {
		name       string
		licenseKey string // "": the one the fake accepts
		op         string // the operation refused
		fault      *rakutentest.Fault
		status     int
	}{
		{name: "expired key on searchOrder", op: "searchOrder", fault: &rakutentest.ExpiredKey, status: 401},
		{name: "forbidden on searchOrder", op: "searchOrder", fault: &rakutentest.Fault{Status: 403}, status: 403},
		{name: "expired key on getOrder", op: "getOrder", fault: &rakutentest.ExpiredKey, status: 401},
		{name: "a wrong license key", licenseKey: "SL338411_wrong-license-key-never-logged", op: "searchOrder", status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{licenseKey: tt.licenseKey})
			list, _, _ := genOrders(t, 10, testNow.Add(-day), time.Hour)
			e.fake.Set(list...)
			if tt.fault != nil {
				e.fake.Fail(tt.op, *tt.fault)
			}

			_, err := e.run(t.Context())
			if !errors.Is(err, rakuten.ErrKeyExpired) {
				t.Fatalf("pull: %v, want an error matching ErrKeyExpired", err)
			}
			var ae *rakuten.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status || ae.Op != tt.op || ae.Code != "ES01-01" || ae.Temporary() {
				t.Errorf("pull: %#v, want RMS's %d ES01-01 of %s", ae, tt.status, tt.op)
			}
			if !strings.Contains(err.Error(), "license key is expired or wrong") {
				t.Errorf("the error %q does not say that the license key is expired or wrong", err)
			}
			if got := e.fake.Calls(tt.op); got != 1 {
				t.Errorf("%s called %d times, want once: a refused key is not tried again", tt.op, got)
			}
			if orders, _ := e.stored(); len(orders) != 0 || e.store.Saves() != 0 {
				t.Errorf("%d orders stored, %d cursors saved; want none", len(orders), e.store.Saves())
			}
			assertNoSecrets(t, "the error", err.Error(), tt.licenseKey)
		})
	}
}

func TestSyncReportsRMSErrors(t *testing.T) {
	tests := []struct {
		name   string
		op     string
		fault  rakutentest.Fault
		status int
		code   string
	}{{
		// RMS's documented answer to a malformed search.
		name: "searchOrder 400", op: "searchOrder", status: 400, code: "ORDER_EXT_API_SEARCH_ORDER_ERROR_011",
		fault: rakutentest.Fault{Status: 400, Body: `{"orderNumberList": null, "MessageModelList": [
			{"messageType": "INFO", "messageCode": "SOME_INFO", "message": "情報"},
			{"messageType": "ERROR", "messageCode": "ORDER_EXT_API_SEARCH_ORDER_ERROR_011", "message": "startDatetimeの書式が不正です。"}],
			"PaginationResponseModel": null}`},
	}, {
		name: "searchOrder 200 with an ERROR", op: "searchOrder", status: 200, code: "ORDER_EXT_API_SEARCH_ORDER_ERROR_009",
		fault: rakutentest.Fault{Status: 200, Body: `{"orderNumberList": [], "MessageModelList": [
			{"messageType": "ERROR", "messageCode": "ORDER_EXT_API_SEARCH_ORDER_ERROR_009", "message": "dateTypeの項目を指定して下さい。"}],
			"PaginationResponseModel": null}`},
	}, {
		name: "getOrder 400", op: "getOrder", status: 400, code: "ORDER_EXT_API_GET_ORDER_ERROR_009",
		fault: rakutentest.Fault{Status: 400, Body: `{"MessageModelList": [
			{"messageType": "ERROR", "messageCode": "ORDER_EXT_API_GET_ORDER_ERROR_009", "message": "versionの項目を指定してください。"}],
			"OrderModelList": []}`},
	}, {
		name: "getOrder 200 with an ERROR about no order", op: "getOrder", status: 200, code: "ORDER_EXT_API_GET_ORDER_ERROR_001",
		fault: rakutentest.Fault{Status: 200, Body: `{"MessageModelList": [
			{"messageType": "ERROR", "messageCode": "ORDER_EXT_API_GET_ORDER_ERROR_001", "message": "エラー"}],
			"OrderModelList": [], "version": 10}`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{})
			list, _, _ := genOrders(t, 10, testNow.Add(-day), time.Hour)
			e.fake.Set(list...)
			e.fake.Fail(tt.op, tt.fault)

			_, err := e.run(t.Context())
			var ae *rakuten.APIError
			if !errors.As(err, &ae) || ae.Op != tt.op || ae.Status != tt.status || ae.Code != tt.code {
				t.Fatalf("pull: %v, want RMS's %d %s of %s", err, tt.status, tt.code, tt.op)
			}
			if !strings.Contains(err.Error(), tt.code) {
				t.Errorf("the error %q does not name RMS's message code", err)
			}
			if errors.Is(err, rakuten.ErrKeyExpired) {
				t.Errorf("the error %q matches ErrKeyExpired", err)
			}
			if got := e.fake.Calls(tt.op); got != 1 {
				t.Errorf("%s called %d times, want once: RMS's refusal is not tried again", tt.op, got)
			}
			if orders, _ := e.stored(); len(orders) != 0 || e.store.Saves() != 0 {
				t.Errorf("%d orders stored, %d cursors saved; want none", len(orders), e.store.Saves())
			}
		})
	}
}

func TestSyncSkipsOrdersRMSCannotRead(t *testing.T) {
	e := newEnv(t, setup{})
	list, wantOrders, wantShipments := genOrders(t, 2, testNow.Add(-day), time.Hour)
	e.fake.Set(list...)
	good, bad := list[0]["orderNumber"].(string), list[1]["orderNumber"].(string)
	answer, err := json.Marshal(map[string]any{
		"MessageModelList": []map[string]string{
			{"messageType": "INFO", "messageCode": "ORDER_EXT_API_GET_ORDER_INFO_101", "message": "ok"},
			{"messageType": "ERROR", "messageCode": "ORDER_EXT_API_GET_ORDER_ERROR_101", "message": "not found", "orderNumber": bad},
		},
		"OrderModelList": []rakutentest.Order{list[0]},
		"version":        10,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Fail("getOrder", rakutentest.Fault{Status: http.StatusOK, Body: string(answer)})

	p := e.mustRun()
	delete(wantOrders, bad)
	for id, s := range wantShipments {
		if s.OrderID == bad {
			delete(wantShipments, id)
		}
	}
	e.assertStored(wantOrders, wantShipments)
	if p.Read != 1 || wantOrders[good].ID != good {
		t.Errorf("%d orders read, want 1: %s", p.Read, good)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, bad) || !strings.Contains(logs, "ORDER_EXT_API_GET_ORDER_ERROR_101") {
		t.Errorf("the logs do not name order %s and RMS's code:\n%s", bad, logs)
	}
}

func TestSyncKeepsToOneRequestASecond(t *testing.T) {
	tests := []struct {
		name   string
		faults map[string][]rakutentest.Fault
	}{
		{name: "no faults"},
		{name: "throttled", faults: map[string][]rakutentest.Fault{
			"searchOrder": {{Status: 429}},
			"getOrder":    {{Status: 429}, {Status: 429}, {Status: 503}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{})
			list, wantOrders, wantShipments := genOrders(t, 2500, testNow.Add(-20*day), 20*day/2500)
			e.fake.Set(list...)
			for op, f := range tt.faults {
				e.fake.Fail(op, f...)
			}

			e.mustRun()
			e.assertStored(wantOrders, wantShipments)
			calls := e.fake.Calls("searchOrder") + e.fake.Calls("getOrder")
			if got := e.fake.MaxPerSecond(); got != 1 {
				t.Errorf("at most %d requests in a second of the %d, want 1", got, calls)
			}
			if took := e.clock.Now().Sub(testNow); took < time.Duration(calls-1)*time.Second {
				t.Errorf("%d requests in %v, want at least a second between two", calls, took)
			}
			if tt.faults == nil {
				// 3 searches and 25 getOrder calls: the first at once, each
				// other a second after the one before.
				waits := e.clock.Waits()
				if calls != 28 || len(waits) != 27 {
					t.Fatalf("%d requests, %d waits; want 28, 27", calls, len(waits))
				}
				for i, w := range waits {
					if w != time.Second {
						t.Errorf("wait %d: %v, want 1s", i+1, w)
					}
				}
			}
		})
	}
}

func TestSyncKeepsSecrets(t *testing.T) {
	// A pull through every kind of trouble, logging at Debug.
	e := newEnv(t, setup{http: &http.Client{Timeout: time.Second}})
	list, _, _ := genOrders(t, 300, testNow.Add(-5*day), 5*day/300)
	e.fake.Set(list...)
	e.fake.Fail("searchOrder", rakutentest.Fault{Status: 429}, rakutentest.Fault{Status: 503}, rakutentest.Fault{Delay: 2 * time.Second})
	e.fake.Fail("getOrder", rakutentest.Fault{Status: 500}, rakutentest.Fault{Delay: 2 * time.Second})
	e.mustRun()
	var errs []string

	// Pulls that fail: an expired key, a wrong key, RMS's 400, timeouts.
	e.fake.Fail("searchOrder", rakutentest.ExpiredKey)
	e.clock.Advance(time.Hour)
	if _, err := e.run(t.Context()); err == nil {
		t.Error("pull with an expired key succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	e.fake.Fail("getOrder", rakutentest.Fault{Status: 400})
	e.clock.Advance(time.Hour)
	if _, err := e.run(t.Context()); err == nil {
		t.Error("pull answered 400 succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	const wrongKey = "SL338411_wrong-license-key-never-logged"
	wrong := newEnv(t, setup{licenseKey: wrongKey})
	if _, err := wrong.run(t.Context()); err == nil {
		t.Error("pull with a wrong license key succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	slow := newEnv(t, setup{http: &http.Client{Timeout: time.Second}, retries: 1})
	slow.fake.Fail("searchOrder", rakutentest.Fault{Delay: 2 * time.Second}, rakutentest.Fault{Delay: 2 * time.Second})
	if _, err := slow.run(t.Context()); err == nil {
		t.Error("pull timing out succeeded")
	} else {
		errs = append(errs, err.Error())
	}
	for _, s := range errs {
		assertNoSecrets(t, "the error", s, wrongKey)
	}
	logs := e.logs.String() + wrong.logs.String() + slow.logs.String()
	assertNoSecrets(t, "the logs", logs, wrongKey)
	// The logs saw the trouble: they would show a secret that leaked.
	for _, s := range []string{"retrying", "429", "Client.Timeout", "ES01-01", "sync failed"} {
		if !strings.Contains(logs, s) {
			t.Errorf("the logs do not show %q: the test would prove less than it says", s)
		}
	}
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		name string
		cfg  rakuten.Config
		err  string // "": no error
	}{
		{name: "defaults", cfg: rakuten.Config{ServiceSecret: rakutentest.ServiceSecret, LicenseKey: rakutentest.LicenseKey}},
		{name: "no service secret", cfg: rakuten.Config{LicenseKey: rakutentest.LicenseKey}, err: "service secret and license key are required"},
		{name: "no license key", cfg: rakuten.Config{ServiceSecret: rakutentest.ServiceSecret}, err: "service secret and license key are required"},
		{name: "not a base URL", cfg: rakuten.Config{ServiceSecret: rakutentest.ServiceSecret, LicenseKey: rakutentest.LicenseKey,
			Endpoint: "api.rms.rakuten.co.jp"}, err: "is not a base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := rakuten.NewClient(tt.cfg)
			switch {
			case tt.err == "" && (err != nil || c == nil):
				t.Errorf("NewClient: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("NewClient: %v, want an error saying %q", err, tt.err)
			case err != nil:
				assertNoSecrets(t, "the error", err.Error(), "")
			}
		})
	}
}
