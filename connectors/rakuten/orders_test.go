package rakuten_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
	"github.com/kpibot/kpibot/internal/connectortest"
	"github.com/kpibot/kpibot/kpi"
)

// sampleEmail is the orderer's (masked) e-mail in the sample order.
const sampleEmail = "a3f09c1b2d4e5f60718293a4b5c6d7e8s1@pc.fw.rakuten.ne.jp"

// parcel is a ShippingModel.
func parcel(detail int, tracking, company, date string) map[string]any {
	m := map[string]any{"shippingDetailId": detail, "shippingNumber": tracking, "deliveryCompany": company,
		"deliveryCompanyName": nil, "shippingDate": nil}
	if date != "" {
		m["shippingDate"] = date
	}
	return m
}

// change is a ChangeReasonModel.
func change(id, changeType, reason int) map[string]any {
	return map[string]any{"changeId": id, "changeType": changeType, "changeTypeDetail": nil, "changeReason": reason,
		"changeReasonDetail": nil, "changeApplyDatetime": nil, "changeFixDatetime": nil, "changeCmplDatetime": nil}
}

func TestSyncMapsOrders(t *testing.T) {
	placed := mustTime(t, "2026-03-15T01:15:30Z") // 10:15:30 in Tokyo
	shipDay := time.Date(2026, 3, 16, 0, 0, 0, 0, jst).UTC()
	reported := mustTime(t, "2026-03-16T09:30:00Z")

	// shipped makes an order shipped by the delivery company code.
	shipped := func(company string) func(o rakutentest.Order) {
		return func(o rakutentest.Order) {
			o.Set(500, "orderProgress")
			o.Set(parcel(11, "4001-2345-6789", company, "2026-03-16"), "PackageModelList", "0", "ShippingModelList", "0")
		}
	}
	// oneParcel is the shipment of an order shipped by shipped.
	oneParcel := func(carrier string) func(id string) []kpi.Shipment {
		return func(id string) []kpi.Shipment {
			return []kpi.Shipment{{ID: id + "/" + basketID + "/11", Shipped: shipDay, Carrier: carrier, Tracking: "4001-2345-6789", Units: 2}}
		}
	}
	tests := []struct {
		name      string
		edit      func(o rakutentest.Order) // nil: the sample as it is
		want      func(o *kpi.Order)        // edits the sample's order
		skipped   bool                      // not stored
		shipments func(id string) []kpi.Shipment
	}{
		// The sample: awaiting shipment, 2 units, one destination.
		{name: "sample"},

		// orderProgress.
		{name: "100 awaiting confirmation", edit: progress(100), want: status(kpi.StatusPending)},
		{name: "200 Rakuten processing", edit: progress(200), want: status(kpi.StatusUnshipped)},
		{name: "300 awaiting shipment", edit: progress(300), want: status(kpi.StatusUnshipped)},
		{name: "400 change awaiting confirmation", edit: progress(400), want: status(kpi.StatusUnshipped)},
		{name: "400 after the shipment was reported", edit: func(o rakutentest.Order) {
			o.Set(400, "orderProgress")
			o.Set(rakutentest.Time(reported), "shippingCmplRptDatetime")
		}, want: status(kpi.StatusShipped)},
		{name: "500 shipped", edit: shipped("1001"), want: status(kpi.StatusShipped), shipments: oneParcel("yamato")},
		{name: "600 payment processing", edit: progress(600), want: status(kpi.StatusShipped)},
		{name: "700 payment done", edit: progress(700), want: status(kpi.StatusShipped)},
		{name: "800 cancellation awaiting confirmation", edit: progress(800), want: status(kpi.StatusCancelled)},
		{name: "900 cancelled for the customer's reason", edit: func(o rakutentest.Order) {
			o.Set(900, "orderProgress")
			o.Set(change(92000001, 1, 1), "ChangeReasonModelList", "1")
		}, want: status(kpi.StatusCancelled)},
		{name: "900 cancelled for the shop's reason", edit: func(o rakutentest.Order) {
			o.Set(900, "orderProgress")
			o.Set(change(92000001, 2, 0), "ChangeReasonModelList", "1")
		}, want: status(kpi.StatusSellerCancelled)},
		{name: "900 the shop's cancellation withdrawn", edit: func(o rakutentest.Order) {
			o.Set(900, "orderProgress")
			o.Set(change(92000001, 1, 1), "ChangeReasonModelList", "1")
			o.Set(change(92000002, 3, 0), "ChangeReasonModelList", "2")
		}, want: status(kpi.StatusCancelled)},
		{name: "900 the last cancellation says who", edit: func(o rakutentest.Order) {
			o.Set(900, "orderProgress")
			o.Set(change(92000002, 1, 0), "ChangeReasonModelList", "1")
			o.Set(change(92000001, 0, 1), "ChangeReasonModelList", "2")
		}, want: status(kpi.StatusSellerCancelled)},
		{name: "an unknown orderProgress", edit: progress(150), skipped: true},

		// Delivery companies.
		{name: "1002 Sagawa", edit: shipped("1002"), want: status(kpi.StatusShipped), shipments: oneParcel("sagawa")},
		{name: "1003 Japan Post", edit: shipped("1003"), want: status(kpi.StatusShipped), shipments: oneParcel("japanpost")},
		{name: "1030 Yamato Kuroneko Yu-Packet", edit: shipped("1030"), want: status(kpi.StatusShipped), shipments: oneParcel("yamato")},
		{name: "1029 Japan Post from a Rakuten warehouse", edit: shipped("1029"), want: func(o *kpi.Order) {
			o.Status, o.Channel = kpi.StatusShipped, kpi.ByPlatform
		}, shipments: oneParcel("japanpost")},
		{name: "1017 EMS", edit: shipped("1017"), want: status(kpi.StatusShipped), shipments: oneParcel("rakuten:1017")},
		{name: "1000 other", edit: shipped("1000"), want: status(kpi.StatusShipped), shipments: oneParcel("rakuten:1000")},
		{name: "no delivery company", edit: shipped(""), want: status(kpi.StatusShipped), shipments: oneParcel("")},
		{name: "to ship from a Rakuten warehouse", edit: func(o rakutentest.Order) {
			o.Set("1029", "PackageModelList", "0", "defaultDeliveryCompanyCode")
		}, want: func(o *kpi.Order) { o.Channel = kpi.ByPlatform }},

		// Parcels and destinations.
		{name: "two parcels to one destination", edit: func(o rakutentest.Order) {
			o.Set(500, "orderProgress")
			o.Set(parcel(11, " 4001-2345-6789 ", "1001", "2026-03-16"), "PackageModelList", "0", "ShippingModelList", "0")
			o.Set(parcel(12, "4001-2345-6790", "1001", "2026-03-17"), "PackageModelList", "0", "ShippingModelList", "1")
		}, want: status(kpi.StatusShipped), shipments: func(id string) []kpi.Shipment {
			// RMS does not say which parcel holds what.
			return []kpi.Shipment{
				{ID: id + "/" + basketID + "/11", Shipped: shipDay, Carrier: "yamato", Tracking: "4001-2345-6789"},
				{ID: id + "/" + basketID + "/12", Shipped: shipDay.Add(24 * time.Hour), Carrier: "yamato", Tracking: "4001-2345-6790"},
			}
		}},
		{name: "two destinations", edit: func(o rakutentest.Order) {
			o.Set(500, "orderProgress")
			second := rakutentest.Sample()["PackageModelList"].([]any)[0].(map[string]any)
			second["basketId"] = 71234502
			second["ItemModelList"].([]any)[0].(map[string]any)["units"] = 3
			o.Set(second, "PackageModelList", "1")
			o.Set(parcel(11, "4001-2345-6789", "1001", "2026-03-16"), "PackageModelList", "0", "ShippingModelList", "0")
			o.Set(parcel(21, "5001-2345-6789", "1002", "2026-03-16"), "PackageModelList", "1", "ShippingModelList", "0")
		}, want: func(o *kpi.Order) { o.Status, o.Units = kpi.StatusShipped, 5 }, shipments: func(id string) []kpi.Shipment {
			return []kpi.Shipment{
				{ID: id + "/" + basketID + "/11", Shipped: shipDay, Carrier: "yamato", Tracking: "4001-2345-6789", Units: 2},
				{ID: id + "/71234502/21", Shipped: shipDay, Carrier: "sagawa", Tracking: "5001-2345-6789", Units: 3},
			}
		}},
		{name: "a parcel without a shipping date, reported", edit: func(o rakutentest.Order) {
			o.Set(500, "orderProgress")
			o.Set(rakutentest.Time(reported), "shippingCmplRptDatetime")
			o.Set(parcel(11, "4001-2345-6789", "1001", ""), "PackageModelList", "0", "ShippingModelList", "0")
		}, want: status(kpi.StatusShipped), shipments: func(id string) []kpi.Shipment {
			return []kpi.Shipment{{ID: id + "/" + basketID + "/11", Shipped: reported, Carrier: "yamato", Tracking: "4001-2345-6789", Units: 2}}
		}},
		{name: "a parcel without a shipping date, not reported", edit: func(o rakutentest.Order) {
			o.Set(parcel(11, "4001-2345-6789", "1001", ""), "PackageModelList", "0", "ShippingModelList", "0")
		}},

		// The other fields.
		{name: "a delivery day chosen", edit: func(o rakutentest.Order) {
			o.Set("2026-03-18", "deliveryDate")
		}, want: func(o *kpi.Order) { o.PromisedBy = time.Date(2026, 3, 18, 23, 59, 59, 0, jst).UTC() }},
		{name: "a total not fixed yet", edit: func(o rakutentest.Order) {
			o.Set(-9999, "totalPrice")
		}, want: func(o *kpi.Order) { o.Total = 0 }},
		{name: "the e-mail in capitals, spaced", edit: func(o rakutentest.Order) {
			o.Set("  "+strings.ToUpper(sampleEmail)+" ", "OrdererModel", "emailAddress")
		}},
		{name: "no e-mail", edit: func(o rakutentest.Order) {
			o.Set(nil, "OrdererModel", "emailAddress")
		}, want: func(o *kpi.Order) { o.CustomerRef = "" }},
	}

	e := newEnv(t, setup{})
	var list []rakutentest.Order
	ids := make([]string, len(tests))
	for i, tt := range tests {
		at := placed.Add(time.Duration(i) * time.Minute)
		ids[i] = orderNumber(at, i+1)
		o := rakutentest.NewOrder(ids[i], at)
		if tt.edit != nil {
			tt.edit(o)
		}
		list = append(list, o)
	}
	e.fake.Set(list...)
	p := e.mustRun()
	if p.Read != len(tests) {
		t.Fatalf("%d orders read, want %d", p.Read, len(tests))
	}
	orders, shipments := e.stored()

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := ids[i]
			got, ok := orders[id]
			if tt.skipped {
				if ok {
					t.Errorf("order stored: %+v", got)
				}
				if !strings.Contains(e.logs.String(), "order skipped") || !strings.Contains(e.logs.String(), id) {
					t.Errorf("the logs do not say that order %s was skipped", id)
				}
				return
			}
			want := kpi.Order{Shop: testShop.ID, ID: id, CustomerRef: buyerRef(sampleEmail), Placed: placed.Add(time.Duration(i) * time.Minute),
				Status: kpi.StatusUnshipped, Total: 3980, Units: 2, Channel: kpi.ByMerchant}
			if tt.want != nil {
				tt.want(&want)
			}
			if !ok || got != want {
				t.Errorf("order stored as\n%+v\nwant\n%+v", got, want)
			}
			wantShipments := map[string]kpi.Shipment{}
			if tt.shipments != nil {
				for _, s := range tt.shipments(id) {
					s.Shop, s.OrderID = testShop.ID, id
					wantShipments[s.ID] = s
				}
			}
			gotShipments := map[string]kpi.Shipment{}
			for sid, s := range shipments {
				if s.OrderID == id {
					gotShipments[sid] = s
				}
			}
			connectortest.AssertSame(t, "shipment", gotShipments, wantShipments)
		})
	}
}

func progress(n int) func(o rakutentest.Order) {
	return func(o rakutentest.Order) { o.Set(n, "orderProgress") }
}

func status(s kpi.OrderStatus) func(o *kpi.Order) {
	return func(o *kpi.Order) { o.Status = s }
}

func TestCustomerRefSeparatesShops(t *testing.T) {
	// One orderer, two shops of one seller: two keys, so that one shop's
	// customers cannot be linked to the other's by the key alone.
	a, b := newEnv(t, setup{}), newEnv(t, setup{})
	b.syncer.Shop.ID = "rkt-second"
	if _, err := b.store.Write(t.Context(), &kpi.Batch{Shops: []kpi.Shop{b.syncer.Shop}}); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, e := range []*env{a, b} {
		e.fake.Set(rakutentest.NewOrder(orderNumber(testNow.Add(-day), 1), testNow.Add(-day)))
		e.mustRun()
		var ref string
		if err := connectortest.OpenDB(t, e.path).QueryRowContext(t.Context(), "SELECT customer_ref FROM orders WHERE shop = ?", e.syncer.Shop.ID).Scan(&ref); err != nil {
			t.Fatal(err)
		}
		if len(ref) != 32 {
			t.Errorf("shop %s: customer_ref %q, want 32 hex digits", e.syncer.Shop.ID, ref)
		}
		refs[ref] = true
	}
	if len(refs) != 2 {
		t.Errorf("customer refs %v: want one per shop", refs)
	}
	if !refs[buyerRef(sampleEmail)] {
		t.Errorf("customer refs %v: want %s for the test shop", refs, buyerRef(sampleEmail))
	}
}
