package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// TestMigrateGaps: versions may leave gaps, and a migration numbered below
// one already applied (two changes made at once) is applied when it comes;
// a database migrated before schema_migrations existed counts as having
// 1..user_version; one with a version the program lacks is refused.
func TestMigrateGaps(t *testing.T) {
	ctx := context.Background()
	script := func(table string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("CREATE TABLE " + table + " (x INTEGER);")}
	}
	one, two, three := script("t1"), script("t2"), script("t3")
	gap := fstest.MapFS{"migrations/0001_a.sql": one, "migrations/0003_c.sql": three}
	full := fstest.MapFS{"migrations/0001_a.sql": one, "migrations/0002_b.sql": two, "migrations/0003_c.sql": three}

	openDB := func(t *testing.T) *sql.DB {
		t.Helper()
		db, err := sql.Open("sqlite3", dsn(filepath.Join(t.TempDir(), "m.db")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	tables := func(t *testing.T, db *sql.DB) string {
		t.Helper()
		rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 't_' ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		var v int
		if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return strings.Join(names, ",") + " v" + strconv.Itoa(v)
	}
	migrateWith := func(t *testing.T, db *sql.DB, fsys fstest.MapFS) {
		t.Helper()
		if err := migrateFS(ctx, db, fsys); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}

	t.Run("late lower version", func(t *testing.T) {
		db := openDB(t)
		migrateWith(t, db, gap)
		if got := tables(t, db); got != "t1,t3 v3" {
			t.Errorf("with a gap: %s", got)
		}
		migrateWith(t, db, full) // re-running 1 or 3 would fail: the tables exist
		migrateWith(t, db, full)
		if got := tables(t, db); got != "t1,t2,t3 v3" {
			t.Errorf("gap filled: %s", got)
		}
	})
	t.Run("database from before schema_migrations", func(t *testing.T) {
		db := openDB(t)
		for _, q := range []string{"CREATE TABLE t1 (x INTEGER)", "CREATE TABLE t2 (x INTEGER)", "PRAGMA user_version = 2"} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		migrateWith(t, db, full)
		if got := tables(t, db); got != "t1,t2,t3 v3" {
			t.Errorf("legacy: %s", got)
		}
	})
	t.Run("version the program lacks", func(t *testing.T) {
		db := openDB(t)
		migrateWith(t, db, full)
		if err := migrateFS(ctx, db, gap); err == nil || !strings.Contains(err.Error(), "version 2 is unknown") {
			t.Errorf("a program without version 2 on a database with it: %v", err)
		}
	})
	t.Run("same version twice", func(t *testing.T) {
		db := openDB(t)
		twice := fstest.MapFS{"migrations/0001_a.sql": one, "migrations/0002_b.sql": two, "migrations/0002_c.sql": three}
		if err := migrateFS(ctx, db, twice); err == nil || !strings.Contains(err.Error(), "increase") {
			t.Errorf("two migrations numbered 2: %v", err)
		}
	})
}

// TestDigestAtMigration: the channels and unused codes of a database from
// before 0008 keep their bindings and get the default digest time.
func TestDigestAtMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	old := fstest.MapFS{}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasPrefix(filepath.Base(name), "0008") {
			break
		}
		data, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: data}
	}
	if err := migrateFS(ctx, db, old); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO chat_channels (platform, id, role, lang, shops) VALUES ('slack', 'C1', 'shop', 'ja', 'rakuten,yahoo')",
		"INSERT INTO bind_codes (hash, role, lang, shops, expires_at) VALUES ('h', 'hq', 'zh', '', 4102444800)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := kpi.ChatChannel{Platform: "slack", ID: "C1", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten", "yahoo"}}
	if got, ok, err := s.ChatChannel(ctx, "slack", "C1"); err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("after the migration: %+v, %v, %v; want %+v", got, ok, err, want)
	}
	bc, err := s.UseBindCode(ctx, "h", time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
	if err != nil || !reflect.DeepEqual(bc.Channel, kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh"}) {
		t.Errorf("a code from before the migration: %+v, %v", bc, err)
	}
}

// TestShopDataMigration: after 0013 a shop with records counts as having
// data, also one that has no shop_writes row (written before 0009, or
// imported once); a shop registered without records does not.
func TestShopDataMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	placed := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	b := &kpi.Batch{
		Shops: []kpi.Shop{{ID: "a", Platform: kpi.Amazon, Name: "A", Currency: "JPY"}, {ID: "b", Platform: kpi.Rakuten, Name: "B", Currency: "JPY"},
			{ID: "c", Platform: kpi.Yahoo, Name: "C", Currency: "JPY"}},
		Orders:  []kpi.Order{{Shop: "a", ID: "a1", Placed: placed, Status: kpi.StatusPending, Total: 100, Units: 1}},
		Reviews: []kpi.Review{{Shop: "c", ID: "c1", Posted: placed, Rating: 2, Text: "x"}},
	}
	if _, err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Back to before 0013, with a's row gone as if written before 0009.
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DELETE FROM shop_writes WHERE shop = 'a'", "ALTER TABLE shop_writes DROP COLUMN data_at",
		"DELETE FROM schema_migrations WHERE version = 13"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()

	s, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Recorded(ctx, []string{"a", "b", "c"})
	if want := map[string]bool{"a": true, "c": true}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Recorded after 0013 = %v, %v; want %v", got, err, want)
	}
}
