// Package console is the terminal adapter of the bot: it renders replies as
// plain text and runs a line-by-line chat over a reader and a writer.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/locales"
)

// Handler answers a chat line; *bot.Bot is one.
type Handler interface {
	Handle(ctx context.Context, req bot.Request) bot.Reply
}

// Render lays a reply out as plain text.
func Render(r bot.Reply) string {
	var b strings.Builder
	if r.Title != "" {
		if m := bot.Mark(r.Verdict); m != "" {
			b.WriteString(m + " ")
		}
		b.WriteString(r.Title + "\n")
	}
	width := 0
	for _, f := range r.Fields {
		width = max(width, displayWidth(f.Label))
	}
	for _, f := range r.Fields {
		fmt.Fprintf(&b, "  %s%s  %s\n", f.Label, pad(f.Label, width), f.Value)
	}
	if len(r.Rows) > 0 {
		if r.RowsTitle != "" {
			b.WriteString(r.RowsTitle + "\n")
		}
		width, valueWidth := 0, 0
		for _, row := range r.Rows {
			width = max(width, displayWidth(row.Label))
			valueWidth = max(valueWidth, displayWidth(row.Value))
		}
		for _, row := range r.Rows {
			mark := bot.Mark(row.Verdict)
			if mark == "" {
				mark = "  "
			}
			fmt.Fprintf(&b, "  %s %s%s  %s%s  (%s)\n", mark, row.Label, pad(row.Label, width),
				pad(row.Value, valueWidth), row.Value, row.Detail)
		}
	}
	if r.Context != "" {
		b.WriteString("  " + r.Context + "\n")
	}
	for _, n := range r.Notes {
		b.WriteString("  * " + n + "\n")
	}
	if r.Text != "" {
		b.WriteString(r.Text + "\n")
	}
	return b.String()
}

// displayWidth counts East Asian wide characters as two columns.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && (r <= 0x115f || r >= 0x2e80 && r <= 0xa4cf || r >= 0xac00 && r <= 0xd7a3 ||
			r >= 0xf900 && r <= 0xfaff || r >= 0xfe30 && r <= 0xfe4f || r >= 0xff00 && r <= 0xff60 ||
			r >= 0xffe0 && r <= 0xffe6):
			w += 2
		default:
			w++
		}
	}
	return w
}

func pad(s string, width int) string {
	return strings.Repeat(" ", max(width-displayWidth(s), 0))
}

// Run answers each non-empty line of in on out until in ends, as asked by
// user in a channel of language lang (empty: each line's own language), and
// returns the number of replies that reported an error.
func Run(ctx context.Context, in io.Reader, out io.Writer, h Handler, user string, lang locales.Lang) (int, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	failed := 0
	for sc.Scan() {
		line := strings.TrimSpace(strings.ToValidUTF8(sc.Text(), "\uFFFD"))
		if line == "" {
			continue
		}
		reply := h.Handle(ctx, bot.Request{Text: line, User: user, ChannelLang: lang})
		if reply.Err != nil {
			failed++
		}
		if _, err := io.WriteString(out, Render(reply)+"\n"); err != nil {
			return failed, fmt.Errorf("console: write: %w", err)
		}
		if ctx.Err() != nil {
			return failed, ctx.Err()
		}
	}
	if err := sc.Err(); err != nil {
		return failed, fmt.Errorf("console: read: %w", err)
	}
	return failed, nil
}
