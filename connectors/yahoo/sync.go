package yahoo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kpibot/kpibot/internal/pace"
	"github.com/kpibot/kpibot/kpi"
)

// Store is where a sync writes its records and keeps its cursors.
type Store interface {
	kpi.Writer
	kpi.SyncState
}

// Progress says what the pull of one stream did.
type Progress = kpi.SyncProgress

// Syncer pulls one Yahoo! Shopping store into the store.
type Syncer struct {
	Client *Client
	Shop   kpi.Shop
	Store  Store
	Now    func() time.Time // nil: time.Now
	Log    *slog.Logger     // nil: no logs
	// Since is how far back the first pull reaches; 0: 30 days.
	Since time.Duration
}

// Run pulls the store's orders and their shipments once (the stream
// "orders"), resuming from the stream's cursor.
func (s *Syncer) Run(ctx context.Context) ([]Progress, error) {
	if s.Client == nil || s.Store == nil || s.Shop.ID == "" {
		return nil, errors.New("yahoo: sync: a client, a store and a shop are required")
	}
	log := s.log()
	start := s.now()
	p, err := s.syncOrders(ctx)
	if err != nil {
		pace.LogFailed(ctx, log, "yahoo", "stream", p.Stream, "pages", p.Pages, "read", p.Read, "err", err)
		return []Progress{p}, fmt.Errorf("yahoo: sync %s: %s: %w", s.Shop.ID, p.Stream, err)
	}
	log.Info("yahoo: synced", "stream", p.Stream, "pages", p.Pages, "read", p.Read, "inserted", p.Stats.Inserted,
		"updated", p.Stats.Updated, "unchanged", p.Stats.Unchanged, "took", s.now().Sub(start).Round(time.Millisecond))
	return []Progress{p}, nil
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Syncer) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log.With("connector", "yahoo", "shop", s.Shop.ID)
}

// since is where the first pull starts.
func (s *Syncer) since() time.Time { return s.now().Add(-cmp.Or(s.Since, 30*24*time.Hour)) }
