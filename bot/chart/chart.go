// Package chart draws KPI charts as PNG images, in-process, with Chinese and Japanese labels.
//
// Two kinds of chart: a Trend is one KPI's daily series against its
// threshold (a line with gaps for days without data, breaches as red dots,
// the threshold as an amber dashed line with its label); an Overview is a
// grid of small panels (the KPI's name, its value coloured by verdict, a
// sparkline) for the daily digest. Both are drawn with golang.org/x/image:
// anti-aliased shapes by vector, text by font/opentype, and written as PNG.
// No browser, no fonts on the host, no cgo.
//
// Every visible word comes from the caller, already localized; the package
// itself writes only numbers and days as "11/28", which read the same in
// Chinese, Japanese and English.
//
// # The font
//
// Text is set in Noto Sans CJK SC Regular (SIL Open Font License 1.1; see
// fonts/LICENSE), embedded in the binary, so that a chart looks the same on
// every machine, including a container with no fonts at all. The embedded
// file is a subset, about 1.2 MB instead of the collection's 19 MB, built by
// fonts/subset.sh: ASCII and Latin-1, the punctuation and symbols the
// product uses (· … — ≤ ≥ ¥ % ↑ ↓ → × ✓ and their neighbours), CJK
// punctuation, hiragana and katakana, half- and full-width forms, the 3,755
// hanzi of GB 2312 level 1, the 2,965 kanji of JIS X 0208 level 1, and every
// character of locales/*.toml. The SC face (number 2 of the collection),
// not the JP one, because the sellers' managers at HQ read Chinese, and the
// hanzi Chinese shares with Japanese take their mainland shapes only in it. Japanese reads
// correctly in it: kana, Latin and most punctuation are the same glyphs as
// in the JP face, though full-width ：；！？ sit as in Chinese and some kanji
// show Chinese shapes (直, 骨).
// fonts/README.md has the details.
//
// A character outside the subset (a rare hanzi in a shop's name, an emoji)
// is drawn as the font's .notdef glyph, an empty box; nothing fails. Adding
// characters means running fonts/subset.sh again (TestFontCoversLocales
// checks the locale files).
//
// The font is parsed once, on first use; faces are cached per pixel size and
// each face keeps the glyphs it has rasterised, so text costs a copy per
// character after the first chart. Drawing is safe for concurrent use.
package chart

import (
	"fmt"
	"io"

	"github.com/kpibot/kpibot/kpi"
)

// Point is one day of a series.
type Point struct {
	Day    kpi.Date
	V      float64 // NaN: no data that day (a gap in the line)
	Breach bool    // on the wrong side of the threshold: marked (a red dot)
}

// Trend is one KPI's daily series with its threshold.
type Trend struct {
	Title          string                 // "退货率 · 全部店铺 · 最近30天"
	Subtitle       string                 // optional second line: "目标 ≤ 5.0% · 3 天未达标"
	Points         []Point                // in day order
	Threshold      float64                // NaN: none
	ThresholdLabel string                 // drawn at the threshold line: "目标 ≤ 5.0%"
	Format         func(v float64) string // value-axis labels; nil: compact %g
	Empty          string                 // drawn in the middle when no point has data: "该期间无数据"
}

// Panel is one small chart of an Overview.
type Panel struct {
	Title     string      // the KPI's name
	Value     string      // the period's value, formatted: "4.2%"
	Verdict   kpi.Verdict // colours the value and frame: kpi.VerdictOK green, kpi.VerdictBreach red, others grey
	Points    []Point
	Threshold float64 // NaN: none
}

// Overview is a grid of small multiples, for the daily digest.
type Overview struct {
	Title   string
	Panels  []Panel
	Columns int // 0: 3
}

// Size is an image's size in pixels.
type Size struct{ W, H int }

var (
	Large   = Size{1200, 600} // Slack uploads, LINE originalContentUrl
	Preview = Size{480, 240}  // LINE previewImageUrl
)

// maxSide bounds an image's sides, so that a wrong size fails instead of
// allocating gigabytes.
const maxSide = 8192

// DrawTrend writes t as a PNG of size s.
func DrawTrend(w io.Writer, t Trend, s Size) error {
	if s.W < 64 || s.H < 48 || s.W > maxSide || s.H > maxSide {
		return fmt.Errorf("chart: trend size %d×%d out of range", s.W, s.H)
	}
	cv := newCanvas(s.W, s.H, white)
	defer cv.release()
	if err := drawTrend(cv, t); err != nil {
		return err
	}
	return writePNG(w, cv.img)
}

// DrawOverview writes o as a PNG s.W wide; its height follows from the rows (s.H is a panel row's height, 0: a default).
func DrawOverview(w io.Writer, o Overview, s Size) error {
	if s.W < 64 || s.W > maxSide || s.H < 0 || s.H > maxSide {
		return fmt.Errorf("chart: overview size %d×%d out of range", s.W, s.H)
	}
	l := layoutOverview(o, s)
	if l.height > maxSide {
		return fmt.Errorf("chart: overview of %d panels is %d px high, over %d", len(o.Panels), l.height, maxSide)
	}
	cv := newCanvas(s.W, l.height, pageGrey)
	defer cv.release()
	if err := drawOverview(cv, o, l); err != nil {
		return err
	}
	return writePNG(w, cv.img)
}
