package chart

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kpibot/kpibot/kpi"
)

func TestNiceAxis(t *testing.T) {
	cases := []struct {
		lo, hi   float64
		maxTicks int
		want     []float64
	}{
		{0, 5.3, 6, []float64{0, 2, 4, 6}},
		{0, 1, 6, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0, 0.3, 4, []float64{0, 0.1, 0.2, 0.3}},
		{0, 0.061, 6, []float64{0, 0.02, 0.04, 0.06, 0.08}},
		{0, 0.05, 6, []float64{0, 0.01, 0.02, 0.03, 0.04, 0.05}},
		{0, 24, 6, []float64{0, 5, 10, 15, 20, 25}},
		{0, 100, 5, []float64{0, 50, 100}},
		{0, 100, 6, []float64{0, 20, 40, 60, 80, 100}},
		{-3, 7, 6, []float64{-5, 0, 5, 10}},
		{-0.7, 0, 4, []float64{-1, -0.5, 0}},
		{12345, 12890, 6, []float64{12200, 12400, 12600, 12800, 13000}},
		{1, 1.0004, 6, []float64{1, 1.0001, 1.0002, 1.0003, 1.0004}},
		{0, 7, 2, []float64{0, 10}},
		{0, 1284600, 5, []float64{0, 500000, 1000000, 1500000}},
		{0, 3, 1, []float64{0, 5}}, // at least two ticks
	}
	for _, c := range cases {
		got := niceAxis(c.lo, c.hi, c.maxTicks).ticks
		if !slices.Equal(got, c.want) {
			t.Errorf("niceAxis(%g, %g, %d) = %v, want %v", c.lo, c.hi, c.maxTicks, got, c.want)
		}
	}
}

func TestNiceAxisProperties(t *testing.T) {
	// Whatever the range: ticks cover it, there are 2..maxTicks of them,
	// evenly spaced at 1, 2 or 5 times a power of ten.
	n := noise(7)
	for range 2000 {
		scale := math.Pow10(int(n.next()*8) - 2)
		lo := n.next() * scale
		hi := lo + (n.next()+1.01)*scale
		maxTicks := 2 + int((n.next()+1)*3)
		a := niceAxis(lo, hi, maxTicks)
		if lo < 0 && hi > 0 {
			maxTicks = max(3, maxTicks)
		}
		if len(a.ticks) < 2 || len(a.ticks) > maxTicks {
			t.Fatalf("niceAxis(%g, %g, %d): %d ticks", lo, hi, maxTicks, len(a.ticks))
		}
		if a.lo() > lo || a.hi() < hi {
			t.Fatalf("niceAxis(%g, %g, %d) = %v does not cover the range", lo, hi, maxTicks, a.ticks)
		}
		if a.mant != 1 && a.mant != 2 && a.mant != 5 {
			t.Fatalf("step mantissa %d", a.mant)
		}
		step := float64(a.mant) * math.Pow10(a.exp)
		for i := 1; i < len(a.ticks); i++ {
			if d := a.ticks[i] - a.ticks[i-1]; math.Abs(d-step) > step*1e-9 {
				t.Fatalf("niceAxis(%g, %g, %d) = %v: uneven step", lo, hi, maxTicks, a.ticks)
			}
		}
	}
}

func TestAxisLabel(t *testing.T) {
	cases := []struct {
		lo, hi   float64
		maxTicks int
		want     string
	}{
		{0, 1, 6, "0 0.2 0.4 0.6 0.8 1.0"},
		{0, 0.3, 4, "0 0.1 0.2 0.3"},
		{0, 24, 6, "0 5 10 15 20 25"},
		{0, 12890, 4, "0 5000 10000 15000"},
		{0, 3.2e7, 5, "0 1e+07 2e+07 3e+07 4e+07"},
		{-0.07, 0, 4, "-0.10 -0.05 0"},
	}
	for _, c := range cases {
		a := niceAxis(c.lo, c.hi, c.maxTicks)
		var got []string
		for _, v := range a.ticks {
			got = append(got, a.label(v))
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("labels of niceAxis(%g, %g, %d) = %q, want %q", c.lo, c.hi, c.maxTicks, s, c.want)
		}
	}
}

func TestDataRange(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	pts := func(vs ...float64) []Point {
		var ps []Point
		for i, v := range vs {
			ps = append(ps, Point{Day: kpi.Date(20000 + i), V: v})
		}
		return ps
	}
	cases := []struct {
		name      string
		points    []Point
		threshold float64
		lo, hi    float64
		ok        bool
	}{
		{"non-negative data start at 0", pts(3, 5, 4), nan, 0, 5, true},
		{"threshold above the data", pts(3, 5, 4), 8, 0, 8, true},
		{"threshold below the data (floor 0)", pts(0.96, 0.99), 0.95, 0, 0.99, true},
		{"threshold below zero", pts(3, 5), -2, -2, 5, true},
		{"data both sides of 0", pts(-2, 4), nan, -2, 4, true},
		{"negative data end at 0", pts(-5, -1), nan, -5, 0, true},
		{"negative data, threshold above 0", pts(-1, -0.5), 1, -1, 1, true},
		{"gaps and infinities skipped", pts(nan, 2, inf, 7, nan), nan, 0, 7, true},
		{"flat zero", pts(0, 0, 0), nan, 0, 1, true},
		{"flat zero, zero threshold", pts(0, 0), 0, 0, 1, true},
		{"no data", pts(nan, nan), 5, 0, 0, false},
		{"no points", nil, nan, 0, 0, false},
	}
	for _, c := range cases {
		lo, hi, ok := dataRange(c.points, c.threshold)
		if lo != c.lo || hi != c.hi || ok != c.ok {
			t.Errorf("%s: dataRange = %g, %g, %v; want %g, %g, %v", c.name, lo, hi, ok, c.lo, c.hi, c.ok)
		}
	}
}

func TestSparkRange(t *testing.T) {
	nan := math.NaN()
	pts := func(vs ...float64) []Point {
		var ps []Point
		for i, v := range vs {
			ps = append(ps, Point{Day: kpi.Date(20000 + i), V: v})
		}
		return ps
	}
	cases := []struct {
		name      string
		points    []Point
		threshold float64
		lo, hi    float64
		ok        bool
	}{
		{"data, 12% margins", pts(0.96, 0.98, 0.97), nan, 0.96 - 0.0024, 0.98 + 0.0024, true},
		{"threshold below the data", pts(0.96, 0.98), 0.95, 0.95 - 0.0036, 0.98 + 0.0036, true},
		{"threshold above the data", pts(10, 20), 30, 10 - 2.4, 30 + 2.4, true},
		{"not below 0 for non-negative data", pts(0, 10), nan, 0, 11.2, true},
		{"negative data may go below 0", pts(-10, 0), nan, -11.2, 1.2, true},
		{"flat", pts(5, 5, nan, 5), nan, 4.5, 5.5, true},
		{"flat zero", pts(0, 0), nan, 0, 1, true},
		{"no data", pts(nan), 1, 0, 0, false},
	}
	for _, c := range cases {
		lo, hi, ok := sparkRange(c.points, c.threshold)
		if math.Abs(lo-c.lo) > 1e-9 || math.Abs(hi-c.hi) > 1e-9 || ok != c.ok {
			t.Errorf("%s: sparkRange = %g, %g, %v; want %g, %g, %v", c.name, lo, hi, ok, c.lo, c.hi, c.ok)
		}
	}
}

// TestThresholdDrawn draws a series far below its threshold: the axis must
// stretch to the threshold, whose dashed line is drawn in the plot.
func TestThresholdDrawn(t *testing.T) {
	for _, thr := range []float64{0.5, -0.2} {
		tr := trend30zh()
		tr.Threshold = thr
		lo, hi, _ := dataRange(tr.Points, thr)
		if a := niceAxis(lo, hi, 6); a.lo() > thr || a.hi() < thr {
			t.Errorf("threshold %g outside the axis %v", thr, a.ticks)
		}
		img := drawPNG(t, tr, Large)
		if n := countColor(img, threshAmb); n < 500 {
			t.Errorf("threshold %g: %d pixels of the threshold's colour, want a dashed line across", thr, n)
		}
	}
	// No threshold, no line.
	tr := trend30zh()
	tr.Threshold = math.NaN()
	if n := countColor(drawPNG(t, tr, Large), threshAmb); n != 0 {
		t.Errorf("no threshold: %d pixels of the threshold's colour", n)
	}
}

func countColor(img image.Image, c interface{ RGBA() (r, g, b, a uint32) }) int {
	n := 0
	r := img.Bounds()
	cr, cg, cb, _ := c.RGBA()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if pr == cr && pg == cg && pb == cb {
				n++
			}
		}
	}
	return n
}

func drawPNG(t *testing.T, tr Trend, s Size) image.Image {
	t.Helper()
	var b bytes.Buffer
	if err := DrawTrend(&b, tr, s); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestDayTicks(t *testing.T) {
	d := func(m time.Month, day int) kpi.Date { return kpi.NewDate(2026, m, day) }
	if lastDay.Weekday() != time.Saturday || d(time.August, 31).Weekday() != time.Monday {
		t.Fatal("the calendar is not what the cases assume")
	}
	cases := []struct {
		name        string
		first, last kpi.Date
		max         int
		want        []kpi.Date
	}{
		{"a week, daily", lastDay - 6, lastDay, 10, []kpi.Date{lastDay - 6, lastDay - 5, lastDay - 4, lastDay - 3, lastDay - 2, lastDay - 1, lastDay}},
		{"two weeks, every other day back from the last", lastDay - 13, lastDay, 8,
			[]kpi.Date{lastDay - 12, lastDay - 10, lastDay - 8, lastDay - 6, lastDay - 4, lastDay - 2, lastDay}},
		{"two weeks, too narrow: Mondays", lastDay - 13, lastDay, 5, []kpi.Date{d(11, 16), d(11, 23)}},
		{"30 days: Mondays", lastDay - 29, lastDay, 15, []kpi.Date{d(11, 2), d(11, 9), d(11, 16), d(11, 23)}},
		{"90 days: Mondays", lastDay - 89, lastDay, 15, []kpi.Date{
			d(8, 31), d(9, 7), d(9, 14), d(9, 21), d(9, 28), d(10, 5), d(10, 12), d(10, 19), d(10, 26),
			d(11, 2), d(11, 9), d(11, 16), d(11, 23)}},
		{"90 days, narrow: every other Monday, the last one kept", lastDay - 89, lastDay, 8, []kpi.Date{
			d(8, 31), d(9, 14), d(9, 28), d(10, 12), d(10, 26), d(11, 9), d(11, 23)}},
		{"90 days, very narrow: months", lastDay - 89, lastDay, 4, []kpi.Date{d(9, 1), d(10, 1), d(11, 1)}},
		{"a year: months", kpi.NewDate(2025, 11, 29), lastDay, 14, []kpi.Date{
			kpi.NewDate(2025, 12, 1), d(1, 1), d(2, 1), d(3, 1), d(4, 1), d(5, 1), d(6, 1), d(7, 1), d(8, 1),
			d(9, 1), d(10, 1), d(11, 1)}},
		{"a year, narrow: quarters", kpi.NewDate(2025, 11, 29), lastDay, 5, []kpi.Date{d(1, 1), d(4, 1), d(7, 1), d(10, 1)}},
		{"one day", lastDay, lastDay, 5, []kpi.Date{lastDay}},
		{"90 days, one label: a quarter's start", lastDay - 89, lastDay, 1, []kpi.Date{d(10, 1)}},
		{"nothing fits: the last day", lastDay - 20, lastDay, 0, []kpi.Date{lastDay}},
	}
	for _, c := range cases {
		if got := dayTicks(c.first, c.last, c.max); !slices.Equal(got, c.want) {
			t.Errorf("%s: dayTicks = %v, want %v", c.name, got, c.want)
		}
	}
	if got := dayLabel(d(11, 28)); got != "11/28" {
		t.Errorf("dayLabel = %q", got)
	}
}

func TestFitWidth(t *testing.T) {
	// A width of 10 per character, 10 for the ellipsis.
	w := func(s string) int { return 10 * utf8.RuneCountInString(s) }
	cases := []struct {
		s    string
		max  int
		want string
	}{
		{"abcdef", 60, "abcdef"},
		{"abcdef", 100, "abcdef"},
		{"abcdefgh", 60, "abcde…"},
		{"abcdefgh", 59, "abcd…"},
		{"退货率全部店铺", 45, "退货率…"},
		{"退货率全部店铺", 70, "退货率全部店铺"},
		{"退货率全部店铺", 69, "退货率全部…"},
		{"ab  cd", 40, "ab…"}, // spaces before the cut go
		{"abc", 25, "a…"},
		{"abc", 10, "…"},
		{"abc", 9, ""},
		{"", 0, ""},
	}
	for _, c := range cases {
		if got := fitWidth(c.s, c.max, w, 10); got != c.want {
			t.Errorf("fitWidth(%q, %d) = %q, want %q", c.s, c.max, got, c.want)
		}
	}

	// With the real font: the cut fits, and one more character would not.
	fc, err := faceFor(30, true)
	if err != nil {
		t.Fatal(err)
	}
	long := trendLongTitleJa().Title
	for _, max := range []int{80, 300, 640, 1120} {
		got := fc.fit(long, max)
		if fc.width(got) > max {
			t.Errorf("fit(%d) = %q, %d px wide", max, got, fc.width(got))
		}
		head := strings.TrimSuffix(got, "…")
		if !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, head) {
			t.Fatalf("fit(%d) = %q: not a start of the title and an ellipsis", max, got)
		}
		next, _ := utf8.DecodeRuneInString(long[len(head):])
		if longer := head + string(next) + "…"; next != ' ' && fc.width(longer) <= max {
			t.Errorf("fit(%d) = %q, but %q fits too", max, got, longer)
		}
	}
	if got := fc.fit("退货率", 1000); got != "退货率" {
		t.Errorf("a short title was cut: %q", got)
	}
}

// TestFontCoversLocales checks that the embedded subset has a glyph for
// every character of the locale files (each could be a chart's title), and
// for the symbols the product writes in labels. A failure names the
// characters; run fonts/subset.sh to add them.
func TestFontCoversLocales(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "locales", "*.toml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("locale files: %v %v", files, err)
	}
	text := "· … — ≤ ≥ ¥ ￥ % ％ ↑ ↓ → ← × ÷ ✓ ⚠ ± ° ℃ ① 、。，；：？！「」『』【】（）〜ー・" +
		"0123456789/.,:;+-−()[] あいうえおアイウエオｱｲｳ退货率目标達成未達"
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text += string(b)
	}
	// Emoji of the chat texts (an alert's legend), which Noto Sans CJK does
	// not have: chat clients draw them from their own emoji fonts, and a
	// chart would show a box. Variation selectors are not drawn at all.
	notInNoto := "❌➖"
	var missing []rune
	seen := map[rune]bool{}
	for _, r := range text {
		if r < ' ' || seen[r] || !printable(r) || strings.ContainsRune(notInNoto, r) {
			continue
		}
		seen[r] = true
		ok, err := hasGlyph(r)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		t.Errorf("the embedded font lacks %d characters: %q; run bot/chart/fonts/subset.sh", len(missing), string(missing))
	}
	if len(seen) < 1000 {
		t.Errorf("only %d distinct characters read: are the locale files there?", len(seen))
	}
}

// TestMissingGlyph draws characters the subset lacks: the font's .notdef
// box, no error.
func TestMissingGlyph(t *testing.T) {
	for _, r := range []rune{'𠮷', '😀', '鬱'} {
		if ok, err := hasGlyph(r); ok || err != nil {
			t.Errorf("hasGlyph(%q) = %v, %v; want false (pick another example)", r, ok, err)
		}
	}
	fc, err := faceFor(20, false)
	if err != nil {
		t.Fatal(err)
	}
	if w := fc.width("😀"); w < 10 {
		t.Errorf("a missing character is %d px wide; want the .notdef box", w)
	}
	if fc.glyphOf('😀') != fc.glyphOf('𠮷') {
		t.Error("missing characters do not share the .notdef glyph")
	}
	fc.mu.Lock()
	_, kept := fc.glyphs['😀']
	fc.mu.Unlock()
	if kept {
		t.Error("a missing character was cached one by one")
	}
	tr := trend30zh()
	tr.Title = "𠮷野家 😀 鬱"
	drawPNG(t, tr, Large)
}

func TestSize(t *testing.T) {
	noFormat := trend90ja()
	noFormat.Format = nil
	single := trend30zh()
	single.Points = single.Points[:1]
	for _, s := range []Size{Large, Preview, {640, 320}, {1000, 700}, {300, 600}, {64, 48}} {
		for _, tr := range []Trend{trend30zh(), trend90ja(), trendEmptyZh(), noFormat, single, {}} {
			var b bytes.Buffer
			if err := DrawTrend(&b, tr, s); err != nil {
				t.Fatalf("%v: %v", s, err)
			}
			img, err := png.Decode(&b)
			if err != nil {
				t.Fatal(err)
			}
			if got := img.Bounds(); got != image.Rect(0, 0, s.W, s.H) {
				t.Errorf("DrawTrend(%v) is %v", s, got)
			}
			if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
				t.Errorf("DrawTrend(%v) is not opaque", s) // writePNG relies on it
			}
		}
	}
	for _, s := range []Size{{W: 0}, {W: 10, H: 10}, {W: 100000, H: 600}, {W: 1200, H: -1}} {
		if err := DrawTrend(&bytes.Buffer{}, trend30zh(), s); err == nil {
			t.Errorf("DrawTrend(%v): no error", s)
		}
	}

	o := overview(false, 30)
	heights := map[int]int{}
	for _, n := range []int{0, 1, 3, 4, 6, 7} {
		o.Panels = overview(false, 30).Panels
		o.Panels = append(o.Panels, o.Panels...)[:n]
		for _, s := range []Size{{W: 1200}, {W: 1200, H: 200}, {W: 480, H: 150}} {
			var b bytes.Buffer
			if err := DrawOverview(&b, o, s); err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(&b)
			if err != nil {
				t.Fatal(err)
			}
			l := layoutOverview(o, s)
			if cfg.Width != s.W || cfg.Height != l.height {
				t.Errorf("DrawOverview(%d panels, %v) is %d×%d, want %d×%d", n, s, cfg.Width, cfg.Height, s.W, l.height)
			}
			if s.H > 0 {
				rows := (n + 2) / 3
				want := int(math.Ceil(2*l.pad + l.titleH + float64(rows*s.H) + float64(max(0, rows-1))*l.gap))
				if cfg.Height != want {
					t.Errorf("DrawOverview(%d panels, %v) is %d high, want %d", n, s, cfg.Height, want)
				}
			}
			if s == (Size{W: 1200}) {
				heights[n] = cfg.Height
			}
		}
	}
	if !(heights[0] < heights[1] && heights[1] == heights[3] && heights[3] < heights[4] && heights[4] == heights[6] && heights[6] < heights[7]) {
		t.Errorf("overview heights by panels: %v; want one step per row of three", heights)
	}
	o.Columns = 2
	o.Panels = overview(false, 30).Panels
	if a, b := layoutOverview(o, Size{W: 1200}), layoutOverview(Overview{Panels: o.Panels}, Size{W: 1200}); a.rows != 3 || b.rows != 2 {
		t.Errorf("rows of 6 panels: %d in 2 columns, %d in 3", a.rows, b.rows)
	}
}

// TestConcurrent draws from several goroutines at once (the faces and their
// glyph caches are shared): every image must be the one drawn alone.
func TestConcurrent(t *testing.T) {
	var want bytes.Buffer
	if err := DrawTrend(&want, trend90ja(), Large); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			var b bytes.Buffer
			if i%2 == 1 { // other sizes and characters, at the same time
				if err := DrawOverview(&b, overview(i%4 == 1, 30), Size{W: 900 + i}); err != nil {
					t.Error(err)
				}
				return
			}
			if err := DrawTrend(&b, trend90ja(), Large); err != nil {
				t.Error(err)
			} else if !bytes.Equal(b.Bytes(), want.Bytes()) {
				t.Error("a trend drawn concurrently differs from the one drawn alone")
			}
		})
	}
	wg.Wait()
}
