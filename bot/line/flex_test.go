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

// alertReply is laid out as an alert is: one KPI out of bounds, what to
// do, and the buttons to do it.
func alertReply() bot.Reply {
	return bot.Reply{
		Title:   "【重大】Rakuten Flagship：返品率が目標未達です",
		Verdict: kpi.VerdictBreach,
		Fields: []bot.Field{
			{Label: "値", Value: "9.8%（返品 52 件 / 出荷 531 件）"},
			{Label: "目標", Value: "≤ 5.0%"},
			{Label: "発生", Value: "2026-11-28 11:55"},
		},
		Context: "最終データ 2026-11-28 11:50",
		Notes:   []string{"操作：/kpi 確認 12 · /kpi スヌーズ 12 2時間 · /kpi 解決 12"},
		Buttons: []bot.Button{
			{Label: "確認", Command: "/kpi ack 12"},
			{Label: "2時間スヌーズ", Command: "/kpi snooze 12 2h"},
			{Label: "明日9時までスヌーズ", Command: "/kpi snooze 12 tomorrow"},
			{Label: "解決", Command: "/kpi resolve 12"},
		},
		Lang: locales.Japanese,
	}
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
		{"alert_ja", alertReply()},
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

// flexButton is a button of a bubble's footer as LINE receives it.
type flexButton struct {
	Type   string `json:"type"`
	Style  string `json:"style"`
	Height string `json:"height"`
	Flex   *int   `json:"flex"`
	Action struct {
		Type        string  `json:"type"`
		Label       string  `json:"label"`
		Data        string  `json:"data"`
		DisplayText string  `json:"displayText"`
		Text        *string `json:"text"`
		InputOption *string `json:"inputOption"`
	} `json:"action"`
}

// footers returns the buttons in each bubble's footer of the only Flex
// message, a bubble or a carousel.
func footers(t *testing.T, msgs []messaging_api.MessageInterface) [][]flexButton {
	t.Helper()
	type bubble struct {
		Footer *struct {
			Type     string       `json:"type"`
			Layout   string       `json:"layout"`
			Contents []flexButton `json:"contents"`
		} `json:"footer"`
	}
	var got []struct {
		Type     string `json:"type"`
		Contents struct {
			bubble
			Type     string   `json:"type"`
			Contents []bubble `json:"contents"`
		} `json:"contents"`
	}
	if err := json.Unmarshal(encode(t, msgs), &got); err != nil || len(got) != 1 || got[0].Type != "flex" {
		t.Fatalf("want one Flex message: %v", err)
	}
	bubbles := []bubble{got[0].Contents.bubble}
	if got[0].Contents.Type == "carousel" {
		bubbles = got[0].Contents.Contents
	}
	var out [][]flexButton
	for _, b := range bubbles {
		if b.Footer == nil {
			out = append(out, nil)
			continue
		}
		out = append(out, b.Footer.Contents)
	}
	return out
}

func TestButtonsPostBackTheirCommands(t *testing.T) {
	msgs := Messages(alertReply(), more)
	fs := footers(t, msgs)
	if len(fs) != 1 || len(fs[0]) != 4 {
		t.Fatalf("footer buttons %+v, want 4 in one bubble", fs)
	}
	for i, b := range fs[0] {
		want := alertReply().Buttons[i]
		a := b.Action
		if b.Type != "button" || b.Height != "sm" || b.Flex == nil {
			t.Errorf("button %d: type %q height %q flex %v", i, b.Type, b.Height, b.Flex)
		}
		if wantStyle := map[bool]string{true: "primary", false: "secondary"}[i == 0]; b.Style != wantStyle {
			t.Errorf("button %d: style %q, want %q", i, b.Style, wantStyle)
		}
		if a.Type != "postback" || a.Data != "kpi:"+want.Command || a.Label != want.Label || a.DisplayText != want.Label {
			t.Errorf("button %d: action %+v, want a postback of kpi:%s shown as %q", i, a, want.Command, want.Label)
		}
		if a.Text != nil || a.InputOption != nil {
			t.Errorf("button %d: text or inputOption set: %+v", i, a)
		}
	}
	// The plain text has no buttons; the note says the commands.
	plain := string(encode(t, TextMessages(alertReply())))
	if strings.Contains(plain, "postback") || !strings.Contains(plain, "/kpi 確認 12") {
		t.Errorf("plain text %s", plain)
	}
}

func TestButtonsKeepToLINELimits(t *testing.T) {
	r := alertReply()
	r.Buttons = []bot.Button{
		{Label: "明日の朝9時までスヌーズして様子を見る（営業時間内）", Command: "/kpi snooze 12 tomorrow"}, // 27 characters
		{Label: "", Command: "/kpi ack 12"},                          // no label: the command shows
		{Label: "長すぎる", Command: "/kpi " + strings.Repeat("x", 300)}, // data over 300: left out
		{Label: "何もしない", Command: "  "},                              // no command: left out
		{Label: "  解決\n する ", Command: "/kpi resolve 12"},
	}
	r.Rows = rows(30) // a carousel: the buttons stay in the main bubble
	msgs := Messages(r, more)
	fs := footers(t, msgs)
	if len(fs) < 2 {
		t.Fatalf("%d bubbles, want a carousel", len(fs))
	}
	for i, f := range fs[1:] {
		if f != nil {
			t.Errorf("bubble %d has a footer", i+1)
		}
	}
	var labels, shown []string
	for _, b := range fs[0] {
		if n := len([]rune(b.Action.Label)); n > maxButtonLabel {
			t.Errorf("label %q of %d characters", b.Action.Label, n)
		}
		if n := len([]rune(b.Action.Data)); n > maxPostbackData {
			t.Errorf("data of %d characters", n)
		}
		labels = append(labels, b.Action.Label)
		shown = append(shown, b.Action.DisplayText)
	}
	want := []string{"明日の朝9時までスヌーズして様子を見る…", "/kpi ack 12", "解決 する"}
	if fmt.Sprint(labels) != fmt.Sprint(want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if shown[0] != oneLine(r.Buttons[0].Label) {
		t.Errorf("displayText %q, want the whole label", shown[0])
	}
	pushAll(t, msgs)

	// A reply of text alone keeps its buttons: it becomes a bubble.
	text := bot.Reply{Title: "アラート #12", Text: "確認しますか？", Buttons: alertReply().Buttons[:1], Lang: locales.Japanese}
	msgs = Messages(text, more)
	if fs := footers(t, msgs); len(fs) != 1 || len(fs[0]) != 1 {
		t.Errorf("footers %+v, want one button", fs)
	}
	pushAll(t, msgs)
	untitled := bot.Reply{Text: "確認しますか？", Buttons: alertReply().Buttons[:1]}
	pushAll(t, Messages(untitled, more))
}
