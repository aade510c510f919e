package demo_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/demo"
	"github.com/kpibot/kpibot/kpi"
)

// memWriter is a kpi.Writer that keeps every batch.
type memWriter struct {
	batches []*kpi.Batch
	fail    error // returned by every Write when set
}

func (w *memWriter) Write(ctx context.Context, b *kpi.Batch) (kpi.WriteStats, error) {
	if w.fail != nil {
		return kpi.WriteStats{}, w.fail
	}
	w.batches = append(w.batches, b)
	return kpi.WriteStats{Inserted: b.Len()}, nil
}

var _ kpi.Writer = (*memWriter)(nil)

// shopData is everything seeded for one shop, with its daily facts as of now.
type shopData struct {
	recs     kpi.Records
	listings []kpi.Listing
	seen     []kpi.CompetitorObservation
	daily    map[kpi.Date]*kpi.Facts
}

// seeded is the outcome of one Seed.
type seeded struct {
	now     time.Time
	today   kpi.Date
	stats   kpi.WriteStats
	batches []*kpi.Batch
	shops   map[string]*shopData
}

// write seeds a memWriter.
func write(t *testing.T, now time.Time) (*memWriter, kpi.WriteStats) {
	t.Helper()
	w := &memWriter{}
	stats, err := demo.Seed(context.Background(), w, now)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return w, stats
}

// seed seeds and sorts the records by shop.
func seed(t *testing.T, now time.Time) *seeded {
	t.Helper()
	w, stats := write(t, now)
	s := &seeded{now: now, today: kpi.DateOf(now), stats: stats, batches: w.batches, shops: make(map[string]*shopData)}
	shop := func(id string) *shopData {
		if s.shops[id] == nil {
			s.shops[id] = &shopData{}
		}
		return s.shops[id]
	}
	for _, b := range w.batches {
		for _, x := range b.Shops {
			shop(x.ID)
		}
		for _, x := range b.Orders {
			shop(x.Shop).recs.Orders = append(shop(x.Shop).recs.Orders, x)
		}
		for _, x := range b.Shipments {
			shop(x.Shop).recs.Shipments = append(shop(x.Shop).recs.Shipments, x)
		}
		for _, x := range b.Returns {
			shop(x.Shop).recs.Returns = append(shop(x.Shop).recs.Returns, x)
		}
		for _, x := range b.Reviews {
			shop(x.Shop).recs.Reviews = append(shop(x.Shop).recs.Reviews, x)
		}
		for _, x := range b.Inventory {
			shop(x.Shop).recs.Inventory = append(shop(x.Shop).recs.Inventory, x)
		}
		for _, x := range b.Inbound {
			shop(x.Shop).recs.Inbound = append(shop(x.Shop).recs.Inbound, x)
		}
		for _, x := range b.Ads {
			shop(x.Shop).recs.Ads = append(shop(x.Shop).recs.Ads, x)
		}
		for _, x := range b.Customs {
			shop(x.Shop).recs.Customs = append(shop(x.Shop).recs.Customs, x)
		}
		for _, x := range b.Tickets {
			shop(x.Shop).recs.Tickets = append(shop(x.Shop).recs.Tickets, x)
		}
		for _, x := range b.AgentShifts {
			shop(x.Shop).recs.AgentShifts = append(shop(x.Shop).recs.AgentShifts, x)
		}
		for _, x := range b.Listings {
			shop(x.Shop).listings = append(shop(x.Shop).listings, x)
		}
		for _, x := range b.Competitors {
			shop(x.Shop).seen = append(shop(x.Shop).seen, x)
		}
	}
	for _, d := range s.shops {
		d.daily = kpi.BuildFacts(&d.recs, s.first(), s.today+1, now, kpi.DefaultHours)
	}
	return s
}

func (s *seeded) first() kpi.Date { return s.today - (demo.Days - 1) }

// facts sums a shop's facts over the days [from, to), catalog facts included.
func (s *seeded) facts(t *testing.T, shop string, from, to kpi.Date) *kpi.Facts {
	t.Helper()
	d := s.shops[shop]
	if d == nil {
		t.Fatalf("no shop %q", shop)
	}
	var days []*kpi.Facts
	for day := from; day < to; day++ {
		if day >= s.first() && day <= s.today {
			days = append(days, d.daily[day])
		}
	}
	c := kpi.CatalogFacts(d.listings, d.seen, from, to)
	f := kpi.Sum(append(days, &c))
	return &f
}

// days sums a shop's daily facts over the days of [from, to) that keep,
// without catalog facts, and counts those days.
func (s *seeded) days(shop string, from, to kpi.Date, keep func(kpi.Date) bool) (*kpi.Facts, int) {
	var days []*kpi.Facts
	for d := max(from, s.first()); d < to && d <= s.today; d++ {
		if keep(d) {
			days = append(days, s.shops[shop].daily[d])
		}
	}
	f := kpi.Sum(days)
	return &f, len(days)
}

func ratio(f *kpi.Facts, num, den kpi.Counter) float64 {
	return float64(f.Count[num]) / float64(f.Count[den])
}

var shops = []string{"amazon-jp", "rakuten", "yahoo"}

// The fixture: a Wednesday afternoon. The stories are checked at other
// moments too.
var fixtureNow = time.Date(2026, 6, 10, 15, 4, 0, 0, kpi.Tokyo)

// fixture seeds fixtureNow once for every test that reads it.
func fixture(t *testing.T) *seeded {
	t.Helper()
	fixtureOnce.Do(func() { fixtureSeed = seed(t, fixtureNow) })
	if fixtureSeed == nil {
		t.Fatal("seeding the fixture failed")
	}
	return fixtureSeed
}

var (
	fixtureOnce sync.Once
	fixtureSeed *seeded
)

var otherNows = []time.Time{
	time.Date(2026, 3, 2, 0, 5, 0, 0, kpi.Tokyo),     // a Monday just after midnight
	time.Date(2026, 11, 29, 23, 50, 0, 0, kpi.Tokyo), // a Sunday night
}

func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	a := fixture(t)
	b, _ := write(t, fixtureNow)
	if !reflect.DeepEqual(a.batches, b.batches) {
		t.Fatal("two seeds with the same now wrote different batches")
	}
	var n int
	for _, x := range a.batches {
		n += x.Len()
	}
	if a.stats.Inserted != n {
		t.Errorf("stats.Inserted = %d, want the %d records written", a.stats.Inserted, n)
	}
}

func TestSeedWrapsWriteErrors(t *testing.T) {
	cause := errors.New("disk full")
	_, err := demo.Seed(context.Background(), &memWriter{fail: cause}, fixtureNow)
	if !errors.Is(err, cause) {
		t.Fatalf("err = %v, want it to wrap %v", err, cause)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := demo.Seed(ctx, &memWriter{}, fixtureNow); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v with a cancelled context, want context.Canceled", err)
	}
}

func TestSeed(t *testing.T) {
	t.Run(fixtureNow.Format("2006-01-02T15:04"), func(t *testing.T) {
		t.Parallel()
		s := fixture(t)
		checkRecords(t, s)
		checkStories(t, s)
		checkPatterns(t, s)
	})
	for _, now := range otherNows {
		t.Run(now.Format("2006-01-02T15:04"), func(t *testing.T) {
			t.Parallel()
			s := seed(t, now)
			checkRecords(t, s)
			checkStories(t, s)
		})
	}
}

var customerRef = regexp.MustCompile(`^c-\d+$`)

// checkRecords checks what every seed must satisfy: valid batches of
// moderate size, the shops first, stable unique keys, nothing after now and
// nothing that looks like personal data.
func checkRecords(t *testing.T, s *seeded) {
	t.Helper()
	if len(s.shops) != 3 {
		t.Fatalf("seeded shops %v, want 3", len(s.shops))
	}
	seenShops := make(map[string]bool)
	type recordKey struct {
		kind, shop, a, b string
		at               int64
	}
	keys := make(map[recordKey]bool)
	key := func(kind, shop, a, b string, at time.Time) {
		k := recordKey{kind, shop, a, b, at.UnixNano()}
		if keys[k] {
			t.Errorf("duplicate key %+v", k)
		}
		keys[k] = true
	}
	texts := make(map[string]bool) // review texts checked
	future := func(kind, id string, times ...time.Time) {
		for _, x := range times {
			if x.After(s.now) {
				t.Errorf("%s %s has a time after now: %v", kind, id, x)
			}
		}
	}
	for i, b := range s.batches {
		if err := b.Validate(); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if n := b.Len(); n == 0 || n >= 20_000 {
			t.Errorf("batch %d has %d records", i, n)
		}
		for _, x := range b.Shops {
			seenShops[x.ID] = true
			if x.Currency != "JPY" || x.Name == "" || x.Marketplace == "" {
				t.Errorf("shop %+v", x)
			}
		}
		check := func(shop string) {
			if !seenShops[shop] {
				t.Fatalf("batch %d writes records of shop %q before the shop", i, shop)
			}
		}
		for _, x := range b.Orders {
			check(x.Shop)
			key("order", x.Shop, x.ID, "", time.Time{})
			// ShipBy and PromisedBy are deadlines and may lie ahead.
			future("order", x.ID, x.Placed, x.Paid)
			if !customerRef.MatchString(x.CustomerRef) {
				t.Errorf("order %s: customer ref %q", x.ID, x.CustomerRef)
			}
			if x.Units < 1 || x.Units > 3 || x.Total < 1500 || x.Total > 20000 {
				t.Errorf("order %s: %d units for %d yen", x.ID, x.Units, x.Total)
			}
		}
		for _, x := range b.Shipments {
			key("shipment", x.Shop, x.ID, "", time.Time{})
			future("shipment", x.ID, x.Shipped, x.Delivered)
		}
		for _, x := range b.Returns {
			key("return", x.Shop, x.ID, "", time.Time{})
			future("return", x.ID, x.Returned)
		}
		for _, x := range b.Reviews {
			key("review", x.Shop, x.ID, "", time.Time{})
			future("review", x.ID, x.Posted, x.RepliedAt)
			if !texts[x.Text] && kpi.MaskPII(x.Text) != x.Text {
				t.Errorf("review %s text looks personal: %q", x.ID, x.Text)
			}
			texts[x.Text] = true
		}
		for _, x := range b.Inventory {
			key("inventory", x.Shop, x.SKU, "", x.Taken)
			future("inventory", x.SKU, x.Taken)
			if x.OnHand < 0 || x.Inbound < 0 {
				t.Errorf("inventory %+v", x)
			}
		}
		for _, x := range b.Inbound {
			key("inbound", x.Shop, x.ID, "", time.Time{})
			future("inbound", x.ID, x.Created, x.Received)
		}
		for _, x := range b.Ads {
			key("ad", x.Shop, x.Campaign, "", x.Day.Start())
			if x.Day > s.today {
				t.Errorf("ad day %v after today", x.Day)
			}
		}
		for _, x := range b.Customs {
			key("customs", x.Shop, x.ID, "", time.Time{})
			future("customs", x.ID, x.Declared, x.Cleared)
		}
		for _, x := range b.Tickets {
			key("ticket", x.Shop, x.ID, "", time.Time{})
			future("ticket", x.ID, x.Opened, x.FirstReply)
			if !customerRef.MatchString(x.CustomerRef) {
				t.Errorf("ticket %s: customer ref %q", x.ID, x.CustomerRef)
			}
		}
		for _, x := range b.AgentShifts {
			key("shift", x.Shop, x.Agent, "", x.Start)
			future("shift", x.Agent, x.Start, x.End)
		}
		for _, x := range b.Listings {
			key("listing", x.Shop, x.SKU, "", time.Time{})
			future("listing", x.SKU, x.Launched)
		}
		for _, x := range b.Competitors {
			key("competitor", x.Shop, x.SKU, x.Competitor, x.Observed)
			future("competitor", x.SKU, x.Observed)
		}
	}
}

// slowFriday is the Friday of the slow weekend: the latest whose Monday is
// before today.
func slowFriday(today kpi.Date) kpi.Date {
	d := today - 4
	for d.Weekday() != time.Friday {
		d--
	}
	return d
}

// checkStories checks the threshold breaches the demo is built to show,
// which must hold whatever the date.
func checkStories(t *testing.T, s *seeded) {
	t.Helper()
	today := s.today
	lastMonth := kpi.LastMonth(s.now)
	last7 := kpi.LastDays(s.now, 7)
	last30 := kpi.LastDays(s.now, 30)

	t.Run("return spike on rakuten last month", func(t *testing.T) {
		for _, shop := range shops {
			f := s.facts(t, shop, lastMonth.From, lastMonth.To)
			got := ratio(f, kpi.UnitsReturned, kpi.UnitsShipped)
			if spike := shop == "rakuten"; spike != (got > 0.05) {
				t.Errorf("%s return rate last month = %.3f, want above 5%% only on rakuten", shop, got)
			}
		}
	})

	t.Run("negative-review burst on amazon two days ago", func(t *testing.T) {
		f := s.facts(t, "amazon-jp", today-2, today-1)
		if n := f.Count[kpi.NegativeReviews]; n <= 2 {
			t.Errorf("negative reviews on %v = %d, want more than 2", today-2, n)
		}
		if h := f.Dists[kpi.ReviewReplyMinutes].Mean() / 60; h <= 24 {
			t.Errorf("negative-review response on %v = %.1f h, want over 24 h (some unanswered)", today-2, h)
		}
	})

	t.Run("ACoS blow-out on yahoo", func(t *testing.T) {
		for _, shop := range shops {
			f := s.facts(t, shop, last7.From, last7.To)
			got := ratio(f, kpi.AdSpend, kpi.AdSales)
			if blowout := shop == "yahoo"; blowout != (got > 0.4) {
				t.Errorf("%s ACoS last 7 days = %.3f, want above 40%% only on yahoo", shop, got)
			}
		}
	})

	t.Run("stock-out in the making on amazon", func(t *testing.T) {
		for _, shop := range shops {
			f := s.facts(t, shop, last30.From, last30.To)
			perDay := float64(f.Count[kpi.UnitsSold]) / 30
			cover := float64(f.Gauges[kpi.OnHand]+f.Gauges[kpi.InboundNow]) / perDay
			if short := shop == "amazon-jp"; short != (cover < 21) {
				t.Errorf("%s days of cover = %.1f, want below 21 only on amazon-jp", shop, cover)
			}
		}
		// The SKU gets nothing in its last week: its decline is its sales.
		snaps := make(map[kpi.Date]kpi.InventorySnapshot)
		var last kpi.Date
		for _, x := range s.shops["amazon-jp"].recs.Inventory {
			if x.SKU == "AMZ-CHARGER-01" {
				snaps[kpi.DateOf(x.Taken)] = x
				last = max(last, kpi.DateOf(x.Taken))
			}
		}
		now, before := snaps[last], snaps[last-7]
		perDay := float64(before.OnHand-now.OnHand) / 7
		if cover := float64(now.OnHand+now.Inbound) / perDay; now.OnHand <= 0 || now.Inbound != 0 || cover > 7 {
			t.Errorf("AMZ-CHARGER-01 on %v: %+v, %.1f days of cover, want some stock, none inbound, a week at most", last, now, cover)
		}
	})

	t.Run("customs hold on yahoo", func(t *testing.T) {
		var held []kpi.CustomsEntry
		for _, shop := range shops {
			for _, c := range s.shops[shop].recs.Customs {
				if c.Status == kpi.CustomsHeld {
					held = append(held, c)
				}
			}
		}
		if len(held) != 1 || held[0].Shop != "yahoo" || kpi.DateOf(held[0].Declared) != today-3 ||
			!held[0].Cleared.IsZero() || held[0].DocsCompleted {
			t.Fatalf("held entries %+v, want one on yahoo 3 days ago, not cleared, documents incomplete", held)
		}
		f := s.facts(t, "yahoo", last7.From, last7.To)
		if got := ratio(f, kpi.CustomsFailed, kpi.CustomsDeclared); got <= 0.02 {
			t.Errorf("yahoo customs failure rate last 7 days = %.3f, want above 2%%", got)
		}
	})

	t.Run("slow first replies on a rakuten weekend", func(t *testing.T) {
		fri := slowFriday(today)
		f := s.facts(t, "rakuten", fri, fri+3)
		if got := f.Dists[kpi.FirstResponseMinutes].Quantile(0.5); got <= 120 {
			t.Errorf("rakuten first response median %v..%v = %v min, want over 120", fri, fri+2, got)
		}
		f = s.facts(t, "rakuten", fri-7, fri-4)
		if got := f.Dists[kpi.FirstResponseMinutes].Quantile(0.5); got > 120 {
			t.Errorf("rakuten first response median the weekend before = %v min, want at most 120", got)
		}
	})
}

// checkPatterns checks the everyday patterns on the fixture.
func checkPatterns(t *testing.T, s *seeded) {
	t.Helper()
	today, first := s.today, s.first()
	all := func(shop string) *kpi.Facts { return s.facts(t, shop, first, today+1) }
	last30 := kpi.LastDays(s.now, 30)
	holidayFrom, holidayTo := today-70, today-63
	ordinary := func(d kpi.Date) bool { return d < holidayFrom-3 || d >= holidayTo+7 }

	t.Run("every metric has data", func(t *testing.T) {
		for _, shop := range shops {
			f := all(shop)
			for c, n := range f.Count {
				// Customs holds and unanswered reviews are planted in one shop each.
				if n == 0 && kpi.Counter(c) != kpi.CustomsFailed && kpi.Counter(c) != kpi.NegativeUnanswered {
					t.Errorf("%s: counter %d is zero over %d days", shop, c, demo.Days)
				}
			}
			for i := range f.Dists {
				if f.Dists[i].N == 0 {
					t.Errorf("%s: distribution %d is empty", shop, i)
				}
			}
			if f.Gauges[kpi.OnHand] == 0 {
				t.Errorf("%s: nothing on hand", shop)
			}
		}
	})

	t.Run("volume per shop", func(t *testing.T) {
		for shop, want := range map[string]float64{"amazon-jp": 150, "rakuten": 80, "yahoo": 40} {
			f, days := s.days(shop, first, today, ordinary)
			if got := float64(f.Count[kpi.OrdersPlaced]) / float64(days); math.Abs(got-want) > want*0.15 {
				t.Errorf("%s orders per day = %.0f, want about %.0f", shop, got, want)
			}
		}
	})

	t.Run("weekends busier, evenings peak", func(t *testing.T) {
		weekend := func(d kpi.Date) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }
		end := func(d kpi.Date) bool { return ordinary(d) && weekend(d) }
		mid := func(d kpi.Date) bool { return ordinary(d) && !weekend(d) }
		we, nwe := s.days("amazon-jp", first, today, end)
		wd, nwd := s.days("amazon-jp", first, today, mid)
		a := float64(we.Count[kpi.OrdersPlaced]) / float64(nwe)
		b := float64(wd.Count[kpi.OrdersPlaced]) / float64(nwd)
		if a < b*1.08 {
			t.Errorf("amazon-jp orders per weekend day %.0f, per weekday %.0f: want weekends busier", a, b)
		}
		var byHour [24]int
		for _, o := range s.shops["amazon-jp"].recs.Orders {
			byHour[o.Placed.In(kpi.Tokyo).Hour()]++
		}
		if evening, morning := byHour[20]+byHour[21], byHour[9]+byHour[10]; evening < morning*3/2 {
			t.Errorf("orders 20-22h %d, 9-11h %d: want an evening peak", evening, morning)
		}
	})

	t.Run("holiday: low volume, slow shipping", func(t *testing.T) {
		for _, shop := range shops {
			h := s.facts(t, shop, holidayFrom, holidayTo)
			n := s.facts(t, shop, holidayFrom-21, holidayFrom-7)
			hv, nv := float64(h.Count[kpi.OrdersPlaced])/7, float64(n.Count[kpi.OrdersPlaced])/14
			if hv > nv*0.7 {
				t.Errorf("%s orders per day in the holiday %.0f, before %.0f", shop, hv, nv)
			}
			if got := ratio(h, kpi.ShippedIn24h, kpi.ShipDue); got > 0.5 {
				t.Errorf("%s ship-24h rate in the holiday = %.3f, want it to collapse", shop, got)
			}
			if a, b := h.Dists[kpi.ShipMinutes].Mean(), n.Dists[kpi.ShipMinutes].Mean(); a < 2*b {
				t.Errorf("%s mean ship time in the holiday %.0f min, before %.0f", shop, a, b)
			}
		}
	})

	t.Run("order statuses and payments", func(t *testing.T) {
		for _, shop := range shops {
			count := make(map[kpi.OrderStatus]int)
			var late, platform int
			orders := s.shops[shop].recs.Orders
			for _, o := range orders {
				count[o.Status]++
				if !o.Paid.IsZero() && o.Paid.Sub(o.Placed) > 12*time.Hour {
					late++
				}
				if o.Channel == kpi.ByPlatform {
					platform++
				}
			}
			n := float64(len(orders))
			if r := float64(count[kpi.StatusSellerCancelled]) / n; r < 0.008 || r > 0.025 {
				t.Errorf("%s seller-cancelled %.3f", shop, r)
			}
			if r := float64(count[kpi.StatusCancelled]) / n; r < 0.01 || r > 0.03 {
				t.Errorf("%s buyer-cancelled %.3f", shop, r)
			}
			if count[kpi.StatusUnshipped] == 0 || count[kpi.StatusShipped] == 0 || count[kpi.StatusDelivered] < len(orders)*8/10 {
				t.Errorf("%s statuses %v", shop, count)
			}
			if shop == "rakuten" && (late == 0 || count[kpi.StatusPending] == 0) {
				t.Errorf("rakuten: %d orders paid a day later, %d pending, want bank transfers", late, count[kpi.StatusPending])
			}
			share := float64(platform) / n
			if wantShare := shop == "amazon-jp"; wantShare != (share > 0.5 && share < 0.7) {
				t.Errorf("%s platform-fulfilled share %.2f", shop, share)
			}
		}
	})

	t.Run("ship within 24h, weekend effect", func(t *testing.T) {
		for _, shop := range shops {
			f := s.facts(t, shop, last30.From, last30.To)
			if got := ratio(f, kpi.ShippedIn24h, kpi.ShipDue); got < 0.95 || got > 0.995 {
				t.Errorf("%s ship-24h rate last 30 days = %.3f, want 95-99.5%%", shop, got)
			}
			if got := ratio(f, kpi.ShippedLate, kpi.ShippedWithShipBy); got > 0.04 {
				t.Errorf("%s late shipment rate last 30 days = %.3f", shop, got)
			}
		}
		sat, _ := s.days("rakuten", first, today, func(d kpi.Date) bool { return ordinary(d) && d.Weekday() == time.Saturday })
		mid, _ := s.days("rakuten", first, today, func(d kpi.Date) bool {
			return ordinary(d) && d.Weekday() >= time.Monday && d.Weekday() <= time.Thursday
		})
		if a, b := ratio(sat, kpi.ShippedIn24h, kpi.ShipDue), ratio(mid, kpi.ShippedIn24h, kpi.ShipDue); a > b-0.03 {
			t.Errorf("rakuten ship-24h rate of Saturday orders %.3f, Monday to Thursday %.3f: want a weekend dip", a, b)
		}
	})

	t.Run("tracking numbers", func(t *testing.T) {
		for _, shop := range shops {
			f := all(shop)
			if got := ratio(f, kpi.TrackedShipments, kpi.Shipments); got < 0.95 || got > 0.995 {
				t.Errorf("%s valid tracking rate = %.3f, want 95-99.5%%", shop, got)
			}
		}
	})

	t.Run("delivery", func(t *testing.T) {
		for _, shop := range shops {
			f := s.facts(t, shop, last30.From, last30.To)
			if days := f.Dists[kpi.DeliveryMinutes].Mean() / 1440; days < 1 || days > 2 {
				t.Errorf("%s mean delivery = %.2f days", shop, days)
			}
			if got := ratio(f, kpi.DeliveredOnTime, kpi.DeliveredWithPromise); got < 0.95 {
				t.Errorf("%s on-time delivery last 30 days = %.3f", shop, got)
			}
			pending := 0
			for _, x := range s.shops[shop].recs.Shipments {
				if x.Delivered.IsZero() {
					pending++
				}
			}
			if pending == 0 {
				t.Errorf("%s: every shipment delivered, want recent ones on the way", shop)
			}
		}
	})

	t.Run("returns outside the spike", func(t *testing.T) {
		for _, shop := range shops {
			f, _ := s.days(shop, first, kpi.LastMonth(s.now).From, ordinary)
			if got := ratio(f, kpi.UnitsReturned, kpi.UnitsShipped); got < 0.015 || got > 0.045 {
				t.Errorf("%s return rate before last month = %.3f, want about 3%%", shop, got)
			}
		}
	})

	t.Run("reviews", func(t *testing.T) {
		for _, shop := range shops {
			f := all(shop)
			if got := ratio(f, kpi.ReviewStars, kpi.Reviews); got < 4.4 || got > 4.85 {
				t.Errorf("%s review score = %.2f", shop, got)
			}
			if got := ratio(f, kpi.Reviews, kpi.OrdersPlaced); got < 0.07 || got > 0.12 {
				t.Errorf("%s reviews per order = %.3f", shop, got)
			}
			if f.Count[kpi.DefectOrders] == 0 || ratio(f, kpi.DefectOrders, kpi.OrdersPlaced) > 0.015 {
				t.Errorf("%s order defect rate %.4f", shop, ratio(f, kpi.DefectOrders, kpi.OrdersPlaced))
			}
		}
		f := s.facts(t, "amazon-jp", first, today-3)
		if h := f.Dists[kpi.ReviewReplyMinutes].Mean() / 60; h > 24 {
			t.Errorf("amazon-jp negative-review response before the burst = %.1f h, want within a day", h)
		}
	})

	t.Run("inventory and replenishment", func(t *testing.T) {
		for _, shop := range shops {
			f := s.facts(t, shop, last30.From, last30.To)
			perDay := float64(f.Count[kpi.UnitsSold]) / 30
			if turnover := float64(f.Count[kpi.OnHandSum]) / float64(f.Count[kpi.SnapshotDays]) / perDay; turnover > 60 {
				t.Errorf("%s inventory turnover = %.0f days", shop, turnover)
			}
			if n := f.Count[kpi.InboundShipments]; n < 1 || n > 4 {
				t.Errorf("%s replenishments in 30 days = %d", shop, n)
			}
		}
	})

	t.Run("ads", func(t *testing.T) {
		for _, shop := range shops {
			f := s.facts(t, shop, today-60, today-10)
			if got := ratio(f, kpi.AdSpend, kpi.AdSales); got < 0.18 || got > 0.28 {
				t.Errorf("%s ACoS before the last 10 days = %.3f, want 18-28%%", shop, got)
			}
			if got := ratio(f, kpi.AdClicks, kpi.AdImpressions); got < 0.003 {
				t.Errorf("%s CTR = %.4f", shop, got)
			}
		}
	})

	t.Run("customs", func(t *testing.T) {
		for _, shop := range shops {
			f := all(shop)
			if hours := f.Dists[kpi.CustomsMinutes].Mean() / 60; hours < 24 || hours > 40 {
				t.Errorf("%s mean clearance = %.1f h", shop, hours)
			}
			if n := f.Count[kpi.CustomsDeclared]; n < 20 || n > 45 {
				t.Errorf("%s customs entries = %d", shop, n)
			}
		}
		f := s.facts(t, "amazon-jp", last30.From, last30.To)
		if got := ratio(f, kpi.CustomsDocsComplete, kpi.CustomsDeclared); got >= 0.98 {
			t.Errorf("amazon-jp customs document completeness last 30 days = %.3f, want below 98%%", got)
		}
	})

	t.Run("tickets", func(t *testing.T) {
		for _, shop := range shops {
			f, _ := s.days(shop, first, today, ordinary)
			if got := f.Dists[kpi.FirstResponseMinutes].Quantile(0.9); shop != "rakuten" && got > 120 {
				t.Errorf("%s first response p90 = %v min", shop, got)
			}
			if got := ratio(f, kpi.PreSaleConverted, kpi.PreSaleTickets); got < 0.2 || got > 0.45 {
				t.Errorf("%s inquiry conversion = %.2f", shop, got)
			}
			if got := ratio(f, kpi.Tickets, kpi.OrdersPlaced); got < 0.05 || got > 0.1 {
				t.Errorf("%s tickets per order = %.3f", shop, got)
			}
			ja := 0
			for _, x := range s.shops[shop].recs.Tickets {
				if x.Lang == "ja" {
					ja++
				}
			}
			if got := float64(ja) / float64(len(s.shops[shop].recs.Tickets)); got < 0.85 {
				t.Errorf("%s Japanese tickets %.2f", shop, got)
			}
		}
	})

	t.Run("Japanese support coverage", func(t *testing.T) {
		for _, shop := range shops {
			f := all(shop)
			if got := ratio(f, kpi.JPCoveredMinutes, kpi.BusinessMinutes); got < 0.85 || got > 0.96 {
				t.Errorf("%s Japanese coverage = %.3f, want 85-96%%", shop, got)
			}
			zh := false
			for _, x := range s.shops[shop].recs.AgentShifts {
				zh = zh || reflect.DeepEqual(x.Langs, []string{"zh"})
			}
			if !zh {
				t.Errorf("%s has no Chinese-speaking agent", shop)
			}
		}
	})

	t.Run("listings and competitors", func(t *testing.T) {
		for _, shop := range shops {
			f := all(shop)
			pse := ratio(f, kpi.ListingsPSEValid, kpi.ListingsNeedPSE)
			if gap := shop == "yahoo"; gap != (pse < 1) {
				t.Errorf("%s PSE coverage = %.2f, want a gap only on yahoo", shop, pse)
			}
			label := ratio(f, kpi.ListingsLabelPassed, kpi.ListingsLabelChecked)
			if failed := shop == "rakuten"; failed != (label < 1) {
				t.Errorf("%s label compliance = %.2f, want a failure only on rakuten", shop, label)
			}
			if f.Count[kpi.NewListings] != 1 || f.Count[kpi.CompetitorNewListings] != 1 {
				t.Errorf("%s new listings: ours %d, competitors' %d, want 1 and 1", shop,
					f.Count[kpi.NewListings], f.Count[kpi.CompetitorNewListings])
			}
			f = s.facts(t, shop, last30.From, last30.To)
			if idx := float64(f.Count[kpi.PriceIndexMicros]) / float64(f.Count[kpi.PricedSKUs]) / 1e6; idx < 1 || idx > 1.1 {
				t.Errorf("%s price index = %.3f", shop, idx)
			}
		}
	})
}
