package e2e

import (
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
)

// Issue 13, item 4: faults lose nothing and double nothing. serve starts
// at 08:59:56 JST with two Slack channels and a LINE group; the fake Slack
// answers chat.postMessage and the file uploads 500 and 429 (Retry-After:
// 1) in turn for the first 12 s, around the 09:00 digest; Amazon's
// searchOrders fails once, so the first Amazon pull fails (a timeout is
// not used: the connectors' HTTP timeout is 60 s and a timed-out call is
// tried 5 more times, minutes in all); the Rakuten fake serves its orders
// one a page, so that its first pull takes many seconds at RMS's one call
// a second, and serve is killed with SIGKILL while it runs. Restarted on
// the same database with its clock at 09:03 (past the outbox's 1-minute
// backoff and the 2-minute lease of the items claimed when serve was
// killed, which at real speed the test does not wait for), serve delivers
// the digest once to each chat, and stores each order the fakes serve,
// once.
func TestFaultsLoseNothing(t *testing.T) {
	start := time.Date(2026, 11, 27, 8, 59, 56, 0, jst) // a Friday, not a holiday
	channels := fmt.Sprintf(`  - platform: slack
    id: %s
    role: hq
  - platform: line
    id: %s
    role: jp-support
  - platform: slack
    id: %s
    role: shop
    lang: zh
    shops: [amz]
`, hqChannel, jpGroup, shopSlack)
	began := time.Now()
	w := newWorldWith(t, worldOptions{now: start, clock: true, channels: channels, setup: func(w *world) {
		w.slack.outage(time.Now().Add(12 * time.Second))
		w.amazon.Fail("searchOrders", amazontest.Fault{Status: 400})
		w.rakuten.SetPageSize(1)
	}})
	t.Logf("serve ready %.1f s after the test began", time.Since(began).Seconds())
	chats := []string{hqChannel, jpGroup, shopSlack}

	// The first Amazon pull fails and says so in /metrics.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if n, _ := w.metric("kpibot_sync_errors_total", `shop="amz"`); n >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kpibot_sync_errors_total{shop=\"amz\"} did not count the failed pull within 10 s:\n%s", w.stderr)
		}
	}

	// Kill serve once the digest met the outage and the Rakuten pull has
	// stored some of its orders but not all.
	var stored int
	var killedMidSync bool
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		stored = len(w.storedOrders()["rk"])
		midSync := stored > 0 && stored < len(w.orderIDs["rk"])
		if w.slack.faulted() > 0 && time.Since(began) > 6*time.Second && midSync {
			killedMidSync = true
			break
		}
		if time.Now().After(deadline) || stored == len(w.orderIDs["rk"]) {
			break
		}
	}
	if !killedMidSync {
		t.Errorf("could not kill serve mid-sync: Rakuten orders stored %d of %d, Slack faults %d",
			stored, len(w.orderIDs["rk"]), w.slack.faulted())
	}
	elapsed := time.Since(began)
	w.kill()
	firstLog := w.stderr.String()
	t.Logf("SIGKILL %.1f s after the start: Rakuten orders stored %d of %d; Slack refused %d calls; digests so far %s",
		elapsed.Seconds(), stored, len(w.orderIDs["rk"]), w.slack.faulted(), summary(w.digests()))
	if w.slack.faulted() == 0 {
		t.Error("the digest never met the Slack outage")
	}

	t.Logf("outbox after the kill: %v", w.query(`SELECT key || ' attempts=' || attempts || ' sent=' || (sent_at IS NOT NULL) || ' next_try=' || datetime(next_try, 'unixepoch') FROM outbox`))

	// Wait out the outage, then restart past the outbox's first backoff
	// and past the 2-minute lease (bot/schedule claimLease) of the items a
	// flush in flight at the kill had claimed: an operator who restarts at
	// once sees the digest when the lease is over.
	time.Sleep(time.Until(began.Add(13 * time.Second)))
	w.setEnv(testClockEnv(start.Add(3*time.Minute + time.Since(began))))
	w.start()
	restarted := time.Now()

	// Every chat gets the digest and every order is stored.
	for deadline := time.Now().Add(25 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := w.digests()
		done := true
		for _, c := range chats {
			done = done && len(got[c]) > 0
		}
		ids := w.storedOrders()
		for shop, want := range w.orderIDs {
			done = done && len(ids[shop]) >= len(want)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 25 s of the restart: digests %s, orders stored amz %d of %d, rk %d of %d\nserve, first run:\n%s\nserve, after the restart:\n%s",
				summary(got), len(ids["amz"]), len(w.orderIDs["amz"]), len(ids["rk"]), len(w.orderIDs["rk"]), firstLog, w.stderr)
		}
	}
	t.Logf("digests and orders complete %.1f s after the restart", time.Since(restarted).Seconds())
	time.Sleep(2 * time.Second)

	// Nothing lost, nothing doubled: each chat has its digest once; the
	// stored orders are those the fakes serve, each once.
	got := w.digests()
	for _, c := range chats {
		if n := len(got[c]); n != 1 {
			t.Errorf("%s: %d digests, want 1:\n%s", c, n, dump(got[c]))
		}
	}
	ids := w.storedOrders()
	for shop, want := range w.orderIDs {
		have := ids[shop]
		if !slices.Equal(slices.Sorted(slices.Values(have)), slices.Sorted(slices.Values(want))) {
			t.Errorf("shop %s: stored orders %v, want those the fake serves, each once: %v", shop, have, want)
		}
	}
	// The Amazon pull after the restart stored its orders. (Its
	// kpibot_sync_errors_total still counts 1: the fake serves no Reports
	// API, so every Amazon pull ends with createReport's 404s.)
	if n, _ := w.metric("kpibot_sync_rows_total", `shop="amz"`, `result="inserted"`); n == 0 {
		t.Errorf("after the restart, the Amazon pull inserted no rows")
	}
	// No message of any kind twice: the Slack messages by chat and text,
	// the LINE pushes by retry key; and the outbox has sent everything.
	seen := map[string]int{}
	for _, m := range w.messages() {
		seen[m.key()]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("a message arrived %d times: %.200q", n, k)
		}
	}
	keys := map[string]int{}
	for _, s := range w.line.Sent() {
		if s.Op == "pushMessage" {
			keys[s.RetryKey]++
		}
	}
	for k, n := range keys {
		if n > 1 {
			t.Errorf("LINE push with retry key %q sent %d times", k, n)
		}
	}
	unsent := w.query(`SELECT key || ' ' || attempts || ' ' || last_error FROM outbox WHERE sent_at IS NULL`)
	if len(unsent) > 0 {
		t.Errorf("outbox items left unsent: %v", unsent)
	}
	t.Logf("outbox: %v", w.query(`SELECT key || ' attempts=' || attempts FROM outbox`))
	if p := w.line.Problems(); len(p) > 0 {
		t.Errorf("the fake LINE refused requests: %v", p)
	}
	w.stop()
	if t.Failed() {
		t.Logf("serve, first run:\n%s\nserve, after the restart:\n%s", firstLog, w.stderr)
	}
	t.Logf("the test took %.1f s", time.Since(began).Seconds())
}

// storedOrders returns the ids of the orders in serve's database, by shop
// (nil while the file or its tables are not there yet).
func (w *world) storedOrders() map[string][]string {
	out := map[string][]string{}
	for _, row := range w.query(`SELECT shop || ' ' || id FROM orders`) {
		shop, id, _ := strings.Cut(row, " ")
		out[shop] = append(out[shop], id)
	}
	return out
}

// query runs a query of one text column on serve's database, read-only,
// and returns its rows; nil on an error (the file may not be made yet).
func (w *world) query(q string) []string {
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: w.db}).EscapedPath()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if rows.Scan(&s) == nil {
			out = append(out, s)
		}
	}
	return out
}
