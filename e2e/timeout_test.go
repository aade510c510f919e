package e2e

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
)

// Issue 13, item 4: a marketplace times out, and nothing is lost or
// doubled. The Rakuten fake holds serve's first searchOrder unanswered,
// past the connectors' 60-second HTTP timeout (connectors/rakuten
// NewClient). Meanwhile the Amazon shop, pulled by its own sync job, is
// stored, and a message in the LINE group is answered at once with
// Amazon's numbers, Rakuten's shown as no data yet rather than zero. At 60 s the client gives up and tries the call again
// within the same run (internal/pace Retry: a timeout is a network error,
// tried again after about a second): the Rakuten orders are stored, each
// once, as are Amazon's; the retry is logged as a warning that names the
// timeout, and the run, which succeeded, does not count in
// kpibot_sync_errors_total. A second serve, whose Rakuten pull hangs the
// same way, is stopped with SIGTERM while it hangs: the call is cancelled
// and serve exits 0 at once.
//
// serve's clock starts at 08:30 JST on a past day that is neither a
// Tuesday nor a 2nd, so that no digest or review falls due (or is caught
// up) during the test and "today" stays one day. The test takes about
// 65 s, nearly all of it the 60-second timeout, which serve does not let
// a test shorten.
func TestMarketplaceTimeout(t *testing.T) {
	began := time.Now()
	start := timeoutTestStart(began)
	hang := func(w *world) { w.rakuten.Fail("searchOrder", rakutentest.Fault{Delay: 10 * time.Minute}) }
	w := newWorldWith(t, worldOptions{now: start, clock: true, setup: hang})
	t.Logf("serve ready %.1f s after the test began, its clock at %s", time.Since(began).Seconds(), start.Format(time.RFC3339))
	if w.amazonToday == 0 || w.rakutenToday == 0 {
		t.Fatalf("orders today: Amazon %d, Rakuten %d; want some of each", w.amazonToday, w.rakutenToday)
	}

	// Rakuten's first searchOrder comes, and hangs.
	var hungAt time.Time
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if w.rakuten.Calls("searchOrder") > 0 {
			hungAt = time.Now()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no searchOrder call within 10 s of the start:\n%s", w.stderr)
		}
	}

	// Meanwhile Amazon is pulled, and all its orders are stored.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		n, _ := w.metric("kpibot_sync_rows_total", `shop="amz"`, `result="inserted"`)
		if n > 0 && len(w.storedOrders()["amz"]) == len(w.orderIDs["amz"]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("while Rakuten hangs, Amazon's orders were not stored within 20 s: %d of %d\n%s",
				len(w.storedOrders()["amz"]), len(w.orderIDs["amz"]), w.stderr)
		}
	}
	t.Logf("Amazon stored %.1f s into Rakuten's hang", time.Since(hungAt).Seconds())

	// A Japanese support member asks in the LINE group, and is answered
	// with Amazon's orders while Rakuten still hangs.
	answer := w.ordersToday(t, "01E2ETIMEOUT0000000000000001", "rt-timeout-1")
	if n := len(w.storedOrders()["rk"]); n != 0 || w.rakuten.Calls("searchOrder") != 1 {
		t.Fatalf("Rakuten no longer hung when the answer came: %d orders stored, %d searchOrder calls",
			n, w.rakuten.Calls("searchOrder"))
	}
	t.Logf("answered %.1f s into the hang", time.Since(hungAt).Seconds())
	if got, ok := totalOrders(answer); !ok || got != w.amazonToday {
		t.Errorf("while Rakuten hangs: orders today %d (found %v), want Amazon's %d:\n%s", got, ok, w.amazonToday, answer)
	}
	if got, ok := shopOrders(answer, "Amazon JP Main"); !ok || got != w.amazonToday {
		t.Errorf("while Rakuten hangs: Amazon JP Main %d (found %v), want %d:\n%s", got, ok, w.amazonToday, answer)
	}
	// Rakuten, which has stored nothing yet, has no data: not 0 orders.
	if !strings.Contains(answer, "データ未取得") || !strings.Contains(answer, "Rakuten Flagship のデータはまだありません") {
		t.Errorf("while Rakuten hangs, the answer does not say it has no data yet:\n%s", answer)
	}

	// A second serve, whose Rakuten pull hangs the same way, stops on
	// SIGTERM while the call is in flight.
	w2 := newWorldWith(t, worldOptions{now: start, clock: true, setup: hang})
	for deadline := time.Now().Add(10 * time.Second); w2.rakuten.Calls("searchOrder") == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("second serve: no searchOrder call within 10 s of the start:\n%s", w2.stderr)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(w2.storedOrders()["rk"]); n != 0 || w2.rakuten.Calls("searchOrder") != 1 {
		t.Fatalf("second serve: Rakuten no longer hung at SIGTERM: %d orders stored, %d searchOrder calls",
			n, w2.rakuten.Calls("searchOrder"))
	}
	stopping := time.Now()
	w2.stop() // exit 0 within 20 s, or the test fails
	t.Logf("second serve: exited 0 %.2f s after SIGTERM, its Rakuten pull hanging", time.Since(stopping).Seconds())
	// At once, not after gocron's 10 s stop timeout for a job that does
	// not return: the hung call is cancelled, not left behind.
	if d := time.Since(stopping); d > 5*time.Second {
		t.Errorf("second serve took %v to exit after SIGTERM: the hung call was not cancelled", d)
	}
	if len(logged(w2.stderr.String(), "rakuten: synced")) != 0 {
		t.Errorf("second serve: the hung pull was reported as synced:\n%s", w2.stderr)
	}
	// A pull cancelled by the stop is no failure: no error is logged.
	for _, l := range strings.Split(w2.stderr.String(), "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			t.Errorf("second serve logged an error for a clean stop: %s", l)
		}
	}

	// The client gives up at 60 s and tries again; the retry stores the
	// Rakuten orders. Not before the 60 s (counted from before serve
	// started, so a bound that cannot fail early), and soon after.
	var storedAt time.Time
	for deadline := hungAt.Add(80 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if len(w.storedOrders()["rk"]) >= len(w.orderIDs["rk"]) {
			storedAt = time.Now()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Rakuten's orders not stored within 80 s of the hang: %d of %d\n%s",
				len(w.storedOrders()["rk"]), len(w.orderIDs["rk"]), w.stderr)
		}
	}
	t.Logf("Rakuten stored %.1f s into its hang", storedAt.Sub(hungAt).Seconds())
	if d := storedAt.Sub(began); d < 60*time.Second {
		t.Errorf("Rakuten's orders stored %v after serve started: before the client's 60 s timeout", d)
	}
	if calls := w.rakuten.Calls("searchOrder"); calls != 2 {
		t.Errorf("searchOrder called %d times, want 2: the hung call and its retry", calls)
	}

	// The timed-out call is logged as a warning that says so, and which
	// shop it was (two Rakuten shops can be told apart); the run
	// succeeded and is not counted as a failure.
	retries := logged(w.stderr.String(), "rakuten: retrying")
	if len(retries) != 1 {
		t.Errorf("%d \"rakuten: retrying\" lines, want 1 (for the timeout):\n%s", len(retries), w.stderr)
	} else if r := retries[0]; r["level"] != "WARN" || r["shop"] != "rk" || r["op"] != "searchOrder" || r["attempt"] != 1.0 ||
		!strings.Contains(logString(r["err"]), "Client.Timeout exceeded") {
		t.Errorf("the retry's log line does not tell of searchOrder's timeout: %v", r)
	}
	if synced := logged(w.stderr.String(), "rakuten: synced"); len(synced) != 1 || synced[0]["inserted"] != float64(len(w.orderIDs["rk"])) {
		t.Errorf("want one \"rakuten: synced\" line that inserted %d orders: %v", len(w.orderIDs["rk"]), synced)
	}
	if failed := logged(w.stderr.String(), "rakuten: sync failed"); len(failed) != 0 {
		t.Errorf("the Rakuten pull that timed out and was tried again is logged as failed: %v", failed)
	}
	if n, ok := w.metric("kpibot_sync_errors_total", `shop="rk"`); !ok || n != 0 {
		t.Errorf("kpibot_sync_errors_total{shop=\"rk\"} = %v (found %v), want 0: the retry made the run succeed", n, ok)
	}

	// The LINE group now gets both shops' orders.
	answer = w.ordersToday(t, "01E2ETIMEOUT0000000000000002", "rt-timeout-2")
	if got, ok := totalOrders(answer); !ok || got != w.amazonToday+w.rakutenToday {
		t.Errorf("after the retry: orders today %d (found %v), want %d:\n%s", got, ok, w.amazonToday+w.rakutenToday, answer)
	}
	for shop, want := range map[string]int{"Amazon JP Main": w.amazonToday, "Rakuten Flagship": w.rakutenToday} {
		if got, ok := shopOrders(answer, shop); !ok || got != want {
			t.Errorf("after the retry: %s %d (found %v), want %d:\n%s", shop, got, ok, want, answer)
		}
	}

	// Nothing lost, nothing doubled: the stored orders are those the fakes
	// serve, each once.
	ids := w.storedOrders()
	for shop, want := range w.orderIDs {
		have := ids[shop]
		if !slices.Equal(slices.Sorted(slices.Values(have)), slices.Sorted(slices.Values(want))) {
			t.Errorf("shop %s: stored orders %v, want those the fake serves, each once: %v", shop, have, want)
		}
	}
	if p := w.line.Problems(); len(p) > 0 {
		t.Errorf("the fake LINE refused requests: %v", p)
	}
	w.stop()
	if t.Failed() {
		t.Logf("serve:\n%s\nsecond serve:\n%s", w.stderr, w2.stderr)
	}
	t.Logf("the test took %.1f s", time.Since(began).Seconds())
}

// timeoutTestStart is 08:30 JST on the last day before now that is neither
// a Tuesday nor the 2nd of a month: on those, the catch-up at start would
// send the weekly or the monthly review, due the day before at 10:00.
func timeoutTestStart(now time.Time) time.Time {
	d := now.In(jst).AddDate(0, 0, -1)
	for d.Weekday() == time.Tuesday || d.Day() == 2 {
		d = d.AddDate(0, 0, -1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 8, 30, 0, 0, jst)
}

// ordersToday asks "/kpi 注文数 今日" in the LINE group and returns the
// reply's strings, one a line.
func (w *world) ordersToday(t *testing.T, eventID, replyToken string) string {
	t.Helper()
	w.lineSay(t, eventID, replyToken, "/kpi 注文数 今日")
	return decodedStrings([]byte("[" + strings.ReplaceAll(w.lineReply(replyToken, 10*time.Second), "\n", ",") + "]"))
}

// totalOrders reads the count of the reply's alt text, "注文数 · 全ショップ
// · 今日（現在まで）: N".
func totalOrders(reply string) (int, bool) {
	m := regexp.MustCompile(`今日（現在まで）: (\d+)`).FindStringSubmatch(reply)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// shopOrders reads a shop's count in the reply's by-shop rows: the first
// number after the shop's name.
func shopOrders(reply, shop string) (int, bool) {
	lines := strings.Split(reply, "\n")
	for i, l := range lines {
		if !strings.HasSuffix(l, shop) {
			continue
		}
		for _, v := range lines[i+1:] {
			if n, err := strconv.Atoi(v); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}

// logged returns serve's JSON log lines whose msg is msg.
func logged(log, msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(log, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// logString is a log line's string value; "" for any other.
func logString(v any) string {
	s, _ := v.(string)
	return s
}
