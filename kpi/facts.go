package kpi

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"slices"
)

// Counter names one additive aggregate of Facts.
type Counter int

// The counters. Each is summed over days and shops. The comment says which day
// a record counts on.
const (
	OrdersPlaced          Counter = iota // orders placed (placed day)
	OrdersValid                          // orders placed and not cancelled
	GMV                                  // totals of valid orders
	UnitsSold                            // units of valid orders
	SellerCancels                        // orders cancelled by the seller before shipping
	ShipDue                              // valid orders shipped, or unshipped past their 24 h deadline (placed day)
	ShippedIn24h                         // valid orders whose first shipment left within 24 h
	ShippedOrders                        // valid orders with a first shipment (placed day)
	ShippedWithShipBy                    // of those, orders with a latest ship date
	ShippedLate                          // of those, orders whose first shipment left after it
	DefectOrders                         // orders with a 1-2 star feedback, a claim or a chargeback (placed day)
	Shipments                            // shipments (ship day)
	TrackedShipments                     // shipments with a valid tracking number
	UnitsShipped                         // units in shipments (ship day)
	Delivered                            // shipments delivered (delivered day)
	DeliveredWithPromise                 // of those, orders with a promised date
	DeliveredOnTime                      // of those, delivered by the promised date
	UnitsReturned                        // units returned (return day)
	Reviews                              // reviews posted (posted day)
	ReviewStars                          // sum of their ratings
	NegativeReviews                      // reviews of 1-2 stars
	OnHandSum                            // units on hand, summed over days with a snapshot
	SnapshotDays                         // days with an inventory snapshot
	InboundShipments                     // replenishments created (created day)
	AdImpressions                        // (ad day)
	AdClicks                             //
	AdSpend                              //
	AdSales                              //
	AdOrders                             //
	CustomsDeclared                      // entries declared (declared day)
	CustomsFailed                        // of those, held or rejected
	CustomsDocsComplete                  // of those, complete at first submission
	Tickets                              // tickets opened (opened day)
	PreSaleTickets                       // of those, pre-sale inquiries
	PreSaleConverted                     // of those, followed by an order within 7 days
	BusinessMinutes                      // JST business minutes of the day, up to now
	JPCoveredMinutes                     // of those, minutes with a Japanese-speaking agent online
	NewListings                          // our listings launched (launch day)
	CompetitorNewListings                // competitors' new listings seen (observed day)
	ListingsNeedPSE                      // listings that need PSE (current state)
	ListingsPSEValid                     // of those, with a valid certificate
	ListingsLabelChecked                 // listings whose labelling was checked (current state)
	ListingsLabelPassed                  // of those, passed
	PricedSKUs                           // SKUs with a competitor price in the window
	PriceIndexMicros                     // sum over them of our price ÷ lowest competitor price, ×1e6
	NegativeUnanswered                   // 1-2 star reviews not replied to when the day was built (posted day)
	numCounters
)

// Gauge names a level that is not summed over days: the latest day's value wins.
type Gauge int

// The gauges.
const (
	OnHand     Gauge = iota // units on hand at the latest snapshot
	InboundNow              // units inbound at the latest snapshot
	numGauges
)

// Peak names a value whose maximum over days and shops is kept.
type Peak int

// The peaks.
const (
	NegativeReviewsPeakDay Peak = iota // most 1-2 star reviews on one day
	numPeaks
)

// DistID names a distribution of durations, in minutes.
type DistID int

// The distributions.
const (
	ShipMinutes          DistID = iota // order placed → first shipment (placed day)
	DeliveryMinutes                    // shipped → delivered (delivered day)
	ReviewReplyMinutes                 // 1-2 star review → reply, or → now while unanswered (posted day)
	CustomsMinutes                     // declared → cleared (declared day)
	FirstResponseMinutes               // first message → first reply in business minutes, or → now while unanswered (opened day)
	numDists
)

// Facts are the aggregates every metric is computed from, for one shop and
// one day, or summed over several. They are what a store keeps as daily
// rollups, so that a metric over a year reads a few hundred small rows instead
// of a million orders.
type Facts struct {
	Day    Date // the latest day with a gauge; 0 if none
	Count  [numCounters]int64
	Gauges [numGauges]int64
	Peaks  [numPeaks]int64
	Dists  [numDists]Dist
}

// Sum returns the facts of many days added up: counters and distributions
// sum, peaks keep the highest day, gauges the latest. Each distribution is
// merged once, a dense count per bucket rather than a merge per day, which
// for a month of a busy shop is several times faster.
func Sum(days []*Facts) Facts {
	var out Facts
	for _, f := range days {
		for i := range out.Count {
			out.Count[i] += f.Count[i]
		}
		for i := range out.Peaks {
			out.Peaks[i] = max(out.Peaks[i], f.Peaks[i])
		}
		if f.Day > out.Day {
			out.Day = f.Day
			out.Gauges = f.Gauges
		}
	}
	for i := range out.Dists {
		out.Dists[i] = sumDist(days, DistID(i))
	}
	return out
}

func sumDist(days []*Facts, id DistID) Dist {
	var d Dist
	var top uint32
	for _, f := range days {
		x := &f.Dists[id]
		d.N += x.N
		d.Sum += x.Sum
		if len(x.buckets) > 0 {
			top = max(top, x.buckets[len(x.buckets)-1].b)
		}
	}
	if d.N == 0 {
		return d
	}
	dense := make([]int64, top+1)
	for _, f := range days {
		for _, e := range f.Dists[id].buckets {
			dense[e.b] += e.n
		}
	}
	for b, n := range dense {
		if n != 0 {
			d.buckets = append(d.buckets, bucket{uint32(b), n})
		}
	}
	return d
}

// AddShop adds the facts of another shop over the same window: counters,
// distributions and the gauges of different shops sum. Peaks keep the highest shop, since
// a target such as "at most 2 negative reviews a day" holds per shop.
func (f *Facts) AddShop(o *Facts) {
	for i := range f.Count {
		f.Count[i] += o.Count[i]
	}
	for i := range f.Peaks {
		f.Peaks[i] = max(f.Peaks[i], o.Peaks[i])
	}
	for i := range f.Dists {
		f.Dists[i].Merge(&o.Dists[i])
	}
	for i := range f.Gauges {
		f.Gauges[i] += o.Gauges[i]
	}
	f.Day = max(f.Day, o.Day)
}

// Dist is a histogram of non-negative durations in minutes. Values below
// 1024 are kept exactly; larger ones in buckets 1/1024 of their power of two
// wide (under 0.1% apart). Sum and N are exact, so the mean is exact.
type Dist struct {
	N   int64
	Sum int64
	// The non-empty buckets in increasing order. A sorted slice rather than a
	// map: summing a month of daily rollups merges thousands of buckets per
	// day, which a linear merge of two sorted lists does several times faster
	// than map updates, and encoding and quantiles need the order anyway.
	buckets []bucket
}

type bucket struct {
	b uint32 // bucketOf the values
	n int64  // how many
}

const subBits = 10 // 1024 exact values, then 1024 buckets per power of two

func bucketOf(v int64) uint32 {
	if v < 1<<subBits {
		return uint32(v)
	}
	exp := bits.Len64(uint64(v)) - subBits - 1 // v >> exp is in [1024, 2048)
	return uint32((exp+1)<<subBits) + uint32(v>>exp) - 1<<subBits
}

func bucketFloor(b uint32) int64 {
	if b < 1<<subBits {
		return int64(b)
	}
	exp := int(b>>subBits) - 1
	return (int64(b&(1<<subBits-1)) + 1<<subBits) << exp
}

// Observe adds one value; negative values count as zero.
func (d *Dist) Observe(minutes int64) {
	minutes = max(minutes, 0)
	d.N++
	d.Sum += minutes
	b := bucketOf(minutes)
	i, found := slices.BinarySearchFunc(d.buckets, b, func(e bucket, b uint32) int { return cmp.Compare(e.b, b) })
	if found {
		d.buckets[i].n++
		return
	}
	d.buckets = slices.Insert(d.buckets, i, bucket{b, 1})
}

// Merge adds o's observations into d.
func (d *Dist) Merge(o *Dist) {
	if o.N == 0 {
		return
	}
	d.N += o.N
	d.Sum += o.Sum
	d.buckets = mergeBuckets(d.buckets, o.buckets)
}

// mergeBuckets adds the sorted buckets of o into those of d and returns the
// result. It merges from the back into d's own array when it has room, so
// that summing many days allocates only as d grows; o is never aliased.
func mergeBuckets(d, o []bucket) []bucket {
	if len(o) == 0 {
		return d
	}
	n := len(d) + len(o)
	if cap(d) < n {
		grown := make([]bucket, len(d), max(n, 2*cap(d)))
		copy(grown, d)
		d = grown
	}
	i, j, k := len(d)-1, len(o)-1, n-1
	d = d[:n]
	// Fill d[k] from the back with the larger head; k stays above i, so no
	// bucket of d is overwritten before it is read.
	for ; j >= 0; k-- {
		switch {
		case i >= 0 && d[i].b > o[j].b:
			d[k] = d[i]
			i--
		case i >= 0 && d[i].b == o[j].b:
			d[k] = bucket{d[i].b, d[i].n + o[j].n}
			i--
			j--
		default:
			d[k] = o[j]
			j--
		}
	}
	// d[:i+1] is in place; each bucket the two had in common left a gap
	// between it and the merged tail d[k+1:].
	if gap := k - i; gap > 0 {
		copy(d[i+1:], d[k+1:])
		d = d[:n-gap]
	}
	return d
}

// Mean returns the mean value, or NaN when empty.
func (d *Dist) Mean() float64 {
	if d.N == 0 {
		return math.NaN()
	}
	return float64(d.Sum) / float64(d.N)
}

// Quantile returns the nearest-rank q-quantile (the smallest value with at
// least q of the observations at or below it), or NaN when empty.
func (d *Dist) Quantile(q float64) float64 {
	if d.N == 0 {
		return math.NaN()
	}
	rank := int64(math.Ceil(q * float64(d.N)))
	rank = max(rank, 1)
	var seen int64
	for _, e := range d.buckets {
		seen += e.n
		if seen >= rank {
			return float64(bucketFloor(e.b))
		}
	}
	return float64(bucketFloor(d.buckets[len(d.buckets)-1].b))
}

// MarshalBinary encodes f compactly: varints, zero runs skipped by index.
// factsFormat is the version of MarshalBinary's encoding; it changes when
// the counters do, so that stored facts of an older kind are rebuilt.
const factsFormat = 2

func (f *Facts) MarshalBinary() ([]byte, error) {
	buf := make([]byte, 0, 256)
	buf = binary.AppendUvarint(buf, factsFormat)
	buf = binary.AppendVarint(buf, int64(f.Day))
	appendInts := func(vals []int64) {
		for i, v := range vals {
			if v != 0 {
				buf = binary.AppendUvarint(buf, uint64(i)+1)
				buf = binary.AppendVarint(buf, v)
			}
		}
		buf = binary.AppendUvarint(buf, 0)
	}
	appendInts(f.Count[:])
	appendInts(f.Gauges[:])
	appendInts(f.Peaks[:])
	for i := range f.Dists {
		d := &f.Dists[i]
		buf = binary.AppendUvarint(buf, uint64(len(d.buckets)))
		if len(d.buckets) == 0 {
			continue
		}
		buf = binary.AppendVarint(buf, d.Sum)
		prev := uint32(0)
		for _, e := range d.buckets {
			buf = binary.AppendUvarint(buf, uint64(e.b-prev))
			buf = binary.AppendUvarint(buf, uint64(e.n))
			prev = e.b
		}
	}
	return buf, nil
}

var errFacts = errors.New("kpi: corrupt facts encoding")

// UnmarshalBinary decodes what MarshalBinary wrote.
func (f *Facts) UnmarshalBinary(data []byte) error { return f.Decode(data, true) }

// Decode decodes what MarshalBinary wrote; without dists it stops before the
// distributions and leaves them empty, which is most of the work saved.
func (f *Facts) Decode(data []byte, dists bool) error {
	*f = Facts{}
	r := reader{data: data}
	if r.uvarint() != factsFormat {
		return errFacts // an older format: the caller rebuilds it
	}
	f.Day = Date(r.varint())
	readInts := func(vals []int64) {
		for r.err == nil {
			i := r.uvarint()
			if i == 0 {
				return
			}
			if i > uint64(len(vals)) {
				r.err = errFacts
				return
			}
			vals[i-1] = r.varint()
		}
	}
	readInts(f.Count[:])
	readInts(f.Gauges[:])
	readInts(f.Peaks[:])
	if !dists {
		return r.err
	}
	for i := range f.Dists {
		n := r.uvarint()
		if n == 0 || r.err != nil {
			continue
		}
		d := &f.Dists[i]
		d.Sum = r.varint()
		if r.err == nil {
			d.buckets, d.N, r.data, r.err = decodeBuckets(r.data, n)
		}
	}
	return r.err
}

// decodeBuckets reads n buckets as MarshalBinary wrote them (the delta from
// the previous bucket, then the count) from data, and returns them with
// their total and the rest of data. It is the hot loop of summing rollups,
// so it works on the bytes directly, with a fast path for the usual bucket
// whose delta and count take a byte each.
func decodeBuckets(data []byte, n uint64) ([]bucket, int64, []byte, error) {
	// Each bucket takes at least two bytes: a corrupt n cannot make us
	// allocate more than the data could hold.
	buckets := make([]bucket, 0, min(n, uint64(len(data))/2))
	var total int64
	b := uint64(0)
	for j := range n {
		var delta, c uint64
		if len(data) >= 2 && data[0] < 0x80 && data[1] < 0x80 {
			delta, c, data = uint64(data[0]), uint64(data[1]), data[2:]
		} else {
			var k1, k2 int
			delta, k1 = binary.Uvarint(data)
			if k1 > 0 {
				c, k2 = binary.Uvarint(data[k1:])
			}
			if k1 <= 0 || k2 <= 0 {
				return nil, 0, data, errFacts
			}
			data = data[k1+k2:]
		}
		if delta > math.MaxUint32-b {
			return nil, 0, data, errFacts
		}
		b += delta
		if j > 0 && delta == 0 { // the same bucket again, which the encoder never writes
			buckets[len(buckets)-1].n += int64(c)
		} else {
			buckets = append(buckets, bucket{uint32(b), int64(c)})
		}
		total += int64(c)
	}
	return buckets, total, data, nil
}

type reader struct {
	data []byte
	err  error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data)
	if n <= 0 {
		r.err = errFacts
		return 0
	}
	r.data = r.data[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.data)
	if n <= 0 {
		r.err = errFacts
		return 0
	}
	r.data = r.data[n:]
	return v
}
