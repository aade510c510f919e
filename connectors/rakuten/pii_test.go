package rakuten_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
	"github.com/kpibot/kpibot/internal/connectortest"
)

// samplePII is the personal data in the sample order: the orderer's
// names, e-mail, phone and address, the receiver's, the card owner's, and
// the memo and remarks that name them. None may be kept.
var samplePII = []string{
	"山田", "花子", "ヤマダ", "ハナコ", "HANAKO YAMADA", // the orderer, the card owner
	sampleEmail, strings.Split(sampleEmail, "@")[0],
	"7531", "9642", "080-7531-9642", // the orderer's phone
	"東京都", "渋谷区", "神宮前9-8-7", "コーポ楽天305", // the orderer's address
	"佐藤", "一郎", "サトウ", "イチロウ", // the receiver
	"4862", "1357", // the receiver's phone
	"大阪府", "大阪市北区", "大深町6-5-4", "グランフロント北館1203", // the receiver's address
	"宅配ボックス", "折り返し", // the remarks, the memo
}

func TestSyncKeepsNoPII(t *testing.T) {
	sample, err := json.Marshal(rakutentest.Sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samplePII {
		if !strings.Contains(string(sample), s) {
			t.Fatalf("the sample order has no %q: the test would prove nothing", s)
		}
	}

	// Every kind of order, shipped ones with parcels, from the sample.
	e := newEnv(t, setup{})
	var list []rakutentest.Order
	var ids []string
	for i, progress := range []int{100, 200, 300, 400, 500, 600, 700, 800, 900} {
		placed := testNow.Add(-day).Add(time.Duration(i) * time.Minute)
		id := orderNumber(placed, i+1)
		o := rakutentest.NewOrder(id, placed)
		o.Set(progress, "orderProgress")
		if progress >= 500 {
			o.Set(parcel(100+i, fmt.Sprintf("TRK-%02d", i), "1001", rakutentest.Date(placed)), "PackageModelList", "0", "ShippingModelList", "0")
		}
		list, ids = append(list, o), append(ids, id)
	}
	e.fake.Set(list...)
	e.mustRun()
	if orders, shipments := e.stored(); len(orders) != 9 || len(shipments) != 5 {
		t.Fatalf("%d orders, %d shipments stored; want 9, 5", len(orders), len(shipments))
	}

	// Every text of every column of every table.
	texts := connectortest.Texts(t, connectortest.OpenDB(t, e.path))
	all := strings.Join(texts, "\n")
	for _, id := range append(ids, "TRK-04", buyerRef(sampleEmail)) {
		if !strings.Contains(all, id) {
			t.Fatalf("the scan did not see %q: it would prove nothing", id)
		}
	}
	logs := e.logs.String()
	for _, s := range samplePII {
		for _, v := range texts {
			if strings.Contains(v, s) {
				t.Errorf("the database holds %q in %q", s, v)
			}
		}
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %q", s)
		}
	}
}
