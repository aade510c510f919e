package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/internal/metrics/metricstest"
	"github.com/kpibot/kpibot/kpi"
)

// logBuffer is a log the collectors may write while the test reads it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveMetrics serves m's endpoint on 127.0.0.1 and returns its URL.
func serveMetrics(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

func want(t *testing.T, s metricstest.Samples, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := s.Get(name, labels...)
	if !ok {
		t.Errorf("no sample %s; the samples of %s:\n%s", metricstest.Key(name, labels...), name, strings.Join(s.Keys(name), "\n"))
		return
	}
	if got != v {
		t.Errorf("%s = %g, want %g", metricstest.Key(name, labels...), got, v)
	}
}

func absent(t *testing.T, s metricstest.Samples, name string) {
	t.Helper()
	if keys := s.Keys(name); len(keys) > 0 {
		t.Errorf("%s should be absent, got:\n%s", name, strings.Join(keys, "\n"))
	}
}

func TestInstrument(t *testing.T) {
	m := New(Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/commands", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok") // 200 without WriteHeader
	})
	mux.HandleFunc("POST /slack/events", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc("GET /charts/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "" {
			t.Error("the wrapped mux lost the path values")
		}
		// The handler reaches the connection's writer through Unwrap.
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the wrapper: %v", err)
		}
		io.WriteString(w, "png") // the status went with the flush: 200
	})
	mux.HandleFunc("GET /quiet", func(http.ResponseWriter, *http.Request) {}) // writes nothing: 200
	mux.Handle("GET /metrics", m.Handler())
	srv := httptest.NewServer(m.Instrument(mux))
	defer srv.Close()

	do := func(method, path string, wantCode int) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader("x"))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != wantCode {
			t.Errorf("%s %s: %d, want %d", method, path, resp.StatusCode, wantCode)
		}
	}
	do("POST", "/slack/commands", 200)
	do("POST", "/slack/commands", 200)
	do("POST", "/slack/events", 401)
	do("GET", "/charts/abc.png", 200)
	do("GET", "/charts/def.png", 200)
	do("GET", "/quiet", 200)
	do("GET", "/nope/12345", 404)
	do("GET", "/slack/commands", 405)

	s := metricstest.Scrape(t, srv.URL+"/metrics")
	const reqs, dur = "kpibot_http_requests_total", "kpibot_http_request_duration_seconds"
	want(t, s, 2, reqs, "endpoint", "POST /slack/commands", "code", "200")
	want(t, s, 1, reqs, "endpoint", "POST /slack/events", "code", "401")
	want(t, s, 2, reqs, "endpoint", "GET /charts/{id}", "code", "200")
	want(t, s, 1, reqs, "endpoint", "GET /quiet", "code", "200")
	want(t, s, 1, reqs, "endpoint", "unmatched", "code", "404")
	want(t, s, 1, reqs, "endpoint", "unmatched", "code", "405") // wrong method: no pattern matched
	want(t, s, 2, dur+"_count", "endpoint", "GET /charts/{id}")
	want(t, s, 2, dur+"_count", "endpoint", "unmatched")
	for _, k := range s.Keys(reqs) {
		if strings.Contains(k, "abc") || strings.Contains(k, "12345") {
			t.Errorf("a raw path became a label: %s", k)
		}
	}
	if s.Type(reqs) != "counter" || s.Type(dur) != "histogram" || s.Help(reqs) == "" || s.Help(dur) == "" {
		t.Errorf("%s: %s %q; %s: %s %q", reqs, s.Type(reqs), s.Help(reqs), dur, s.Type(dur), s.Help(dur))
	}
	// The scrape itself was counted once it was answered: the next one sees it.
	want(t, metricstest.Scrape(t, srv.URL+"/metrics"), 1, reqs, "endpoint", "GET /metrics", "code", "200")
}

func TestRuntimeCollectors(t *testing.T) {
	s := metricstest.Scrape(t, serveMetrics(t, New(Config{})))
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if len(s.Keys(name)) == 0 {
			t.Errorf("no %s", name)
		}
	}
}

func TestSignatureFailures(t *testing.T) {
	m := New(Config{})
	var slack, line int64 = 3, 0
	m.SignatureFailures("slack", func() int64 { return slack })
	m.SignatureFailures("line", func() int64 { return line })
	m.SignatureFailures("line_chart_link", func() int64 { return 7 })
	url := serveMetrics(t, m)
	s := metricstest.Scrape(t, url)
	const name = "kpibot_signature_failures_total"
	want(t, s, 3, name, "platform", "slack")
	want(t, s, 0, name, "platform", "line")
	want(t, s, 7, name, "platform", "line_chart_link")
	if s.Type(name) != "counter" || s.Help(name) == "" {
		t.Errorf("%s: type %q, help %q", name, s.Type(name), s.Help(name))
	}
	slack, line = 4, 1 // read at each scrape
	s = metricstest.Scrape(t, url)
	want(t, s, 4, name, "platform", "slack")
	want(t, s, 1, name, "platform", "line")
}

func TestSync(t *testing.T) {
	m := New(Config{})
	amazon, rakuten, idle := m.Sync("amazon-main"), m.Sync("rakuten-1"), m.Sync("yahoo-1")
	_ = idle // never pulled: its errors are there, at 0
	amazon([]kpi.SyncProgress{
		{Stream: "orders", Read: 12, Stats: kpi.WriteStats{Inserted: 10, Updated: 1, Unchanged: 1}},
		{Stream: "report:returns", Read: 3, Rejected: 1, Stats: kpi.WriteStats{Inserted: 2}},
	}, nil)
	amazon([]kpi.SyncProgress{{Stream: "orders", Read: 5, Stats: kpi.WriteStats{Inserted: 1, Unchanged: 4}}}, nil)
	rakuten([]kpi.SyncProgress{{Stream: "orders", Read: 2, Stats: kpi.WriteStats{Inserted: 2}}}, errors.New("rakuten: 503"))
	rakuten(nil, fmt.Errorf("rakuten: sync: %w", context.Canceled)) // serve stopping: not a failure
	rakuten(nil, errors.New("rakuten: 401"))

	s := metricstest.Scrape(t, serveMetrics(t, m))
	const rows, errs = "kpibot_sync_rows_total", "kpibot_sync_errors_total"
	for _, c := range []struct {
		shop, stream, result string
		n                    float64
	}{
		{"amazon-main", "orders", "inserted", 11},
		{"amazon-main", "orders", "updated", 1},
		{"amazon-main", "orders", "unchanged", 5},
		{"amazon-main", "orders", "rejected", 0},
		{"amazon-main", "report:returns", "inserted", 2},
		{"amazon-main", "report:returns", "rejected", 1},
		{"rakuten-1", "orders", "inserted", 2},
	} {
		want(t, s, c.n, rows, "shop", c.shop, "stream", c.stream, "result", c.result)
	}
	want(t, s, 0, errs, "shop", "amazon-main")
	want(t, s, 2, errs, "shop", "rakuten-1")
	want(t, s, 0, errs, "shop", "yahoo-1")
	if s.Help(rows) == "" || s.Help(errs) == "" {
		t.Error("no help text")
	}
}

// fakeStore answers the gauges' queries.
type fakeStore struct {
	mu      sync.Mutex
	counts  map[string]int
	pending int
	err     error
	block   bool // wait for the context to end
}

func (f *fakeStore) AlertCounts(ctx context.Context) (map[string]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return f.counts, f.err
}

func (f *fakeStore) Pending(ctx context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return f.pending, f.err
}

func TestWatchStore(t *testing.T) {
	var log logBuffer
	m := New(Config{Log: slog.New(slog.NewTextHandler(&log, nil))})
	m.SignatureFailures("slack", func() int64 { return 0 })
	store := &fakeStore{counts: map[string]int{"open": 2, "snoozed": 1}, pending: 4}
	m.WatchStore(store)
	url := serveMetrics(t, m)

	s := metricstest.Scrape(t, url)
	want(t, s, 2, "kpibot_alerts", "state", "open")
	want(t, s, 0, "kpibot_alerts", "state", "acked") // every state is there, 0 included
	want(t, s, 1, "kpibot_alerts", "state", "snoozed")
	want(t, s, 4, "kpibot_outbox_pending")
	if s.Type("kpibot_alerts") != "gauge" || s.Type("kpibot_outbox_pending") != "gauge" || s.Help("kpibot_alerts") == "" {
		t.Errorf("types %q %q", s.Type("kpibot_alerts"), s.Type("kpibot_outbox_pending"))
	}

	// A store that fails: the scrape goes on without the store's series,
	// and the failure is logged.
	store.mu.Lock()
	store.err = errors.New("sqlite: database is locked")
	store.mu.Unlock()
	s = metricstest.Scrape(t, url)
	absent(t, s, "kpibot_alerts")
	absent(t, s, "kpibot_outbox_pending")
	want(t, s, 0, "kpibot_signature_failures_total", "platform", "slack")
	if !strings.Contains(log.String(), "database is locked") {
		t.Errorf("the failure was not logged:\n%s", log.String())
	}
}

func TestWatchStoreTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the store's timeout")
	}
	var log logBuffer
	m := New(Config{Log: slog.New(slog.NewTextHandler(&log, nil))})
	m.WatchStore(&fakeStore{block: true})
	start := time.Now()
	s := metricstest.Scrape(t, serveMetrics(t, m))
	if took := time.Since(start); took > StoreTimeout+3*time.Second {
		t.Errorf("a store that does not answer held the scrape %s", took)
	}
	absent(t, s, "kpibot_alerts")
	if !strings.Contains(log.String(), "deadline exceeded") {
		t.Errorf("the timeout was not logged:\n%s", log.String())
	}
}

func TestLINEQuota(t *testing.T) {
	var log logBuffer
	now := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	m := New(Config{Log: slog.New(slog.NewTextHandler(&log, nil)), Now: clock})
	reads := 0
	left, fail := int64(990), error(nil)
	m.WatchLINEQuota(func(ctx context.Context) (int64, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the quota is read without a deadline")
		}
		reads++
		return left, fail
	})
	url := serveMetrics(t, m)
	const name = "kpibot_line_quota_remaining"

	want(t, metricstest.Scrape(t, url), 990, name)
	left = 980
	advance(QuotaEvery - time.Second)
	want(t, metricstest.Scrape(t, url), 990, name) // cached
	want(t, metricstest.Scrape(t, url), 990, name)
	if reads != 1 {
		t.Errorf("%d reads in under 5 minutes, want 1", reads)
	}
	advance(time.Second)
	want(t, metricstest.Scrape(t, url), 980, name)
	if reads != 2 {
		t.Errorf("%d reads after 5 minutes, want 2", reads)
	}

	fail = errors.New("line: 500")
	advance(QuotaEvery)
	absent(t, metricstest.Scrape(t, url), name) // unknown
	absent(t, metricstest.Scrape(t, url), name) // and not read again at once
	if reads != 3 || !strings.Contains(log.String(), "line: 500") {
		t.Errorf("%d reads, log:\n%s", reads, log.String())
	}

	left, fail = -1, nil // no monthly limit
	advance(QuotaEvery)
	s := metricstest.Scrape(t, url)
	want(t, s, -1, name)
	if s.Type(name) != "gauge" || s.Help(name) == "" {
		t.Errorf("type %q help %q", s.Type(name), s.Help(name))
	}
}

func TestTransport(t *testing.T) {
	m := New(Config{})
	var calls int
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer api.Close()
	slack := &http.Client{Transport: m.Transport("slack", SlackMethod, nil)}
	line := &http.Client{Transport: m.Transport("line", LINEMethod, nil)}
	hook := &http.Client{Transport: m.Transport("slack", Constant("response_url"), nil)}
	for _, c := range []struct {
		client *http.Client
		path   string
	}{
		{slack, "/api/chat.postMessage"},
		{slack, "/api/chat.postMessage"},
		{slack, "/api/users.info"},
		{line, "/v2/bot/group/C0123456789abcdef0123456789abcdef/members/count"},
		{hook, "/commands/T1/123/abc"},
	} {
		resp, err := c.client.Post(api.URL+c.path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// A failed connection is timed too.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if _, err := line.Get(dead.URL + "/v2/bot/message/quota"); err == nil {
		t.Fatal("a closed server answered")
	}

	s := metricstest.Scrape(t, serveMetrics(t, m))
	const dur, limited = "kpibot_chat_api_request_duration_seconds", "kpibot_chat_api_rate_limited_total"
	want(t, s, 2, dur+"_count", "platform", "slack", "method", "chat.postMessage")
	want(t, s, 1, dur+"_count", "platform", "slack", "method", "users.info")
	want(t, s, 1, dur+"_count", "platform", "slack", "method", "response_url")
	want(t, s, 1, dur+"_count", "platform", "line", "method", "/v2/bot/group/{id}/members/count")
	want(t, s, 1, dur+"_count", "platform", "line", "method", "/v2/bot/message/quota")
	want(t, s, 1, limited, "platform", "slack")
	want(t, s, 0, limited, "platform", "line")
	if s.Type(dur) != "histogram" || s.Type(limited) != "counter" || s.Help(dur) == "" || s.Help(limited) == "" {
		t.Errorf("%s %q, %s %q", dur, s.Type(dur), limited, s.Type(limited))
	}
}

func TestMethods(t *testing.T) {
	for _, c := range []struct {
		method func(*http.Request) string
		url    string
		want   string
	}{
		{SlackMethod, "https://slack.com/api/chat.postMessage", "chat.postMessage"},
		{SlackMethod, "http://127.0.0.1:1234/api/files.getUploadURLExternal", "files.getUploadURLExternal"},
		{SlackMethod, "https://proxy.example.com/slack/api/users.info?user=U1", "users.info"},
		{SlackMethod, "https://files.slack.com/upload/v1/CwABAAAAXgsAAgAAABFGMDFBQk", "upload"},
		{LINEMethod, "https://api.line.me/v2/bot/message/push", "/v2/bot/message/push"},
		{LINEMethod, "https://api.line.me/v2/bot/message/reply", "/v2/bot/message/reply"},
		{LINEMethod, "https://api.line.me/v2/bot/message/quota/consumption", "/v2/bot/message/quota/consumption"},
		{LINEMethod, "https://api.line.me/v2/bot/room/R0123456789abcdef0123456789abcdef/members/count", "/v2/bot/room/{id}/members/count"},
		{LINEMethod, "https://api.line.me/v2/bot/profile/U0123456789abcdef0123456789abcdef", "/v2/bot/profile/{id}"},
		{LINEMethod, "https://api-data.line.me/v2/bot/message/325708/content", "/v2/bot/message/{id}/content"},
		{LINEMethod, "https://api.line.me/v2/bot/richmenu/richmenu-88c05ef6921ae53f8b58a25f3a65faf7", "/v2/bot/richmenu/{id}"},
	} {
		u, _ := url.Parse(c.url)
		if got := c.method(&http.Request{URL: u}); got != c.want {
			t.Errorf("%s: %q, want %q", c.url, got, c.want)
		}
	}
}
