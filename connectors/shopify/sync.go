package shopify

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

// Syncer pulls one Shopify shop into the store.
type Syncer struct {
	Client *Client
	Shop   kpi.Shop
	Store  Store
	Now    func() time.Time // nil: time.Now
	Log    *slog.Logger     // nil: no logs
	// Since is how far back the first pull reaches; 0: 30 days. Without
	// the read_all_orders scope Shopify shows the last 60 days only.
	Since time.Duration
}

// Run pulls every stream once. Shopify has one: the orders, which bring
// their fulfillments (the shipments) and their returns. It resumes from
// the stream's cursor.
func (s *Syncer) Run(ctx context.Context) ([]Progress, error) {
	if s.Client == nil || s.Store == nil || s.Shop.ID == "" {
		return nil, errors.New("shopify: sync: a client, a store and a shop are required")
	}
	log := s.log()
	start := s.now()
	p, err := s.syncOrders(ctx)
	p.Stream = cmp.Or(p.Stream, ordersStream)
	if err != nil {
		pace.LogFailed(ctx, log, "shopify", "stream", p.Stream, "pages", p.Pages, "read", p.Read, "err", err)
		return []Progress{p}, fmt.Errorf("shopify: sync %s: %s: %w", s.Shop.ID, p.Stream, err)
	}
	log.Info("shopify: synced", "stream", p.Stream, "pages", p.Pages, "read", p.Read, "inserted", p.Stats.Inserted,
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
	return s.Log.With("connector", "shopify", "shop", s.Shop.ID)
}

// since is where the first pull starts.
func (s *Syncer) since() time.Time { return s.now().Add(-cmp.Or(s.Since, 30*24*time.Hour)) }
