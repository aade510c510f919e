package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/chart"
	"github.com/kpibot/kpibot/locales"
)

// chartCmd runs `kpibot chart [--db PATH] [--lang zh|ja|en|zh+ja]
// [--size large|preview] --out FILE.png TEXT`: it draws the chart of a chat
// question (a metric's trend, or the overview of a status or digest) into
// FILE.png, or to stdout when FILE is "-". Flags may come after the text.
// It exits 0 when the chart is written, 1 when the question has no chart
// or fails, 2 when the command line is wrong.
func chartCmd(ctx context.Context, e env, text *locales.Catalog, p *locales.Printer, args []string) int {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbPath := fs.String("db", dbDefault(e.getenv), "SQLite file")
	langFlag := fs.String("lang", "", "zh, ja, en or zh+ja")
	out := fs.String("out", "", "the PNG file to write; - for stdout")
	sizeFlag := fs.String("size", "large", "large (1200×600) or preview (480×240)")
	usage := func(msg string) int {
		fmt.Fprintln(e.stderr, msg)
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	words, err := parseAnywhere(fs, args)
	if err != nil {
		return usage(p.T("cli.bad_flags", map[string]any{"Error": err.Error()}))
	}
	var channelLang locales.Lang
	if !langFlagOK(e, p, *langFlag, &channelLang) {
		return 2
	}
	if channelLang != "" {
		p = text.Printer(channelLang)
	}
	sizes := map[string]chart.Size{"large": chart.Large, "preview": chart.Preview}
	size, ok := sizes[*sizeFlag]
	question := strings.TrimSpace(strings.Join(words, " "))
	switch {
	case !ok:
		return usage(p.T("cli.chart_bad_size", map[string]any{"Size": *sizeFlag}))
	case question == "":
		return usage(p.T("cli.chart_needs_text", nil))
	case *out == "":
		return usage(p.T("cli.chart_needs_out", nil))
	}

	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	settings, ok := readConfig(e, p, "")
	if !ok {
		return 2
	}
	store, b, _, err := openBot(ctx, e, text, *dbPath, settings, log)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer store.Close()
	reply := b.Handle(ctx, bot.Request{Text: question, User: consoleUser(e.getenv), ChannelLang: channelLang, Chart: true})
	if reply.Err != nil {
		fmt.Fprint(e.stderr, reply.PlainText())
		return 1
	}
	if reply.Chart == nil {
		fmt.Fprint(e.stderr, reply.PlainText())
		fmt.Fprintln(e.stderr, text.Printer(reply.Lang).T("cli.chart_none", nil))
		return 1
	}
	var buf bytes.Buffer
	if err := b.DrawChart(ctx, &buf, *reply.Chart, size); err != nil {
		return fail(e.stderr, p, log, err)
	}
	if *out == "-" {
		if _, err := e.stdout.Write(buf.Bytes()); err != nil {
			return fail(e.stderr, p, log, err)
		}
		return 0
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(e.stderr, p.T("cli.chart_write_failed", map[string]any{"Path": *out, "Error": err.Error()}))
		return 1
	}
	// An overview's height follows from its panels: say the size drawn.
	cfg, err := png.DecodeConfig(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	fmt.Fprintln(e.stdout, p.T("cli.chart_written", map[string]any{"Path": *out, "W": cfg.Width, "H": cfg.Height}))
	return 0
}
