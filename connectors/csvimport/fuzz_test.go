package csvimport_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kpibot/kpibot/connectors/csvimport"
	"github.com/kpibot/kpibot/kpi"
)

// FuzzImport reads any bytes as any kind, with or without a caller's
// header: it never panics, never writes a record the store would refuse,
// fails only with a *kpi.Error that names the problem, and accounts for
// every row it read.
func FuzzImport(f *testing.F) {
	seeds := map[string]csvimport.Kind{
		"orders_zh.csv": csvimport.Orders, "orders_ja.csv": csvimport.Orders, "orders_en.tsv": csvimport.Orders,
		"reviews.csv": csvimport.Reviews, "tickets.csv": csvimport.Tickets, "shifts.csv": csvimport.Shifts,
		"customs.csv": csvimport.Customs, "listings.csv": csvimport.Listings, "competitors.csv": csvimport.Competitors,
		"inventory.csv": csvimport.Inventory, "ads.csv": csvimport.Ads,
	}
	for name, kind := range seeds {
		f.Add(uint8(indexOf(kind)), readFile(f, name), "")
	}
	f.Add(uint8(0), []byte(orderHeader+"A1,2026-11-20 10:00,,\"shipped\n\",100,1,\nA1,2026-13-45,,,1\"00,x\n"), "placed=paid")
	f.Add(uint8(0), []byte("订单号,平台订单号,下单日期\nERP-1,PLT-1,2026-11-20\n"), "id=平台订单号")
	f.Add(uint8(3), []byte("agent\tstart\tend\tlanguages\na\t2026-11-20 18:00\t2026-11-20 09:00\tja、zh\n"), "")
	f.Add(uint8(8), []byte("\xEF\xBB\xBFdate,campaign,spend\n2026-11-20,C,\"¥1,980.5\"\n"), "spend=cost")
	f.Fuzz(func(t *testing.T, kindIndex uint8, data []byte, mapping string) {
		kind := csvimport.Kinds[int(kindIndex)%len(csvimport.Kinds)]
		var opts csvimport.Options
		if field, header, ok := strings.Cut(mapping, "="); ok {
			opts.Headers = map[string][]string{field: {header}}
		}
		var w recorder // validates every batch as the stores do
		sum, err := csvimport.Import(context.Background(), &w, shop, kind, bytes.NewReader(data), opts)
		var ke *kpi.Error
		if err != nil && !(errors.As(err, &ke) && ke.Code == kpi.Invalid && strings.HasPrefix(ke.Key, "cli.import_")) {
			t.Fatalf("Import: %v", err)
		}
		if sum.Read != sum.Imported+sum.Rejected || sum.Rejected < 0 || w.Len() < sum.Imported {
			t.Errorf("summary %+v, %d records written", sum, w.Len())
		}
		if sum.Rejected > 0 && len(sum.Errors) == 0 || len(sum.Errors) > csvimport.DefaultMaxErrors {
			t.Errorf("%d rejected rows, %d listed", sum.Rejected, len(sum.Errors))
		}
		for _, e := range sum.Errors {
			if e.Line < 2 || !strings.HasPrefix(e.Key, "cli.import_") {
				t.Errorf("row error %v", e)
			}
		}
	})
}

func indexOf(k csvimport.Kind) int {
	for i, x := range csvimport.Kinds {
		if x == k {
			return i
		}
	}
	return -1
}
