package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

// echoed is blocks as Slack echoes a message's in an interaction payload:
// each with the block_id Slack gave it.
func echoed(t testing.TB, blocks []slackapi.Block) []map[string]any {
	t.Helper()
	data, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	for i, b := range out {
		if b["block_id"] == nil {
			b["block_id"] = fmt.Sprintf("blk%d", i)
		}
	}
	return out
}

// clickJSON is a block_actions payload as Slack sends it when U1 of team T1
// clicks the button actionID, of value value, under the message of blocks
// in channel C1.
func clickJSON(t testing.TB, kind, actionID, value, responseURL string, blocks []slackapi.Block) string {
	t.Helper()
	payload := map[string]any{
		"type":       kind,
		"team":       map[string]any{"id": "T1", "domain": "shop"},
		"user":       map[string]any{"id": "U1", "username": "aki", "name": "aki", "team_id": "T1"},
		"api_app_id": "A0TEST",
		"token":      "legacy",
		"container":  map[string]any{"type": "message", "message_ts": "1700000000.000100", "channel_id": "C1", "is_ephemeral": false},
		"trigger_id": "1.2.3",
		"channel":    map[string]any{"id": "C1", "name": "kpi-hq"},
		"message": map[string]any{"type": "message", "user": "UBOT", "bot_id": "B1", "ts": "1700000000.000100",
			"text": "❌ [critical] Rakuten Flagship: return rate is off target: 9.8%", "blocks": echoed(t, blocks)},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": responseURL,
		"actions": []map[string]any{{"type": "button", "action_id": actionID, "block_id": "act", "value": value,
			"text": map[string]any{"type": "plain_text", "text": "Acknowledge", "emoji": true}, "style": "primary",
			"action_ts": "1700000001.000200"}},
	}
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func clickBody(t testing.TB, actionID, value, responseURL string) string {
	return url.Values{"payload": {clickJSON(t, "block_actions", actionID, value, responseURL, Blocks(alertReply, moreLines))}}.Encode()
}

// blockTypes is the type of each block of a message sent to response_url.
func blockTypes(msg map[string]any) []string {
	var out []string
	blocks, _ := msg["blocks"].([]any)
	for _, b := range blocks {
		out = append(out, fmt.Sprint(b.(map[string]any)["type"]))
	}
	return out
}

// lastContext is the text of the last block of msg, a context block.
func lastContext(msg map[string]any) string {
	blocks, _ := msg["blocks"].([]any)
	if len(blocks) == 0 {
		return ""
	}
	last := blocks[len(blocks)-1].(map[string]any)
	if last["type"] != "context" {
		return ""
	}
	els := last["elements"].([]any)
	return fmt.Sprint(els[0].(map[string]any)["text"])
}

// bindHQ opens a store with C1 bound as an English hq channel.
func bindHQ(t *testing.T) *sqlite.Store {
	st := store(t, filepath.Join(t.TempDir(), "k.db"))
	if err := st.BindChatChannel(context.Background(), kpi.ChatChannel{Platform: "slack", ID: "C1", Role: kpi.RoleHQ, Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestButtonClickUpdatesTheMessage(t *testing.T) {
	fake := newFakeSlack(t)
	st := bindHQ(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var got []bot.Request
	a := &answerFunc{f: func(req bot.Request) bot.Reply {
		<-release
		mu.Lock()
		defer mu.Unlock()
		got = append(got, req)
		return bot.Reply{Text: "#12 acknowledged: Rakuten Flagship · return rate. It is no longer escalated while you handle it.", Lang: locales.English}
	}}
	h, mux := newTestHandler(t, a, fake, st)
	h.book = st

	start := time.Now()
	w := serve(mux, signedRequest("/slack/interactions", clickBody(t, "kpi:0", "/kpi ack 12", fake.URL+"/response"), 0, secret))
	if took := time.Since(start); w.Code != http.StatusOK || w.Body.Len() != 0 || took > time.Second {
		t.Fatalf("click answered %d %q after %v, want 200 at once while the command runs", w.Code, w.Body, took)
	}
	close(release)
	h.Wait()

	if len(got) != 1 {
		t.Fatalf("the bot got %d requests, want 1", len(got))
	}
	req := got[0]
	if req.Text != "/kpi ack 12" || req.User != "slack:T1:U1" {
		t.Errorf("request %q from %q, want /kpi ack 12 from slack:T1:U1", req.Text, req.User)
	}
	if c := req.Channel; c == nil || c.ID != "C1" || c.Role != kpi.RoleHQ || c.Lang != "en" {
		t.Errorf("channel %+v, want C1's binding", c)
	}
	if req.IsAdmin == nil {
		t.Error("no way to ask whether the clicker is an admin")
	} else if admin, err := req.IsAdmin(context.Background()); err != nil || admin {
		t.Errorf("U1 admin %v, %v", admin, err)
	}

	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.responses) != 1 || len(fake.posts) != 0 || len(fake.ephemeral) != 0 {
		t.Fatalf("response_url got %d, posts %d, ephemeral %d; want 1 response", len(fake.responses), len(fake.posts), len(fake.ephemeral))
	}
	msg := fake.responses[0]
	if msg["replace_original"] != true || msg["response_type"] != nil {
		t.Errorf("replace_original %v, response_type %v; want the message replaced", msg["replace_original"], msg["response_type"])
	}
	if msg["text"] != "❌ [critical] Rakuten Flagship: return rate is off target: 9.8%" {
		t.Errorf("notification text %q, want the original's", msg["text"])
	}
	if types, want := blockTypes(msg), []string{"header", "section", "context", "context", "context"}; !slices.Equal(types, want) {
		t.Errorf("blocks %v, want %v: the original's without the buttons, and the result", types, want)
	}
	blocks := msg["blocks"].([]any)
	if first := blocks[0].(map[string]any); first["block_id"] != "blk0" ||
		first["text"].(map[string]any)["text"] != "❌ [critical] Rakuten Flagship: return rate is off target" {
		t.Errorf("original header not kept as it was: %v", first)
	}
	if got := lastContext(msg); got != "#12 acknowledged: Rakuten Flagship · return rate. It is no longer escalated while you handle it." {
		t.Errorf("result line %q", got)
	}
}

func TestButtonClickErrorGoesToTheClickerAlone(t *testing.T) {
	fake := newFakeSlack(t)
	failing := &answerFunc{f: func(bot.Request) bot.Reply {
		return bot.Reply{Text: "Alert #12 is not one of this channel's.", Err: fmt.Errorf("not here"), Lang: locales.English}
	}}
	h, mux := newTestHandler(t, failing, fake, nil)
	w := serve(mux, signedRequest("/slack/interactions", clickBody(t, "kpi:3", "/kpi resolve 12", fake.URL+"/response"), 0, secret))
	h.Wait()
	if w.Code != http.StatusOK || failing.calls.Load() != 1 {
		t.Fatalf("%d, %d calls", w.Code, failing.calls.Load())
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.responses) != 1 {
		t.Fatalf("response_url got %v", fake.responses)
	}
	msg := fake.responses[0]
	raw, _ := json.Marshal(msg)
	if msg["response_type"] != "ephemeral" || msg["replace_original"] != false ||
		!strings.Contains(string(raw), "not one of this channel") || slices.Contains(blockTypes(msg), "header") {
		t.Errorf("error answer %s, want it for the clicker alone, the original kept", raw)
	}
}

func TestButtonClicksIgnoredOrRefused(t *testing.T) {
	fake := newFakeSlack(t)
	a := answer("x")
	h, mux := newTestHandler(t, a, fake, nil)
	blocks := Blocks(alertReply, moreLines)
	form := func(payload string) string { return url.Values{"payload": {payload}}.Encode() }
	tests := []struct {
		name string
		r    *http.Request
		code int
	}{
		{"forged", signedRequest("/slack/interactions", clickBody(t, "kpi:0", "/kpi ack 12", fake.URL+"/response"), 0, "not-the-secret"), http.StatusUnauthorized},
		{"stale", signedRequest("/slack/interactions", clickBody(t, "kpi:0", "/kpi ack 12", fake.URL+"/response"), -6*time.Minute, secret), http.StatusUnauthorized},
		{"another app's button", signedRequest("/slack/interactions", clickBody(t, "ack_alert", "/kpi ack 12", fake.URL+"/response"), 0, secret), http.StatusOK},
		{"no command", signedRequest("/slack/interactions", clickBody(t, "kpi:0", " ", fake.URL+"/response"), 0, secret), http.StatusOK},
		{"not block_actions", signedRequest("/slack/interactions", form(clickJSON(t, "view_submission", "kpi:0", "/kpi ack 12", fake.URL+"/response", blocks)), 0, secret), http.StatusOK},
		{"malformed", signedRequest("/slack/interactions", form("{not json"), 0, secret), http.StatusBadRequest},
	}
	for _, tt := range tests {
		if w := serve(mux, tt.r); w.Code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.code)
		}
	}
	h.Wait()
	if n := a.calls.Load(); n != 0 {
		t.Errorf("the bot ran %d commands, want none", n)
	}
	if posts, responses := fake.counts(); posts != 0 || responses != 0 {
		t.Errorf("%d posts and %d responses, want none", posts, responses)
	}
	if n := h.SignatureFailures(); n != 2 {
		t.Errorf("%d signature failures, want 2", n)
	}
}

// alertDesk is an AlertDesk over one open alert, #12 of rakuten, that
// records who acknowledged what.
type alertDesk struct {
	mu    sync.Mutex
	acked []string
}

var _ bot.AlertDesk = (*alertDesk)(nil)

func (d *alertDesk) alert() kpi.Alert {
	return kpi.Alert{ID: 12, Key: "return_rate:rakuten", Metric: "return_rate", Shop: "rakuten", Severity: kpi.SeverityCritical,
		State: kpi.AlertOpen, Opened: clock.Add(-2 * time.Hour), Value: 0.098, Target: 0.05}
}

func (d *alertDesk) Active(context.Context, []string) ([]kpi.Alert, error) {
	return []kpi.Alert{d.alert()}, nil
}

func (d *alertDesk) Ack(_ context.Context, id int64, by bot.Actor) (kpi.Alert, error) {
	if id != 12 {
		return kpi.Alert{}, kpi.Errorf(kpi.NotFound, "error.alert_unknown", map[string]any{"ID": id}, nil)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.acked = append(d.acked, fmt.Sprintf("#%d by %s", id, by.User))
	a := d.alert()
	a.State, a.AckedBy = kpi.AlertAcked, by.User
	return a, nil
}

func (d *alertDesk) Snooze(context.Context, int64, bot.Actor, time.Time) (kpi.Alert, error) {
	return kpi.Alert{}, fmt.Errorf("not in this test")
}

func (d *alertDesk) Resolve(context.Context, int64, bot.Actor) (kpi.Alert, error) {
	return kpi.Alert{}, fmt.Errorf("not in this test")
}

func (d *alertDesk) Rules(context.Context, []string) ([]bot.RuleView, error) {
	return nil, fmt.Errorf("not in this test")
}

func (d *alertDesk) ChangeRule(context.Context, kpi.RuleOverride, bool, string) (bot.RuleView, error) {
	return bot.RuleView{}, fmt.Errorf("not in this test")
}

// TestButtonClickWithTheBot clicks Acknowledge under an alert through the
// real bot: the alert is acknowledged by the clicker, and the message says
// so in place of its buttons; a click on an alert the desk does not know
// tells the clicker alone.
func TestButtonClickWithTheBot(t *testing.T) {
	fake := newFakeSlack(t)
	st := bindHQ(t)
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return clock }
	b, err := bot.New(&kpi.Engine{Store: st, Now: now}, st, st, st, text, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	desk := &alertDesk{}
	b.SetAlerts(desk)
	h, mux := newTestHandler(t, b, fake, st)
	h.book = st

	serve(mux, signedRequest("/slack/interactions", clickBody(t, "kpi:0", "/kpi ack 12", fake.URL+"/response"), 0, secret))
	h.Wait()
	serve(mux, signedRequest("/slack/interactions", clickBody(t, "kpi:0", "/kpi ack 99", fake.URL+"/response"), 0, secret))
	h.Wait()

	if !slices.Equal(desk.acked, []string{"#12 by slack:T1:U1"}) {
		t.Errorf("desk acknowledged %q", desk.acked)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.responses) != 2 {
		t.Fatalf("response_url got %d messages, want 2", len(fake.responses))
	}
	ok, bad := fake.responses[0], fake.responses[1]
	if ok["replace_original"] != true || slices.Contains(blockTypes(ok), "actions") ||
		!strings.HasPrefix(lastContext(ok), "#12 acknowledged") {
		t.Errorf("acknowledged: replace %v, blocks %v, result %q", ok["replace_original"], blockTypes(ok), lastContext(ok))
	}
	if bad["replace_original"] != false || bad["response_type"] != "ephemeral" || !strings.Contains(fmt.Sprint(bad["text"]), "99") {
		t.Errorf("unknown alert: %v", bad)
	}
}

// TestWithoutActionsKeepsWithinTheBlockLimit: a message of 50 blocks keeps
// 49 and the result line.
func TestWithoutActionsKeepsWithinTheBlockLimit(t *testing.T) {
	var blocks []json.RawMessage
	for i := range blockLimit {
		blocks = append(blocks, json.RawMessage(fmt.Sprintf(`{"type":"section","block_id":"b%d","text":{"type":"mrkdwn","text":"x"}}`, i)))
	}
	got := withoutActions(blocks, json.RawMessage(`{"type":"context"}`))
	if len(got) != blockLimit || string(got[blockLimit-1]) != `{"type":"context"}` || string(got[0]) != string(blocks[0]) {
		t.Errorf("%d blocks, last %s", len(got), got[len(got)-1])
	}
}

// A click's answer and the outbox's edit of the same alert agree: the
// buttons and their hint go, the rest stays, the news comes last.
func TestClickAnswerAgreesWithAmended(t *testing.T) {
	r := bot.Reply{Title: "[critical] Amazon JP: negative reviews", Verdict: kpi.VerdictBreach,
		Fields: []bot.Field{{Label: "Value", Value: "4"}}, Notes: []string{"Runbook: answer each review."},
		Hint:    "Act: /kpi ack 1 · /kpi resolve 1",
		Buttons: []bot.Button{{Label: "Acknowledge", Command: "/kpi ack 1"}, {Label: "Resolve", Command: "/kpi resolve 1"}},
		Lang:    locales.English}
	more := func(n int) string { return fmt.Sprint(n, " more") }
	posted, err := rawBlocks(Blocks(r, more))
	if err != nil {
		t.Fatal(err)
	}
	if all := string(joinRaw(posted)); !strings.Contains(all, hintBlockID) || !strings.Contains(all, `"actions"`) {
		t.Fatalf("the alert as posted lacks its hint or buttons: %s", all)
	}
	note := "[acknowledged] #1 by 佐藤"
	last, err := json.Marshal(slackapi.NewContextBlock("", mrkdwn(note)))
	if err != nil {
		t.Fatal(err)
	}
	clicked := joinRaw(withoutActions(posted, last))
	amended, err := json.Marshal(Amended(r, more, note))
	if err != nil {
		t.Fatal(err)
	}
	if string(clicked) != string(amended) {
		t.Errorf("a click's answer:\n%s\nthe outbox's edit:\n%s", clicked, amended)
	}
	if strings.Contains(string(amended), "Act: /kpi") || strings.Contains(string(amended), `"actions"`) ||
		!strings.Contains(string(amended), "Runbook") {
		t.Errorf("the edited alert: %s", amended)
	}
}

// joinRaw is blocks as one JSON array.
func joinRaw(blocks []json.RawMessage) []byte {
	b, _ := json.Marshal(blocks)
	return b
}
