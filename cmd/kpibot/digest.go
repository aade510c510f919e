package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/schedule"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// digestCmd runs `kpibot digest`: it writes the daily digest (or, with
// --report, the weekly or monthly review) of a day, and prints it or sends
// it to every bound channel it is for.
func digestCmd(ctx context.Context, e env, text *locales.Catalog, p *locales.Printer, args []string) int {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbPath := fs.String("db", dbDefault(e.getenv), "SQLite file")
	date := fs.String("date", "", "the day, week or month to report on (a date in it); default yesterday")
	report := fs.String("report", bot.ReportDigest, "digest, weekly or monthly")
	langFlag := fs.String("lang", string(locales.Bilingual), "the language of --print")
	print := fs.Bool("print", false, "print instead of sending")
	usage := func(msg string) int {
		fmt.Fprintln(e.stderr, msg)
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return usage(p.T("cli.bad_flags", map[string]any{"Error": err.Error()}))
	}
	if fs.NArg() > 0 {
		return usage(p.T("cli.digest_no_args", map[string]any{"Args": strings.Join(fs.Args(), " ")}))
	}
	lang, ok := locales.ParseLang(*langFlag)
	if !ok {
		fmt.Fprintln(e.stderr, p.T("cli.bad_lang", map[string]any{"Lang": *langFlag}))
		return 2
	}
	about := kpi.DateOf(e.now()) - 1
	if *date != "" {
		t, err := time.ParseInLocation("2006-01-02", *date, kpi.Tokyo)
		if err != nil {
			fmt.Fprintln(e.stderr, p.T("cli.bad_date", map[string]any{"Date": *date}))
			return 2
		}
		about = kpi.DateOf(t)
	}
	settings, ok := readConfig(e, p, "")
	if !ok {
		return 2
	}
	// The day the report is sent on, as the scheduler sends it (and keys it
	// in the outbox): the day after, or the review day (schedules in the
	// config file; Monday and the 1st by default) after the week or month.
	var sendDay kpi.Date
	switch *report {
	case bot.ReportDigest:
		sendDay = about + 1
	case bot.ReportWeekly:
		monday := about + kpi.Date(7-(int(about.Weekday())+6)%7) // the Monday after its week
		sendDay = monday.AddDays(max(settings.weeklyOn, 1) - 1)
	case bot.ReportMonthly:
		first := kpi.NewDate(about.Year(), about.Month(), 1).AddMonths(1)
		sendDay = first.AddDays(max(settings.monthlyOn, 1) - 1)
	default:
		fmt.Fprintln(e.stderr, p.T("cli.bad_report", map[string]any{"Report": *report}))
		return 2
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, b, _, err := openBot(ctx, e, text, *dbPath, settings, log)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer store.Close()
	if *print {
		reply, err := b.Report(ctx, *report, kpi.ChatChannel{Lang: string(lang)}, sendDay)
		if err != nil {
			return fail(e.stderr, p, log, err)
		}
		fmt.Fprint(e.stdout, reply.PlainText())
		return 0
	}

	// Send it to every bound channel it goes to, through the outbox: a
	// report already sent for that day is not sent again.
	c, err := newChat(e, text, store, b, log)
	if errors.Is(err, errPublicURL) {
		fmt.Fprintln(e.stderr, p.T("cli.public_url_invalid", map[string]any{"Error": err.Error()}))
		return 2
	}
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	if len(c.senders) == 0 {
		fmt.Fprintln(e.stderr, p.T("cli.digest_no_platform", nil))
		return 2
	}
	sched, err := schedule.New(schedule.Config{Channels: store, Outbox: store, Renderer: b, Senders: c.senders, Clock: e.clock, Log: log})
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	n, err := sched.Enqueue(ctx, schedule.Report(*report), sendDay)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	if err := sched.Flush(ctx); err != nil {
		return fail(e.stderr, p, log, err)
	}
	pending, err := store.Pending(ctx)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	fmt.Fprintln(e.stdout, p.T("cli.digest_sent", map[string]any{"N": n, "Pending": pending}))
	return 0
}
