package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// readyTimeout bounds how long /readyz waits for the store.
const readyTimeout = 2 * time.Second

// readiness is what GET /readyz tells: whether serve can do its work now.
// It is ready when the store answers a trivial query within readyTimeout
// and every adapter serve was configured with is set up: the Slack handler
// (when Slack is configured) and its Socket Mode connection (when an app
// token is set and LINE is not configured: then it is the only way in),
// the LINE handler (when LINE is), and the
// scheduler of digests, reviews, alerts and syncs, started. A serve with no
// chat platform configured is never ready: it can send nothing.
type readiness struct {
	ping    func(ctx context.Context) error // the store's trivial query
	timeout time.Duration                   // readyTimeout if zero

	slackWanted, lineWanted bool        // configured in the environment
	socket                  func() bool // whether Socket Mode is connected; nil: not configured
	slack, line, scheduler  atomic.Bool
	draining                atomic.Bool // shutting down: the load balancer should send no more
}

// notReady lists what is not ready; none when serve is ready.
func (r *readiness) notReady(ctx context.Context) []string {
	var out []string
	if r.draining.Load() {
		out = append(out, "draining: shutting down")
	}
	if err := r.pingStore(ctx); err != nil {
		out = append(out, "store: "+err.Error())
	}
	if !r.slackWanted && !r.lineWanted {
		out = append(out, "chat: no platform is configured (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, or LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN)")
	}
	if r.slackWanted && !r.slack.Load() {
		out = append(out, "slack: the handler is not set up")
	}
	// Socket Mode counts only where it is the only way in: a replica that
	// also takes LINE's webhooks must keep taking them while it reconnects.
	if r.socket != nil && !r.lineWanted && !r.socket() {
		out = append(out, "slack: socket mode is not connected (connecting, or retrying after a failure)")
	}
	if r.lineWanted && !r.line.Load() {
		out = append(out, "line: the handler is not set up")
	}
	if !r.scheduler.Load() {
		out = append(out, "scheduler: not started")
	}
	return out
}

// pingStore runs the store's query, waiting for it at most the timeout
// even if the query itself does not heed its context.
func (r *readiness) pingStore(ctx context.Context) error {
	timeout := r.timeout
	if timeout == 0 {
		timeout = readyTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.ping(ctx) }()
	select {
	case err := <-done:
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("no answer within %s", timeout)
		}
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s", timeout)
	}
}

// ServeHTTP answers 200 "ready", or 503 with what is not ready, one a line.
func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	missing := r.notReady(req.Context())
	if len(missing) == 0 {
		io.WriteString(w, "ready")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, "not ready:\n"+strings.Join(missing, "\n")+"\n")
}

// closeWhenDraining closes each connection after its answer once serve is
// draining, so that a client's next request opens a new connection, which
// a load balancer sends elsewhere. (Turning keep-alives off on the server
// instead closes idle connections at once, cutting off a request sent on
// one at that moment.)
func (r *readiness) closeWhenDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, req)
	})
}
