package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/storetest"
)

func open(t *testing.T, now func() time.Time) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "kpi.db"), now)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

var testShop = kpi.Shop{ID: "s", Platform: kpi.Shopify, Name: "S", Currency: "JPY"}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) kpi.Store { return open(t, now) })
}

func TestOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kpi.db")
	now := func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }
	order := kpi.Order{Shop: "s", ID: "o1", Placed: now().Add(-time.Hour), Status: kpi.StatusPending, Total: 700}
	for i := range 3 {
		s, err := Open(ctx, path, now)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		var version int
		if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			t.Fatal(err)
		}
		if names, _ := fs.Glob(migrations, "migrations/*.sql"); version != len(names) || version < 2 {
			t.Errorf("open #%d: user_version = %d, want %d", i+1, version, len(names))
		}
		var mode string
		if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("open #%d: journal_mode = %q, %v; want wal", i+1, mode, err)
		}
		// The data written by the first open is still there.
		st, err := s.Write(ctx, &kpi.Batch{Orders: []kpi.Order{order}})
		if err != nil {
			t.Fatalf("open #%d: write: %v", i+1, err)
		}
		if want := (i > 0); (st.Unchanged == 1) != want {
			t.Errorf("open #%d: %+v", i+1, st)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kpi.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path, nil); kpi.ErrorCode(err) != kpi.Unavailable || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

func TestOpenUnwritable(t *testing.T) {
	for _, path := range []string{
		filepath.Join(t.TempDir(), "missing", "kpi.db"),
		"/proc/kpibot-test.db",
		"",
	} {
		s, err := Open(context.Background(), path, nil)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
			continue
		}
		var e *kpi.Error
		if kpi.ErrorCode(err) != kpi.Unavailable || !errors.As(err, &e) || e.Key != "error.store_open" || e.Args["Path"] != path {
			t.Errorf("Open(%q) = %v, want an unavailable error.store_open naming the path", path, err)
		}
	}
}

func TestReviewTextMasked(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	s := open(t, func() time.Time { return now })
	defer s.Close()
	text := "Contact me at taro.yamada@example.co.jp or 090-1234-5678, the box was crushed"
	review := kpi.Review{Shop: "s", ID: "v1", Posted: now.Add(-48 * time.Hour), Rating: 1, Text: text}
	b := &kpi.Batch{Shops: []kpi.Shop{testShop}, Reviews: []kpi.Review{review}}
	if _, err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.Reviews[0].Text != text {
		t.Errorf("Write changed the caller's batch: %q", b.Reviews[0].Text)
	}
	var stored string
	if err := s.db.QueryRowContext(ctx, "SELECT text FROM reviews WHERE shop = 's' AND id = 'v1'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if want := "Contact me at *** or ***, the box was crushed"; stored != want {
		t.Errorf("stored text %q, want %q", stored, want)
	}
	// Writing the unmasked text again changes nothing.
	if st, err := s.Write(ctx, b); err != nil || st != (kpi.WriteStats{Unchanged: 2}) {
		t.Errorf("second write: %+v, %v", st, err)
	}
	d := kpi.DateOf(review.Posted)
	m, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{"s"}, From: d, To: d + 1, Dists: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := m["s"].Count[kpi.NegativeReviews]; got != 1 {
		t.Errorf("negative reviews = %d, want 1", got)
	}
}

// TestRollupsStored checks the rollup rows themselves: one per day read,
// final or fresh by as_of, deleted by a write that touches their day.
func TestRollupsStored(t *testing.T) {
	ctx := context.Background()
	day := kpi.NewDate(2026, 4, 1)
	now := day.AddDays(2).Start().Add(12 * time.Hour) // day+2 is still open
	s := open(t, func() time.Time { return now })
	defer s.Close()
	order := kpi.Order{Shop: "s", ID: "o1", Placed: day.Start().Add(10 * time.Hour), Status: kpi.StatusUnshipped, Total: 100}
	if _, err := s.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{testShop}, Orders: []kpi.Order{order}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{"s"}, From: day.AddDays(-10), To: day.AddDays(3), Dists: true}); err != nil {
		t.Fatal(err)
	}
	count := func(where string) int {
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM rollups WHERE "+where).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("shop = 's'"); n != 13 {
		t.Errorf("%d rollups after reading 13 days, want 13", n)
	}
	if n := count("as_of = " + itoa(now.Unix())); n != 13 {
		t.Errorf("%d rollups with as_of = now, want 13", n)
	}
	// The order touches its day and the 7 before it.
	order.Total = 200
	if _, err := s.Write(ctx, &kpi.Batch{Orders: []kpi.Order{order}}); err != nil {
		t.Fatal(err)
	}
	if n := count("shop = 's'"); n != 13-8 {
		t.Errorf("%d rollups after the order changed, want %d", n, 13-8)
	}
	if n := count("day > " + itoa(int64(day))); n != 2 {
		t.Errorf("%d rollups after the order's day, want 2 untouched", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestUserLang(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "prefs.db")
	s, err := Open(ctx, path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := s.UserLang(ctx, "U1"); err != nil || l != "" {
		t.Fatalf("unset: %q, %v", l, err)
	}
	for _, lang := range []string{"ja", "zh"} {
		if err := s.SetUserLang(ctx, "U1", lang); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(ctx, path, time.Now) // kept across a restart
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, err := s.UserLang(ctx, "U1"); err != nil || l != "zh" {
		t.Errorf("U1: %q, %v, want zh", l, err)
	}
	if l, _ := s.UserLang(ctx, "U2"); l != "" {
		t.Errorf("U2 has %q", l)
	}
}

func TestFirstSeen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seen.db")
	s, err := Open(ctx, path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if first, err := s.FirstSeen(ctx, "slack:Ev1"); err != nil || first != want {
			t.Errorf("try %d: %v, %v; want %v", i, first, err, want)
		}
	}
	s.Close()
	s, err = Open(ctx, path, time.Now) // a restart remembers
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if first, _ := s.FirstSeen(ctx, "slack:Ev1"); first {
		t.Error("seen again after a restart")
	}
	if first, _ := s.FirstSeen(ctx, "line:Ev1"); !first {
		t.Error("another key was taken as seen")
	}
}
