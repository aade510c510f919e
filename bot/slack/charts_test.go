package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/chart"
	"github.com/kpibot/kpibot/connectors/demo"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

var (
	demoOnce sync.Once
	demoDB   []byte // a database seeded with the demo shops up to the clock
	demoErr  error
)

// demoBot returns the real bot over a copy of a store seeded with the demo
// shops' 120 days up to the clock.
func demoBot(t *testing.T) *bot.Bot {
	t.Helper()
	demoOnce.Do(func() { demoDB, demoErr = seedDemo() })
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	path := filepath.Join(t.TempDir(), "k.db")
	if err := os.WriteFile(path, demoDB, 0o600); err != nil {
		t.Fatal(err)
	}
	st := store(t, path)
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return clock }
	b, err := bot.New(&kpi.Engine{Store: st, Now: now}, st, st, st, text, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seedDemo returns a database file seeded with the demo shops.
func seedDemo() ([]byte, error) {
	dir, err := os.MkdirTemp("", "kpibot-slack")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "demo.db")
	st, err := sqlite.Open(context.Background(), path, func() time.Time { return clock })
	if err != nil {
		return nil, err
	}
	_, err = demo.Seed(context.Background(), st, clock)
	if err := errors.Join(err, st.Close()); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// blocksJSON is the JSON of the blocks Post would send for reply.
func blocksJSON(t *testing.T, h *Handler, reply bot.Reply) any {
	t.Helper()
	data, err := json.Marshal(Blocks(reply, h.more(reply.Lang)))
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, data)
}

func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return v
}

// checkPNG fails unless data is a PNG of the size asked.
func checkPNG(t *testing.T, data []byte, size chart.Size) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil || format != "png" {
		t.Fatalf("the upload is no PNG (%q): %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != size.W || b.Dy() != size.H {
		t.Errorf("the chart is %d×%d, want %d×%d", b.Dx(), b.Dy(), size.W, size.H)
	}
}

const mentionTS = "1700000000.000001"

// TestEventRepliesWithCharts answers mentions through the real bot over the
// demo shops: a reply with a chart is one message, its blocks above the
// picture, in the mention's thread; every other reply is a plain
// chat.postMessage.
func TestEventRepliesWithCharts(t *testing.T) {
	b := demoBot(t)
	ctx := context.Background()
	// A chart the bot cannot draw: a metric of the current state has no
	// day-by-day series.
	undrawable := &answerFunc{f: func(req bot.Request) bot.Reply {
		r := b.Handle(ctx, bot.Request{Text: "return_rate last 30 days", User: req.User})
		r.Chart = &bot.ChartRequest{Query: kpi.Query{Metric: "pse_coverage", Period: kpi.Range(kpi.DateOf(clock)-30, kpi.DateOf(clock)-1)}, Lang: locales.English}
		return r
	}}
	tests := []struct {
		name    string
		bot     Answerer
		charts  ChartDrawer
		text    string
		limit   string // a file method answered 429 once
		noScope bool   // the app lacks files:write
		upload  bool   // one upload, else one chat.postMessage
		logged  string
		request string // what the reply is the answer to, for its blocks
	}{
		{name: "chart", bot: b, charts: b, text: "return_rate last 30 days chart", upload: true},
		{name: "グラフ, completion rate-limited once", bot: b, charts: b, text: "返品率 過去30日 グラフ", limit: "files.completeUploadExternal", upload: true},
		{name: "upload URL rate-limited once", bot: b, charts: b, text: "return_rate last 30 days chart", limit: "files.getUploadURLExternal", upload: true},
		{name: "no chart asked", bot: b, charts: b, text: "return_rate last 30 days"},
		{name: "no drawer", bot: b, charts: nil, text: "return_rate last 30 days chart"},
		{name: "no files:write", bot: b, charts: b, text: "return_rate last 30 days chart", noScope: true, logged: "slack: upload a chart; the reply goes without it"},
		{name: "drawing fails", bot: undrawable, charts: b, text: "x", logged: "slack: draw a chart; the reply goes without it", request: "return_rate last 30 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSlack(t)
			h, mux := newTestHandler(t, tt.bot, fake, store(t, filepath.Join(t.TempDir(), "seen.db")))
			h.charts = tt.charts
			var logs syncBuffer
			h.log = slog.New(slog.NewTextHandler(&logs, nil))
			if tt.limit != "" {
				fake.files.RateLimit(tt.limit, 1)
			}
			if tt.noScope {
				fake.files.WithoutScope()
			}
			serve(mux, signedRequest("/slack/events", eventBody("EvC", "app_mention", "<@UBOT> "+tt.text), 0, secret))
			h.Wait()

			request := tt.text
			if tt.request != "" {
				request = tt.request
			}
			reply := b.Handle(ctx, bot.Request{Text: request, User: "slack:T1:U1"})
			if reply.Err != nil {
				t.Fatalf("the bot cannot answer %q: %v", request, reply.Err)
			}
			uploads := fake.files.Uploads()
			posts, _ := fake.counts()
			if !tt.upload {
				if len(uploads) != 0 || posts != 1 {
					t.Fatalf("%d uploads and %d chat.postMessage, want 0 and 1", len(uploads), posts)
				}
				if got := decodeJSON(t, []byte(fake.posts[0].Get("blocks"))); !reflect.DeepEqual(got, blocksJSON(t, h, reply)) {
					t.Errorf("posted blocks %s", fake.posts[0].Get("blocks"))
				}
				if !strings.Contains(logs.String(), tt.logged) {
					t.Errorf("logs lack %q:\n%s", tt.logged, logs.String())
				}
				return
			}
			if reply.Chart == nil {
				t.Fatalf("the bot gave %q no chart", request)
			}
			if len(uploads) != 1 || posts != 0 {
				t.Fatalf("%d uploads and %d chat.postMessage, want 1 and 0", len(uploads), posts)
			}
			if n := fake.files.Calls("files.completeUploadExternal"); tt.limit == "" && n != 1 {
				t.Errorf("%d completions for one upload", n)
			}
			up := uploads[0]
			if up.Channel != "C1" || up.ThreadTS != mentionTS || up.Filename != "kpi-chart.png" ||
				up.Title != reply.Title || up.AltText != FallbackText(reply) {
				t.Errorf("uploaded %q to %s in thread %q, titled %q, alt %q", up.Filename, up.Channel, up.ThreadTS, up.Title, up.AltText)
			}
			if up.Blocks == nil || !reflect.DeepEqual(decodeJSON(t, up.Blocks), blocksJSON(t, h, reply)) {
				t.Errorf("the upload's blocks are not the reply's: %s", up.Blocks)
			}
			checkPNG(t, up.Data, chart.Large)
			if l := logs.String(); strings.Contains(l, "level=ERROR") {
				t.Errorf("logs:\n%s", l)
			}
		})
	}
}

// TestCommandChartFollowsTheAnswer: a slash command's answer goes as the
// response JSON (or through response_url when slow) as before, and its
// chart, when the answer is for the channel, follows as a message of its
// own in the command's channel.
func TestCommandChartFollowsTheAnswer(t *testing.T) {
	b := demoBot(t)
	ctx := context.Background()
	private := &answerFunc{f: func(req bot.Request) bot.Reply {
		r := b.Handle(ctx, bot.Request{Text: "return_rate last 30 days chart", User: req.User})
		r.Private = true
		return r
	}}
	release := make(chan struct{})
	slow := &answerFunc{f: func(req bot.Request) bot.Reply {
		<-release
		return b.Handle(ctx, req)
	}}
	tests := []struct {
		name   string
		bot    Answerer
		text   string
		kind   string // the answer's response_type
		slow   bool
		upload bool
	}{
		{name: "chart", bot: b, text: "return_rate last 30 days chart", kind: "in_channel", upload: true},
		{name: "图表", bot: b, text: "退货率 最近30天 图表", kind: "in_channel", upload: true},
		{name: "no chart", bot: b, text: "return_rate last 30 days", kind: "in_channel"},
		{name: "bad period", bot: b, text: "gmv 2026-02-30 chart", kind: "ephemeral"},
		{name: "for the asker alone", bot: private, text: "x", kind: "ephemeral"},
		{name: "slow", bot: slow, text: "return_rate last 30 days chart", slow: true, kind: "in_channel", upload: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSlack(t)
			h, mux := newTestHandler(t, tt.bot, fake, nil)
			h.charts = b
			var logs syncBuffer
			h.log = slog.New(slog.NewTextHandler(&logs, nil))
			w := serve(mux, signedRequest("/slack/commands", commandBody(tt.text, fake.URL+"/response"), 0, secret))
			var msg map[string]any
			if tt.slow {
				if w.Body.Len() != 0 {
					t.Fatalf("a slow command answered at once: %s", w.Body)
				}
				close(release)
				h.Wait()
				fake.mu.Lock()
				if len(fake.responses) != 1 {
					t.Fatalf("%d answers through response_url", len(fake.responses))
				}
				msg = fake.responses[0]
				fake.mu.Unlock()
			} else {
				if err := json.Unmarshal(w.Body.Bytes(), &msg); err != nil {
					t.Fatalf("%v: %s", err, w.Body)
				}
				h.Wait()
			}
			if msg["response_type"] != tt.kind || msg["blocks"] == nil {
				t.Errorf("answer %v", msg)
			}
			uploads := fake.files.Uploads()
			if posts, _ := fake.counts(); posts != 0 {
				t.Errorf("%d chat.postMessage besides the answer", posts)
			}
			if !tt.upload {
				if len(uploads) != 0 || fake.files.Calls("files.getUploadURLExternal") != 0 {
					t.Errorf("%d uploads, want none", len(uploads))
				}
				return
			}
			if len(uploads) != 1 {
				t.Fatalf("%d uploads, want 1; logs:\n%s", len(uploads), logs.String())
			}
			reply := b.Handle(ctx, bot.Request{Text: "return_rate last 30 days chart"})
			up := uploads[0]
			if up.Channel != "C1" || up.ThreadTS != "" || up.Blocks != nil || up.Title == "" {
				t.Errorf("uploaded to %s in thread %q, titled %q, with blocks %s; want C1, the picture alone", up.Channel, up.ThreadTS, up.Title, up.Blocks)
			}
			if tt.name != "图表" && up.Title != reply.Title {
				t.Errorf("titled %q, want %q", up.Title, reply.Title)
			}
			checkPNG(t, up.Data, chart.Large)
		})
	}
}

// TestSocketModeCommandChart: over Socket Mode, the answer rides on the
// acknowledgement and the chart follows in the command's channel.
func TestSocketModeCommandChart(t *testing.T) {
	b := demoBot(t)
	fake := newFakeSlack(t)
	sock := newFakeSocket(t)
	h, _ := newTestHandler(t, b, fake, store(t, filepath.Join(t.TempDir(), "seen.db")))
	h.charts = b
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
	sock.send(slashEnvelope("sc-chart", "return_rate last 30 days グラフ", fake.URL+"/response"))
	ack := sock.waitAcks(t, 1, 2*time.Second)["sc-chart"]
	var msg map[string]any
	if err := json.Unmarshal(ack.Payload, &msg); err != nil || msg["response_type"] != "in_channel" {
		t.Fatalf("ack payload %s: %v", ack.Payload, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(fake.files.Uploads()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("RunSocketMode: %v", err)
	}
	h.Wait()
	uploads := fake.files.Uploads()
	if len(uploads) != 1 || uploads[0].Channel != "C1" || uploads[0].Blocks != nil {
		t.Fatalf("uploads %+v, want the chart alone in C1", uploads)
	}
	checkPNG(t, uploads[0].Data, chart.Large)
}

// TestUploadRetries: a 429 or an outage at any of the upload's three steps
// is waited out and the upload started over, and the message is shared
// once; Slack's refusals are final.
func TestUploadRetries(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 12, 6))); err != nil {
		t.Fatal(err)
	}
	img := Image{Name: "kpi-chart.png", Title: "Return rate", Data: buf.Bytes()}
	blocks := Blocks(bot.Reply{Title: "Return rate", Verdict: kpi.VerdictOK, Lang: locales.English}, moreLines)
	tests := []struct {
		name     string
		method   string
		limit    int // 429s
		broken   int // 500s
		token    string
		tries    int  // calls of method
		err      bool // the upload fails
		minSleep time.Duration
	}{
		{name: "completion rate-limited", method: "files.completeUploadExternal", limit: 1, tries: 2, minSleep: time.Second},
		{name: "completion down", method: "files.completeUploadExternal", broken: 2, tries: 3, minSleep: 3 * time.Second},
		{name: "upload URL rate-limited", method: "files.getUploadURLExternal", limit: 2, tries: 3, minSleep: 2 * time.Second},
		{name: "upload down", method: "upload", broken: 1, tries: 2, minSleep: time.Second},
		{name: "completion always rate-limited", method: "files.completeUploadExternal", limit: 9, tries: maxTries, err: true},
		{name: "refused token", method: "files.getUploadURLExternal", token: "xoxb-revoked", tries: 1, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSlack(t)
			fake.files.RateLimit(tt.method, tt.limit)
			fake.files.Break(tt.method, tt.broken)
			token := "xoxb-test"
			if tt.token != "" {
				token = tt.token
			}
			p := NewPoster(token, fake.URL+"/api/")
			var slept time.Duration
			now := clock
			p.now = func() time.Time { return now }
			p.sleep = func(_ context.Context, d time.Duration) error { slept += d; now = now.Add(d); return nil }
			err := p.Upload(context.Background(), "C1", mentionTS, blocks, "Return rate ✅", img)
			if (err != nil) != tt.err {
				t.Fatalf("Upload: %v", err)
			}
			if n := fake.files.Calls(tt.method); n != tt.tries {
				t.Errorf("%d calls of %s, want %d", n, tt.method, tt.tries)
			}
			if slept < tt.minSleep {
				t.Errorf("waited %v, want at least %v", slept, tt.minSleep)
			}
			uploads := fake.files.Uploads()
			if tt.err {
				if len(uploads) != 0 {
					t.Errorf("%d messages after a failed upload", len(uploads))
				}
				return
			}
			if len(uploads) != 1 {
				t.Fatalf("%d messages, want 1", len(uploads))
			}
			up := uploads[0]
			if up.Channel != "C1" || up.ThreadTS != mentionTS || !bytes.Equal(up.Data, img.Data) || up.AltText != "Return rate ✅" || up.Title != "Return rate" {
				t.Errorf("uploaded %+v", up)
			}
			want, _ := json.Marshal(slackapi.Blocks{BlockSet: blocks})
			if !reflect.DeepEqual(decodeJSON(t, up.Blocks), decodeJSON(t, want)) {
				t.Errorf("blocks %s, want %s", up.Blocks, want)
			}
		})
	}
}

// TestUploadKeepsThePace: an upload takes the channel's next slot, as a
// post does.
func TestUploadKeepsThePace(t *testing.T) {
	fake := newFakeSlack(t)
	p := NewPoster("xoxb-test", fake.URL+"/api/")
	var slept []time.Duration
	p.now = func() time.Time { return clock }
	p.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	img := Image{Name: "kpi-chart.png", Data: []byte("\x89PNG\r\n\x1a\n")}
	if _, err := p.Post(context.Background(), "C1", "", "", nil, "first"); err != nil {
		t.Fatal(err)
	}
	if err := p.Upload(context.Background(), "C1", "", nil, "second", img); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 2 || slept[0] != 0 || slept[1] < time.Second {
		t.Errorf("waits %v, want none then the channel's second", slept)
	}
	if err := p.Upload(context.Background(), "C1", "", nil, "empty", Image{Name: "kpi-chart.png"}); err == nil {
		t.Error("an empty file was uploaded")
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"返品率 ✅ 2.1%", 5, "返品率 …"},
		{"𝟘𝟙𝟚𝟛", 5, "𝟘𝟙…"}, // two UTF-16 units each
		{"", 3, ""},
	}
	for _, tt := range tests {
		if got := cut(tt.s, tt.n); got != tt.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
	long := strings.Repeat("売上 ", 2000)
	if got := cut(long, maxAltText); len([]rune(got)) != maxAltText {
		t.Errorf("cut to %d characters, want %d", len([]rune(got)), maxAltText)
	}
}
