package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Issue 13, item 1: a sync fills the store; a slash command and a LINE
// message get the right numbers back, in the asker's language. The
// expected numbers are counted from what the fakes serve, not asked of
// kpibot.
func TestSyncThenAskInSlackAndLINE(t *testing.T) {
	w := newWorld(t)
	want := w.amazonToday + w.rakutenToday
	if want == 0 {
		t.Skip("just after midnight JST no fake order is placed today yet") // only between 00:00 and 01:37 JST
	}
	w.waitSynced()
	t.Logf("orders today (JST): Amazon %d + Rakuten %d = %d", w.amazonToday, w.rakutenToday, want)

	// Slack: a Japanese support member asks in the hq channel. The hq
	// channel speaks Chinese, and a channel's language wins over the
	// language a question is written in (bot.Bot.lang) …
	answer := w.slash(t, slackUser, hqChannel, "注文数 今日")
	if !valueIs(answer, `数值\*?\s+`, want) {
		t.Errorf("/kpi 注文数 今日 in the Chinese hq channel: want the Chinese answer with %d:\n%s", want, answer)
	}
	// … so she keeps her own language, and is answered in it from then on.
	if answer := w.slash(t, slackUser, hqChannel, "言語 日本語"); !strings.Contains(answer, "日本語") {
		t.Errorf("/kpi 言語 日本語: %s", answer)
	}
	answer = w.slash(t, slackUser, hqChannel, "注文数 今日")
	if !valueIs(answer, `値\*?\s+`, want) || !valueIs(answer, `注文 `, want) || !strings.Contains(answer, "全ショップ") {
		t.Errorf("/kpi 注文数 今日: want a Japanese answer with %d orders:\n%s", want, answer)
	}
	for shop, n := range map[string]int{"Amazon JP Main": w.amazonToday, "Rakuten Flagship": w.rakutenToday} {
		if !valueIs(answer, regexp.QuoteMeta(shop)+`\s+`, n) {
			t.Errorf("/kpi 注文数 今日: want %s %d:\n%s", shop, n, answer)
		}
	}

	// LINE: a Chinese manager in the Japanese jp-support group keeps
	// Chinese, then asks in Chinese.
	w.lineSay(t, "01E2EASK00000000000000000001", "rt-e2e-lang", "/kpi 语言 中文")
	if reply := w.lineReply("rt-e2e-lang", 10*time.Second); !strings.Contains(reply, "中文") {
		t.Errorf("/kpi 语言 中文: %s", reply)
	}
	w.lineSay(t, "01E2EASK00000000000000000002", "rt-e2e-orders", "/kpi 订单数 今天")
	reply := decodedStrings([]byte("[" + strings.ReplaceAll(w.lineReply("rt-e2e-orders", 10*time.Second), "\n", ",") + "]"))
	if !strings.Contains(reply, "订单数") || !strings.Contains(reply, "全部店铺") || !regexp.MustCompile(`\b`+itoa(want)+`\b`).MatchString(reply) {
		t.Errorf("/kpi 订单数 今天 in LINE: want a Chinese answer with %d orders:\n%s", want, reply)
	}
	if strings.Contains(reply, "注文数") {
		t.Errorf("/kpi 订单数 今天 in LINE: answered in Japanese too:\n%s", reply)
	}
	if p := w.line.Problems(); len(p) > 0 {
		t.Errorf("the fake LINE refused requests: %v", p)
	}

	w.stop()
}

// slash sends a slash command and returns the answer's text: inline, or
// posted to response_url when it took longer than Slack's 3 s.
func (w *world) slash(t *testing.T, user, channel, text string) string {
	t.Helper()
	before := len(w.slack.responseBodies())
	code, body, err := w.slashCommand(client, user, channel, text)
	if err != nil || code != http.StatusOK {
		t.Fatalf("/kpi %s: %d %v %s\n%s", text, code, err, body, w.stderr)
	}
	if s := slackText(body); strings.TrimSpace(s) != "" {
		return s
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if r := w.slack.responseBodies(); len(r) > before {
			return slackText(r[before])
		}
	}
	t.Fatalf("/kpi %s: acknowledged, but no answer through response_url within 20 s:\n%s", text, w.stderr)
	return ""
}

// lineSay posts a signed LINE group message and requires 200.
func (w *world) lineSay(t *testing.T, eventID, replyToken, text string) {
	t.Helper()
	code, err := w.postLINE(client, lineGroupMessage(eventID, replyToken, text))
	if err != nil || code != http.StatusOK {
		t.Fatalf("LINE %q: %d %v\n%s", text, code, err, w.stderr)
	}
}
