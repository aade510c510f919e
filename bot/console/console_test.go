package console

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
)

func TestRenderAlignsWideText(t *testing.T) {
	r := bot.Reply{
		Title:     "返品率 · 全ショップ · 先月",
		Verdict:   kpi.VerdictBreach,
		Fields:    []bot.Field{{Label: "値", Value: "6.1%"}, {Label: "前期間", Value: "4.2%"}},
		RowsTitle: "ショップ別",
		Rows: []bot.Row{
			{Label: "楽天本店", Value: "9.8%", Detail: "前期間 5.1%", Verdict: kpi.VerdictBreach},
			{Label: "Amazon JP", Value: "10.2%", Detail: "前期間 3.0%", Verdict: kpi.VerdictOK},
		},
		Context: "2026-10-01 – 2026-10-31",
	}
	want := `❌ 返品率 · 全ショップ · 先月
  値      6.1%
  前期間  4.2%
ショップ別
  ❌ 楽天本店    9.8%  (前期間 5.1%)
  ✅ Amazon JP  10.2%  (前期間 3.0%)
  2026-10-01 – 2026-10-31
`
	if got := Render(r); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

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
