// Command kpibot is a KPI bot for cross-border sellers on Japanese
// marketplaces; main wires the store, the engine, the bot and its adapters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/alert"
	"github.com/kpibot/kpibot/bot/console"
	"github.com/kpibot/kpibot/connectors/demo"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/calendar"
	"github.com/kpibot/kpibot/kpi/postgres"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := env{
		args:   os.Args[1:],
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		now:    time.Now,
	}
	clock, err := testClock(os.Getenv(testClockVar))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kpibot:", err)
		os.Exit(2)
	}
	if clock != nil {
		e.now, e.clock = clock.Now, clock
	}
	code := run(ctx, e)
	stop()
	os.Exit(code)
}

// env is everything a run takes from the outside, so tests can supply it.
type env struct {
	args           []string
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	ready          func(addr string) // serve calls it with the address it listens on; nil in main
	clock          clockwork.Clock   // the scheduler's clock; nil: the real one
	// sleep is how the connectors wait between retries and report polls;
	// nil: a timer.
	sleep func(ctx context.Context, d time.Duration) error
	// elector is how serve elects its scheduler's leader on PostgreSQL:
	// tests name a lock of their own and shorten the interval. Zero:
	// postgres's defaults (its Log is serve's in any case).
	elector postgres.ElectorConfig
}

// run executes one kpibot command and returns the exit code.
func run(ctx context.Context, e env) int {
	text, err := locales.Load()
	if err != nil {
		fmt.Fprintln(e.stderr, "kpibot:", err)
		return 1
	}
	lang := defaultLang(e.getenv)
	p := text.Printer(lang)
	if len(e.args) == 0 || e.args[0] == "help" || e.args[0] == "-h" || e.args[0] == "--help" {
		fmt.Fprintln(e.stdout, p.T("cli.usage", nil))
		return 0
	}
	cmd, args := e.args[0], e.args[1:]
	if cmd == "serve" {
		return serve(ctx, e, text, p, args)
	}
	if cmd == "bind-code" {
		return bindCode(ctx, e, p, args)
	}
	if cmd == "digest" {
		return digestCmd(ctx, e, text, p, args)
	}
	if cmd == "alerts" {
		return alertsCmd(ctx, e, text, p, args)
	}
	if cmd == "sync" {
		return syncCmd(ctx, e, text, p, args)
	}
	if cmd == "import" {
		return importCmd(ctx, e, text, p, args)
	}
	if cmd == "chart" {
		return chartCmd(ctx, e, text, p, args)
	}
	if cmd == "config" {
		return configCmd(e, text, p, args)
	}
	if cmd == "doctor" {
		return doctorCmd(ctx, e, text, p, args)
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbPath := fs.String("db", dbDefault(e.getenv), "SQLite file")
	langFlag := fs.String("lang", "", "zh, ja, en or zh+ja")
	if cmd != "demo" && cmd != "ask" {
		fmt.Fprintln(e.stderr, p.T("cli.unknown_command", map[string]any{"Command": cmd}))
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(e.stderr, p.T("cli.bad_flags", map[string]any{"Error": err.Error()}))
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	var channelLang locales.Lang // empty: answer each line in its own language
	if !langFlagOK(e, p, *langFlag, &channelLang) {
		return 2
	}
	if channelLang != "" {
		p = text.Printer(channelLang)
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	question := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if cmd == "ask" && question == "" {
		fmt.Fprintln(e.stderr, p.T("cli.ask_needs_text", nil))
		return 2
	}

	settings, ok := readConfig(e, p, "")
	if !ok {
		return 2
	}
	store, b, alerts, err := openBot(ctx, e, text, *dbPath, settings, log)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer store.Close()
	user := consoleUser(e.getenv)

	if cmd == "ask" {
		reply := b.Handle(ctx, bot.Request{Text: question, User: user, ChannelLang: channelLang})
		if reply.Err != nil {
			fmt.Fprint(e.stderr, reply.PlainText())
			return 1
		}
		fmt.Fprint(e.stdout, reply.PlainText())
		return 0
	}

	shops, err := store.Shops(ctx)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	if len(shops) == 0 {
		fmt.Fprintln(e.stderr, p.T("console.seeding", map[string]any{"Path": postgres.Redact(*dbPath)}))
		stats, err := demo.Seed(ctx, store, e.now())
		if err != nil {
			return fail(e.stderr, p, log, err)
		}
		fmt.Fprintln(e.stderr, p.T("console.seeded", map[string]any{"N": stats.Inserted + stats.Updated + stats.Unchanged}))
		if shops, err = store.Shops(ctx); err != nil {
			return fail(e.stderr, p, log, err)
		}
	}
	// Watch the KPIs once, so that /kpi alerts shows what is wrong.
	if _, err := alerts.Evaluate(ctx); err != nil {
		log.Warn("evaluate alerts", "err", err)
	}
	fmt.Fprintln(e.stdout, p.T("console.welcome", map[string]any{"Shops": len(shops), "Date": kpi.DateOf(e.now()).String()}))
	if _, err := console.Run(ctx, e.stdin, e.stdout, b, user, channelLang); err != nil && !errors.Is(err, context.Canceled) {
		return fail(e.stderr, p, log, err)
	}
	return 0
}

// openBot opens the store and the bot that answers from it, on the Japanese
// calendar: holidays close customer service, the default logistics pauses
// stop the ship clock. Every command opens the store the same way, or each
// would throw away the daily rollups the other built. The alert engine
// answers the bot's alert commands.
func openBot(ctx context.Context, e env, text *locales.Catalog, dbPath string, settings configSettings, log *slog.Logger) (kpiStore, *bot.Bot, *alert.Manager, error) {
	store, err := openStore(ctx, e, dbPath)
	if err != nil {
		return nil, nil, nil, err
	}
	engine := &kpi.Engine{Store: store, Now: e.now} // one, so that what it learns of the store serves both
	b, err := bot.New(engine, store, store, store, text, e.now, log)
	if err != nil {
		store.Close()
		return nil, nil, nil, err
	}
	b.SetCalendar(calendar.Default())
	b.SetDigestAt(settings.digestAt)
	alerts, err := newAlerts(e, store, engine, text, settings, log)
	if err != nil {
		store.Close()
		return nil, nil, nil, err
	}
	b.SetAlerts(alerts)
	return store, b, alerts, nil
}

// openStore opens the store on the Japanese calendar: PostgreSQL when
// dbPath is a postgres:// URL, else the SQLite file at dbPath.
func openStore(ctx context.Context, e env, dbPath string) (kpiStore, error) {
	cal := calendar.Default()
	if isPostgres(dbPath) {
		return postgres.Open(ctx, dbPath, e.now, postgres.WithHours(cal.Hours(), cal.Fingerprint()))
	}
	return sqlite.Open(ctx, dbPath, e.now, sqlite.WithHours(cal.Hours(), cal.Fingerprint()))
}

// isPostgres tells whether a --db or KPIBOT_DB value names PostgreSQL.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// fail reports err in the user's language and returns exit code 1.
func fail(w io.Writer, p *locales.Printer, log *slog.Logger, err error) int {
	var ke *kpi.Error
	if errors.As(err, &ke) && ke.Key != "" {
		fmt.Fprintln(w, p.T(ke.Key, ke.Args))
		return 1
	}
	fmt.Fprintln(w, p.T("error.unavailable", nil))
	log.Warn("command failed", "err", err)
	return 1
}

// consoleUser names the person at the terminal, whose language /kpi lang keeps.
func consoleUser(getenv func(string) string) string {
	if u := getenv("USER"); u != "" {
		return "console:" + u
	}
	return "console"
}

func dbDefault(getenv func(string) string) string {
	if p := getenv("KPIBOT_DB"); p != "" {
		return p
	}
	return "kpibot.db"
}

// defaultLang reads the language from LANG (ja_JP.UTF-8 → ja); English otherwise.
func defaultLang(getenv func(string) string) locales.Lang {
	for _, k := range []string{"LC_ALL", "LANG"} {
		if l, ok := locales.ParseLang(getenv(k)); ok {
			return l
		}
	}
	return locales.English
}

// langFlagOK reads a --lang value v into *lang (left as it is when v is
// empty); an unknown language is reported in p's and gives false.
func langFlagOK(e env, p *locales.Printer, v string, lang *locales.Lang) bool {
	if v == "" {
		return true
	}
	l, ok := locales.ParseLang(v)
	if !ok {
		fmt.Fprintln(e.stderr, p.T("cli.bad_lang", map[string]any{"Lang": v}))
		return false
	}
	*lang = l
	return true
}
