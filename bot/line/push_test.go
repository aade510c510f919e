package line

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

func newPusher(t *testing.T, fake *linetest.Server) *Pusher {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kpibot.db"), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c, err := NewClient(ClientConfig{Token: linetest.Token, BaseURL: fake.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	return NewPusher(c, store, text, now, nil)
}

// schedule is a morning's pushes: a digest to hq and to support, and two
// alerts to each.
func schedule(day string) []Push {
	hq, jp := groupID(100), groupID(200)
	var out []Push
	for _, chat := range []string{jp, hq} {
		out = append(out, Push{Chat: chat, Key: "digest:" + day, Reply: metricReply()})
		for i := range 2 {
			out = append(out, Push{Chat: chat, Key: fmt.Sprintf("alert:%s:%d", day, i), Reply: bot.Reply{Text: "alert", Lang: locales.Japanese}})
		}
	}
	return out
}

func keys(pushes []Push) []string {
	var out []string
	for _, p := range pushes {
		out = append(out, p.Key)
	}
	return out
}

func TestDeliverWithinQuota(t *testing.T) {
	hq := kpi.ChatChannel{Platform: Platform, ID: groupID(100), Role: kpi.RoleHQ, Lang: "zh"}
	tests := []struct {
		name         string
		limit, used  int64 // 0, 0: no limit
		wantRequests int
		wantCombined bool
		wantWarned   bool
		wantHeld     int
	}{
		{"no limit", 0, 0, 6, false, false, 0},
		{"enough left", 200, 100, 6, false, false, 0},
		{"short: combined", 200, 170, 3, true, true, 0}, // 20 members × 6 pushes = 120 > 30 left; combined 10+10, warning 10
		{"very short: support held", 200, 175, 2, true, true, 3},
		{"spent: all held", 200, 200, 0, true, false, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := linetest.NewServer(t)
			fake.SetMembers(groupID(100), 10)
			fake.SetMembers(groupID(200), 10)
			if tt.limit > 0 {
				fake.SetQuota(tt.limit, tt.used)
			}
			p := newPusher(t, fake)
			pushes := schedule("2026-11-28")
			d, err := p.Deliver(context.Background(), pushes, hq)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(fake.Sent()); n != tt.wantRequests {
				t.Errorf("%d push requests, want %d", n, tt.wantRequests)
			}
			if d.Combined != tt.wantCombined || d.Warned != tt.wantWarned || len(d.Held) != tt.wantHeld {
				t.Errorf("delivery %+v; want combined %v, warned %v, %d held", d, tt.wantCombined, tt.wantWarned, tt.wantHeld)
			}
			all := append(slices.Clone(d.Sent), d.Held...)
			slices.Sort(all)
			want := keys(pushes)
			slices.Sort(want)
			if !slices.Equal(slices.Compact(all), slices.Compact(want)) {
				t.Errorf("sent and held %v, want every push accounted for: %v", all, want)
			}
			if tt.limit > 0 && fake.Used() > tt.limit {
				t.Errorf("used %d of %d", fake.Used(), tt.limit)
			}
			if tt.wantWarned {
				if got := texts(fake.Sent()[0]); fake.Sent()[0].To != hq.ID || !strings.Contains(got, "LINE") {
					t.Errorf("first push %+v %q, want the warning to hq", fake.Sent()[0], got)
				}
			}
		})
	}
}

func TestQuotaWarningOnceAMonth(t *testing.T) {
	fake := linetest.NewServer(t)
	fake.SetMembers(groupID(100), 10)
	fake.SetMembers(groupID(200), 10)
	fake.SetQuota(1000, 950)
	p := newPusher(t, fake)
	hq := kpi.ChatChannel{Platform: Platform, ID: groupID(100), Role: kpi.RoleHQ, Lang: "zh"}
	for i, day := range []string{"2026-11-28", "2026-11-29"} {
		d, err := p.Deliver(context.Background(), schedule(day), hq)
		if err != nil {
			t.Fatal(err)
		}
		if d.Warned != (i == 0) {
			t.Errorf("day %s warned %v", day, d.Warned)
		}
	}
}

func TestDeliverIsIdempotent(t *testing.T) {
	fake := linetest.NewServer(t)
	p := newPusher(t, fake)
	fake.FailAfterAccepting("pushMessage", 500)
	pushes := schedule("2026-11-28")
	if _, err := p.Deliver(context.Background(), pushes, kpi.ChatChannel{}); err != nil {
		t.Fatal(err)
	}
	// A second run of the same schedule, as after a crash before it was
	// recorded, reuses the retry keys and shows nothing twice.
	if _, err := p.Deliver(context.Background(), pushes, kpi.ChatChannel{}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Sent()); n != len(pushes) {
		t.Errorf("%d pushes delivered, want %d", n, len(pushes))
	}
}
