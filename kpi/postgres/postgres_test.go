package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
	"github.com/kpibot/kpibot/kpi/postgres/pgtest"
	"github.com/kpibot/kpibot/kpi/storetest"
)

// openStore opens a store on dsn with opts, and closes it at the end of the
// test.
func openStore(t *testing.T, dsn string, now func() time.Time, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, now, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openFresh opens a store on a schema of the test's own.
func openFresh(t *testing.T, now func() time.Time, opts ...Option) *Store {
	t.Helper()
	return openStore(t, pgtest.DSN(t), now, opts...)
}

// fixedClock is a clock stopped at at.
func fixedClock(at time.Time) func() time.Time { return func() time.Time { return at } }

var pgShop = kpi.Shop{ID: "s", Platform: kpi.Shopify, Name: "S", Currency: "JPY"}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) kpi.Store {
		s, err := Open(context.Background(), pgtest.DSN(t), now)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s // the suite closes it
	})
}

// count runs a query that returns one number.
func count(t *testing.T, s *Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	now := fixedClock(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	order := kpi.Order{Shop: "s", ID: "o1", Placed: now().Add(-time.Hour), Status: kpi.StatusPending, Total: 700}
	_, versions, err := migrationVersions(migrations)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s, err := Open(ctx, dsn, now)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if n := count(t, s, "SELECT count(*) FROM schema_migrations"); n != int64(len(versions)) || n < 11 {
			t.Errorf("open #%d: %d versions recorded, want %d", i+1, n, len(versions))
		}
		// The data written by the first open is still there.
		st, err := s.Write(ctx, &kpi.Batch{Orders: []kpi.Order{order}})
		if err != nil {
			t.Fatalf("open #%d: write: %v", i+1, err)
		}
		if want := (i > 0); (st.Unchanged == 1) != want {
			t.Errorf("open #%d: %+v", i+1, st)
		}
		s.Close()
	}
}

// TestOpenConcurrently: replicas starting together on an empty schema
// migrate it once and all open.
func TestOpenConcurrently(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	const replicas = 3
	stores := make([]*Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, dsn, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	names, versions, _ := migrationVersions(migrations)
	if n := count(t, stores[0], "SELECT count(*) FROM schema_migrations"); n != int64(len(names)) {
		t.Errorf("%d versions recorded, want %d", n, len(names))
	}
	if n := count(t, stores[0], "SELECT max(version) FROM schema_migrations"); n != versions[len(versions)-1] {
		t.Errorf("latest version %d, want %d", n, versions[len(versions)-1])
	}
	if n := count(t, stores[0], "SELECT count(*) FROM meta"); n != 1 {
		t.Errorf("%d meta rows, want the one of 0006", n)
	}
	for i, s := range stores {
		if err := s.Ping(ctx); err != nil {
			t.Errorf("replica %d: Ping: %v", i, err)
		}
	}
}

func TestOpenNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s := openStore(t, dsn, nil)
	if _, err := s.pool.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES (99)"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dsn, nil); kpi.ErrorCode(err) != kpi.Unavailable || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

// TestOpenUnavailable needs no server: a database that cannot be reached
// is an Unavailable error.store_open naming the DSN without its password,
// which no error shows.
func TestOpenUnavailable(t *testing.T) {
	const secret = "s3cr3t-pw"
	for _, dsn := range []string{
		"postgres://kpibot:" + secret + "@127.0.0.1:1/kpibot?connect_timeout=5",
		"host=127.0.0.1 port=1 user=kpibot password=" + secret + " dbname=kpibot connect_timeout=5",
		"postgres://kpibot@127.0.0.1:1/kpibot?password=" + secret + "&connect_timeout=5",
		"postgres://kpibot:" + secret + "@127.0.0.1:1/kpibot?pool_max_conns=many",
		"",
	} {
		s, err := Open(context.Background(), dsn, nil)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", Redact(dsn))
			continue
		}
		var e *kpi.Error
		if kpi.ErrorCode(err) != kpi.Unavailable || !errors.As(err, &e) || e.Key != "error.store_open" {
			t.Errorf("Open(%q) = %v, want an unavailable error.store_open", Redact(dsn), err)
			continue
		}
		path, _ := e.Args["Path"].(string)
		if strings.Contains(err.Error(), secret) || strings.Contains(path, secret) {
			t.Errorf("the password shows: %v (Path %q)", err, path)
		}
		if dsn != "" && !strings.Contains(path, "127.0.0.1") {
			t.Errorf("Path %q does not name the server", path)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://kpibot:pw@db:5432/kpibot":                   "postgres://kpibot:xxxxx@db:5432/kpibot",
		"postgresql://u:p%40ss@db/k?sslmode=require":            "postgresql://u:xxxxx@db/k?sslmode=require",
		"postgres://u@db/k?password=pw&sslmode=disable":         "postgres://u@db/k?password=xxxxx&sslmode=disable",
		"postgres://u@db/k":                                     "postgres://u@db/k",
		"host=db user=u password=pw dbname=k":                   "host=db user=u password=xxxxx dbname=k",
		"host=db password='p w\\'x' dbname=k":                   "host=db password=xxxxx dbname=k",
		"postgres://u:p w@db:bad port/k":                        "postgres://xxxxx@db:bad port/k",
		"postgres://kpibot:kpibot@127.0.0.1:5432/kpibot_test?a": "postgres://kpibot:xxxxx@127.0.0.1:5432/kpibot_test?a",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWithHoursNeedsFingerprint(t *testing.T) {
	_, err := Open(context.Background(), "postgres://127.0.0.1:1/x", nil, WithHours(kpi.DefaultHours, ""))
	if kpi.ErrorCode(err) != kpi.Unavailable || !strings.Contains(err.Error(), "fingerprint") {
		t.Errorf("Open with an empty fingerprint: %v", err)
	}
}

// TestCodecColumns: every column the shared codecs read and write is in
// the schema, as text where the codec stores a string and an integer
// otherwise.
func TestCodecColumns(t *testing.T) {
	s := openFresh(t, nil)
	checkCodec := func(table string, cols []string, sample []any) {
		t.Helper()
		for i, col := range cols {
			var typ string
			err := s.pool.QueryRow(context.Background(), `SELECT data_type FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`, table, col).Scan(&typ)
			if err != nil {
				t.Errorf("%s.%s: %v", table, col, err)
				continue
			}
			_, isText := sample[i].(string)
			if isText != (typ == "text") || !isText && typ != "bigint" && typ != "smallint" {
				t.Errorf("%s.%s is %s, the codec stores %T", table, col, typ, sample[i])
			}
		}
	}
	checkCodec(sqlstore.Shops.Table, sqlstore.Shops.Columns(), sqlstore.Shops.Row(&kpi.Shop{}))
	checkCodec(sqlstore.Orders.Table, sqlstore.Orders.Columns(), sqlstore.Orders.Row(&kpi.Order{}))
	checkCodec(sqlstore.Shipments.Table, sqlstore.Shipments.Columns(), sqlstore.Shipments.Row(&kpi.Shipment{}))
	checkCodec(sqlstore.Returns.Table, sqlstore.Returns.Columns(), sqlstore.Returns.Row(&kpi.Return{}))
	checkCodec(sqlstore.Reviews.Table, sqlstore.Reviews.Columns(), sqlstore.Reviews.Row(&kpi.Review{}))
	checkCodec(sqlstore.Inventory.Table, sqlstore.Inventory.Columns(), sqlstore.Inventory.Row(&kpi.InventorySnapshot{}))
	checkCodec(sqlstore.Inbound.Table, sqlstore.Inbound.Columns(), sqlstore.Inbound.Row(&kpi.InboundShipment{}))
	checkCodec(sqlstore.Ads.Table, sqlstore.Ads.Columns(), sqlstore.Ads.Row(&kpi.AdDay{}))
	checkCodec(sqlstore.Customs.Table, sqlstore.Customs.Columns(), sqlstore.Customs.Row(&kpi.CustomsEntry{}))
	checkCodec(sqlstore.Tickets.Table, sqlstore.Tickets.Columns(), sqlstore.Tickets.Row(&kpi.Ticket{}))
	checkCodec(sqlstore.AgentShifts.Table, sqlstore.AgentShifts.Columns(), sqlstore.AgentShifts.Row(&kpi.AgentShift{}))
	checkCodec(sqlstore.Listings.Table, sqlstore.Listings.Columns(), sqlstore.Listings.Row(&kpi.Listing{}))
	checkCodec(sqlstore.Competitors.Table, sqlstore.Competitors.Columns(), sqlstore.Competitors.Row(&kpi.CompetitorObservation{}))
}

// TestReviewTextStoredMasked checks the stored column itself.
func TestReviewTextStoredMasked(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	s := openFresh(t, fixedClock(now))
	text := "Contact me at taro.yamada@example.co.jp or 090-1234-5678, the box was crushed"
	review := kpi.Review{Shop: "s", ID: "v1", Posted: now.Add(-48 * time.Hour), Rating: 1, Text: text}
	if _, err := s.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{pgShop}, Reviews: []kpi.Review{review}}); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := s.pool.QueryRow(ctx, "SELECT text FROM reviews WHERE shop = 's' AND id = 'v1'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if want := "Contact me at *** or ***, the box was crushed"; stored != want {
		t.Errorf("stored text %q, want %q", stored, want)
	}
}

// TestRollupsStored checks the rollup rows themselves: one per day read,
// final or fresh by as_of, deleted by a write that touches their day.
func TestRollupsStored(t *testing.T) {
	ctx := context.Background()
	day := kpi.NewDate(2026, 4, 1)
	now := day.AddDays(2).Start().Add(12 * time.Hour) // day+2 is still open
	s := openFresh(t, fixedClock(now))
	order := kpi.Order{Shop: "s", ID: "o1", Placed: day.Start().Add(10 * time.Hour), Status: kpi.StatusUnshipped, Total: 100}
	if _, err := s.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{pgShop}, Orders: []kpi.Order{order}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{"s"}, From: day.AddDays(-10), To: day.AddDays(3), Dists: true}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT count(*) FROM rollups WHERE shop = 's'"); n != 13 {
		t.Errorf("%d rollups after reading 13 days, want 13", n)
	}
	if n := count(t, s, "SELECT count(*) FROM rollups WHERE as_of = $1", now.Unix()); n != 13 {
		t.Errorf("%d rollups with as_of = now, want 13", n)
	}
	// The order touches its day and the 7 before it.
	order.Total = 200
	if _, err := s.Write(ctx, &kpi.Batch{Orders: []kpi.Order{order}}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT count(*) FROM rollups WHERE shop = 's'"); n != 13-8 {
		t.Errorf("%d rollups after the order changed, want %d", n, 13-8)
	}
	if n := count(t, s, "SELECT count(*) FROM rollups WHERE day > $1", int64(day)); n != 2 {
		t.Errorf("%d rollups after the order's day, want 2 untouched", n)
	}
	// Reading again builds the 8 days once more, and only them.
	later := now.Add(time.Second)
	s.now = fixedClock(later)
	if _, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{"s"}, From: day.AddDays(-10), To: day.AddDays(3)}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT count(*) FROM rollups WHERE as_of = $1", later.Unix()); n != 8 {
		t.Errorf("%d rollups rebuilt, want 8", n)
	}
}

// TestKeptAcrossRestart: what a store keeps is there for the next Open.
func TestKeptAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s := openStore(t, dsn, time.Now)
	if err := s.SetUserLang(ctx, "U1", "zh"); err != nil {
		t.Fatal(err)
	}
	if first, err := s.FirstSeen(ctx, "slack:Ev1"); err != nil || !first {
		t.Fatalf("FirstSeen: %v, %v", first, err)
	}
	s.Close()
	s = openStore(t, dsn, time.Now)
	if l, err := s.UserLang(ctx, "U1"); err != nil || l != "zh" {
		t.Errorf("U1: %q, %v, want zh", l, err)
	}
	if first, err := s.FirstSeen(ctx, "slack:Ev1"); err != nil || first {
		t.Errorf("seen again after a restart: %v, %v", first, err)
	}
}

// TestReplicas: stores on one schema, as replicas are, see each other's
// writes; of them recording one webhook delivery at once one finds it new,
// of them using one bind code at once one gets it; and writes and reads
// racing on one shop leave the facts as one write after the other would.
func TestReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	const n = 3
	var stores []*Store
	for range n {
		stores = append(stores, openStore(t, dsn, fixedClock(now)))
	}
	race := func(fn func(i int, s *Store) error) []error {
		errs := make([]error, n*4)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { errs[i] = fn(i, stores[i%n]) })
		}
		wg.Wait()
		return errs
	}

	var firsts sync.Map
	for i, err := range race(func(i int, s *Store) error {
		first, err := s.FirstSeen(ctx, "line:Ev42")
		firsts.Store(i, first)
		return err
	}) {
		if err != nil {
			t.Fatalf("FirstSeen #%d: %v", i, err)
		}
	}
	won := 0
	firsts.Range(func(_, v any) bool {
		if v.(bool) {
			won++
		}
		return true
	})
	if won != 1 {
		t.Errorf("%d replicas found one delivery new, want 1", won)
	}

	if err := stores[0].SaveBindCode(ctx, "h", kpi.BindCode{Channel: kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh"}, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	won = 0
	for _, err := range race(func(_ int, s *Store) error { _, err := s.UseBindCode(ctx, "h", now); return err }) {
		if err == nil {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d replicas got one bind code, want 1", won)
	}

	// Each racer writes its own orders and changes a shared one, and reads
	// the month in between, so that rollups are built while others write.
	day := kpi.NewDate(2026, 5, 10)
	month := kpi.Month(2026, time.May)
	if _, err := stores[0].Write(ctx, &kpi.Batch{Shops: []kpi.Shop{pgShop}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[0].Facts(ctx, kpi.FactQuery{Shops: []string{"s"}, From: month.From, To: month.To}); err != nil {
		t.Fatal(err)
	}
	var inserted sync.Map
	errs := race(func(i int, s *Store) error {
		for j := range 5 {
			b := &kpi.Batch{Orders: []kpi.Order{
				{Shop: "s", ID: fmt.Sprintf("o%d-%d", i, j), Placed: day.AddDays(j).Start().Add(time.Duration(i) * time.Minute),
					Status: kpi.StatusPending, Total: 100, Units: 1},
				{Shop: "s", ID: "shared", Placed: day.AddDays(i % 7).Start(), Status: kpi.StatusPending, Total: 1000, Units: 1},
			}}
			st, err := s.Write(ctx, b)
			if err != nil {
				return err
			}
			inserted.Store(fmt.Sprint(i, j), st.Inserted)
			if _, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{"s"}, From: month.From, To: month.To}); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	total := 0
	inserted.Range(func(_, v any) bool { total += v.(int); return true })
	if want := n*4*5 + 1; total != want {
		t.Errorf("%d records inserted, want %d (each once)", total, want)
	}
	for i, s := range stores {
		m, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{"s"}, From: month.From, To: month.To})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m["s"].Count[kpi.GMV], int64(n*4*5*100+1000); got != want {
			t.Errorf("replica %d: GMV %d, want %d", i, got, want)
		}
	}
}

// TestBulkWrite: batches big enough to be copied (copyMin) and to span
// chunks (writeChunk), mixing new, changed, unchanged and repeated keys,
// count as record-by-record writes would, and the facts follow.
func TestBulkWrite(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 10, 3, 0, 0, 0, time.UTC)
	s := openFresh(t, fixedClock(now))
	order := func(i int, total int64) kpi.Order {
		return kpi.Order{Shop: "s", ID: fmt.Sprintf("o%05d", i), Placed: kpi.NewDate(2026, 11, 1+i%30).Start().Add(time.Hour),
			Status: kpi.StatusPending, Total: total, Units: 1}
	}
	gmv := func() int64 {
		t.Helper()
		m, err := s.Facts(ctx, kpi.FactQuery{Shops: []string{"s"}, From: kpi.NewDate(2026, 11, 1), To: kpi.NewDate(2026, 12, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return m["s"].Count[kpi.GMV]
	}
	write := func(name string, b *kpi.Batch, want kpi.WriteStats) {
		t.Helper()
		if st, err := s.Write(ctx, b); err != nil || st != want {
			t.Errorf("%s: %+v, %v; want %+v", name, st, err, want)
		}
	}

	first := &kpi.Batch{Shops: []kpi.Shop{pgShop}}
	for i := range 1200 {
		first.Orders = append(first.Orders, order(i, 100))
	}
	write("new", first, kpi.WriteStats{Inserted: 1201})
	if got := gmv(); got != 1200*100 {
		t.Errorf("GMV %d after the first batch", got)
	}

	// 600 stored (100 of them changed), 600 new, one new key twice and a
	// stored one twice.
	var second kpi.Batch
	for i := 600; i < 1800; i++ {
		total := int64(100)
		if i < 700 {
			total = 150
		}
		second.Orders = append(second.Orders, order(i, total))
	}
	second.Orders = append(second.Orders, order(1500, 400), order(700, 100))
	write("mixed", &second, kpi.WriteStats{Inserted: 600, Updated: 101, Unchanged: 501})
	if got, want := gmv(), int64(1800*100+100*50+300); got != want {
		t.Errorf("GMV %d after the second batch, want %d", got, want)
	}

	// Keys with a time in them, over more than one chunk, a key in the first
	// chunk repeated in the last.
	var snaps kpi.Batch
	taken := now.Add(-72 * time.Hour)
	for i := range writeChunk + 10 {
		snaps.Inventory = append(snaps.Inventory, kpi.InventorySnapshot{Shop: "s", SKU: fmt.Sprintf("sku%d", i%700),
			Taken: taken.Add(time.Duration(i/700) * time.Minute), OnHand: int64(i)})
	}
	again := snaps.Inventory[3]
	again.OnHand = -1
	snaps.Inventory = append(snaps.Inventory, again)
	write("snapshots", &snaps, kpi.WriteStats{Inserted: writeChunk + 10, Updated: 1})
	write("snapshots again", &snaps, kpi.WriteStats{Unchanged: writeChunk + 9, Updated: 2})
	if n := count(t, s, "SELECT on_hand FROM inventory WHERE sku = 'sku3' AND taken = $1", taken.Unix()); n != -1 {
		t.Errorf("the repeated snapshot has %d on hand, want the last version's -1", n)
	}
}
