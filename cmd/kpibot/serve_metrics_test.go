package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/connectors/amazon"
	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
	"github.com/kpibot/kpibot/internal/metrics/metricstest"
	"github.com/kpibot/kpibot/kpi"
)

// slackWith429 is the fake Slack Web API answering its first
// chat.postMessage 429, as Slack does past its rate limit.
func slackWith429(t *testing.T) (*fakeSlackAPI, string) {
	fake := newFakeSlackAPI(t)
	var limited atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/chat.postMessage" && limited.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fake.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return fake, srv.URL
}

// seedAlertsAndOutbox writes alert episodes about shop, which has no data
// (so that no evaluation changes them), and outbox items not due yet.
func seedAlertsAndOutbox(t *testing.T, db, shop string) {
	t.Helper()
	ctx := context.Background()
	store, err := openStore(ctx, env{now: func() time.Time { return demoNow }}, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{{ID: shop, Platform: kpi.Rakuten, Name: "Rakuten Down", Currency: "JPY"}}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		metric string
		state  kpi.AlertState
	}{
		{"return_rate", kpi.AlertOpen}, {"cancel_rate", kpi.AlertOpen}, {"acos", kpi.AlertAcked},
		{"ship_24h_rate", kpi.AlertSnoozed}, {"roas", kpi.AlertResolved},
	} {
		al := &kpi.Alert{Key: a.metric + ":" + shop, Metric: a.metric, Shop: shop, Severity: kpi.SeverityWarning, State: a.state,
			Opened: demoNow.Add(-time.Hour), Updated: demoNow.Add(-time.Hour), Notified: demoNow.Add(-time.Hour), Target: 0.05}
		if a.state == kpi.AlertResolved {
			al.Resolved = demoNow.Add(-time.Minute)
		}
		if err := store.SaveAlert(ctx, al); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if _, err := store.Enqueue(ctx, kpi.OutboxItem{Key: fmt.Sprintf("test:later:%d", i), Platform: "slack", Channel: "C9",
			Payload: []byte(`{}`), Created: demoNow, NextTry: demoNow.Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
}

// lineWebhook posts a webhook with one text message, signed with secret.
func lineWebhook(t *testing.T, s *server, secret, eventID, text string) int {
	t.Helper()
	code, err := postLINE(s.base, secret, lineEvent(eventID, "rt-"+eventID, text, false))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// freeAddr is a 127.0.0.1 address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeMetrics drives real traffic through serve, with Slack, LINE
// (and its chart links) and two Rakuten shops (one down) configured, then
// reads every series of /metrics.
func TestServeMetrics(t *testing.T) {
	slackFake, slackURL := slackWith429(t)
	lineFake := linetest.NewServer(t)
	lineFake.SetQuota(1000, 10)
	amz := amazontest.New(t)
	model, err := os.ReadFile("../../connectors/amazon/testdata/spec/orders_2026-01-01.json")
	if err != nil {
		t.Fatal(err)
	}
	var orders []amazontest.Order
	for i := range 3 {
		o := amazontest.ExampleOrders(t, model, "searchOrders")[0].Clone()
		o.Set(fmt.Sprintf("250-1111111-%07d", i), "orderId")
		o.Set(demoNow.Add(-time.Duration(i+2)*time.Hour).UTC().Format(time.RFC3339), "createdTime")
		o.Set(demoNow.Add(-time.Hour).UTC().Format(time.RFC3339), "lastUpdatedTime")
		o.Set(amazon.MarketplaceJP, "salesChannel", "marketplaceId")
		orders = append(orders, o)
	}
	amz.ServeOrders().Set(orders...)
	amz.ServeReports(func() time.Time { return demoNow })
	// A Rakuten shop whose keys RMS refuses: its pulls fail.
	refused := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}`)
	}))
	t.Cleanup(refused.Close)

	dir := t.TempDir()
	db := filepath.Join(dir, "serve.db")
	seedAlertsAndOutbox(t, db, "rk-down")
	config := filepath.Join(dir, "kpibot.yaml")
	// Only the alerts seeded: the rules that would open more on these
	// nearly empty shops are off.
	yaml := fmt.Sprintf(`shops:
  - id: amz
    platform: amazon
    amazon:
      endpoint: %[1]s
      token_url: %[1]s/auth/o2/token
  - id: rk-down
    platform: rakuten
    name: Rakuten Down
    rakuten:
      endpoint: %[2]s
alerts:
  rules:
    - metric: jp_cs_coverage
      disabled: true
    - metric: freshness
      disabled: true
`, amz.URL, refused.URL)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	s := startServe(t, map[string]string{
		"KPIBOT_ADDR":               addr,
		"KPIBOT_DB":                 db,
		"KPIBOT_CONFIG":             config,
		"KPIBOT_PUBLIC_URL":         "http://" + addr,
		"SLACK_SIGNING_SECRET":      testSigningSecret,
		"SLACK_BOT_TOKEN":           testBotToken,
		"SLACK_API_URL":             slackURL + "/api",
		"LINE_CHANNEL_SECRET":       testLineSecret,
		"LINE_CHANNEL_ACCESS_TOKEN": testLineToken,
		"LINE_API_URL":              lineFake.URL,
		"RAKUTEN_SERVICE_SECRET":    rakutentest.ServiceSecret,
		"RAKUTEN_LICENSE_KEY":       rakutentest.LicenseKey,
		"AMAZON_LWA_CLIENT_ID":      amazontest.Credentials.ClientID,
		"AMAZON_LWA_CLIENT_SECRET":  amazontest.Credentials.ClientSecret,
		"AMAZON_REFRESH_TOKEN":      amazontest.Credentials.RefreshToken,
	})

	if code, body := s.get(t, "/readyz"); code != http.StatusOK || body != "ready" {
		t.Errorf("GET /readyz: %d %q, want 200 ready", code, body)
	}
	if code, body := s.get(t, "/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}
	// Slack: a signed command, a forged one, a mention answered through
	// chat.postMessage (429 first, then posted).
	form := url.Values{"command": {"/kpi"}, "text": {"help"}, "team_id": {"T1"}, "user_id": {"U1"},
		"channel_id": {"C1"}, "response_url": {slackURL + "/response"}}.Encode()
	if resp, body := s.post(t, "/slack/commands", "application/x-www-form-urlencoded", form, testSigningSecret); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed /kpi help: %s %s", resp.Status, body)
	}
	if resp, _ := s.post(t, "/slack/commands", "application/x-www-form-urlencoded", form, "not-the-secret"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged /kpi help: %s, want 401", resp.Status)
	}
	event := `{"type":"event_callback","team_id":"T1","event_id":"EvM1","event":{"type":"app_mention",` +
		`"user":"U1","text":"<@UKPIBOT> help","channel":"C1","ts":"1700000000.000100"}}`
	if resp, body := s.post(t, "/slack/events", "application/json", event, testSigningSecret); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed event: %s %s", resp.Status, body)
	}
	// LINE: a signed webhook answered by reply, a forged one; a chart link
	// that is not one.
	if code := lineWebhook(t, s, testLineSecret, "01JMETRICS000000000000000001", "help"); code != http.StatusOK {
		t.Errorf("signed webhook: %d", code)
	}
	if code := lineWebhook(t, s, "not-the-secret", "01JMETRICS000000000000000002", "help"); code != http.StatusUnauthorized {
		t.Errorf("forged webhook: %d, want 401", code)
	}
	if code, _ := s.get(t, "/charts/forged.png"); code != http.StatusForbidden {
		t.Errorf("GET a forged chart link: %d, want 403", code)
	}
	if code, _ := s.get(t, "/no/such/page/12345"); code != http.StatusNotFound {
		t.Errorf("GET an unknown path: %d, want 404", code)
	}

	// The answers in the background and the syncs at the start: wait for them.
	var m metricstest.Samples
	done := func() bool {
		m = metricstest.Scrape(t, s.base+"/metrics")
		posted, _ := m.Get("kpibot_chat_api_request_duration_seconds_count", "platform", "slack", "method", "chat.postMessage")
		replied, _ := m.Get("kpibot_chat_api_request_duration_seconds_count", "platform", "line", "method", "/v2/bot/message/reply")
		_, synced := m.Get("kpibot_sync_rows_total", "shop", "amz", "stream", "report:returns", "result", "inserted")
		failed, _ := m.Get("kpibot_sync_errors_total", "shop", "rk-down")
		return posted == 2 && replied == 1 && synced && failed == 1 && slackFake.postCount() == 1
	}
	for deadline := time.Now().Add(15 * time.Second); !done(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the answers and syncs did not show within 15 s:\n%s\n\nlog:\n%s", m, s.stderr)
		}
	}

	want := func(v float64, name string, labels ...string) {
		t.Helper()
		got, ok := m.Get(name, labels...)
		if !ok {
			t.Errorf("no %s; the samples of %s:\n%s", metricstest.Key(name, labels...), name, strings.Join(m.Keys(name), "\n"))
		} else if got != v {
			t.Errorf("%s = %g, want %g", metricstest.Key(name, labels...), got, v)
		}
	}
	const reqs = "kpibot_http_requests_total"
	want(1, reqs, "endpoint", "POST /slack/commands", "code", "200")
	want(1, reqs, "endpoint", "POST /slack/commands", "code", "401")
	want(1, reqs, "endpoint", "POST /slack/events", "code", "200")
	want(1, reqs, "endpoint", "POST /line/webhook", "code", "200")
	want(1, reqs, "endpoint", "POST /line/webhook", "code", "401")
	want(1, reqs, "endpoint", "GET /charts/{id}", "code", "403")
	want(1, reqs, "endpoint", "unmatched", "code", "404")
	want(1, reqs, "endpoint", "GET /healthz", "code", "200")
	want(1, reqs, "endpoint", "GET /readyz", "code", "200")
	want(2, "kpibot_http_request_duration_seconds_count", "endpoint", "POST /slack/commands")
	for _, k := range m.Keys(reqs) {
		if strings.Contains(k, "12345") || strings.Contains(k, "forged") {
			t.Errorf("a raw path became a label: %s", k)
		}
	}

	const sig = "kpibot_signature_failures_total"
	want(1, sig, "platform", "slack")
	want(1, sig, "platform", "line")
	want(1, sig, "platform", "line_chart_link")

	want(6, "kpibot_sync_rows_total", "shop", "amz", "stream", "orders", "result", "inserted") // 3 orders and their packages
	want(0, "kpibot_sync_rows_total", "shop", "amz", "stream", "orders", "result", "updated")
	want(0, "kpibot_sync_rows_total", "shop", "amz", "stream", "orders", "result", "rejected")
	want(0, "kpibot_sync_errors_total", "shop", "amz")
	want(1, "kpibot_sync_errors_total", "shop", "rk-down")

	want(2, "kpibot_alerts", "state", "open")
	want(1, "kpibot_alerts", "state", "acked")
	want(1, "kpibot_alerts", "state", "snoozed")
	if keys := m.Keys("kpibot_alerts"); len(keys) != 3 {
		t.Errorf("kpibot_alerts: %v, want open, acked and snoozed (resolved episodes are not counted)", keys)
	}
	want(2, "kpibot_outbox_pending")

	const chat = "kpibot_chat_api_request_duration_seconds_count"
	want(2, chat, "platform", "slack", "method", "chat.postMessage")
	want(1, chat, "platform", "line", "method", "/v2/bot/message/reply")
	want(1, chat, "platform", "line", "method", "/v2/bot/message/quota")
	want(1, chat, "platform", "line", "method", "/v2/bot/message/quota/consumption")
	want(1, "kpibot_chat_api_rate_limited_total", "platform", "slack")
	want(0, "kpibot_chat_api_rate_limited_total", "platform", "line")

	want(990, "kpibot_line_quota_remaining")
	if n := lineFake.Calls("getMessageQuota"); n != 1 {
		t.Errorf("LINE's quota was read %d times over several scrapes, want once (cached for 5 minutes)", n)
	}
	if len(m.Keys("go_goroutines")) == 0 || len(m.Keys("process_cpu_seconds_total")) == 0 {
		t.Error("no Go or process metrics")
	}
	for _, family := range []string{reqs, "kpibot_http_request_duration_seconds", sig, "kpibot_sync_rows_total", "kpibot_sync_errors_total",
		"kpibot_alerts", "kpibot_outbox_pending", "kpibot_chat_api_request_duration_seconds", "kpibot_chat_api_rate_limited_total",
		"kpibot_line_quota_remaining"} {
		if m.Help(family) == "" {
			t.Errorf("%s has no help text", family)
		}
	}

	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d:\n%s", code, s.stderr)
	}
	noSecrets(t, s.stderr.String())
}

// Without a chat platform serve is alive but not ready, and says why.
func TestServeNotReadyWithoutPlatform(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	s := startServe(t, map[string]string{"KPIBOT_ADDR": "127.0.0.1:0", "KPIBOT_DB": db})
	if code, body := s.get(t, "/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}
	code, body := s.get(t, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready:\n") ||
		!strings.Contains(body, "chat: no platform is configured (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, or LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN)") ||
		strings.Contains(body, "store") || strings.Contains(body, "scheduler") {
		t.Errorf("GET /readyz: %d %q; want 503 naming only the missing chat platform", code, body)
	}
	// /metrics is served all the same.
	m := metricstest.Scrape(t, s.base+"/metrics")
	if v, ok := m.Get("kpibot_http_requests_total", "endpoint", "GET /readyz", "code", "503"); v != 1 || !ok {
		t.Errorf("the 503 of /readyz was not counted:\n%s", strings.Join(m.Keys("kpibot_http_requests_total"), "\n"))
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d:\n%s", code, s.stderr)
	}
}
