package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// syncCmd runs `kpibot sync [--shop ID]`: it pulls each configured shop's
// connector once (or the one shop's), says what each stream did, and
// evaluates the alerts on the new data. Progress is logged on stderr.
func syncCmd(ctx context.Context, e env, text *locales.Catalog, p *locales.Printer, args []string) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbPath := fs.String("db", dbDefault(e.getenv), "SQLite file")
	shopID := fs.String("shop", "", "only this shop")
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
		return usage(p.T("cli.sync_no_args", map[string]any{"Args": strings.Join(fs.Args(), " ")}))
	}
	settings, ok := readConfig(e, p, *configFile)
	if !ok {
		return 2
	}
	var shops []kpi.Shop
	for _, s := range settings.shops {
		shops = append(shops, s.shop)
	}
	if len(shops) == 0 {
		fmt.Fprintln(e.stderr, p.T("cli.sync_no_shops", nil))
		return 2
	}
	if *shopID != "" && !slices.ContainsFunc(shops, func(s kpi.Shop) bool { return s.ID == *shopID }) {
		fmt.Fprintln(e.stderr, p.T("cli.sync_unknown_shop", map[string]any{"Shop": *shopID}))
		return 2
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	store, _, alerts, err := openBot(ctx, e, text, *dbPath, settings, log)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer store.Close()
	conns, err := newConnectors(e, settings, store, *shopID, log)
	if errors.Is(err, errSecretsMissing) {
		fmt.Fprintln(e.stderr, p.T("cli.sync_secrets", map[string]any{"Error": err.Error()}))
		return 2
	}
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	if len(conns) == 0 {
		fmt.Fprintln(e.stderr, p.T("cli.sync_no_connector", nil))
		return 2
	}
	// The shops as the config file names them, before their records.
	if _, err := store.Write(ctx, &kpi.Batch{Shops: shops}); err != nil {
		return fail(e.stderr, p, log, err)
	}
	code := 0
	for _, c := range conns {
		progress, err := c.run(ctx)
		for _, pr := range progress {
			fmt.Fprintln(e.stdout, p.T("cli.sync_stream", map[string]any{"Shop": c.shop.ID, "Stream": pr.Stream, "Pages": pr.Pages,
				"Read": pr.Read, "Rejected": pr.Rejected, "Inserted": pr.Stats.Inserted, "Updated": pr.Stats.Updated, "Unchanged": pr.Stats.Unchanged}))
		}
		if err != nil {
			fmt.Fprintln(e.stderr, p.T("cli.sync_failed", map[string]any{"Shop": c.shop.ID, "Error": err.Error()}))
			code = 1
		}
	}
	// New data is judged at once; kpibot serve sends what that raises.
	if err := errors.Join(alerts.Tick(ctx), warnExpiringKeys(ctx, e.now(), settings, store, text)); err != nil {
		log.Error("kpibot sync: alerts", "err", err)
		code = 1
	}
	return code
}
