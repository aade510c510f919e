package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"reflect"
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
