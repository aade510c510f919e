// Package slack is the Slack adapter of the bot: signed HTTP endpoints and Socket Mode, Block Kit rendering, and a rate-limited client.
package slack

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/kpibot/kpibot/bot"
)

// Block Kit's limits, in characters (Slack counts characters, not bytes).
const (
	blockLimit         = 50   // blocks in one message
	headerTextLimit    = 150  // a header's plain text
	sectionTextLimit   = 3000 // a section's text, and any text object
	fieldTextLimit     = 2000 // one field of a section
	sectionFieldsLimit = 10   // fields in one section
	contextElemsLimit  = 10   // elements in one context block
	fallbackTextLimit  = 150  // our own cap on the notification text
	buttonTextLimit    = 75   // a button's plain text
	buttonValueLimit   = 2000 // a button's value
	buttonsPerBlock    = 5    // our own: buttons in one actions block
	maxButtons         = 25   // our own: buttons under one message
)

// actionPrefix starts the action_id of every button Blocks lays out:
// "kpi:0", "kpi:1", … in the reply's order. Interaction runs the clicked
// button's value, its command.
const actionPrefix = "kpi:"

// hintBlockID names the block that says how to type what the buttons do
// (Reply.Hint): it goes when they go.
const hintBlockID = "kpi-hint"

// Blocks lays a reply out in Block Kit: a header with the title, the fields,
// the rows, the context and notes, then the free text, and last the
// buttons, five to an actions block. It keeps within Slack's limits; when
// the rows or the text would need more than the 50 blocks the buttons leave,
// it keeps what fits with room for a context block saying more(n), the
// localized "…and n more lines" (a bare "… +n" if more is nil), before the
// buttons, which are never cut.
//
// A button's action_id is "kpi:<n>", n its index in r.Buttons, and its value
// the command it stands for; the first is the primary one.
//
// All text from the reply is escaped (&, <, >) and sent verbatim, so that
// nothing in it becomes a mention or a link; the reply's Mentions, and
// nothing else, mention people, in a section under the header.
func Blocks(r bot.Reply, more func(n int) string) []slackapi.Block {
	var head, body, tail []piece
	if h := headerText(r); h != "" {
		head = append(head, piece{block: slackapi.NewHeaderBlock(plain(h))})
	}
	if m := mentions(r.Mentions); m != "" {
		head = append(head, piece{block: slackapi.NewSectionBlock(mrkdwn(m), nil, nil)})
	}
	head = append(head, fieldSections(r.Fields)...)

	if len(r.Rows) > 0 {
		var lines []line
		if t := oneLine(r.RowsTitle); t != "" {
			lines = append(lines, line{text: "*" + clip(t, sectionTextLimit-2) + "*"})
		}
		for _, row := range r.Rows {
			lines = append(lines, line{text: clip(rowText(row), sectionTextLimit), count: 1})
		}
		body = append(body, sections(lines)...)
	}
	for _, sec := range r.Sections {
		t := oneLine(sec.Title)
		if m := bot.Mark(sec.Verdict); m != "" {
			t = m + " " + t
		}
		lines := []line{{text: "*" + clip(t, sectionTextLimit-2) + "*"}}
		for _, row := range sec.Rows {
			lines = append(lines, line{text: clip(rowText(row), sectionTextLimit), count: 1})
		}
		body = append(body, sections(lines)...)
	}
	body = append(body, sections(textLines(r.Text))...)

	if c := strings.TrimSpace(r.Context); c != "" {
		tail = append(tail, piece{block: slackapi.NewContextBlock("", mrkdwn(clip(c, sectionTextLimit))), count: 1})
	}
	tail = append(tail, noteBlocks(r.Notes)...)
	if h := strings.TrimSpace(r.Hint); h != "" && len(r.Buttons) > 0 {
		// A block of its own, named, so that a click's answer can drop it
		// with the buttons (withoutActions).
		tail = append(tail, piece{block: slackapi.NewContextBlock(hintBlockID,
			mrkdwn("• "+clip(strings.Join(strings.Fields(h), " "), sectionTextLimit-2))), count: 1})
	} else if h != "" {
		tail = append(tail, noteBlocks([]string{h})...)
	}
	actions := actionBlocks(r.Buttons)

	left := 0
	if over := len(head) + len(body) + len(tail) + len(actions) - blockLimit; over > 0 {
		over++ // room for the note that says what was left out
		for _, s := range []*[]piece{&body, &tail, &head} {
			for over > 0 && len(*s) > 0 && !(s == &head && len(*s) == 1) {
				last := (*s)[len(*s)-1]
				left += last.count
				*s = (*s)[:len(*s)-1]
				over--
			}
		}
		left = max(left, 1)
	}

	blocks := make([]slackapi.Block, 0, len(head)+len(body)+len(tail)+1+len(actions))
	for _, s := range [][]piece{head, body, tail} {
		for _, p := range s {
			blocks = append(blocks, p.block)
		}
	}
	if left > 0 {
		note := "… +" + strconv.Itoa(left)
		if more != nil {
			note = more(left)
		}
		blocks = append(blocks, slackapi.NewContextBlock("", mrkdwn(clip(note, sectionTextLimit))))
	}
	return append(blocks, actions...)
}

// actionBlocks lays buttons out five to an actions block, at most 25 of
// them. A button without a command, or with one too long for a button's
// value, is left out; one without a label shows its command.
func actionBlocks(buttons []bot.Button) []slackapi.Block {
	var elems []slackapi.BlockElement
	for i, b := range buttons {
		cmd := strings.TrimSpace(b.Command)
		if cmd == "" || utf8.RuneCountInString(cmd) > buttonValueLimit || len(elems) == maxButtons {
			continue
		}
		label := cmp.Or(oneLine(b.Label), oneLine(cmd))
		btn := slackapi.NewButtonBlockElement(actionPrefix+strconv.Itoa(i), cmd, plain(clipPlain(label, buttonTextLimit)))
		if len(elems) == 0 {
			btn.Style = slackapi.StylePrimary
		}
		elems = append(elems, btn)
	}
	var out []slackapi.Block
	for len(elems) > 0 {
		n := min(len(elems), buttonsPerBlock)
		out = append(out, slackapi.NewActionBlock("", elems[:n:n]...))
		elems = elems[n:]
	}
	return out
}

// FallbackText is the text Slack shows in notifications and reads to screen
// readers: the reply's one-line summary (the title with its verdict mark and
// value, or the first line of its text), at most 150 characters, escaped.
func FallbackText(r bot.Reply) string {
	if m := mentions(r.Mentions); m != "" && len(m) < fallbackTextLimit/2 {
		return m + " " + clip(r.Summary(), fallbackTextLimit-len(m)-1)
	}
	return clip(r.Summary(), fallbackTextLimit)
}

// memberID is what a Slack member id looks like.
var memberID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// mentions writes Slack mentions of the member ids ("<@U0123> <@U0456>");
// anything that is not a member id is left out.
func mentions(ids []string) string {
	var out []string
	for _, id := range ids {
		if memberID.MatchString(id) {
			out = append(out, "<@"+id+">")
		}
	}
	return strings.Join(out, " ")
}

// piece is a block and the number of lines (rows, lines of text, fields,
// notes) it carries, to tell how many a cut leaves out.
type piece struct {
	block slackapi.Block
	count int
}

// line is a line of a section's text, already escaped; count is 1 when it
// ends a row or a line of the reply, 0 for headings and the leading parts of
// a line too long for one section.
type line struct {
	text  string
	count int
}

// headerText is the title on one line, with its verdict's mark, at most 150
// characters; empty when the reply has no title.
func headerText(r bot.Reply) string {
	t := oneLine(r.Title)
	if t == "" {
		return ""
	}
	if m := bot.Mark(r.Verdict); m != "" {
		t = m + " " + t
	}
	return clipPlain(t, headerTextLimit)
}

// fieldSections lays fields out as "*Label*\nValue", ten to a section.
func fieldSections(fields []bot.Field) []piece {
	var texts []*slackapi.TextBlockObject
	for _, f := range fields {
		label, value := oneLine(f.Label), strings.TrimSpace(f.Value)
		var s string
		switch {
		case label == "" && value == "":
			continue
		case label == "":
			s = clip(value, fieldTextLimit)
		default:
			s = "*" + clip(label, fieldTextLimit/4) + "*"
			if value != "" {
				s += "\n" + clip(value, fieldTextLimit-utf8.RuneCountInString(s)-1)
			}
		}
		texts = append(texts, mrkdwn(s))
	}
	var out []piece
	for len(texts) > 0 {
		n := min(len(texts), sectionFieldsLimit)
		out = append(out, piece{block: slackapi.NewSectionBlock(nil, texts[:n:n], nil), count: n})
		texts = texts[n:]
	}
	return out
}

// rowText is "mark Label  Value  (Detail)", unescaped, leaving out what is
// empty.
func rowText(row bot.Row) string {
	var parts []string
	for _, s := range []string{row.Label, row.Value} {
		if s = oneLine(s); s != "" {
			parts = append(parts, s)
		}
	}
	if d := oneLine(row.Detail); d != "" {
		parts = append(parts, "("+d+")")
	}
	s := strings.Join(parts, "  ")
	if m := bot.Mark(row.Verdict); m != "" {
		s = m + " " + s
	}
	return s
}

// textLines splits free text into escaped lines of at most 3,000 characters:
// a longer line is cut hard into several, and counts as one line in its last
// part, so that a line cut short counts as left out. Blank lines count none.
func textLines(text string) []line {
	text = strings.Trim(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var lines []line
	for l := range strings.SplitSeq(text, "\n") {
		last := -1 // the line's last part that is not blank: it counts the line
		for {
			part, rest := splitEscaped(l, sectionTextLimit)
			if strings.TrimSpace(part) != "" {
				last = len(lines)
			}
			lines = append(lines, line{text: escape(part)})
			if l = rest; l == "" {
				break
			}
		}
		if last >= 0 {
			lines[last].count = 1
		}
	}
	return lines
}

// sections packs lines into as few sections of at most 3,000 characters as
// it can, never splitting a line; blank lines at a section's edges are
// dropped (Slack refuses blank text).
func sections(lines []line) []piece {
	var out []piece
	var cur []string
	size, count, blanks := 0, 0, 0
	flush := func() {
		if len(cur) > 0 {
			text := strings.Join(cur, "\n")
			out = append(out, piece{block: slackapi.NewSectionBlock(mrkdwn(text), nil, nil), count: count})
		}
		cur, size, count, blanks = nil, 0, 0, 0
	}
	for _, l := range lines {
		if strings.TrimSpace(l.text) == "" {
			if len(cur) > 0 {
				blanks++
			}
			continue
		}
		n := utf8.RuneCountInString(l.text)
		if len(cur) > 0 && size+blanks+1+n > sectionTextLimit {
			flush()
		}
		if len(cur) > 0 {
			size += blanks + 1 // a line break for each blank line, and one before l
			for ; blanks > 0; blanks-- {
				cur = append(cur, "")
			}
		}
		cur = append(cur, l.text)
		size += n
		count += l.count
	}
	flush()
	return out
}

// noteBlocks lays notes out as "• note" lines in context blocks: lines packed
// into elements of at most 3,000 characters, ten elements to a block.
func noteBlocks(notes []string) []piece {
	var elems []line
	for _, n := range notes {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		text := "• " + clip(strings.Join(strings.Fields(n), " "), sectionTextLimit-2)
		k := len(elems) - 1
		if k >= 0 && utf8.RuneCountInString(elems[k].text)+1+utf8.RuneCountInString(text) <= sectionTextLimit {
			elems[k].text += "\n" + text
			elems[k].count++
			continue
		}
		elems = append(elems, line{text: text, count: 1})
	}
	var out []piece
	for len(elems) > 0 {
		n := min(len(elems), contextElemsLimit)
		p := piece{}
		var mixed []slackapi.MixedElement
		for _, e := range elems[:n] {
			mixed = append(mixed, mrkdwn(e.text))
			p.count += e.count
		}
		p.block = slackapi.NewContextBlock("", mixed...)
		out = append(out, p)
		elems = elems[n:]
	}
	return out
}

// mrkdwn is a verbatim mrkdwn text object: Slack does not turn bare URLs,
// channel names or @here into links or mentions. The text must be escaped.
func mrkdwn(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, true)
}

// plain is a plain text object, which Slack shows as it is, emoji included.
func plain(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, true, false)
}

// oneLine is s with runs of white space, line breaks included, made one
// space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape escapes Slack's control characters in mrkdwn text.
func escape(s string) string { return escaper.Replace(s) }

// escapedRunes is how many characters r takes once escaped.
func escapedRunes(r rune) int {
	switch r {
	case '&':
		return len("&amp;")
	case '<', '>':
		return len("&lt;")
	}
	return 1
}

// splitEscaped cuts s, unescaped, where its escaped form reaches n
// characters, so that no escape sequence is ever cut in two.
func splitEscaped(s string, n int) (head, rest string) {
	size := 0
	for i, r := range s {
		size += escapedRunes(r)
		if size > n {
			return s[:i], s[i:]
		}
	}
	return s, ""
}

// clip escapes s and, when that is longer than n characters, cuts it with
// "…" to n.
func clip(s string, n int) string {
	if _, rest := splitEscaped(s, n); rest == "" {
		return escape(s)
	}
	head, _ := splitEscaped(s, n-1)
	return escape(head) + "…"
}

// clipPlain cuts s with "…" to at most n characters.
func clipPlain(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}
