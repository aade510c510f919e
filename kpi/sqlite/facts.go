package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// The rollup policy (when a stored rollup may be used, how many days a
// build loads) is shared with kpi/postgres.
const (
	freshFor     = sqlstore.FreshFor
	maxBuildDays = sqlstore.MaxBuildDays
)

// Shops returns every shop, ordered by id.
func (s *Store) Shops(ctx context.Context) ([]kpi.Shop, error) {
	shops, err := query(ctx, s.db, shopCodec, "FROM shops t ORDER BY t.id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: shops: %w", err)
	}
	return shops, nil
}

// Facts returns the facts of each of shops summed over the days [from, to),
// with the catalog facts of the window added. Every shop asked for is in the
// map. A shop id without a kpi.Shop record has zero facts (not even the
// business minutes every day has), whatever records name it. Days without a
// usable rollup are built from the raw records and stored.
func (s *Store) Facts(ctx context.Context, q kpi.FactQuery) (map[string]*kpi.Facts, error) {
	shops := q.Shops
	now := s.now()
	out := make(map[string]*kpi.Facts, len(shops))
	for _, shop := range shops {
		if _, ok := out[shop]; ok {
			continue
		}
		var known bool
		err := s.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM shops WHERE id = ?)", shop).Scan(&known)
		if err != nil {
			return nil, fmt.Errorf("sqlite: facts: read shop: %w", err)
		}
		if !known {
			out[shop] = &kpi.Facts{}
			continue
		}
		f, err := s.shopFacts(ctx, shop, q, now)
		if err != nil {
			return nil, err
		}
		out[shop] = f
	}
	return out, nil
}

func (s *Store) shopFacts(ctx context.Context, shop string, q kpi.FactQuery, now time.Time) (*kpi.Facts, error) {
	from, to, dists := q.From, q.To, q.Dists
	var days []*kpi.Facts
	if to > from {
		stored, have, err := s.rollups(ctx, shop, from, to, dists, now)
		if err != nil {
			return nil, err
		}
		days = stored
		// Build each run of consecutive days that lack a usable rollup.
		for d := from; d < to; {
			if have[d-from] {
				d++
				continue
			}
			end := d + 1
			for end < to && !have[end-from] && end-d < maxBuildDays {
				end++
			}
			built, err := s.build(ctx, shop, d, end, now)
			if err != nil {
				return nil, err
			}
			for _, day := range built {
				days = append(days, day)
			}
			d = end
		}
	}
	if q.Catalog {
		cat, err := s.catalog(ctx, shop, from, to)
		if err != nil {
			return nil, err
		}
		days = append(days, &cat)
	}
	f := kpi.Sum(days)
	return &f, nil
}

// rollups returns the usable stored rollups of shop in [from, to), with
// their distributions if dists, and reports, by day-from, which days they are.
func (s *Store) rollups(ctx context.Context, shop string, from, to kpi.Date, dists bool, now time.Time) ([]*kpi.Facts, []bool, error) {
	rows, err := s.db.QueryContext(ctx, rollupsIn, shop, int64(from), int64(to))
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: read rollups: %w", err)
	}
	defer rows.Close()
	have := make([]bool, to-from)
	var days []*kpi.Facts
	for rows.Next() {
		var d, asOf int64
		var blob sql.RawBytes // valid until Next: decoded right away
		if err := rows.Scan(&d, &asOf, &blob); err != nil {
			return nil, nil, fmt.Errorf("sqlite: read rollups: %w", err)
		}
		if !s.usable(kpi.Date(d), asOf, now) {
			continue
		}
		day := new(kpi.Facts)
		if err := day.Decode(blob, dists); err != nil {
			// A rollup that does not decode is rebuilt, not fatal.
			continue
		}
		days = append(days, day)
		have[kpi.Date(d)-from] = true
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("sqlite: read rollups: %w", err)
	}
	return days, have, nil
}

// build builds the rollups of shop for the days [from, to) from the raw
// records as they stand at now, stores them and returns them. Loading and
// storing share one transaction, which holds the write lock: a Write cannot
// slip between them and leave a rollup built from records it changed.
func (s *Store) build(ctx context.Context, shop string, from, to kpi.Date, now time.Time) (map[kpi.Date]*kpi.Facts, error) {
	var days map[kpi.Date]*kpi.Facts
	err := s.writeTx(ctx, func(c *sql.Conn) error {
		recs, err := loadRecords(ctx, c, shop, from, to)
		if err != nil {
			return err
		}
		days = kpi.BuildFacts(recs, from, to, now, s.hours)
		st, err := c.PrepareContext(ctx, "INSERT OR REPLACE INTO rollups (shop, day, as_of, facts) VALUES (?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer st.Close()
		for d, f := range days {
			blob, err := f.MarshalBinary()
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, shop, int64(d), now.Unix(), blob); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: build rollups: %w", err)
	}
	return days, nil
}

// catalog returns the catalog facts of shop: its listings as they are, and
// the competitor offers seen in [from, to).
func (s *Store) catalog(ctx context.Context, shop string, from, to kpi.Date) (kpi.Facts, error) {
	listings, err := query(ctx, s.db, listingCodec, "FROM listings t WHERE t.shop = ?", shop)
	if err != nil {
		return kpi.Facts{}, fmt.Errorf("sqlite: read listings: %w", err)
	}
	seen, err := query(ctx, s.db, competitorCodec, competitorsIn, shop, int64(from), int64(to))
	if err != nil {
		return kpi.Facts{}, fmt.Errorf("sqlite: read competitors: %w", err)
	}
	return kpi.CatalogFacts(listings, seen, from, to), nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// query returns the records of c selected by rest, a FROM clause that calls
// c's table t (or joins it as t).
func query[T any](ctx context.Context, q querier, c *codec[T], rest string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+c.List("t")+" "+rest, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		rec, err := c.Scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}
