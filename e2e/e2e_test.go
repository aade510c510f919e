// Package e2e runs `kpibot serve` as a real OS process against local fakes
// of Slack, LINE, SP-API and RMS on loopback, and checks what a user sees
// (issue 13).
//
// TestMain builds the binary once; each test starts its own fakes (they
// need a *testing.T) and its own serve process on a free port, with a temp
// SQLite file, and stops it with SIGTERM, requiring exit 0.
package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/bot/slack/slacktest"
	"github.com/kpibot/kpibot/connectors/amazon"
	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
)

// The secrets of the fakes; the LINE token is the one linetest accepts.
const (
	slackSigningSecret = "e2e-slack-signing-secret-3a9c"
	slackBotToken      = "xoxb-e2e-bot-token-51d0"
	lineSecret         = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	lineToken          = linetest.Token
)

// The chats the config binds: a Slack hq channel and a LINE jp-support
// group; the users who ask there.
const (
	hqChannel = "C0E2EHQ01"
	jpGroup   = "C0e2e00000000000000000000000000a1"
	slackUser = "U0E2EJA01"                         // a Japanese support member on Slack
	lineUser  = "U0e2e00000000000000000000000000c1" // a Chinese manager in the LINE group
)

var jst = time.FixedZone("JST", 9*60*60)

// root is the module root; bin the kpibot binary built from it.
var root, bin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	var err error
	if root, err = filepath.Abs(".."); err == nil {
		_, err = os.Stat(filepath.Join(root, "go.mod"))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: the module root is not the parent of %s: %v\n", mustWd(), err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kpibot-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "kpibot")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kpibot")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/kpibot: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func mustWd() string {
	wd, _ := os.Getwd()
	return wd
}

// syncBuffer is a buffer the process's stderr is copied to while the test
// reads it.
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

// fakeSlack is a local Slack Web API (chat.postMessage, chat.update, file
// uploads) and the slash commands' response_url, recording what they get.
type fakeSlack struct {
	*httptest.Server
	files     *slacktest.Files    // the uploads: a reply with a chart
	messages  *slacktest.Messages // the messages, as edited since
	mu        sync.Mutex
	responses []string // the bodies posted to response_url
	// outageUntil: until then the Web API's chat.postMessage, chat.update
	// and file calls answer 500 and 429 (Retry-After: 1) in turn; faults
	// counts those answers.
	outageUntil time.Time
	faults      int
}

// outage makes the fake Slack fail until the instant until (real time).
func (f *fakeSlack) outage(until time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outageUntil = until
}

// faulted returns how many calls the outage refused.
func (f *fakeSlack) faulted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults
}

// failing answers r with the outage's next error while it lasts.
func (f *fakeSlack) failing(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/api/chat.") && !strings.HasPrefix(p, "/api/files.") && !strings.HasPrefix(p, "/upload/") {
		return false
	}
	f.mu.Lock()
	on := time.Now().Before(f.outageUntil)
	if on {
		f.faults++
	}
	n := f.faults
	f.mu.Unlock()
	if !on {
		return false
	}
	if n%2 == 1 {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Retry-After", "1")
	http.Error(w, "ratelimited", http.StatusTooManyRequests)
	return true
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{files: slacktest.NewFiles(t, slackBotToken), messages: slacktest.NewMessages(t, slackBotToken)}
	mux := http.NewServeMux()
	f.files.Register(mux, "/api/")
	f.messages.Register(mux, "/api/")
	mux.HandleFunc("POST /response", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.responses = append(f.responses, string(body))
		f.mu.Unlock()
		fmt.Fprint(w, "ok")
	})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.failing(w, r) {
			mux.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// postsSoFar returns the messages chat.postMessage took so far, as they
// are now (edited or not).
func (f *fakeSlack) postsSoFar() []slacktest.Message { return f.messages.Posted() }

func (f *fakeSlack) responseBodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.responses...)
}

// world is the fakes, the config and a running serve process.
type world struct {
	t       *testing.T
	amazon  *amazontest.Server
	reports *amazontest.Reports // Amazon's reports: done at the first poll, cancelled (no data) unless set
	rakuten *rakutentest.Server
	line    *linetest.Server
	slack   *fakeSlack
	dir     string
	db      string
	config  string
	base    string // http://127.0.0.1:port
	env     []string

	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed

	// clockAt is the instant serve's clock started at (KPIBOT_TEST_CLOCK),
	// at startedAt; zero: serve runs on the real clock.
	clockAt, startedAt time.Time

	// What the fakes serve: the orders placed today (JST), by shop.
	amazonToday, rakutenToday int
	// The ids of all the orders the fakes serve, by shop id.
	orderIDs map[string][]string
}

// worldOptions changes what newWorldWith sets up; the zero value is
// newWorld's.
type worldOptions struct {
	// now is when the fakes' orders are placed before (and serve's clock
	// with clock set); zero: time.Now().
	now time.Time
	// clock starts serve's clock at now (KPIBOT_TEST_CLOCK).
	clock bool
	// channels is the config's channels section, its list items; "": the
	// Slack hq channel and the LINE jp-support group.
	channels string
	// publicURL sets KPIBOT_PUBLIC_URL to serve's own address, so that
	// LINE messages carry their charts.
	publicURL bool
	// setup, if not nil, is called with the fakes ready, before serve
	// starts.
	setup func(*world)
}

// newWorld starts the fakes with orders placed over the last hours, writes
// the config and starts serve.
func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, worldOptions{})
}

// newWorldWith is newWorld as o says.
func newWorldWith(t *testing.T, o worldOptions) *world {
	t.Helper()
	w := &world{t: t, dir: t.TempDir(), orderIDs: map[string][]string{}}
	now := o.now
	if now.IsZero() {
		now = time.Now()
	}
	today := now.In(jst).Format(time.DateOnly)

	w.amazon = amazontest.New(t)
	model, err := os.ReadFile(filepath.Join(root, "connectors/amazon/testdata/spec/orders_2026-01-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	example := amazontest.ExampleOrders(t, model, "searchOrders")[0]
	var amz []amazontest.Order
	for i := range 14 {
		placed := now.Add(-time.Duration(i+1) * 97 * time.Minute)
		o := example.Clone()
		o.Set(fmt.Sprintf("250-9000000-%07d", i), "orderId")
		w.orderIDs["amz"] = append(w.orderIDs["amz"], fmt.Sprintf("250-9000000-%07d", i))
		o.Set(placed.UTC().Format(time.RFC3339), "createdTime")
		o.Set(placed.Add(time.Minute).UTC().Format(time.RFC3339), "lastUpdatedTime")
		o.Set(amazon.MarketplaceJP, "salesChannel", "marketplaceId")
		o.Set(map[string]any{"amount": "3980", "currencyCode": "JPY"}, "proceeds", "grandTotal")
		amz = append(amz, o)
		if placed.In(jst).Format(time.DateOnly) == today {
			w.amazonToday++
		}
	}
	w.amazon.ServeOrders().Set(amz...)
	// A real report is polled 15 s apart (connectors/amazon pollFirst),
	// too slow for a test: the fake's are done at the first poll. A type
	// with no outcome set ends CANCELLED, as Amazon's do with no data.
	w.reports = w.amazon.ServeReports(nil)
	w.reports.Quick()

	w.rakuten = rakutentest.New(t)
	var rk []rakutentest.Order
	for i := range 9 {
		placed := now.Add(-time.Duration(i+1) * 113 * time.Minute)
		number := fmt.Sprintf("338411-%s-%010d", placed.In(jst).Format("20060102"), i)
		rk = append(rk, rakutentest.NewOrder(number, placed))
		w.orderIDs["rk"] = append(w.orderIDs["rk"], number)
		if placed.In(jst).Format(time.DateOnly) == today {
			w.rakutenToday++
		}
	}
	w.rakuten.Set(rk...)

	w.line = linetest.NewServer(t)
	w.slack = newFakeSlack(t)

	w.config = filepath.Join(w.dir, "kpibot.yaml")
	channels := o.channels
	if channels == "" {
		channels = fmt.Sprintf(`  - platform: slack
    id: %s
    role: hq
  - platform: line
    id: %s
    role: jp-support
`, hqChannel, jpGroup)
	}
	yaml := fmt.Sprintf(`shops:
  - id: amz
    platform: amazon
    name: Amazon JP Main
    amazon:
      endpoint: %[1]s
      token_url: %[1]s/auth/o2/token
  - id: rk
    platform: rakuten
    name: Rakuten Flagship
    rakuten:
      endpoint: %[2]s
channels:
%[3]s`, w.amazon.URL, w.rakuten.URL, channels)
	if err := os.WriteFile(w.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	w.db = filepath.Join(w.dir, "kpibot.db")
	addr := freeAddr(t)
	w.base = "http://" + addr
	w.env = []string{
		"HOME=" + w.dir,
		"PATH=" + os.Getenv("PATH"),
		"KPIBOT_DB=" + w.db,
		"KPIBOT_ADDR=" + addr,
		"SLACK_SIGNING_SECRET=" + slackSigningSecret,
		"SLACK_BOT_TOKEN=" + slackBotToken,
		"SLACK_API_URL=" + w.slack.URL + "/api/",
		"LINE_CHANNEL_SECRET=" + lineSecret,
		"LINE_CHANNEL_ACCESS_TOKEN=" + lineToken,
		"LINE_API_URL=" + w.line.URL,
		"AMAZON_LWA_CLIENT_ID=" + amazontest.Credentials.ClientID,
		"AMAZON_LWA_CLIENT_SECRET=" + amazontest.Credentials.ClientSecret,
		"AMAZON_REFRESH_TOKEN=" + amazontest.Credentials.RefreshToken,
		"RAKUTEN_SERVICE_SECRET=" + rakutentest.ServiceSecret,
		"RAKUTEN_LICENSE_KEY=" + rakutentest.LicenseKey,
	}
	if o.clock {
		w.env = append(w.env, testClockEnv(now))
	}
	if o.publicURL {
		w.env = append(w.env, "KPIBOT_PUBLIC_URL="+w.base)
	}
	if o.setup != nil {
		o.setup(w)
	}
	w.start()
	return w
}

// testClockEnv is the variable that starts serve's clock at t (it runs at
// real speed from there).
func testClockEnv(t time.Time) string {
	return "KPIBOT_TEST_CLOCK=" + t.Format(time.RFC3339)
}

// setEnv replaces (or adds) the variable of kv, NAME=value, for the next
// start.
func (w *world) setEnv(kv string) {
	name, _, _ := strings.Cut(kv, "=")
	for i, e := range w.env {
		if strings.HasPrefix(e, name+"=") {
			w.env[i] = kv
			return
		}
	}
	w.env = append(w.env, kv)
}

// freeAddr returns a loopback address nobody listens on (for a moment).
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `kpibot serve --config FILE` and waits for /readyz.
func (w *world) start() {
	t := w.t
	t.Helper()
	w.stderr = &syncBuffer{}
	w.exited = make(chan struct{})
	w.cmd = exec.Command(bin, "serve", "--config", w.config)
	w.cmd.Env = w.env
	w.clockAt, w.startedAt = time.Time{}, time.Now()
	for _, kv := range w.env {
		if v, ok := strings.CutPrefix(kv, "KPIBOT_TEST_CLOCK="); ok {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatal(err)
			}
			w.clockAt = at
		}
	}
	w.cmd.Stdout = w.stderr
	w.cmd.Stderr = w.stderr
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.err = w.cmd.Wait(); close(w.exited) }()
	t.Cleanup(func() { // a test that failed before stop: no process left behind
		select {
		case <-w.exited:
		default:
			w.cmd.Process.Kill()
			<-w.exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-w.exited:
			t.Fatalf("kpibot serve exited before it was ready (%v):\n%s", w.err, w.stderr)
		default:
		}
		if resp, err := http.Get(w.base + "/readyz"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ready" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kpibot serve not ready within 30 s:\n%s", w.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires exit 0 within 20 s.
func (w *world) stop() {
	t := w.t
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("kpibot serve did not stop within 20 s of SIGTERM:\n%s", w.stderr)
	}
	if w.err != nil {
		t.Fatalf("kpibot serve after SIGTERM: %v, want exit 0:\n%s", w.err, w.stderr)
	}
	w.noSecrets()
}

// kill sends SIGKILL and waits for the process to be gone.
func (w *world) kill() {
	t := w.t
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("kpibot serve still running 10 s after SIGKILL")
	}
}

// noSecrets fails when a secret of the fakes reached serve's output.
func (w *world) noSecrets() {
	log := w.stderr.String()
	for _, s := range []string{slackSigningSecret, slackBotToken, lineSecret, lineToken, rakutentest.ServiceSecret,
		rakutentest.LicenseKey, amazontest.Credentials.ClientSecret, amazontest.Credentials.RefreshToken} {
		if strings.Contains(log, s) {
			w.t.Errorf("secret %q reached serve's log", s)
		}
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// now is the time on serve's clock.
func (w *world) now() time.Time {
	if w.clockAt.IsZero() {
		return time.Now()
	}
	return w.clockAt.Add(time.Since(w.startedAt))
}

// slashCommand posts a Slack slash command, signed as Slack signs at
// serve's time (else serve refuses it as stale), and returns the status
// and body.
func (w *world) slashCommand(c *http.Client, user, channel, text string) (int, string, error) {
	form := url.Values{"command": {"/kpi"}, "text": {text}, "team_id": {"T0E2E"}, "user_id": {user},
		"channel_id": {channel}, "response_url": {w.slack.URL + "/response"}}.Encode()
	req, err := http.NewRequest(http.MethodPost, w.base+"/slack/commands", strings.NewReader(form))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts := strconv.FormatInt(w.now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(slackSigningSecret))
	io.WriteString(mac, "v0:"+ts+":"+form)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// lineGroupMessage is a LINE webhook of one text message by lineUser in
// the jp-support group.
func lineGroupMessage(eventID, replyToken, text string) string {
	b, _ := json.Marshal(text)
	return `{"destination":"U0e2e0000000000000000000000000b0","events":[{"type":"message","mode":"active",` +
		`"timestamp":` + strconv.FormatInt(time.Now().UnixMilli(), 10) + `,"webhookEventId":"` + eventID + `",` +
		`"deliveryContext":{"isRedelivery":false},"replyToken":"` + replyToken + `",` +
		`"source":{"type":"group","groupId":"` + jpGroup + `","userId":"` + lineUser + `"},` +
		`"message":{"type":"text","id":"` + eventID + `","text":` + string(b) + `,"quoteToken":"q` + eventID + `"}}]}`
}

// postLINE posts a webhook body signed as LINE signs and returns the status.
func (w *world) postLINE(c *http.Client, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, w.base+"/line/webhook", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	mac := hmac.New(sha256.New, []byte(lineSecret))
	io.WriteString(mac, body)
	req.Header.Set("x-line-signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// lineReply waits for the fake LINE's reply to token and returns its
// messages' JSON.
func (w *world) lineReply(token string, within time.Duration) string {
	w.t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, s := range w.line.Sent() {
			if s.ReplyToken == token {
				var all []string
				for _, m := range s.Messages {
					all = append(all, string(m))
				}
				return strings.Join(all, "\n")
			}
		}
	}
	w.t.Fatalf("no LINE reply to %s within %s:\n%s", token, within, w.stderr)
	return ""
}

// metric sums the samples of a series in serve's /metrics whose labels
// contain every one of labels.
func (w *world) metric(name string, labels ...string) (float64, bool) {
	resp, err := client.Get(w.base + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var sum float64
	found := false
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
			found = true
		}
	}
	return sum, found
}

// ask runs `kpibot ask --db` against serve's database.
func (w *world) ask(lang, text string) (string, error) {
	cmd := exec.Command(bin, "ask", "--db", w.db, "--lang", lang, text)
	cmd.Env = []string{"HOME=" + w.dir, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// waitSynced waits until serve's first pulls of both shops are stored:
// /metrics counts inserted order rows for each, and `kpibot ask` against
// the same file sees the orders the fakes placed today.
func (w *world) waitSynced() {
	t := w.t
	t.Helper()
	want := w.amazonToday + w.rakutenToday
	var out string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		amz, _ := w.metric("kpibot_sync_rows_total", `shop="amz"`, `result="inserted"`)
		rk, _ := w.metric("kpibot_sync_rows_total", `shop="rk"`, `result="inserted"`)
		if amz > 0 && rk > 0 {
			var err error
			out, err = w.ask("en", "/kpi orders today")
			if err == nil && valueIs(out, `Value\s+`, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store was not filled within 30 s (inserted rows amz %v, rk %v); kpibot ask says:\n%s\nserve:\n%s",
				amz, rk, out, w.stderr)
		}
	}
}

// valueIs reports whether text holds label followed by n.
func valueIs(text, label string, n int) bool {
	return regexp.MustCompile(label + strconv.Itoa(n) + `\b`).MatchString(text)
}

// slackText is the text of a slash command's answer: its blocks' and
// fallback text, JSON-decoded.
func slackText(body string) string {
	var msg struct {
		Text   string            `json:"text"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	if json.Unmarshal([]byte(body), &msg) != nil {
		return body
	}
	var b strings.Builder
	b.WriteString(msg.Text)
	for _, raw := range msg.Blocks {
		b.WriteString("\n")
		b.WriteString(decodedStrings(raw))
	}
	return b.String()
}

// decodedStrings is every string value in a JSON document, one a line,
// objects' in the order of their keys.
func decodedStrings(raw []byte) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v)
			b.WriteString("\n")
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any: // in the keys' order, so that equal documents read the same
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k])
			}
		}
	}
	walk(v)
	return b.String()
}

func waitFor(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
