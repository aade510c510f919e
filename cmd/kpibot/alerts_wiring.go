package main

import (
	"log/slog"

	"github.com/kpibot/kpibot/bot/alert"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/calendar"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

// newAlerts builds the alert engine over the store, the one place that
// wires it: the catalog's default rules with the config file's changes, its
// routes and managers, on the Japanese calendar. Data freshness is watched
// by default once connectors sync on a schedule (their issues), and
// earlier where the config file gives the freshness rule a threshold.
func newAlerts(e env, store *sqlite.Store, text *locales.Catalog, s alertSettings, log *slog.Logger) (*alert.Manager, error) {
	return alert.New(alert.Config{
		Overrides:     s.overrides,
		Routes:        s.routes,
		Managers:      s.managers,
		ResendAfter:   s.resendAfter,
		EscalateAfter: s.escalateAfter,
		Engine:        &kpi.Engine{Store: store, Now: e.now},
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
