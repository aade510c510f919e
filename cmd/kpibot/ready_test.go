package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadiness(t *testing.T) {
	store, err := openStore(context.Background(), env{now: func() time.Time { return demoNow }}, filepath.Join(t.TempDir(), "ready.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	get := func(r *readiness) (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		return rec.Code, rec.Body.String()
	}
	ready := func(slack, line, sched bool) *readiness {
		r := &readiness{ping: store.Ping, slackWanted: true, lineWanted: true}
		r.slack.Store(slack)
		r.line.Store(line)
		r.scheduler.Store(sched)
		return r
	}

	if code, body := get(ready(true, true, true)); code != http.StatusOK || body != "ready" {
		t.Errorf("all set up: %d %q, want 200 ready", code, body)
	}
	r := ready(true, true, true)
	r.lineWanted = false // LINE not configured: not needed
	if code, body := get(r); code != http.StatusOK {
		t.Errorf("Slack alone: %d %q, want 200", code, body)
	}
	code, body := get(ready(true, false, false))
	if want := "not ready:\nline: the handler is not set up\nscheduler: not started\n"; code != http.StatusServiceUnavailable || body != want {
		t.Errorf("LINE and the scheduler not set up: %d %q, want 503 %q", code, body, want)
	}

	// Socket Mode, when configured without LINE, must be connected.
	connected := false
	sock := ready(true, true, true)
	sock.socket = func() bool { return connected }
	if code, body := get(sock); code != http.StatusOK {
		t.Errorf("Socket Mode not connected, LINE's webhooks taken: %d %q, want 200", code, body)
	}
	sock.lineWanted = false
	code, body = get(sock)
	if want := "not ready:\nslack: socket mode is not connected (connecting, or retrying after a failure)\n"; code != http.StatusServiceUnavailable || body != want {
		t.Errorf("Socket Mode not connected: %d %q, want 503 %q", code, body, want)
	}
	connected = true
	if code, body := get(sock); code != http.StatusOK {
		t.Errorf("Socket Mode connected: %d %q, want 200", code, body)
	}

	// A store that does not answer in time.
	slow := ready(true, true, true)
	slow.timeout = 50 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	slow.ping = func(ctx context.Context) error { <-release; return nil } // heeds no context
	start := time.Now()
	code, body = get(slow)
	if code != http.StatusServiceUnavailable || body != "not ready:\nstore: no answer within 50ms\n" {
		t.Errorf("a store that does not answer: %d %q", code, body)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("waited %s for a store that does not answer", took)
	}

	// A closed store.
	store.Close()
	code, body = get(ready(true, true, true))
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready:\nstore: sqlite: ping: ") || !strings.Contains(body, "closed") {
		t.Errorf("a closed store: %d %q", code, body)
	}
}
