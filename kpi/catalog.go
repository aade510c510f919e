package kpi

import (
	"math"
	"time"
)

// Unit is how a metric's value is measured and shown.
type Unit string

// Units.
const (
	Yen     Unit = "yen"
	Count   Unit = "count"
	Percent Unit = "percent" // a fraction 0..1 shown as a percentage
	Hours   Unit = "hours"
	Days    Unit = "days"
	Minutes Unit = "minutes"
	Ratio   Unit = "ratio"
)

// Op compares a value with a target.
type Op string

// Comparison operators; the empty Op means the metric is for information only.
const (
	AtLeast Op = ">="
	Above   Op = ">"
	AtMost  Op = "<="
	Below   Op = "<"
)

// Holds reports whether v meets the target t under op.
func (op Op) Holds(v, t float64) bool {
	switch op {
	case AtLeast:
		return v >= t
	case Above:
		return v > t
	case AtMost:
		return v <= t
	case Below:
		return v < t
	}
	return true
}

// HigherIsBetter reports whether a rise of the value is good news.
func (op Op) HigherIsBetter() bool { return op == AtLeast || op == Above }

// SampleKind names what a metric's sample counts, for the reply's context line.
type SampleKind string

// Sample kinds.
const (
	SampleOrders      SampleKind = "orders"
	SampleShipments   SampleKind = "shipments"
	SampleUnits       SampleKind = "units"
	SampleReviews     SampleKind = "reviews"
	SampleSnapshots   SampleKind = "snapshot_days"
	SampleClicks      SampleKind = "clicks"
	SampleImpressions SampleKind = "impressions"
	SampleEntries     SampleKind = "entries"
	SampleListings    SampleKind = "listings"
	SampleTickets     SampleKind = "tickets"
	SampleMinutes     SampleKind = "minutes"
	SampleSKUs        SampleKind = "skus"
	SampleInbound     SampleKind = "inbound"
)

// Value is a metric computed over a window. Secondary is the p90 of the
// metrics that report a distribution, the competitors' count of
// new_listings, and the busiest day of PerDay metrics; NaN when there is none.
type Value struct {
	V         float64 // NaN when undefined (no data, or a zero denominator)
	Secondary float64
	Sample    int64
}

// Defined reports whether the value could be computed.
func (v Value) Defined() bool { return !math.IsNaN(v.V) }

// Area groups metrics for lists and overviews.
type Area string

// Areas, in display order.
const (
	AreaSales      Area = "sales"
	AreaShipping   Area = "shipping"
	AreaCustomers  Area = "customers"
	AreaInventory  Area = "inventory"
	AreaAds        Area = "ads"
	AreaCustoms    Area = "customs"
	AreaCompliance Area = "compliance"
	AreaService    Area = "service"
	AreaMarket     Area = "market"
)

// Areas lists the areas in display order.
var Areas = []Area{AreaSales, AreaShipping, AreaCustomers, AreaInventory, AreaAds, AreaCustoms, AreaCompliance, AreaService, AreaMarket}

// Metric is one row of the catalog (docs/kpi-catalog.md). Its names, aliases
// and formula text in each language are in locales/ under metric.<ID>.
type Metric struct {
	ID        string
	Area      Area
	Unit      Unit
	Op        Op      // empty: information only
	Target    float64 // in the unit's own scale (a fraction for Percent)
	PerDay    bool    // the target holds for the busiest day (Facts.Peaks), not the window
	MinSample int64
	Sample    SampleKind
	// Stat says which statistic of a distribution the value is: "mean" or
	// "median"; empty for metrics that are not distributions.
	Stat string
	// Secondary names the secondary value: "p90", "competitors", or "peak"
	// (the busiest day, for PerDay metrics); empty for none.
	Secondary string
	// Lookback, when set, widens the window to that many days ending with the
	// asked period (order_defect_rate looks at 60 days, days_of_cover at 30).
	Lookback int
	// Current metrics describe the state now (compliance of the listings):
	// they are not compared with a previous period.
	Current bool
	// DefaultPeriod is the period used when the question names none.
	DefaultPeriod PeriodKind
	DefaultDays   int // for DefaultPeriod == KindLastDays

	value func(f *Facts, days int) Value
}

// Compute returns the metric's value over facts of a window of days.
func (m *Metric) Compute(f *Facts, days int) Value { return m.value(f, days) }

// UsesCatalog tells whether the metric is computed from catalog facts
// (listings and competitor offers) rather than from daily records.
func (m *Metric) UsesCatalog() bool { return m.Area == AreaCompliance || m.Area == AreaMarket }

// Verdict is how a value stands against its metric's target.
type Verdict string

// Verdicts.
const (
	VerdictOK     Verdict = "ok"
	VerdictBreach Verdict = "breach"
	VerdictInfo   Verdict = "info"    // no target
	VerdictFew    Verdict = "too_few" // the sample is below the metric's minimum
	VerdictNoData Verdict = "no_data" // nothing to compute from
)

// Judge returns the verdict of v; PerDay metrics judge its Secondary, the
// busiest day.
func (m *Metric) Judge(v Value) Verdict {
	switch {
	case !v.Defined():
		return VerdictNoData
	case m.Op == "":
		return VerdictInfo
	case v.Sample < m.MinSample:
		return VerdictFew
	}
	x := v.V
	if m.PerDay {
		x = v.Secondary
	}
	if m.Op.Holds(x, m.Target) {
		return VerdictOK
	}
	return VerdictBreach
}

// DefaultPeriodAt returns the metric's default period at now.
func (m *Metric) DefaultPeriodAt(now time.Time) Period {
	return PeriodOf(m.DefaultPeriod, m.DefaultDays, now)
}

// PeriodOf returns the period of kind at now; n is the day count of
// KindLastDays. Kinds that need a date (month, date, range) give yesterday.
func PeriodOf(kind PeriodKind, n int, now time.Time) Period {
	switch kind {
	case KindToday:
		return Today(now)
	case KindThisWeek:
		return ThisWeek(now)
	case KindLastWeek:
		return LastWeek(now)
	case KindThisMonth:
		return ThisMonth(now)
	case KindLastMonth:
		return LastMonth(now)
	case KindLastDays:
		return LastDays(now, max(n, 1))
	}
	return Yesterday(now)
}

func ratio(num, den int64) float64 {
	if den == 0 {
		return nan
	}
	return float64(num) / float64(den)
}

// rate is a ratio of two counters, sampled by the denominator.
func rate(num, den Counter) func(*Facts, int) Value {
	return func(f *Facts, _ int) Value {
		return Value{V: ratio(f.Count[num], f.Count[den]), Secondary: nan, Sample: f.Count[den]}
	}
}

// total is a counter, sampled by another.
func total(c, sample Counter) func(*Facts, int) Value {
	return func(f *Facts, _ int) Value {
		return Value{V: float64(f.Count[c]), Secondary: nan, Sample: f.Count[sample]}
	}
}

// mean is a distribution's mean and p90 in units of per minutes.
func mean(d DistID, per float64) func(*Facts, int) Value {
	return func(f *Facts, _ int) Value {
		dist := &f.Dists[d]
		return Value{V: dist.Mean() / per, Secondary: dist.Quantile(0.9) / per, Sample: dist.N}
	}
}

// median is a distribution's median and p90 in minutes.
func median(d DistID) func(*Facts, int) Value {
	return func(f *Facts, _ int) Value {
		dist := &f.Dists[d]
		return Value{V: dist.Quantile(0.5), Secondary: dist.Quantile(0.9), Sample: dist.N}
	}
}

// Catalog holds every metric of docs/kpi-catalog.md, in its order.
var Catalog = []*Metric{
	{ID: "gmv", Area: AreaSales, Unit: Yen, Sample: SampleOrders, DefaultPeriod: KindYesterday,
		value: total(GMV, OrdersValid)},
	{ID: "orders", Area: AreaSales, Unit: Count, Sample: SampleOrders, DefaultPeriod: KindYesterday,
		value: total(OrdersValid, OrdersValid)},
	{ID: "aov", Area: AreaSales, Unit: Yen, Sample: SampleOrders, DefaultPeriod: KindYesterday,
		value: rate(GMV, OrdersValid)},
	{ID: "ship_24h_rate", Area: AreaShipping, Unit: Percent, Op: AtLeast, Target: 0.98, MinSample: 20, Sample: SampleOrders, DefaultPeriod: KindYesterday,
		value: rate(ShippedIn24h, ShipDue)},
	{ID: "order_to_ship_hours", Area: AreaShipping, Unit: Hours, Op: AtMost, Target: 24, MinSample: 20, Sample: SampleOrders, Stat: "mean", Secondary: "p90", DefaultPeriod: KindYesterday,
		value: mean(ShipMinutes, 60)},
	{ID: "late_shipment_rate", Area: AreaShipping, Unit: Percent, Op: Below, Target: 0.04, MinSample: 20, Sample: SampleOrders, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: rate(ShippedLate, ShippedWithShipBy)},
	{ID: "cancel_rate", Area: AreaShipping, Unit: Percent, Op: Below, Target: 0.025, MinSample: 20, Sample: SampleOrders, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: rate(SellerCancels, OrdersPlaced)},
	{ID: "valid_tracking_rate", Area: AreaShipping, Unit: Percent, Op: AtLeast, Target: 0.95, MinSample: 20, Sample: SampleShipments, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: rate(TrackedShipments, Shipments)},
	{ID: "delivery_days", Area: AreaShipping, Unit: Days, Op: AtMost, Target: 2, MinSample: 20, Sample: SampleShipments, Stat: "mean", Secondary: "p90", DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: mean(DeliveryMinutes, 24*60)},
	{ID: "on_time_delivery_rate", Area: AreaShipping, Unit: Percent, Op: AtLeast, Target: 0.97, MinSample: 20, Sample: SampleShipments, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: rate(DeliveredOnTime, DeliveredWithPromise)},
	{ID: "return_rate", Area: AreaCustomers, Unit: Percent, Op: AtMost, Target: 0.05, MinSample: 20, Sample: SampleUnits, DefaultPeriod: KindThisMonth,
		value: rate(UnitsReturned, UnitsShipped)},
	{ID: "review_score", Area: AreaCustomers, Unit: Ratio, Op: AtLeast, Target: 4.7, MinSample: 5, Sample: SampleReviews, DefaultPeriod: KindLastDays, DefaultDays: 30,
		value: rate(ReviewStars, Reviews)},
	{ID: "negative_reviews", Area: AreaCustomers, Unit: Count, Op: AtMost, Target: 2, PerDay: true, Sample: SampleReviews, Secondary: "peak", DefaultPeriod: KindToday,
		value: func(f *Facts, _ int) Value {
			return Value{V: float64(f.Count[NegativeReviews]), Secondary: float64(f.Peaks[NegativeReviewsPeakDay]), Sample: f.Count[Reviews]}
		}},
	{ID: "order_defect_rate", Area: AreaCustomers, Unit: Percent, Op: Below, Target: 0.01, MinSample: 20, Sample: SampleOrders, Lookback: 60, DefaultPeriod: KindYesterday,
		value: rate(DefectOrders, OrdersPlaced)},
	{ID: "reviews_awaiting_reply", Area: AreaCustomers, Unit: Count, Op: AtMost, Target: 0, Sample: SampleReviews, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: func(f *Facts, _ int) Value {
			return Value{V: float64(f.Count[NegativeUnanswered]), Secondary: nan, Sample: f.Count[NegativeReviews]}
		}},
	{ID: "review_response_hours", Area: AreaCustomers, Unit: Hours, Op: AtMost, Target: 24, MinSample: 1, Sample: SampleReviews, Stat: "mean", Secondary: "p90", DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: mean(ReviewReplyMinutes, 60)},
	{ID: "inventory_turnover_days", Area: AreaInventory, Unit: Days, Op: AtMost, Target: 60, MinSample: 1, Sample: SampleSnapshots, DefaultPeriod: KindLastDays, DefaultDays: 30,
		value: turnover},
	{ID: "days_of_cover", Area: AreaInventory, Unit: Days, Op: AtLeast, Target: 21, MinSample: 1, Sample: SampleSnapshots, Lookback: 30, DefaultPeriod: KindToday,
		value: cover},
	{ID: "replenishment_count", Area: AreaInventory, Unit: Count, Sample: SampleInbound, DefaultPeriod: KindThisMonth,
		value: total(InboundShipments, InboundShipments)},
	{ID: "acos", Area: AreaAds, Unit: Percent, Op: AtMost, Target: 0.30, MinSample: 20, Sample: SampleClicks, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: acos},
	{ID: "roas", Area: AreaAds, Unit: Ratio, Op: AtLeast, Target: 3.3, MinSample: 20, Sample: SampleClicks, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: func(f *Facts, _ int) Value {
			return Value{V: ratio(f.Count[AdSales], f.Count[AdSpend]), Secondary: nan, Sample: f.Count[AdClicks]}
		}},
	{ID: "ctr", Area: AreaAds, Unit: Percent, Op: AtLeast, Target: 0.003, MinSample: 1000, Sample: SampleImpressions, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: rate(AdClicks, AdImpressions)},
	{ID: "cvr", Area: AreaAds, Unit: Percent, MinSample: 20, Sample: SampleClicks, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: rate(AdOrders, AdClicks)},
	{ID: "customs_failure_rate", Area: AreaCustoms, Unit: Percent, Op: AtMost, Target: 0.02, MinSample: 5, Sample: SampleEntries, DefaultPeriod: KindLastDays, DefaultDays: 30,
		value: rate(CustomsFailed, CustomsDeclared)},
	{ID: "customs_doc_completeness", Area: AreaCustoms, Unit: Percent, Op: AtLeast, Target: 0.98, MinSample: 5, Sample: SampleEntries, DefaultPeriod: KindLastDays, DefaultDays: 30,
		value: rate(CustomsDocsComplete, CustomsDeclared)},
	{ID: "customs_clearance_hours", Area: AreaCustoms, Unit: Hours, Op: AtMost, Target: 48, MinSample: 3, Sample: SampleEntries, Stat: "mean", Secondary: "p90", DefaultPeriod: KindLastDays, DefaultDays: 30,
		value: mean(CustomsMinutes, 60)},
	{ID: "pse_coverage", Area: AreaCompliance, Unit: Percent, Op: AtLeast, Target: 1, MinSample: 1, Sample: SampleListings, Current: true, DefaultPeriod: KindToday,
		value: rate(ListingsPSEValid, ListingsNeedPSE)},
	{ID: "label_compliance_rate", Area: AreaCompliance, Unit: Percent, Op: AtLeast, Target: 1, MinSample: 1, Sample: SampleListings, Current: true, DefaultPeriod: KindToday,
		value: rate(ListingsLabelPassed, ListingsLabelChecked)},
	{ID: "first_response_minutes", Area: AreaService, Unit: Minutes, Op: AtMost, Target: 120, MinSample: 10, Sample: SampleTickets, Stat: "median", Secondary: "p90", DefaultPeriod: KindYesterday,
		value: median(FirstResponseMinutes)},
	{ID: "jp_cs_coverage", Area: AreaService, Unit: Percent, Op: AtLeast, Target: 0.90, MinSample: 60, Sample: SampleMinutes, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: rate(JPCoveredMinutes, BusinessMinutes)},
	{ID: "inquiry_conversion", Area: AreaService, Unit: Percent, MinSample: 10, Sample: SampleTickets, DefaultPeriod: KindLastDays, DefaultDays: 30,
		value: rate(PreSaleConverted, PreSaleTickets)},
	{ID: "price_index", Area: AreaMarket, Unit: Ratio, Op: AtMost, Target: 1.05, MinSample: 1, Sample: SampleSKUs, DefaultPeriod: KindLastDays, DefaultDays: 7,
		value: func(f *Facts, _ int) Value {
			return Value{V: ratio(f.Count[PriceIndexMicros], f.Count[PricedSKUs]) / 1e6, Secondary: nan, Sample: f.Count[PricedSKUs]}
		}},
	{ID: "new_listings", Area: AreaMarket, Unit: Count, Sample: SampleListings, Secondary: "competitors", DefaultPeriod: KindLastDays, DefaultDays: 30,
		value: func(f *Facts, _ int) Value {
			n := f.Count[NewListings]
			return Value{V: float64(n), Secondary: float64(f.Count[CompetitorNewListings]), Sample: n}
		}},
}

// acos is ad spend ÷ ad-attributed sales; spend with no sales is infinitely bad.
func acos(f *Facts, _ int) Value {
	v := ratio(f.Count[AdSpend], f.Count[AdSales])
	if f.Count[AdSales] == 0 && f.Count[AdSpend] > 0 {
		v = math.Inf(1)
	}
	return Value{V: v, Secondary: nan, Sample: f.Count[AdClicks]}
}

// turnover is the average units on hand ÷ the average units sold a day.
func turnover(f *Facts, days int) Value {
	onHand := ratio(f.Count[OnHandSum], f.Count[SnapshotDays])
	sold := ratio(f.Count[UnitsSold], int64(days))
	// Stock that does not sell turns over in +Inf days.
	return Value{V: onHand / sold, Secondary: nan, Sample: f.Count[SnapshotDays]}
}

// cover is the units on hand and inbound at the latest snapshot ÷ the average
// units sold a day over the window (the metric's 30-day lookback).
func cover(f *Facts, days int) Value {
	sold := ratio(f.Count[UnitsSold], int64(days))
	v := float64(f.Gauges[OnHand]+f.Gauges[InboundNow]) / sold
	if f.Count[SnapshotDays] == 0 {
		v = nan
	}
	return Value{V: v, Secondary: nan, Sample: f.Count[SnapshotDays]}
}

var catalogByID = func() map[string]*Metric {
	m := make(map[string]*Metric, len(Catalog))
	for _, x := range Catalog {
		m[x.ID] = x
	}
	return m
}()

// Lookup returns the metric with the given id.
func Lookup(id string) (*Metric, bool) {
	m, ok := catalogByID[id]
	return m, ok
}

var nan = math.NaN()
