// Package console is the terminal adapter of the bot: a line-by-line chat
// over a reader and a writer, answered in plain text.
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
		if _, err := io.WriteString(out, reply.PlainText()+"\n"); err != nil {
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
