package ramp

import (
	"fmt"
	"math"
)

// The scene's physics, SI units.
const (
	// Gravity is g in m/s².
	Gravity = 9.81
	// Angle is the ramp's inclination, 20 degrees as in Physics 101's
	// ramp scenario.
	Angle = 20 * math.Pi / 180
	// RampLength is the length of the ramp's surface from its top to its
	// foot, in metres.
	RampLength = 0.50
	// FrameInterval is the time between frames: Physics 101's Kinect
	// records at 30 fps and the reference keeps every second frame.
	FrameInterval = 2.0 / 30
)

// JoinSpeed is the closing speed, in m/s, below which an impact on a
// target that brakes harder than the object joins the two (see Trial): at
// 15 frames per second 5 mm/s moves them a third of a millimetre per
// frame.
const JoinSpeed = 0.005

// maxCollisions bounds the impacts of one trial. Each bounce divides the
// closing speed by the restitution (at most 0.75 here) before JoinSpeed
// ends them, so a real trial has a few; the bound only stops a degenerate
// one from looping.
const maxCollisions = 64

// Body is one sliding object of a trial: its length along the surface it
// slides on, its mass and its coefficients of friction with the ramp and
// the table (static and kinetic, Coulomb's model).
type Body struct {
	Length      float64 // m, along the direction of sliding
	Mass        float64 // kg
	MuS         float64 // static friction coefficient
	MuK         float64 // kinetic friction coefficient, <= MuS
	Restitution float64 // coefficient of restitution against a hard surface, in [0, 1]
}

// Trial is the mechanics of one clip: the object released at rest on the
// ramp, S0 metres from the ramp's foot along the surface (S0 < 0: the
// path coordinate s is negative on the ramp, 0 at its foot and positive
// along the table), and the target resting on the table with its centre
// Target metres from the foot.
//
// The model, stated here because the tests check it:
//
//   - On the ramp the object slides when static friction cannot hold it,
//     MuS < tan(Angle), with a = g (sin Angle - MuK cos Angle) along the
//     slope; otherwise it stays where it was released for ever.
//   - At the foot it keeps its speed (the ramp's edge turns it onto the
//     table; the short tipping over the edge is drawn, not simulated),
//     then decelerates at MuK g on the table until it stops.
//   - A light object bounces back off the target. Friction brakes it on
//     the table (MuK g, against the motion); should it reach the foot it
//     goes up the ramp, braked by g (sin Angle + MuK cos Angle), turns and
//     slides down again.
//   - It meets the target when its front reaches the target's back. The
//     collision is instantaneous and one-dimensional, with restitution e
//     = min(object.Restitution, target.Restitution): with masses m1, m2 and
//     velocities v1, v2 before,
//     v1' = (m1 v1 + m2 v2 - m2 e (v1 - v2)) / (m1 + m2),
//     v2' = (m1 v1 + m2 v2 + m1 e (v1 - v2)) / (m1 + m2),
//     which conserves momentum exactly and gives v2' - v1' = e (v1 - v2).
//   - Then each decelerates at its own MuK g until it stops, and they
//     may meet again (a target braking harder than the object is caught
//     up). Each such bounce divides the closing speed by e; once it is
//     below JoinSpeed the impact is taken as perfectly inelastic (e = 0,
//     momentum still conserved) and the object pushes the target: both
//     move together, decelerating at (m1 MuK1 + m2 MuK2) g / (m1 + m2),
//     until they stop. (Without this rule the bounces would go on for
//     ever in a finite time.) Friction during the instant of an impact
//     is neglected.
//
// The target is placed so that the object is wholly on the table when
// they meet (its back at least the object's length beyond the foot).
type Trial struct {
	Object, Target Body
	S0             float64 // m, < 0: the release point on the ramp
	TargetAt       float64 // m, > 0: the target's centre on the table
}

// Slides says whether static friction lets the object go: MuS <
// tan(Angle).
func (tr Trial) Slides() bool { return tr.Object.MuS < math.Tan(Angle) }

// RampAcceleration is the object's acceleration along the ramp while it
// slides: g (sin Angle - MuK cos Angle), or 0 when it does not slide.
func (tr Trial) RampAcceleration() float64 {
	if !tr.Slides() {
		return 0
	}
	return Gravity * (math.Sin(Angle) - tr.Object.MuK*math.Cos(Angle))
}

// Restitution is the collision's coefficient, the smaller of the two
// bodies'.
func (tr Trial) Restitution() float64 { return math.Min(tr.Object.Restitution, tr.Target.Restitution) }

func (tr Trial) validate() error {
	o, t := tr.Object, tr.Target
	for _, b := range []struct {
		name string
		b    Body
	}{{"object", o}, {"target", t}} {
		bb := b.b
		if !(bb.Length > 0 && bb.Mass > 0 && bb.MuK >= 0 && bb.MuK <= bb.MuS && bb.Restitution >= 0 && bb.Restitution <= 1) {
			return fmt.Errorf("ramp: trial's %s %+v: want length and mass > 0, 0 <= MuK <= MuS, restitution in [0, 1]", b.name, bb)
		}
	}
	if !(tr.S0 < 0 && -tr.S0 <= RampLength) {
		return fmt.Errorf("ramp: release point %v m: want on the ramp, in [-%v, 0)", tr.S0, RampLength)
	}
	if back := tr.TargetAt - t.Length/2; !(back >= o.Length) {
		return fmt.Errorf("ramp: target's back at %v m from the foot: want at least the object's length %v, so they meet on the table", back, o.Length)
	}
	return nil
}

// segment is a stretch of a body's motion at constant acceleration: from
// time T0 at position S0 with velocity V0, accelerating at A.
type segment struct {
	T0, S0, V0, A float64
}

func (g segment) at(t float64) (s, v float64) {
	dt := t - g.T0
	return g.S0 + g.V0*dt + 0.5*g.A*dt*dt, g.V0 + g.A*dt
}

// Collision records one impact: its time and the velocities before and
// after (object 1, target 2).
type Collision struct {
	T                            float64
	Joined                       bool // the object pushes the target from here on
	V1, V2, V1After, V2After     float64
	Momentum, MomentumAfter      float64
	RelativeSpeed, SeparateSpeed float64
}

// Motion is a trial's simulated motion: the path coordinates of both
// bodies as piecewise quadratics in time, exact (closed form between
// events), and the collisions.
type Motion struct {
	trial      Trial
	obj, tgt   []segment
	Collisions []Collision
}

// Simulate works out a trial's motion from its release (t = 0) on, event
// by event: the object reaching the foot, a body stopping, a collision.
func Simulate(tr Trial) (*Motion, error) {
	if err := tr.validate(); err != nil {
		return nil, err
	}
	m := &Motion{trial: tr}
	o, tg := tr.Object, tr.Target
	t, s1, v1, s2, v2 := 0.0, tr.S0, 0.0, tr.TargetAt, 0.0
	if !tr.Slides() {
		m.obj = []segment{{S0: s1}}
		m.tgt = []segment{{S0: s2}}
		return m, nil
	}
	// Accelerations along the path (positive: toward the table's far
	// end). On the ramp gravity pulls down the slope and friction opposes
	// the motion; at rest there the object slides off again (it slides
	// at all, so static friction cannot hold it).
	down := tr.RampAcceleration()
	up := Gravity * (math.Sin(Angle) + o.MuK*math.Cos(Angle))
	table := func(v, muK float64) float64 {
		switch {
		case v > 0:
			return -muK * Gravity
		case v < 0:
			return muK * Gravity
		}
		return 0
	}
	joined := false
	for range 8 + 4*maxCollisions {
		onRamp := s1 < 0 || (s1 == 0 && v1 < 0)
		var a1 float64
		switch {
		case onRamp && v1 < 0:
			a1 = up
		case onRamp:
			a1 = down
		case joined && v1 > 0:
			a1 = -(o.MuK*o.Mass + tg.MuK*tg.Mass) / (o.Mass + tg.Mass) * Gravity
		default:
			a1 = table(v1, o.MuK)
		}
		a2 := table(v2, tg.MuK)
		if joined {
			a2 = a1
		}
		m.obj = append(m.obj, segment{T0: t, S0: s1, V0: v1, A: a1})
		m.tgt = append(m.tgt, segment{T0: t, S0: s2, V0: v2, A: a2})
		// The next event: the earliest of these, inf when none.
		foot, stop1, stop2, hit := math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1)
		switch {
		case onRamp && v1 < 0: // going up: it turns when v1 reaches 0
			stop1 = -v1 / a1
		case onRamp: // going down: s1 + v1 τ + a1 τ²/2 = 0, a1 > 0
			foot = (-v1 + math.Sqrt(v1*v1-2*a1*s1)) / a1
		case v1 != 0 && a1 != 0:
			stop1 = math.Abs(v1 / a1)
		}
		if !onRamp && v1 < 0 { // back toward the foot
			foot = firstRoot(s1, v1, 0.5*a1, stop1)
		}
		if a2 < 0 {
			stop2 = v2 / -a2
		}
		if !onRamp && !joined {
			gap := (s2 - tg.Length/2) - (s1 + o.Length/2)
			hit = firstRoot(gap, v2-v1, 0.5*(a2-a1), math.Min(math.Min(stop1, stop2), foot))
		}
		tau := math.Min(math.Min(foot, stop1), math.Min(stop2, hit))
		if math.IsInf(tau, 1) {
			return m, nil // both at rest
		}
		s1, v1 = m.obj[len(m.obj)-1].at(t + tau)
		s2, v2 = m.tgt[len(m.tgt)-1].at(t + tau)
		t += tau
		// Events that coincide all take effect.
		if tau == foot {
			s1 = 0
		}
		if tau == stop1 {
			v1 = 0
		}
		if tau == stop2 {
			v2 = 0
		}
		if tau == hit {
			if len(m.Collisions) == maxCollisions {
				return nil, fmt.Errorf("ramp: trial %+v: more than %d collisions", tr, maxCollisions)
			}
			e := tr.Restitution()
			// Closing slower than JoinSpeed on a target that brakes
			// harder: the object pushes it from now on.
			joined = tg.MuK > o.MuK && v1-v2 < JoinSpeed
			if joined {
				e = 0
			}
			c := collide(o.Mass, tg.Mass, v1, v2, e)
			c.T, c.Joined = t, joined
			m.Collisions = append(m.Collisions, c)
			v1, v2 = c.V1After, c.V2After
			// The faces touch; rounding must not leave them overlapping
			// for the next root search.
			s1 = math.Min(s1, s2-tg.Length/2-o.Length/2)
		}
	}
	return nil, fmt.Errorf("ramp: trial %+v: the simulation did not come to rest", tr)
}

// collide is the impact of the model: momentum conserved, the separation
// speed e times the approach speed.
func collide(m1, m2, v1, v2, e float64) Collision {
	p := m1*v1 + m2*v2
	c := Collision{V1: v1, V2: v2, Momentum: p, RelativeSpeed: v1 - v2}
	c.V1After = (p - m2*e*(v1-v2)) / (m1 + m2)
	c.V2After = (p + m1*e*(v1-v2)) / (m1 + m2)
	c.MomentumAfter = m1*c.V1After + m2*c.V2After
	c.SeparateSpeed = c.V2After - c.V1After
	return c
}

// firstRoot is the smallest τ in (0, limit] with g0 + g1 τ + g2 τ² = 0
// reached from above (a gap or a distance closing), or +Inf. g0 >= 0 is
// the gap now.
func firstRoot(g0, g1, g2, limit float64) float64 {
	const eps = 1e-12
	var roots []float64
	if math.Abs(g2) < eps {
		if g1 < 0 {
			roots = append(roots, -g0/g1)
		}
	} else if disc := g1*g1 - 4*g2*g0; disc >= 0 {
		sq := math.Sqrt(disc)
		// The numerically stable pair of roots.
		q := -0.5 * (g1 + math.Copysign(sq, g1))
		roots = append(roots, q/g2)
		if q != 0 {
			roots = append(roots, g0/q)
		}
	}
	best := math.Inf(1)
	for _, r := range roots {
		// Closing at the root: the derivative g1 + 2 g2 r is negative.
		if r > eps && r <= limit && g1+2*g2*r < 0 && r < best {
			best = r
		}
	}
	return best
}

// At returns both bodies' path coordinates at time t >= 0 after the
// release (clamped to 0 before it).
func (m *Motion) At(t float64) (object, target float64) {
	t = math.Max(t, 0)
	return pick(m.obj, t), pick(m.tgt, t)
}

func pick(segs []segment, t float64) float64 {
	i := len(segs) - 1
	for i > 0 && segs[i].T0 > t {
		i--
	}
	s, _ := segs[i].at(t)
	return s
}

// Trial returns the trial simulated.
func (m *Motion) Trial() Trial { return m.trial }
