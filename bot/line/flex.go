package line

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
)

// LINE's limits on what one message may carry.
const (
	maxMessages     = 5         // message objects in one reply or push
	maxTextUnits    = 5000      // a text message, in UTF-16 code units
	maxAltTextUnits = 1500      // a Flex message's altText
	maxBubbles      = 12        // bubbles in a carousel
	maxBubbleBytes  = 30 * 1024 // one bubble's JSON
	maxCarouselSize = 50 * 1024 // a carousel's JSON
	maxButtonLabel  = 20        // a postback action's label, in characters
	maxPostbackData = 300       // a postback action's data and displayText
)

// PostbackPrefix starts the data of a button's postback: what follows is
// the command the button stands for, run as if the presser had sent it.
const PostbackPrefix = "kpi:"

// How a reply is laid out.
const (
	rowsInMain      = 6    // a breakdown this short stays in the main bubble
	rowsPerBubble   = 10   // the rows of one breakdown bubble
	maxFlexTextRune = 2000 // our cap on one text component
)

// verdictColors tints a bubble's header by its verdict.
var verdictColors = map[kpi.Verdict]string{
	kpi.VerdictOK:     "#E6F4EA",
	kpi.VerdictBreach: "#FCE8E6",
	kpi.VerdictFew:    "#FEF7E0",
	kpi.VerdictInfo:   "#E8F0FE",
	kpi.VerdictNoData: "#F1F3F4",
}

// Messages lays a reply out for LINE. A KPI (a reply with fields or rows)
// becomes a Flex bubble, or a carousel when its breakdown is long: the main
// bubble, then bubbles of rows — at most 12 bubbles, 30 KB a bubble and
// 50 KB in all; what does not fit is cut and the last bubble says more(n),
// the localized "…and n more lines". Its altText is the reply's one-line
// summary, which holds the key number. The reply's buttons are the main
// bubble's footer; each posts back PostbackPrefix + its command. Anything
// else (help, lists, errors) without buttons is plain text, as in
// TextMessages.
func Messages(r bot.Reply, more func(id string, n int) string) []messaging_api.MessageInterface {
	if len(r.Fields) == 0 && len(r.Rows) == 0 && len(r.Sections) == 0 && len(footerButtons(r.Buttons)) == 0 {
		return TextMessages(r)
	}
	return []messaging_api.MessageInterface{&messaging_api.FlexMessage{
		AltText:  clipUnits(altText(r), maxAltTextUnits),
		Contents: container(r, more),
	}}
}

// TextMessages is the reply as plain text: one message, or up to five when
// it is longer than LINE's 5,000 characters, split between lines. It is
// also the fallback when LINE refuses a Flex message. It has no buttons:
// a reply that offers some says their commands in its notes.
func TextMessages(r bot.Reply) []messaging_api.MessageInterface {
	text := strings.TrimRight(r.PlainText(), "\n")
	if r.Title != "" && len(r.Fields) == 0 && len(r.Rows) == 0 && r.Text != "" {
		// A titled text (help, lists) reads better with a blank line under its title.
		text = strings.Replace(text, "\n", "\n\n", 1)
	}
	var msgs []messaging_api.MessageInterface
	for _, chunk := range splitUnits(text, maxTextUnits, maxMessages) {
		msgs = append(msgs, &messaging_api.TextMessage{Text: chunk})
	}
	return msgs
}

func altText(r bot.Reply) string {
	s := r.Summary()
	if s == "" {
		s = "kpibot"
	}
	return s
}

// part is a bubble of a carousel: rows of the breakdown, or a section's
// rows (sec is then its index + 1), which is cut as a whole.
type part struct {
	bubble messaging_api.FlexBubble
	rows   int
	sec    int
}

// container is the reply as one bubble, or as a carousel: the main bubble,
// the breakdown's rows when there are too many for it, then a bubble per
// section. At most 12 bubbles and 50 KB: what does not fit is cut from the
// end, and the last bubble says how many sections, or else rows, were left
// out.
func container(r bot.Reply, more func(id string, n int) string) messaging_api.FlexContainerInterface {
	if len(r.Rows) <= rowsInMain && len(r.Sections) == 0 {
		if b, ok := fitMain(r, r.Rows); ok {
			return b
		}
	}
	var parts []part
	main, ok := fitMain(r, r.Rows)
	rowsInBubbles := len(r.Rows) > rowsInMain || !ok
	if rowsInBubbles {
		main, _ = fitMain(r, nil)
	}
	parts = append(parts, part{bubble: *main})
	if rowsInBubbles {
		chunks := chunk(r.Rows)
		title := strings.TrimSpace(r.RowsTitle)
		if title == "" {
			title = r.Title
		}
		for i, c := range chunks {
			parts = append(parts, part{bubble: *rowBubble(numbered(title, i, len(chunks)), r.Verdict, c), rows: len(c)})
		}
	}
	for si, sec := range r.Sections {
		chunks := chunk(sec.Rows)
		for i, c := range chunks {
			parts = append(parts, part{bubble: *rowBubble(numbered(sec.Title, i, len(chunks)), sec.Verdict, c), rows: len(c), sec: si + 1})
		}
	}
	var leftRows int
	leftSecs := map[int]bool{}
	drop := func() { // the last part, whole
		p := parts[len(parts)-1]
		if p.sec > 0 {
			leftSecs[p.sec] = true
		} else {
			leftRows += p.rows
		}
		parts = parts[:len(parts)-1]
	}
	for len(parts) > maxBubbles {
		drop()
	}
	for {
		c := carousel(parts, note(more, leftRows, len(leftSecs)))
		if len(parts) == 1 || size(c) <= maxCarouselSize && size(&c.Contents[len(c.Contents)-1]) <= maxBubbleBytes {
			return c
		}
		last := &parts[len(parts)-1]
		if last.sec > 0 || last.rows <= 1 {
			drop()
			continue
		}
		// Drop the last row of the breakdown's last bubble.
		body := *last.bubble.Body
		body.Contents = body.Contents[:len(body.Contents)-1]
		last.bubble.Body = &body
		last.rows--
		leftRows++
	}
}

// chunk cuts rows into bubbles' worth.
func chunk(rows []bot.Row) [][]bot.Row {
	var out [][]bot.Row
	for len(rows) > 0 {
		n := min(rowsPerBubble, len(rows))
		out = append(out, rows[:n])
		rows = rows[n:]
	}
	return out
}

// numbered is a title with "(i/n)" when a part is one of several.
func numbered(title string, i, n int) string {
	if n <= 1 {
		return title
	}
	return title + " (" + strconv.Itoa(i+1) + "/" + strconv.Itoa(n) + ")"
}

// note says what was cut: sections if any, else rows; "" for nothing.
func note(more func(id string, n int) string, rows, sections int) string {
	id, n := "reply.more_lines", rows
	if sections > 0 {
		id, n = "reply.more_sections", sections
	}
	if n == 0 {
		return ""
	}
	if more == nil {
		return "… +" + strconv.Itoa(n)
	}
	return more(id, n)
}

// carousel puts the parts together; the last bubble ends with the note.
func carousel(parts []part, note string) *messaging_api.FlexCarousel {
	c := &messaging_api.FlexCarousel{}
	for _, p := range parts {
		c.Contents = append(c.Contents, p.bubble)
	}
	if note != "" {
		last := &c.Contents[len(c.Contents)-1]
		body := *last.Body
		body.Contents = append(slices.Clone(body.Contents), noteText(note, maxFlexTextRune))
		last.Body = &body
	}
	return c
}

// textCaps are the lengths, in characters, that a bubble's texts are cut to
// in turn until it fits in 30 KB.
var textCaps = []int{2000, 600, 200, 60}

// fitMain is the main bubble with its texts cut as little as needed to fit
// in 30 KB; false if even the shortest cut is too big.
func fitMain(r bot.Reply, rows []bot.Row) (*messaging_api.FlexBubble, bool) {
	var b *messaging_api.FlexBubble
	for _, n := range textCaps {
		if b = mainBubble(r, rows, n); size(b) <= maxBubbleBytes {
			return b, true
		}
	}
	return b, false
}

// mainBubble is the KPI: a header tinted by the verdict with the title, the
// fields, the given rows, the free text, the context and the notes, and the
// buttons in the footer.
func mainBubble(r bot.Reply, rows []bot.Row, n int) *messaging_api.FlexBubble {
	var body []messaging_api.FlexComponentInterface
	for i, f := range r.Fields {
		body = append(body, fieldBox(f, i == 0, n))
	}
	if len(rows) > 0 {
		body = append(body, &messaging_api.FlexSeparator{Margin: "md"})
		if t := strings.TrimSpace(r.RowsTitle); t != "" {
			body = append(body, &messaging_api.FlexText{Text: clipRunes(t, n), Size: "sm", Weight: messaging_api.FlexTextWEIGHT_BOLD, Wrap: true, Flex: 0, Margin: "md"})
		}
		for _, row := range rows {
			body = append(body, rowBox(row, n))
		}
	}
	if t := strings.TrimSpace(r.Text); t != "" {
		body = append(body, &messaging_api.FlexText{Text: clipRunes(t, n), Size: "sm", Wrap: true, Flex: 0, Margin: "md"})
	}
	if c := strings.TrimSpace(r.Context); c != "" {
		body = append(body, &messaging_api.FlexText{Text: clipRunes(c, n), Size: "xs", Color: "#888888", Wrap: true, Flex: 0, Margin: "md"})
	}
	for _, note := range r.AllNotes() {
		body = append(body, noteText(note, n))
	}
	b := &messaging_api.FlexBubble{
		Size: messaging_api.FlexBubbleSIZE_MEGA,
		Body: vbox(body),
	}
	if strings.TrimSpace(r.Title) != "" || bot.Mark(r.Verdict) != "" {
		b.Header = header(r.Verdict, r.Title, n) // LINE refuses an empty text
	}
	if bs := footerButtons(r.Buttons); len(bs) > 0 {
		b.Footer = vbox(bs)
	}
	return b
}

// footerButtons are the reply's buttons as Flex buttons, one under the
// other, the first one stressed. Each posts back PostbackPrefix and its
// command, and shows its label in the chat as if the presser had written
// it. A label is cut to LINE's 20 characters; a button whose data would
// pass LINE's 300 is left out (its command is in the reply's notes), as is
// one without a command.
func footerButtons(buttons []bot.Button) []messaging_api.FlexComponentInterface {
	var out []messaging_api.FlexComponentInterface
	for _, b := range buttons {
		cmd := strings.TrimSpace(b.Command)
		data := PostbackPrefix + cmd
		if cmd == "" || units(data) > maxPostbackData {
			continue
		}
		label := oneLine(b.Label)
		if label == "" {
			label = oneLine(cmd)
		}
		style := messaging_api.FlexButtonSTYLE_SECONDARY
		if len(out) == 0 {
			style = messaging_api.FlexButtonSTYLE_PRIMARY
		}
		out = append(out, &messaging_api.FlexButton{
			Style:  style,
			Height: messaging_api.FlexButtonHEIGHT_SM,
			Flex:   0,
			Action: &messaging_api.PostbackAction{
				Label:       clipRunes(label, maxButtonLabel),
				Data:        data,
				DisplayText: clipRunes(label, maxPostbackData),
			},
		})
	}
	return out
}

// rowBubble is a bubble of rows under a title tinted by a verdict.
func rowBubble(title string, v kpi.Verdict, rows []bot.Row) *messaging_api.FlexBubble {
	var body []messaging_api.FlexComponentInterface
	for _, row := range rows {
		body = append(body, rowBox(row, maxFlexTextRune))
	}
	return &messaging_api.FlexBubble{
		Size:   messaging_api.FlexBubbleSIZE_MEGA,
		Header: header(v, title, maxFlexTextRune),
		Body:   vbox(body),
	}
}

func header(v kpi.Verdict, title string, n int) *messaging_api.FlexBox {
	if m := bot.Mark(v); m != "" {
		title = m + " " + title
	}
	return &messaging_api.FlexBox{
		Layout:          messaging_api.FlexBoxLAYOUT_VERTICAL,
		Flex:            0,
		BackgroundColor: verdictColor(v),
		PaddingAll:      "md",
		Contents: []messaging_api.FlexComponentInterface{
			&messaging_api.FlexText{Text: clipRunes(oneLine(title), n), Size: "md", Weight: messaging_api.FlexTextWEIGHT_BOLD, Wrap: true, Flex: 0},
		},
	}
}

func verdictColor(v kpi.Verdict) string {
	if c, ok := verdictColors[v]; ok {
		return c
	}
	return "#F1F3F4"
}

// fieldBox is a label and its value side by side, two parts to five.
func fieldBox(f bot.Field, first bool, n int) *messaging_api.FlexBox {
	value := &messaging_api.FlexText{Text: clipRunes(nonEmpty(f.Value), n), Size: "sm", Wrap: true, Flex: 5}
	if first {
		value.Weight = messaging_api.FlexTextWEIGHT_BOLD
		value.Size = "md"
	}
	return &messaging_api.FlexBox{
		Layout:  messaging_api.FlexBoxLAYOUT_HORIZONTAL,
		Flex:    0,
		Spacing: "sm",
		Contents: []messaging_api.FlexComponentInterface{
			&messaging_api.FlexText{Text: clipRunes(nonEmpty(f.Label), n), Size: "sm", Color: "#888888", Wrap: true, Flex: 2},
			value,
		},
	}
}

// rowBox is one line of a breakdown: its mark and label, its value, and its
// detail under them.
func rowBox(row bot.Row, n int) *messaging_api.FlexBox {
	label := row.Label
	if m := bot.Mark(row.Verdict); m != "" {
		label = m + " " + label
	}
	line := &messaging_api.FlexBox{
		Layout:  messaging_api.FlexBoxLAYOUT_HORIZONTAL,
		Flex:    0,
		Spacing: "sm",
		Contents: []messaging_api.FlexComponentInterface{
			&messaging_api.FlexText{Text: clipRunes(nonEmpty(label), n), Size: "sm", Wrap: true, Flex: 5},
			&messaging_api.FlexText{Text: clipRunes(nonEmpty(row.Value), n), Size: "sm", Weight: messaging_api.FlexTextWEIGHT_BOLD, Align: messaging_api.FlexTextALIGN_END, Wrap: true, Flex: 3},
		},
	}
	if strings.TrimSpace(row.Detail) == "" {
		return line
	}
	return &messaging_api.FlexBox{
		Layout: messaging_api.FlexBoxLAYOUT_VERTICAL,
		Flex:   0,
		Margin: "sm",
		Contents: []messaging_api.FlexComponentInterface{
			line,
			&messaging_api.FlexText{Text: clipRunes(row.Detail, n), Size: "xxs", Color: "#888888", Align: messaging_api.FlexTextALIGN_END, Wrap: true, Flex: 0},
		},
	}
}

func noteText(note string, n int) *messaging_api.FlexText {
	return &messaging_api.FlexText{Text: clipRunes("※ "+note, n), Size: "xs", Color: "#888888", Wrap: true, Flex: 0, Margin: "sm"}
}

func vbox(contents []messaging_api.FlexComponentInterface) *messaging_api.FlexBox {
	return &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Flex: 0, Spacing: "sm", Contents: contents}
}

// size is the length of v's JSON, as LINE measures a bubble or a carousel.
func size(v any) int {
	data, err := json.Marshal(v)
	if err != nil {
		return 1 << 30 // unmarshalable: never "fits"
	}
	return len(data)
}

// nonEmpty keeps Flex texts valid: LINE refuses an empty text.
func nonEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// units is the length of s in UTF-16 code units, as LINE counts.
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// prefixUnits is the longest prefix of s of at most n UTF-16 code units.
func prefixUnits(s string, n int) string {
	used := 0
	for i, r := range s {
		if used += utf16.RuneLen(r); used > n {
			return s[:i]
		}
	}
	return s
}

// clipUnits cuts s to at most n UTF-16 code units, ending with "…" if cut.
func clipUnits(s string, n int) string {
	if units(s) <= n {
		return s
	}
	return prefixUnits(s, n-1) + "…"
}

// splitUnits splits s into at most most pieces of at most n UTF-16 code
// units, between lines where it can; the last piece is cut if s is longer.
func splitUnits(s string, n, most int) []string {
	var out []string
	for s != "" {
		if units(s) <= n || len(out) == most-1 {
			return append(out, clipUnits(s, n))
		}
		cut := prefixUnits(s, n)
		if i := strings.LastIndexByte(cut, '\n'); i > 0 && s[len(cut)] != '\n' {
			cut = cut[:i]
		}
		out = append(out, cut)
		s = strings.TrimLeft(s[len(cut):], "\n")
	}
	return out
}
