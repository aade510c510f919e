package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	_ "image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/chart"
	"github.com/kpibot/kpibot/bot/schedule"
	"github.com/kpibot/kpibot/bot/slack"
	"github.com/kpibot/kpibot/bot/slack/slacktest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// TestSlackDigestWithChart sends the daily digest of the demo shops to a
// bound Slack channel through the outbox and slackSender: one message, the
// digest's blocks above its overview chart; without a drawer, the digest
// alone.
func TestSlackDigestWithChart(t *testing.T) {
	for _, withCharts := range []bool{true, false} {
		t.Run(map[bool]string{true: "with charts", false: "without"}[withCharts], func(t *testing.T) { digestToSlack(t, withCharts) })
	}
}

// digestToSlack sends the digest through a slackSender with charts or not.
func digestToSlack(t *testing.T, withCharts bool) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "digest.db")
	data, err := os.ReadFile(seeded)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	e := env{now: func() time.Time { return demoNow }}
	store, err := openStore(ctx, e, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ch := kpi.ChatChannel{Platform: "slack", ID: "CDIGEST", Role: kpi.RoleHQ, Lang: "zh"}
	if err := store.BindChatChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(&kpi.Engine{Store: store, Now: e.now}, store, store, store, text, e.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	fake := newFakeSlackAPI(t)
	sender := slackSender{poster: slack.NewPoster(testBotToken, fake.URL+"/api/"), text: text}
	if withCharts {
		sender.charts = b
	}
	sched, err := schedule.New(schedule.Config{Channels: store, Outbox: store, Renderer: b,
		Senders: map[string]schedule.Sender{"slack": sender}, Clock: clockwork.NewFakeClockAt(demoNow)})
	if err != nil {
		t.Fatal(err)
	}
	day := kpi.DateOf(demoNow)
	// Other tests bind chats in the shared demo file too: only CDIGEST's
	// messages count here.
	if n, err := sched.Enqueue(ctx, schedule.Digest, day); err != nil || n < 1 {
		t.Fatalf("enqueued %d digests: %v", n, err)
	}
	if err := sched.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	reply, err := b.Report(ctx, bot.ReportDigest, ch, day)
	if err != nil {
		t.Fatal(err)
	}
	more := func(n int) string { return text.Printer(reply.Lang).T("reply.more_lines", map[string]any{"N": n}) }
	want, _ := json.Marshal(slack.Blocks(reply, more))
	var uploads []slacktest.Upload
	for _, up := range fake.files.Uploads() {
		if up.Channel == ch.ID {
			uploads = append(uploads, up)
		}
	}
	posts := 0
	fake.mu.Lock()
	for _, p := range fake.posts {
		if p.Get("channel") == ch.ID {
			posts++
		}
	}
	fake.mu.Unlock()
	if !withCharts {
		if len(uploads) != 0 || posts != 1 {
			t.Errorf("without a drawer: %d uploads and %d posts, want 0 and 1", len(uploads), posts)
		}
		return
	}
	if len(uploads) != 1 || posts != 0 {
		t.Fatalf("%d uploads and %d posts, want the digest with its chart in one upload", len(uploads), posts)
	}
	up := uploads[0]
	cut := len([]rune(up.AltText)) == 1000 // Slack's limit
	if up.Channel != "CDIGEST" || up.ThreadTS != "" || up.Title != reply.Title || up.AltText != slack.FallbackText(reply) && !cut {
		t.Errorf("uploaded to %s (thread %q), titled %q, alt %q", up.Channel, up.ThreadTS, up.Title, up.AltText)
	}
	var got, wantBlocks any
	json.Unmarshal(up.Blocks, &got)
	json.Unmarshal(want, &wantBlocks)
	if got == nil || !reflect.DeepEqual(got, wantBlocks) {
		t.Errorf("the upload's blocks are not the digest's:\n%s\nwant\n%s", up.Blocks, want)
	}
	// The overview is chart.Large wide; bot/chart's DrawOverview takes
	// the size's height as a row of panels' and grows with the rows.
	img, format, err := image.Decode(bytes.NewReader(up.Data))
	if err != nil || format != "png" || img.Bounds().Dx() != chart.Large.W || img.Bounds().Dy() < chart.Large.H {
		t.Errorf("the chart: %q %v, %v", format, img.Bounds(), err)
	}
}

// TestSlackAmendsAlertMessages: a notice that amends an alert's messages
// (an acknowledgement from LINE) edits the Slack message the alert went
// out in — its buttons gone, the notice's summary in their place — and
// goes in its thread; an outage of chat.update is ridden out; a message
// Slack will not edit, or one not out, leaves the notice a message of its
// own.
func TestSlackAmendsAlertMessages(t *testing.T) {
	ctx := context.Background()
	now := demoNow
	store, err := openStore(ctx, env{now: func() time.Time { return now }}, filepath.Join(t.TempDir(), "amend.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	msgs := slacktest.NewMessages(t, testBotToken)
	mux := http.NewServeMux()
	msgs.Register(mux, "/api/")
	fake := httptest.NewServer(mux)
	defer fake.Close()
	sender := slackSender{poster: slack.NewPoster(testBotToken, fake.URL+"/api/"), text: text, sent: store}
	clock := clockwork.NewFakeClockAt(now)
	sched, err := schedule.New(schedule.Config{Channels: store, Outbox: store, Renderer: nopRenderer{},
		Senders: map[string]schedule.Sender{"slack": sender}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	hq := kpi.ChatChannel{Platform: "slack", ID: "C-HQ", Role: kpi.RoleHQ, Lang: "en"}
	send := func(key string, r bot.Reply) {
		t.Helper()
		data, err := bot.EncodeOutgoing(hq, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Enqueue(ctx, kpi.OutboxItem{Key: key, Platform: "slack", Channel: hq.ID, Payload: data,
			NextTry: now, Created: now}); err != nil {
			t.Fatal(err)
		}
		if err := sched.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if it, _, err := store.Item(ctx, key); it.Sent.IsZero() || err != nil {
			t.Fatalf("%s not sent: %+v (%v)", key, it, err)
		}
	}
	alert := func(id string) bot.Reply {
		return bot.Reply{Title: "[critical] Amazon JP: negative reviews", Verdict: kpi.VerdictBreach,
			Fields:  []bot.Field{{Label: "Value", Value: "5"}},
			Buttons: []bot.Button{{Label: "Acknowledge", Command: "/kpi ack " + id}, {Label: "Resolve", Command: "/kpi resolve " + id}},
			Hint:    "Act: /kpi ack " + id + " · /kpi resolve " + id,
			Lang:    locales.English}
	}
	notice := func(id string, amends ...string) bot.Reply {
		return bot.Reply{Title: "[acknowledged] Amazon JP: negative reviews",
			Text: "#" + id + " was acknowledged by line:U-SATO: someone is on it.", Amends: amends, Lang: locales.English}
	}

	send("alert:7:open:slack:C-HQ", alert("7"))
	open := msgs.Posted()[0]
	if !strings.Contains(string(open.Blocks), `"actions"`) || !strings.Contains(string(open.Blocks), "Act: /kpi ack 7") {
		t.Fatalf("the alert went out without its buttons and their hint: %s", open.Blocks)
	}
	msgs.Break("chat.update", 1) // an outage: the poster tries again
	send("alert:7:ack-1:slack:C-HQ", notice("7", "alert:7:open:slack:C-HQ",
		"alert:7:open:slack:C-OTHER",   // another channel's: not for this one
		"alert:7:resend-1:slack:C-HQ")) // never queued
	ups := msgs.Updates()
	if len(ups) != 1 || ups[0].TS != open.TS || ups[0].Channel != "C-HQ" {
		t.Fatalf("updates %+v, want one of the alert's message %s", ups, open.TS)
	}
	edited := string(ups[0].Blocks)
	if strings.Contains(edited, `"actions"`) || strings.Contains(edited, "Act: /kpi") || !strings.Contains(edited, "negative reviews") ||
		!strings.Contains(edited, "was acknowledged by line:U-SATO") {
		t.Errorf("the edited alert: %s; want its blocks without buttons or their hint, with the notice", edited)
	}
	posted := msgs.Posted()
	if len(posted) != 2 || posted[1].ThreadTS != open.TS || !strings.Contains(posted[1].Text, "acknowledged") {
		t.Errorf("the notice: %+v; want it in the alert's thread %s", posted[1:], open.TS)
	}
	if n := msgs.Calls("chat.update"); n != 2 {
		t.Errorf("%d chat.update calls, want 2: the 500 and its retry", n)
	}

	// Slack will not edit #8's message: the notice goes on its own.
	send("alert:8:open:slack:C-HQ", alert("8"))
	msgs.Refuse(msgs.Posted()[2].TS, "cant_update_message")
	send("alert:8:ack-1:slack:C-HQ", notice("8", "alert:8:open:slack:C-HQ"))
	posted = msgs.Posted()
	if len(msgs.Updates()) != 1 || len(posted) != 4 || posted[3].ThreadTS != "" {
		t.Errorf("after a refused edit: %d updates, posted %+v; want the notice alone, not in a thread", len(msgs.Updates()), posted[3:])
	}
	// The news of an alert not out yet (failing, say) waits for it, and
	// the other messages go meanwhile.
	data, _ := bot.EncodeOutgoing(hq, alert("9"))
	store.Enqueue(ctx, kpi.OutboxItem{Key: "alert:9:open:slack:C-HQ", Platform: "slack", Channel: hq.ID, Payload: data,
		NextTry: now.Add(time.Hour), Created: now})
	data, _ = bot.EncodeOutgoing(hq, notice("9", "alert:9:open:slack:C-HQ"))
	store.Enqueue(ctx, kpi.OutboxItem{Key: "alert:9:ack-1:slack:C-HQ", Platform: "slack", Channel: hq.ID, Payload: data,
		NextTry: now, Created: now})
	send("digest:2026-11-28:slack:C-HQ", bot.Reply{Title: "digest", Lang: locales.English})
	if it, _, _ := store.Item(ctx, "alert:9:ack-1:slack:C-HQ"); !it.Sent.IsZero() || it.Attempts != 1 || !strings.Contains(it.LastError, "not out yet") {
		t.Errorf("the news of an alert not out: %+v; want it waiting, failed once", it)
	}
	if posted = msgs.Posted(); len(posted) != 5 || !strings.Contains(posted[4].Text, "digest") {
		t.Errorf("with a notice waiting: posted %+v, want the digest alone", posted[4:])
	}
	// Once the alert is out, the news edits it and goes in its thread.
	clock.Advance(time.Hour)
	if err := sched.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	posted = msgs.Posted()
	if len(posted) != 7 || posted[5].ThreadTS != "" || posted[6].ThreadTS != posted[5].TS || len(msgs.Updates()) != 2 {
		t.Errorf("after the alert went out: %d updates, posted %+v; want the alert, then the news in its thread", len(msgs.Updates()), posted[5:])
	}
}

// nopRenderer makes no reports: the tests that use it queue their own
// messages.
type nopRenderer struct{}

func (nopRenderer) Report(context.Context, string, kpi.ChatChannel, kpi.Date) (bot.Reply, error) {
	return bot.Reply{}, errors.New("no reports here")
}
