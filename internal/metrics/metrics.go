// Package metrics is kpibot's Prometheus series: what serve exposes on /metrics.
//
// It is the one package that imports client_golang. Its series live in a
// registry of their own (with the Go runtime's and the process's), so that
// nothing registered globally by a library ends up on /metrics.
//
// The series, all prefixed kpibot_:
//
//   - http_requests_total{endpoint,code}, http_request_duration_seconds{endpoint}:
//     the requests serve answered, by the ServeMux pattern that matched
//     ("POST /slack/commands", "GET /charts/{id}"; "unmatched" when none
//     did), never by the raw path;
//   - signature_failures_total{platform}: the requests refused for their
//     signature (slack, line, line_chart_link);
//   - sync_rows_total{shop,stream,result}, sync_errors_total{shop}: the rows
//     the connectors' pulls stored (result inserted, updated, unchanged) or
//     refused (rejected), and the pulls that failed;
//   - alerts{state}: the alert episodes not resolved, by state (open, acked,
//     snoozed);
//   - outbox_pending: the messages in the outbox not sent yet;
//   - chat_api_request_duration_seconds{platform,method},
//     chat_api_rate_limited_total{platform}: the calls made of Slack's and
//     LINE's APIs, and those answered 429;
//   - line_quota_remaining: the LINE messages left this month, read at most
//     once every 5 minutes; -1 when the channel has no monthly limit, absent
//     while unknown (not read yet, or the last read failed).
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kpibot/kpibot/kpi"
)

const namespace = "kpibot"

// StoreTimeout bounds each query a scrape makes of the store.
const StoreTimeout = 2 * time.Second

// QuotaEvery is how often, at most, LINE's quota is read.
const QuotaEvery = 5 * time.Minute

// quotaTimeout bounds one read of LINE's quota.
const quotaTimeout = 5 * time.Second

// Unmatched is the endpoint label of requests no pattern matched.
const Unmatched = "unmatched"

// Metrics holds kpibot's series. Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger
	now func() time.Time

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	syncRows     *prometheus.CounterVec
	syncErrors   *prometheus.CounterVec
	chatDuration *prometheus.HistogramVec
	chatLimited  *prometheus.CounterVec
}

// Config is what New needs; every field is optional.
type Config struct {
	Log *slog.Logger     // where failed gauges are logged; discarded if nil
	Now func() time.Time // the clock of LINE's quota cache; time.Now if nil
}

// New returns the series, registered in a registry of their own next to
// the Go runtime's and the process's collectors.
func New(c Config) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), log: c.Log, now: c.Now}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by the ServeMux pattern that matched (\"unmatched\" when none did) and status code.",
	}, []string{"endpoint", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "http_request_duration_seconds",
		Help:    "Time taken to answer HTTP requests, by the ServeMux pattern that matched.",
		Buckets: prometheus.DefBuckets,
	}, []string{"endpoint"})
	m.syncRows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "sync_rows_total",
		Help: "Rows the marketplace syncs stored (result inserted, updated, unchanged) or refused (rejected), by shop and stream.",
	}, []string{"shop", "stream", "result"})
	m.syncErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "sync_errors_total",
		Help: "Marketplace syncs that failed, by shop.",
	}, []string{"shop"})
	m.chatDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "chat_api_request_duration_seconds",
		Help:    "Time taken by calls of the chat platforms' APIs, by platform and API method (Slack: chat.postMessage; LINE: the path with ids replaced).",
		Buckets: prometheus.DefBuckets,
	}, []string{"platform", "method"})
	m.chatLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "chat_api_rate_limited_total",
		Help: "Calls of the chat platforms' APIs answered 429 Too Many Requests, by platform.",
	}, []string{"platform"})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.syncRows, m.syncErrors, m.chatDuration, m.chatLimited,
	)
	return m
}

// Handler serves the series in Prometheus's exposition formats. A
// collector that fails leaves its series out; the rest are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Mux is what Instrument needs of an *http.ServeMux: to serve a request,
// and to say which pattern it matches.
type Mux interface {
	http.Handler
	Handler(r *http.Request) (h http.Handler, pattern string)
}

// Instrument wraps mux: each request is counted and timed under the
// pattern that matches it (Unmatched when none does), so that ids in paths
// never become label values.
func (m *Metrics) Instrument(mux Mux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, endpoint := mux.Handler(r)
		if endpoint == "" {
			endpoint = Unmatched
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			code := sw.status
			if code == 0 {
				// Nothing written, or a handler that panicked: net/http
				// answers 200 for the one, drops the connection for the other.
				code = http.StatusOK
			}
			m.httpRequests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
			m.httpDuration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		}()
		mux.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status a handler answered. Unwrap lets
// http.ResponseController reach the writer's Flush and deadlines.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// FlushError flushes what was written, sending the status (200 if none
// was written yet); http.ResponseController's Flush calls it.
func (w *statusWriter) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// SignatureFailures exposes count, a handler's count of the requests it
// refused for their signature, as kpibot_signature_failures_total with
// platform (slack, line, line_chart_link). Call it once per platform.
func (m *Metrics) SignatureFailures(platform string, count func() int64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: "signature_failures_total",
		Help:        "Requests refused for a bad, missing or stale signature, by platform (slack, line, line_chart_link).",
		ConstLabels: prometheus.Labels{"platform": platform},
	}, func() float64 { return float64(count()) }))
}

// Sync returns what to call with the result of each pull of shop: its rows
// are added to kpibot_sync_rows_total and a failure to
// kpibot_sync_errors_total (which starts at 0 for the shop). A pull
// cancelled because serve is stopping is not a failure.
func (m *Metrics) Sync(shop string) func(progress []kpi.SyncProgress, err error) {
	failed := m.syncErrors.WithLabelValues(shop)
	return func(progress []kpi.SyncProgress, err error) {
		for _, p := range progress {
			for _, r := range []struct {
				result string
				n      int
			}{{"inserted", p.Stats.Inserted}, {"updated", p.Stats.Updated}, {"unchanged", p.Stats.Unchanged}, {"rejected", p.Rejected}} {
				// Every result of a stream is there, 0 included, once it was pulled.
				m.syncRows.WithLabelValues(shop, p.Stream, r.result).Add(float64(r.n))
			}
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			failed.Inc()
		}
	}
}

// Store is what the gauges read from the store.
type Store interface {
	// AlertCounts counts the alert episodes not resolved, by state.
	AlertCounts(ctx context.Context) (map[string]int, error)
	// Pending counts the outbox's messages not sent yet.
	Pending(ctx context.Context) (int, error)
}

// alertStates are the states kpibot_alerts always has, 0 included.
var alertStates = []kpi.AlertState{kpi.AlertOpen, kpi.AlertAcked, kpi.AlertSnoozed}

// WatchStore exposes kpibot_alerts{state} and kpibot_outbox_pending, read
// from s at each scrape within StoreTimeout. A query that fails is logged
// and its series left out of that scrape; the scrape itself goes on.
func (m *Metrics) WatchStore(s Store) {
	m.reg.MustRegister(&storeCollector{store: s, log: m.log,
		alerts: prometheus.NewDesc(namespace+"_alerts", "Alert episodes not resolved, by state (open, acked, snoozed).", []string{"state"}, nil),
		pending: prometheus.NewDesc(namespace+"_outbox_pending", "Messages in the outbox not sent yet (digests, reviews, alerts).",
			nil, nil),
	})
}

type storeCollector struct {
	store           Store
	log             *slog.Logger
	alerts, pending *prometheus.Desc
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.alerts
	ch <- c.pending
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), StoreTimeout)
	defer cancel()
	if counts, err := c.store.AlertCounts(ctx); err != nil {
		c.log.Warn("metrics: count the alerts", "err", err)
	} else {
		seen := map[string]bool{}
		for _, s := range alertStates {
			seen[string(s)] = true
			ch <- prometheus.MustNewConstMetric(c.alerts, prometheus.GaugeValue, float64(counts[string(s)]), string(s))
		}
		for s, n := range counts {
			if !seen[s] && s != string(kpi.AlertResolved) {
				ch <- prometheus.MustNewConstMetric(c.alerts, prometheus.GaugeValue, float64(n), s)
			}
		}
	}
	if n, err := c.store.Pending(ctx); err != nil {
		c.log.Warn("metrics: count the outbox's pending messages", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n))
	}
}

// WatchLINEQuota exposes kpibot_line_quota_remaining: what read returns
// (the messages left this month, -1 when there is no monthly limit), read
// during a scrape at most once every QuotaEvery, never on every scrape.
// The series is absent until a read succeeds, and after one fails until
// the next succeeds.
func (m *Metrics) WatchLINEQuota(read func(ctx context.Context) (int64, error)) {
	m.reg.MustRegister(&quotaCollector{read: read, now: m.now, log: m.log,
		desc: prometheus.NewDesc(namespace+"_line_quota_remaining",
			"LINE messages left this month, read at most every 5 minutes; -1 when the channel has no monthly limit.", nil, nil)})
}

type quotaCollector struct {
	read func(ctx context.Context) (int64, error)
	now  func() time.Time
	log  *slog.Logger
	desc *prometheus.Desc

	mu    sync.Mutex // held during a read: concurrent scrapes wait for it
	at    time.Time  // of the last read; zero: none yet
	known bool
	left  int64
}

func (c *quotaCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *quotaCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.at.IsZero() || now.Sub(c.at) >= QuotaEvery || now.Before(c.at) {
		c.at = now
		ctx, cancel := context.WithTimeout(context.Background(), quotaTimeout)
		left, err := c.read(ctx)
		cancel()
		if err != nil {
			c.log.Warn("metrics: read LINE's message quota", "err", err)
		}
		c.known, c.left = err == nil, left
	}
	if c.known {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(c.left))
	}
}

// Transport returns an http.RoundTripper that times each call made through
// base (http.DefaultTransport if nil) in
// kpibot_chat_api_request_duration_seconds{platform,method}, method being
// what method says of the request (SlackMethod, LINEMethod), and counts the
// answers 429 in kpibot_chat_api_rate_limited_total{platform} (0 from the
// start).
func (m *Metrics) Transport(platform string, method func(*http.Request) string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, method: method, limited: m.chatLimited.WithLabelValues(platform),
		duration: m.chatDuration.MustCurryWith(prometheus.Labels{"platform": platform})}
}

type transport struct {
	base     http.RoundTripper
	method   func(*http.Request) string
	limited  prometheus.Counter
	duration prometheus.ObserverVec
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := t.base.RoundTrip(r)
	t.duration.WithLabelValues(t.method(r)).Observe(time.Since(start).Seconds())
	if err == nil && res.StatusCode == http.StatusTooManyRequests {
		t.limited.Inc()
	}
	return res, err
}

// SlackMethod is the Web API method a request to Slack calls: the path
// after /api/ (chat.postMessage). slack-go makes one other kind of call,
// the upload of a file's bytes to the URL files.getUploadURLExternal
// gave: "upload".
func SlackMethod(r *http.Request) string {
	if _, m, ok := strings.Cut(r.URL.Path, "/api/"); ok && m != "" && !strings.Contains(m, "/") {
		return m
	}
	return "upload"
}

// Constant returns a method function that names every request m, such as
// "response_url" for the answers to Slack's slash commands.
func Constant(m string) func(*http.Request) string {
	return func(*http.Request) string { return m }
}

// LINEMethod is the Messaging API path a request to LINE calls, with the
// ids in it (users, groups, rooms, messages) replaced by {id}:
// /v2/bot/message/push, /v2/bot/group/{id}/members/count.
func LINEMethod(r *http.Request) string {
	segs := strings.Split(r.URL.Path, "/")
	for i, s := range segs {
		if isID(s) {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

// isID tells whether a path segment is an id rather than a word of the
// API: all digits (message ids), or long with a digit in it (user, group
// and room ids are a letter and 32 hex digits; rich menus richmenu-…).
func isID(s string) bool {
	if s == "" {
		return false
	}
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return digits == len(s) || digits > 0 && len(s) >= 16
}
