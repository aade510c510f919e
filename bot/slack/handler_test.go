package slack

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/slack/slacktest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

var clock = time.Date(2026, 11, 28, 12, 0, 0, 0, kpi.Tokyo)

// answerFunc is an Answerer made of a function that counts its calls.
type answerFunc struct {
	calls atomic.Int64
	f     func(bot.Request) bot.Reply
}

func (a *answerFunc) Handle(_ context.Context, req bot.Request) bot.Reply {
	a.calls.Add(1)
	return a.f(req)
}

func answer(title string) *answerFunc {
	return &answerFunc{f: func(req bot.Request) bot.Reply {
		return bot.Reply{Title: title + ": " + req.Text, Verdict: kpi.VerdictOK, Lang: locales.English}
	}}
}

// fakeSlack is a local Slack Web API and response_url endpoint that records
// what it is sent; files takes the file uploads.
type fakeSlack struct {
	*httptest.Server
	files     *slacktest.Files
	mu        sync.Mutex
	posts     []url.Values // chat.postMessage forms
	ephemeral []url.Values // chat.postEphemeral forms
	responses []map[string]any
	limited   int // answer this many posts with 429 first
}

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{files: slacktest.NewFiles(t, "xoxb-test")}
	mux := http.NewServeMux()
	f.files.Register(mux, "/api/")
	mux.HandleFunc("POST /api/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.limited > 0 {
			f.limited--
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		r.ParseForm()
		f.posts = append(f.posts, r.PostForm)
		fmt.Fprint(w, `{"ok":true,"channel":"C1","ts":"1700000000.000100"}`)
	})
	mux.HandleFunc("POST /api/chat.postEphemeral", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		f.ephemeral = append(f.ephemeral, r.PostForm)
		f.mu.Unlock()
		fmt.Fprint(w, `{"ok":true,"message_ts":"1700000000.000200"}`)
	})
	mux.HandleFunc("POST /api/users.info", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		user := r.PostForm.Get("user")
		admin := user == "UADMIN"
		switch user {
		case "UNAMED": // a display name, a full name and a handle
			fmt.Fprint(w, `{"ok":true,"user":{"id":"UNAMED","name":"hsato","real_name":"Sato Hanako","profile":{"display_name":"佐藤"}}}`)
		case "UREAL": // a full name and a handle
			fmt.Fprint(w, `{"ok":true,"user":{"id":"UREAL","name":"ktanaka","real_name":"Tanaka Ken","profile":{"display_name":""}}}`)
		default:
			fmt.Fprintf(w, `{"ok":true,"user":{"id":%q,"is_admin":%v}}`, user, admin)
		}
	})
	mux.HandleFunc("POST /response", func(w http.ResponseWriter, r *http.Request) {
		var msg map[string]any
		json.NewDecoder(r.Body).Decode(&msg)
		f.mu.Lock()
		f.responses = append(f.responses, msg)
		f.mu.Unlock()
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) counts() (posts, responses int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.posts), len(f.responses)
}

func store(t *testing.T, path string) *sqlite.Store {
	s, err := sqlite.Open(context.Background(), path, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newTestHandler(t testing.TB, a Answerer, fake *fakeSlack, seen Deduper) (*Handler, http.Handler) {
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	p := NewPoster("xoxb-test", fake.URL+"/api/")
	p.sleep = func(context.Context, time.Duration) error { return nil }
	h := NewHandler(Config{Bot: a, SigningSecret: secret, Seen: seen, Poster: p, Text: text,
		Now: func() time.Time { return clock }})
	mux := http.NewServeMux()
	h.Register(mux)
	return h, mux
}

// signedRequest is a request as Slack signs it, ts seconds from the clock.
func signedRequest(path, body string, skew time.Duration, key string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	ts := strconv.FormatInt(clock.Add(skew).Unix(), 10)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(sign(key, ts, []byte(body))))
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func commandBody(text, responseURL string) string {
	return url.Values{"command": {"/kpi"}, "text": {text}, "team_id": {"T1"}, "user_id": {"U1"},
		"channel_id": {"C1"}, "response_url": {responseURL}}.Encode()
}

func TestSignatures(t *testing.T) {
	fake := newFakeSlack(t)
	a := answer("ok")
	h, mux := newTestHandler(t, a, fake, store(t, filepath.Join(t.TempDir(), "k.db")))
	body := commandBody("gmv", fake.URL+"/response")
	tampered := signedRequest("/slack/commands", body, 0, secret)
	tampered.Body = io.NopCloser(strings.NewReader(strings.Replace(body, "gmv", "acos", 1)))
	missing := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
	tests := []struct {
		name string
		r    *http.Request
		code int
	}{
		{"signed", signedRequest("/slack/commands", body, 0, secret), http.StatusOK},
		{"signed 4 minutes ago", signedRequest("/slack/commands", body, -4*time.Minute, secret), http.StatusOK},
		{"forged", signedRequest("/slack/commands", body, 0, "not-the-secret"), http.StatusUnauthorized},
		{"stale", signedRequest("/slack/commands", body, -6*time.Minute, secret), http.StatusUnauthorized},
		{"from the future", signedRequest("/slack/commands", body, 6*time.Minute, secret), http.StatusUnauthorized},
		{"tampered body", tampered, http.StatusUnauthorized},
		{"missing", missing, http.StatusUnauthorized},
		{"forged event", signedRequest("/slack/events", `{"type":"url_verification","challenge":"x"}`, 0, "nope"), http.StatusUnauthorized},
		{"forged click", signedRequest("/slack/interactions", "payload=%7B%7D", 0, "nope"), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		if w := serve(mux, tt.r); w.Code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.code)
		}
	}
	h.Wait()
	if got := a.calls.Load(); got != 2 {
		t.Errorf("the bot answered %d requests, want the 2 signed ones", got)
	}
	if got := h.SignatureFailures(); got != 7 {
		t.Errorf("%d signature failures counted, want 7", got)
	}
}

func TestCommandAnswersAtOnce(t *testing.T) {
	fake := newFakeSlack(t)
	_, mux := newTestHandler(t, answer("fast"), fake, nil)
	w := serve(mux, signedRequest("/slack/commands", commandBody("返品率 先週", fake.URL+"/response"), 0, secret))
	var msg map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &msg); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	if msg["response_type"] != "in_channel" || !strings.Contains(fmt.Sprint(msg["text"]), "fast: 返品率 先週") || msg["blocks"] == nil {
		t.Errorf("reply %v", msg)
	}
}

func TestErrorsAreEphemeral(t *testing.T) {
	fake := newFakeSlack(t)
	failing := &answerFunc{f: func(bot.Request) bot.Reply {
		return bot.Reply{Text: "「nope」を理解できませんでした", Err: fmt.Errorf("not understood"), Lang: locales.Japanese}
	}}
	_, mux := newTestHandler(t, failing, fake, nil)
	w := serve(mux, signedRequest("/slack/commands", commandBody("nope", fake.URL+"/response"), 0, secret))
	var msg map[string]any
	json.Unmarshal(w.Body.Bytes(), &msg)
	if msg["response_type"] != "ephemeral" || !strings.Contains(w.Body.String(), "理解できませんでした") {
		t.Errorf("error reply %s", w.Body)
	}
}

func TestSlowCommandAnswersThroughResponseURL(t *testing.T) {
	fake := newFakeSlack(t)
	release := make(chan struct{})
	slow := &answerFunc{f: func(req bot.Request) bot.Reply {
		<-release
		return bot.Reply{Title: "slow: " + req.Text, Lang: locales.English}
	}}
	h, mux := newTestHandler(t, slow, fake, nil)
	start := time.Now()
	w := serve(mux, signedRequest("/slack/commands", commandBody("status", fake.URL+"/response"), 0, secret))
	if took := time.Since(start); w.Code != http.StatusOK || w.Body.Len() != 0 || took > 2900*time.Millisecond {
		t.Fatalf("acknowledgement: %d %q after %v", w.Code, w.Body, took)
	}
	close(release)
	h.Wait()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.responses) != 1 || fake.responses[0]["text"] != "slow: status" || fake.responses[0]["response_type"] != "in_channel" {
		t.Errorf("response_url got %v", fake.responses)
	}
}

func eventBody(id, kind, text string) string {
	return fmt.Sprintf(`{"type":"event_callback","team_id":"T1","event_id":%q,"event":{"type":%q,"user":"U1","text":%q,"channel":"C1","channel_type":"im","ts":"1700000000.000001"}}`, id, kind, text)
}

func TestEventsAnsweredOnceAcrossRetriesAndRestarts(t *testing.T) {
	fake := newFakeSlack(t)
	path := filepath.Join(t.TempDir(), "k.db")
	a := answer("ev")
	h, mux := newTestHandler(t, a, fake, store(t, path))
	body := eventBody("Ev01", "app_mention", "<@UBOT> returns last week")
	for retry := range 3 {
		r := signedRequest("/slack/events", body, 0, secret)
		if retry > 0 {
			r.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
			r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		if w := serve(mux, r); w.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d", retry, w.Code)
		}
	}
	h.Wait()
	// A restart: a new handler over the same database.
	h2, mux2 := newTestHandler(t, a, fake, store(t, path))
	serve(mux2, signedRequest("/slack/events", body, 0, secret))
	h2.Wait()
	if posts, _ := fake.counts(); posts != 1 || a.calls.Load() != 1 {
		t.Fatalf("%d posts and %d answers, want 1 and 1", posts, a.calls.Load())
	}
	if got := fake.posts[0].Get("thread_ts"); got != "1700000000.000001" {
		t.Errorf("a mention is answered in its thread, got thread_ts %q", got)
	}
	// The bot's own messages and other events are not answered.
	serve(mux2, signedRequest("/slack/events", strings.Replace(eventBody("Ev02", "message", "hi"), `"user":"U1"`, `"bot_id":"B1"`, 1), 0, secret))
	serve(mux2, signedRequest("/slack/events", eventBody("Ev03", "reaction_added", "x"), 0, secret))
	h2.Wait()
	if posts, _ := fake.counts(); posts != 1 {
		t.Errorf("%d posts after a bot message and a reaction", posts)
	}
}

func TestURLVerification(t *testing.T) {
	fake := newFakeSlack(t)
	_, mux := newTestHandler(t, answer("x"), fake, nil)
	w := serve(mux, signedRequest("/slack/events", `{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`, 0, secret))
	if w.Code != http.StatusOK || w.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("%d %q", w.Code, w.Body)
	}
}

func TestPosterHonoursRetryAfter(t *testing.T) {
	fake := newFakeSlack(t)
	fake.limited = 2
	p := NewPoster("xoxb-test", fake.URL+"/api/")
	var slept []time.Duration
	p.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	now := clock
	p.now = func() time.Time { return now }
	if _, err := p.Post(context.Background(), "C1", "", "", nil, "hello"); err != nil {
		t.Fatal(err)
	}
	if posts, _ := fake.counts(); posts != 1 {
		t.Fatalf("%d posts", posts)
	}
	// First try at once, then the channel's pace plus Retry-After.
	if len(slept) != 3 || slept[0] != 0 || slept[1] < time.Second || slept[2] < time.Second {
		t.Errorf("waits %v", slept)
	}
	// A second message to the same channel within the second waits its turn.
	slept = nil
	p.Post(context.Background(), "C1", "", "", nil, "again")
	p.Post(context.Background(), "C2", "", "", nil, "other channel")
	if len(slept) != 2 || slept[0] < time.Second || slept[1] != 0 {
		t.Errorf("pacing waits %v", slept)
	}
}

func TestChannelBindingReachesTheBot(t *testing.T) {
	ctx := context.Background()
	fake := newFakeSlack(t)
	st := store(t, filepath.Join(t.TempDir(), "k.db"))
	hq := kpi.ChatChannel{Platform: "slack", ID: "C1", Role: kpi.RoleHQ, Lang: "zh", Shops: []string{"rakuten"}}
	if err := st.BindChatChannel(ctx, hq); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []bot.Request
	a := &answerFunc{f: func(req bot.Request) bot.Reply {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, req)
		return bot.Reply{Text: "ok", Lang: locales.English}
	}}
	h, mux := newTestHandler(t, a, fake, st)
	h.book = st
	form := func(channel, user string) string {
		return url.Values{"text": {"returns"}, "team_id": {"T1"}, "user_id": {user}, "channel_id": {channel},
			"response_url": {fake.URL + "/response"}}.Encode()
	}
	serve(mux, signedRequest("/slack/commands", form("C1", "UADMIN"), 0, secret))
	serve(mux, signedRequest("/slack/commands", form("C9", "U2"), 0, secret))
	h.Wait()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	if c := got[0].Channel; c == nil || c.Role != kpi.RoleHQ || c.Lang != "zh" || strings.Join(c.Shops, ",") != "rakuten" {
		t.Errorf("bound channel reached the bot as %+v", c)
	}
	if c := got[1].Channel; c == nil || c.Role != "" || c.ID != "C9" || c.Platform != "slack" {
		t.Errorf("unbound channel reached the bot as %+v", c)
	}
	for i, want := range []bool{true, false} {
		if admin, err := got[i].IsAdmin(ctx); err != nil || admin != want {
			t.Errorf("request %d: admin %v, %v; want %v", i, admin, err, want)
		}
	}
}

func TestEventErrorsGoToTheAskerAlone(t *testing.T) {
	fake := newFakeSlack(t)
	failing := &answerFunc{f: func(bot.Request) bot.Reply {
		return bot.Reply{Text: "「nope」を理解できませんでした", Err: fmt.Errorf("not understood"), Lang: locales.Japanese}
	}}
	h, mux := newTestHandler(t, failing, fake, store(t, filepath.Join(t.TempDir(), "k.db")))
	serve(mux, signedRequest("/slack/events", eventBody("Ev09", "app_mention", "<@UBOT> nope"), 0, secret))
	h.Wait()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.posts) != 0 || len(fake.ephemeral) != 1 || fake.ephemeral[0].Get("user") != "U1" ||
		!strings.Contains(fake.ephemeral[0].Get("text"), "理解できませんでした") {
		t.Errorf("posts %v, ephemeral %v", fake.posts, fake.ephemeral)
	}
}

func TestPrivateRepliesGoToTheAskerAlone(t *testing.T) {
	fake := newFakeSlack(t)
	code := &answerFunc{f: func(bot.Request) bot.Reply {
		return bot.Reply{Text: "Bind code ABCD-EFGH", Private: true, Lang: locales.English}
	}}
	h, mux := newTestHandler(t, code, fake, store(t, filepath.Join(t.TempDir(), "k.db")))
	w := serve(mux, signedRequest("/slack/commands", commandBody("bind-code hq", fake.URL+"/response"), 0, secret))
	var msg map[string]any
	json.Unmarshal(w.Body.Bytes(), &msg)
	if msg["response_type"] != "ephemeral" {
		t.Errorf("a slash command's code went to the channel: %s", w.Body)
	}
	serve(mux, signedRequest("/slack/events", eventBody("Ev10", "app_mention", "<@UBOT> bind-code hq"), 0, secret))
	h.Wait()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.posts) != 0 || len(fake.ephemeral) != 1 || fake.ephemeral[0].Get("user") != "U1" {
		t.Errorf("a mention's code: posts %v, ephemeral %v", fake.posts, fake.ephemeral)
	}
}

// UserName is the name Slack shows: the display name, else the full name.
func TestPosterUserName(t *testing.T) {
	fake := newFakeSlack(t)
	p := NewPoster("xoxb-test", fake.URL+"/api/")
	for user, want := range map[string]string{"UNAMED": "佐藤", "UREAL": "Tanaka Ken"} {
		if got, err := p.UserName(context.Background(), user); got != want || err != nil {
			t.Errorf("UserName(%s) = %q, %v; want %q", user, got, err, want)
		}
	}
}
