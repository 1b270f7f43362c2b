package pendulum

import (
	"fmt"
	"math"
)

// Channels is the number of colour channels of a frame (RGB).
const Channels = 3

// The Gym scene, in world units (the view spans [-Bound, Bound] on both
// axes).
const (
	Bound       = 2.2
	RodLength   = 1.0
	RodWidth    = 0.2
	AxleRadius  = 0.05
	Supersample = 8 // samples per pixel side where an edge crosses the pixel
)

// Colours of the scene, RGB in [0, 1], Gym's; the arrow is black as in
// Gym's arrow image.
var (
	background  = [3]float64{1, 1, 1}
	rodColour   = [3]float64{0.8, 0.3, 0.3}
	axleColour  = [3]float64{0, 0, 0}
	arrowColour = [3]float64{0, 0, 0}
)

// The arrow, in the coordinates of Gym's 1x1 arrow image (centred on the
// axle, drawn at scale |u|/2 and mirrored for u > 0). Gym ships it as a
// picture (clockwise.png); it is redrawn here as geometry: an arc of
// radius arrowRadius and half-width arrowHalfWidth from 210 degrees
// clockwise over the top to -30 degrees, ending in a triangular head that
// points along the clockwise tangent.
const (
	arrowRadius    = 0.4
	arrowHalfWidth = 0.05
	arrowFrom      = -30.0 * math.Pi / 180 // the arc, counter-clockwise from here...
	arrowSweep     = 240.0 * math.Pi / 180 // ...through this angle
	arrowHeadHalf  = 0.12                  // half the head's base, radially
	arrowHeadLen   = 0.18                  // base to tip, along the tangent
)

// Scene is what one frame shows: the pendulum at angle Theta (0 upright,
// counter-clockwise positive, as State.Th) and, as the arrow, the torque
// Torque that brought it there.
type Scene struct {
	Theta, Torque float64
}

// Render draws s at h x w pixels as RGB float32 in [0, 1], laid out
// [3, h, w] row-major (channel, then row from the top, then column from
// the left).
func Render(s Scene, h, w int) ([]float32, error) {
	if err := check("Render", s, h, w); err != nil {
		return nil, err
	}
	dst := make([]float32, Channels*h*w)
	draw(dst, s, h, w)
	return dst, nil
}

// RenderInto is Render into dst, which must hold exactly 3*h*w values.
func RenderInto(dst []float32, s Scene, h, w int) error {
	if err := check("RenderInto", s, h, w); err != nil {
		return err
	}
	if len(dst) != Channels*h*w {
		return fmt.Errorf("pendulum: RenderInto: dst holds %d values, want 3*%d*%d = %d", len(dst), h, w, Channels*h*w)
	}
	draw(dst, s, h, w)
	return nil
}

func check(call string, s Scene, h, w int) error {
	if h < 1 || w < 1 {
		return fmt.Errorf("pendulum: %s: image size %dx%d: want both >= 1", call, h, w)
	}
	if math.IsNaN(s.Theta) || math.IsInf(s.Theta, 0) || math.IsNaN(s.Torque) || math.IsInf(s.Torque, 0) {
		return fmt.Errorf("pendulum: %s: scene %+v: want a finite angle and torque", call, s)
	}
	return nil
}

// shape is one layer of the scene: a signed distance in world units
// (negative inside) and a colour. Exact distances are not required, only
// ones no larger in magnitude than the true distance to the edge (a
// lower bound far outside, see arrow): that is all draw needs to decide
// which pixels are wholly inside or outside.
type shape struct {
	dist   func(x, y float64) float64
	colour [3]float64
}

// scene lists the layers bottom to top, as Gym draws them: rod, axle,
// then the arrow on top (none when the torque is 0).
func scene(s Scene) []shape {
	// Gym's rod is a capsule along +x from the axle, rotated by th + pi/2,
	// so th = 0 points up and positive th turns it counter-clockwise.
	a := s.Theta + math.Pi/2
	tipX, tipY := RodLength*math.Cos(a), RodLength*math.Sin(a)
	layers := []shape{
		{dist: func(x, y float64) float64 { return segmentDist(x, y, 0, 0, tipX, tipY) - RodWidth/2 }, colour: rodColour},
		{dist: func(x, y float64) float64 { return math.Sqrt(x*x+y*y) - AxleRadius }, colour: axleColour},
	}
	u := clip(s.Torque, MaxTorque)
	if u == 0 {
		return layers
	}
	return append(layers, arrow(u)...)
}

// arrow is the arrow for torque u != 0 as two layers of one colour, the
// arc and the head, so that a pixel crossed by one edge samples only that
// shape. Gym scales its clockwise image by (-u/2, |u|/2): u > 0 (which
// turns the pendulum counter-clockwise) mirrors it.
func arrow(u float64) []shape {
	k := math.Abs(u) / 2
	mirror := 1.0
	if u > 0 {
		mirror = -1
	}
	head := arrowHead()
	arc := func(x, y float64) float64 { return k * arcDist(mirror*x/k, y/k) }
	// Beyond the head's bounding circle (centred on its centroid) the
	// distance to the circle stands in: a lower bound, positive, which is
	// all draw needs there, and cheaper than the triangle's.
	var cx, cy, rad float64
	for _, v := range head {
		cx, cy = cx+v[0]/3, cy+v[1]/3
	}
	for _, v := range head {
		rad = math.Max(rad, math.Sqrt((v[0]-cx)*(v[0]-cx)+(v[1]-cy)*(v[1]-cy)))
	}
	tri := func(x, y float64) float64 {
		ix, iy := mirror*x/k, y/k
		if r := math.Sqrt((ix-cx)*(ix-cx) + (iy-cy)*(iy-cy)); r > rad {
			return k * (r - rad)
		}
		return k * triangleDist(ix, iy, head)
	}
	return []shape{{dist: arc, colour: arrowColour}, {dist: tri, colour: arrowColour}}
}

// draw fills dst ([3, h, w]) with each pixel's box-filtered colour: the
// fraction of Supersample x Supersample regular samples each layer shows
// on top. The samples are taken only where needed: a layer whose
// distance at the pixel centre is at least half the pixel's diagonal
// covers all of the pixel or none of it, and a layer covering the whole
// pixel hides those below; only the layers left (edges crossing the
// pixel) are sampled. The result equals sampling everything.
func draw(dst []float32, s Scene, h, w int) {
	layers := scene(s)
	px, py := 2*Bound/float64(w), 2*Bound/float64(h)
	half := math.Sqrt(px*px+py*py) / 2
	plane := h * w
	bg := len(layers) // index of the background in counts
	counts := make([]int, len(layers)+1)
	edges := make([]int, 0, len(layers))
	colour := func(l int) [3]float64 {
		if l == bg {
			return background
		}
		return layers[l].colour
	}
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			x := -Bound + (float64(j)+0.5)*px
			y := Bound - (float64(i)+0.5)*py
			full := bg // top layer covering the whole pixel
			edges = edges[:0]
			for l := range layers {
				switch d := layers[l].dist(x, y); {
				case d <= -half:
					full, edges = l, edges[:0]
				case d < half:
					edges = append(edges, l)
				}
			}
			c := colour(full)
			if len(edges) > 0 {
				clear(counts)
				for a := 0; a < Supersample; a++ {
					sy := Bound - (float64(i)+(float64(a)+0.5)/Supersample)*py
					for b := 0; b < Supersample; b++ {
						sx := -Bound + (float64(j)+(float64(b)+0.5)/Supersample)*px
						top := full
						for e := len(edges) - 1; e >= 0; e-- {
							if layers[edges[e]].dist(sx, sy) < 0 {
								top = edges[e]
								break
							}
						}
						counts[top]++
					}
				}
				c = [3]float64{}
				for l, n := range counts {
					col := colour(l)
					for ch := range c {
						c[ch] += float64(n) * col[ch]
					}
				}
				for ch := range c {
					c[ch] /= Supersample * Supersample
				}
			}
			for ch := range c {
				dst[ch*plane+i*w+j] = float32(c[ch])
			}
		}
	}
}

// segmentDist is the distance from (x, y) to the segment (ax, ay)-(bx, by).
func segmentDist(x, y, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := ((x-ax)*dx + (y-ay)*dy) / (dx*dx + dy*dy)
	// Plain comparisons: math.Max and Min's NaN and signed-zero handling
	// costs time here, the renderer's innermost loop.
	if t < 0 {
		t = 0
	} else if t > 1 {
		t = 1
	}
	ex, ey := x-ax-t*dx, y-ay-t*dy
	return math.Sqrt(ex*ex + ey*ey)
}

// The arc's middle direction and the cosine of half its sweep: a point
// lies in the arc's angular range when the angle between it and the
// middle is at most half the sweep.
var (
	arcMidX, arcMidY = math.Cos(arrowFrom + arrowSweep/2), math.Sin(arrowFrom + arrowSweep/2)
	arcHalfCos       = math.Cos(arrowSweep / 2)
)

// arcDist is the signed distance to the arrow's stroke: the points within
// arrowHalfWidth of the arc. A point in the arc's angular range is
// nearest the circle at its own angle; any other is nearest an end.
func arcDist(x, y float64) float64 {
	r := math.Sqrt(x*x + y*y)
	if x*arcMidX+y*arcMidY >= r*arcHalfCos {
		return math.Abs(r-arrowRadius) - arrowHalfWidth
	}
	end := arrowFrom + arrowSweep
	d0x, d0y := x-arrowRadius*math.Cos(arrowFrom), y-arrowRadius*math.Sin(arrowFrom)
	d1x, d1y := x-arrowRadius*math.Cos(end), y-arrowRadius*math.Sin(end)
	return math.Sqrt(min(d0x*d0x+d0y*d0y, d1x*d1x+d1y*d1y)) - arrowHalfWidth
}

// arrowHead is the head's triangle at the arc's clockwise end (arrowFrom):
// the base across the stroke, the tip along the clockwise tangent
// (sin a, -cos a).
func arrowHead() [3][2]float64 {
	ca, sa := math.Cos(arrowFrom), math.Sin(arrowFrom)
	bx, by := arrowRadius*ca, arrowRadius*sa
	return [3][2]float64{
		{bx - arrowHeadHalf*ca, by - arrowHeadHalf*sa},
		{bx + arrowHeadHalf*ca, by + arrowHeadHalf*sa},
		{bx + arrowHeadLen*sa, by - arrowHeadLen*ca},
	}
}

// triangleDist is the signed distance to triangle v: the distance to the
// nearest edge, negative inside (all three edge cross products of one
// sign).
func triangleDist(x, y float64, v [3][2]float64) float64 {
	d := math.Inf(1)
	var pos, neg bool
	for i := range v {
		a, b := v[i], v[(i+1)%3]
		if e := segmentDist(x, y, a[0], a[1], b[0], b[1]); e < d {
			d = e
		}
		cross := (b[0]-a[0])*(y-a[1]) - (b[1]-a[1])*(x-a[0])
		pos = pos || cross > 0
		neg = neg || cross < 0
	}
	if pos && neg {
		return d
	}
	return -d
}
