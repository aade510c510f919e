package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// bindCode makes a one-time code that binds a chat (a LINE group or chat,
// where nobody can be asked whether they are an admin) and prints it in
// the language of the terminal: --lang is the chat's language. It returns
// the exit code.
func bindCode(ctx context.Context, e env, p *locales.Printer, args []string) int {
	fs := flag.NewFlagSet("bind-code", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbPath := fs.String("db", dbDefault(e.getenv), "SQLite file")
	roleFlag := fs.String("role", "", "hq, jp-support or shop")
	langFlag := fs.String("lang", "", "the chat's language: zh, ja, en or zh+ja")
	shopsFlag := fs.String("shops", "", "the shops or platforms the chat sees, comma-separated; all if empty")
	configFile := fs.String("config", "", "the config file (default: $KPIBOT_CONFIG), for schedules.digest_at")
	digestAtFlag := fs.String("digest-at", "", "when the chat gets the daily digest, HH:MM JST; the config file's schedules.digest_at (else 09:00) if empty")
	usage := func(msg string) int {
		fmt.Fprintln(e.stderr, msg)
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return usage(p.T("cli.bad_flags", map[string]any{"Error": err.Error()}))
	}
	if fs.NArg() > 0 {
		return usage(p.T("cli.bind_code_no_args", map[string]any{"Args": strings.Join(fs.Args(), " ")}))
	}
	role := kpi.Role(strings.TrimSpace(*roleFlag))
	if role == "" {
		fmt.Fprintln(e.stderr, p.T("cli.role_needed", nil))
		return 2
	}
	if !slices.Contains(kpi.Roles, role) {
		fmt.Fprintln(e.stderr, p.T("cli.bad_role", map[string]any{"Role": *roleFlag}))
		return 2
	}
	c := kpi.ChatChannel{Role: role, Lang: cmp.Or(role.Lang(), string(p.Lang))}
	var lang locales.Lang
	if !langFlagOK(e, p, *langFlag, &lang) {
		return 2
	}
	if lang != "" {
		c.Lang = string(lang)
	}
	if at := strings.TrimSpace(*digestAtFlag); at != "" {
		d, err := kpi.ParseClock(bot.Normalize(at)) // ０８：３０ too
		if err != nil {
			fmt.Fprintln(e.stderr, p.T("error.bad_clock", map[string]any{"Text": *digestAtFlag}))
			return 2
		}
		c.DigestAt = kpi.FormatClock(d)
	}

	settings, ok := readConfig(e, p, *configFile) // schedules.digest_at: the default time
	if !ok {
		return 2
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := openStore(ctx, e, *dbPath)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer store.Close()
	if c.Shops, err = shopsNamed(ctx, store, *shopsFlag); err != nil {
		return fail(e.stderr, p, log, err)
	}
	code, bc, err := bot.NewBindCode(ctx, store, c, e.now())
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	fmt.Fprintln(e.stdout, bot.BindCodeReply(p, code, bc, settings.digestAt).Text)
	return 0
}

// shopsNamed reads a comma-separated list of shop ids and platforms, a
// platform standing for its shops.
func shopsNamed(ctx context.Context, lister bot.ShopLister, list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	shops, err := lister.Shops(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, s := range shops {
			if s.ID == name || string(s.Platform) == name {
				found = true
				if !slices.Contains(ids, s.ID) {
					ids = append(ids, s.ID)
				}
			}
		}
		switch {
		case found:
		case slices.Contains(kpi.Platforms, kpi.Platform(name)):
			return nil, kpi.Errorf(kpi.NotFound, "error.no_shops_on_platform", map[string]any{"Platform": name}, nil)
		default:
			return nil, kpi.Errorf(kpi.NotFound, "error.unknown_shop", map[string]any{"Shop": name}, nil)
		}
	}
	return ids, nil
}
