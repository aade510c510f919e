package amazon

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

// Syncer pulls one Amazon shop into the store.
type Syncer struct {
	Client *Client
	Ads    *AdsClient // nil: the shop's ads are not pulled
	Shop   kpi.Shop
	Store  Store
	Now    func() time.Time // nil: time.Now
	Log    *slog.Logger     // nil: no logs
	// Since is how far back a stream's first pull reaches; 0: 30 days.
	Since time.Duration
}

// Run pulls every stream once: the orders, the reports (returns, FBA
// shipments, inventory, seller feedback) and the ads. A stream that fails
// does not keep the others from theirs; the error names each that failed.
// Each resumes from its cursor.
func (s *Syncer) Run(ctx context.Context) ([]Progress, error) {
	if s.Client == nil || s.Store == nil || s.Shop.ID == "" {
		return nil, errors.New("amazon: sync: a client, a store and a shop are required")
	}
	log := s.log()
	streams := []struct {
		name string
		pull func(context.Context) (Progress, error)
	}{{"orders", s.syncOrders}}
	for _, r := range reports {
		streams = append(streams, struct {
			name string
			pull func(context.Context) (Progress, error)
		}{"report:" + r.name, func(ctx context.Context) (Progress, error) { return s.syncReport(ctx, r) }})
	}
	if s.Ads != nil {
		streams = append(streams, struct {
			name string
			pull func(context.Context) (Progress, error)
		}{"ads", s.syncAds})
	}
	var out []Progress
	var errs []error
	for _, st := range streams {
		start := s.now()
		p, err := st.pull(ctx)
		p.Stream = cmp.Or(p.Stream, st.name)
		out = append(out, p)
		if err != nil {
			pace.LogFailed(ctx, log, "amazon", "stream", st.name, "pages", p.Pages, "read", p.Read, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", st.name, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		log.Info("amazon: synced", "stream", st.name, "pages", p.Pages, "read", p.Read, "rejected", p.Rejected, "inserted", p.Stats.Inserted,
			"updated", p.Stats.Updated, "unchanged", p.Stats.Unchanged, "took", s.now().Sub(start).Round(time.Millisecond))
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("amazon: sync %s: %w", s.Shop.ID, errors.Join(errs...))
	}
	return out, nil
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
	return s.Log.With("connector", "amazon", "shop", s.Shop.ID)
}

// since is where a stream's first pull starts.
func (s *Syncer) since() time.Time { return s.now().Add(-cmp.Or(s.Since, 30*24*time.Hour)) }
