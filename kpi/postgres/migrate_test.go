package postgres

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/postgres/pgtest"
)

// TestMigrationsInStep needs no server: both stores have the same
// migrations, by version and by name, so that a schema change made to one
// is made to the other under the same number.
func TestMigrationsInStep(t *testing.T) {
	byVersion := func(fsys fs.FS) map[int64]string {
		t.Helper()
		names, versions, err := migrationVersions(fsys)
		if err != nil {
			t.Fatal(err)
		}
		out := make(map[int64]string, len(names))
		for i, name := range names {
			out[versions[i]] = path.Base(name)
		}
		return out
	}
	pg := byVersion(migrations)
	lite := byVersion(os.DirFS("../sqlite")) // its migrations/*.sql, which it embeds
	if len(lite) < 11 {
		t.Fatalf("kpi/sqlite has %d migrations: not found?", len(lite))
	}
	for _, v := range slices.Sorted(maps.Keys(lite)) {
		if _, ok := pg[v]; !ok {
			t.Errorf("kpi/sqlite has migration %d (%s), kpi/postgres has not: add migrations/%s", v, lite[v], lite[v])
		}
	}
	for _, v := range slices.Sorted(maps.Keys(pg)) {
		switch name, ok := lite[v]; {
		case !ok:
			t.Errorf("kpi/postgres has migration %d (%s), kpi/sqlite has not", v, pg[v])
		case name != pg[v]:
			t.Errorf("migration %d is %s in kpi/sqlite and %s in kpi/postgres", v, name, pg[v])
		}
	}
}

func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestMigrateGaps: versions may leave gaps, and a migration numbered below
// one already applied (two changes made at once) is applied when it comes;
// a schema with a version the program lacks is refused; a failed migration
// leaves nothing behind.
func TestMigrateGaps(t *testing.T) {
	ctx := context.Background()
	script := func(table string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("CREATE TABLE " + table + " (x bigint);")}
	}
	one, two, three := script("t1"), script("t2"), script("t3")
	gap := fstest.MapFS{"migrations/0001_a.sql": one, "migrations/0003_c.sql": three}
	full := fstest.MapFS{"migrations/0001_a.sql": one, "migrations/0002_b.sql": two, "migrations/0003_c.sql": three}

	tables := func(t *testing.T, pool *pgxpool.Pool) string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT table_name::text FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name LIKE 't_' ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		rows, err = pool.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		var vs []string
		for _, v := range versions {
			vs = append(vs, strconv.FormatInt(v, 10))
		}
		return strings.Join(names, ",") + " v" + strings.Join(vs, ",")
	}
	migrateWith := func(t *testing.T, pool *pgxpool.Pool, fsys fstest.MapFS) {
		t.Helper()
		if err := migrateFS(ctx, pool, fsys); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}

	t.Run("late lower version", func(t *testing.T) {
		pool := testPool(t)
		migrateWith(t, pool, gap)
		if got := tables(t, pool); got != "t1,t3 v1,3" {
			t.Errorf("with a gap: %s", got)
		}
		migrateWith(t, pool, full) // re-running 1 or 3 would fail: the tables exist
		migrateWith(t, pool, full)
		if got := tables(t, pool); got != "t1,t2,t3 v1,2,3" {
			t.Errorf("gap filled: %s", got)
		}
	})
	t.Run("version the program lacks", func(t *testing.T) {
		pool := testPool(t)
		migrateWith(t, pool, full)
		if err := migrateFS(ctx, pool, gap); err == nil || !strings.Contains(err.Error(), "version 2 is unknown") {
			t.Errorf("a program without version 2 on a schema with it: %v", err)
		}
		older := fstest.MapFS{"migrations/0001_a.sql": one}
		if err := migrateFS(ctx, pool, older); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("a program with version 1 alone on a schema with 3: %v", err)
		}
	})
	t.Run("same version twice", func(t *testing.T) {
		pool := testPool(t)
		twice := fstest.MapFS{"migrations/0001_a.sql": one, "migrations/0002_b.sql": two, "migrations/0002_c.sql": three}
		if err := migrateFS(ctx, pool, twice); err == nil || !strings.Contains(err.Error(), "increase") {
			t.Errorf("two migrations numbered 2: %v", err)
		}
	})
	t.Run("failed migration", func(t *testing.T) {
		pool := testPool(t)
		bad := fstest.MapFS{"migrations/0001_a.sql": one, "migrations/0002_b.sql": {Data: []byte("CREATE TABLE t2 (x nonsense);")}}
		if err := migrateFS(ctx, pool, bad); err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
			t.Errorf("a bad migration: %v", err)
		}
		var exists bool
		if err := pool.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL OR to_regclass('t1') IS NOT NULL").Scan(&exists); err != nil || exists {
			t.Errorf("a failed migration left tables behind: %v, %v", exists, err)
		}
	})
}

// TestDigestAtMigration: the channels and unused codes of a schema from
// before 0008 keep their bindings and get the default digest time.
func TestDigestAtMigration(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	old := fstest.MapFS{}
	names, _, err := migrationVersions(migrations)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "0008") {
			break
		}
		data, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: data}
	}
	if err := migrateFS(ctx, pool, old); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO chat_channels (platform, id, role, lang, shops) VALUES ('slack', 'C1', 'shop', 'ja', 'rakuten,yahoo')",
		"INSERT INTO bind_codes (hash, role, lang, shops, expires_at) VALUES ('h', 'hq', 'zh', '', 4102444800)",
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()

	s := openStore(t, dsn, nil)
	want := kpi.ChatChannel{Platform: "slack", ID: "C1", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten", "yahoo"}}
	if got, ok, err := s.ChatChannel(ctx, "slack", "C1"); err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("after the migration: %+v, %v, %v; want %+v", got, ok, err, want)
	}
	bc, err := s.UseBindCode(ctx, "h", time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
	if err != nil || !reflect.DeepEqual(bc.Channel, kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh"}) {
		t.Errorf("a code from before the migration: %+v, %v", bc, err)
	}
}
