// Package demo is a deterministic synthetic marketplace that fills a store with three shops for the demo.
package demo

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// Days is how many JST days of history Seed writes, today included.
const Days = 120

const (
	seed      = 0x6b70_6962_6f74 // "kpibot": the same records on every run
	batchSize = 3000             // records of one kind written together, about 20 days of amazon-jp orders
)

// Seed writes 120 days of records of three shops (amazon-jp, rakuten and
// yahoo), ending at now, through w, in batches of up to 3000 records of one
// kind, oldest first. The same now always gives the same records with the
// same ids, so seeding twice changes nothing. Nothing written happens after
// now; only the ship-by and delivery deadlines of recent orders lie ahead.
func Seed(ctx context.Context, w kpi.Writer, now time.Time) (kpi.WriteStats, error) {
	var total kpi.WriteStats
	t := newTimeline(now)
	for _, p := range profiles() {
		for _, part := range split(generate(t, p)) {
			if err := ctx.Err(); err != nil {
				return total, fmt.Errorf("demo: %w", err)
			}
			st, err := w.Write(ctx, part.batch)
			if err != nil {
				return total, fmt.Errorf("demo: write %s %s: %w", p.shop.ID, part.kind, err)
			}
			total.Add(st)
		}
	}
	return total, nil
}

// shopGen generates every record of one shop into b.
type shopGen struct {
	t timeline
	p profile
	b *kpi.Batch

	customers []string             // customer refs that have ordered, for repeat orders
	delivered map[string]time.Time // delivery time by order id
	reviewed  map[string]bool      // orders with a review
}

func generate(t timeline, p profile) *kpi.Batch {
	g := &shopGen{
		t:         t,
		p:         p,
		b:         &kpi.Batch{Shops: []kpi.Shop{p.shop}},
		delivered: make(map[string]time.Time),
		reviewed:  make(map[string]bool),
	}
	g.orders()
	g.tickets()
	g.shifts()
	g.inventory()
	g.customs()
	g.ads()
	g.catalog()
	return g.b
}

// rand returns the shop's random stream for one kind of record.
func (g *shopGen) rand(name string) *rand.Rand { return newRand(g.p.shop.ID, name) }

// volume is the order volume of day d relative to an ordinary weekday.
func (g *shopGen) volume(d kpi.Date) float64 {
	f := 1.0
	if weekend(d) {
		f = g.p.weekendBoost
	}
	if g.p.pointDays && d.Day()%5 == 0 {
		f *= 1.4
	}
	if g.t.holiday(d) {
		f *= 0.55
	}
	return f
}

// active reports whether s is listed on day d.
func (g *shopGen) active(s sku, d kpi.Date) bool { return d >= g.launchDay(s) }

func (g *shopGen) launchDay(s sku) kpi.Date { return g.t.today - kpi.Date(s.ageDays) }

// part is one batch to write and the kind of records it holds, for errors.
type part struct {
	kind  string
	batch *kpi.Batch
}

// split cuts a shop's records into batches: the shop and its listings
// first, then each kind, orders before what refers to them. Records are
// generated roughly in time order, so a batch spans a few weeks.
func split(all *kpi.Batch) []part {
	parts := []part{{"shop", &kpi.Batch{Shops: all.Shops, Listings: all.Listings}}}
	parts = appendChunks(parts, "orders", all.Orders, func(c []kpi.Order) *kpi.Batch { return &kpi.Batch{Orders: c} })
	parts = appendChunks(parts, "shipments", all.Shipments, func(c []kpi.Shipment) *kpi.Batch { return &kpi.Batch{Shipments: c} })
	parts = appendChunks(parts, "returns", all.Returns, func(c []kpi.Return) *kpi.Batch { return &kpi.Batch{Returns: c} })
	parts = appendChunks(parts, "reviews", all.Reviews, func(c []kpi.Review) *kpi.Batch { return &kpi.Batch{Reviews: c} })
	parts = appendChunks(parts, "inventory", all.Inventory, func(c []kpi.InventorySnapshot) *kpi.Batch { return &kpi.Batch{Inventory: c} })
	parts = appendChunks(parts, "inbound shipments", all.Inbound, func(c []kpi.InboundShipment) *kpi.Batch { return &kpi.Batch{Inbound: c} })
	parts = appendChunks(parts, "ads", all.Ads, func(c []kpi.AdDay) *kpi.Batch { return &kpi.Batch{Ads: c} })
	parts = appendChunks(parts, "customs entries", all.Customs, func(c []kpi.CustomsEntry) *kpi.Batch { return &kpi.Batch{Customs: c} })
	parts = appendChunks(parts, "tickets", all.Tickets, func(c []kpi.Ticket) *kpi.Batch { return &kpi.Batch{Tickets: c} })
	parts = appendChunks(parts, "agent shifts", all.AgentShifts, func(c []kpi.AgentShift) *kpi.Batch { return &kpi.Batch{AgentShifts: c} })
	parts = appendChunks(parts, "competitor observations", all.Competitors, func(c []kpi.CompetitorObservation) *kpi.Batch { return &kpi.Batch{Competitors: c} })
	return parts
}

// appendChunks appends recs to parts in batches of at most batchSize.
func appendChunks[T any](parts []part, kind string, recs []T, batch func([]T) *kpi.Batch) []part {
	for _, c := range chunk(recs) {
		parts = append(parts, part{kind, batch(c)})
	}
	return parts
}

// chunk cuts recs into runs of at most batchSize.
func chunk[T any](recs []T) [][]T {
	var out [][]T
	for len(recs) > 0 {
		n := min(len(recs), batchSize)
		out = append(out, recs[:n:n])
		recs = recs[n:]
	}
	return out
}

// round10 rounds yen to tens, as shop prices are.
func round10(yen float64) int64 { return int64(yen/10+0.5) * 10 }

// clamp limits v to [lo, hi].
func clamp[T cmp.Ordered](v, lo, hi T) T { return min(max(v, lo), hi) }
