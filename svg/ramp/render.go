package ramp

import (
	"math"

	"github.com/noether-vk/noether-vk/svg/clips"
)

// The camera and the set, in metres: a fixed side view of the square
// [ViewLeft, ViewLeft+ViewSize] x [ViewBottom, ViewBottom+ViewSize] (a
// non-square frame stretches it), the table's top at TableY, the ramp's
// foot at FootX on it and its top RampLength up the 20-degree slope to the
// left, its upper part outside the view.
const (
	ViewLeft   = 0.16
	ViewBottom = 0.14
	ViewSize   = 0.60
	TableY     = 0.30
	FootX      = 0.46
	// Supersample is the samples per pixel side: everywhere for the
	// static background, only where an edge crosses the pixel for the
	// bodies.
	Supersample = 4
)

// Pose is where a body is drawn: the middle of its bottom face at (X, Y)
// and the face tilted by Phi radians (counter-clockwise; -Angle on the
// ramp, 0 on the table).
type Pose struct {
	X, Y, Phi float64
}

// PoseAt is the pose of a body of the given length at path coordinate s
// (see Trial). Crossing the foot, where the ramp meets the table, the
// body tips over the edge: its bottom face passes through the foot while
// its tilt goes linearly from -Angle (front edge at the foot, s =
// -length/2) to 0 (back edge leaving the ramp, s = length/2).
func PoseAt(s, length float64) Pose {
	f := math.Min(1, math.Max(0, (length/2-s)/length))
	phi := -Angle * f
	return Pose{X: FootX + s*math.Cos(phi), Y: TableY + s*math.Sin(phi), Phi: phi}
}

// Scene is what one frame shows besides the static set: the object and
// the target, each with its look and pose.
type Scene struct {
	Object, Target         Look
	ObjectPose, TargetPose Pose
}

// world converts pixel (i, j) of an h x w frame, at offset (fy, fx) in
// [0, 1) inside it, to world coordinates.
func world(i, j int, fy, fx float64, h, w int) (x, y float64) {
	return ViewLeft + (float64(j)+fx)*ViewSize/float64(w), ViewBottom + ViewSize - (float64(i)+fy)*ViewSize/float64(h)
}

// Background draws the static set at h x w, [3, h, w]: a textured wall, the
// table and the ramp, each pixel the mean of Supersample² samples.
// The textures are value noise keyed by seed, in world coordinates, so
// every size shows the same set.
func Background(seed uint64, h, w int) []float32 {
	dst := make([]float32, clips.Channels*h*w)
	plane := h * w
	n := noise{seed: seed}
	for i := range h {
		for j := range w {
			var c [3]float64
			for a := range Supersample {
				for b := range Supersample {
					x, y := world(i, j, (float64(a)+0.5)/Supersample, (float64(b)+0.5)/Supersample, h, w)
					s := setColour(x, y, n)
					for k := range c {
						c[k] += s[k]
					}
				}
			}
			for k := range c {
				dst[k*plane+i*w+j] = float32(c[k] / (Supersample * Supersample))
			}
		}
	}
	return dst
}

// The set's colours.
var (
	wallColour  = [3]float64{0.80, 0.78, 0.73}
	tableColour = [3]float64{0.50, 0.36, 0.25}
	rampColour  = [3]float64{0.74, 0.62, 0.46}
)

// setColour is the static set at world point (x, y).
func setColour(x, y float64, n noise) [3]float64 {
	// The ramp's top is RampLength up the slope from the foot.
	topX := FootX - RampLength*math.Cos(Angle)
	surface := TableY + (FootX-x)*math.Tan(Angle) // the ramp's surface height at x
	switch {
	case y < TableY:
		// The table's front: horizontal grain, a lit edge under its top.
		grain := 0.88 + 0.12*math.Sin(2*math.Pi*(y*55+0.9*n.fbm(x*4, y*30, 2)))
		edge := 1.0
		if y > TableY-0.012 {
			edge = 1.25
		}
		return scale(tableColour, grain*edge)
	case x >= topX && x <= FootX && y <= surface:
		// The ramp's side: grain along the slope, its top board lighter.
		along := (x-topX)*math.Cos(Angle) - (y-TableY)*math.Sin(Angle)
		across := surface - y
		grain := 0.9 + 0.1*math.Sin(2*math.Pi*(across*70+0.7*n.fbm(along*5, across*40, 2)))
		if across < 0.01 {
			grain *= 1.2
		}
		return scale(rampColour, grain)
	}
	// The wall: mottled plaster, lit from the upper left, darker just
	// above the table (ambient occlusion).
	mottle := 0.94 + 0.12*n.fbm(x*6, y*6, 3)
	light := 1.02 - 0.1*(x/ViewSize) + 0.05*(y-TableY)/ViewSize
	occl := 1 - 0.12*math.Exp(-(y-TableY)/0.03)
	return scale(wallColour, mottle*light*occl)
}

func scale(c [3]float64, f float64) [3]float64 {
	for k := range c {
		c[k] = math.Min(1, math.Max(0, c[k]*f))
	}
	return c
}

// noise is value noise on the integer lattice, hashed from the seed.
type noise struct{ seed uint64 }

// at is smooth value noise in [0, 1) at (x, y).
func (n noise) at(x, y float64) float64 {
	fx, fy := math.Floor(x), math.Floor(y)
	ix, iy := int64(fx), int64(fy)
	tx, ty := smooth(x-fx), smooth(y-fy)
	v00, v10 := n.lattice(ix, iy), n.lattice(ix+1, iy)
	v01, v11 := n.lattice(ix, iy+1), n.lattice(ix+1, iy+1)
	return (v00*(1-tx)+v10*tx)*(1-ty) + (v01*(1-tx)+v11*tx)*ty
}

func (n noise) lattice(ix, iy int64) float64 {
	h := clips.Mix(n.seed ^ clips.Mix(uint64(ix)*0x9e3779b97f4a7c15^uint64(iy)))
	return float64(h>>11) * 0x1p-53
}

// fbm sums octaves of noise, each twice the frequency and half the
// amplitude of the one before, scaled to about [-1, 1].
func (n noise) fbm(x, y float64, octaves int) float64 {
	var sum, amp, norm float64 = 0, 1, 0
	for range octaves {
		sum += amp * (2*n.at(x, y) - 1)
		norm += amp
		x, y, amp = x*2+17.3, y*2+5.1, amp/2
	}
	return sum / norm
}

func smooth(t float64) float64 { return t * t * (3 - 2*t) }

// draw composes one frame into dst ([3, h, w], holding the background):
// the bodies' soft contact shadows, then the target, then the object.
func draw(dst []float32, sc Scene, h, w int) {
	shadow(dst, sc.Target, sc.TargetPose, h, w)
	shadow(dst, sc.Object, sc.ObjectPose, h, w)
	body(dst, sc.Target, sc.TargetPose, h, w)
	body(dst, sc.Object, sc.ObjectPose, h, w)
}

// local maps world point (x, y) to the body's frame: u along its bottom
// face, v up from it, the origin at the face's middle.
func local(p Pose, x, y float64) (u, v float64) {
	c, s := math.Cos(p.Phi), math.Sin(p.Phi)
	dx, dy := x-p.X, y-p.Y
	return dx*c + dy*s, -dx*s + dy*c
}

// pixelBox is the range of pixels (rows i0..i1, columns j0..j1, inclusive)
// that can hold the body's points within margin metres of it.
func pixelBox(l Look, p Pose, margin float64, h, w int) (i0, i1, j0, j1 int) {
	r := math.Hypot(l.Length/2, l.Height) + margin
	px, py := ViewSize/float64(w), ViewSize/float64(h)
	j0 = max(0, int(math.Floor((p.X-r-ViewLeft)/px)))
	j1 = min(w-1, int(math.Ceil((p.X+r-ViewLeft)/px)))
	i0 = max(0, int(math.Floor((ViewBottom+ViewSize-(p.Y+r))/py)))
	i1 = min(h-1, int(math.Ceil((ViewBottom+ViewSize-(p.Y-r))/py)))
	return
}

// shadow darkens what lies under a body: an ellipse along its bottom face,
// fading out smoothly, so a pixel's centre is enough to sample it.
func shadow(dst []float32, l Look, p Pose, h, w int) {
	a, b := l.Length/2+0.012, 0.01
	i0, i1, j0, j1 := pixelBox(l, p, 0.02, h, w)
	plane := h * w
	for i := i0; i <= i1; i++ {
		for j := j0; j <= j1; j++ {
			x, y := world(i, j, 0.5, 0.5, h, w)
			u, v := local(p, x, y)
			r := math.Hypot(u/a, v/b)
			alpha := 0.35 * (1 - smoothstep(0.5, 1, r))
			if alpha <= 0 {
				continue
			}
			for k := range clips.Channels {
				o := k*plane + i*w + j
				dst[o] = float32(float64(dst[o]) * (1 - alpha))
			}
		}
	}
}

func smoothstep(e0, e1, x float64) float64 {
	t := math.Min(1, math.Max(0, (x-e0)/(e1-e0)))
	return smooth(t)
}

// dist is the signed distance from local point (u, v) to the body's
// outline, negative inside: a rectangle of Length x Height standing on
// the face, its corners rounded (fully, into a capsule, for discs and
// poles).
func (l Look) dist(u, v float64) float64 {
	hx, hy := l.Length/2, l.Height/2
	rad := 0.1 * min(l.Length, l.Height)
	if l.Shape == Disc || l.Shape == Pole {
		rad = hy
	}
	qx, qy := math.Abs(u)-hx+rad, math.Abs(v-hy)-hy+rad
	out := math.Hypot(math.Max(qx, 0), math.Max(qy, 0))
	return out + math.Min(math.Max(qx, qy), 0) - rad
}

// shade is the body's colour at local point (u, v) inside it: lit from the
// upper left, a cylinder or a pole shaded across its round side, with a
// specular band on shiny materials and grain on wood.
func (l Look) shade(u, v float64) [3]float64 {
	hx, hy := l.Length/2, l.Height/2
	var f float64
	switch l.Shape {
	case Box, Disc:
		f = 0.78 + 0.22*v/l.Height
		// A bevel: the top edge catches the light, the right edge not.
		if e := 0.12 * min(l.Length, l.Height); l.Height-v < e {
			f += 0.12
		} else if hx-u < e {
			f -= 0.1
		}
	case Cylinder: // round across u, light from the left
		n := math.Max(-1, math.Min(1, u/hx))
		f = 0.45 + 0.55*math.Sqrt(1-n*n)*(0.8-0.2*n)
		if l.Shine {
			f += 0.3 * math.Exp(-sq((n+0.4)/0.15))
		}
	case Pole: // round across v, light from above
		n := math.Max(-1, math.Min(1, (v-hy)/hy))
		f = 0.45 + 0.55*math.Sqrt(1-n*n)*(0.8+0.2*n)
		if l.Shine {
			f += 0.3 * math.Exp(-sq((n-0.45)/0.15))
		}
	}
	if l.Shine && (l.Shape == Box || l.Shape == Disc) {
		f += 0.15 * math.Exp(-sq((u+0.4*hx)/(0.2*hx)))
	}
	if l.Grain {
		f *= 0.92 + 0.08*math.Sin(2*math.Pi*(v/l.Height*3+u*8))
	}
	return scale(l.Colour, f)
}

func sq(x float64) float64 { return x * x }

// body draws a body over dst. A pixel whose centre lies deeper inside than
// half its diagonal is wholly covered and takes the shading at its
// centre; one as far outside is untouched; the others, crossed by the
// outline, average Supersample² samples: the shading at the samples
// inside and the pixel's colour so far at those outside.
func body(dst []float32, l Look, p Pose, h, w int) {
	px, py := ViewSize/float64(w), ViewSize/float64(h)
	half := math.Hypot(px, py) / 2
	i0, i1, j0, j1 := pixelBox(l, p, half, h, w)
	plane := h * w
	for i := i0; i <= i1; i++ {
		for j := j0; j <= j1; j++ {
			x, y := world(i, j, 0.5, 0.5, h, w)
			u, v := local(p, x, y)
			d := l.dist(u, v)
			if d >= half {
				continue
			}
			var c [3]float64
			if d <= -half {
				c = l.shade(u, v)
			} else {
				inside := 0
				for a := range Supersample {
					for b := range Supersample {
						sx, sy := world(i, j, (float64(a)+0.5)/Supersample, (float64(b)+0.5)/Supersample, h, w)
						su, sv := local(p, sx, sy)
						if l.dist(su, sv) < 0 {
							s := l.shade(su, sv)
							for k := range c {
								c[k] += s[k]
							}
							inside++
						}
					}
				}
				outside := float64(Supersample*Supersample - inside)
				for k := range c {
					c[k] = (c[k] + outside*float64(dst[k*plane+i*w+j])) / (Supersample * Supersample)
				}
			}
			for k := range c {
				dst[k*plane+i*w+j] = float32(c[k])
			}
		}
	}
}
