package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// The digest's title in Chinese and in Japanese (locales/active.*.toml,
// digest.title and digest.title_alerts).
const (
	digestZH = "每日简报"
	digestJA = "デイリーダイジェスト"
)

// The shop teams' chats of TestMorningDigestOnce, besides hqChannel and
// jpGroup: a LINE group for the Rakuten shop in Japanese, a Slack channel
// for the Amazon shop in Chinese.
const (
	shopGroup = "C0e2e00000000000000000000000000d2"
	shopSlack = "C0E2ESHOPZH"
)

// pngMagic starts every PNG file.
var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// Issue 13, item 2: the 09:00 digest arrives once in each configured
// channel, bilingual where configured. serve's clock starts at 08:59:56
// JST on a Friday (KPIBOT_TEST_CLOCK); every channel gets the digest, with
// its chart, within seconds of 09:00, once. A restart at 09:01 on the same
// database sends neither the digest nor the alerts already sent again.
func TestMorningDigestOnce(t *testing.T) {
	start := time.Date(2026, 11, 27, 8, 59, 56, 0, jst) // a Friday, not a holiday
	channels := fmt.Sprintf(`  - platform: slack
    id: %s
    role: hq
  - platform: line
    id: %s
    role: jp-support
  - platform: line
    id: %s
    role: shop
    lang: ja
    shops: [rk]
  - platform: slack
    id: %s
    role: shop
    lang: zh
    shops: [amz]
`, hqChannel, jpGroup, shopGroup, shopSlack)
	began := time.Now()
	w := newWorldWith(t, worldOptions{now: start, clock: true, channels: channels, publicURL: true})
	ready := time.Now()
	t.Logf("serve ready %.1f s after the test began", ready.Sub(began).Seconds())

	// What each chat must get: bilingual for hq and Japan support
	// (bot.ReportLang), the channel's own language for a shop team; the
	// shop team sees only its shop.
	type want struct {
		platform, chat string
		zh, ja         bool
		shop, notShop  string // a shop name the digest shows, one it must not
	}
	wants := []want{
		{"slack", hqChannel, true, true, "Amazon JP Main", ""},
		{"line", jpGroup, true, true, "Rakuten Flagship", ""},
		{"line", shopGroup, false, true, "Rakuten Flagship", "Amazon JP Main"},
		{"slack", shopSlack, true, false, "Amazon JP Main", "Rakuten Flagship"},
	}

	// Every chat gets its digest within 15 s of the start (09:00 is 4 s
	// after it), then nothing more for 2 s.
	var got map[string][]digestMsg
	for deadline := began.Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got = w.digests()
		all := true
		for _, c := range wants {
			all = all && len(got[c.chat]) > 0
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every chat got the digest within 15 s of the start at %s: got %s\nserve:\n%s",
				start.Format(time.TimeOnly), summary(got), w.stderr)
		}
	}
	t.Logf("every digest arrived %.1f s after serve was ready (its clock at %s then)", time.Since(ready).Seconds(),
		start.Add(time.Since(ready)).Format("15:04:05"))
	time.Sleep(2 * time.Second)
	got = w.digests()
	for _, c := range wants {
		msgs := got[c.chat]
		if len(msgs) != 1 {
			t.Errorf("%s %s: %d digests, want 1:\n%s", c.platform, c.chat, len(msgs), dump(msgs))
			continue
		}
		m := msgs[0]
		if m.platform != c.platform {
			t.Errorf("%s: the digest went through %s", c.chat, m.platform)
		}
		if strings.Contains(m.text, digestZH) != c.zh || strings.Contains(m.text, digestJA) != c.ja {
			t.Errorf("%s %s: want Chinese %v, Japanese %v; got:\n%s", c.platform, c.chat, c.zh, c.ja, m.text)
		}
		// The digest is of yesterday, Thursday 2026-11-26.
		if !strings.Contains(m.text, "2026-11-26") && !strings.Contains(m.text, "11/26") && !strings.Contains(m.text, "11月26日") {
			t.Errorf("%s %s: the digest is not of yesterday, 2026-11-26:\n%s", c.platform, c.chat, m.text)
		}
		if !strings.Contains(m.text, c.shop) {
			t.Errorf("%s %s: the digest does not show %s:\n%s", c.platform, c.chat, c.shop, m.text)
		}
		if c.notShop != "" && strings.Contains(m.text, c.notShop) {
			t.Errorf("%s %s: a shop team's digest shows another shop, %s:\n%s", c.platform, c.chat, c.notShop, m.text)
		}
		if !m.chart {
			t.Errorf("%s %s: the digest came without its chart: %s", c.platform, c.chat, m.why)
		}
		if m.platform == "line" && m.retryKey == "" {
			t.Errorf("LINE %s: the digest was pushed without a retry key", c.chat)
		}
	}
	// The LINE charts are served by kpibot at the URL it gave LINE.
	for _, img := range w.line.Images() {
		if img.To != jpGroup && img.To != shopGroup {
			continue
		}
		for _, u := range []string{img.Original, img.Preview} {
			if err := fetchPNG(u); err != nil {
				t.Errorf("LINE %s: the digest's chart %s: %v", img.To, u, err)
			}
		}
	}

	// The alerts the first run sent (the fakes' orders raise some, or
	// none: then this part checks only that a restart sends none out of
	// nothing already sent).
	alerts1 := w.otherMessages()
	t.Logf("first run: digests %s; other messages %d", summary(got), len(alerts1))
	for _, m := range alerts1 {
		t.Logf("  %s %s: %.120q", m.platform, m.chat, m.text)
	}
	if len(alerts1) == 0 {
		t.Log("no alert was sent before the restart: that a restart sends none again is not checked")
	}
	w.stop()
	firstLog := w.stderr.String()

	// Restart at 09:01 on the same database and config: the day's digest
	// was sent, so the catch-up at start sends nothing.
	w.setEnv(testClockEnv(start.Add(64 * time.Second)))
	w.start()
	time.Sleep(5 * time.Second)
	got2 := w.digests()
	for _, c := range wants {
		if n := len(got2[c.chat]); n != 1 {
			t.Errorf("after a restart at 09:01, %s %s has %d digests, want still 1:\n%s", c.platform, c.chat, n, dump(got2[c.chat]))
		}
	}
	// The messages of the second run are those of all beyond the first
	// run's (counted, as the fakes list them by kind, not in order).
	first, left := map[string]bool{}, map[string]int{}
	for _, m := range alerts1 {
		first[m.key()] = true
		left[m.key()]++
	}
	for _, m := range w.otherMessages() {
		if left[m.key()] > 0 {
			left[m.key()]--
			continue
		}
		if first[m.key()] {
			t.Errorf("after a restart, %s %s got again a message the first run sent:\n%s", m.platform, m.chat, m.text)
		} else {
			t.Logf("after the restart, a new message in %s %s: %.300q", m.platform, m.chat, m.text)
		}
	}
	if p := w.line.Problems(); len(p) > 0 {
		t.Errorf("the fake LINE refused requests: %v", p)
	}
	w.stop()
	if t.Failed() {
		t.Logf("serve, first run:\n%s\nserve, after the restart:\n%s", firstLog, w.stderr)
	}
	t.Logf("the test took %.1f s", time.Since(began).Seconds())
}

// digestMsg is a message a chat got: one Slack message (an upload with
// blocks, or a chat.postMessage), or one LINE push.
type digestMsg struct {
	platform, chat string
	text           string // its decoded text: blocks, fallback, altText, Flex contents
	chart          bool   // a Slack upload of a PNG with the message's blocks; a LINE image after the Flex
	why            string // why chart is false
	retryKey       string // a LINE push's X-Line-Retry-Key
}

// messages returns every message the fakes got, in order per platform:
// Slack's uploads and posts, LINE's pushes.
func (w *world) messages() []digestMsg {
	var out []digestMsg
	for _, u := range w.slack.files.Uploads() {
		m := digestMsg{platform: "slack", chat: u.Channel, text: u.AltText + "\n" + decodedStrings(u.Blocks)}
		switch {
		case len(u.Blocks) == 0:
			m.why = "an upload without the message's blocks"
		case !bytes.HasPrefix(u.Data, pngMagic):
			m.why = fmt.Sprintf("the upload %s is not a PNG", u.Filename)
		default:
			m.chart = true
		}
		out = append(out, m)
	}
	for _, p := range w.slack.postsSoFar() {
		out = append(out, digestMsg{platform: "slack", chat: p.Channel,
			text: p.Text + "\n" + decodedStrings(p.Blocks), why: "a chat.postMessage, no upload"})
	}
	for _, s := range w.line.Sent() {
		if s.Op != "pushMessage" {
			continue
		}
		m := digestMsg{platform: "line", chat: s.To, retryKey: s.RetryKey}
		var types []string
		for _, raw := range s.Messages {
			var msg struct {
				Type string `json:"type"`
			}
			json.Unmarshal(raw, &msg)
			types = append(types, msg.Type)
			m.text += decodedStrings(raw) + "\n"
		}
		flex := -1
		for i, ty := range types {
			if ty == "flex" && flex < 0 {
				flex = i
			}
			if ty == "image" && flex >= 0 && i > flex {
				m.chart = true
			}
		}
		if !m.chart {
			m.why = fmt.Sprintf("a push of %v, no image after a Flex", types)
		}
		out = append(out, m)
	}
	return out
}

// key is the chat and text of m.
func (m digestMsg) key() string { return m.platform + " " + m.chat + " " + m.text }

// isDigest reports whether m is a daily digest.
func (m digestMsg) isDigest() bool {
	return strings.Contains(m.text, digestZH) || strings.Contains(m.text, digestJA)
}

// digests returns the digests each chat got so far.
func (w *world) digests() map[string][]digestMsg {
	got := map[string][]digestMsg{}
	for _, m := range w.messages() {
		if m.isDigest() {
			got[m.chat] = append(got[m.chat], m)
		}
	}
	return got
}

// otherMessages returns the messages that are not digests (the alerts).
func (w *world) otherMessages() []digestMsg {
	var out []digestMsg
	for _, m := range w.messages() {
		if !m.isDigest() {
			out = append(out, m)
		}
	}
	return out
}

// summary is how many digests each chat got.
func summary(got map[string][]digestMsg) string {
	var parts []string
	for chat, msgs := range got {
		parts = append(parts, fmt.Sprintf("%s: %d", chat, len(msgs)))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

func dump(msgs []digestMsg) string {
	var b strings.Builder
	for i, m := range msgs {
		fmt.Fprintf(&b, "--- %d (%s, chart %v %s)\n%s\n", i+1, m.platform, m.chart, m.why, m.text)
	}
	return b.String()
}

// fetchPNG gets u and requires a PNG.
func fetchPNG(u string) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(data, pngMagic) {
		return fmt.Errorf("%s, %s, %d bytes, not a PNG", resp.Status, resp.Header.Get("Content-Type"), len(data))
	}
	return nil
}
