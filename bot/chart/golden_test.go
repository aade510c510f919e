package chart

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/")

// Golden images are compared pixel by pixel with a tolerance, so that a
// change of anti-aliasing (another CPU's SIMD path, a newer x/image) does not
// fail them, while a moved label or a missing line does.
const (
	channelTolerance = 48    // a pixel differs if a channel differs by more
	maxDiffShare     = 0.005 // the test fails if more pixels differ
)

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		draw func(*bytes.Buffer) error
	}{
		{"trend_30d_zh", func(b *bytes.Buffer) error { return DrawTrend(b, trend30zh(), Large) }},
		{"trend_90d_gaps_ja", func(b *bytes.Buffer) error { return DrawTrend(b, trend90ja(), Large) }},
		{"trend_30d_zh_preview", func(b *bytes.Buffer) error { return DrawTrend(b, trend30zh(), Preview) }},
		{"trend_90d_ja_preview", func(b *bytes.Buffer) error { return DrawTrend(b, trend90ja(), Preview) }},
		{"trend_empty_zh", func(b *bytes.Buffer) error { return DrawTrend(b, trendEmptyZh(), Large) }},
		{"trend_long_title_ja", func(b *bytes.Buffer) error { return DrawTrend(b, trendLongTitleJa(), Large) }},
		{"overview_6_zh", func(b *bytes.Buffer) error { return DrawOverview(b, overview(false, 30), Size{W: 1200}) }},
		{"overview_6_ja", func(b *bytes.Buffer) error { return DrawOverview(b, overview(true, 30), Size{W: 1200}) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.draw(&b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", c.name+".png")
			actual := filepath.Join("testdata", c.name+".actual.png")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				os.Remove(actual)
				return
			}
			got, err := png.Decode(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatalf("decode the drawn image: %v", err)
			}
			wantBytes, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/chart -run TestGolden -update to make it)", err)
			}
			want, err := png.Decode(bytes.NewReader(wantBytes))
			if err != nil {
				t.Fatalf("decode %s: %v", golden, err)
			}
			if msg := compareImages(got, want); msg != "" {
				if err := os.WriteFile(actual, b.Bytes(), 0o644); err != nil {
					t.Error(err)
				}
				t.Errorf("%s: %s; the drawn image is in %s (-update rewrites the golden)", golden, msg, actual)
				return
			}
			os.Remove(actual)
		})
	}
}

// compareImages returns "" if a and b are the same size and differ in at
// most maxDiffShare of their pixels, and else what is wrong.
func compareImages(a, b image.Image) string {
	if a.Bounds() != b.Bounds() {
		return "size " + a.Bounds().Size().String() + ", want " + b.Bounds().Size().String()
	}
	r := a.Bounds()
	diff := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if pixelDiffers(a.At(x, y), b.At(x, y)) {
				diff++
			}
		}
	}
	total := r.Dx() * r.Dy()
	if float64(diff) > maxDiffShare*float64(total) {
		return formatShare(diff, total) + " of the pixels differ"
	}
	return ""
}

func pixelDiffers(a, b interface{ RGBA() (r, g, b, a uint32) }) bool {
	ar, ag, ab, aa := a.RGBA()
	br, bg, bb, ba := b.RGBA()
	far := func(x, y uint32) bool {
		d := int(x>>8) - int(y>>8)
		return d > channelTolerance || d < -channelTolerance
	}
	return far(ar, br) || far(ag, bg) || far(ab, bb) || far(aa, ba)
}

func formatShare(n, total int) string {
	return fmt.Sprintf("%d/%d (%.2f%%)", n, total, 100*float64(n)/float64(total))
}

func TestCompareImages(t *testing.T) {
	a := image.NewRGBA(image.Rect(0, 0, 100, 100))
	b := image.NewRGBA(image.Rect(0, 0, 100, 100))
	// Small differences everywhere: anti-aliasing. Passes.
	for i := range b.Pix {
		b.Pix[i] = 40
	}
	if msg := compareImages(a, b); msg != "" {
		t.Errorf("differences within the tolerance: %s", msg)
	}
	// 50 pixels of 10,000 far off: 0.5%, still passes; 51 fails.
	for i := range 51 {
		b.Pix[4*i] = 200
		if msg := compareImages(a, b); (msg != "") != (i == 50) {
			t.Errorf("%d pixels off: %q", i+1, msg)
		}
	}
	if msg := compareImages(a, image.NewRGBA(image.Rect(0, 0, 100, 99))); msg == "" {
		t.Error("images of different sizes compare equal")
	}
}
