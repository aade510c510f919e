package chart

import (
	"image/color"
	"math"

	"github.com/kpibot/kpibot/kpi"
)

// overviewLayout is where an Overview's parts go; its height is the image's.
type overviewLayout struct {
	k              float64 // scale against a 1200 px wide image
	pad, gap       float64
	titleH         float64 // the heading's band, 0 without a title
	cols, rows     int
	panelW, panelH float64
	height         int
}

func layoutOverview(o Overview, s Size) overviewLayout {
	var l overviewLayout
	W := float64(s.W)
	l.k = max(0.4, W/1200)
	l.pad = max(12, 32*l.k)
	l.gap = max(8, 16*l.k)
	l.cols = o.Columns
	if l.cols <= 0 {
		l.cols = 3
	}
	l.rows = (len(o.Panels) + l.cols - 1) / l.cols
	l.panelW = max(40, (W-2*l.pad-float64(l.cols-1)*l.gap)/float64(l.cols))
	l.panelH = float64(s.H)
	if s.H == 0 {
		l.panelH = math.Round(min(max(140, l.panelW*0.62), 360))
	}
	if o.Title != "" {
		l.titleH = math.Round(max(15, 28*l.k)*1.3 + l.gap)
	}
	h := 2*l.pad + l.titleH + float64(l.rows)*l.panelH + float64(max(0, l.rows-1))*l.gap
	if l.rows == 0 {
		h = 2*l.pad + l.titleH
	}
	l.height = int(math.Ceil(h))
	return l
}

// verdictColor is the colour of a panel's value, and its frame.
func verdictColor(v kpi.Verdict) (value, frame color.RGBA) {
	switch v {
	case kpi.VerdictOK:
		return okGreen, mix(okGreen, 0.45)
	case kpi.VerdictBreach:
		return breachRed, mix(breachRed, 0.6)
	}
	return inkSoft, cardLine
}

func drawOverview(cv *canvas, o Overview, l overviewLayout) error {
	img := cv.img
	W := img.Rect.Dx()
	if o.Title != "" {
		f, err := faceFor(max(15, 28*l.k), true)
		if err != nil {
			return err
		}
		x := int(math.Round(l.pad))
		f.draw(img, x, int(math.Round(l.pad))+f.ascent, f.fit(o.Title, W-2*x), ink)
	}
	for i, p := range o.Panels {
		col, row := i%l.cols, i/l.cols
		x := l.pad + float64(col)*(l.panelW+l.gap)
		y := l.pad + l.titleH + float64(row)*(l.panelH+l.gap)
		if err := drawPanel(cv, p, x, y, l.panelW, l.panelH); err != nil {
			return err
		}
	}
	return nil
}

// drawPanel draws one card: the KPI's name, its value in the verdict's
// colour, and a sparkline of its days with the threshold and breaches, the
// first and last day under it.
func drawPanel(cv *canvas, p Panel, x, y, w, h float64) error {
	img := cv.img
	k := min(w/370, h/230)
	titlePx := max(11, 17*k)
	valuePx := max(16, 36*k)
	dayPx := max(9, 12*k)
	in := math.Round(max(8, 16*k)) // inner padding
	valueC, frameC := verdictColor(p.Verdict)

	// The card: a frame in the verdict's colour around a white face.
	x, y, w, h = math.Round(x), math.Round(y), math.Round(w), math.Round(h)
	radius := max(6, 10*k)
	border := math.Round(max(1, 2*k))
	cv.p.roundRect(x, y, x+w, y+h, radius)
	cv.fill(&cv.p, frameC)
	cv.p.roundRect(x+border, y+border, x+w-border, y+h-border, radius-border)
	cv.fill(&cv.p, white)

	fTitle, err := faceFor(titlePx, false)
	if err != nil {
		return err
	}
	fValue, err := faceFor(valuePx, true)
	if err != nil {
		return err
	}
	fDay, err := faceFor(dayPx, false)
	if err != nil {
		return err
	}
	left := int(x + in)
	innerW := int(w - 2*in)
	cy := y + in
	fTitle.draw(img, left, int(cy)+fTitle.ascent, fTitle.fit(p.Title, innerW), inkSoft)
	cy += float64(fTitle.key.px) * 1.25
	fValue.draw(img, left, int(cy)+fValue.ascent, fValue.fit(p.Value, innerW), valueC)
	cy += float64(fValue.key.px)*1.1 + max(4, 8*k)

	// The sparkline's box, and the day labels under it.
	bottom := y + h - in
	hasDays := len(p.Points) > 0
	if hasDays {
		bottom -= float64(fDay.key.px) * 1.35
	}
	top := cy
	if bottom-top < 8 {
		return nil // too small for a line
	}
	sx0, sx1 := x+in, x+w-in
	lineW := max(1.3, 2*k)
	dotR := max(2, 3.4*k)
	inset := dotR + 1

	var first, last kpi.Date
	if hasDays {
		first, last = p.Points[0].Day, p.Points[len(p.Points)-1].Day
		if last < first {
			first, last = last, first
		}
		base := int(y + h - in) // digits have no descenders
		a, b := dayLabel(first), dayLabel(last)
		fDay.draw(img, int(sx0), base, a, inkFaint)
		if last != first {
			fDay.draw(img, int(sx1)-fDay.width(b), base, b, inkFaint)
		}
	}

	lo, hi, ok := sparkRange(p.Points, p.Threshold)
	if !ok {
		cv.hline(int(sx0), int(sx1), bottom, 1, gridGrey, 0, 0)
		return nil
	}
	span := float64(last - first)
	xOf := func(d kpi.Date) float64 {
		if span == 0 {
			return (sx0 + sx1) / 2
		}
		return sx0 + inset + float64(d-first)/span*(sx1-sx0-2*inset)
	}
	yOf := func(v float64) float64 { return bottom - (v-lo)/(hi-lo)*(bottom-top) }
	if span > 0 {
		dotR = min(dotR, max(1.5, (sx1-sx0-2*inset)/span*0.45))
	}

	cv.hline(int(sx0), int(sx1), bottom, 1, gridGrey, 0, 0)
	runs := runsOf(p.Points, xOf, yOf)
	pa := &cv.p
	base := bottom
	for _, r := range runs {
		if len(r) < 2 {
			continue
		}
		pa.pts = append(pa.pts, vec{r[0].x, base})
		pa.pts = append(pa.pts, r...)
		pa.pts = append(pa.pts, vec{r[len(r)-1].x, base})
		pa.close()
	}
	cv.fill(pa, fade(dataBlue, 0.09))
	if valid(p.Threshold) {
		cv.hline(int(sx0), int(sx1), yOf(p.Threshold), max(1, int(math.Round(1.5*k))), threshAmb,
			max(3, int(math.Round(6*k))), max(2, int(math.Round(4*k))))
	}
	drawLine(cv, runs, p.Points, xOf, yOf, lineW, dotR, max(1, 1.5*k))
	return nil
}

// sparkRange is the span of a sparkline: unlike a trend's axis it has no
// labels, so it shows the shape of the data and where they stand against the
// threshold: from the lowest to the highest of both, with a margin (not
// below 0 for non-negative data).
func sparkRange(points []Point, threshold float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range points {
		if valid(p.V) {
			lo, hi = min(lo, p.V), max(hi, p.V)
			ok = true
		}
	}
	if !ok {
		return 0, 0, false
	}
	nonNeg := lo >= 0
	if valid(threshold) {
		lo, hi = min(lo, threshold), max(hi, threshold)
	}
	margin := (hi - lo) * 0.12
	if margin == 0 { // a flat line, in the middle
		margin = math.Abs(hi) * 0.1
		if margin == 0 {
			margin = 1
		}
	}
	lo, hi = lo-margin, hi+margin
	if nonNeg && lo < 0 {
		lo = 0
	}
	return lo, hi, true
}
