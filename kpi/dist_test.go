package kpi

import (
	"math/rand/v2"
	"testing"
)

// TestDistMerge checks Observe and Merge against a plain count of buckets,
// over random values and merge orders, including a Dist merged into itself.
func TestDistMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		var sum Dist
		want := make(map[uint32]int64)
		for range 1 + r.IntN(8) {
			var d Dist
			for range r.IntN(300) {
				v := r.Int64N(1 << (1 + r.IntN(24)))
				d.Observe(v)
				want[bucketOf(v)]++
			}
			sum.Merge(&d)
		}
		if round%10 == 0 {
			sum.Merge(&sum)
			for b := range want {
				want[b] *= 2
			}
		}
		var n int64
		for i, e := range sum.buckets {
			if i > 0 && sum.buckets[i-1].b >= e.b {
				t.Fatalf("round %d: buckets out of order at %d", round, i)
			}
			if want[e.b] != e.n {
				t.Fatalf("round %d: bucket %d has %d, want %d", round, e.b, e.n, want[e.b])
			}
			n += e.n
		}
		if len(sum.buckets) != len(want) || n != sum.N {
			t.Fatalf("round %d: %d buckets holding %d, want %d holding %d", round, len(sum.buckets), n, len(want), sum.N)
		}
	}
}
