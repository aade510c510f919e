package rakuten_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
	"github.com/kpibot/kpibot/kpi"
)

// cursorOf reads a saved cursor.
func cursorOf(t *testing.T, raw string) (start, end time.Time, page int) {
	t.Helper()
	var c struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
		Page  int       `json:"page"`
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatalf("cursor %q: %v", raw, err)
	}
	return c.Start, c.End, c.Page
}

func TestSyncStoresPagesExactly(t *testing.T) {
	e := newEnv(t, setup{})
	// 2,500 orders placed over the last 20 days: 3 pages of 1,000, 25
	// getOrder calls of 100.
	list, wantOrders, wantShipments := genOrders(t, 2500, testNow.Add(-20*day), 20*day/2500)
	e.fake.Set(list...)

	p := e.mustRun()
	e.assertStored(wantOrders, wantShipments)
	if p.Pages != 3 || p.Read != 2500 || p.Stats.Inserted != len(wantOrders)+len(wantShipments) || p.Stats.Updated != 0 {
		t.Errorf("progress %+v, want 3 pages, 2500 read, %d inserted", p, len(wantOrders)+len(wantShipments))
	}
	searches := e.fake.Searches()
	if len(searches) != 3 {
		t.Fatalf("%d searches, want 3", len(searches))
	}
	for i, s := range searches {
		if s.DateType != 1 || !s.Start.Equal(testNow.Add(-30*day)) || !s.End.Equal(testNow) || s.Page != i+1 || s.PerPage != 1000 {
			t.Errorf("search %d: %+v, want page %d of the orders placed in the last 30 days, 1000 a page", i+1, s, i+1)
		}
	}
	batches := e.fake.Batches()
	if len(batches) != 25 {
		t.Errorf("%d getOrder calls, want 25", len(batches))
	}
	asked := map[string]int{}
	for _, b := range batches {
		if len(b) != 100 {
			t.Errorf("a getOrder call for %d orders, want 100", len(b))
		}
		for _, n := range b {
			asked[n]++
		}
	}
	for id := range wantOrders {
		if asked[id] != 1 {
			t.Errorf("order %s asked for %d times, want once", id, asked[id])
		}
	}
	if start, end, _ := cursorOf(t, e.cursor()); !start.Equal(testNow.Add(-14*day)) || !end.IsZero() {
		t.Errorf("cursor %s, want the next pull to start 14 days before the pull", e.cursor())
	}

	// A second pull an hour later reads the last 14 days again and stores
	// nothing new.
	e.clock.Advance(time.Hour)
	second := e.clock.Now().Truncate(time.Second)
	p = e.mustRun()
	recent := 0
	for _, o := range wantOrders {
		if !o.Placed.Before(testNow.Add(-14 * day)) {
			recent++
		}
	}
	if p.Stats.Inserted != 0 || p.Stats.Updated != 0 || p.Read != recent {
		t.Errorf("second pull: %+v, want the %d orders of the last 14 days read, none inserted or updated", p, recent)
	}
	if s := e.fake.Searches()[3]; !s.Start.Equal(testNow.Add(-14*day)) || !s.End.Equal(second) {
		t.Errorf("second pull searched %+v, want from 14 days before the first pull to now", s)
	}
	e.assertStored(wantOrders, wantShipments)

	// An order of the last 14 days shipped since: the third pull sees it.
	var changed rakutentest.Order
	for _, o := range list {
		if n := o["orderNumber"].(string); wantOrders[n].Status == kpi.StatusUnshipped && wantOrders[n].Placed.After(testNow.Add(-2*day)) {
			changed = o
			break
		}
	}
	id := changed["orderNumber"].(string)
	changed.Set(500, "orderProgress")
	changed.Set(map[string]any{"shippingDetailId": 777, "shippingNumber": "987654321098", "deliveryCompany": "1003",
		"deliveryCompanyName": nil, "shippingDate": rakutentest.Date(testNow)}, "PackageModelList", "0", "ShippingModelList", "0")
	e.fake.Set(list...)
	e.clock.Advance(time.Hour)
	p = e.mustRun()
	o := wantOrders[id]
	o.Status = kpi.StatusShipped
	wantOrders[id] = o
	sh := kpi.Shipment{Shop: testShop.ID, ID: id + "/" + basketID + "/777", OrderID: id, Carrier: "japanpost", Tracking: "987654321098",
		Shipped: time.Date(2026, 3, 20, 0, 0, 0, 0, jst).UTC(), Units: 2}
	wantShipments[sh.ID] = sh
	if p.Stats.Inserted != 1 || p.Stats.Updated != 1 {
		t.Errorf("third pull: %+v, want the order updated and its shipment inserted", p.Stats)
	}
	e.assertStored(wantOrders, wantShipments)
}

func TestSyncSplitsLongPulls(t *testing.T) {
	e := newEnv(t, setup{since: 100 * day})
	// An order every 12 hours over the 100 days.
	list, wantOrders, wantShipments := genOrders(t, 200, testNow.Add(-100*day), 12*time.Hour)
	e.fake.Set(list...)

	p := e.mustRun()
	e.assertStored(wantOrders, wantShipments)
	if p.Read != 200 || p.Pages != 2 {
		t.Errorf("progress %+v, want 200 orders read in 2 pages", p)
	}
	// 63 days, then the rest from the second after.
	want := [][2]time.Time{{testNow.Add(-100 * day), testNow.Add(-37 * day)}, {testNow.Add(-37*day + time.Second), testNow}}
	searches := e.fake.Searches()
	if len(searches) != len(want) {
		t.Fatalf("%d searches, want %d", len(searches), len(want))
	}
	for i, s := range searches {
		if !s.Start.Equal(want[i][0]) || !s.End.Equal(want[i][1]) || s.Page != 1 {
			t.Errorf("search %d: %s to %s page %d, want %s to %s page 1", i+1, s.Start, s.End, s.Page, want[i][0], want[i][1])
		}
	}
	if start, _, _ := cursorOf(t, e.cursor()); !start.Equal(testNow.Add(-14 * day)) {
		t.Errorf("cursor %s, want the next pull to start 14 days before now", e.cursor())
	}
}

func TestSyncStartsWithinRMSReach(t *testing.T) {
	oldest := testNow.Add(-729 * day) // RMS keeps 730 days of orders
	tests := []struct {
		name   string
		since  time.Duration
		cursor string // saved before the pull
		start  time.Time
	}{
		{name: "a first pull of 1000 days", since: 1000 * day, start: oldest},
		{name: "a cursor of 800 days ago", cursor: `{"start":"` + testNow.Add(-800*day).Format(time.RFC3339) + `"}`, start: oldest},
		{name: "a cursor within reach", cursor: `{"start":"` + testNow.Add(-700*day).Format(time.RFC3339) + `"}`, start: testNow.Add(-700 * day)},
		{name: "an unreadable cursor", cursor: `{"start":"yesterday"}`, start: testNow.Add(-30 * day)},
		{name: "a cursor with a window and no page",
			cursor: `{"start":"` + testNow.Add(-3*day).Format(time.RFC3339) + `","end":"` + testNow.Format(time.RFC3339) + `"}`,
			start:  testNow.Add(-30 * day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{since: tt.since})
			if tt.cursor != "" {
				if err := e.store.SaveSyncCursor(t.Context(), testShop.ID, "orders", tt.cursor); err != nil {
					t.Fatal(err)
				}
			}
			e.mustRun()
			searches := e.fake.Searches()
			if len(searches) == 0 || !searches[0].Start.Equal(tt.start) {
				t.Fatalf("searches %v, want the first from %s", searches, tt.start)
			}
			if last := searches[len(searches)-1]; !last.End.Equal(testNow) {
				t.Errorf("the last search ends %s, want now", last.End)
			}
		})
	}
}

func TestSyncHalvesWindowsBeyondSearchReach(t *testing.T) {
	e := newEnv(t, setup{})
	// 16,000 orders in the last 30 days: one search can reach 15,000. Bare
	// orders, to keep the test quick: their mapping is tested elsewhere.
	var list []rakutentest.Order
	wantOrders := map[string]kpi.Order{}
	for i := range 16000 {
		placed := testNow.Add(-30 * day).Add(time.Duration(i) * (30 * day / 16000)).Truncate(time.Second)
		id := orderNumber(placed, i+1)
		list = append(list, rakutentest.Order{"orderNumber": id, "orderDatetime": rakutentest.Time(placed), "orderProgress": 100,
			"totalPrice": 100, "OrdererModel": map[string]any{}, "PackageModelList": []any{}})
		wantOrders[id] = kpi.Order{Shop: testShop.ID, ID: id, Placed: placed, Status: kpi.StatusPending, Total: 100, Channel: kpi.ByMerchant}
	}
	e.fake.Set(list...)

	p := e.mustRun()
	e.assertStored(wantOrders, nil)
	if p.Read != 16000 {
		t.Errorf("%d orders read, want 16000", p.Read)
	}
	var windows [][2]time.Time
	for _, s := range e.fake.Searches() {
		if w := [2]time.Time{s.Start.UTC(), s.End.UTC()}; len(windows) == 0 || windows[len(windows)-1] != w {
			windows = append(windows, w)
		}
	}
	want := [][2]time.Time{
		{testNow.Add(-30 * day), testNow}, // 16,000: halved before a page is read
		{testNow.Add(-30 * day), testNow.Add(-15 * day)},
		{testNow.Add(-15*day + time.Second), testNow},
	}
	if !slices.Equal(windows, want) {
		t.Errorf("windows searched %v, want %v", windows, want)
	}
}

func TestSyncSurvivesFaults(t *testing.T) {
	tests := []struct {
		name string
		http *http.Client
		// before sets the faults up; cancel ends the first pull's context.
		before func(e *env, cancel context.CancelFunc)
		// firstErr checks the first pull's error; nil: it must succeed.
		firstErr func(t *testing.T, err error)
		// searches and getOrders are the calls wanted, faults included.
		searches, getOrders int
		check               func(t *testing.T, e *env)
	}{{
		name: "searchOrder throttled twice",
		before: func(e *env, _ context.CancelFunc) {
			e.fake.Fail("searchOrder", rakutentest.Fault{Status: 429}, rakutentest.Fault{Status: 429})
		},
		searches: 3 + 2, getOrders: 3,
	}, {
		name: "getOrder throttled, then server errors",
		before: func(e *env, _ context.CancelFunc) {
			e.fake.Fail("getOrder", rakutentest.Fault{Status: 429}, rakutentest.Fault{Status: 500}, rakutentest.Fault{Status: 503})
		},
		searches: 3, getOrders: 3 + 3,
	}, {
		name: "server errors on both",
		before: func(e *env, _ context.CancelFunc) {
			e.fake.Fail("searchOrder", rakutentest.Fault{Status: 500}, rakutentest.Fault{Status: 502})
			e.fake.Fail("getOrder", rakutentest.Fault{Status: 500})
		},
		searches: 3 + 2, getOrders: 3 + 1,
	}, {
		name: "a timeout",
		http: &http.Client{Timeout: time.Second},
		before: func(e *env, _ context.CancelFunc) {
			e.fake.Fail("getOrder", rakutentest.Fault{Delay: 2 * time.Second})
		},
		searches: 3, getOrders: 3 + 1,
		check: func(t *testing.T, e *env) {
			if !strings.Contains(e.logs.String(), "Client.Timeout") {
				t.Errorf("the logs do not show the timeout:\n%s", e.logs.String())
			}
		},
	}, {
		name: "page 2 fails for good",
		before: func(e *env, _ context.CancelFunc) {
			e.store.AfterSave = func(n int) {
				if n == 1 { // the first try and the client's 5 retries
					for range 6 {
						e.fake.Fail("searchOrder", rakutentest.Fault{Status: 500})
					}
				}
			}
		},
		firstErr: func(t *testing.T, err error) {
			var ae *rakuten.APIError
			if !errors.As(err, &ae) || ae.Status != 500 || ae.Code != "RAKUTENTEST_500" || ae.Op != "searchOrder" {
				t.Errorf("first pull: %v, want RMS's 500 of searchOrder", err)
			}
		},
		// Page 1 and 6 tries of page 2; then pages 2 and 3, and the
		// orders placed during the first pull.
		searches: 1 + 6 + 2 + 1, getOrders: 1 + 2,
		check: assertResumed,
	}, {
		name: "cancelled after page 1",
		before: func(e *env, cancel context.CancelFunc) {
			e.store.AfterSave = func(n int) {
				if n == 1 {
					cancel()
				}
			}
		},
		firstErr: func(t *testing.T, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("first pull: %v, want context.Canceled", err)
			}
		},
		searches: 1 + 2 + 1, getOrders: 1 + 2,
		check: assertResumed,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, setup{http: tt.http})
			// 250 orders: 3 pages of 100.
			list, wantOrders, wantShipments := genOrders(t, 250, testNow.Add(-5*day), 5*day/250)
			e.fake.Set(list...)
			e.fake.SetPageSize(100)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			tt.before(e, cancel)

			p, err := e.run(ctx)
			inserted := p.Stats.Inserted
			if tt.firstErr == nil {
				if err != nil {
					t.Fatalf("first pull: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("first pull succeeded, want an error")
				}
				tt.firstErr(t, err)
				assertNoSecrets(t, "the error", err.Error(), "")
				e.store.AfterSave = nil
				e.clock.Advance(time.Minute)
				if p, err = e.run(t.Context()); err != nil {
					t.Fatalf("second pull: %v", err)
				}
				inserted += p.Stats.Inserted
			}
			e.assertStored(wantOrders, wantShipments)
			if want := len(wantOrders) + len(wantShipments); inserted != want {
				t.Errorf("%d records inserted, want %d: each once", inserted, want)
			}
			if s, g := e.fake.Calls("searchOrder"), e.fake.Calls("getOrder"); s != tt.searches || g != tt.getOrders {
				t.Errorf("searchOrder called %d times, getOrder %d; want %d, %d", s, g, tt.searches, tt.getOrders)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

// assertResumed checks that the second pull resumed the first's window at
// page 2, then read the orders placed during the first pull.
func assertResumed(t *testing.T, e *env) {
	t.Helper()
	s := e.fake.Searches() // the searches answered: faults left out
	if len(s) != 4 {
		t.Fatalf("%d searches answered, want 4: pages 1 to 3 of the window, then the window since", len(s))
	}
	for i, s := range s[:3] {
		if !s.Start.Equal(testNow.Add(-30*day)) || !s.End.Equal(testNow) || s.Page != i+1 {
			t.Errorf("search %d: %+v, want page %d of the first pull's window", i+1, s, i+1)
		}
	}
	if !s[3].Start.Equal(testNow.Add(time.Second)) || !s[3].End.After(testNow) || s[3].Page != 1 {
		t.Errorf("search 4: %+v, want page 1 of the orders placed since the first pull began", s[3])
	}
	if start, _, _ := cursorOf(t, e.cursor()); !start.Equal(s[3].End.Add(-14 * day)) {
		t.Errorf("cursor %s, want the next pull to start 14 days before the second pull", e.cursor())
	}
}
