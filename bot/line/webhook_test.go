package line

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/connectors/demo"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

const secret = "2f6b0c4cd7d2e3c1d0b4a8e9f1a2b3c4"

var clock = time.Date(2026, 11, 28, 12, 0, 0, 0, kpi.Tokyo)

func now() time.Time { return clock }

// seeded is a SQLite file with the demo shops, made once; each test works
// on its own copy.
var seeded string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kpibot-line")
	if err != nil {
		panic(err)
	}
	seeded = filepath.Join(dir, "demo.db")
	s, err := sqlite.Open(context.Background(), seeded, now)
	if err != nil {
		panic(err)
	}
	if _, err := demo.Seed(context.Background(), s, clock); err != nil {
		panic(err)
	}
	s.Close()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// rig is kpibot's LINE webhook served on loopback, with the real bot on a
// copy of the demo store, answering through a fake LINE API.
type rig struct {
	t     testing.TB
	store *sqlite.Store
	path  string
	line  *linetest.Server
	bot   *bot.Bot
	h     *Handler
	url   string
	links *ChartLinks   // the chart links the webhook's answers carry, served beside it
	drawn *countDrawer  // the bot drawing the charts of links
	tune  func(*Config) // changes the handler's configuration, if set
}

func newRig(t testing.TB) *rig {
	t.Helper()
	return newRigWith(t, nil)
}

// newRigWith is newRig with the handler's configuration changed by tune.
func newRigWith(t testing.TB, tune func(*Config)) *rig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kpibot.db")
	data, err := os.ReadFile(seeded)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, path: path, line: linetest.NewServer(t), tune: tune}
	r.start()
	return r
}

// start opens the store and serves the webhook, as a process would.
func (r *rig) start() {
	t := r.t
	t.Helper()
	store, err := sqlite.Open(context.Background(), r.path, now)
	if err != nil {
		t.Fatal(err)
	}
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(&kpi.Engine{Store: store, Now: now}, store, store, store, text, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(ClientConfig{Token: linetest.Token, BaseURL: r.line.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.store, r.bot = store, b
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	r.drawn = &countDrawer{drawer: b}
	if r.links, err = NewChartLinks(secret, srv.URL, r.drawn, now, nil); err != nil {
		t.Fatal(err)
	}
	c := Config{Bot: b, ChannelSecret: secret, Seen: store, Channels: store, Client: client, Text: text, Charts: r.links, Now: now}
	if r.tune != nil {
		r.tune(&c)
	}
	r.h = NewHandler(c)
	r.h.Register(mux)
	r.links.Register(mux)
	r.url = srv.URL + "/line/webhook"
	t.Cleanup(func() {
		srv.Close()
		r.h.Wait()
		store.Close()
	})
}

// restart stops serving and starts again on the same store.
func (r *rig) restart() {
	r.h.Wait()
	r.store.Close()
	r.start()
}

func (r *rig) bind(c kpi.ChatChannel) {
	r.t.Helper()
	c.Platform = Platform
	if err := r.store.BindChatChannel(context.Background(), c); err != nil {
		r.t.Fatal(err)
	}
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// callback is a webhook body, checked against LINE's webhook model.
func callback(t testing.TB, events ...map[string]any) []byte {
	t.Helper()
	if events == nil {
		events = []map[string]any{}
	}
	body, err := json.Marshal(map[string]any{"destination": "U" + strings.Repeat("b", 32), "events": events})
	if err != nil {
		t.Fatal(err)
	}
	if err := linetest.ValidateWebhook(body); err != nil {
		t.Fatalf("the test's webhook breaks LINE's model: %v", err)
	}
	return body
}

// post sends a body with a signature and waits for the answers.
func (r *rig) post(body []byte, signature string) int {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("x-line-signature", signature)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	r.h.Wait()
	return res.StatusCode
}

// send posts signed events and wants them taken.
func (r *rig) send(events ...map[string]any) {
	r.t.Helper()
	if code := r.post(callback(r.t, events...), sign(callback(r.t, events...))); code != http.StatusOK {
		r.t.Fatalf("webhook answered %d", code)
	}
}

func userID(n int) string  { return fmt.Sprintf("U%032x", n) }
func groupID(n int) string { return fmt.Sprintf("C%032x", n) }
func roomID(n int) string  { return fmt.Sprintf("R%032x", n) }

func fromUser(u string) map[string]any { return map[string]any{"type": "user", "userId": u} }
func inGroup(g, u string) map[string]any {
	return map[string]any{"type": "group", "groupId": g, "userId": u}
}
func inRoom(room, u string) map[string]any {
	return map[string]any{"type": "room", "roomId": room, "userId": u}
}

// event is the part every webhook event has.
func event(kind, id string, src map[string]any, at time.Time, redelivery bool) map[string]any {
	return map[string]any{
		"type": kind, "mode": "active", "timestamp": at.UnixMilli(), "source": src,
		"webhookEventId": id, "deliveryContext": map[string]any{"isRedelivery": redelivery},
		"replyToken": "rt-" + id,
	}
}

func textEvent(id string, src map[string]any, text string) map[string]any {
	e := event("message", id, src, clock.Add(-2*time.Second), false)
	e["message"] = map[string]any{"type": "text", "id": "468789577898262530", "text": text, "quoteToken": "q-" + id}
	return e
}

// flexOf returns the altText and JSON of the only Flex message sent.
func flexOf(t *testing.T, s linetest.Sent) (alt string, raw string) {
	t.Helper()
	if len(s.Messages) != 1 {
		t.Fatalf("%d messages, want 1", len(s.Messages))
	}
	var m struct {
		Type    string `json:"type"`
		AltText string `json:"altText"`
	}
	json.Unmarshal(s.Messages[0], &m)
	if m.Type != "flex" {
		t.Fatalf("message of type %q, want flex: %s", m.Type, s.Messages[0])
	}
	return m.AltText, string(s.Messages[0])
}

// texts joins the text messages sent.
func texts(s linetest.Sent) string {
	var all []string
	for _, raw := range s.Messages {
		var m struct{ Type, Text string }
		json.Unmarshal(raw, &m)
		all = append(all, m.Text)
	}
	return strings.Join(all, "\n")
}

func TestTextInEveryKindOfChat(t *testing.T) {
	r := newRig(t)
	r.bind(kpi.ChatChannel{ID: groupID(1), Role: kpi.RoleHQ, Lang: "zh"})
	r.bind(kpi.ChatChannel{ID: roomID(1), Role: kpi.RoleJPSupport, Lang: "ja"})
	r.bind(kpi.ChatChannel{ID: userID(1), Role: kpi.RoleShop, Lang: "en"})
	tests := []struct {
		name, text string
		src        map[string]any
		want       []string // in the altText
	}{
		{"1:1 chat", "returns last month", fromUser(userID(1)), []string{"return rate", "%"}},
		{"group", "/kpi 退货率 上周", inGroup(groupID(1), userID(2)), []string{"退货率", "%"}},
		{"room", "kpi 返品率 先週", inRoom(roomID(1), userID(3)), []string{"返品率", "%"}},
		{"full-width prefix", "ｋｐｉ　退货率 上月", inGroup(groupID(1), userID(2)), []string{"退货率", "%"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("01JTEXT%019d", i)
			before := len(r.line.Sent())
			r.send(textEvent(id, tt.src, tt.text))
			sent := r.line.Sent()[before:]
			if len(sent) != 1 || sent[0].Op != "replyMessage" || sent[0].ReplyToken != "rt-"+id {
				t.Fatalf("sent %+v, want one reply with the event's token", sent)
			}
			alt, _ := flexOf(t, sent[0])
			for _, w := range tt.want {
				if !strings.Contains(alt, w) {
					t.Errorf("altText %q lacks %q", alt, w)
				}
			}
		})
	}
}

func TestGroupsAnswerOnlyWhatIsMeantForTheBot(t *testing.T) {
	r := newRig(t)
	g := groupID(2)
	r.bind(kpi.ChatChannel{ID: g, Role: kpi.RoleJPSupport, Lang: "ja"})
	chatter := textEvent("01JCHAT0000000000000000001", inGroup(g, userID(5)), "今日の出荷、全部終わりました")
	kpiword := textEvent("01JCHAT0000000000000000002", inGroup(g, userID(5)), "kpis are fun")
	mention := textEvent("01JCHAT0000000000000000003", inGroup(g, userID(5)), "@kpibot 返品率 先週")
	mention["message"].(map[string]any)["mention"] = map[string]any{"mentionees": []map[string]any{
		{"type": "user", "index": 0, "length": 7, "userId": userID(99), "isSelf": true}}}
	other := textEvent("01JCHAT0000000000000000004", inGroup(g, userID(5)), "@田中 返品率 先週")
	other["message"].(map[string]any)["mention"] = map[string]any{"mentionees": []map[string]any{
		{"type": "user", "index": 0, "length": 3, "userId": userID(6), "isSelf": false}}}
	r.send(chatter, kpiword, mention, other)
	sent := r.line.Sent()
	if len(sent) != 1 || sent[0].ReplyToken != "rt-01JCHAT0000000000000000003" {
		t.Fatalf("sent %+v, want one reply to the mention", sent)
	}
	if alt, _ := flexOf(t, sent[0]); !strings.Contains(alt, "返品率") {
		t.Errorf("altText %q", alt)
	}
}

func TestFollowAndJoinGreetInChineseAndJapanese(t *testing.T) {
	r := newRig(t)
	follow := event("follow", "01JFOLLOW00000000000000001", fromUser(userID(7)), clock, false)
	follow["follow"] = map[string]any{"isUnblocked": false}
	join := event("join", "01JJOIN0000000000000000001", inGroup(groupID(7), userID(7)), clock, false)
	delete(join["source"].(map[string]any), "userId") // a join has no user
	r.send(follow, join)
	sent := r.line.Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %d messages, want 2 greetings", len(sent))
	}
	text, _ := locales.Load()
	for _, s := range sent {
		got := texts(s)
		for _, lang := range []locales.Lang{locales.Chinese, locales.Japanese} {
			if want := text.Printer(lang).T("line.welcome_unbound", nil); !strings.Contains(got, want) {
				t.Errorf("greeting %q lacks the %s text %q", got, lang, want)
			}
		}
	}
}

func TestUnboundChatsSeeNoNumbers(t *testing.T) {
	r := newRig(t)
	r.send(textEvent("01JUNBOUND0000000000000001", inGroup(groupID(8), userID(8)), "/kpi 返品率 先週"))
	sent := r.line.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d, want 1", len(sent))
	}
	got := texts(sent[0])
	if strings.Contains(got, "%") {
		t.Errorf("an unbound group saw numbers: %q", got)
	}
	text, _ := locales.Load()
	for _, lang := range []locales.Lang{locales.Chinese, locales.Japanese} {
		if want := text.Printer(lang).T("channel.unbound_code", nil); !strings.Contains(got, want) {
			t.Errorf("hint %q lacks the %s text %q", got, lang, want)
		}
	}
}

func TestRedeliveredEventsAreAnsweredOnce(t *testing.T) {
	r := newRig(t)
	u := userID(9)
	r.bind(kpi.ChatChannel{ID: u, Role: kpi.RoleJPSupport, Lang: "ja"})
	ev := textEvent("01JREDELIVER00000000000001", fromUser(u), "返品率 先週")
	r.send(ev)
	again := textEvent("01JREDELIVER00000000000001", fromUser(u), "返品率 先週")
	again["deliveryContext"] = map[string]any{"isRedelivery": true}
	r.send(again, ev) // redelivered, and twice in one request
	r.restart()
	r.send(again) // and after a restart
	if n := len(r.line.Sent()); n != 1 {
		t.Errorf("answered %d times, want once", n)
	}
}

func TestForgedWebhooksAreRefused(t *testing.T) {
	r := newRig(t)
	u := userID(10)
	r.bind(kpi.ChatChannel{ID: u, Role: kpi.RoleHQ, Lang: "zh"})
	body := callback(t, textEvent("01JFORGED00000000000000001", fromUser(u), "退货率 上周"))
	tampered := bytes.Replace(body, []byte("上周"), []byte("上月"), 1)
	other := hmac.New(sha256.New, []byte("not-the-secret"))
	other.Write(body)
	tests := []struct {
		name      string
		body      []byte
		signature string
	}{
		{"no signature", body, ""},
		{"wrong secret", body, base64.StdEncoding.EncodeToString(other.Sum(nil))},
		{"tampered body", tampered, sign(body)},
		{"not base64", body, "!!!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := r.post(tt.body, tt.signature); code != http.StatusUnauthorized {
				t.Errorf("answered %d, want 401", code)
			}
		})
	}
	if n := r.h.SignatureFailures(); n != int64(len(tests)) {
		t.Errorf("counted %d signature failures, want %d", n, len(tests))
	}
	if n := len(r.line.Sent()); n != 0 {
		t.Errorf("forged webhooks got %d answers", n)
	}
	// The genuine one, sent after, is answered: nothing was recorded before.
	r.send(textEvent("01JFORGED00000000000000001", fromUser(u), "退货率 上周"))
	if n := len(r.line.Sent()); n != 1 {
		t.Errorf("the genuine webhook got %d answers, want 1", n)
	}
}

func TestMalformedWebhookIs400(t *testing.T) {
	r := newRig(t)
	body := []byte(`{"destination":"U0","events":[{"type":`)
	if code := r.post(body, sign(body)); code != http.StatusBadRequest {
		t.Errorf("answered %d, want 400", code)
	}
	if code := r.post(callback(t), sign(callback(t))); code != http.StatusOK {
		t.Errorf("an empty event list (LINE's check) answered %d, want 200", code)
	}
}

func TestAnswersArePushedWhenTheReplyTokenIsGone(t *testing.T) {
	r := newRig(t)
	u := userID(11)
	r.bind(kpi.ChatChannel{ID: u, Role: kpi.RoleHQ, Lang: "zh"})

	late := textEvent("01JLATE0000000000000000001", fromUser(u), "退货率 上周")
	late["timestamp"] = clock.Add(-2 * time.Minute).UnixMilli() // the token is gone by now
	used := textEvent("01JUSED0000000000000000001", fromUser(u), "退货率 上周")
	r.line.ExpireToken("rt-01JUSED0000000000000000001")
	r.send(late, used)

	sent := r.line.Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %d, want 2 pushes", len(sent))
	}
	keys := map[string]bool{}
	for _, s := range sent {
		if s.Op != "pushMessage" || s.To != u || s.RetryKey == "" {
			t.Errorf("sent %+v, want a push to %s with a retry key", s, u)
		}
		keys[s.RetryKey] = true
	}
	if len(keys) != 2 {
		t.Errorf("two answers shared a retry key")
	}
	if n := r.line.Calls("replyMessage"); n != 1 {
		t.Errorf("tried %d replies, want 1 (not with a token known to be too old)", n)
	}
}

func TestFailuresAreRetriedOrReported(t *testing.T) {
	tests := []struct {
		name       string
		fail       func(*linetest.Server)
		wantSent   int
		wantPushes int // push calls made
	}{
		{"429 then accepted", func(s *linetest.Server) { s.Fail("pushMessage", 2, 429, "Too many requests") }, 1, 3},
		{"500s then accepted", func(s *linetest.Server) { s.Fail("pushMessage", 3, 500, "Internal error") }, 1, 4},
		{"accepted but the answer lost", func(s *linetest.Server) { s.FailAfterAccepting("pushMessage", 500) }, 1, 2},
		{"403 is not retried", func(s *linetest.Server) { s.Fail("pushMessage", 1, 403, "Forbidden") }, 0, 1},
		{"monthly limit is not retried", func(s *linetest.Server) {
			s.Fail("pushMessage", 1, 429, "You have reached your monthly limit.")
		}, 0, 1},
		{"never accepted", func(s *linetest.Server) { s.Fail("pushMessage", 10, 503, "Unavailable") }, 0, tries},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			u := userID(20 + i)
			r.bind(kpi.ChatChannel{ID: u, Role: kpi.RoleHQ, Lang: "zh"})
			tt.fail(r.line)
			ev := textEvent(fmt.Sprintf("01JFAIL%019d", i), fromUser(u), "退货率 上周")
			ev["timestamp"] = clock.Add(-time.Hour).UnixMilli()
			r.send(ev)
			if n := len(r.line.Sent()); n != tt.wantSent {
				t.Errorf("delivered %d, want %d", n, tt.wantSent)
			}
			if n := r.line.Calls("pushMessage"); n != tt.wantPushes {
				t.Errorf("made %d push calls, want %d", n, tt.wantPushes)
			}
		})
	}
}

func TestRefusedFlexFallsBackToText(t *testing.T) {
	r := newRig(t)
	u := userID(30)
	r.bind(kpi.ChatChannel{ID: u, Role: kpi.RoleHQ, Lang: "zh"})
	r.line.Fail("replyMessage", 1, 400, "A message (messages[0]) in the request body is invalid")
	r.send(textEvent("01JPLAIN000000000000000001", fromUser(u), "退货率 上周"))
	sent := r.line.Sent()
	if len(sent) != 1 || sent[0].Op != "replyMessage" {
		t.Fatalf("sent %+v, want one reply", sent)
	}
	if got := texts(sent[0]); !strings.Contains(got, "退货率") || !strings.Contains(got, "%") {
		t.Errorf("plain text %q lacks the answer", got)
	}
}

func TestCommandText(t *testing.T) {
	self := func(index, length int) *webhookMention { return &webhookMention{index, length} }
	tests := []struct {
		text    string
		mention *webhookMention
		direct  bool
		want    string
		ok      bool
	}{
		{"返品率 先週", nil, true, "返品率 先週", true},
		{"返品率 先週", nil, false, "", false},
		{"/kpi 返品率", nil, false, "返品率", true},
		{"KPI help", nil, false, "help", true},
		{"kpi返品率", nil, false, "返品率", true},
		{"／ＫＰＩ　退货率", nil, false, "退货率", true},
		{"kpibot 退货率", nil, false, "", false},
		{"/kpi", nil, false, "", true},
		{"@kpibot 返品率", self(0, 7), false, "返品率", true},
		{"返品率 @kpibot 先週", self(4, 7), false, "返品率  先週", true},
		{"😀 @kpibot 返品率", self(3, 7), false, "😀  返品率", true}, // the emoji is two UTF-16 units
	}
	for _, tt := range tests {
		got, ok := command(tt.text, tt.mention.webhook(), tt.direct)
		if got != tt.want || ok != tt.ok {
			t.Errorf("command(%q, direct %v) = %q, %v; want %q, %v", tt.text, tt.direct, got, ok, tt.want, tt.ok)
		}
	}
}

// webhookMention is a mention of the bot itself at a UTF-16 index.
type webhookMention struct{ index, length int }

func (m *webhookMention) webhook() *webhook.Mention {
	if m == nil {
		return nil
	}
	return &webhook.Mention{Mentionees: []webhook.MentioneeInterface{
		webhook.UserMentionee{Index: int32(m.index), Length: int32(m.length), IsSelf: true}}}
}

func TestGroupBindsWithACode(t *testing.T) {
	r := newRig(t)
	g := groupID(40)
	code, _, err := bot.NewBindCode(context.Background(), r.store,
		kpi.ChatChannel{Role: kpi.RoleJPSupport, Lang: "ja", Shops: []string{"rakuten"}}, clock)
	if err != nil {
		t.Fatal(err)
	}
	r.send(textEvent("01JBIND0000000000000000001", inGroup(g, userID(41)), "/kpi 連携 "+strings.ToLower(code)))
	r.send(textEvent("01JBIND0000000000000000002", inGroup(g, userID(42)), "kpi 返品率 先月"))
	r.send(textEvent("01JBIND0000000000000000003", inGroup(g, userID(42)), "kpi 返品率 amazon 先月"))
	// The code is spent: another group cannot use it.
	r.send(textEvent("01JBIND0000000000000000004", inGroup(groupID(43), userID(44)), "/kpi 绑定 "+code))

	sent := r.line.Sent()
	if len(sent) != 4 {
		t.Fatalf("sent %d answers, want 4", len(sent))
	}
	c, ok, err := r.store.ChatChannel(context.Background(), Platform, g)
	if err != nil || !ok || c.Role != kpi.RoleJPSupport || c.Lang != "ja" || strings.Join(c.Shops, ",") != "rakuten" {
		t.Fatalf("binding %+v %v %v", c, ok, err)
	}
	if got := texts(sent[0]); !strings.Contains(got, "設定しました") {
		t.Errorf("bind answer %q", got)
	}
	if alt, raw := flexOf(t, sent[1]); !strings.Contains(alt, "返品率") || !strings.Contains(raw, "Rakuten Flagship") || strings.Contains(raw, "Amazon JP Main") {
		t.Errorf("the bound group's answer shows other shops or no return rate: %s", alt)
	}
	if got := texts(sent[2]); strings.Contains(got, "%") {
		t.Errorf("a shop the group may not see was answered: %q", got)
	}
	if got := texts(sent[3]); !strings.Contains(got, "已被使用") {
		t.Errorf("a spent code in Chinese: %q", got)
	}
	if _, ok, _ := r.store.ChatChannel(context.Background(), Platform, groupID(43)); ok {
		t.Error("a spent code bound a second group")
	}
}
