package main

import (
	"context"

	"github.com/kpibot/kpibot/kpi"
)

// kpiStore is what the commands need of the database: the embedded SQLite
// file, or PostgreSQL for several replicas (a postgres:// URL as --db or
// KPIBOT_DB).
type kpiStore interface {
	kpi.Store
	kpi.ChatChannels
	kpi.BindCodes
	kpi.ChannelLister
	kpi.Outbox
	kpi.AlertStore
	kpi.AlertSource
	kpi.SyncState
	UserLang(ctx context.Context, user string) (string, error)
	SetUserLang(ctx context.Context, user, lang string) error
	FirstSeen(ctx context.Context, key string) (bool, error)
	Ping(ctx context.Context) error
	AlertCounts(ctx context.Context) (map[string]int, error)
	Close() error
}
