package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
	"github.com/kpibot/kpibot/kpi/postgres/pgtest"
)

// pgPauseHours are kpi.DefaultHours with the days [from, to) paused.
func pgPauseHours(from, to kpi.Date) kpi.BusinessHours {
	h := kpi.DefaultHours
	h.Paused = func(d kpi.Date) bool { return d >= from && d < to }
	return h
}

func tokyo(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, kpi.Tokyo)
}

func rollupHours(t *testing.T, s *Store) (fingerprint string, rollups int64) {
	t.Helper()
	if err := s.pool.QueryRow(context.Background(), "SELECT value FROM meta WHERE key = 'rollup_hours'").Scan(&fingerprint); err != nil {
		t.Fatal(err)
	}
	return fingerprint, count(t, s, "SELECT count(*) FROM rollups")
}

func dayFacts(t *testing.T, s *Store, d kpi.Date) *kpi.Facts {
	t.Helper()
	got, err := s.Facts(context.Background(), kpi.FactQuery{Shops: []string{pgShop.ID}, From: d, To: d + 1, Dists: true})
	if err != nil {
		t.Fatal(err)
	}
	return got[pgShop.ID]
}

// TestReopenWithOtherHours opens a store with a Golden Week pause, builds a
// final rollup, and reopens it with other hours: the rollup is rebuilt with
// them.
func TestReopenWithOtherHours(t *testing.T) {
	dsn := pgtest.DSN(t)
	now := fixedClock(tokyo(2026, 5, 20, 12, 0)) // every rollup is final
	paid := tokyo(2026, 5, 2, 20, 0)             // the evening before the pause
	day := kpi.DateOf(paid)
	withPause := WithHours(pgPauseHours(kpi.NewDate(2026, 5, 3), kpi.NewDate(2026, 5, 6)), "A")
	noPause := WithHours(kpi.DefaultHours, "B")

	s := openStore(t, dsn, now, withPause)
	if fp, n := rollupHours(t, s); fp != "A" || n != 0 {
		t.Fatalf("new store: fingerprint %q, %d rollups", fp, n)
	}
	_, err := s.Write(context.Background(), &kpi.Batch{
		Shops:     []kpi.Shop{pgShop},
		Orders:    []kpi.Order{{Shop: pgShop.ID, ID: "o1", Placed: paid, Paid: paid, Status: kpi.StatusShipped, Total: 900, Units: 1}},
		Shipments: []kpi.Shipment{{Shop: pgShop.ID, ID: "p1", OrderID: "o1", Shipped: tokyo(2026, 5, 6, 9, 0), Carrier: "yamato", Units: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(s *Store, name string, in24, minutes int64) {
		t.Helper()
		f := dayFacts(t, s, day)
		if f.Count[kpi.ShippedIn24h] != in24 || f.Dists[kpi.ShipMinutes].Sum != minutes {
			t.Errorf("%s: ShippedIn24h %d, ship minutes %d; want %d and %d", name, f.Count[kpi.ShippedIn24h], f.Dists[kpi.ShipMinutes].Sum, in24, minutes)
		}
	}
	check(s, "with the pause", 1, 13*60)
	s.Close()

	steps := []struct {
		name    string
		opts    []Option
		rollups int64 // left after Open
		fp      string
		in24    int64
		minutes int64
	}{
		{"reopened with the same hours", []Option{withPause}, 1, "A", 1, 13 * 60},
		{"reopened without the pause", []Option{noPause}, 0, "B", 0, 85 * 60},
		{"reopened with the pause again", []Option{withPause}, 0, "A", 1, 13 * 60},
		{"reopened with the default hours", nil, 0, sqlstore.DefaultHours, 0, 85 * 60},
		{"reopened with the default hours again", nil, 1, sqlstore.DefaultHours, 0, 85 * 60},
	}
	for _, st := range steps {
		s := openStore(t, dsn, now, st.opts...)
		if fp, n := rollupHours(t, s); fp != st.fp || n != st.rollups {
			t.Errorf("%s: fingerprint %q and %d rollups, want %q and %d", st.name, fp, n, st.fp, st.rollups)
		}
		check(s, st.name, st.in24, st.minutes)
		s.Close()
	}
}

// TestFinalAfterPause: the rollup of a day before a long pause is final only
// once an order paid at the end of the day would be due.
func TestFinalAfterPause(t *testing.T) {
	clock := tokyo(2027, 1, 1, 12, 0)
	s := openFresh(t, func() time.Time { return clock },
		WithHours(pgPauseHours(kpi.NewDate(2026, 12, 29), kpi.NewDate(2027, 1, 4)), "new year"))
	paid := tokyo(2026, 12, 28, 20, 0)
	day := kpi.DateOf(paid)
	_, err := s.Write(context.Background(), &kpi.Batch{
		Shops:  []kpi.Shop{pgShop},
		Orders: []kpi.Order{{Shop: pgShop.ID, ID: "o1", Placed: paid, Paid: paid, Status: kpi.StatusUnshipped, Total: 900, Units: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at    time.Time
		due   int64
		built time.Time // the as_of the rollup should have
	}{
		// Four days on, but the order's 24 hours run only after the pause.
		{tokyo(2027, 1, 1, 12, 0), 0, tokyo(2027, 1, 1, 12, 0)},
		{tokyo(2027, 1, 4, 19, 58), 0, tokyo(2027, 1, 4, 19, 58)},
		{tokyo(2027, 1, 4, 20, 0), 1, tokyo(2027, 1, 4, 20, 0)},
		// Built before 1/5 00:00, when an order paid at midnight would be due: rebuilt.
		{tokyo(2027, 1, 5, 0, 30), 1, tokyo(2027, 1, 5, 0, 30)},
		// Built after it: final.
		{tokyo(2027, 1, 9, 0, 0), 1, tokyo(2027, 1, 5, 0, 30)},
	}
	for _, st := range steps {
		clock = st.at
		if got := dayFacts(t, s, day).Count[kpi.ShipDue]; got != st.due {
			t.Errorf("at %v: ShipDue %d, want %d", st.at, got, st.due)
		}
		if got := count(t, s, "SELECT as_of FROM rollups WHERE day = $1", int64(day)); got != st.built.Unix() {
			t.Errorf("at %v: rollup built at %v, want %v", st.at, time.Unix(got, 0).In(kpi.Tokyo), st.built)
		}
	}
}
