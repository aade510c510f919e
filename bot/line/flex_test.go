package line

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func metricReply() bot.Reply {
	return bot.Reply{
		Title:   "返品率 · 全ショップ · 先月",
		Verdict: kpi.VerdictBreach,
		Fields: []bot.Field{
			{Label: "値", Value: "6.1%"},
			{Label: "目標", Value: "未達：目標 ≤ 5.0%"},
			{Label: "前期間", Value: "4.2%（2026-09-01 – 2026-09-30）"},
			{Label: "変化", Value: "+1.9 pt（悪化）"},
		},
		RowsTitle: "ショップ別",
		Rows: []bot.Row{
			{Label: "Rakuten Flagship", Value: "9.8%", Detail: "前期間 5.1%", Verdict: kpi.VerdictBreach},
			{Label: "Amazon JP Main", Value: "3.0%", Detail: "前期間 3.2%", Verdict: kpi.VerdictOK},
			{Label: "Yahoo Shopping Outlet", Value: "4.1%", Detail: "前期間 4.0%", Verdict: kpi.VerdictOK},
		},
		Context: "2026-10-01 – 2026-10-31 · 返品 312 件 / 出荷 5,114 件",
		Notes:   []string{"「先月」を期間として読みました"},
		Lang:    locales.Japanese,
	}
}

func rows(n int) []bot.Row {
	var out []bot.Row
	for i := range n {
		v := kpi.VerdictOK
		if i%3 == 0 {
			v = kpi.VerdictBreach
		}
		out = append(out, bot.Row{Label: fmt.Sprintf("店铺 %03d · 乐天市场旗舰店", i), Value: fmt.Sprintf("%d.%d%%", i%10, i%7),
			Detail: fmt.Sprintf("上期 %d.0%% / 前期間 %d.0%%", i%9, i%9), Verdict: v})
	}
	return out
}

func statusReply() bot.Reply {
	return bot.Reply{Title: "状态 · 全部店铺 · 各指标默认周期", Verdict: kpi.VerdictBreach, Rows: rows(32),
		Context: "达标 20 · 未达标 8 · 其他 4", Lang: locales.Chinese}
}

var rowLabel = regexp.MustCompile(`店铺 \d{3}`)

func more(id string, n int) string {
	if id == "reply.more_sections" {
		return fmt.Sprintf("…ほか %d 件", n)
	}
	return fmt.Sprintf("…ほか %d 行", n)
}

// encode is a message's JSON as LINE receives it.
func encode(t *testing.T, msgs []messaging_api.MessageInterface) []byte {
	t.Helper()
	data, err := json.MarshalIndent(msgs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file; run with -update if the change is intended.\ngot:\n%s", path, got)
	}
}

// pushAll sends messages to the fake LINE, which holds them to LINE's
// model and limits and fails the test otherwise.
func pushAll(t *testing.T, msgs []messaging_api.MessageInterface) {
	t.Helper()
	fake := linetest.NewServer(t)
	c, err := NewClient(ClientConfig{Token: linetest.Token, BaseURL: fake.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Push(context.Background(), userID(1), msgs, RetryKey(t.Name())); err != nil {
		t.Errorf("LINE refused the messages: %v", err)
	}
}

func TestFlexGolden(t *testing.T) {
	bilingual := metricReply()
	bilingual.Title = "退货率 · 全部店铺 · 上月 / 返品率 · 全ショップ · 先月"
	bilingual.Lang = locales.Bilingual
	tests := []struct {
		name  string
		reply bot.Reply
	}{
		{"metric_ja", metricReply()},
		{"bilingual", bilingual},
		{"status_zh", statusReply()},
		{"help_en", bot.Reply{Title: "kpibot help", Text: "Ask for a KPI and a period:\n/kpi returns last week\n/kpi 返品率 先週", Lang: locales.English}},
		{"error_zh", bot.Reply{Text: "没有这个指标：“退款率”。", Err: fmt.Errorf("x"), Lang: locales.Chinese}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := Messages(tt.reply, more)
			golden(t, "flex_"+tt.name, encode(t, msgs))
			pushAll(t, msgs)
		})
	}
}

func TestBreakdownsBecomeCarousels(t *testing.T) {
	tests := []struct {
		rows        int
		wantBubbles int
		wantMore    bool
	}{
		{3, 0, false}, // one bubble
		{6, 0, false},
		{7, 2, false},
		{32, 5, false},
		{500, -1, true}, // as many bubbles as fit in 50 KB, at most 12
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rows), func(t *testing.T) {
			r := statusReply()
			r.Rows = rows(tt.rows)
			msgs := Messages(r, more)
			data := encode(t, msgs)
			var got []struct {
				AltText  string `json:"altText"`
				Contents struct {
					Type     string            `json:"type"`
					Contents []json.RawMessage `json:"contents"`
				} `json:"contents"`
			}
			if err := json.Unmarshal(data, &got); err != nil || len(got) != 1 {
				t.Fatalf("%d messages, %v", len(got), err)
			}
			c := got[0].Contents
			switch {
			case tt.wantBubbles == 0 && c.Type != "bubble":
				t.Errorf("a %s, want one bubble", c.Type)
			case tt.wantBubbles < 0 && (c.Type != "carousel" || len(c.Contents) > maxBubbles):
				t.Errorf("a %s of %d bubbles, want a carousel of at most %d", c.Type, len(c.Contents), maxBubbles)
			case tt.wantBubbles > 0 && (c.Type != "carousel" || len(c.Contents) != tt.wantBubbles):
				t.Errorf("a %s of %d bubbles, want a carousel of %d", c.Type, len(c.Contents), tt.wantBubbles)
			}
			shown := len(rowLabel.FindAllString(string(data), -1))
			hasMore := strings.Contains(string(data), "…ほか")
			if hasMore != tt.wantMore {
				t.Errorf("says more: %v, want %v", hasMore, tt.wantMore)
			}
			if hasMore && !strings.Contains(string(data), fmt.Sprintf("…ほか %d 行", tt.rows-shown)) {
				t.Errorf("shows %d of %d rows but does not say %d more", shown, tt.rows, tt.rows-shown)
			}
			if !hasMore && shown != tt.rows {
				t.Errorf("shows %d of %d rows and says nothing", shown, tt.rows)
			}
			pushAll(t, msgs)
		})
	}
}

func TestHugeRepliesKeepToLINELimits(t *testing.T) {
	long := strings.Repeat("返品が多い商品は検品を見直してください。", 60) // 1,200 characters a text
	r := metricReply()
	r.Title = strings.Repeat("長いタイトル", 400)
	r.Notes = []string{long, long, long, long, long, long, long, long}
	r.Rows = rows(200)
	for i := range r.Rows {
		r.Rows[i].Detail = long
	}
	msgs := Messages(r, more)
	alt := msgs[0].(*messaging_api.FlexMessage).AltText
	if n := len(utf16.Encode([]rune(alt))); n > maxAltTextUnits {
		t.Errorf("altText of %d characters", n)
	}
	pushAll(t, msgs)

	text := bot.Reply{Text: strings.Repeat("一行のヘルプ😀\n", 5000)}
	msgs = Messages(text, more)
	if len(msgs) != maxMessages {
		t.Errorf("%d text messages, want %d", len(msgs), maxMessages)
	}
	for _, m := range msgs {
		s := m.(*messaging_api.TextMessage).Text
		if n := len(utf16.Encode([]rune(s))); n > maxTextUnits {
			t.Errorf("a text of %d UTF-16 units", n)
		}
		if strings.Contains(s, "\ufffd") {
			t.Errorf("a surrogate pair was split")
		}
	}
	pushAll(t, msgs)
}

func TestAltTextHoldsTheKeyNumber(t *testing.T) {
	alt := Messages(metricReply(), more)[0].(*messaging_api.FlexMessage).AltText
	if want := "❌ 返品率 · 全ショップ · 先月: 6.1%"; alt != want {
		t.Errorf("altText %q, want %q", alt, want)
	}
}

// TestFlexIsExplicit walks every component: the SDK sends "flex": 0 unless
// told otherwise, which in a horizontal box squeezes a text to its natural
// width; every child of a horizontal box must say how much room it takes.
func TestFlexIsExplicit(t *testing.T) {
	r := metricReply()
	r.Rows = rows(20)
	var walk func(v any, horizontal bool, at string)
	checked := 0
	walk = func(v any, horizontal bool, at string) {
		switch x := v.(type) {
		case map[string]any:
			if horizontal {
				if f, ok := x["flex"].(float64); !ok || f <= 0 {
					t.Errorf("%s: child of a horizontal box with flex %v", at, x["flex"])
				}
				checked++
			}
			for k, c := range x {
				walk(c, x["type"] == "box" && x["layout"] == "horizontal" && k == "contents", at+"/"+k)
			}
		case []any:
			for i, c := range x {
				walk(c, horizontal, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	var doc any
	json.Unmarshal(encode(t, Messages(r, more)), &doc)
	walk(doc, false, "")
	if checked == 0 {
		t.Fatal("no horizontal box found")
	}
}

func TestSplitUnits(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		most int
		want []string
	}{
		{"abc", 5, 5, []string{"abc"}},
		{"ab\ncd\nef", 5, 5, []string{"ab\ncd", "ef"}},
		{"abcdefgh", 3, 5, []string{"abc", "def", "gh"}},
		{"abcdefgh", 3, 2, []string{"abc", "de…"}},
		{"😀😀😀", 4, 5, []string{"😀😀", "😀"}},
	}
	for _, tt := range tests {
		if got := splitUnits(tt.s, tt.n, tt.most); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("splitUnits(%q, %d, %d) = %q, want %q", tt.s, tt.n, tt.most, got, tt.want)
		}
	}
}

func TestRetryKeyIsAStableUUID(t *testing.T) {
	a, b := RetryKey("answer:01J1"), RetryKey("answer:01J2")
	if a == b || a != RetryKey("answer:01J1") {
		t.Errorf("keys %s %s", a, b)
	}
	if len(a) != 36 || a[14] != '5' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("%s is not a version 5 UUID", a)
	}
}

// A digest's shops are sections: a bubble each after the summary, at most
// 12 bubbles, and a note of how many shops were left out.
func TestSectionsBecomeBubbles(t *testing.T) {
	for _, n := range []int{1, 5, 11, 12, 30, 500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := metricReply()
			r.Sections = nil
			for i := range n {
				r.Sections = append(r.Sections, bot.Section{Title: fmt.Sprintf("店铺 %03d", i), Verdict: kpi.VerdictOK, Rows: rows(8)})
			}
			msgs := Messages(r, more)
			c, ok := msgs[0].(*messaging_api.FlexMessage).Contents.(*messaging_api.FlexCarousel)
			if !ok {
				t.Fatalf("not a carousel")
			}
			// As many as fit in 12 bubbles and 50 KB: all of a few.
			shown := len(c.Contents) - 1
			if shown < 1 || shown > min(n, maxBubbles-1) || n <= 5 && shown != n {
				t.Errorf("%d section bubbles of %d", shown, n)
			}
			data := string(encode(t, msgs))
			if left := n - shown; left > 0 != strings.Contains(data, fmt.Sprintf("…ほか %d 件", left)) {
				t.Errorf("%d sections left out; the note is wrong", left)
			}
			pushAll(t, msgs)
		})
	}
}
