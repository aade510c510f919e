package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/amazon"
	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
	"github.com/kpibot/kpibot/connectors/shopify/shopifytest"
	"github.com/kpibot/kpibot/connectors/yahoo/yahootest"
	"github.com/kpibot/kpibot/kpi"
)

// runWith runs kpibot with the environment vars.
func runWith(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := testEnv(&out, &errOut, "", args...)
	e.getenv = func(k string) string { return vars[k] }
	code = run(context.Background(), e)
	if strings.Contains(errOut.String(), "goroutine ") || strings.Contains(errOut.String(), "panic") {
		t.Errorf("a stack trace reached the user:\n%s", errOut.String())
	}
	return code, out.String(), errOut.String()
}

func TestSyncRefusesWhatItCannotDo(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sync.db")
	write := func(name, yaml string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	noShops := write("none.yaml", "alerts:\n  resend_after: 30m\n")
	amazonShop := write("amazon.yaml", "shops:\n  - id: amz\n    platform: amazon\n    amazon:\n      refresh_token_env: AMAZON_REFRESH_TOKEN_AMZ\n")
	rakutenOnly := write("rakuten.yaml", "shops:\n  - id: rk\n    platform: rakuten\n")
	secrets := map[string]string{"AMAZON_LWA_CLIENT_ID": "amzn1.application-oa2-client.x", "AMAZON_LWA_CLIENT_SECRET": "very-secret-value"}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"no config", nil, nil, "No shops are configured"},
		{"no shops", nil, []string{"--config", noShops}, "No shops are configured"},
		{"unknown shop", nil, []string{"--config", amazonShop, "--shop", "nope"}, `No shop "nope" is configured.`},
		{"no connector", nil, []string{"--config", rakutenOnly}, "None of the configured shops has a connector yet"},
		{"secrets missing", secrets, []string{"--config", amazonShop}, "not set in the environment: AMAZON_REFRESH_TOKEN_AMZ."},
		{"all secrets missing", nil, []string{"--config", amazonShop},
			"not set in the environment: AMAZON_LWA_CLIENT_ID, AMAZON_LWA_CLIENT_SECRET, AMAZON_REFRESH_TOKEN_AMZ."},
		{"arguments", nil, []string{"now"}, `kpibot sync takes no arguments, but got "now".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runWith(t, tt.vars, append([]string{"sync", "--db", db}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", code, out, errOut, tt.want)
			}
			if strings.Contains(errOut, "very-secret-value") {
				t.Errorf("a secret reached stderr:\n%s", errOut)
			}
		})
	}
}

// kpibot sync pulls a configured Amazon shop from a fake SP-API and Amazon
// Ads into the database (120 orders and their packages, an ads day), says
// what each stream did, and a second run stores nothing new; the secrets
// never reach the output.
func TestSyncAmazonShop(t *testing.T) {
	fake := amazontest.New(t)
	model, err := os.ReadFile("../../connectors/amazon/testdata/spec/orders_2026-01-01.json")
	if err != nil {
		t.Fatal(err)
	}
	ex := amazontest.ExampleOrders(t, model, "searchOrders")[0]
	var orders []amazontest.Order
	before := 0 // placed before today (JST): the last 7 days' orders
	for i := range 120 {
		o := ex.Clone()
		placed := demoNow.Add(-time.Duration(i+1) * time.Hour)
		o.Set(fmt.Sprintf("250-0000000-%07d", i), "orderId")
		o.Set(placed.UTC().Format(time.RFC3339), "createdTime")
		o.Set(placed.Add(30*time.Minute).UTC().Format(time.RFC3339), "lastUpdatedTime")
		o.Set(amazon.MarketplaceJP, "salesChannel", "marketplaceId")
		o.Set(map[string]any{"amount": "3980", "currencyCode": "JPY"}, "proceeds", "grandTotal")
		orders = append(orders, o)
		if kpi.DateOf(placed) < kpi.DateOf(demoNow) {
			before++
		}
	}
	fake.ServeOrders().Set(orders...)
	fake.ServeReports(func() time.Time { return demoNow }) // no report has data: each ends CANCELLED
	fake.Ads("3623541285746239").SetRows([]amazontest.AdsRow{
		{Date: "2026-11-26", CampaignID: 1, CampaignName: "SP-耳机-自动", Impressions: 12000, Clicks: 240, Cost: 9600, Sales14d: 38000, Purchases14d: 11},
	})

	dir := t.TempDir()
	db := filepath.Join(dir, "sync.db")
	config := filepath.Join(dir, "kpibot.yaml")
	yaml := fmt.Sprintf(`shops:
  - id: amz
    platform: amazon
    name: Amazon JP Main
    amazon:
      endpoint: %[1]s
      token_url: %[1]s/auth/o2/token
      ads_endpoint: %[1]s
      ads_profile_id: "3623541285746239"
`, fake.URL)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"AMAZON_LWA_CLIENT_ID": amazontest.Credentials.ClientID,
		"AMAZON_LWA_CLIENT_SECRET": amazontest.Credentials.ClientSecret, "AMAZON_REFRESH_TOKEN": amazontest.Credentials.RefreshToken}
	sync := func() (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		e := testEnv(&out, &errOut, "", "sync", "--db", db, "--config", config, "--shop", "amz")
		e.getenv = func(k string) string { return vars[k] }
		e.sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() } // the fake's polls, at once
		if code := run(context.Background(), e); code != 0 {
			t.Fatalf("exit %d:\n%s\n%s", code, out.String(), errOut.String())
		}
		for _, secret := range []string{amazontest.Credentials.ClientSecret, amazontest.Credentials.RefreshToken, "Atza|"} {
			if strings.Contains(out.String()+errOut.String(), secret) {
				t.Errorf("a secret reached the output:\n%s", errOut.String())
			}
		}
		return out.String(), errOut.String()
	}
	out, _ := sync()
	for _, want := range []string{"amz · orders: 120 read, 240 new", "amz · report:returns: 0 read", "amz · ads: 1 read, 1 new"} {
		if !strings.Contains(out, want) {
			t.Errorf("the first sync does not say %q:\n%s", want, out)
		}
	}
	out, _ = sync()
	if !strings.Contains(out, "amz · orders: ") || !strings.Contains(out, " 0 new") || strings.Contains(out, "120 new") {
		t.Errorf("the second sync stored something new:\n%s", out)
	}
	code, answer, errOut := exec(t, "", "ask", "--db", db, "--lang", "en", "/kpi orders amz last 7 days")
	if code != 0 || !strings.Contains(answer, fmt.Sprintf("Amazon JP Main  %d", before)) {
		t.Errorf("the synced orders are not in the answer: exit %d\n%s\n%s", code, answer, errOut)
	}
}

// serve pulls a configured shop as it starts, and on its schedule after.
func TestServePullsConfiguredShops(t *testing.T) {
	fake := amazontest.New(t)
	model, err := os.ReadFile("../../connectors/amazon/testdata/spec/orders_2026-01-01.json")
	if err != nil {
		t.Fatal(err)
	}
	o := amazontest.ExampleOrders(t, model, "searchOrders")[0].Clone()
	o.Set("250-1111111-2222222", "orderId")
	o.Set(demoNow.Add(-2*time.Hour).UTC().Format(time.RFC3339), "createdTime")
	o.Set(demoNow.Add(-time.Hour).UTC().Format(time.RFC3339), "lastUpdatedTime")
	o.Set(amazon.MarketplaceJP, "salesChannel", "marketplaceId")
	fake.ServeOrders().Set(o)
	fake.ServeReports(func() time.Time { return demoNow })

	dir := t.TempDir()
	db := filepath.Join(dir, "serve.db")
	config := filepath.Join(dir, "kpibot.yaml")
	yaml := fmt.Sprintf("shops:\n  - id: amz\n    platform: amazon\n    sync_every: 10m\n    amazon:\n      endpoint: %[1]s\n      token_url: %[1]s/auth/o2/token\n", fake.URL)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, map[string]string{"KPIBOT_ADDR": "127.0.0.1:0", "KPIBOT_DB": db, "KPIBOT_CONFIG": config,
		"AMAZON_LWA_CLIENT_ID": amazontest.Credentials.ClientID, "AMAZON_LWA_CLIENT_SECRET": amazontest.Credentials.ClientSecret,
		"AMAZON_REFRESH_TOKEN": amazontest.Credentials.RefreshToken})
	// The reports come after the orders: once one is asked for, the orders
	// are stored.
	for i := 0; fake.Calls("createReport") == 0; i++ {
		if i == 200 {
			t.Fatalf("serve did not pull the shop within 10 s:\n%s", s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.stderr)
	}
	code, out, errOut := exec(t, "", "ask", "--db", db, "--lang", "en", "/kpi orders amz today")
	if code != 0 || !strings.Contains(out, "Value     1") {
		t.Errorf("the pulled order is not in the answer: exit %d\n%s\n%s", code, out, errOut)
	}
	noSecrets(t, s.stderr.String())
	if strings.Contains(s.stderr.String(), amazontest.Credentials.ClientSecret) || strings.Contains(s.stderr.String(), amazontest.Credentials.RefreshToken) {
		t.Errorf("an Amazon secret reached the log:\n%s", s.stderr)
	}
}

// kpibot sync pulls a Rakuten, a Yahoo! and a Shopify shop from their
// fakes, each with its secrets from the environment.
func TestSyncRakutenYahooShopify(t *testing.T) {
	now, sleep := movingClock(demoNow) // the rate limits' waits pass at once
	yh := yahootest.New(t)
	yh.Now = now
	var yhOrders []yahootest.Order
	for i := range 20 {
		at := demoNow.Add(-time.Duration(i+2) * time.Hour)
		yhOrders = append(yhOrders, yahootest.Order{OrderID: fmt.Sprintf("kpibot-test-store-%05d", 10000+i), OrderTime: at,
			LastUpdateTime: at, OrderStatus: 2, ShipStatus: 1, TotalPrice: 4980,
			Items: []yahootest.Item{{ItemID: "case-01", Title: "スマホケース", UnitPrice: 4980, Quantity: 1}},
			Bill:  yahootest.Person{LastName: "山田", FirstName: "花子", MailAddress: "hanako@example.jp", PhoneNumber: "090-1234-5678"}})
	}
	yh.Set(yhOrders...)
	rk := rakutentest.New(t)
	var rkOrders []rakutentest.Order
	for i := range 30 {
		rkOrders = append(rkOrders, rakutentest.NewOrder(fmt.Sprintf("123456-20261127-%010d", i), demoNow.Add(-time.Duration(i+2)*time.Hour)))
	}
	rk.Set(rkOrders...)
	sp := shopifytest.New(t, func() time.Time { return demoNow })
	for i := range 12 {
		at := demoNow.Add(-time.Duration(i+2) * time.Hour)
		sp.Set(shopifytest.Order{ID: fmt.Sprintf("gid://shopify/Order/%d", 5000+i), Name: fmt.Sprintf("#%d", 1000+i), CreatedAt: at,
			UpdatedAt: at.Add(time.Minute), FinancialStatus: "PAID", FulfillmentStatus: "UNFULFILLED", Quantity: 1, Total: "2980.0",
			Email: "hanako@example.jp"})
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "kpibot.yaml")
	yaml := fmt.Sprintf(`shops:
  - id: rk
    platform: rakuten
    rakuten:
      endpoint: %s
  - id: sp
    platform: shopify
    shopify:
      store: %s
      endpoint: %s
  - id: yh
    platform: yahoo
    yahoo:
      seller_id: %s
      key_version: "%s"
      endpoint: %s
`, rk.URL, shopifytest.Store, sp.URL, yahootest.SellerID, yahootest.KeyVersion, yh.URL)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"RAKUTEN_SERVICE_SECRET": rakutentest.ServiceSecret, "RAKUTEN_LICENSE_KEY": rakutentest.LicenseKey,
		"SHOPIFY_ACCESS_TOKEN": shopifytest.Token, "YAHOO_ACCESS_TOKEN": yahootest.Token,
		"YAHOO_PUBLIC_KEY": yahootest.PublicKeyPEM(t, yahootest.StoreKey(t))}
	var out, errOut bytes.Buffer
	e := testEnv(&out, &errOut, "", "sync", "--db", filepath.Join(dir, "s.db"), "--config", config)
	e.getenv = func(k string) string { return vars[k] }
	e.now, e.sleep = now, sleep
	if code := run(context.Background(), e); code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"rk · orders: 30 read, 30 new", "sp · orders: 12 read, 12 new", "yh · orders: 20 read, 20 new"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	for _, secret := range []string{rakutentest.LicenseKey, rakutentest.ServiceSecret, shopifytest.Token, yahootest.Token,
		"hanako@example.jp", "090-1234-5678"} {
		if strings.Contains(out.String()+errOut.String(), secret) {
			t.Errorf("%q reached the output", secret)
		}
	}
}

// movingClock is a clock that a wait moves on at once: the connectors'
// rate limits and backoffs take no real time, yet see it pass.
func movingClock(start time.Time) (now func() time.Time, sleep func(context.Context, time.Duration) error) {
	var mu sync.Mutex
	at := start
	now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return at
	}
	sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(d)
		return ctx.Err()
	}
	return now, sleep
}
