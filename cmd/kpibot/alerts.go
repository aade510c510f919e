package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/schedule"
	"github.com/kpibot/kpibot/locales"
)

// alertsCmd runs `kpibot alerts`: it evaluates the alert rules now, sends
// what that raises (or leaves it to kpibot serve when no chat platform is
// configured) and lists the active alerts of every shop in --lang (the
// terminal's language by default). --print evaluates on a copy of the
// database and prints the messages instead of sending them.
func alertsCmd(ctx context.Context, e env, text *locales.Catalog, p *locales.Printer, args []string) int {
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbPath := fs.String("db", dbDefault(e.getenv), "SQLite file")
	langFlag := fs.String("lang", "", "the language of the list: zh, ja, en or zh+ja; the terminal's if empty")
	print := fs.Bool("print", false, "evaluate on a copy and print, sending and recording nothing")
	configFile := fs.String("config", "", "config file; KPIBOT_CONFIG if empty")
	usage := func(msg string) int {
		fmt.Fprintln(e.stderr, msg)
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return usage(p.T("cli.bad_flags", map[string]any{"Error": err.Error()}))
	}
	if fs.NArg() > 0 {
		return usage(p.T("cli.alerts_no_args", map[string]any{"Args": strings.Join(fs.Args(), " ")}))
	}
	lang := p.Lang
	if !langFlagOK(e, p, *langFlag, &lang) {
		return 2
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	settings, ok := readConfig(e, p, *configFile)
	if !ok {
		return 2
	}
	if *print {
		return previewAlerts(ctx, e, text, p, log, *dbPath, settings, lang)
	}
	store, b, alerts, err := openBot(ctx, e, text, *dbPath, settings, log)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer store.Close()
	if err := alerts.Tick(ctx); err != nil {
		return fail(e.stderr, p, log, err)
	}
	// Send what the evaluation queued when a chat platform is configured;
	// else kpibot serve sends it.
	c, err := newChat(e, text, store, b, log)
	if errors.Is(err, errPublicURL) {
		fmt.Fprintln(e.stderr, p.T("cli.public_url_invalid", map[string]any{"Error": err.Error()}))
		return 2
	}
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	if len(c.senders) > 0 {
		sched, err := schedule.New(schedule.Config{Channels: store, Outbox: store, Renderer: b, Senders: c.senders, Clock: e.clock, Log: log})
		if err != nil {
			return fail(e.stderr, p, log, err)
		}
		if err := sched.Flush(ctx); err != nil {
			return fail(e.stderr, p, log, err)
		}
	}
	return printAlerts(ctx, e, p, log, b, lang)
}

// previewAlerts evaluates the rules on a copy of the database and prints
// the messages that would go out and the alerts that would be open, so that
// nothing is sent or recorded.
func previewAlerts(ctx context.Context, e env, text *locales.Catalog, p *locales.Printer, log *slog.Logger, dbPath string, settings configSettings, lang locales.Lang) int {
	dir, err := os.MkdirTemp("", "kpibot-alerts")
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer os.RemoveAll(dir)
	copyPath := filepath.Join(dir, "preview.db")
	store, err := openStore(ctx, e, dbPath)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	copier, ok := store.(interface {
		CopyTo(ctx context.Context, path string) error
	})
	if !ok {
		store.Close()
		fmt.Fprintln(e.stderr, p.T("cli.alerts_print_sqlite", nil))
		return 2
	}
	err = copier.CopyTo(ctx, copyPath)
	store.Close()
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	preview, b, alerts, err := openBot(ctx, e, text, copyPath, settings, log)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer preview.Close()
	if err := alerts.Tick(ctx); err != nil {
		return fail(e.stderr, p, log, err)
	}
	due, err := preview.Due(ctx, e.now().Add(24*time.Hour*7), 1000)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	for _, it := range due {
		if !strings.HasPrefix(it.Key, "alert:") {
			continue
		}
		ch, reply, err := bot.DecodeOutgoing(it.Payload)
		if err != nil {
			return fail(e.stderr, p, log, err)
		}
		fmt.Fprintf(e.stdout, "→ %s:%s\n%s\n", ch.Platform, ch.ID, reply.PlainText())
	}
	return printAlerts(ctx, e, p, log, b, lang)
}

// printAlerts prints the active alerts of every shop in lang.
func printAlerts(ctx context.Context, e env, p *locales.Printer, log *slog.Logger, b *bot.Bot, lang locales.Lang) int {
	reply, err := b.AlertList(ctx, nil, lang)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	fmt.Fprint(e.stdout, reply.PlainText())
	return 0
}
