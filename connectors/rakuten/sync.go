package rakuten

import (
	"cmp"
	"context"
	"encoding/json"
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

const (
	ordersStream = "orders"

	defaultSince   = 30 * 24 * time.Hour
	defaultOverlap = 14 * 24 * time.Hour
)

// Syncer pulls one Rakuten shop into the store.
type Syncer struct {
	Client *Client
	Shop   kpi.Shop // its currency "" or JPY: RMS's amounts are in yen
	Store  Store
	Now    func() time.Time // nil: time.Now
	Log    *slog.Logger     // nil: no logs
	// Since is how far back the first pull reaches; 0: 30 days. RMS keeps
	// orders for 730 days.
	Since time.Duration
	// Overlap is how far back each pull reads again the orders it read
	// before, for what changed since they were placed (shipped,
	// cancelled, paid …): RMS cannot search by last change. Each pull
	// after the first starts Overlap before the end of the one before,
	// also when the first reached back less far. 0: 14 days.
	Overlap time.Duration
}

// Run pulls the shop's orders and their shipments (the stream "orders"),
// resuming from the stream's cursor.
func (s *Syncer) Run(ctx context.Context) ([]Progress, error) {
	if s.Client == nil || s.Store == nil || s.Shop.ID == "" {
		return nil, errors.New("rakuten: sync: a client, a store and a shop are required")
	}
	if c := s.Shop.Currency; c != "" && c != "JPY" {
		return nil, fmt.Errorf("rakuten: sync %s: the shop's currency is %s; RMS's amounts are in JPY", s.Shop.ID, c)
	}
	log := s.log()
	start := s.now()
	p, err := s.syncOrders(ctx)
	if err != nil {
		pace.LogFailed(ctx, log, "rakuten", "stream", ordersStream, "pages", p.Pages, "read", p.Read, "err", err)
		return []Progress{p}, fmt.Errorf("rakuten: sync %s: %s: %w", s.Shop.ID, ordersStream, err)
	}
	log.Info("rakuten: synced", "stream", ordersStream, "pages", p.Pages, "read", p.Read, "inserted", p.Stats.Inserted,
		"updated", p.Stats.Updated, "unchanged", p.Stats.Unchanged, "took", s.now().Sub(start).Round(time.Millisecond))
	return []Progress{p}, nil
}

// ordersCursor is where the orders stream stands, saved as JSON: the
// window of order dates being read and its next page, or, between pulls,
// only where the next window starts.
type ordersCursor struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`   // zero: no window open
	Page  int       `json:"page,omitempty"` // the next page to read, from 1
}

// syncOrders reads the orders placed from the cursor's start until now,
// in windows of at most 63 days (RMS's longest search), each page by
// page: searchOrder lists 1,000 order numbers, getOrder reads them 100 a
// call, and the page's orders and shipments are written together. The
// cursor is saved after each page is written, so that a pull that stops
// resumes at the next page; records are upserts keyed by (shop, id), so
// nothing is counted twice.
//
// When the window that ends now is read, the next pull starts Overlap
// before now: orders change after they are placed, and RMS can only be
// searched by when they were placed, so each pull reads the last Overlap
// of orders again (what did not change is written unchanged). The first
// pull starts Since before now.
func (s *Syncer) syncOrders(ctx context.Context) (Progress, error) {
	log := s.log().With("stream", ordersStream)
	p := Progress{Stream: ordersStream}
	now := s.now().Truncate(time.Second)
	cur, err := s.cursor(ctx, now, log)
	if err != nil {
		return p, err
	}
	for {
		if cur.End.IsZero() {
			if !now.After(cur.Start) {
				return p, nil
			}
			cur.End, cur.Page = minTime(cur.Start.Add(maxWindow), now), 1
		}
		end, err := s.window(ctx, &cur, now, &p, log)
		if err != nil {
			return p, err
		}
		if !end.Before(now) {
			return p, nil
		}
	}
}

// cursor reads the stream's cursor; without one (or with one it cannot
// read) the pull starts at Since before now. A cursor older than RMS
// reaches starts again as far back as RMS reaches.
func (s *Syncer) cursor(ctx context.Context, now time.Time, log *slog.Logger) (ordersCursor, error) {
	raw, err := s.Store.SyncCursor(ctx, s.Shop.ID, ordersStream)
	if err != nil {
		return ordersCursor{}, fmt.Errorf("read cursor: %w", err)
	}
	oldest := now.Add(-reach)
	var cur ordersCursor
	if raw != "" {
		err := json.Unmarshal([]byte(raw), &cur)
		switch {
		case err != nil || cur.Start.IsZero() || !cur.End.IsZero() && (cur.Page < 1 || !cur.End.After(cur.Start)):
			log.Warn("rakuten: orders cursor unreadable, starting again", "cursor", clip(raw, 200))
		case cur.Start.Before(oldest):
			log.Warn("rakuten: orders cursor older than RMS keeps orders, starting at the oldest", "cursor", clip(raw, 200), "start", oldest)
			return ordersCursor{Start: oldest}, nil
		default:
			return cur, nil
		}
	}
	return ordersCursor{Start: maxTime(now.Add(-cmp.Or(s.Since, defaultSince)), oldest)}, nil
}

// window reads cur's window from cur's page to its last, saving the
// cursor after each page, and returns the window's end. At its end cur is
// where the next window starts: the second after the window's end (RMS's
// windows hold both their ends; its times are to the second), or, after
// the window that ends now, Overlap before now. A window that lists more
// orders than a search can reach is halved first.
func (s *Syncer) window(ctx context.Context, cur *ordersCursor, now time.Time, p *Progress, log *slog.Logger) (time.Time, error) {
	for {
		res, err := s.Client.searchOrder(ctx, cur.Start, cur.End, cur.Page)
		if err != nil {
			return time.Time{}, fmt.Errorf("orders placed %s to %s, page %d: %w", rmsString(cur.Start), rmsString(cur.End), cur.Page, err)
		}
		if cur.Page == 1 && res.total >= maxSearchResults && cur.End.Sub(cur.Start) >= 2*time.Second {
			log.Info("rakuten: too many orders for one search, halving the window", "start", cur.Start, "end", cur.End, "orders", res.total)
			cur.End = cur.Start.Add(cur.End.Sub(cur.Start) / 2).Truncate(time.Second)
			continue
		}
		if err := s.page(ctx, res.numbers, p, log); err != nil {
			return time.Time{}, fmt.Errorf("orders placed %s to %s, page %d: %w", rmsString(cur.Start), rmsString(cur.End), cur.Page, err)
		}
		w := *cur
		if cur.Page < res.pages && len(res.numbers) > 0 {
			cur.Page++
		} else {
			next := w.End.Add(time.Second) // the end is in the window
			if !w.End.Before(now) {
				next = now.Add(-cmp.Or(s.Overlap, defaultOverlap))
			}
			*cur = ordersCursor{Start: next}
		}
		if err := s.save(ctx, *cur); err != nil {
			return time.Time{}, err
		}
		log.Debug("rakuten: orders page", "start", w.Start, "end", w.End, "page", w.Page, "of", res.pages, "orders", len(res.numbers))
		if cur.End.IsZero() {
			log.Info("rakuten: orders window read", "start", w.Start, "end", w.End, "pages", res.pages, "orders", res.total, "next", cur.Start)
			return w.End, nil
		}
	}
}

// page reads the orders numbers and writes them with their shipments.
func (s *Syncer) page(ctx context.Context, numbers []string, p *Progress, log *slog.Logger) error {
	orders, err := s.Client.getOrders(ctx, numbers)
	if err != nil {
		return err
	}
	if len(orders) != len(numbers) {
		log.Warn("rakuten: getOrder answered fewer orders than searchOrder listed", "listed", len(numbers), "read", len(orders))
	}
	var b kpi.Batch
	for i := range orders {
		o := &orders[i]
		ord, shipments, err := mapOrder(s.Shop.ID, o)
		if err != nil {
			log.Warn("rakuten: order skipped", "order", o.OrderNumber, "reason", err)
			continue
		}
		b.Orders = append(b.Orders, ord)
		b.Shipments = append(b.Shipments, shipments...)
	}
	stats, err := s.Store.Write(ctx, &b)
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	p.Pages++
	p.Read += len(orders)
	p.Stats.Add(stats)
	return nil
}

// save keeps cur as the stream's cursor.
func (s *Syncer) save(ctx context.Context, cur ordersCursor) error {
	raw, err := json.Marshal(cur)
	if err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	if err := s.Store.SaveSyncCursor(ctx, s.Shop.ID, ordersStream, string(raw)); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
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
	return s.Log.With("connector", "rakuten", "shop", s.Shop.ID)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
