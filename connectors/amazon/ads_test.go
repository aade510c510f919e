package amazon_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/amazon"
	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
	"github.com/kpibot/kpibot/internal/connectortest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

// adsProfile is the advertiser profile the fake serves.
const adsProfile = "1234567890"

var adsShop = kpi.Shop{ID: "amz-jp", Platform: kpi.Amazon, Marketplace: amazon.MarketplaceJP, Name: "Amazon JP", Currency: "JPY"}

// adsNow is when the tests start: noon in Tokyo, so that the minutes the
// polls take keep every run on the same day.
var adsNow = time.Date(2026, 3, 20, 12, 0, 0, 0, kpi.Tokyo)

func date(m time.Month, d int) kpi.Date { return kpi.NewDate(2026, m, d) }

// fakeClock is the tests' time: Sleep returns at once, moving the clock on
// by what it was asked to wait.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	slept   []time.Duration
	onSleep func() // called on each Sleep, before it returns
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	hook := c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	return ctx.Err()
}

func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// adsHarness is a shop whose ads are pulled from the fake into a SQLite
// file, logging at Debug into logs.
type adsHarness struct {
	t      *testing.T
	fake   *amazontest.Server
	ads    *amazontest.Ads
	clock  *fakeClock
	store  *sqlite.Store
	logs   *connectortest.Log
	syncer *amazon.Syncer
}

// newAdsHarness sets a shop up whose first pull reaches since back, with
// an ads client for profile. When the test ends, its logs are checked for
// secrets.
func newAdsHarness(t *testing.T, profile string, since time.Duration) *adsHarness {
	t.Helper()
	h := &adsHarness{t: t, fake: amazontest.New(t), clock: &fakeClock{now: adsNow}, logs: &connectortest.Log{}}
	h.ads = h.fake.Ads(adsProfile)
	log := h.logs.Logger()
	store := connectortest.OpenStore(t, filepath.Join(t.TempDir(), "kpi.db"), h.clock.Now, adsShop)
	h.store = store
	cfg := h.fake.AdsConfig(profile)
	cfg.Now, cfg.Sleep, cfg.Log = h.clock.Now, h.clock.Sleep, log
	client, err := amazon.NewAdsClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.syncer = &amazon.Syncer{Ads: client, Shop: adsShop, Store: store, Now: h.clock.Now, Log: log, Since: since}
	t.Cleanup(func() { assertNoSecrets(t, "the logs", h.logs.String()) })
	return h
}

// secrets are what must never reach a log or an error: the app's secret,
// the refresh token, any access token the fake issued, and the signature
// of a pre-signed download URL.
var secrets = []string{amazontest.Credentials.ClientSecret, amazontest.Credentials.RefreshToken, "Atza|", amazontest.AdsSignature}

func assertNoSecrets(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s hold the secret %q:\n%s", where, s, text)
		}
	}
}

func (h *adsHarness) cursor() string {
	h.t.Helper()
	c, err := h.store.SyncCursor(h.t.Context(), adsShop.ID, "ads")
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// assertStored checks that the store holds exactly want between first
// and last: each campaign day as it is (writing it again changes nothing)
// and no other (each day's ad facts, the inputs of ACoS and ROAS, are
// want's sums).
func (h *adsHarness) assertStored(want []kpi.AdDay, first, last kpi.Date) {
	h.t.Helper()
	type sums struct{ impressions, clicks, spend, sales, orders int64 }
	wantDay := map[kpi.Date]sums{}
	for _, a := range want {
		s := wantDay[a.Day]
		s.impressions += a.Impressions
		s.clicks += a.Clicks
		s.spend += a.Spend
		s.sales += a.Sales
		s.orders += a.Orders
		wantDay[a.Day] = s
	}
	for d := first; d <= last; d++ {
		facts, err := h.store.Facts(h.t.Context(), kpi.FactQuery{Shops: []string{adsShop.ID}, From: d, To: d + 1})
		if err != nil {
			h.t.Fatal(err)
		}
		f := facts[adsShop.ID]
		got := sums{f.Count[kpi.AdImpressions], f.Count[kpi.AdClicks], f.Count[kpi.AdSpend], f.Count[kpi.AdSales], f.Count[kpi.AdOrders]}
		if got != wantDay[d] {
			h.t.Errorf("%s: ad facts %+v, want %+v", d, got, wantDay[d])
		}
	}
	st, err := h.store.Write(h.t.Context(), &kpi.Batch{Ads: want})
	if err != nil {
		h.t.Fatal(err)
	}
	if st != (kpi.WriteStats{Unchanged: len(want)}) {
		h.t.Errorf("writing the expected campaign days again: %+v, want all %d unchanged", st, len(want))
	}
}

// adsRows returns two campaigns' report rows for each day from first to
// last, and the campaign days they are stored as. The second campaign has
// no name: it is stored under its id.
func adsRows(first, last kpi.Date) ([]amazontest.AdsRow, []kpi.AdDay) {
	var rows []amazontest.AdsRow
	var days []kpi.AdDay
	for d, i := first, int64(0); d <= last; d, i = d+1, i+1 {
		rows = append(rows,
			amazontest.AdsRow{Date: d.String(), CampaignID: 158410630682987, CampaignName: "春の新生活セール", Impressions: 1000 + i,
				Clicks: 20 + i%7, Cost: float64(500+i) + 0.5, Sales14d: float64(4000+100*i) + 0.25, Purchases14d: 1 + i%3},
			amazontest.AdsRow{Date: d.String(), CampaignID: 72320882861500, Impressions: 200 + i, Clicks: 3,
				Cost: float64(90+i) + 0.4})
		days = append(days,
			kpi.AdDay{Shop: adsShop.ID, Campaign: "春の新生活セール", Day: d, Impressions: 1000 + i, Clicks: 20 + i%7,
				Spend: 501 + i, Sales: 4000 + 100*i, Orders: 1 + i%3},
			kpi.AdDay{Shop: adsShop.ID, Campaign: "72320882861500", Day: d, Impressions: 200 + i, Clicks: 3, Spend: 90 + i})
	}
	return rows, days
}

func between(days []kpi.AdDay, first, last kpi.Date) []kpi.AdDay {
	return slices.DeleteFunc(slices.Clone(days), func(a kpi.AdDay) bool { return a.Day < first || a.Day > last })
}

type dateRange struct{ start, end string }

func ranges(reqs []amazontest.AdsRequest) []dateRange {
	var out []dateRange
	for _, r := range reqs {
		out = append(out, dateRange{r.StartDate, r.EndDate})
	}
	return out
}

func TestSyncAdsStoresCampaignDays(t *testing.T) {
	h := newAdsHarness(t, adsProfile, 3*24*time.Hour)
	h.ads.SetRows([]amazontest.AdsRow{
		{Date: "2026-03-05", CampaignID: 111, CampaignName: "春の新生活セール", Impressions: 9, Clicks: 1, Cost: 50}, // before the pull
		{Date: "2026-03-18", CampaignID: 111, CampaignName: "春の新生活セール", Impressions: 1520, Clicks: 38, Cost: 1234.5, Sales14d: 9800, Purchases14d: 4},
		{Date: "2026-03-18", CampaignID: 222, Impressions: 300, Clicks: 5, Cost: 99.49},
		{Date: "2026-03-19", CampaignID: 111, CampaignName: "春の新生活セール", Impressions: 2001, Clicks: 41, Cost: 1500, Sales14d: 12345.6, Purchases14d: 5},
		{Date: "2026-03-19", CampaignID: 333, CampaignName: "Brand defense", Impressions: 800, Clicks: 12, Cost: 240.25, Sales14d: 2980.5, Purchases14d: 1},
		{Date: "2026-03-20", CampaignID: 111, CampaignName: "春の新生活セール", Impressions: 700, Clicks: 9, Cost: 300}, // today: not yet
	})

	p, err := h.syncer.SyncAds(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (amazon.Progress{Stream: "ads", Pages: 1, Read: 4, Stats: kpi.WriteStats{Inserted: 4}}); p != want {
		t.Errorf("progress %+v, want %+v", p, want)
	}
	// Spend and sales are rounded to whole yen; a campaign without a name
	// goes by its id.
	h.assertStored([]kpi.AdDay{
		{Shop: adsShop.ID, Campaign: "春の新生活セール", Day: date(3, 18), Impressions: 1520, Clicks: 38, Spend: 1235, Sales: 9800, Orders: 4},
		{Shop: adsShop.ID, Campaign: "222", Day: date(3, 18), Impressions: 300, Clicks: 5, Spend: 99},
		{Shop: adsShop.ID, Campaign: "春の新生活セール", Day: date(3, 19), Impressions: 2001, Clicks: 41, Spend: 1500, Sales: 12346, Orders: 5},
		{Shop: adsShop.ID, Campaign: "Brand defense", Day: date(3, 19), Impressions: 800, Clicks: 12, Spend: 240, Sales: 2981, Orders: 1},
	}, date(3, 1), date(3, 20))
	// A first pull of less than the attribution window reaches 14 days back.
	if got, want := ranges(h.ads.Requests()), []dateRange{{"2026-03-06", "2026-03-19"}}; !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
	if got := h.cursor(); got != "2026-03-19" {
		t.Errorf("cursor %q, want 2026-03-19", got)
	}
	// Polls back off: 15 s, 30 s, then a minute.
	if got, want := h.clock.sleeps(), []time.Duration{15 * time.Second, 30 * time.Second, time.Minute}; !slices.Equal(got, want) {
		t.Errorf("slept %v, want %v", got, want)
	}
}

func TestSyncAdsWindowsAndRepull(t *testing.T) {
	h := newAdsHarness(t, adsProfile, 45*24*time.Hour)
	rows, days := adsRows(date(1, 20), date(3, 20))
	h.ads.SetRows(rows)
	pulled := between(days, date(2, 3), date(3, 19))

	// 45 days: a report of 31 days and one of 14.
	p, err := h.syncer.SyncAds(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (amazon.Progress{Stream: "ads", Pages: 2, Read: 90, Stats: kpi.WriteStats{Inserted: 90}}); p != want {
		t.Errorf("first run: progress %+v, want %+v", p, want)
	}
	want := []dateRange{{"2026-02-03", "2026-03-05"}, {"2026-03-06", "2026-03-19"}}
	if got := ranges(h.ads.Requests()); !slices.Equal(got, want) {
		t.Errorf("first run: reports %v, want %v", got, want)
	}
	if got := h.cursor(); got != "2026-03-19" {
		t.Errorf("first run: cursor %q, want 2026-03-19", got)
	}
	h.assertStored(pulled, date(1, 20), date(3, 20))

	// The same day again: only the last 14 days, which have not changed.
	p, err = h.syncer.SyncAds(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (amazon.Progress{Stream: "ads", Pages: 1, Read: 28, Stats: kpi.WriteStats{Unchanged: 28}}); p != want {
		t.Errorf("second run: progress %+v, want %+v", p, want)
	}
	want = append(want, dateRange{"2026-03-06", "2026-03-19"})
	if got := ranges(h.ads.Requests()); !slices.Equal(got, want) {
		t.Errorf("second run: reports %v, want %v", got, want)
	}
	h.assertStored(pulled, date(1, 20), date(3, 20))

	// Amazon attributes a late purchase to a click of March 10th: the
	// next pull updates that day.
	i := slices.IndexFunc(rows, func(r amazontest.AdsRow) bool { return r.Date == "2026-03-10" && r.CampaignName != "" })
	rows[i].Sales14d += 1980
	rows[i].Purchases14d++
	h.ads.SetRows(rows)
	j := slices.IndexFunc(pulled, func(a kpi.AdDay) bool { return a.Day == date(3, 10) && a.Campaign == "春の新生活セール" })
	pulled[j].Sales += 1980
	pulled[j].Orders++
	p, err = h.syncer.SyncAds(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (kpi.WriteStats{Updated: 1, Unchanged: 27}); p.Stats != want {
		t.Errorf("third run: %+v, want %+v", p.Stats, want)
	}
	h.assertStored(pulled, date(1, 20), date(3, 20))
}

func TestSyncAdsRetries(t *testing.T) {
	// The calls of one report when nothing fails.
	calls := map[string]int{"adsCreateReport": 1, "adsGetReport": 3, "adsDownload": 1}
	tests := []struct {
		op     string
		status int
	}{
		{"adsCreateReport", http.StatusTooManyRequests},
		{"adsCreateReport", http.StatusInternalServerError},
		{"adsGetReport", http.StatusTooManyRequests},
		{"adsGetReport", http.StatusInternalServerError},
		{"adsDownload", http.StatusTooManyRequests},
		{"adsDownload", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d", tt.op, tt.status), func(t *testing.T) {
			h := newAdsHarness(t, adsProfile, 14*24*time.Hour)
			rows, days := adsRows(date(3, 1), date(3, 20))
			h.ads.SetRows(rows)
			h.fake.Fail(tt.op, amazontest.Fault{Status: tt.status})

			p, err := h.syncer.SyncAds(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if want := (kpi.WriteStats{Inserted: 28}); p.Stats != want {
				t.Errorf("stats %+v, want %+v", p.Stats, want)
			}
			h.assertStored(between(days, date(3, 6), date(3, 19)), date(3, 1), date(3, 20))
			for op, n := range calls {
				if op == tt.op {
					n++
				}
				if got := h.fake.Calls(op); got != n {
					t.Errorf("%s called %d times, want %d", op, got, n)
				}
			}
			if n := len(h.ads.Requests()); n != 1 {
				t.Errorf("%d reports created, want 1", n)
			}
			if !strings.Contains(h.logs.String(), "amazon: retrying") {
				t.Errorf("the retry is not logged:\n%s", h.logs)
			}
		})
	}
}

func TestSyncAdsReportFailed(t *testing.T) {
	h := newAdsHarness(t, adsProfile, 45*24*time.Hour)
	rows, days := adsRows(date(1, 20), date(3, 20))
	h.ads.SetRows(rows)
	h.ads.FailReport(2, "Report generation failed due to an internal error")

	p, err := h.syncer.SyncAds(t.Context())
	if err == nil {
		t.Fatal("a FAILED report did not fail the sync")
	}
	if msg := err.Error(); !strings.Contains(msg, "FAILED") || !strings.Contains(msg, "internal error") {
		t.Errorf("error %q does not say the report FAILED and why", msg)
	}
	assertNoSecrets(t, "the error", err.Error())
	if p.Pages != 1 {
		t.Errorf("%d reports read, want the first one", p.Pages)
	}
	// The first window is stored and the cursor stands at its end; the
	// failed one is pulled again next time.
	if got := h.cursor(); got != "2026-03-05" {
		t.Errorf("cursor %q, want 2026-03-05", got)
	}
	h.assertStored(between(days, date(2, 3), date(3, 5)), date(1, 20), date(3, 20))
}

func TestSyncAdsWrongProfile(t *testing.T) {
	h := newAdsHarness(t, "999", 14*24*time.Hour)
	rows, _ := adsRows(date(3, 1), date(3, 20))
	h.ads.SetRows(rows)

	_, err := h.syncer.SyncAds(t.Context())
	var ae *amazon.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != "UNAUTHORIZED" {
		t.Fatalf("error %v, want Amazon's 401 UNAUTHORIZED", err)
	}
	if !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Errorf("error %q does not name Amazon's code", err)
	}
	assertNoSecrets(t, "the error", err.Error())
	if n := h.fake.Calls("adsCreateReport"); n != 1 {
		t.Errorf("adsCreateReport called %d times, want 1: a 401 is not retried", n)
	}
	if got := h.cursor(); got != "" {
		t.Errorf("cursor %q, want none", got)
	}
}

// An interrupted sync leaves a report Amazon is still building; the next
// asks for the same report, Amazon answers 425 naming it, and the sync
// uses it instead of waiting for a new one.
func TestSyncAdsDuplicateReport(t *testing.T) {
	h := newAdsHarness(t, adsProfile, 14*24*time.Hour)
	rows, days := adsRows(date(3, 1), date(3, 20))
	h.ads.SetRows(rows)

	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	h.clock.onSleep = func() {
		if n++; n == 2 {
			cancel() // while waiting for the second poll
		}
	}
	if _, err := h.syncer.SyncAds(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sync: error %v, want context.Canceled", err)
	}
	h.clock.onSleep = nil

	p, err := h.syncer.SyncAds(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (kpi.WriteStats{Inserted: 28}); p.Stats != want {
		t.Errorf("stats %+v, want %+v", p.Stats, want)
	}
	if got := h.fake.Calls("adsCreateReport"); got != 2 {
		t.Errorf("adsCreateReport called %d times, want 2", got)
	}
	if got := len(h.ads.Requests()); got != 1 {
		t.Errorf("%d reports created, want 1", got)
	}
	h.assertStored(between(days, date(3, 6), date(3, 19)), date(3, 1), date(3, 20))
}

func TestSyncAdsGivesUpWaiting(t *testing.T) {
	h := newAdsHarness(t, adsProfile, 14*24*time.Hour)
	h.ads.Stall()

	_, err := h.syncer.SyncAds(t.Context())
	if err == nil || !strings.Contains(err.Error(), "still PROCESSING") {
		t.Fatalf("error %v, want the report still PROCESSING", err)
	}
	var waited time.Duration
	for _, d := range h.clock.sleeps() {
		waited += d
	}
	if waited < time.Hour || waited > time.Hour+2*time.Minute {
		t.Errorf("waited %s for the report, want about an hour", waited)
	}
	if got := h.cursor(); got != "" {
		t.Errorf("cursor %q, want none", got)
	}
}

func TestNewAdsClient(t *testing.T) {
	ok := amazon.AdsConfig{Credentials: amazontest.Credentials, ProfileID: adsProfile}
	tests := []struct {
		name    string
		edit    func(c *amazon.AdsConfig)
		wantErr bool
	}{
		{"defaults", func(c *amazon.AdsConfig) {}, false},
		{"no profile", func(c *amazon.AdsConfig) { c.ProfileID = " " }, true},
		{"no refresh token", func(c *amazon.AdsConfig) { c.Credentials.RefreshToken = "" }, true},
		{"no client secret", func(c *amazon.AdsConfig) { c.Credentials.ClientSecret = "" }, true},
		{"endpoint not a URL", func(c *amazon.AdsConfig) { c.Endpoint = "advertising-api-fe" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			_, err := amazon.NewAdsClient(c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil {
				assertNoSecrets(t, "the error", err.Error())
			}
		})
	}
}

// The fake must turn down what Amazon turns down, or the tests above
// prove nothing.
func TestAdsFakeChecksReports(t *testing.T) {
	fake := amazontest.New(t)
	fake.Ads(adsProfile)
	token := fakeToken(t, fake)
	valid := func() amazontest.AdsRequest {
		var r amazontest.AdsRequest
		r.Name, r.StartDate, r.EndDate = "t", "2026-01-01", "2026-01-31"
		c := &r.Configuration
		c.AdProduct, c.GroupBy, c.Columns = "SPONSORED_PRODUCTS", []string{"campaign"}, slices.Clone(amazontest.AdsColumns)
		c.ReportTypeID, c.TimeUnit, c.Format = "spCampaigns", "DAILY", "GZIP_JSON"
		return r
	}
	tests := []struct {
		name        string
		edit        func(r *amazontest.AdsRequest)
		contentType string
		want        int
	}{
		{"31 days", func(r *amazontest.AdsRequest) {}, "", http.StatusOK},
		{"one day", func(r *amazontest.AdsRequest) { r.StartDate = r.EndDate }, "", http.StatusOK},
		{"32 days", func(r *amazontest.AdsRequest) { r.EndDate = "2026-02-01" }, "", http.StatusBadRequest},
		{"end before start", func(r *amazontest.AdsRequest) { r.EndDate = "2025-12-31" }, "", http.StatusBadRequest},
		{"summary", func(r *amazontest.AdsRequest) { r.Configuration.TimeUnit = "SUMMARY" }, "", http.StatusBadRequest},
		{"csv", func(r *amazontest.AdsRequest) { r.Configuration.Format = "CSV" }, "", http.StatusBadRequest},
		{"other report", func(r *amazontest.AdsRequest) { r.Configuration.ReportTypeID = "spTargeting" }, "", http.StatusBadRequest},
		{"no purchases14d", func(r *amazontest.AdsRequest) { r.Configuration.Columns = r.Configuration.Columns[:7] }, "", http.StatusBadRequest},
		{"by ad group", func(r *amazontest.AdsRequest) { r.Configuration.GroupBy = []string{"adGroup"} }, "", http.StatusBadRequest},
		{"plain JSON", func(r *amazontest.AdsRequest) {}, "application/json", http.StatusUnsupportedMediaType},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			r.Name = fmt.Sprint(i) // not a duplicate of another case's
			tt.edit(&r)
			body, _ := json.Marshal(r)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fake.URL+"/reporting/reports", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Amazon-Advertising-API-ClientId", amazontest.Credentials.ClientID)
			req.Header.Set("Amazon-Advertising-API-Scope", adsProfile)
			req.Header.Set("Content-Type", cmp.Or(tt.contentType, "application/vnd.createasyncreportrequest.v3+json"))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Errorf("HTTP %d, want %d", res.StatusCode, tt.want)
			}
		})
	}
}

// fakeToken gets an access token from the fake's Login with Amazon.
func fakeToken(t *testing.T, fake *amazontest.Server) string {
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
		t.Fatalf("no access token: %v", err)
	}
	return out.AccessToken
}
