package sqlstore

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// rowScanner scans a stored row into *any, as the drivers do.
type rowScanner []any

func (r rowScanner) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("scan of %d columns into %d", len(r), len(dest))
	}
	for i, d := range dest {
		*d.(*any) = r[i]
	}
	return nil
}

// roundTrip checks that a record comes back from its stored row as it
// went in, and that Row gives int64, string or nil, one a column.
func roundTrip[T any](t *testing.T, c *Codec[T], rec T) {
	t.Helper()
	row := c.Row(&rec)
	if len(row) != len(c.Keys)+len(c.Cols) {
		t.Fatalf("%s: Row gives %d values for %d columns", c.Table, len(row), len(c.Keys)+len(c.Cols))
	}
	for i, v := range row {
		switch v.(type) {
		case int64, string, nil:
		default:
			t.Errorf("%s.%s: Row gives a %T", c.Table, c.Columns()[i], v)
		}
	}
	got, err := c.Scan(rowScanner(row))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Errorf("%s: %+v came back as %+v", c.Table, rec, got)
	}
	if again := c.Row(&got); !slices.Equal(again, row) {
		t.Errorf("%s: Row(Scan(Row(r))) = %v, want %v", c.Table, again, row)
	}
	// Smaller integers, as a smallint column gives them, read the same.
	small := slices.Clone(row)
	for i, v := range small {
		if n, ok := v.(int64); ok && n == int64(int16(n)) {
			small[i] = int16(n)
		}
	}
	if got, err := c.Scan(rowScanner(small)); err != nil || !reflect.DeepEqual(got, rec) {
		t.Errorf("%s: from smallints: %+v, %v", c.Table, got, err)
	}
}

func TestCodecsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	day := kpi.DateOf(at)
	roundTrip(t, &Shops, kpi.Shop{ID: "s", Platform: kpi.Amazon, Marketplace: "A1VC38T7YXB528", Name: "Main", Currency: "JPY"})
	roundTrip(t, &Orders, kpi.Order{Shop: "s", ID: "o1", CustomerRef: "c", Placed: at, Paid: at.Add(time.Minute),
		ShipBy: at.Add(time.Hour), PromisedBy: at.Add(48 * time.Hour), Status: kpi.StatusShipped, Total: 3000, Units: 2,
		Channel: kpi.ByPlatform, Claim: true, Chargeback: true})
	roundTrip(t, &Orders, kpi.Order{Shop: "s", ID: "o2", Placed: at, Status: kpi.StatusPending})
	roundTrip(t, &Shipments, kpi.Shipment{Shop: "s", ID: "p1", OrderID: "o1", Shipped: at, Carrier: "yamato",
		Tracking: "1234", Delivered: at.Add(24 * time.Hour), Units: 2})
	roundTrip(t, &Shipments, kpi.Shipment{Shop: "s", ID: "p2", OrderID: "o1", Shipped: at})
	roundTrip(t, &Returns, kpi.Return{Shop: "s", ID: "r1", OrderID: "o1", Returned: at, Units: 1, Reason: "size"})
	roundTrip(t, &Reviews, kpi.Review{Shop: "s", ID: "v1", OrderID: "o1", Posted: at, Rating: 2, Text: "late", RepliedAt: at.Add(time.Hour)})
	roundTrip(t, &Inventory, kpi.InventorySnapshot{Shop: "s", SKU: "k", Taken: at, OnHand: 40, Inbound: 10, Reserved: 2})
	roundTrip(t, &Inbound, kpi.InboundShipment{Shop: "s", ID: "i1", Created: at, Received: at.Add(time.Hour), Units: 100})
	roundTrip(t, &Ads, kpi.AdDay{Shop: "s", Campaign: "spring", Day: day, Impressions: 1000, Clicks: 30, Spend: 900, Sales: 6000, Orders: 2})
	roundTrip(t, &Customs, kpi.CustomsEntry{Shop: "s", ID: "c1", Declared: at, Cleared: at.Add(time.Hour), Status: kpi.CustomsCleared, DocsCompleted: true})
	roundTrip(t, &Tickets, kpi.Ticket{Shop: "s", ID: "t1", CustomerRef: "c", Opened: at, FirstReply: at.Add(time.Minute), Kind: kpi.PreSale, Lang: "ja"})
	roundTrip(t, &AgentShifts, kpi.AgentShift{Shop: "s", Agent: "a", Start: at, End: at.Add(4 * time.Hour), Langs: []string{"ja", "en"}})
	roundTrip(t, &AgentShifts, kpi.AgentShift{Shop: "s", Agent: "b", Start: at, End: at.Add(time.Hour)})
	roundTrip(t, &Listings, kpi.Listing{Shop: "s", SKU: "k", Launched: at, NeedsPSE: true, PSEValid: true, Label: kpi.LabelPassed, Price: 1500})
	roundTrip(t, &Competitors, kpi.CompetitorObservation{Shop: "s", SKU: "k", Competitor: "rival", Observed: at, Price: 1200, NewListing: true})
}

// TestStale: the days each kind of record counts on.
func TestStale(t *testing.T) {
	d := kpi.NewDate(2026, 11, 20)
	at := d.Start().Add(10 * time.Hour)
	days := func(s *Stale) []string {
		var out []string
		for k := range s.Days {
			out = append(out, fmt.Sprintf("%s:%d", k.Shop, k.Day-d))
		}
		slices.Sort(out)
		return out
	}
	s := NewStale()
	s.Order(&kpi.Order{Shop: "a", ID: "o1", Placed: at})
	s.Shipment(&kpi.Shipment{Shop: "a", ID: "p1", OrderID: "o1", Shipped: at.Add(24 * time.Hour), Delivered: at.Add(72 * time.Hour)})
	s.Shipment(&kpi.Shipment{Shop: "a", ID: "p2", OrderID: "o9", Shipped: at})
	s.Review(&kpi.Review{Shop: "b", ID: "v1", OrderID: "o1", Posted: at})
	s.Shift(&kpi.AgentShift{Shop: "b", Agent: "x", Start: at, End: at.Add(30 * time.Hour)})
	want := []string{"a:-1", "a:-2", "a:-3", "a:-4", "a:-5", "a:-6", "a:-7", "a:0", "a:1", "a:3", "b:0", "b:1"}
	if got := days(s); !slices.Equal(got, want) {
		t.Errorf("days %v, want %v", got, want)
	}
	// o1 of shop a was written: its placed day is marked; o9 and b's o1 are left to the store.
	if _, ok := s.PlacedOf[ShopKey{"a", "o1"}]; ok || len(s.PlacedOf) != 2 {
		t.Errorf("PlacedOf %v, want a/o9 and b/o1", s.PlacedOf)
	}
	if len(s.ShipmentsOf) != 1 {
		t.Errorf("ShipmentsOf %v, want a/o1", s.ShipmentsOf)
	}
}
