package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/locales"
)

const appToken = "xapp-1-A0TEST-1234-deadbeefsecret"

// fakeSocket is Slack's Socket Mode side on loopback: apps.connections.open
// hands out the URL of its /link WebSocket, which greets the client with a
// hello, sends it the envelopes given to send, and records its acks.
type fakeSocket struct {
	*httptest.Server
	opens     atomic.Int64
	connected chan struct{}  // a client completed the WebSocket handshake
	out       chan string    // envelopes to send
	acks      chan socketAck // the client's acks, as they come
	done      chan struct{}  // closed at cleanup
	wg        sync.WaitGroup // the /link handlers
	mu        sync.Mutex     // guards conns
	conns     []*websocket.Conn
}

type socketAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
	at         time.Time
}

func newFakeSocket(t *testing.T) *fakeSocket {
	f := &fakeSocket{connected: make(chan struct{}, 4), out: make(chan string, 16),
		acks: make(chan socketAck, 16), done: make(chan struct{})}
	// slack-go dials with "Origin: https://api.slack.com", which gorilla's
	// default same-origin check refuses on any other host.
	up := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
		return r.Header.Get("Origin") == "https://api.slack.com"
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		f.opens.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+appToken {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"url":"ws://%s/link"}`, r.Host)
	})
	mux.HandleFunc("GET /link", func(w http.ResponseWriter, r *http.Request) {
		f.wg.Add(1)
		defer f.wg.Done()
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, conn)
		f.mu.Unlock()
		defer conn.Close()
		if conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","num_connections":1,"debug_info":{"host":"applink-test","build_number":1,"approximate_connection_time":18060},"connection_info":{"app_id":"A0TEST"}}`)) != nil {
			return
		}
		f.connected <- struct{}{}
		closed := make(chan struct{})
		go func() { // the one reader
			defer close(closed)
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					return
				}
				var a socketAck
				if err := json.Unmarshal(data, &a); err != nil {
					t.Errorf("ack %s: %v", data, err)
					continue
				}
				a.at = time.Now()
				select {
				case f.acks <- a:
				case <-f.done:
					return
				}
			}
		}()
		for { // the one writer
			select {
			case msg := <-f.out:
				if conn.WriteMessage(websocket.TextMessage, []byte(msg)) != nil {
					return
				}
			case <-closed:
				return
			case <-f.done:
				return
			}
		}
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(f.done)
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.Close()
		f.wg.Wait()
	})
	return f
}

// send sends an envelope and returns when it was sent.
func (f *fakeSocket) send(envelope string) time.Time {
	f.out <- envelope
	return time.Now()
}

// waitAcks collects n acks by envelope id, failing the test after timeout.
func (f *fakeSocket) waitAcks(t *testing.T, n int, timeout time.Duration) map[string]socketAck {
	t.Helper()
	got := map[string]socketAck{}
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case a := <-f.acks:
			if _, dup := got[a.EnvelopeID]; dup {
				t.Errorf("envelope %s acknowledged twice", a.EnvelopeID)
			}
			got[a.EnvelopeID] = a
		case <-deadline:
			t.Fatalf("%d of %d acks after %v: %v", len(got), n, timeout, slices.Sorted(maps.Keys(got)))
		}
	}
	return got
}

func slashEnvelope(id, text, responseURL string) string {
	payload := map[string]any{"token": "legacy", "team_id": "T1", "team_domain": "shop", "channel_id": "C1",
		"channel_name": "kpi", "user_id": "U1", "user_name": "aki", "command": "/kpi", "text": text,
		"api_app_id": "A0TEST", "is_enterprise_install": "false", "response_url": responseURL, "trigger_id": "1.2.3"}
	data, _ := json.Marshal(map[string]any{"envelope_id": id, "type": "slash_commands",
		"accepts_response_payload": true, "payload": payload})
	return string(data)
}

func eventEnvelope(id string, retry int, body string) string {
	reason := ""
	if retry > 0 {
		reason = `,"retry_reason":"timeout"`
	}
	return fmt.Sprintf(`{"envelope_id":%q,"type":"events_api","accepts_response_payload":false,"retry_attempt":%d%s,"payload":%s}`,
		id, retry, reason, body)
}

const clickEnvelope = `{"envelope_id":"ia1","type":"interactive","accepts_response_payload":false,"payload":{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"api_app_id":"A0TEST","trigger_id":"1.2.3","actions":[{"type":"button","action_id":"ack_alert","block_id":"b1","value":"x","action_ts":"1700000000.1"}]}}`

// syncBuffer is a log sink safe for the client's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSocketMode runs the whole adapter over one Socket Mode connection: a
// slow command, a fast one, an answer too large for an ack, an event sent
// twice and a click, then a shutdown. The slow command's 2 seconds are the
// test's only wait, and prove that it holds up no other envelope's ack.
func TestSocketMode(t *testing.T) {
	fake := newFakeSlack(t)
	sock := newFakeSocket(t)
	release := make(chan struct{})
	a := &answerFunc{f: func(req bot.Request) bot.Reply {
		switch req.Text {
		case "slow":
			<-release
		case "big":
			return bot.Reply{Title: "big", Text: strings.Repeat("売上 ", 3000), Lang: locales.Japanese}
		}
		if req.User != "slack:T1:U1" {
			t.Errorf("asked by %q", req.User)
		}
		return bot.Reply{Title: "sock: " + req.Text, Lang: locales.English}
	}}
	h, _ := newTestHandler(t, a, fake, store(t, filepath.Join(t.TempDir(), "k.db")))
	var logs syncBuffer
	h.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	if h.SocketConnected() {
		t.Error("connected before RunSocketMode")
	}
	go func() { ran <- h.RunSocketMode(ctx, appToken, "xoxb-test", sock.URL+"/api/") }()
	select {
	case <-sock.connected:
	case err := <-ran:
		t.Fatalf("RunSocketMode returned before connecting: %v", err)
	case <-time.After(3 * time.Second):
		t.Fatalf("no Socket Mode connection within 3 s; %d opens; logs:\n%s", sock.opens.Load(), logs.String())
	}
	for deadline := time.Now().Add(3 * time.Second); !h.SocketConnected(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("SocketConnected is false 3 s after Slack's hello")
		}
	}

	slowSent := sock.send(slashEnvelope("sc-slow", "slow", fake.URL+"/response"))
	sent := map[string]time.Time{}
	sent["sc-fast"] = sock.send(slashEnvelope("sc-fast", "gmv 先週", fake.URL+"/response"))
	sent["sc-big"] = sock.send(slashEnvelope("sc-big", "big", fake.URL+"/response"))
	mention := eventBody("Ev01", "app_mention", "<@UBOT> returns")
	sent["ev-1"] = sock.send(eventEnvelope("ev-1", 0, mention))
	sent["ia1"] = sock.send(clickEnvelope)
	acks := sock.waitAcks(t, 4, 1500*time.Millisecond) // all before the slow command's
	// Slack redelivers an event it thinks lost: a new envelope, the same event_id.
	sent["ev-2"] = sock.send(eventEnvelope("ev-2", 1, mention))
	for id, ack := range sock.waitAcks(t, 1, time.Second) {
		acks[id] = ack
	}
	for id, at := range sent {
		if d := acks[id].at.Sub(at); d > time.Second {
			t.Errorf("%s acknowledged after %v", id, d)
		}
	}

	var msg map[string]any
	if err := json.Unmarshal(acks["sc-fast"].Payload, &msg); err != nil {
		t.Fatalf("fast command ack %s: %v", acks["sc-fast"].Payload, err)
	}
	if msg["response_type"] != "in_channel" || msg["text"] != "sock: gmv 先週" || !strings.Contains(string(acks["sc-fast"].Payload), `"type":"header"`) {
		t.Errorf("fast command ack payload %s", acks["sc-fast"].Payload)
	}
	for _, id := range []string{"sc-big", "ev-1", "ev-2", "ia1"} {
		if p := acks[id].Payload; len(p) != 0 {
			t.Errorf("%s acknowledged with payload %s, want none", id, p)
		}
	}

	// The slow command is acknowledged empty within Slack's 3 seconds and
	// answered through response_url when the answer is ready.
	slow := sock.waitAcks(t, 1, 2900*time.Millisecond-time.Since(slowSent))["sc-slow"]
	if len(slow.Payload) != 0 || slow.at.Sub(slowSent) > 2900*time.Millisecond {
		t.Errorf("slow command ack %s after %v", slow.Payload, slow.at.Sub(slowSent))
	}
	close(release)

	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("RunSocketMode after cancel: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("RunSocketMode still running 2 s after its context ended")
	}
	if h.SocketConnected() {
		t.Error("still connected after RunSocketMode returned")
	}
	h.Wait()

	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.posts) != 1 {
		t.Fatalf("%d chat.postMessage for one event sent twice, want 1", len(fake.posts))
	}
	if p := fake.posts[0]; p.Get("channel") != "C1" || p.Get("thread_ts") != "1700000000.000001" || p.Get("text") != "sock: &lt;@UBOT&gt; returns" {
		t.Errorf("event answered with %v", p)
	}
	var texts []any
	for _, r := range fake.responses {
		texts = append(texts, r["text"])
	}
	if len(texts) != 2 || !(texts[0] == "sock: slow" || texts[1] == "sock: slow") ||
		!(strings.HasPrefix(fmt.Sprint(texts[0]), "big") || strings.HasPrefix(fmt.Sprint(texts[1]), "big")) {
		t.Errorf("response_url got %v, want the slow and the big answers", texts)
	}
	if n := a.calls.Load(); n != 4 {
		t.Errorf("the bot answered %d times, want 4 (3 commands, 1 event)", n)
	}
	if n := sock.opens.Load(); n != 1 {
		t.Errorf("%d apps.connections.open, want 1", n)
	}
	if l := logs.String(); !strings.Contains(l, "socket mode ready") || !strings.Contains(l, "action=ack_alert") ||
		!strings.Contains(l, "duplicate event") || strings.Contains(l, appToken) || strings.Contains(l, "xoxb-test") {
		t.Errorf("logs:\n%s", l)
	}
}

// TestSocketModeRefusedToken: a token Slack refuses ends RunSocketMode with
// an error instead of a retry loop, and the token stays out of it.
func TestSocketModeRefusedToken(t *testing.T) {
	fake := newFakeSlack(t)
	sock := newFakeSocket(t)
	h, _ := newTestHandler(t, answer("x"), fake, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := h.RunSocketMode(ctx, "xapp-1-wrong-secret", "xoxb-test", sock.URL+"/api/")
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("RunSocketMode with a refused token: %v (ctx %v)", err, ctx.Err())
	}
}

// TestSocketModeClick: a click on one of kpibot's buttons over Socket Mode
// is acknowledged at once and empty, and runs like one over HTTP: the
// command as the clicker's, the message updated through response_url.
func TestSocketModeClick(t *testing.T) {
	fake := newFakeSlack(t)
	sock := newFakeSocket(t)
	var mu sync.Mutex
	var got []string
	a := &answerFunc{f: func(req bot.Request) bot.Reply {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, req.User+" "+req.Text)
		return bot.Reply{Text: "#12 snoozed until 14:00: Rakuten Flagship · return rate.", Lang: locales.English}
	}}
	h, _ := newTestHandler(t, a, fake, store(t, filepath.Join(t.TempDir(), "k.db")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- h.RunSocketMode(ctx, appToken, "xoxb-test", sock.URL+"/api/") }()
	select {
	case <-sock.connected:
	case err := <-ran:
		t.Fatalf("RunSocketMode returned before connecting: %v", err)
	case <-time.After(3 * time.Second):
		t.Fatal("no Socket Mode connection within 3 s")
	}
	payload := clickJSON(t, "block_actions", "kpi:1", "/kpi snooze 12 2h", fake.URL+"/response", Blocks(alertReply, moreLines))
	sent := sock.send(`{"envelope_id":"ia2","type":"interactive","accepts_response_payload":false,"payload":` + payload + `}`)
	ack := sock.waitAcks(t, 1, time.Second)["ia2"]
	if len(ack.Payload) != 0 || ack.at.Sub(sent) > time.Second {
		t.Errorf("click acknowledged with %s after %v, want empty at once", ack.Payload, ack.at.Sub(sent))
	}
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("RunSocketMode: %v", err)
	}
	h.Wait()
	if want := []string{"slack:T1:U1 /kpi snooze 12 2h"}; !slices.Equal(got, want) {
		t.Errorf("the bot got %q, want %q", got, want)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.responses) != 1 || fake.responses[0]["replace_original"] != true || slices.Contains(blockTypes(fake.responses[0]), "actions") ||
		lastContext(fake.responses[0]) != "#12 snoozed until 14:00: Rakuten Flagship · return rate." {
		t.Errorf("response_url got %v", fake.responses)
	}
}
