package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/kpibot/kpibot/bot/line"
	"github.com/kpibot/kpibot/bot/schedule"
	"github.com/kpibot/kpibot/bot/slack"
	"github.com/kpibot/kpibot/internal/metrics"
	"github.com/kpibot/kpibot/kpi/postgres"
	"github.com/kpibot/kpibot/locales"
)

// alertsEvery is how often serve evaluates the alert rules and escalates
// unacknowledged critical alerts.
const alertsEvery = 5 * time.Minute

// shutdownTimeout bounds how long serve waits for HTTP requests in flight
// once it is told to stop.
const shutdownTimeout = 10 * time.Second

// runSocketMode runs Slack's Socket Mode for h until ctx ends; tests replace
// it.
var runSocketMode = func(ctx context.Context, h *slack.Handler, appToken, botToken, apiURL string) error {
	return h.RunSocketMode(ctx, appToken, botToken, apiURL)
}

// slackEnv is Slack's part of the environment.
type slackEnv struct {
	signingSecret, botToken, appToken, apiURL string
}

func readSlackEnv(getenv func(string) string) slackEnv {
	s := slackEnv{
		signingSecret: getenv("SLACK_SIGNING_SECRET"),
		botToken:      getenv("SLACK_BOT_TOKEN"),
		appToken:      getenv("SLACK_APP_TOKEN"),
		apiURL:        getenv("SLACK_API_URL"),
	}
	// slack-go joins the method name to the base URL: it must end with a slash.
	if s.apiURL != "" && !strings.HasSuffix(s.apiURL, "/") {
		s.apiURL += "/"
	}
	return s
}

// enabled reports whether Slack is configured at all.
func (s slackEnv) enabled() bool {
	return s.signingSecret != "" || s.botToken != "" || s.appToken != ""
}

// missing names the variables Slack still needs once any of them is set.
func (s slackEnv) missing() []string {
	var out []string
	if s.signingSecret == "" {
		out = append(out, "SLACK_SIGNING_SECRET")
	}
	if s.botToken == "" {
		out = append(out, "SLACK_BOT_TOKEN")
	}
	return out
}

// lineEnv is LINE's part of the environment.
type lineEnv struct {
	secret, token, apiURL string
	// publicURL (KPIBOT_PUBLIC_URL) is where LINE fetches the charts
	// kpibot serves; "": LINE messages go without them.
	publicURL string
}

func readLineEnv(getenv func(string) string) lineEnv {
	return lineEnv{secret: getenv("LINE_CHANNEL_SECRET"), token: getenv("LINE_CHANNEL_ACCESS_TOKEN"), apiURL: getenv("LINE_API_URL"),
		publicURL: getenv("KPIBOT_PUBLIC_URL")}
}

// enabled reports whether LINE is configured at all.
func (l lineEnv) enabled() bool { return l.secret != "" || l.token != "" }

// missing names the variables LINE still needs once any of them is set.
func (l lineEnv) missing() []string {
	var out []string
	if l.secret == "" {
		out = append(out, "LINE_CHANNEL_SECRET")
	}
	if l.token == "" {
		out = append(out, "LINE_CHANNEL_ACCESS_TOKEN")
	}
	return out
}

// serve runs the bot's HTTP endpoints (and Slack's Socket Mode when
// configured) until ctx ends, then stops accepting, waits for the answers
// in flight and closes the store. It returns the exit code.
func serve(ctx context.Context, e env, text *locales.Catalog, p *locales.Printer, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbPath := fs.String("db", dbDefault(e.getenv), "SQLite file")
	configFile := fs.String("config", "", "config file; KPIBOT_CONFIG if empty")
	usage := func(msg string) int {
		fmt.Fprintln(e.stderr, msg)
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return usage(p.T("cli.bad_flags", map[string]any{"Error": err.Error()}))
	}
	if fs.NArg() > 0 {
		return usage(p.T("cli.serve_no_args", map[string]any{"Args": strings.Join(fs.Args(), " ")}))
	}
	settings, ok := readConfig(e, p, *configFile)
	if !ok {
		return 2
	}
	sl := readSlackEnv(e.getenv)
	if sl.enabled() {
		if m := sl.missing(); len(m) > 0 {
			fmt.Fprintln(e.stderr, p.T("cli.slack_incomplete", map[string]any{"Missing": strings.Join(m, ", ")}))
			return 2
		}
	}
	ln := readLineEnv(e.getenv)
	if ln.enabled() {
		if m := ln.missing(); len(m) > 0 {
			fmt.Fprintln(e.stderr, p.T("cli.line_incomplete", map[string]any{"Missing": strings.Join(m, ", ")}))
			return 2
		}
	}
	addr := e.getenv("KPIBOT_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	// drain is how long serve keeps answering after SIGTERM, saying it is
	// not ready, before it stops accepting: behind a load balancer, the time
	// it takes to notice and send the requests elsewhere. Alone, there is
	// nobody else to send them to: none.
	var drain time.Duration
	if v := e.getenv("KPIBOT_DRAIN"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			fmt.Fprintln(e.stderr, p.T("cli.bad_drain", map[string]any{"Value": v}))
			return 2
		}
		drain = d
	}

	// Lines logged with a request's context carry its request_id.
	log := slog.New(requestIDs{slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})})
	store, b, alerts, err := openBot(ctx, e, text, *dbPath, settings, log)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close the store", "err", err)
		}
	}()
	if err := applyChannels(ctx, settings, store); err != nil {
		return configFailed(e, p, log, settings, err)
	}

	// The handler chain: srv.Handler is m.Instrument(mux), which counts
	// and times each request under the mux pattern it matches, then lets
	// the mux route it. /healthz (alive), /readyz (ready for work) and
	// /metrics are on the mux next to the bot's endpoints.
	m := metrics.New(metrics.Config{Log: log, Now: e.now})
	ready := &readiness{ping: store.Ping, slackWanted: sl.enabled(), lineWanted: ln.enabled()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok")
	})
	mux.Handle("GET /readyz", ready)
	mux.Handle("GET /metrics", m.Handler())
	m.WatchStore(store)
	// The calls of Slack's and LINE's APIs are timed, their 429s counted.
	var hc chatHTTP
	if sl.enabled() {
		hc.slack = &http.Client{Transport: m.Transport("slack", metrics.SlackMethod, nil)}
	}
	if ln.enabled() {
		hc.line = &http.Client{Timeout: 30 * time.Second, Transport: m.Transport(line.Platform, metrics.LINEMethod, nil)}
	}
	c, err := newChatWith(e, text, store, b, log, hc)
	if errors.Is(err, errPublicURL) {
		fmt.Fprintln(e.stderr, p.T("cli.public_url_invalid", map[string]any{"Error": err.Error()}))
		return 2
	}
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	var sh *slack.Handler
	if c.poster != nil {
		sh = slack.NewHandler(slack.Config{
			Bot:           b,
			SigningSecret: sl.signingSecret,
			Seen:          store,
			Channels:      store,
			Poster:        c.poster,
			Charts:        b,
			Text:          text,
			HTTP:          &http.Client{Transport: m.Transport("slack", metrics.Constant("response_url"), nil)},
			Now:           e.now,
			Log:           log,
		})
		sh.Register(mux)
		m.SignatureFailures("slack", sh.SignatureFailures)
		if sl.appToken != "" {
			ready.socket = sh.SocketConnected
		}
		ready.slack.Store(true)
	}
	var lh *line.Handler
	if c.client != nil {
		lh = line.NewHandler(line.Config{
			Bot:           b,
			ChannelSecret: ln.secret,
			Seen:          store,
			Channels:      store,
			Client:        c.client,
			Charts:        c.links,
			Text:          text,
			Now:           e.now,
			Log:           log,
		})
		lh.Register(mux)
		m.SignatureFailures(line.Platform, lh.SignatureFailures)
		m.WatchLINEQuota(func(ctx context.Context) (int64, error) {
			q, err := c.client.Quota(ctx)
			return q.Left(), err
		})
		ready.line.Store(true)
	}
	if c.links != nil {
		c.links.Register(mux)
		m.SignatureFailures("line_chart_link", c.links.SignatureFailures)
	}
	// The alerts are evaluated and escalated every few minutes and after
	// each sync; their messages go out through the same outbox as the reports.
	// Each configured shop is pulled on its own schedule; the alerts are
	// evaluated right after each pull.
	syncs, err := observedSyncs(ctx, e, settings, store, log, m.Sync)
	if errors.Is(err, errSecretsMissing) {
		fmt.Fprintln(e.stderr, p.T("cli.sync_secrets", map[string]any{"Error": err.Error()}))
		return 2
	}
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	// Replicas on one PostgreSQL: the one holding the scheduler's lock runs
	// the digests, alerts, syncs and sends; the others answer chat. Closed
	// after the scheduler stops (defers run last first).
	var elector gocron.Elector // nil: this process is the only one
	if isPostgres(*dbPath) {
		conf := e.elector
		conf.Log = log.With("component", "elector")
		el, err := postgres.NewElector(*dbPath, conf)
		if err != nil {
			return fail(e.stderr, p, log, err)
		}
		defer el.Close()
		elector = el
	}
	sched, err := schedule.New(schedule.Config{Channels: store, Outbox: store, Renderer: b, Senders: c.senders, Clock: e.clock, Log: log,
		Elector: elector,
		Evaluate: func(ctx context.Context) error {
			return errors.Join(alerts.Tick(ctx), warnExpiringKeys(ctx, e.now(), settings, store, text))
		}, EvaluateEvery: cmp.Or(settings.evaluateEvery, alertsEvery), Syncs: syncs,
		DigestAt: settings.digestAt, WeeklyOn: settings.weeklyOn, WeeklyAt: settings.weeklyAt,
		MonthlyOn: settings.monthlyOn, MonthlyAt: settings.monthlyAt})
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	alerts.WhenQueued(sched.FlushSoon) // an acknowledgement from LINE reaches Slack at once

	listener, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(e.stderr, p.T("cli.listen_failed", map[string]any{"Addr": addr, "Error": err.Error()}))
		return 1
	}
	srv := &http.Server{
		Handler:           withRequestIDs(ready.closeWhenDraining(m.Instrument(mux)), mux, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()

	// Socket Mode stops with socketCtx: when ctx ends, or when serving fails.
	socketCtx, stopSocket := context.WithCancel(ctx)
	defer stopSocket()
	var socketDone chan error // nil without Socket Mode: never ready
	if sh != nil && sl.appToken != "" {
		socketDone = make(chan error, 1)
		go func() { socketDone <- runSocketMode(socketCtx, sh, sl.appToken, sl.botToken, sl.apiURL) }()
	}

	// The digests and reviews: what is due since the last run (a restart
	// after 09:00) goes out now, the rest when due.
	if err := sched.Start(ctx); err != nil {
		log.Error("kpibot serve: scheduler", "err", err)
	} else {
		ready.scheduler.Store(true)
	}

	// Only whether things are configured is logged, never their values.
	log.Info("kpibot serve: listening", "addr", listener.Addr().String(), "db", postgres.Redact(*dbPath),
		"slack_http", sh != nil, "slack_socket_mode", socketDone != nil, "slack_api_url", redactedURL(sl.apiURL),
		"line", lh != nil, "line_api_url", redactedURL(ln.apiURL))
	if sh == nil && lh == nil {
		log.Warn("no chat platform is configured: only /healthz, /readyz and /metrics are served; set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN for Slack, LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN for LINE")
	}
	if e.ready != nil {
		e.ready(listener.Addr().String())
	}

	code := 0
	select {
	case <-ctx.Done():
		log.Info("kpibot serve: shutting down")
	case err := <-served:
		log.Error("kpibot serve: HTTP server failed", "err", err)
		code = 1
	case err := <-socketDone:
		socketDone = nil // received
		if ctx.Err() == nil {
			log.Error("kpibot serve: Slack Socket Mode stopped", "err", err)
			code = 1
		}
	}

	// Drain: /readyz says not ready and answers close their connections, so
	// that a load balancer sends the next requests elsewhere while these
	// are still answered; then stop accepting and let the requests in
	// flight finish.
	if code == 0 && drain > 0 {
		ready.draining.Store(true)
		log.Info("kpibot serve: draining", "for", drain.String())
		time.Sleep(drain)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("kpibot serve: requests still open at shutdown", "err", err)
		srv.Close()
	}
	// Socket Mode hands no more work to the handler once it has returned.
	stopSocket()
	ready.scheduler.Store(false)
	if err := sched.Stop(); err != nil {
		log.Warn("kpibot serve: scheduler", "err", err)
	}
	if socketDone != nil {
		if err := <-socketDone; err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("kpibot serve: Slack Socket Mode", "err", err)
		}
	}
	// Answers still being worked on (slow slash commands, events) are
	// bounded by the handler's own timeouts.
	if sh != nil {
		sh.Wait()
	}
	if lh != nil {
		lh.Wait()
	}
	if code != 0 {
		fmt.Fprintln(e.stderr, p.T("cli.serve_failed", nil))
	}
	log.Info("kpibot serve: stopped")
	return code
}

// redactedURL is u with any password hidden, for logs; "" stays "".
func redactedURL(u string) string {
	if u == "" {
		return ""
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return "(unparsable)"
	}
	return parsed.Redacted()
}
