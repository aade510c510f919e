package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot/line/linetest"
)

// burstWebhook is the i-th LINE webhook of a burst, delivered again or not.
func burstWebhook(i int, redelivery bool) (token, body string) {
	token = fmt.Sprintf("rt-burst-%03d", i)
	return token, lineEvent(fmt.Sprintf("01JBURST%019d", i), token, "help", redelivery)
}

// postWebhook posts a signed webhook and reports whether serve took it
// (200); an error is a webhook LINE would deliver again.
func postWebhook(base, body string) (bool, error) {
	code, err := postLINE(base, testLineSecret, body)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("status %d", code)
	}
	return err == nil, err
}

// A SIGTERM in the middle of a burst of LINE webhooks loses none and
// doubles none. serve drains (KPIBOT_DRAIN), answers what it accepted and
// exits cleanly; the webhooks that failed at the door (refused, or cut as
// it closed its connections) are delivered again after a restart, as LINE
// does; in the end every message of the burst is answered exactly once.
func TestServeSIGTERMDuringABurst(t *testing.T) {
	fake := linetest.NewServer(t)
	db := filepath.Join(t.TempDir(), "serve.db")
	vars := map[string]string{
		"KPIBOT_ADDR":               "127.0.0.1:0",
		"KPIBOT_DB":                 db,
		"LINE_CHANNEL_SECRET":       testLineSecret,
		"LINE_CHANNEL_ACCESS_TOKEN": testLineToken,
		"LINE_API_URL":              fake.URL,
		"KPIBOT_DRAIN":              "100ms",
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ready := make(chan string, 1)
	done := make(chan int, 1)
	stderr := &syncBuffer{}
	e := env{
		args: []string{"serve"}, stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr,
		getenv: func(k string) string { return vars[k] },
		now:    func() time.Time { return demoNow },
		ready:  func(addr string) { ready <- addr },
	}
	go func() { done <- run(ctx, e) }()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not listen:\n%s", stderr)
	}

	const n = 200
	var mu sync.Mutex
	var failed []int // to deliver again
	taken := 0
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 500 * time.Microsecond) // a burst over 100 ms
			_, body := burstWebhook(i, false)
			ok, _ := postWebhook(base, body)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				taken++
			} else {
				failed = append(failed, i)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // in the middle of the burst
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM:\n%s", code, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
	for _, want := range []string{"kpibot serve: draining", "kpibot serve: stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("no %q in the log:\n%s", want, stderr)
		}
	}
	if taken == 0 {
		t.Fatalf("no webhook of the burst was taken before serve stopped")
	}

	// LINE delivers the failed ones again, to the restarted bot.
	s := startServe(t, vars)
	for _, i := range failed {
		_, body := burstWebhook(i, true)
		if ok, err := postWebhook(s.base, body); !ok {
			t.Fatalf("redelivery %d: %v", i, err)
		}
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.stderr)
	}

	answers := map[string]int{}
	for _, sent := range fake.Sent() {
		answers[sent.ReplyToken]++
	}
	for i := range n {
		token, _ := burstWebhook(i, false)
		if answers[token] != 1 {
			t.Errorf("message %d answered %d times, want once", i, answers[token])
		}
	}
	t.Logf("%d taken before the SIGTERM took effect, %d delivered again after the restart; each answered once", taken, len(failed))
}
