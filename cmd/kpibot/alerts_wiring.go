package main

import (
	"log/slog"
	"time"

	"github.com/kpibot/kpibot/bot/alert"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/calendar"
	"github.com/kpibot/kpibot/locales"
)

// newAlerts builds the alert engine over the store, computing with engine
// (the bot's), the one place that wires it: the catalog's default rules with the config file's changes, its
// routes and managers, on the Japanese calendar. A shop's data is stale
// after three of the longest sync interval of the shops with a connector
// (or the freshness rule's own threshold, from the config file).
func newAlerts(e env, store kpiStore, engine *kpi.Engine, text *locales.Catalog, s configSettings, log *slog.Logger) (*alert.Manager, error) {
	var syncEvery time.Duration
	for _, sh := range s.shops {
		if sh.amazon != nil {
			syncEvery = max(syncEvery, sh.every)
		}
	}
	return alert.New(alert.Config{
		SyncEvery:     syncEvery,
		Overrides:     s.overrides,
		Routes:        s.routes,
		Managers:      s.managers,
		ResendAfter:   s.resendAfter,
		EscalateAfter: s.escalateAfter,
		Engine:        engine,
		Store:         store,
		Source:        store,
		Shops:         store,
		Channels:      store,
		Outbox:        store,
		Calendar:      calendar.Default(),
		Text:          text,
		Now:           e.now,
		Log:           log,
	})
}
