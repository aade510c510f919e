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
// wires it: the catalog's default rules on the Japanese calendar. Data
// freshness is watched once connectors sync on a schedule (their issues);
// until then syncEvery is 0 and no shop is reported stale.
func newAlerts(e env, store *sqlite.Store, text *locales.Catalog, log *slog.Logger) (*alert.Manager, error) {
	return alert.New(alert.Config{
		Engine:   &kpi.Engine{Store: store, Now: e.now},
		Store:    store,
		Source:   store,
		Shops:    store,
		Channels: store,
		Outbox:   store,
		Calendar: calendar.Default(),
		Text:     text,
		Now:      e.now,
		Log:      log,
	})
}
