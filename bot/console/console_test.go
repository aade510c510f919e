package console

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kpibot/kpibot/bot"
)

// echo answers every line with its text, and fails on "bad".
type echo struct{ seen []string }

func (e *echo) Handle(_ context.Context, req bot.Request) bot.Reply {
	e.seen = append(e.seen, req.Text)
	if req.Text == "bad" {
		return bot.Reply{Text: "no", Err: errors.New("bad")}
	}
	return bot.Reply{Text: req.Text}
}

func TestRunAnswersEachLine(t *testing.T) {
	var out strings.Builder
	h := &echo{}
	failed, err := Run(context.Background(), strings.NewReader("one\n\n  \nbad\ntwo \xff\n"), &out, h, "console", "ja")
	if err != nil {
		t.Fatal(err)
	}
	if failed != 1 || len(h.seen) != 3 || h.seen[2] != "two \uFFFD" {
		t.Errorf("failed %d, lines %q", failed, h.seen)
	}
	if out.String() != "one\n\nno\n\ntwo \uFFFD\n\n" {
		t.Errorf("output %q", out.String())
	}
}
