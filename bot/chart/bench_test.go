package chart

import (
	"io"
	"testing"
	"time"
)

// goal is the target for drawing a 90-day chart.
const goal = 20 * time.Millisecond

// BenchmarkDrawTrend90 draws a 90-day trend with gaps, breaches and a
// threshold at the Large size, PNG included.
func BenchmarkDrawTrend90(b *testing.B) {
	t := trend90ja()
	benchmark(b, func() error { return DrawTrend(io.Discard, t, Large) })
}

// BenchmarkDrawOverview draws the digest's overview of 9 panels of 30 days,
// 1200 px wide.
func BenchmarkDrawOverview(b *testing.B) {
	o := overview9()
	benchmark(b, func() error { return DrawOverview(io.Discard, o, Size{W: 1200}) })
}

func benchmark(b *testing.B, draw func() error) {
	if err := draw(); err != nil { // the font parsed, the glyphs cached
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := draw(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(goal), "goal-ratio")
}
