package csvimport_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/csvimport"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

// benchRows is the size of the ERP export of BenchmarkImport1M.
const benchRows = 1_000_000

// writeBenchOrders writes an ERP order export of n rows to path: a year of
// orders, each paid, most shipped (an order and a shipment record), some
// waiting and a few cancelled.
func writeBenchOrders(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "order id,placed,paid,ship by,status,total,units,channel,shipped,carrier,tracking")
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, kpi.Tokyo)
	const layout = "2006-01-02 15:04:05"
	for i := range n {
		placed := start.Add(time.Duration(int64(i)*365*24*3600/int64(n)) * time.Second)
		status, shipped, carrier, tracking := "shipped", placed.Add(20*time.Hour).Format(layout), "yamato", fmt.Sprintf("%012d", 400000000000+i)
		switch i % 20 {
		case 0:
			status, shipped, carrier, tracking = "unshipped", "", "", ""
		case 1:
			status, shipped, carrier, tracking = "cancelled", "", "", ""
		}
		fmt.Fprintf(w, "DXM-%08d,%s,%s,%s,%s,%d,%d,merchant,%s,%s,%s\n", i, placed.Format(layout), placed.Add(3*time.Minute).Format(layout),
			placed.Add(48*time.Hour).Format(layout), status, 980+i%50*100, 1+i%3, shipped, carrier, tracking)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// BenchmarkImport1M imports an ERP export of a million orders into a new
// SQLite store, and compares it with the sqlite3 shell in the same run:
// its .import of the file into a bare table (no key, no index, every value
// text; the goal is as many rows/s), and its .import followed by
// INSERT … SELECT into kpibot's own orders and shipments tables, with their
// keys and indexes (what SQLite itself needs to store these rows as kpibot
// does). Each reports rows/s; kpibot also its ratio to each shell figure
// (vs-shell-bare, vs-shell-tables). Run it with
//
//	go test ./connectors/csvimport -run '^$' -bench Import1M -benchtime 1x -count 3
func BenchmarkImport1M(b *testing.B) {
	dir := b.TempDir()
	file := filepath.Join(dir, "orders.csv")
	start := time.Now()
	if err := writeBenchOrders(file, benchRows); err != nil {
		b.Fatal(err)
	}
	if fi, err := os.Stat(file); err == nil {
		b.Logf("generated %d rows, %d MB, in %v", benchRows, fi.Size()>>20, time.Since(start).Round(time.Millisecond))
	}

	// The shell's rows/s into a bare table, and into kpibot's tables.
	var shellBare, shellTables float64
	b.Run("sqlite3-shell-bare", func(b *testing.B) {
		shellBare = shellImport(b, file, "", "")
	})
	b.Run("sqlite3-shell-kpibot-tables", func(b *testing.B) {
		shellTables = shellImport(b, file, "BEGIN;\n"+shellOrders+";\n"+shellShipments+";\nCOMMIT;\n", "kpibot")
	})

	b.Run("kpibot", func(b *testing.B) {
		ctx := context.Background()
		var elapsed time.Duration
		for i := range b.N {
			b.StopTimer()
			store := newBenchStore(b, filepath.Join(b.TempDir(), fmt.Sprintf("kpi%d.db", i)))
			f, err := os.Open(file)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			t0 := time.Now()
			sum, err := csvimport.Import(ctx, store, shop, csvimport.Orders, f, csvimport.Options{})
			elapsed += time.Since(t0)
			b.StopTimer()
			f.Close()
			store.Close()
			if err != nil || sum.Imported != benchRows {
				b.Fatalf("Import: %v; %+v", err, sum)
			}
		}
		rate := float64(benchRows*b.N) / elapsed.Seconds()
		b.ReportMetric(rate, "rows/s")
		if shellBare > 0 {
			b.ReportMetric(rate/shellBare, "vs-shell-bare")
		}
		if shellTables > 0 {
			b.ReportMetric(rate/shellTables, "vs-shell-tables")
		}
	})

	// Where kpibot's time goes: the parser alone, into a writer that keeps
	// the batches, and the store alone, writing those batches.
	var batches collector
	b.Run("kpibot-parse-only", func(b *testing.B) {
		for range b.N {
			batches = collector{}
			f, err := os.Open(file)
			if err != nil {
				b.Fatal(err)
			}
			sum, err := csvimport.Import(context.Background(), &batches, shop, csvimport.Orders, f, csvimport.Options{})
			f.Close()
			if err != nil || sum.Imported != benchRows {
				b.Fatalf("Import: %v; %+v", err, sum)
			}
		}
		b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("kpibot-store-only", func(b *testing.B) {
		ctx := context.Background()
		for i := range b.N {
			b.StopTimer()
			store := newBenchStore(b, filepath.Join(b.TempDir(), fmt.Sprintf("w%d.db", i)))
			b.StartTimer()
			for _, batch := range batches.all {
				if _, err := store.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			store.Close()
		}
		b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// collector is a kpi.Writer that keeps copies of the batches written.
type collector struct{ all []*kpi.Batch }

func (c *collector) Write(_ context.Context, b *kpi.Batch) (kpi.WriteStats, error) {
	c.all = append(c.all, &kpi.Batch{
		Orders:    slices.Clone(b.Orders),
		Shipments: slices.Clone(b.Shipments),
	})
	return kpi.WriteStats{Inserted: len(b.Orders) + len(b.Shipments)}, nil
}

// The shell's statements that store the rows of a bare table of the
// generated file as kpibot stores them (times in Japan).
const (
	shellOrders = `INSERT INTO orders (shop, id, customer_ref, placed, placed_day, paid, ship_by, promised_by, status, total, units, channel, claim, chargeback)
SELECT 'rk-main', "order id", '', unixepoch(placed) - 32400, unixepoch(placed) / 86400, unixepoch(paid) - 32400, unixepoch("ship by") - 32400,
	NULL, status, total, units, channel, 0, 0 FROM orders_bare`
	shellShipments = `INSERT INTO shipments (shop, id, order_id, shipped, shipped_day, carrier, tracking, delivered, delivered_day, units)
SELECT 'rk-main', "order id", "order id", unixepoch(shipped) - 32400, unixepoch(shipped) / 86400, carrier, tracking, NULL, NULL, units
FROM orders_bare WHERE shipped <> ''`
)

// shellImport runs the sqlite3 shell b.N times on a new database: .import
// of file into the table orders_bare, then script. With schema "kpibot" the
// database is a new kpibot store, else empty. It returns the rows/s, and
// skips when sqlite3 is not on PATH.
func shellImport(b *testing.B, file, script, schema string) float64 {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		b.Skip("sqlite3 is not on PATH")
	}
	var elapsed time.Duration
	for i := range b.N {
		b.StopTimer()
		db := filepath.Join(b.TempDir(), fmt.Sprintf("shell%d.db", i))
		if schema == "kpibot" {
			store, err := sqlite.Open(context.Background(), db, nil)
			if err != nil {
				b.Fatal(err)
			}
			store.Close()
		}
		cmd := exec.Command("sqlite3", "-batch", db)
		cmd.Stdin = strings.NewReader(".mode csv\n.import " + file + " orders_bare\n" + script)
		b.StartTimer()
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		elapsed += time.Since(t0)
		b.StopTimer()
		if err != nil || len(out) > 0 {
			b.Fatalf("sqlite3: %v\n%s", err, out)
		}
	}
	rate := float64(benchRows*b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "rows/s")
	return rate
}

// newBenchStore opens a new kpibot store at path with the benchmark's shop.
func newBenchStore(b *testing.B, path string) *sqlite.Store {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{{ID: shop, Platform: kpi.Rakuten, Name: "bench", Currency: "JPY"}}}); err != nil {
		b.Fatal(err)
	}
	return store
}
