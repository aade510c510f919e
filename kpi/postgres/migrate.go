package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema changes, applied in the order of their names.
// Each name starts with its version: 0001_init.sql is version 1. They are
// kpi/sqlite's migrations for PostgreSQL, with the same names, versions,
// tables and columns (TestMigrationsInStep checks the names): a change to
// one store's schema is made to the other's under the same version.
// Versions increase but may leave gaps; schema_migrations records those a
// database has.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the embedded migrations the database lacks.
func migrate(ctx context.Context, pool *pgxpool.Pool) error { return migrateFS(ctx, pool, migrations) }

// migrateFS applies the migrations of fsys (migrations/*.sql) that the
// schema lacks, in the order of their versions, with their records in
// schema_migrations, all in one transaction under an advisory lock of the
// schema: replicas starting together wait for the first, which migrates,
// and then find nothing left to do; a failed migration leaves the schema
// as it was. A migration numbered below one already applied (version 6
// arriving after 7) is still applied. A schema that has a version this
// program does not know is newer than the program, and is left alone.
func migrateFS(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) error {
	names, versions, err := migrationVersions(fsys)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Without a schema to create tables in (a search_path naming none
		// that exists), current_schema() is NULL and the lock would be too.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('kpibot.migrate:' || current_schema(), 0))
			WHERE current_schema() IS NOT NULL`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY)"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
		if err != nil {
			return err
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		latest := int64(0)
		if len(versions) > 0 {
			latest = versions[len(versions)-1]
		}
		for _, v := range applied {
			if v > latest {
				return fmt.Errorf("schema version %d is newer than this program's %d", v, latest)
			}
			if _, ok := slices.BinarySearch(versions, v); !ok {
				return fmt.Errorf("schema version %d is unknown to this program: the database is newer, or from another branch", v)
			}
		}
		for i, name := range names {
			if _, ok := slices.BinarySearch(applied, versions[i]); ok {
				continue
			}
			script, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			// Without arguments pgx sends the script as a simple query: several statements.
			if _, err := tx.Exec(ctx, string(script)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", versions[i]); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// migrationVersions returns the migrations of fsys by name and their
// versions, which must increase with the names.
func migrationVersions(fsys fs.FS) ([]string, []int64, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql") // sorted
	if err != nil {
		return nil, nil, err
	}
	versions := make([]int64, len(names))
	for i, name := range names {
		version, _, _ := strings.Cut(path.Base(name), "_")
		v, err := strconv.ParseInt(version, 10, 64)
		if err != nil || v < 1 {
			return nil, nil, fmt.Errorf("%s: want a version first in the name", name)
		}
		if i > 0 && v <= versions[i-1] {
			return nil, nil, fmt.Errorf("%s and %s: want versions that increase with the names", names[i-1], name)
		}
		versions[i] = v
	}
	return names, versions, nil
}
