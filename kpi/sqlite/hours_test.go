package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// pauseHours are kpi.DefaultHours with the days [from, to) paused.
func pauseHours(from, to kpi.Date) kpi.BusinessHours {
	h := kpi.DefaultHours
	h.Paused = func(d kpi.Date) bool { return d >= from && d < to }
	return h
}

func tokyoTime(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, kpi.Tokyo)
}

// hoursStore opens the store at path with opts, and closes it at the end of
// the test.
func hoursStore(t *testing.T, path string, now func() time.Time, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, now, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rollupMeta(t *testing.T, s *Store) (fingerprint string, rollups int) {
	t.Helper()
	ctx := context.Background()
	if err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'rollup_hours'").Scan(&fingerprint); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM rollups").Scan(&rollups); err != nil {
		t.Fatal(err)
	}
	return fingerprint, rollups
}

func hoursDayFacts(t *testing.T, s *Store, d kpi.Date) *kpi.Facts {
	t.Helper()
	got, err := s.Facts(context.Background(), kpi.FactQuery{Shops: []string{testShop.ID}, From: d, To: d + 1, Dists: true})
	if err != nil {
		t.Fatal(err)
	}
	return got[testShop.ID]
}

// TestReopenWithOtherHours opens a store with a Golden Week pause, builds a
// final rollup, and reopens it with other hours: the rollup is rebuilt with
// them.
func TestReopenWithOtherHours(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kpi.db")
	now := func() time.Time { return tokyoTime(2026, 5, 20, 12, 0) } // every rollup is final
	paid := tokyoTime(2026, 5, 2, 20, 0)                             // the evening before the pause
	day := kpi.DateOf(paid)
	withPause := WithHours(pauseHours(kpi.NewDate(2026, 5, 3), kpi.NewDate(2026, 5, 6)), "A")
	noPause := WithHours(kpi.DefaultHours, "B")

	s := hoursStore(t, path, now, withPause)
	if fp, n := rollupMeta(t, s); fp != "A" || n != 0 {
		t.Fatalf("new store: fingerprint %q, %d rollups", fp, n)
	}
	_, err := s.Write(context.Background(), &kpi.Batch{
		Shops:     []kpi.Shop{testShop},
		Orders:    []kpi.Order{{Shop: testShop.ID, ID: "o1", Placed: paid, Paid: paid, Status: kpi.StatusShipped, Total: 900, Units: 1}},
		Shipments: []kpi.Shipment{{Shop: testShop.ID, ID: "p1", OrderID: "o1", Shipped: tokyoTime(2026, 5, 6, 9, 0), Carrier: "yamato", Units: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(s *Store, name string, in24, minutes int64) {
		t.Helper()
		f := hoursDayFacts(t, s, day)
		if f.Count[kpi.ShippedIn24h] != in24 || f.Dists[kpi.ShipMinutes].Sum != minutes {
			t.Errorf("%s: ShippedIn24h %d, ship minutes %d; want %d and %d", name, f.Count[kpi.ShippedIn24h], f.Dists[kpi.ShipMinutes].Sum, in24, minutes)
		}
	}
	check(s, "with the pause", 1, 13*60)
	s.Close()

	steps := []struct {
		name    string
		opts    []Option
		rollups int // left after Open
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
		s := hoursStore(t, path, now, st.opts...)
		if fp, n := rollupMeta(t, s); fp != st.fp || n != st.rollups {
			t.Errorf("%s: fingerprint %q and %d rollups, want %q and %d", st.name, fp, n, st.fp, st.rollups)
		}
		check(s, st.name, st.in24, st.minutes)
		s.Close()
	}
}

// TestFinalAfterPause: the rollup of a day before a long pause is final only
// once an order paid at the end of the day would be due.
func TestFinalAfterPause(t *testing.T) {
	clock := tokyoTime(2027, 1, 1, 12, 0)
	now := func() time.Time { return clock }
	s := hoursStore(t, filepath.Join(t.TempDir(), "kpi.db"), now,
		WithHours(pauseHours(kpi.NewDate(2026, 12, 29), kpi.NewDate(2027, 1, 4)), "new year"))
	paid := tokyoTime(2026, 12, 28, 20, 0)
	day := kpi.DateOf(paid)
	_, err := s.Write(context.Background(), &kpi.Batch{
		Shops:  []kpi.Shop{testShop},
		Orders: []kpi.Order{{Shop: testShop.ID, ID: "o1", Placed: paid, Paid: paid, Status: kpi.StatusUnshipped, Total: 900, Units: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	asOf := func() int64 {
		var v int64
		if err := s.db.QueryRow("SELECT as_of FROM rollups WHERE day = ?", int64(day)).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	steps := []struct {
		at    time.Time
		due   int64
		built time.Time // the as_of the rollup should have
	}{
		// Four days on, but the order's 24 hours run only after the pause.
		{tokyoTime(2027, 1, 1, 12, 0), 0, tokyoTime(2027, 1, 1, 12, 0)},
		{tokyoTime(2027, 1, 4, 19, 58), 0, tokyoTime(2027, 1, 4, 19, 58)},
		{tokyoTime(2027, 1, 4, 20, 0), 1, tokyoTime(2027, 1, 4, 20, 0)},
		// Built before 1/5 00:00, when an order paid at midnight would be due: rebuilt.
		{tokyoTime(2027, 1, 5, 0, 30), 1, tokyoTime(2027, 1, 5, 0, 30)},
		// Built after it: final.
		{tokyoTime(2027, 1, 9, 0, 0), 1, tokyoTime(2027, 1, 5, 0, 30)},
	}
	for _, st := range steps {
		clock = st.at
		if got := hoursDayFacts(t, s, day).Count[kpi.ShipDue]; got != st.due {
			t.Errorf("at %v: ShipDue %d, want %d", st.at, got, st.due)
		}
		if got := asOf(); got != st.built.Unix() {
			t.Errorf("at %v: rollup built at %v, want %v", st.at, time.Unix(got, 0).In(kpi.Tokyo), st.built)
		}
	}
}

func TestWithHoursNeedsFingerprint(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "kpi.db"), nil, WithHours(kpi.DefaultHours, ""))
	if kpi.ErrorCode(err) != kpi.Unavailable {
		t.Errorf("Open with an empty fingerprint: %v", err)
	}
}
