package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/internal/sqlstore"
)

// Shops returns every shop, ordered by id (bytewise, as SQLite orders).
func (s *Store) Shops(ctx context.Context) ([]kpi.Shop, error) {
	shops, err := query(ctx, s.pool, &sqlstore.Shops, `FROM shops t ORDER BY t.id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: shops: %w", err)
	}
	return shops, nil
}

// Facts returns the facts of each of shops summed over the days [from, to),
// with the catalog facts of the window added. Every shop asked for is in the
// map. A shop id without a kpi.Shop record has zero facts (not even the
// business minutes every day has), whatever records name it. Days without a
// usable rollup are built from the raw records and stored.
//
// What is stored is read in one round trip (readStored); a build takes a
// few more.
func (s *Store) Facts(ctx context.Context, q kpi.FactQuery) (map[string]*kpi.Facts, error) {
	now := s.now()
	out := make(map[string]*kpi.Facts, len(q.Shops))
	var shops []string
	for _, shop := range q.Shops {
		if _, ok := out[shop]; !ok {
			out[shop] = nil
			shops = append(shops, shop)
		}
	}
	if len(shops) == 0 {
		return out, nil
	}
	stored, err := s.readStored(ctx, shops, q, now)
	if err != nil {
		return nil, err
	}
	for _, shop := range shops {
		st, known := stored[shop]
		if !known {
			out[shop] = &kpi.Facts{}
			continue
		}
		f, err := s.shopFacts(ctx, shop, q, st, now)
		if err != nil {
			return nil, err
		}
		out[shop] = f
	}
	return out, nil
}

// storedFacts is what readStored read of a shop: its usable rollups in
// the window, which days they are (by day-from), and its catalog records
// if asked for.
type storedFacts struct {
	days     []*kpi.Facts
	have     []bool
	listings []kpi.Listing
	seen     []kpi.CompetitorObservation
}

// readStored reads, in one batch of statements, which of shops are known,
// and for each the usable stored rollups of the window (with their
// distributions if q.Dists) and its catalog records if q.Catalog. A shop
// that is not known is absent from the map.
func (s *Store) readStored(ctx context.Context, shops []string, q kpi.FactQuery, now time.Time) (map[string]*storedFacts, error) {
	b := &pgx.Batch{}
	b.Queue("SELECT id FROM shops WHERE id = ANY($1::text[])", shops)
	for _, shop := range shops {
		if q.To > q.From {
			b.Queue("SELECT day, as_of, facts FROM rollups WHERE shop = $1 AND day >= $2 AND day < $3",
				shop, int64(q.From), int64(q.To))
		}
		if q.Catalog {
			b.Queue("SELECT "+sqlstore.Listings.List("t")+" FROM listings t WHERE t.shop = $1", shop)
			b.Queue("SELECT "+sqlstore.Competitors.List("t")+" "+competitorsIn, shop, int64(q.From), int64(q.To))
		}
	}
	res := s.pool.SendBatch(ctx, b)
	defer res.Close()
	rows, err := res.Query()
	if err != nil {
		return nil, fmt.Errorf("postgres: facts: read shops: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: facts: read shops: %w", err)
	}
	out := make(map[string]*storedFacts, len(ids))
	for _, id := range ids {
		out[id] = &storedFacts{}
	}
	for _, shop := range shops {
		st := out[shop]
		if st == nil {
			st = &storedFacts{} // read and dropped: an unknown shop has zero facts
		}
		if q.To > q.From {
			if st.days, st.have, err = s.rollups(res, q.From, q.To, q.Dists, now); err != nil {
				return nil, err
			}
		}
		if q.Catalog {
			if st.listings, err = collect(res, &sqlstore.Listings); err != nil {
				return nil, fmt.Errorf("postgres: read listings: %w", err)
			}
			if st.seen, err = collect(res, &sqlstore.Competitors); err != nil {
				return nil, fmt.Errorf("postgres: read competitors: %w", err)
			}
		}
	}
	if err := res.Close(); err != nil {
		return nil, fmt.Errorf("postgres: facts: %w", err)
	}
	return out, nil
}

func (s *Store) shopFacts(ctx context.Context, shop string, q kpi.FactQuery, st *storedFacts, now time.Time) (*kpi.Facts, error) {
	from, to := q.From, q.To
	days := st.days
	// Build each run of consecutive days that lack a usable rollup.
	for d := from; d < to; {
		if st.have[d-from] {
			d++
			continue
		}
		end := d + 1
		for end < to && !st.have[end-from] && end-d < sqlstore.MaxBuildDays {
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
	if q.Catalog {
		cat := kpi.CatalogFacts(st.listings, st.seen, from, to)
		days = append(days, &cat)
	}
	f := kpi.Sum(days)
	return &f, nil
}

// rollups reads the next result of res, the rollups of a shop in [from,
// to), and returns those usable at now, with their distributions if dists,
// and, by day-from, which days they are.
func (s *Store) rollups(res pgx.BatchResults, from, to kpi.Date, dists bool, now time.Time) ([]*kpi.Facts, []bool, error) {
	rows, err := res.Query()
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: read rollups: %w", err)
	}
	defer rows.Close()
	have := make([]bool, to-from)
	var days []*kpi.Facts
	var d, asOf int64
	var blob pgtype.DriverBytes // the driver's memory, valid until the next row: decoded right away
	_, err = pgx.ForEachRow(rows, []any{&d, &asOf, &blob}, func() error {
		if !s.usable(kpi.Date(d), asOf, now) {
			return nil
		}
		day := new(kpi.Facts)
		if err := day.Decode(blob, dists); err != nil {
			return nil // a rollup that does not decode is rebuilt, not fatal
		}
		days = append(days, day)
		have[kpi.Date(d)-from] = true
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: read rollups: %w", err)
	}
	return days, have, nil
}

// build builds the rollups of shop for the days [from, to) from the raw
// records as they stand at now, stores them and returns them. Loading and
// storing share one transaction, which holds the shop's lock (lockShops):
// a Write cannot slip between them and leave a rollup built from records
// it changed.
func (s *Store) build(ctx context.Context, shop string, from, to kpi.Date, now time.Time) (map[kpi.Date]*kpi.Facts, error) {
	var days map[kpi.Date]*kpi.Facts
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockShops(ctx, tx, []string{shop}); err != nil {
			return err
		}
		recs, err := loadRecords(ctx, tx, shop, from, to)
		if err != nil {
			return err
		}
		days = kpi.BuildFacts(recs, from, to, now, s.hours)
		dayNums := make([]int64, 0, len(days))
		blobs := make([][]byte, 0, len(days))
		for d, f := range days {
			blob, err := f.MarshalBinary()
			if err != nil {
				return err
			}
			dayNums = append(dayNums, int64(d))
			blobs = append(blobs, blob)
		}
		_, err = tx.Exec(ctx, `INSERT INTO rollups (shop, day, as_of, facts)
			SELECT $1, day, $2, facts FROM unnest($3::int8[], $4::bytea[]) AS u (day, facts)
			ON CONFLICT (shop, day) DO UPDATE SET as_of = excluded.as_of, facts = excluded.facts`,
			shop, now.Unix(), dayNums, blobs)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: build rollups: %w", err)
	}
	return days, nil
}

// querier runs queries: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// query returns the records of c selected by rest, a FROM clause that calls
// c's table t (or joins it as t).
func query[T any](ctx context.Context, q querier, c *sqlstore.Codec[T], rest string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, "SELECT "+c.List("t")+" "+rest, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return c.Scan(r) })
}

// collect reads the next result of res, records of c.
func collect[T any](res pgx.BatchResults, c *sqlstore.Codec[T]) ([]T, error) {
	rows, err := res.Query()
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return c.Scan(r) })
}
