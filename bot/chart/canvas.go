package chart

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"golang.org/x/image/vector"
)

// The palette: a light page, quiet greys for the frame, one blue for data,
// amber for thresholds, red for breaches, green for targets met.
var (
	white      = color.RGBA{0xff, 0xff, 0xff, 0xff}
	pageGrey   = color.RGBA{0xf4, 0xf6, 0xf8, 0xff}
	ink        = color.RGBA{0x20, 0x21, 0x24, 0xff}
	inkSoft    = color.RGBA{0x5f, 0x63, 0x68, 0xff}
	inkFaint   = color.RGBA{0x80, 0x86, 0x8b, 0xff}
	gridGrey   = color.RGBA{0xe8, 0xea, 0xed, 0xff}
	axisGrey   = color.RGBA{0xc4, 0xc7, 0xc5, 0xff}
	cardLine   = color.RGBA{0xdf, 0xe2, 0xe6, 0xff}
	dataBlue   = color.RGBA{0x1a, 0x73, 0xe8, 0xff}
	breachRed  = color.RGBA{0xd9, 0x30, 0x25, 0xff}
	okGreen    = color.RGBA{0x18, 0x80, 0x38, 0xff}
	threshAmb  = color.RGBA{0xe3, 0x74, 0x00, 0xff}
	threshTint = color.RGBA{0xfe, 0xf3, 0xe0, 0xff}
)

// fade returns c at opacity a (0..1), premultiplied as color.RGBA wants.
func fade(c color.RGBA, a float64) color.RGBA {
	m := func(v uint8) uint8 { return uint8(math.Round(float64(v) * a)) }
	return color.RGBA{m(c.R), m(c.G), m(c.B), m(c.A)}
}

// mix returns c laid over white at opacity a, as an opaque colour.
func mix(c color.RGBA, a float64) color.RGBA {
	m := func(v uint8) uint8 { return uint8(math.Round(float64(v)*a + 255*(1-a))) }
	return color.RGBA{m(c.R), m(c.G), m(c.B), 0xff}
}

// canvas is an RGBA image and the rasteriser that draws anti-aliased shapes
// on it. Canvases are pooled: their pixels and the rasteriser's buffers are
// the bulk of a drawing's memory.
type canvas struct {
	img  *image.RGBA
	z    vector.Rasterizer
	mask image.Alpha // the coverage of the shape being filled
	p    path
}

var canvasPool sync.Pool

func newCanvas(w, h int, bg color.RGBA) *canvas {
	cv, _ := canvasPool.Get().(*canvas)
	if cv == nil {
		cv = &canvas{}
	}
	n := 4 * w * h
	if cv.img == nil || cap(cv.img.Pix) < n {
		cv.img = &image.RGBA{Pix: make([]byte, n)}
	}
	cv.img.Pix = cv.img.Pix[:n]
	cv.img.Stride = 4 * w
	cv.img.Rect = image.Rect(0, 0, w, h)
	// Fill the first row, then copy it down: faster than draw.Draw.
	row := cv.img.Pix[:4*w]
	for i := 0; i < len(row); i += 4 {
		row[i], row[i+1], row[i+2], row[i+3] = bg.R, bg.G, bg.B, bg.A
	}
	for y := 1; y < h; y++ {
		copy(cv.img.Pix[y*4*w:], row)
	}
	return cv
}

func (cv *canvas) release() { canvasPool.Put(cv) }

// rect fills r (clipped to the image) with c.
func (cv *canvas) rect(r image.Rectangle, c color.RGBA) {
	op := draw.Over
	if c.A == 0xff {
		op = draw.Src
	}
	draw.Draw(cv.img, r.Intersect(cv.img.Rect), image.NewUniform(c), image.Point{}, op)
}

// hline draws a crisp horizontal line of thickness t pixels centred on y,
// from x0 to x1, dashed if dash > 0 (dash pixels on, gap off).
func (cv *canvas) hline(x0, x1 int, y float64, t int, c color.RGBA, dash, gap int) {
	top := int(math.Round(y - float64(t)/2))
	if dash <= 0 {
		cv.rect(image.Rect(x0, top, x1, top+t), c)
		return
	}
	for x := x0; x < x1; x += dash + gap {
		cv.rect(image.Rect(x, top, min(x+dash, x1), top+t), c)
	}
}

// vec is a point in pixels; y grows downwards.
type vec struct{ x, y float64 }

// path is a set of closed polygons, filled together. The rasteriser adds up
// signed coverage, so every shape is added with the same orientation
// (anticlockwise on screen): overlapping shapes then add up, clamped to
// full coverage, instead of cancelling out.
type path struct {
	pts  []vec
	ends []int // ends[i] is the end of polygon i in pts
}

func (p *path) reset() { p.pts, p.ends = p.pts[:0], p.ends[:0] }

func (p *path) close() { p.ends = append(p.ends, len(p.pts)) }

// poly adds a polygon.
func (p *path) poly(pts ...vec) {
	p.pts = append(p.pts, pts...)
	p.close()
}

// circle adds a circle as a polygon fine enough for its size.
func (p *path) circle(c vec, r float64) {
	n := int(math.Ceil(max(12, min(48, r*4))))
	for i := range n {
		a := -2 * math.Pi * float64(i) / float64(n)
		p.pts = append(p.pts, vec{c.x + r*math.Cos(a), c.y + r*math.Sin(a)})
	}
	p.close()
}

// roundRect adds a rectangle with corners of radius r.
func (p *path) roundRect(x0, y0, x1, y1, r float64) {
	r = min(r, (x1-x0)/2, (y1-y0)/2)
	const steps = 6
	corner := func(cx, cy, from float64) {
		for i := 0; i <= steps; i++ {
			a := from - math.Pi/2*float64(i)/steps
			p.pts = append(p.pts, vec{cx + r*math.Cos(a), cy + r*math.Sin(a)})
		}
	}
	// Going round with decreasing angles, like circle.
	corner(x1-r, y1-r, math.Pi/2)  // bottom right
	corner(x1-r, y0+r, 0)          // top right
	corner(x0+r, y0+r, -math.Pi/2) // top left
	corner(x0+r, y1-r, -math.Pi)   // bottom left
	p.close()
}

// stroke adds a polyline of width w: a quadrilateral per segment and a disc
// at every inner vertex, which makes round joins.
func (p *path) stroke(pts []vec, w float64) {
	h := w / 2
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		dx, dy := b.x-a.x, b.y-a.y
		l := math.Hypot(dx, dy)
		if l == 0 {
			continue
		}
		nx, ny := -dy/l*h, dx/l*h
		p.poly(vec{a.x + nx, a.y + ny}, vec{b.x + nx, b.y + ny}, vec{b.x - nx, b.y - ny}, vec{a.x - nx, a.y - ny})
		if i < len(pts)-1 {
			p.circle(b, h)
		}
	}
}

// fill rasterises p in colour c, anti-aliased, and resets p. Only the
// bounding box of p is rasterised.
func (cv *canvas) fill(p *path, c color.RGBA) {
	defer p.reset()
	if len(p.pts) == 0 {
		return
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, q := range p.pts {
		minX, maxX = min(minX, q.x), max(maxX, q.x)
		minY, maxY = min(minY, q.y), max(maxY, q.y)
	}
	r := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX)), int(math.Ceil(maxY))).Intersect(cv.img.Rect)
	if r.Empty() {
		return
	}
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	w, h := r.Dx(), r.Dy()
	cv.z.Reset(w, h)
	start := 0
	for _, end := range p.ends {
		poly := p.pts[start:end]
		start = end
		if len(poly) < 3 {
			continue
		}
		cv.z.MoveTo(float32(poly[0].x-ox), float32(poly[0].y-oy))
		for _, q := range poly[1:] {
			cv.z.LineTo(float32(q.x-ox), float32(q.y-oy))
		}
		cv.z.ClosePath()
	}
	// The rasteriser writes the coverage into a mask, on its fast path (SIMD,
	// every pixel written); composite then touches only covered pixels. Both
	// together take a fraction of the rasteriser's own drawing onto RGBA,
	// which blends every pixel of the box, covered or not.
	if n := w * h; cap(cv.mask.Pix) < n {
		cv.mask.Pix = make([]byte, n)
	} else {
		cv.mask.Pix = cv.mask.Pix[:n]
	}
	cv.mask.Stride, cv.mask.Rect = w, image.Rect(0, 0, w, h)
	cv.z.DrawOp = draw.Src
	cv.z.Draw(&cv.mask, cv.mask.Rect, image.Opaque, image.Point{})
	composite(cv.img, r.Min, &cv.mask, c)
}

// composite lays colour c over dst through mask m, whose origin goes at at.
func composite(dst *image.RGBA, at image.Point, m *image.Alpha, c color.RGBA) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cr, cg, cb, ca := uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A)
	// Fully covered pixels of a translucent colour (an area's fill) are
	// looked up: full[k][v] is channel k's value over v.
	var full [4][256]uint8
	if ca < 0xff {
		keep := 255 - ca
		for v := range uint32(256) {
			full[0][v] = uint8(cr + (v*keep+127)/255)
			full[1][v] = uint8(cg + (v*keep+127)/255)
			full[2][v] = uint8(cb + (v*keep+127)/255)
			full[3][v] = uint8(ca + (v*keep+127)/255)
		}
	}
	for y := range h {
		mrow := m.Pix[y*m.Stride : y*m.Stride+w]
		d := dst.Pix[dst.PixOffset(at.X, at.Y+y):]
		d = d[:4*w]
		for x := 0; x < w; x++ {
			a := mrow[x]
			if a == 0 {
				continue
			}
			i := 4 * x
			if a == 0xff {
				if ca == 0xff {
					// A run of full coverage: one pixel, then copies.
					end := x + 1
					for end < w && mrow[end] == 0xff {
						end++
					}
					d[i], d[i+1], d[i+2], d[i+3] = c.R, c.G, c.B, 0xff
					for n := 4; i+n < 4*end; n *= 2 {
						copy(d[i+n:4*end], d[i:i+n])
					}
					x = end - 1
				} else {
					d[i], d[i+1], d[i+2], d[i+3] = full[0][d[i]], full[1][d[i+1]], full[2][d[i+2]], full[3][d[i+3]]
				}
				continue
			}
			// Premultiplied "over": out = c·a + dst·(1 − cA·a), in 1/65025ths.
			ma := uint32(a)
			keep := 65025 - ca*ma
			d[i] = uint8((cr*ma*255 + uint32(d[i])*keep + 32512) / 65025)
			d[i+1] = uint8((cg*ma*255 + uint32(d[i+1])*keep + 32512) / 65025)
			d[i+2] = uint8((cb*ma*255 + uint32(d[i+2])*keep + 32512) / 65025)
			d[i+3] = uint8((ca*ma*255 + uint32(d[i+3])*keep + 32512) / 65025)
		}
	}
}
