// Package connectortest holds what the connectors' tests share: a clock their waits move, a captured log, and reading back what a sync stored.
package connectortest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

// Clock is a test's time: Sleep returns at once, moving the clock on by
// what it was asked to wait, and records the waits.
type Clock struct {
	mu    sync.Mutex
	start time.Time
	now   time.Time
	waits []time.Duration
}

// NewClock returns a clock that starts at now.
func NewClock(now time.Time) *Clock { return &Clock{start: now, now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep moves the clock on by d and records the wait, unless ctx is done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	return nil
}

// Advance moves the clock on without a wait.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Waits returns the waits so far.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// TakeWaits returns the waits so far, and forgets them.
func (c *Clock) TakeWaits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.waits
	c.waits = nil
	return w
}

// Elapsed returns how far the clock has moved since NewClock.
func (c *Clock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Sub(c.start)
}

// Log collects a test's logs.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write adds p to the log.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns all that was logged.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger returns a logger writing text into l at Debug.
func (l *Log) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// JSONLogger returns a logger writing JSON into l at Debug.
func (l *Log) JSONLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Entries returns the entries of a JSON log with message msg.
func (l *Log) Entries(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e["msg"] == msg {
			out = append(out, e)
		}
	}
	return out
}

// Store is the SQLite store, calling AfterSave after each cursor it
// saves: a test stops or disturbs a pull there.
type Store struct {
	*sqlite.Store
	AfterSave func(n int) // n: the saves so far
	mu        sync.Mutex
	saves     int
}

// SaveSyncCursor saves the cursor, then calls AfterSave.
func (s *Store) SaveSyncCursor(ctx context.Context, shop, stream, cursor string) error {
	err := s.Store.SaveSyncCursor(ctx, shop, stream, cursor)
	s.mu.Lock()
	s.saves++
	n, hook := s.saves, s.AfterSave
	s.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return err
}

// Saves returns how many cursors s has saved.
func (s *Store) Saves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// OpenStore opens the SQLite store at path on the clock now, holding
// shop; it is closed when the test ends.
func OpenStore(t testing.TB, path string, now func() time.Time, shop kpi.Shop) *sqlite.Store {
	t.Helper()
	store, err := sqlite.Open(t.Context(), path, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Write(t.Context(), &kpi.Batch{Shops: []kpi.Shop{shop}}); err != nil {
		t.Fatal(err)
	}
	return store
}

// OpenDB opens the SQLite file at path for reading behind the store's
// back; it is closed when the test ends.
func OpenDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", path) // the driver kpi/sqlite registers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Records are what a shop's pull stores, by id.
type Records struct {
	Orders    map[string]kpi.Order
	Shipments map[string]kpi.Shipment
	Returns   map[string]kpi.Return
}

// NewRecords returns empty records.
func NewRecords() Records {
	return Records{Orders: map[string]kpi.Order{}, Shipments: map[string]kpi.Shipment{}, Returns: map[string]kpi.Return{}}
}

// Count is how many records r holds.
func (r Records) Count() int { return len(r.Orders) + len(r.Shipments) + len(r.Returns) }

// Stored reads shop's orders, shipments and returns back from the SQLite
// file at path.
func Stored(t testing.TB, path, shop string) Records {
	t.Helper()
	db, err := sql.Open("sqlite3", path) // the driver kpi/sqlite registers
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := func(v sql.NullInt64) time.Time {
		if !v.Valid {
			return time.Time{}
		}
		return time.Unix(v.Int64, 0).UTC()
	}
	query := func(q string, scan func(*sql.Rows) error) {
		rows, err := db.QueryContext(t.Context(), q, shop)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	r := NewRecords()
	query(`SELECT shop, id, customer_ref, placed, paid, ship_by, promised_by, status, total, units, channel, claim, chargeback
		FROM orders WHERE shop = ?`, func(rows *sql.Rows) error {
		var o kpi.Order
		var placed, paid, shipBy, promisedBy sql.NullInt64
		err := rows.Scan(&o.Shop, &o.ID, &o.CustomerRef, &placed, &paid, &shipBy, &promisedBy, &o.Status, &o.Total,
			&o.Units, &o.Channel, &o.Claim, &o.Chargeback)
		o.Placed, o.Paid, o.ShipBy, o.PromisedBy = at(placed), at(paid), at(shipBy), at(promisedBy)
		r.Orders[o.ID] = o
		return err
	})
	query(`SELECT shop, id, order_id, shipped, carrier, tracking, delivered, units FROM shipments WHERE shop = ?`, func(rows *sql.Rows) error {
		var s kpi.Shipment
		var shipped, delivered sql.NullInt64
		err := rows.Scan(&s.Shop, &s.ID, &s.OrderID, &shipped, &s.Carrier, &s.Tracking, &delivered, &s.Units)
		s.Shipped, s.Delivered = at(shipped), at(delivered)
		r.Shipments[s.ID] = s
		return err
	})
	query(`SELECT shop, id, order_id, returned, units, reason FROM returns WHERE shop = ?`, func(rows *sql.Rows) error {
		var ret kpi.Return
		var returned sql.NullInt64
		err := rows.Scan(&ret.Shop, &ret.ID, &ret.OrderID, &returned, &ret.Units, &ret.Reason)
		ret.Returned = at(returned)
		r.Returns[ret.ID] = ret
		return err
	})
	return r
}

// AssertSame checks that got holds exactly the records of a kind
// ("order", ...) wanted, by id.
func AssertSame[T comparable](t testing.TB, kind string, got, want map[string]T) {
	t.Helper()
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s %s not stored", kind, id)
		case g != w:
			t.Errorf("%s %s stored as\n%+v\nwant\n%+v", kind, id, g, w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s %s stored, not wanted", kind, id)
		}
	}
}

// Texts returns every value of every column of every table in db, as
// text: "table.column: value".
func Texts(t testing.TB, db *sql.DB) []string {
	t.Helper()
	ctx := t.Context()
	var tables []string
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT name FROM pragma_table_info(%q)", table))
		if err != nil {
			t.Fatal(err)
		}
		var columns []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			columns = append(columns, c)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		for _, c := range columns {
			rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT CAST(%q AS TEXT) FROM %q", c, table))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v sql.NullString
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				if v.Valid {
					texts = append(texts, table+"."+c+": "+v.String)
				}
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return texts
}

// Files returns the bytes of every file in dir, one after another: a
// database, and its WAL if one is left.
func Files(t testing.TB, dir string) []byte {
	t.Helper()
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, b...)
	}
	return data
}
