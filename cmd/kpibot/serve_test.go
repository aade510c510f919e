package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/bot/slack"
	"github.com/kpibot/kpibot/bot/slack/slacktest"
	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
	"github.com/kpibot/kpibot/kpi"
)

const (
	testSigningSecret = "test-signing-secret-5f1c0a"
	testBotToken      = "xoxb-test-bot-token-9d2e"
	testAppToken      = "xapp-test-app-token-7b3f"
)

// syncBuffer is a bytes.Buffer that serve's goroutines may write while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeSlackAPI is a local Slack Web API that records chat.postMessage and,
// in files, the file uploads.
type fakeSlackAPI struct {
	*httptest.Server
	files *slacktest.Files
	mu    sync.Mutex
	posts []url.Values
}

func newFakeSlackAPI(t *testing.T) *fakeSlackAPI {
	f := &fakeSlackAPI{files: slacktest.NewFiles(t, testBotToken)}
	mux := http.NewServeMux()
	f.files.Register(mux, "/api/")
	mux.HandleFunc("POST /api/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		f.posts = append(f.posts, r.PostForm)
		f.mu.Unlock()
		fmt.Fprint(w, `{"ok":true,"channel":"C1","ts":"1700000000.000100"}`)
	})
	// Socket Mode's first call: this Slack refuses every app token.
	mux.HandleFunc("POST /api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlackAPI) postCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.posts)
}

// server is a running `kpibot serve`.
type server struct {
	base   string // http://127.0.0.1:port
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

// startServe runs `kpibot serve args...` with vars as its environment and
// waits until it listens.
func startServe(t *testing.T, vars map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	ready := make(chan string, 1)
	e := env{
		args:   append([]string{"serve"}, args...),
		stdin:  strings.NewReader(""),
		stdout: io.Discard,
		stderr: s.stderr,
		getenv: func(k string) string { return vars[k] },
		now:    func() time.Time { return demoNow },
		ready:  func(addr string) { ready <- addr },
		clock:  clockwork.NewFakeClockAt(demoNow),
		sleep:  func(ctx context.Context, _ time.Duration) error { return ctx.Err() }, // the connectors' waits, at once
	}
	go func() { s.done <- run(ctx, e) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	select {
	case addr := <-ready:
		s.base = "http://" + addr
	case code := <-s.done:
		s.done <- code
		t.Fatalf("serve exited with %d before listening:\n%s", code, s.stderr)
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not listen within 10 s:\n%s", s.stderr)
	}
	return s
}

// stop cancels serve's context and returns its exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code // for the cleanup
		return code
	case <-time.After(5 * time.Second):
		t.Fatalf("serve did not return within 5 s of cancelling:\n%s", s.stderr)
		return -1
	}
}

var client = &http.Client{Timeout: 5 * time.Second}

// post sends body to path, signed with key as Slack signs (key "" sends no
// signature), timestamped by the tests' clock.
func (s *server) post(t *testing.T, path, contentType, body, key string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		ts := strconv.FormatInt(demoNow.Unix(), 10)
		mac := hmac.New(sha256.New, []byte(key))
		io.WriteString(mac, "v0:"+ts+":"+body)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}

func (s *server) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := client.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func slackVars(fake *fakeSlackAPI, db string) map[string]string {
	return map[string]string{
		"KPIBOT_ADDR":          "127.0.0.1:0",
		"KPIBOT_DB":            db,
		"SLACK_SIGNING_SECRET": testSigningSecret,
		"SLACK_BOT_TOKEN":      testBotToken,
		"SLACK_API_URL":        fake.URL + "/api", // serve adds the slash slack-go needs
	}
}

// noSecrets fails when a token, signing secret or marketplace credential
// of the tests reached log: serve's JSON log, or what a command printed.
func noSecrets(t *testing.T, log string) {
	t.Helper()
	for _, secret := range []string{testSigningSecret, testBotToken, testAppToken, testLineSecret, testLineToken,
		rakutentest.ServiceSecret, rakutentest.LicenseKey, amazontest.Credentials.ClientSecret, amazontest.Credentials.RefreshToken,
		base64.StdEncoding.EncodeToString([]byte(rakutentest.ServiceSecret + ":" + rakutentest.LicenseKey))} { // RMS's ESA header
		if strings.Contains(log, secret) {
			t.Errorf("secret %q reached the log:\n%s", secret, log)
		}
	}
}

// jsonLog checks that every line serve logged is a JSON record and returns
// the records' messages.
func jsonLog(t *testing.T, log string) []string {
	t.Helper()
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON log line: %q", line)
			continue
		}
		msgs = append(msgs, rec.Level+" "+rec.Msg)
	}
	return msgs
}

func TestServeSlack(t *testing.T) {
	fake := newFakeSlackAPI(t)
	db := filepath.Join(t.TempDir(), "serve.db") // empty: help needs no shops
	s := startServe(t, slackVars(fake, db), "--db", db)

	if code, body := s.get(t, "/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}

	form := url.Values{"command": {"/kpi"}, "text": {"help"}, "team_id": {"T1"}, "user_id": {"U1"},
		"channel_id": {"C1"}, "response_url": {fake.URL + "/response"}}.Encode()
	resp, body := s.post(t, "/slack/commands", "application/x-www-form-urlencoded", form, testSigningSecret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed /kpi help: %s %s", resp.Status, body)
	}
	var msg struct {
		ResponseType string            `json:"response_type"`
		Text         string            `json:"text"`
		Blocks       []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		t.Fatalf("signed /kpi help: not JSON (%v): %q", err, body)
	}
	if len(msg.Blocks) == 0 || msg.ResponseType != "in_channel" || msg.Text == "" {
		t.Errorf("signed /kpi help: want an in_channel message with blocks, got %s", body)
	}

	resp, _ = s.post(t, "/slack/commands", "application/x-www-form-urlencoded", form, "not-the-secret")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged /kpi help: %s, want 401", resp.Status)
	}
	resp, _ = s.post(t, "/slack/commands", "application/x-www-form-urlencoded", form, "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned /kpi help: %s, want 401", resp.Status)
	}

	// A mention is answered in the background through the Web API at
	// SLACK_API_URL; stopping right after must still let the answer out.
	event := `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"app_mention",` +
		`"user":"U1","text":"<@UKPIBOT> help","channel":"C1","ts":"1700000000.000100"}}`
	resp, body = s.post(t, "/slack/events", "application/json", event, testSigningSecret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed event: %s %s", resp.Status, body)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d after cancelling, want 0:\n%s", code, s.stderr)
	}
	if n := fake.postCount(); n != 1 {
		t.Errorf("%d chat.postMessage calls by the time serve returned, want 1 (in-flight answers are waited for)", n)
	}

	log := s.stderr.String()
	noSecrets(t, log)
	msgs := strings.Join(jsonLog(t, log), "\n")
	for _, want := range []string{"INFO kpibot serve: listening", "WARN slack: refused a request with a bad signature",
		"INFO kpibot serve: shutting down", "INFO kpibot serve: stopped"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(msgs, "no chat platform") {
		t.Errorf("warned of no chat platform with Slack configured:\n%s", log)
	}
}

func TestServeWithoutPlatform(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	s := startServe(t, map[string]string{"KPIBOT_ADDR": "127.0.0.1:0", "KPIBOT_DB": db})
	if code, body := s.get(t, "/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}
	if resp, _ := s.post(t, "/slack/commands", "application/x-www-form-urlencoded", "text=help", testSigningSecret); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/slack/commands without Slack configured: %s, want 404", resp.Status)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, s.stderr)
	}
	if msgs := strings.Join(jsonLog(t, s.stderr.String()), "\n"); !strings.Contains(msgs, "WARN no chat platform is configured") {
		t.Errorf("no warning that no chat platform is configured:\n%s", s.stderr)
	}
}

// withSocketMode replaces Socket Mode for one test.
func withSocketMode(t *testing.T, f func(ctx context.Context, h *slack.Handler, appToken, botToken, apiURL string) error) {
	saved := runSocketMode
	runSocketMode = f
	t.Cleanup(func() { runSocketMode = saved })
}

func TestServeSocketMode(t *testing.T) {
	fake := newFakeSlackAPI(t)
	db := filepath.Join(t.TempDir(), "serve.db")
	vars := slackVars(fake, db)
	vars["SLACK_APP_TOKEN"] = testAppToken

	type call struct{ appToken, botToken, apiURL string }
	calls := make(chan call, 1)
	withSocketMode(t, func(ctx context.Context, h *slack.Handler, appToken, botToken, apiURL string) error {
		if h == nil {
			t.Error("Socket Mode got no handler")
		}
		calls <- call{appToken, botToken, apiURL}
		<-ctx.Done()
		return ctx.Err()
	})
	s := startServe(t, vars)
	select {
	case c := <-calls:
		if want := (call{testAppToken, testBotToken, fake.URL + "/api/"}); c != want {
			t.Errorf("Socket Mode got %+v, want %+v", c, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Socket Mode was not started")
	}
	if code, _ := s.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz: %d", code)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, s.stderr)
	}
	noSecrets(t, s.stderr.String())
}

// TestServeSocketModeRefused runs the real Socket Mode against a Slack that
// refuses the app token: serve stops with exit 1 instead of serving on
// without it.
func TestServeSocketModeRefused(t *testing.T) {
	fake := newFakeSlackAPI(t)
	db := filepath.Join(t.TempDir(), "serve.db")
	vars := slackVars(fake, db)
	vars["SLACK_APP_TOKEN"] = testAppToken
	var errOut syncBuffer
	e := env{args: []string{"serve"}, stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errOut,
		getenv: func(k string) string { return vars[k] }, now: func() time.Time { return demoNow }}
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), e) }()
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(errOut.String(), "kpibot serve stopped because of an error") ||
			!strings.Contains(errOut.String(), "invalid_auth") {
			t.Errorf("exit %d, stderr:\n%s\nwant exit 1, the error logged and a message", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve kept running after Socket Mode failed")
	}
	noSecrets(t, errOut.String())
}

func TestServeRefusesWhatItCannotDo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	badConfig := filepath.Join(t.TempDir(), "kpibot.yaml")
	if err := os.WriteFile(badConfig, []byte("alerts:\n  rules:\n    - metric: return_rate\n      threshold: 3\n  resend_after: soon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"KPIBOT_ADDR": "127.0.0.1:0", "KPIBOT_DB": db}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"config file missing", base, []string{"--config", "nowhere.yaml"}, 2, "The config file nowhere.yaml cannot be used:\nopen nowhere.yaml: no such file"},
		{"config file missing, in Japanese", with("LANG", "ja_JP.UTF-8"), []string{"--config", "nowhere.yaml"}, 2, "設定ファイル nowhere.yaml を使えません"},
		{"bad config file", with("KPIBOT_CONFIG", badConfig), nil, 2,
			"alerts.rules[0].threshold: \"3\": this metric is a rate, write it with % (3%)\nalerts.resend_after: \"soon\" is not a positive duration (30m, 1h)"},
		{"bot token alone", with("SLACK_BOT_TOKEN", testBotToken), nil, 2, "not set: SLACK_SIGNING_SECRET."},
		{"signing secret alone", with("SLACK_SIGNING_SECRET", testSigningSecret), nil, 2, "not set: SLACK_BOT_TOKEN."},
		{"app token alone", with("SLACK_APP_TOKEN", testAppToken), nil, 2, "not set: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN."},
		{"LINE token alone", with("LINE_CHANNEL_ACCESS_TOKEN", testLineToken), nil, 2, "not set: LINE_CHANNEL_SECRET."},
		{"LINE secret alone", with("LINE_CHANNEL_SECRET", testLineSecret), nil, 2, "not set: LINE_CHANNEL_ACCESS_TOKEN."},
		{"public URL not https", with("LINE_CHANNEL_SECRET", testLineSecret, "LINE_CHANNEL_ACCESS_TOKEN", testLineToken, "KPIBOT_PUBLIC_URL", "http://kpibot.example.com"), nil, 2,
			"KPIBOT_PUBLIC_URL cannot be used for LINE's chart images"},
		{"arguments", base, []string{"now"}, 2, `kpibot serve takes no arguments, but got "now"`},
		{"bad flag", base, []string{"--lang", "ja"}, 2, "flag provided but not defined: -lang"},
		{"bad address", with("KPIBOT_ADDR", "127.0.0.1:99999"), nil, 1, "Can't listen on 127.0.0.1:99999"},
		{"unwritable database", base, []string{"--db", filepath.Join(t.TempDir(), "no", "dir", "x.db")}, 1, "Can't open the database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			e := testEnv(&out, &errOut, "", append([]string{"serve"}, tt.args...)...)
			e.getenv = func(k string) string { return tt.vars[k] }
			e.ready = func(string) { t.Error("serve listened") }
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code := run(ctx, e)
			if code != tt.code || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut.String(), tt.code, tt.want)
			}
			noSecrets(t, errOut.String())
		})
	}
}

func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	vars := map[string]string{"KPIBOT_ADDR": ln.Addr().String(), "KPIBOT_DB": filepath.Join(t.TempDir(), "serve.db")}
	var out, errOut bytes.Buffer
	e := testEnv(&out, &errOut, "", "serve")
	e.getenv = func(k string) string { return vars[k] }
	if code := run(context.Background(), e); code != 1 || !strings.Contains(errOut.String(), "Can't listen on "+ln.Addr().String()) {
		t.Errorf("exit %d, stderr:\n%s", code, errOut.String())
	}
}

const testLineSecret = "9d1e6c0b5f4a3e2d1c0b9a8f7e6d5c4b"

var testLineToken = linetest.Token

func TestServeLINE(t *testing.T) {
	fake := linetest.NewServer(t)
	db := filepath.Join(t.TempDir(), "serve.db") // empty: help needs no shops
	s := startServe(t, map[string]string{
		"KPIBOT_ADDR":               "127.0.0.1:0",
		"KPIBOT_DB":                 db,
		"LINE_CHANNEL_SECRET":       testLineSecret,
		"LINE_CHANNEL_ACCESS_TOKEN": testLineToken,
		"LINE_API_URL":              fake.URL,
	}, "--db", db)

	body := `{"destination":"U0000000000000000000000000000000b","events":[{"type":"message","mode":"active",` +
		`"timestamp":` + strconv.FormatInt(demoNow.UnixMilli(), 10) + `,"webhookEventId":"01JSERVE0000000000000000001",` +
		`"deliveryContext":{"isRedelivery":false},"replyToken":"rt-serve","source":{"type":"user","userId":"U00000000000000000000000000000001"},` +
		`"message":{"type":"text","id":"1","text":"help","quoteToken":"q1"}}]}`
	if err := linetest.ValidateWebhook([]byte(body)); err != nil {
		t.Fatalf("the test's webhook breaks LINE's model: %v", err)
	}
	post := func(secret string) int {
		code, err := postLINE(s.base, secret, body)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	if code := post("not-the-secret"); code != http.StatusUnauthorized {
		t.Errorf("forged webhook: %d, want 401", code)
	}
	if code := post(testLineSecret); code != http.StatusOK {
		t.Errorf("signed webhook: %d, want 200", code)
	}
	// Stopping right after must still let the answer out.
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d after cancelling, want 0:\n%s", code, s.stderr)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].ReplyToken != "rt-serve" {
		t.Errorf("sent %+v, want one reply with the event's token", sent)
	}
	log := s.stderr.String()
	noSecrets(t, log)
	if msgs := strings.Join(jsonLog(t, log), "\n"); !strings.Contains(msgs, "WARN line: refused a request with a bad signature") ||
		strings.Contains(msgs, "no chat platform") {
		t.Errorf("log:\n%s", log)
	}
}

// A bound LINE hq group gets the day's digest when serve starts after
// 09:00, once: not again after a restart.
func TestServeSendsTheMissedDigestOnce(t *testing.T) {
	fake := linetest.NewServer(t)
	group := "C" + strings.Repeat("0", 31) + "9"
	db := demoWithChannel(t, kpi.ChatChannel{Platform: "line", ID: group, Role: kpi.RoleHQ, Lang: "zh"})
	vars := map[string]string{
		"KPIBOT_ADDR":               "127.0.0.1:0",
		"KPIBOT_DB":                 db,
		"LINE_CHANNEL_SECRET":       testLineSecret,
		"LINE_CHANNEL_ACCESS_TOKEN": testLineToken,
		"LINE_API_URL":              fake.URL,
	}
	for range 2 { // a start at 12:00 JST, then a restart
		s := startServe(t, vars)
		if code := s.stop(t); code != 0 {
			t.Fatalf("exit %d:\n%s", code, s.stderr)
		}
	}
	var sent []linetest.Sent // other tests bind chats in the shared demo file too
	for _, m := range fake.Sent() {
		if m.To == group {
			sent = append(sent, m)
		}
	}
	if len(sent) != 1 || sent[0].Op != "pushMessage" {
		t.Fatalf("sent %d messages to the hq group, want one push", len(sent))
	}
	var msg struct{ AltText string }
	json.Unmarshal(sent[0].Messages[0], &msg)
	if !strings.Contains(msg.AltText, "每日简报") || !strings.Contains(msg.AltText, "デイリーダイジェスト") {
		t.Errorf("the digest's altText %q is not the bilingual digest", msg.AltText)
	}
}

// With KPIBOT_PUBLIC_URL, the digest pushed to a LINE chat carries its
// chart, which serve itself draws at the image message's URLs; a link
// changed by a byte is refused.
func TestServeLINEChart(t *testing.T) {
	fake := linetest.NewServer(t)
	group := "C" + strings.Repeat("0", 31) + "8"
	db := demoWithChannel(t, kpi.ChatChannel{Platform: "line", ID: group, Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten"}})
	// The public URL names the address serve listens on: take a free port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := startServe(t, map[string]string{
		"KPIBOT_ADDR":               addr,
		"KPIBOT_DB":                 db,
		"KPIBOT_PUBLIC_URL":         "http://" + addr,
		"LINE_CHANNEL_SECRET":       testLineSecret,
		"LINE_CHANNEL_ACCESS_TOKEN": testLineToken,
		"LINE_API_URL":              fake.URL,
	})
	var images []linetest.Image // other tests bind chats in the shared demo file too
	for deadline := time.Now().Add(10 * time.Second); len(images) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, im := range fake.Images() {
			if im.To == group {
				images = append(images, im)
			}
		}
	}
	if len(images) != 1 {
		t.Fatalf("%d image messages, want the digest's one:\n%s", len(images), s.stderr)
	}
	for _, u := range []string{images[0].Original, images[0].Preview} {
		path := strings.TrimPrefix(u, s.base)
		code, body := s.get(t, path)
		cfg, err := png.DecodeConfig(strings.NewReader(body))
		if code != http.StatusOK || err != nil || cfg.Width < 480 {
			t.Errorf("GET %s: %d, %v %+v", path, code, err, cfg)
		}
		tampered := strings.Replace(path, "/charts/e", "/charts/f", 1)
		if tampered == path {
			tampered = path[:len("/charts/")] + "x" + path[len("/charts/")+1:]
		}
		if code, _ := s.get(t, tampered); code != http.StatusForbidden {
			t.Errorf("GET a tampered link: %d, want 403", code)
		}
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d:\n%s", code, s.stderr)
	}
	noSecrets(t, s.stderr.String())
}

// demoWithChannel returns a copy of the demo database in which ch is bound.
func demoWithChannel(t *testing.T, ch kpi.ChatChannel) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "serve.db")
	data, err := os.ReadFile(seeded)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := openStore(context.Background(), env{now: func() time.Time { return demoNow }}, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.BindChatChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	return db
}

// lineEvent is a LINE webhook of one text message in a 1:1 chat.
func lineEvent(eventID, replyToken, text string, redelivery bool) string {
	return `{"destination":"U0000000000000000000000000000000b","events":[{"type":"message","mode":"active",` +
		`"timestamp":` + strconv.FormatInt(demoNow.UnixMilli(), 10) + `,"webhookEventId":"` + eventID + `",` +
		`"deliveryContext":{"isRedelivery":` + strconv.FormatBool(redelivery) + `},"replyToken":"` + replyToken + `",` +
		`"source":{"type":"user","userId":"U00000000000000000000000000000001"},` +
		`"message":{"type":"text","id":"1","text":"` + text + `","quoteToken":"q1"}}]}`
}

// postLINE posts a webhook body to serve at base, signed with secret as
// LINE signs, and returns the status.
func postLINE(base, secret, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/line/webhook", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	mac := hmac.New(sha256.New, []byte(secret))
	io.WriteString(mac, body)
	req.Header.Set("x-line-signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
