package line

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/alert"
	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// postbackEvent is what LINE sends when a button of ours is pressed.
func postbackEvent(id string, src map[string]any, data string) map[string]any {
	e := event("postback", id, src, clock.Add(-2*time.Second), false)
	e["postback"] = map[string]any{"data": data}
	return e
}

// A button's postback is answered as the chat line it stands for, by reply
// token, in the chat it was pressed in.
func TestPostbackRunsTheButtonsCommand(t *testing.T) {
	r := newRig(t)
	g := groupID(50)
	r.bind(kpi.ChatChannel{ID: g, Role: kpi.RoleHQ, Lang: "zh"})
	r.send(textEvent("01JPOSTBACK000000000000001", inGroup(g, userID(51)), "/kpi help"))
	r.send(postbackEvent("01JPOSTBACK000000000000002", inGroup(g, userID(51)), "kpi:/kpi help"))
	r.send(postbackEvent("01JPOSTBACK000000000000003", fromUser(userID(52)), "kpi:/kpi help"))
	sent := r.line.Sent()
	if len(sent) != 3 {
		t.Fatalf("sent %d answers, want 3", len(sent))
	}
	for i, s := range sent[1:] {
		if want := fmt.Sprintf("rt-01JPOSTBACK00000000000000%d", i+2); s.Op != "replyMessage" || s.ReplyToken != want {
			t.Errorf("sent %s with token %q, want a reply with %q", s.Op, s.ReplyToken, want)
		}
	}
	typed, pressed := texts(sent[0]), texts(sent[1])
	if pressed == "" || pressed != typed {
		t.Errorf("the button was answered %q, the typed command %q", pressed, typed)
	}

	// Past the reply token's minute, the answer is pushed to the chat.
	late := postbackEvent("01JPOSTBACK000000000000004", inGroup(g, userID(51)), "kpi:/kpi help")
	late["timestamp"] = clock.Add(-2 * time.Minute).UnixMilli()
	r.send(late)
	if sent := r.line.Sent(); len(sent) != 4 || sent[3].Op != "pushMessage" || sent[3].To != g || sent[3].RetryKey == "" {
		t.Errorf("a late postback: sent %+v, want a push to the group", sent[len(sent)-1])
	}
}

func TestRedeliveredPostbackIsAnsweredOnce(t *testing.T) {
	r := newRig(t)
	u := userID(53)
	r.bind(kpi.ChatChannel{ID: u, Role: kpi.RoleJPSupport, Lang: "ja"})
	ev := postbackEvent("01JPBREDELIVER000000000001", fromUser(u), "kpi:/kpi help")
	again := postbackEvent("01JPBREDELIVER000000000001", fromUser(u), "kpi:/kpi help")
	again["deliveryContext"] = map[string]any{"isRedelivery": true}
	r.send(ev)
	r.send(again, ev)
	r.restart()
	r.send(again)
	if n := len(r.line.Sent()); n != 1 {
		t.Errorf("answered %d times, want once", n)
	}
}

func TestPostbackInAnUnboundGroupGetsTheHint(t *testing.T) {
	r := newRig(t)
	r.send(postbackEvent("01JPBUNBOUND00000000000001", inGroup(groupID(54), userID(54)), "kpi:/kpi ack 12"))
	sent := r.line.Sent()
	if len(sent) != 1 || sent[0].Op != "replyMessage" {
		t.Fatalf("sent %+v, want one reply", sent)
	}
	got := texts(sent[0])
	text, _ := locales.Load()
	for _, lang := range []locales.Lang{locales.Chinese, locales.Japanese} {
		if want := text.Printer(lang).T("channel.unbound_code", nil); !strings.Contains(got, want) {
			t.Errorf("hint %q lacks the %s text %q", got, lang, want)
		}
	}
}

func TestOtherPostbacksAreIgnored(t *testing.T) {
	r := newRig(t)
	u := userID(55)
	r.bind(kpi.ChatChannel{ID: u, Role: kpi.RoleHQ, Lang: "zh"})
	picker := postbackEvent("01JPBOTHER0000000000000004", fromUser(u), "pick=date")
	picker["postback"].(map[string]any)["params"] = map[string]any{"date": "2026-11-28"}
	standby := postbackEvent("01JPBOTHER0000000000000005", fromUser(u), "kpi:/kpi help")
	standby["mode"] = "standby"
	r.send(
		postbackEvent("01JPBOTHER0000000000000001", fromUser(u), "action=buy&itemid=111"),
		postbackEvent("01JPBOTHER0000000000000002", fromUser(u), ""),
		postbackEvent("01JPBOTHER0000000000000003", fromUser(u), "kpi:  "),
		picker,
		standby,
		postbackEvent("01JPBOTHER0000000000000006", fromUser(u), "/kpi help"), // not ours: no prefix
	)
	if sent := r.line.Sent(); len(sent) != 0 {
		t.Errorf("answered %d postbacks not meant for the bot: %+v", len(sent), sent)
	}
}

// An alert pushed to a LINE group with its buttons; pressing Acknowledge
// acknowledges it for the presser, answers by reply token, and tells every
// channel that got the alert.
func TestAlertButtonAcknowledgesFromLINE(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	hq, jp := groupID(60), roomID(61)
	r.bind(kpi.ChatChannel{ID: hq, Role: kpi.RoleHQ, Lang: "zh"})
	r.bind(kpi.ChatChannel{ID: jp, Role: kpi.RoleJPSupport, Lang: "ja"})
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	m, err := alert.New(alert.Config{
		Engine: &kpi.Engine{Store: r.store, Now: now}, Store: r.store, Source: r.store, Shops: r.store,
		Channels: r.store, Outbox: r.store, Text: text, Now: now,
		Rules: []alert.Rule{{Metric: "return_rate", Shop: "rakuten", Severity: kpi.SeverityCritical}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.bot.SetAlerts(m)
	rep, err := m.Evaluate(ctx)
	if err != nil || len(rep.Opened) != 1 {
		t.Fatalf("opened %+v, %v; want one alert", rep.Opened, err)
	}
	id := rep.Opened[0].ID

	// Push the alert to the hq group as the outbox would.
	due, err := r.store.Due(ctx, clock.Add(7*24*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	var pushed bool
	for _, it := range due {
		ch, reply, err := bot.DecodeOutgoing(it.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if ch.Platform != Platform || ch.ID != hq {
			continue
		}
		if len(reply.Buttons) != 4 {
			t.Fatalf("the alert has %d buttons, want 4", len(reply.Buttons))
		}
		client, err := NewClient(ClientConfig{Token: linetest.Token, BaseURL: r.line.URL, Backoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Push(ctx, hq, Messages(reply, more), RetryKey(it.Key)); err != nil {
			t.Fatalf("LINE refused the alert: %v", err)
		}
		pushed = true
	}
	if !pushed {
		t.Fatalf("no alert for the hq group in the outbox (%d items)", len(due))
	}

	// Press its first button, as LINE delivers it.
	sent := r.line.Sent()
	var msg struct {
		Contents struct {
			Footer struct {
				Contents []flexButton `json:"contents"`
			} `json:"footer"`
		} `json:"contents"`
	}
	if err := json.Unmarshal(sent[0].Messages[0], &msg); err != nil || len(msg.Contents.Footer.Contents) == 0 {
		t.Fatalf("the pushed alert has no buttons: %v %s", err, sent[0].Messages[0])
	}
	ack := msg.Contents.Footer.Contents[0].Action
	if ack.Data != fmt.Sprintf("kpi:/kpi ack %d", id) {
		t.Fatalf("the first button posts back %q", ack.Data)
	}
	presser := userID(62)
	r.line.SetName(presser, "佐藤 花子")
	r.send(postbackEvent("01JPBALERT0000000000000001", inGroup(hq, presser), ack.Data))

	sent = r.line.Sent()
	if len(sent) != 2 || sent[1].Op != "replyMessage" || sent[1].ReplyToken != "rt-01JPBALERT0000000000000001" {
		t.Fatalf("sent %+v, want the alert and one reply", sent)
	}
	if got := texts(sent[1]); !strings.Contains(got, fmt.Sprintf("已确认 #%d", id)) {
		t.Errorf("the answer %q, want the acknowledgement of #%d in Chinese", got, id)
	}
	a, ok, err := r.store.Alert(ctx, id)
	if err != nil || !ok || a.State != kpi.AlertAcked || a.AckedBy != "line:"+presser {
		t.Fatalf("alert %+v %v %v, want acknowledged by line:%s", a, ok, err, presser)
	}
	due, err = r.store.Due(ctx, clock.Add(7*24*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	told := map[string]bool{}
	for _, it := range due {
		if strings.Contains(it.Key, fmt.Sprintf("alert:%d:ack-", id)) {
			told[it.Channel] = true
			// The notice names the presser as LINE shows them, not by id.
			if p := string(it.Payload); !strings.Contains(p, "佐藤 花子") || strings.Contains(p, presser) {
				t.Errorf("the notice to %s does not name the presser by their LINE name:\n%s", it.Channel, p)
			}
		}
	}
	// The chat the button was pressed in has the reply: no push there,
	// which would say it again and spend the quota.
	if told[hq] || !told[jp] || len(told) != 1 {
		t.Errorf("the acknowledgement was told to %v, want the other LINE chat alone", told)
	}
}

// MemberName asks the profile of the chat's kind: a group's member, a
// room's member, or the user's own; a user LINE does not know is an error.
func TestMemberName(t *testing.T) {
	fake := linetest.NewServer(t)
	fake.SetName(userID(70), "田中")
	client, err := NewClient(ClientConfig{Token: linetest.Token, BaseURL: fake.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, chat := range []string{groupID(71), roomID(72), userID(70)} {
		if name, err := client.MemberName(ctx, chat, userID(70)); name != "田中" || err != nil {
			t.Errorf("MemberName in %s = %q, %v; want 田中", chat, name, err)
		}
	}
	for op, want := range map[string]int{"getGroupMemberProfile": 1, "getRoomMemberProfile": 1, "getProfile": 1} {
		if got := fake.Calls(op); got != want {
			t.Errorf("%s called %d times, want %d", op, got, want)
		}
	}
	if name, err := client.MemberName(ctx, groupID(71), userID(73)); name != "" || err == nil {
		t.Errorf("MemberName of a user LINE does not know = %q, %v; want an error", name, err)
	}
}
