package chart

import (
	_ "embed"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// fontData is a subset of Noto Sans CJK SC Regular, built by fonts/subset.sh;
// fonts/README.md says what it holds and why this face.
//
//go:embed fonts/NotoSansCJKsc-Regular-subset.otf
var fontData []byte

var (
	fontOnce   sync.Once
	parsedFont *opentype.Font
	fontErr    error

	facesMu sync.Mutex
	faces   = map[faceKey]*face{}
)

// theFont parses the embedded font, once.
func theFont() (*opentype.Font, error) {
	fontOnce.Do(func() {
		parsedFont, fontErr = opentype.Parse(fontData)
		if fontErr != nil {
			fontErr = fmt.Errorf("chart: parse embedded font: %w", fontErr)
		}
	})
	return parsedFont, fontErr
}

// faceKey names a cached face: a size in whole pixels, and whether strokes
// are thickened (the font has one weight; bold is drawn, see glyphOf).
type faceKey struct {
	px   int
	bold bool
}

// face is the font at one size, with its glyphs rasterised once and kept.
// It is safe for concurrent use: the opentype face (which is not) is used
// under mu, and the glyph masks it hands out are never written again.
type face struct {
	key     faceKey
	mu      sync.Mutex
	ot      font.Face
	ascent  int // pixels above the baseline of ideographs' em box (0.88 em)
	glyphs  map[rune]*glyph
	notdef  *glyph // shared by every character the font lacks
	kerns   map[[2]rune]fixed.Int26_6
	ellipsW fixed.Int26_6
	buf     sfnt.Buffer
}

// glyph is one rasterised character, positioned relative to its dot at an
// integer pixel.
type glyph struct {
	mask    *image.Alpha // nil for blank glyphs (a space)
	off     image.Point  // mask.Rect.Min relative to the dot
	advance fixed.Int26_6
}

// faceFor returns the cached face of px pixels (rounded), parsing the font
// on first use.
func faceFor(px float64, bold bool) (*face, error) {
	f, err := theFont()
	if err != nil {
		return nil, err
	}
	k := faceKey{px: max(6, int(math.Round(px))), bold: bold}
	facesMu.Lock()
	defer facesMu.Unlock()
	if fc, ok := faces[k]; ok {
		return fc, nil
	}
	ot, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(k.px), DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("chart: face of %d px: %w", k.px, err)
	}
	fc := &face{
		key:    k,
		ot:     ot,
		ascent: int(math.Round(0.88 * float64(k.px))),
		glyphs: map[rune]*glyph{},
		kerns:  map[[2]rune]fixed.Int26_6{},
	}
	fc.ellipsW = fc.glyphOf('…').advance
	faces[k] = fc
	return fc, nil
}

// emboldening is the horizontal thickening of a bold face, in pixels.
func (fc *face) emboldening() float64 {
	if !fc.key.bold {
		return 0
	}
	return min(1.4, max(0.6, float64(fc.key.px)/24))
}

// glyphOf returns r's glyph, rasterising it on first use. A character the
// font lacks comes out as the font's .notdef glyph, an empty box.
func (fc *face) glyphOf(r rune) *glyph {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.glyphLocked(r)
}

func (fc *face) glyphLocked(r rune) *glyph {
	if g, ok := fc.glyphs[r]; ok {
		return g
	}
	// Characters the font lacks share one .notdef glyph and are not kept one
	// by one, so that odd input cannot grow the cache beyond the font.
	missing := false
	if x, err := parsedFont.GlyphIndex(&fc.buf, r); err != nil || x == 0 {
		if fc.notdef != nil {
			return fc.notdef
		}
		missing = true
	}
	g := &glyph{}
	dr, mask, mp, adv, ok := fc.ot.Glyph(fixed.Point26_6{}, r)
	g.advance = adv
	if ok && !dr.Empty() {
		w := fc.emboldening()
		extra := int(math.Ceil(w))
		a := image.NewAlpha(image.Rect(0, 0, dr.Dx()+extra, dr.Dy()))
		draw.Draw(a, image.Rect(0, 0, dr.Dx(), dr.Dy()), mask, mp, draw.Src)
		if w > 0 {
			embolden(a, w)
			g.advance += fixed.Int26_6(w * 64)
		}
		g.mask = a
		g.off = dr.Min
	}
	if missing {
		fc.notdef = g
	} else {
		fc.glyphs[r] = g
	}
	return g
}

// embolden thickens a mask to the right by w pixels (at most 2): each pixel
// takes the maximum of itself and its left neighbours, weighted by how much
// of them the stroke's shift covers.
func embolden(a *image.Alpha, w float64) {
	w1 := min(w, 1)
	w2 := max(0, w-1)
	for y := 0; y < a.Rect.Dy(); y++ {
		row := a.Pix[y*a.Stride : y*a.Stride+a.Rect.Dx()]
		for x := len(row) - 1; x >= 1; x-- {
			v := float64(row[x])
			v = max(v, w1*float64(row[x-1]))
			if x >= 2 && w2 > 0 {
				v = max(v, float64(row[x-1]), w2*float64(row[x-2]))
			}
			row[x] = uint8(min(255, math.Round(v)))
		}
	}
}

func (fc *face) kernLocked(a, b rune) fixed.Int26_6 {
	k := [2]rune{a, b}
	if v, ok := fc.kerns[k]; ok {
		return v
	}
	v := fc.ot.Kern(a, b)
	if len(fc.kerns) >= 1<<14 { // pairs of odd input: start again rather than grow
		clear(fc.kerns)
	}
	fc.kerns[k] = v
	return v
}

// printable reports whether r is drawn. Control characters, variation
// selectors (the U+FE0F of "⚠️") and zero-width joiners are skipped: they
// have no glyph and would show as boxes.
func printable(r rune) bool {
	switch {
	case r < ' ', r == 0x7f, r == utf8.RuneError:
		return false
	case r >= 0xfe00 && r <= 0xfe0f, r >= 0xe0100 && r <= 0xe01ef, r >= 0x200b && r <= 0x200d:
		return false
	}
	return true
}

// measure returns the advance width of s.
func (fc *face) measure(s string) fixed.Int26_6 {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	var w fixed.Int26_6
	prev := rune(-1)
	for _, r := range s {
		if !printable(r) {
			continue
		}
		if prev >= 0 {
			w += fc.kernLocked(prev, r)
		}
		w += fc.glyphLocked(r).advance
		prev = r
	}
	return w
}

// width returns s's advance in whole pixels, rounded up.
func (fc *face) width(s string) int { return fc.measure(s).Ceil() }

// draw writes s with its baseline at y, starting at x, and returns the x
// after it.
func (fc *face) draw(dst *image.RGBA, x, y int, s string, c color.RGBA) int {
	src := image.NewUniform(c)
	fc.mu.Lock()
	defer fc.mu.Unlock()
	dot := fixed.I(x)
	prev := rune(-1)
	for _, r := range s {
		if !printable(r) {
			continue
		}
		if prev >= 0 {
			dot += fc.kernLocked(prev, r)
		}
		g := fc.glyphLocked(r)
		if g.mask != nil {
			px := dot.Round()
			rect := g.mask.Rect.Add(image.Pt(px, y).Add(g.off))
			draw.DrawMask(dst, rect, src, image.Point{}, g.mask, image.Point{}, draw.Over)
		}
		dot += g.advance
		prev = r
	}
	return dot.Round()
}

// fit returns s, or the longest start of it followed by "…", that is at most
// maxW pixels wide.
func (fc *face) fit(s string, maxW int) string {
	return fitWidth(s, maxW, fc.width, fc.ellipsW.Ceil())
}

// fitWidth cuts s to the longest start that, followed by "…", is at most
// maxW wide as measured by width; ellipsis is the width of "…". A string
// that fits is returned whole; trailing spaces before the cut are dropped.
func fitWidth(s string, maxW int, width func(string) int, ellipsis int) string {
	if width(s) <= maxW {
		return s
	}
	if ellipsis > maxW {
		return ""
	}
	// Rune boundaries, so that the cut never splits a character.
	cuts := make([]int, 0, len(s))
	for i := range s {
		cuts = append(cuts, i)
	}
	// The widest prefix cuts[n] with width(prefix)+ellipsis <= maxW; widths
	// grow with n, so search.
	lo, hi := 0, len(cuts)-1 // cuts[lo] fits (the empty prefix); cuts[hi+1..] do not
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if width(s[:cuts[mid]])+ellipsis <= maxW {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	head := s[:cuts[lo]]
	for len(head) > 0 && (head[len(head)-1] == ' ' || head[len(head)-1] == '\t') {
		head = head[:len(head)-1]
	}
	return head + "…"
}

// hasGlyph reports whether the embedded font maps r to a glyph of its own
// (not .notdef).
func hasGlyph(r rune) (bool, error) {
	f, err := theFont()
	if err != nil {
		return false, err
	}
	var b sfnt.Buffer
	x, err := f.GlyphIndex(&b, r)
	if err != nil {
		return false, err
	}
	return x != 0, nil
}
