package chart

import (
	"image"
	"image/color"
	"math"

	"github.com/kpibot/kpibot/kpi"
)

// threshInk is the threshold label's text: the amber, darker, for contrast
// on its tint.
var threshInk = color.RGBA{0xb0, 0x5a, 0x00, 0xff}

// drawTrend draws t on cv. The layout scales with the image: sizes are set
// for Large (1200×600) and shrink in proportion, down to floors that keep
// text readable in a LINE preview.
func drawTrend(cv *canvas, t Trend) error {
	img := cv.img
	W, H := img.Rect.Dx(), img.Rect.Dy()
	k := min(float64(W)/1200, float64(H)/600)
	pad := max(14, 40*k)
	titlePx := max(15, 30*k)
	subPx := max(11, 19*k)
	axisPx := max(10, 16*k)
	emptyPx := max(12, 22*k)
	lineW := max(1.6, 2.6*k)
	dotR := max(2.6, 5.5*k)
	gapS := max(6, 10*k) // small gaps

	fTitle, err := faceFor(titlePx, true)
	if err != nil {
		return err
	}
	fSub, err := faceFor(subPx, false)
	if err != nil {
		return err
	}
	fAxis, err := faceFor(axisPx, false)
	if err != nil {
		return err
	}
	axisPx = float64(fAxis.key.px)

	// Heading.
	x0 := int(math.Round(pad))
	contentW := W - 2*x0
	top := pad
	if t.Title != "" {
		fTitle.draw(img, x0, int(math.Round(top))+fTitle.ascent, fTitle.fit(t.Title, contentW), ink)
		top += float64(fTitle.key.px) * 1.32
	}
	if t.Subtitle != "" {
		fSub.draw(img, x0, int(math.Round(top))+fSub.ascent, fSub.fit(t.Subtitle, contentW), inkSoft)
		top += float64(fSub.key.px) * 1.4
	}
	if t.Title != "" || t.Subtitle != "" {
		top += gapS
	}

	// The plot's box: room above for half the top tick's label, below for
	// the day labels.
	plotTop := top + axisPx*0.6
	plotBottom := float64(H) - pad - axisPx*1.3
	if plotBottom-plotTop < 2*axisPx {
		plotBottom = plotTop + 2*axisPx
	}
	plotH := plotBottom - plotTop
	plotLeft := pad
	plotRight := float64(W) - pad

	lo, hi, hasData := dataRange(t.Points, t.Threshold)
	var ax axis
	var labels []string
	if hasData {
		maxTicks := min(6, max(3, int(plotH/(axisPx*3.2))+1))
		ax = niceAxis(lo, hi, maxTicks)
		format := t.Format
		if format == nil {
			format = ax.label
		}
		labelW := 0
		for _, v := range ax.ticks {
			s := format(v)
			labels = append(labels, s)
			labelW = max(labelW, fAxis.width(s))
		}
		plotLeft = pad + float64(labelW) + gapS
	}

	// The threshold's tag, right of the plot.
	thr := t.Threshold
	showThr := hasData && valid(thr)
	var tag string
	var tagW, tagPadX float64
	if showThr && t.ThresholdLabel != "" {
		tagPadX = max(5, 9*k)
		tag = fAxis.fit(t.ThresholdLabel, int(float64(W)*0.2))
		tagW = float64(fAxis.width(tag)) + 2*tagPadX
		plotRight -= tagW + gapS
	}
	plotW := plotRight - plotLeft

	yOf := func(v float64) float64 {
		return plotBottom - (v-ax.lo())/(ax.hi()-ax.lo())*plotH
	}

	// Days across.
	var first, last kpi.Date
	if n := len(t.Points); n > 0 {
		first, last = t.Points[0].Day, t.Points[n-1].Day
		if last < first {
			first, last = last, first
		}
	}
	span := float64(last - first)
	inset := dotR + max(2, 3*k)
	xOf := func(d kpi.Date) float64 {
		if span == 0 {
			return (plotLeft + plotRight) / 2
		}
		return plotLeft + inset + float64(d-first)/span*(plotW-2*inset)
	}
	if span > 0 {
		// Breach dots no wider than the days are apart.
		dotR = min(dotR, max(2.2, (plotW-2*inset)/span*0.45))
	}

	// Grid and value labels.
	pL, pR := int(math.Round(plotLeft)), int(math.Round(plotRight))
	if hasData {
		for i, v := range ax.ticks {
			y := yOf(v)
			c := gridGrey
			if i == 0 || v == 0 {
				c = axisGrey
			}
			cv.hline(pL, pR, y, 1, c, 0, 0)
			s := labels[i]
			fAxis.draw(img, int(math.Round(plotLeft-gapS))-fAxis.width(s), int(math.Round(y+0.36*axisPx)), s, inkFaint)
		}
	} else {
		cv.hline(pL, pR, plotBottom, 1, axisGrey, 0, 0)
	}

	// Day labels, with a tick each; kept inside the image.
	if len(t.Points) > 0 {
		labelW := float64(fAxis.width("12/28"))
		maxLabels := int(plotW / (labelW + max(10, 18*k)))
		base := int(math.Round(plotBottom))
		for _, d := range dayTicks(first, last, maxLabels) {
			x := xOf(d)
			xi := int(math.Round(x))
			cv.rect(image.Rect(xi, base, xi+1, base+int(math.Round(max(3, 5*k)))), axisGrey)
			s := dayLabel(d)
			w := fAxis.width(s)
			lx := min(max(int(math.Round(x))-w/2, x0/2), W-x0/2-w)
			fAxis.draw(img, lx, base+int(math.Round(max(4, 7*k)+0.78*axisPx)), s, inkFaint)
		}
	}

	if !hasData {
		if t.Empty != "" {
			fe, err := faceFor(emptyPx, false)
			if err != nil {
				return err
			}
			s := fe.fit(t.Empty, int(plotW))
			fe.draw(img, int(math.Round((plotLeft+plotRight)/2))-fe.width(s)/2,
				int(math.Round((plotTop+plotBottom)/2+0.38*float64(fe.key.px))), s, inkSoft)
		}
		return nil
	}

	// The series, cut into runs of consecutive days with data.
	runs := runsOf(t.Points, xOf, yOf)
	base := yOf(min(max(0, ax.lo()), ax.hi()))
	p := &cv.p
	for _, r := range runs {
		if len(r) < 2 {
			continue
		}
		p.pts = append(p.pts, vec{r[0].x, base})
		p.pts = append(p.pts, r...)
		p.pts = append(p.pts, vec{r[len(r)-1].x, base})
		p.close()
	}
	cv.fill(p, fade(dataBlue, 0.09))

	if showThr {
		cv.hline(pL, pR, yOf(thr), max(1, int(math.Round(2*k))), threshAmb,
			max(4, int(math.Round(8*k))), max(3, int(math.Round(5*k))))
	}

	drawLine(cv, runs, t.Points, xOf, yOf, lineW, dotR, max(1.2, 2*k))

	if tag != "" {
		y := yOf(thr)
		h := math.Round(axisPx * 1.7)
		ty := math.Round(min(max(y-h/2, plotTop-axisPx*0.6), plotBottom-h/2))
		tx := math.Round(float64(W) - pad - tagW)
		p.roundRect(tx, ty, tx+tagW, ty+h, h/2)
		cv.fill(p, threshTint)
		fAxis.draw(img, int(tx+tagPadX), int(math.Round(ty+h/2+0.36*axisPx)), tag, threshInk)
	}
	return nil
}

// drawLine draws a series' runs as a line (a lone day as a dot), then its
// breaches as red dots of radius dotR ringed in white, so that they stand
// off the line.
func drawLine(cv *canvas, runs [][]vec, points []Point, xOf func(kpi.Date) float64, yOf func(float64) float64, lineW, dotR, ring float64) {
	p := &cv.p
	for _, r := range runs {
		if len(r) == 1 {
			p.circle(r[0], lineW*1.4)
		} else {
			p.stroke(r, lineW)
		}
	}
	cv.fill(p, dataBlue)
	breaches := func(r float64, c color.RGBA) {
		for _, pt := range points {
			if pt.Breach && valid(pt.V) {
				p.circle(vec{xOf(pt.Day), yOf(pt.V)}, r)
			}
		}
		cv.fill(p, c)
	}
	breaches(dotR+ring, white)
	breaches(dotR, breachRed)
}

// runsOf returns the points with data as screen positions, cut where a day
// has no data or is missing from the series.
func runsOf(points []Point, xOf func(kpi.Date) float64, yOf func(float64) float64) [][]vec {
	var runs [][]vec
	var cur []vec
	prev := kpi.Date(math.MinInt32)
	for _, p := range points {
		if !valid(p.V) {
			if len(cur) > 0 {
				runs = append(runs, cur)
				cur = nil
			}
			continue
		}
		if len(cur) > 0 && p.Day != prev+1 {
			runs = append(runs, cur)
			cur = nil
		}
		cur = append(cur, vec{xOf(p.Day), yOf(p.V)})
		prev = p.Day
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	return runs
}
