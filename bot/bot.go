// Package bot is kpibot's platform-neutral core: it reads a chat line, asks
// the KPI engine and answers with a localized reply that every chat adapter
// renders its own way.
package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Computer computes a metric; *kpi.Engine is one.
type Computer interface {
	Compute(ctx context.Context, q kpi.Query) (*kpi.Result, error)
}

// ShopLister lists the shops a command may name.
type ShopLister interface {
	Shops(ctx context.Context) ([]kpi.Shop, error)
}

// Bot answers chat lines.
type Bot struct {
	Engine Computer
	Shops  ShopLister
	Text   *locales.Catalog
	Now    func() time.Time
	Log    *slog.Logger
}

// Request is one chat line and the language to answer in.
type Request struct {
	Text string
	Lang locales.Lang
}

// Handle answers one chat line. Errors come back as a reply in the asker's
// language with Err set; nothing panics on bad input.
func (b *Bot) Handle(ctx context.Context, req Request) Reply {
	p := b.Text.Printer(req.Lang)
	shops, err := b.Shops.Shops(ctx)
	if err != nil {
		return b.errorReply(p, err)
	}
	cmd, err := Parse(req.Text, shops, b.Now())
	if err != nil {
		return b.errorReply(p, err)
	}
	switch cmd.Action {
	case ActionHelp:
		return Reply{Title: p.T("help.title", nil), Text: p.T("help.text", nil)}
	case ActionList:
		return listReply(p)
	}
	res, err := b.Engine.Compute(ctx, cmd.Query)
	if err != nil {
		return b.errorReply(p, err)
	}
	return metricReply(p, res)
}

func listReply(p *locales.Printer) Reply {
	var lines []string
	for _, m := range kpi.Catalog {
		target := formatTarget(p, m)
		lines = append(lines, p.T("list.line", map[string]any{
			"ID": m.ID, "Name": p.T("metric."+m.ID+".name", nil), "Target": target}))
	}
	return Reply{Title: p.T("list.title", nil), Text: strings.Join(lines, "\n")}
}

// errorReply turns err into a message in the asker's language. Domain errors
// carry their own message; anything else is logged and reported as a
// temporary failure, without its details.
func (b *Bot) errorReply(p *locales.Printer, err error) Reply {
	var e *kpi.Error
	if errors.As(err, &e) && e.Key != "" {
		if e.Code == kpi.Unavailable {
			b.log().Error("request failed", "err", err)
		}
		return Reply{Text: p.T(e.Key, e.Args), Err: err}
	}
	b.log().Error("request failed", "err", err)
	return Reply{Text: p.T("error.unavailable", nil), Err: err}
}

func (b *Bot) log() *slog.Logger {
	if b.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Log
}
