package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// moreLines stands for the localized "…and N more lines".
func moreLines(n int) string { return fmt.Sprintf("…and %d more lines", n) }

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/slack -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// indented is the blocks as indented JSON, without HTML escaping so that the
// golden files show Slack's own escapes (&amp;) readably.
func indented(t *testing.T, blocks []slackapi.Block) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkBlocks asserts Slack's limits on blocks and that slack-go marshals
// them, and reads them back, without error.
func checkBlocks(t *testing.T, blocks []slackapi.Block) {
	t.Helper()
	if len(blocks) > blockLimit {
		t.Errorf("%d blocks, want at most %d", len(blocks), blockLimit)
	}
	data, err := json.Marshal(slackapi.Blocks{BlockSet: blocks})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back slackapi.Blocks
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if len(back.BlockSet) != len(blocks) {
		t.Errorf("read back %d blocks, want %d", len(back.BlockSet), len(blocks))
	}
	text := func(where string, o *slackapi.TextBlockObject, limit int) {
		t.Helper()
		if o == nil {
			t.Errorf("%s: no text", where)
			return
		}
		if err := o.Validate(); err != nil {
			t.Errorf("%s: %v", where, err)
		}
		if n := utf8.RuneCountInString(o.Text); n > limit {
			t.Errorf("%s: %d characters, want at most %d", where, n, limit)
		}
		if strings.TrimSpace(o.Text) == "" {
			t.Errorf("%s: blank text", where)
		}
		if o.Type == slackapi.MarkdownType {
			if strings.ContainsAny(o.Text, "<>") {
				t.Errorf("%s: unescaped < or > in %q", where, o.Text)
			}
			if !o.Verbatim {
				t.Errorf("%s: mrkdwn not verbatim", where)
			}
		}
	}
	actionIDs := map[string]bool{} // unique within the message
	buttonsSeen := false           // the buttons come last
	for i, b := range blocks {
		where := fmt.Sprintf("block %d (%s)", i, b.BlockType())
		if _, ok := b.(*slackapi.ActionBlock); !ok && buttonsSeen {
			t.Errorf("%s after the buttons", where)
		}
		switch b := b.(type) {
		case *slackapi.HeaderBlock:
			if b.Text == nil || b.Text.Type != slackapi.PlainTextType {
				t.Errorf("%s: header text must be plain_text", where)
			}
			text(where, b.Text, headerTextLimit)
		case *slackapi.SectionBlock:
			if b.Text == nil && len(b.Fields) == 0 {
				t.Errorf("%s: neither text nor fields", where)
			}
			if b.Text != nil {
				text(where, b.Text, sectionTextLimit)
			}
			if len(b.Fields) > sectionFieldsLimit {
				t.Errorf("%s: %d fields, want at most %d", where, len(b.Fields), sectionFieldsLimit)
			}
			for j, f := range b.Fields {
				text(fmt.Sprintf("%s field %d", where, j), f, fieldTextLimit)
			}
		case *slackapi.ContextBlock:
			els := b.ContextElements.Elements
			if len(els) == 0 || len(els) > contextElemsLimit {
				t.Errorf("%s: %d elements, want 1 to %d", where, len(els), contextElemsLimit)
			}
			for j, e := range els {
				o, ok := e.(*slackapi.TextBlockObject)
				if !ok {
					t.Errorf("%s element %d: %T", where, j, e)
					continue
				}
				text(fmt.Sprintf("%s element %d", where, j), o, sectionTextLimit)
			}
		case *slackapi.ActionBlock:
			buttonsSeen = true
			if b.Elements == nil || len(b.Elements.ElementSet) == 0 || len(b.Elements.ElementSet) > buttonsPerBlock {
				t.Errorf("%s: want 1 to %d buttons", where, buttonsPerBlock)
				continue
			}
			for j, e := range b.Elements.ElementSet {
				where := fmt.Sprintf("%s button %d", where, j)
				btn, ok := e.(*slackapi.ButtonBlockElement)
				if !ok {
					t.Errorf("%s: %T", where, e)
					continue
				}
				if btn.Text == nil || btn.Text.Type != slackapi.PlainTextType {
					t.Errorf("%s: text must be plain_text", where)
				}
				text(where, btn.Text, buttonTextLimit)
				if n := utf8.RuneCountInString(btn.Value); n == 0 || n > buttonValueLimit {
					t.Errorf("%s: value of %d characters, want 1 to %d", where, n, buttonValueLimit)
				}
				if id := btn.ActionID; !strings.HasPrefix(id, actionPrefix) || len(id) > 255 || actionIDs[id] {
					t.Errorf("%s: action_id %q not kpi:…, too long or not unique", where, id)
				}
				actionIDs[btn.ActionID] = true
			}
		default:
			t.Errorf("%s: unexpected block %T", where, b)
		}
	}
}

// sectionTexts is the text of every section block.
func sectionTexts(blocks []slackapi.Block) []string {
	var out []string
	for _, b := range blocks {
		if s, ok := b.(*slackapi.SectionBlock); ok && s.Text != nil {
			out = append(out, s.Text.Text)
		}
	}
	return out
}

// contextText is the text of a context block's elements, one a line.
func contextText(t *testing.T, b slackapi.Block) string {
	t.Helper()
	c, ok := b.(*slackapi.ContextBlock)
	if !ok {
		t.Fatalf("block is %T, want a context block", b)
	}
	var parts []string
	for _, e := range c.ContextElements.Elements {
		parts = append(parts, e.(*slackapi.TextBlockObject).Text)
	}
	return strings.Join(parts, "\n")
}

var (
	metricReply = bot.Reply{
		Title:   "Return rate · Rakuten · last month",
		Verdict: kpi.VerdictBreach,
		Fields: []bot.Field{
			{Label: "Value", Value: "3.4%"},
			{Label: "Target", Value: "❌ above the target of ≤ 3%"},
			{Label: "Previous", Value: "2.9% (2026-09-01 – 2026-09-30)"},
			{Label: "Change", Value: "+0.5 pt, worse"},
		},
		RowsTitle: "By shop",
		Rows: []bot.Row{
			{Label: "Rakuten Main", Value: "4.1%", Detail: "prev 3.2%", Verdict: kpi.VerdictBreach},
			{Label: "Rakuten Outlet", Value: "2.2%", Detail: "prev 2.5%", Verdict: kpi.VerdictOK},
			{Label: "Rakuten B&B", Value: "—", Detail: "prev 1.0%", Verdict: kpi.VerdictFew},
		},
		Context: "2026-10-01 – 2026-10-31 · 1,204 orders",
		Notes:   []string{"\"rakten\" read as \"rakuten\""},
	}
	bilingualReply = bot.Reply{
		Title:   "退货率 · 乐天 · 上个月 / 返品率 · 楽天 · 先月",
		Verdict: kpi.VerdictOK,
		Fields: []bot.Field{
			{Label: "数值 / 値", Value: "2.1%"},
			{Label: "目标 / 目標", Value: "✅ 达标 ≤ 3% / 目標達成 ≤ 3%"},
			{Label: "上期 / 前期", Value: "2.4%"},
			{Label: "变化 / 変化", Value: "−0.3 pt，变好 / 改善"},
		},
		RowsTitle: "按店铺 / ショップ別",
		Rows: []bot.Row{
			{Label: "乐天旗舰店 / 楽天本店", Value: "1.9%", Detail: "上期 2.2% / 前期 2.2%", Verdict: kpi.VerdictOK},
			{Label: "乐天奥特莱斯 / 楽天アウトレット", Value: "2.6%", Detail: "上期 2.7% / 前期 2.7%", Verdict: kpi.VerdictOK},
			{Label: "雅虎 / ヤフー", Value: "—", Detail: "样本不足 / サンプル不足", Verdict: kpi.VerdictNoData},
		},
		Context: "2026-10-01 – 2026-10-31 · 订单 812 / 注文 812件",
		Notes:   []string{"「楽天」按乐天理解 / 「乐天」を楽天と解釈しました", "忽略了「请」/ 「ください」は無視しました"},
	}
	// alertReply is an alert as bot/alert writes it, with its buttons.
	alertReply = bot.Reply{
		Title:   "[critical] Rakuten Flagship: return rate is off target",
		Verdict: kpi.VerdictBreach,
		Fields: []bot.Field{
			{Label: "return rate", Value: "9.8%"},
			{Label: "Target", Value: "≤ 5% (clears at ≤ 4.5%)"},
			{Label: "alert", Value: "#12"},
			{Label: "since", Value: "10:15 JST"},
		},
		Context: "last data received 11:55 JST",
		Notes: []string{
			"What to do: check the returns reasons of the last 7 days and the listing's size chart.",
			"Act on it: /kpi ack 12 · /kpi snooze 12 2h · /kpi resolve 12",
		},
		Buttons: []bot.Button{
			{Label: "Acknowledge", Command: "/kpi ack 12"},
			{Label: "Snooze 2 h", Command: "/kpi snooze 12 2h"},
			{Label: "Until 9:00 tomorrow", Command: "/kpi snooze 12 tomorrow"},
			{Label: "Resolve", Command: "/kpi resolve 12"},
		},
		Lang: "en",
	}
	errorReply = bot.Reply{
		Text: "I don't know the metric \"retrns\". Type /kpi list to see them all.",
		Err:  errors.New("unknown metric"),
	}
	helpReply = bot.Reply{
		Title: "kpibot — your shops' KPIs in chat",
		Text: `Ask in Chinese, Japanese or English, in any order:
/kpi <metric> [shop | platform] [period] [vs <period>]
/kpi status [shop | platform] [period]    every metric as a traffic light
/kpi list                                 every metric by area
/kpi lang zh|ja|en                        the language I answer you in
/kpi help <metric or command>             more about one of them

Examples:
/kpi returns last month
/kpi gmv rakuten this week vs last week
/kpi first response time last 7 days
/kpi status amazon

Periods: today, yesterday, this week, last week, this month, last month,
last 7 days, October, 2026-10, 2026-10-05, 2026/10/01-2026/10/15`,
	}
)

func TestBlocksGolden(t *testing.T) {
	tests := []struct {
		name  string
		reply bot.Reply
	}{
		{"metric", metricReply},
		{"bilingual", bilingualReply},
		{"error", errorReply},
		{"help_en", helpReply},
		{"alert", alertReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks := Blocks(tt.reply, moreLines)
			checkBlocks(t, blocks)
			golden(t, tt.name+".golden.json", indented(t, blocks))
		})
	}
}

// rowRE finds the numbered shop of a row.
var rowRE = regexp.MustCompile(`shop-(\d{3})`)

func TestBlocksRowLimits(t *testing.T) {
	// A long label: Chinese and Japanese (three bytes a character) and an
	// ampersand that escaping makes five characters.
	long := strings.Repeat("乐天旗舰店・楽天本店&", 30)
	tests := []struct {
		name     string
		label    string
		wantMore bool
	}{
		{"long rows are cut", long, true},
		{"short rows all fit", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bot.Reply{
				Title:     "Status · all shops · yesterday",
				Verdict:   kpi.VerdictBreach,
				Fields:    []bot.Field{{Label: "Value", Value: "12"}},
				RowsTitle: "By shop",
				Context:   "2026-10-05 · 500 shops",
				Notes:     []string{"a note"},
			}
			for i := range 500 {
				r.Rows = append(r.Rows, bot.Row{
					Label: fmt.Sprintf("shop-%03d %s", i, tt.label), Value: "3.4%", Detail: "prev 2.9%",
					Verdict: []kpi.Verdict{kpi.VerdictOK, kpi.VerdictBreach, ""}[i%3],
				})
			}
			blocks := Blocks(r, moreLines)
			checkBlocks(t, blocks)

			shown, bigInBytes := 0, false
			for _, s := range sectionTexts(blocks) {
				if len(s) > sectionTextLimit {
					bigInBytes = true // Slack counts characters, not bytes
				}
				for _, m := range rowRE.FindAllStringSubmatch(s, -1) {
					if want := fmt.Sprintf("%03d", shown); m[1] != want {
						t.Fatalf("row %s shown where row %s was due", m[1], want)
					}
					shown++
				}
			}
			if tt.label != "" && !bigInBytes {
				t.Error("no section is longer than 3,000 bytes: are sections packed by bytes?")
			}
			last := contextText(t, blocks[len(blocks)-1])
			t.Logf("%d rows shown in %d blocks; last block %q", shown, len(blocks), last)
			if !tt.wantMore {
				if shown != 500 || len(blocks) > blockLimit {
					t.Errorf("%d rows shown in %d blocks, want all 500", shown, len(blocks))
				}
				if last != "• a note" {
					t.Errorf("last block %q, want the note", last)
				}
				return
			}
			if len(blocks) != blockLimit {
				t.Errorf("%d blocks, want all %d used", len(blocks), blockLimit)
			}
			if want := moreLines(500 - shown); last != want {
				t.Errorf("last block %q, want %q (%d rows shown)", last, want, shown)
			}
			if _, ok := blocks[0].(*slackapi.HeaderBlock); !ok {
				t.Error("the header was dropped")
			}
			for _, want := range []string{"2026-10-05 · 500 shops", "• a note"} {
				found := false
				for _, b := range blocks[:len(blocks)-1] {
					if c, ok := b.(*slackapi.ContextBlock); ok && contextText(t, c) == want {
						found = true
					}
				}
				if !found {
					t.Errorf("context %q was dropped", want)
				}
			}
		})
	}
}

func TestBlocksTextLimits(t *testing.T) {
	var lines []string
	for i := 0; len(strings.Join(lines, "\n")) < 10_000; i++ {
		lines = append(lines, fmt.Sprintf("%04d %s", i, strings.Repeat("x", 90)))
	}
	multi := strings.Join(lines, "\n")
	single := strings.Repeat("ab&<", 2500) // one line of 10,000 characters, 25,000 once escaped
	tests := []struct {
		name, text string
		sep        string // what joins the sections back into the text
		minBlocks  int
	}{
		{"lines", multi, "\n", 4},
		{"one long line", single, "", 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := utf8.RuneCountInString(tt.text); n < 10_000 {
				t.Fatalf("text of %d characters", n)
			}
			blocks := Blocks(bot.Reply{Text: tt.text}, moreLines)
			checkBlocks(t, blocks)
			if len(blocks) < tt.minBlocks {
				t.Errorf("%d blocks, want at least %d", len(blocks), tt.minBlocks)
			}
			texts := sectionTexts(blocks)
			if len(texts) != len(blocks) {
				t.Errorf("%d sections in %d blocks", len(texts), len(blocks))
			}
			if got := strings.Join(texts, tt.sep); got != escape(tt.text) {
				t.Errorf("sections do not join back into the text:\n%.200s…", got)
			}
		})
	}

	t.Run("too long for 50 blocks", func(t *testing.T) {
		var lines []string
		for i := range 2000 {
			lines = append(lines, fmt.Sprintf("line-%04d %s", i, strings.Repeat("y", 200)))
		}
		blocks := Blocks(bot.Reply{Text: strings.Join(lines, "\n")}, moreLines)
		checkBlocks(t, blocks)
		shown := 0
		for _, s := range sectionTexts(blocks) {
			shown += strings.Count(s, "line-")
		}
		if want := moreLines(2000 - shown); contextText(t, blocks[len(blocks)-1]) != want {
			t.Errorf("last block %q, want %q", contextText(t, blocks[len(blocks)-1]), want)
		}
		if len(blocks) != blockLimit {
			t.Errorf("%d blocks, want %d", len(blocks), blockLimit)
		}
	})

	t.Run("more is nil", func(t *testing.T) {
		blocks := Blocks(bot.Reply{Text: strings.Repeat("z", 200_000)}, nil)
		checkBlocks(t, blocks)
		if got := contextText(t, blocks[len(blocks)-1]); got != "… +1" {
			t.Errorf("last block %q, want %q", got, "… +1")
		}
	})
}

func TestBlocksTitle(t *testing.T) {
	title := strings.Repeat("退货率 返品率 ", 50) // 300 characters
	tests := []struct {
		name    string
		reply   bot.Reply
		want    string // the header's text; empty: no header
		wantCut bool
	}{
		{"long title", bot.Reply{Title: title, Verdict: kpi.VerdictOK}, "", true},
		{"long title without verdict", bot.Reply{Title: title}, "", true},
		{"short title with mark", bot.Reply{Title: "GMV · all shops · today", Verdict: kpi.VerdictInfo}, "ℹ️ GMV · all shops · today", false},
		{"no escaping in plain text", bot.Reply{Title: "B&B <shop>"}, "B&B <shop>", false},
		{"title on one line", bot.Reply{Title: "a\nb", Verdict: kpi.VerdictNoData}, "➖ a b", false},
		{"no title", bot.Reply{Verdict: kpi.VerdictOK, Text: "x"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks := Blocks(tt.reply, moreLines)
			checkBlocks(t, blocks)
			h, ok := blocks[0].(*slackapi.HeaderBlock)
			if tt.want == "" && !tt.wantCut {
				if ok {
					t.Errorf("header %q, want none", h.Text.Text)
				}
				return
			}
			if !ok {
				t.Fatalf("first block %T, want a header", blocks[0])
			}
			got := h.Text.Text
			if tt.wantCut {
				if n := utf8.RuneCountInString(got); n != headerTextLimit || !strings.HasSuffix(got, "…") {
					t.Errorf("header of %d characters %q, want %d ending in …", n, got, headerTextLimit)
				}
				if m := bot.Mark(tt.reply.Verdict); m != "" && !strings.HasPrefix(got, m+" ") {
					t.Errorf("header %q does not start with %s", got, m)
				}
				return
			}
			if got != tt.want {
				t.Errorf("header %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBlocksEscaping(t *testing.T) {
	const evil = "<@U123> & <http://x|y>"
	const want = "&lt;@U123&gt; &amp; &lt;http://x|y&gt;"
	r := bot.Reply{
		Title:     "t",
		Fields:    []bot.Field{{Label: evil, Value: evil}},
		RowsTitle: evil,
		Rows:      []bot.Row{{Label: evil, Value: "1", Detail: "<!here>", Verdict: kpi.VerdictOK}},
		Context:   evil,
		Notes:     []string{evil},
		Text:      evil + "\n<!channel>",
	}
	blocks := Blocks(r, moreLines)
	checkBlocks(t, blocks)
	data, err := json.Marshal(slackapi.Blocks{BlockSet: blocks})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, b := range blocks {
		switch b := b.(type) {
		case *slackapi.SectionBlock:
			if b.Text != nil {
				all = append(all, b.Text.Text)
			}
			for _, f := range b.Fields {
				all = append(all, f.Text)
			}
		case *slackapi.ContextBlock:
			all = append(all, contextText(t, b))
		}
	}
	joined := strings.Join(all, "\n")
	if c := strings.Count(joined, want); c != 7 {
		t.Errorf("escaped text found %d times, want 7 (field label and value, rows title, row, context, note, text):\n%s", c, joined)
	}
	wantRow := "✅ " + want + "  1  (&lt;!here&gt;)"
	if !strings.Contains(joined, wantRow) {
		t.Errorf("row %q not in:\n%s", wantRow, joined)
	}
	if !strings.Contains(joined, "&lt;!channel&gt;") {
		t.Errorf("<!channel> not escaped:\n%s", joined)
	}
	if bytes.Contains(data, []byte("<@U123>")) || bytes.Contains(data, []byte(`\u003c@U123\u003e`)) {
		t.Errorf("raw mention in the JSON: %s", data)
	}
}

func TestBlocksFields(t *testing.T) {
	var fields []bot.Field
	for i := range 25 {
		fields = append(fields, bot.Field{Label: fmt.Sprintf("F%d", i), Value: strings.Repeat("v", 3000)})
	}
	fields = append(fields, bot.Field{}) // empty: left out
	blocks := Blocks(bot.Reply{Fields: fields}, moreLines)
	checkBlocks(t, blocks)
	var counts []int
	for _, b := range blocks {
		counts = append(counts, len(b.(*slackapi.SectionBlock).Fields))
	}
	if fmt.Sprint(counts) != "[10 10 5]" {
		t.Errorf("fields per section %v, want [10 10 5]", counts)
	}
	f := blocks[0].(*slackapi.SectionBlock).Fields[0].Text
	if !strings.HasPrefix(f, "*F0*\nvvv") || !strings.HasSuffix(f, "v…") || utf8.RuneCountInString(f) != fieldTextLimit {
		t.Errorf("field %.20q… of %d characters, want *F0* cut to %d", f, utf8.RuneCountInString(f), fieldTextLimit)
	}
}

func TestBlocksEmpty(t *testing.T) {
	if blocks := Blocks(bot.Reply{Text: " \n\n "}, moreLines); len(blocks) != 0 {
		t.Errorf("%d blocks for a blank reply, want none", len(blocks))
	}
}

func TestFallbackText(t *testing.T) {
	tests := []struct {
		name  string
		reply bot.Reply
		want  string
	}{
		{"title with verdict and value", metricReply, "❌ Return rate · Rakuten · last month: 3.4%"},
		{"bilingual", bilingualReply, "✅ 退货率 · 乐天 · 上个月 / 返品率 · 楽天 · 先月: 2.1%"},
		{"title without verdict", helpReply, "kpibot — your shops' KPIs in chat"},
		{"error: first line of text", errorReply, "I don't know the metric \"retrns\". Type /kpi list to see them all."},
		{"first non-blank line", bot.Reply{Text: "\n  \nfirst line\nsecond line"}, "first line"},
		{"escaped", bot.Reply{Text: "<!channel> & <@U123>"}, "&lt;!channel&gt; &amp; &lt;@U123&gt;"},
		{"long", bot.Reply{Title: strings.Repeat("あ", 300), Verdict: kpi.VerdictFew}, "⚠️ " + strings.Repeat("あ", 146) + "…"},
		{"long escaped", bot.Reply{Text: strings.Repeat("&", 100)}, strings.Repeat("&amp;", 29) + "…"},
		{"empty", bot.Reply{}, ""},
		{"mentions", bot.Reply{Title: "<升级>", Mentions: []string{"U0123ABCD", "<!channel>", "W42"}}, "<@U0123ABCD> <@W42> &lt;升级&gt;"},
		{"mentions and a long title", bot.Reply{Title: strings.Repeat("あ", 300), Mentions: []string{"U0123ABCD"}},
			"<@U0123ABCD> " + strings.Repeat("あ", 136) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FallbackText(tt.reply)
			if got != tt.want {
				t.Errorf("FallbackText = %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > fallbackTextLimit {
				t.Errorf("%d characters, want at most %d", n, fallbackTextLimit)
			}
		})
	}
}

// buttonsOf is the buttons of blocks, in order.
func buttonsOf(t *testing.T, blocks []slackapi.Block) []*slackapi.ButtonBlockElement {
	t.Helper()
	var out []*slackapi.ButtonBlockElement
	for _, b := range blocks {
		if a, ok := b.(*slackapi.ActionBlock); ok {
			for _, e := range a.Elements.ElementSet {
				out = append(out, e.(*slackapi.ButtonBlockElement))
			}
		}
	}
	return out
}

func TestBlocksButtons(t *testing.T) {
	t.Run("alert", func(t *testing.T) {
		blocks := Blocks(alertReply, moreLines)
		checkBlocks(t, blocks)
		if _, ok := blocks[len(blocks)-1].(*slackapi.ActionBlock); !ok {
			t.Fatalf("last block %T, want the buttons", blocks[len(blocks)-1])
		}
		var got []string
		for _, b := range buttonsOf(t, blocks) {
			got = append(got, fmt.Sprintf("%s=%s|%s|%s", b.ActionID, b.Value, b.Text.Text, b.Style))
		}
		want := []string{"kpi:0=/kpi ack 12|Acknowledge|primary", "kpi:1=/kpi snooze 12 2h|Snooze 2 h|",
			"kpi:2=/kpi snooze 12 tomorrow|Until 9:00 tomorrow|", "kpi:3=/kpi resolve 12|Resolve|"}
		if !slices.Equal(got, want) {
			t.Errorf("buttons\n%q\nwant\n%q", got, want)
		}
	})

	t.Run("limits", func(t *testing.T) {
		var buttons []bot.Button
		for i := range 30 {
			buttons = append(buttons, bot.Button{Label: fmt.Sprintf("b%02d %s", i, strings.Repeat("確認", 50)), Command: fmt.Sprintf("/kpi ack %d", i)})
		}
		buttons[1].Command = " "                                 // no command: left out
		buttons[2].Command = "/kpi " + strings.Repeat("x", 2000) // too long a value: left out
		buttons[3].Label = ""                                    // no label: its command
		buttons[4].Label = "<b> & \n more"                       // plain text, as it is, on one line
		blocks := Blocks(bot.Reply{Title: "t", Buttons: buttons}, moreLines)
		checkBlocks(t, blocks)
		got := buttonsOf(t, blocks)
		if len(blocks) != 1+maxButtons/buttonsPerBlock || len(got) != maxButtons {
			t.Fatalf("%d blocks, %d buttons; want 1+%d blocks, %d buttons", len(blocks), len(got), maxButtons/buttonsPerBlock, maxButtons)
		}
		if got[0].ActionID != "kpi:0" || got[1].ActionID != "kpi:3" || got[24].ActionID != "kpi:26" {
			t.Errorf("action ids %s %s … %s, want kpi:0 kpi:3 … kpi:26 (a button's index in the reply)", got[0].ActionID, got[1].ActionID, got[24].ActionID)
		}
		if got[1].Text.Text != "/kpi ack 3" || got[2].Text.Text != "<b> & more" {
			t.Errorf("labels %q %q", got[1].Text.Text, got[2].Text.Text)
		}
		if l := got[0].Text.Text; utf8.RuneCountInString(l) != buttonTextLimit || !strings.HasSuffix(l, "…") {
			t.Errorf("label of %d characters %q, want %d ending in …", utf8.RuneCountInString(l), l, buttonTextLimit)
		}
	})

	t.Run("within 50 blocks", func(t *testing.T) {
		r := alertReply
		r.Rows = nil
		for i := range 500 {
			r.Rows = append(r.Rows, bot.Row{Label: fmt.Sprintf("shop-%03d %s", i, strings.Repeat("乐天旗舰店&", 60)), Value: "3.4%"})
		}
		blocks := Blocks(r, moreLines)
		checkBlocks(t, blocks)
		if len(blocks) != blockLimit {
			t.Errorf("%d blocks, want all %d used", len(blocks), blockLimit)
		}
		if n := len(buttonsOf(t, blocks)); n != 4 {
			t.Errorf("%d buttons kept, want 4", n)
		}
		shown := 0
		for _, s := range sectionTexts(blocks) {
			shown += len(rowRE.FindAllString(s, -1))
		}
		if got, want := contextText(t, blocks[len(blocks)-2]), moreLines(500-shown); got != want {
			t.Errorf("block before the buttons %q, want %q", got, want)
		}
	})

	t.Run("none", func(t *testing.T) {
		for _, b := range Blocks(metricReply, moreLines) {
			if _, ok := b.(*slackapi.ActionBlock); ok {
				t.Error("an actions block in a reply without buttons")
			}
		}
	})
}

// TestBlocksMentions: the reply's mentions, and only member ids among
// them, mention people in a section under the header.
func TestBlocksMentions(t *testing.T) {
	blocks := Blocks(bot.Reply{Title: "升级 <@U999>", Mentions: []string{"U0123ABCD", "<!here>", "W42"}, Text: "<!channel>"}, nil)
	data, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Type string `json:"type"`
		Text struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) < 2 || got[0].Type != "header" || got[1].Type != "section" || got[1].Text.Text != "<@U0123ABCD> <@W42>" {
		t.Fatalf("blocks = %s; want a header, then a section mentioning U0123ABCD and W42", data)
	}
	for _, b := range got[2:] {
		if b.Text.Type == "mrkdwn" && strings.ContainsAny(b.Text.Text, "<>") {
			t.Errorf("block %q is not escaped", b.Text.Text)
		}
	}
	if none := Blocks(bot.Reply{Title: "x"}, nil); len(none) != 1 {
		t.Errorf("a reply without mentions has %d blocks, want the header alone", len(none))
	}
}
