package alert

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/demo"
	"github.com/kpibot/kpibot/kpi"
)

// The demo data raises alerts out of the box: the negative-review burst
// on Amazon, the return spike on Rakuten, Amazon's stock running out, and
// more; the alerts of one shop go to a channel as one message.
func TestDemoRaisesAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the demo")
	}
	now := jst(2026, 11, 18, 10, 0) // a Wednesday
	f := newFixture(t, now, []kpi.ChatChannel{hq, jp, team}, func(c *Config) { c.SyncEvery = 15 * time.Minute })
	if _, err := demo.Seed(f.ctx, f.store, now); err != nil {
		t.Fatal(err)
	}
	f.m.c.Engine = &kpi.Engine{Store: f.store, Now: f.clock.Now}
	rep := f.evaluate()
	t.Logf("opened %d alerts", len(rep.Opened))
	opened := map[string]kpi.Alert{}
	for _, a := range rep.Opened {
		opened[a.Key] = a
		t.Logf("#%d %s %s %.3g (target %g)", a.ID, a.Key, a.Severity, a.Value, a.Target)
	}
	for key, sev := range map[string]kpi.Severity{
		"negative_reviews:amazon-jp":       kpi.SeverityCritical,
		"reviews_awaiting_reply:amazon-jp": kpi.SeverityCritical,
		"return_rate:rakuten":              kpi.SeverityWarning,
		"days_of_cover:amazon-jp":          kpi.SeverityCritical,
		"acos:yahoo":                       kpi.SeverityWarning,
		"customs_failure_rate:yahoo":       kpi.SeverityCritical,
	} {
		a, ok := opened[key]
		if !ok {
			t.Errorf("the demo raises no %s alert; opened %v", key, slices.Sorted(maps.Keys(opened)))
			continue
		}
		if a.Severity != sev {
			t.Errorf("%s is %s, want %s", key, a.Severity, sev)
		}
	}
	if _, ok := opened["freshness:amazon-jp"]; ok {
		t.Error("freshly seeded data is stale")
	}
	msgs := f.pending(false)
	perShop := map[string]int{} // channel and shop → messages
	for key, m := range msgs {
		if !strings.Contains(key, ":open:") {
			t.Errorf("unexpected message %s", key)
			continue
		}
		ids := strings.Split(strings.Split(key, ":")[1], "+")
		a, _, _ := f.store.Alert(f.ctx, mustID(t, ids[0]))
		perShop[m.ch.ID+" "+a.Shop]++
	}
	for k, n := range perShop {
		if n != 1 {
			t.Errorf("%s: %d messages, want one for all the shop's alerts", k, n)
		}
	}
	burst := msgs[findKey(msgs, "slack:C-HQ", f, "amazon-jp")]
	if len(burst.reply.Rows) == 0 || !strings.Contains(burst.text(), "★") {
		t.Errorf("the Amazon alerts quote no review:\n%s", burst.text())
	}
	// Evaluating again changes nothing.
	if rep := f.evaluate(); len(rep.Opened)+len(rep.Updated)+len(rep.Resolved) != 0 {
		t.Errorf("a second evaluation: %+v", rep)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// findKey returns the key of the open message to channel ch (platform:id)
// about shop's alerts.
func findKey(msgs map[string]message, ch string, f *fixture, shop string) string {
	for key := range msgs {
		if !strings.HasSuffix(key, ":"+ch) {
			continue
		}
		id := strings.Split(strings.Split(key, ":")[1], "+")[0]
		if a, ok, _ := f.store.Alert(f.ctx, mustID(f.t, id)); ok && a.Shop == shop {
			return key
		}
	}
	return ""
}
