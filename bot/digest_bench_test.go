package bot

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
	"github.com/kpibot/kpibot/locales"
)

// benchShops is a store of n shops, each with 30 orders a day, shipped the
// next morning, for the 10 days before now.
func benchShops(b *testing.B, n int, now time.Time) *sqlite.Store {
	b.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), func() time.Time { return now })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	today := kpi.DateOf(now)
	for i := range n {
		id := fmt.Sprintf("shop-%03d", i)
		batch := &kpi.Batch{Shops: []kpi.Shop{{ID: id, Platform: kpi.Platforms[i%len(kpi.Platforms)], Name: fmt.Sprintf("店铺 %03d", i), Currency: "JPY"}}}
		for d := today - 10; d < today; d++ {
			for j := range 30 {
				placed := d.Start().Add(time.Duration(8+j%12) * time.Hour)
				o := kpi.Order{Shop: id, ID: fmt.Sprintf("%s-%s-%02d", id, d, j), Placed: placed, Paid: placed,
					Status: kpi.StatusShipped, Total: int64(1000 + 37*j + i), Units: 1, Channel: kpi.ByMerchant}
				if (i+j)%29 == 0 {
					o.Status = kpi.StatusSellerCancelled
				}
				batch.Orders = append(batch.Orders, o)
				if o.Status == kpi.StatusShipped {
					batch.Shipments = append(batch.Shipments, kpi.Shipment{Shop: id, ID: o.ID + "-p", OrderID: o.ID,
						Shipped: placed.Add(time.Duration(14+(i+j)%20) * time.Hour), Carrier: "yamato", Tracking: "123456789012", Units: 1})
				}
			}
		}
		if _, err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkDigest500Shops writes the morning digests of 500 shops: one
// bilingual digest of all 500 for the hq channel, and 500 one-shop digests
// for shop channels; each computed from the store and laid out as text.
// The store's daily rollups are built before the clock starts, as they
// are by the time the 09:00 digest runs.
func BenchmarkDigest500Shops(b *testing.B) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, kpi.Tokyo)
	s := benchShops(b, 500, now)
	text, err := locales.Load()
	if err != nil {
		b.Fatal(err)
	}
	bt, err := New(&kpi.Engine{Store: s, Now: func() time.Time { return now }}, s, nil, nil, text, func() time.Time { return now }, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	day := kpi.DateOf(now)
	hq := kpi.ChatChannel{Platform: "line", ID: "Chq", Role: kpi.RoleHQ, Lang: "zh"}
	if _, err := bt.Report(ctx, ReportDigest, hq, day); err != nil { // warm the rollups
		b.Fatal(err)
	}
	b.Run("hq-all-500", func(b *testing.B) {
		for b.Loop() {
			r, err := bt.Report(ctx, ReportDigest, hq, day)
			if err != nil || len(r.Sections) != 500 {
				b.Fatalf("%d sections, %v", len(r.Sections), err)
			}
			_ = r.PlainText()
		}
	})
	b.Run("500-shop-channels", func(b *testing.B) {
		for b.Loop() {
			for i := range 500 {
				ch := kpi.ChatChannel{Platform: "slack", ID: "C", Role: kpi.RoleShop, Lang: "ja", Shops: []string{fmt.Sprintf("shop-%03d", i)}}
				r, err := bt.Report(ctx, ReportDigest, ch, day)
				if err != nil || len(r.Sections) != 1 {
					b.Fatalf("%d sections, %v", len(r.Sections), err)
				}
				_ = r.PlainText()
			}
		}
	})
}
