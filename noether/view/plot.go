package view

import (
	"math"
	"strconv"
	"strings"

	"github.com/noether-vk/noether-vk/kernels/compose"
)

// Colours of the viewer.
const (
	background compose.RGB = 0x12161C
	panel      compose.RGB = 0x1A2028
	border     compose.RGB = 0x3A4552
	ink        compose.RGB = 0xD8DEE6
	dim        compose.RGB = 0x8894A2
	truthInk   compose.RGB = 0xF2F2F2
	truthDim   compose.RGB = 0x6E7884
	warning    compose.RGB = 0xFF8A65
	highlight  compose.RGB = 0xFFD54F
)

// palette colours the methods and phases, by their first appearance.
var palette = []compose.RGB{0x4FC3F7, 0xFFB74D, 0x81C784, 0xE57373, 0xBA68C8, 0xFFF176, 0x4DB6AC, 0xF06292}

// nonFinite reads the strings an event log writes for non-finite losses.
func nonFinite(s string) float64 {
	switch s {
	case "+Inf":
		return math.Inf(1)
	case "-Inf":
		return math.Inf(-1)
	}
	return math.NaN()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// box is a rectangle of the frame.
type box struct{ x, y, w, h int }

// inset is b shrunk by m on every side.
func (b box) inset(m int) box { return box{b.x + m, b.y + m, max(b.w-2*m, 0), max(b.h-2*m, 0)} }

// canvas builds a scene.
type canvas struct {
	s     *compose.Scene
	scale int // the text scale
}

func (c *canvas) rect(b box, col compose.RGB) {
	c.s.Rects = append(c.s.Rects, compose.Rect{X: b.x, Y: b.y, W: b.w, H: b.h, Color: col})
}

// text draws s at (x, y) and returns the x after it.
func (c *canvas) text(x, y int, col compose.RGB, s string) int {
	c.s.Texts = append(c.s.Texts, compose.Text{X: x, Y: y, Scale: c.scale, Color: col, S: s})
	return x + compose.TextWidth(s, c.scale) + compose.Advance*c.scale
}

// para draws s wrapped at word boundaries into lines of at most w pixels.
func (c *canvas) para(x, y, w int, col compose.RGB, s string) {
	line := ""
	for _, word := range strings.Fields(s) {
		if next := strings.TrimSpace(line + " " + word); line != "" && compose.TextWidth(next, c.scale) > w {
			c.text(x, y, col, c.fit(line, w))
			y += c.lineHeight()
			line = word
		} else {
			line = next
		}
	}
	c.text(x, y, col, c.fit(line, w))
}

// lineHeight is the height of a line of text.
func (c *canvas) lineHeight() int { return compose.LineHeight * c.scale }

// fit shortens s to at most w pixels of text.
func (c *canvas) fit(s string, w int) string {
	n := max(w/(compose.Advance*c.scale), 0)
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// framed draws a panel with its title and returns the area inside.
func (c *canvas) framed(b box, title string) box {
	c.rect(b, border)
	in := b.inset(1)
	c.rect(in, panel)
	c.text(in.x+4, in.y+3, ink, c.fit(title, in.w-8))
	top := c.lineHeight() + 4
	return box{in.x, in.y + top, in.w, max(in.h-top, 0)}
}

// axes maps data to pixels in a plot area.
type axes struct {
	area           box
	x0, x1, y0, y1 float64 // the axes' range, padded around the data's
	// lo and hi are the data's range, which the ticks label.
	lo, hi [2]float64
	logY   bool
}

// newAxes makes axes over the finite points of the series (y > 0 only on
// a log scale), padded by 5% of each range; ok is false when there are
// none.
func newAxes(area box, logY bool, fromZero bool, series ...[][2]float64) (axes, bool) {
	a := axes{area: area, logY: logY, x0: math.Inf(1), x1: math.Inf(-1), y0: math.Inf(1), y1: math.Inf(-1)}
	if fromZero {
		a.y0 = 0
	}
	for _, s := range series {
		for _, p := range s {
			y := p[1]
			if logY {
				if y <= 0 {
					continue
				}
				y = math.Log10(y)
			}
			if !finite(p[0]) || !finite(y) {
				continue
			}
			a.x0, a.x1 = min(a.x0, p[0]), max(a.x1, p[0])
			a.y0, a.y1 = min(a.y0, y), max(a.y1, y)
		}
	}
	if !finite(a.x0) || !finite(a.y1) || !finite(a.y0) {
		return a, false
	}
	pad := func(lo, hi float64) (float64, float64) {
		d := hi - lo
		if d <= 0 {
			d = math.Max(math.Abs(hi), 1) * 0.1
		}
		return lo - 0.05*d, hi + 0.05*d
	}
	a.lo, a.hi = [2]float64{a.x0, a.y0}, [2]float64{a.x1, a.y1}
	a.x0, a.x1 = pad(a.x0, a.x1)
	if fromZero && !logY {
		_, a.y1 = pad(a.y0, a.y1)
	} else {
		a.y0, a.y1 = pad(a.y0, a.y1)
	}
	return a, true
}

// at is the pixel of a data point (y already on the axis's scale).
func (a axes) at(x, y float64) (float64, float64) {
	px := float64(a.area.x) + (x-a.x0)/(a.x1-a.x0)*float64(a.area.w-1)
	py := float64(a.area.y+a.area.h-1) - (y-a.y0)/(a.y1-a.y0)*float64(a.area.h-1)
	return px, py
}

// scaleY puts y on the axis's scale; ok is false where it has no place
// (not finite, or not positive on a log scale).
func (a axes) scaleY(y float64) (float64, bool) {
	if a.logY {
		if y <= 0 {
			return 0, false
		}
		y = math.Log10(y)
	}
	return y, finite(y)
}

// polyline draws the series' segments between consecutive drawable
// points, clipped to the plot area, at most one segment per pixel column
// of the area (longer series are thinned evenly).
func (c *canvas) polyline(a axes, pts [][2]float64, col compose.RGB, width int) {
	stride := max(1, len(pts)/max(a.area.w, 1))
	var prev [2]float64
	have := false
	for i := 0; i < len(pts); i += stride {
		if i+stride >= len(pts) {
			i = len(pts) - 1
		}
		y, ok := a.scaleY(pts[i][1])
		if !ok || !finite(pts[i][0]) {
			have = false
			continue
		}
		px, py := a.at(pts[i][0], y)
		if have {
			c.segment(a.area, prev[0], prev[1], px, py, col, width)
		}
		prev, have = [2]float64{px, py}, true
	}
}

// dot marks one data point.
func (c *canvas) dot(a axes, p [2]float64, col compose.RGB, size int) {
	y, ok := a.scaleY(p[1])
	if !ok || !finite(p[0]) {
		return
	}
	px, py := a.at(p[0], y)
	c.segment(a.area, px, py, px, py, col, size)
}

// segment draws the part of a segment inside b (Liang-Barsky clipping),
// its ends rounded to pixels.
func (c *canvas) segment(b box, x0, y0, x1, y1 float64, col compose.RGB, width int) {
	lo, hi := 0.0, 1.0
	dx, dy := x1-x0, y1-y0
	for _, e := range [][2]float64{
		{-dx, x0 - float64(b.x)}, {dx, float64(b.x+b.w-1) - x0},
		{-dy, y0 - float64(b.y)}, {dy, float64(b.y+b.h-1) - y0},
	} {
		p, q := e[0], e[1]
		if p == 0 {
			if q < 0 {
				return
			}
			continue
		}
		r := q / p
		if p < 0 {
			lo = math.Max(lo, r)
		} else {
			hi = math.Min(hi, r)
		}
	}
	if lo > hi {
		return
	}
	c.s.Lines = append(c.s.Lines, compose.Line{
		X0: int(math.Round(x0 + lo*dx)), Y0: int(math.Round(y0 + lo*dy)),
		X1: int(math.Round(x0 + hi*dx)), Y1: int(math.Round(y0 + hi*dy)),
		Width: width, Color: col})
}

// ticks labels the data's ranges at the plot's corners: y's largest and
// smallest on the left, x's largest at the bottom right.
func (c *canvas) ticks(a axes) {
	y := func(v float64) string {
		if a.logY {
			v = math.Pow(10, v)
		}
		return number(v)
	}
	lh := c.lineHeight()
	c.text(a.area.x+2, a.area.y+1, dim, y(a.hi[1]))
	c.text(a.area.x+2, a.area.y+a.area.h-lh, dim, y(a.lo[1]))
	right := number(a.hi[0])
	c.text(a.area.x+a.area.w-compose.TextWidth(right, c.scale)-2, a.area.y+a.area.h-lh, dim, right)
}

// number prints v in at most 4 significant digits.
func number(v float64) string {
	if !finite(v) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
