package ramp

import (
	"math"
	"strings"
	"testing"
)

// block is a 10 cm object of 1 kg with kinetic friction 0.2 (static 0.25
// < tan 20° = 0.36397: it slides) and restitution 0.5.
var block = Body{Length: 0.1, Mass: 1, MuS: 0.25, MuK: 0.2, Restitution: 0.5}

func simulate(t *testing.T, tr Trial) *Motion {
	t.Helper()
	m, err := Simulate(tr)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestRampClosedForm checks the slide against s(t) = S0 + a t²/2 with a =
// g (sin 20° - 0.2 cos 20°) = 9.81 (0.34202014 - 0.2 x 0.93969262) =
// 1.51154068 m/s², worked out by hand (and in Python to 16 digits), and
// the arrival at the foot at sqrt(2 x 0.3 / a) = 0.63003649 s.
func TestRampClosedForm(t *testing.T) {
	far := Body{Length: 0.1, Mass: 1, MuS: 0.1, MuK: 0.1, Restitution: 0.5}
	m := simulate(t, Trial{Object: block, Target: far, S0: -0.3, TargetAt: 5})
	if a := m.Trial().RampAcceleration(); !near(a, 1.5115406840428576, 1e-12) {
		t.Errorf("ramp acceleration %v, want 1.5115406840428576", a)
	}
	for _, c := range []struct{ t, want float64 }{
		{0, -0.3},
		{0.1, -0.2924422965797857},
		{0.4, -0.17907674527657136},
		{0.6300364919846656, 0},
	} {
		if s, _ := m.At(c.t); !near(s, c.want, 1e-12) {
			t.Errorf("s(%v) = %.16g, want %.16g", c.t, s, c.want)
		}
	}
	// On the table from v = a x 0.63003649 = 0.95232579 m/s, braking at
	// 0.2 g: it stops 0.95232579² / (2 x 1.962) = 0.23112243 m on, at t =
	// 1.11542171 s, and stays.
	for _, tt := range []float64{1.1154217060858194, 2, 10} {
		if s, _ := m.At(tt); !near(s, 0.23112242875273048, 1e-12) {
			t.Errorf("s(%v) = %.16g, want the stop at 0.23112242875273048", tt, s)
		}
	}
	if s, _ := m.At(0.9); !(s > 0 && s < 0.23112242875273048) {
		t.Errorf("s(0.9) = %v: want between the foot and the stop", s)
	}
	if len(m.Collisions) != 0 {
		t.Errorf("collisions %+v with a target 5 m away", m.Collisions)
	}
}

// TestStatic checks that an object whose static friction holds (0.4 >=
// tan 20°) never moves, nor does the target.
func TestStatic(t *testing.T) {
	held := Body{Length: 0.1, Mass: 1, MuS: 0.4, MuK: 0.3, Restitution: 0.5}
	tr := Trial{Object: held, Target: block, S0: -0.2, TargetAt: 0.2}
	if tr.Slides() {
		t.Fatalf("MuS 0.4 slides at 20 degrees")
	}
	m := simulate(t, tr)
	for _, tt := range []float64{0, 0.5, 3} {
		if s1, s2 := m.At(tt); s1 != -0.2 || s2 != 0.2 {
			t.Errorf("at %v s: object %v, target %v; want -0.2 and 0.2 for ever", tt, s1, s2)
		}
	}
}

// TestCollision follows the block (1 kg) from 0.3 m up the ramp into a
// 2 kg target resting with its back 0.15 m beyond the foot, restitution
// min(0.5, 0.5) = 0.5: the faces meet when the block has gone 0.1 m on
// the table, at v = sqrt(0.95232579² - 2 x 1.962 x 0.1) = 0.71730357
// m/s, t = 0.74982356 s. Then v1' = (v - 2 x 0.5 v)/3 = 0 and v2' = (v +
// 0.5 v)/3 = v/2: the block stops dead and the target, braking at 0.1 g,
// slides (v/2)² / 1.962 = 0.06556121 m.
func TestCollision(t *testing.T) {
	target := Body{Length: 0.1, Mass: 2, MuS: 0.15, MuK: 0.1, Restitution: 0.5}
	m := simulate(t, Trial{Object: block, Target: target, S0: -0.3, TargetAt: 0.2})
	if len(m.Collisions) != 1 {
		t.Fatalf("%d collisions, want 1: %+v", len(m.Collisions), m.Collisions)
	}
	c := m.Collisions[0]
	if !near(c.T, 0.7498235566327385, 1e-12) || !near(c.V1, 0.7173035692269448, 1e-12) || c.V2 != 0 {
		t.Errorf("collision at %v s with v1 %v, v2 %v; want 0.7498235566327385, 0.7173035692269448, 0", c.T, c.V1, c.V2)
	}
	if !near(c.V1After, 0, 1e-15) || !near(c.V2After, 0.3586517846134724, 1e-12) {
		t.Errorf("after: v1 %v, v2 %v; want 0 and 0.3586517846134724", c.V1After, c.V2After)
	}
	if !near(c.Momentum, c.MomentumAfter, 1e-15) || !near(c.SeparateSpeed, 0.5*c.RelativeSpeed, 1e-15) {
		t.Errorf("momentum %v -> %v, closing %v -> separating %v: want momentum kept and e = 0.5", c.Momentum, c.MomentumAfter, c.RelativeSpeed, c.SeparateSpeed)
	}
	if s1, s2 := m.At(10); !near(s1, 0.1, 1e-12) || !near(s2, 0.2+0.06556121437636524, 1e-12) {
		t.Errorf("at rest: block %v, target %v; want 0.1 and 0.26556121437636524", s1, s2)
	}
}

// TestBounceAndPush covers the two other regimes: a light object bounces
// back off a heavy target (and may go back up the ramp), and a target
// braking harder than the object is caught up, bounce after bounce, until
// the object pushes it. In both the bodies never overlap, every impact
// keeps momentum, and the motion is continuous.
func TestBounceAndPush(t *testing.T) {
	light := Body{Length: 0.05, Mass: 0.02, MuS: 0.15, MuK: 0.1, Restitution: 0.8}
	heavy := Body{Length: 0.1, Mass: 2, MuS: 0.5, MuK: 0.4, Restitution: 0.8}
	rough := Body{Length: 0.08, Mass: 0.3, MuS: 0.5, MuK: 0.45, Restitution: 0.1}
	for _, c := range []struct {
		name   string
		tr     Trial
		joined bool
	}{
		{"bounce back", Trial{Object: light, Target: heavy, S0: -0.4, TargetAt: 0.11}, false},
		{"push", Trial{Object: block, Target: rough, S0: -0.4, TargetAt: 0.15}, true},
	} {
		m := simulate(t, c.tr)
		if len(m.Collisions) == 0 {
			t.Fatalf("%s: no collision", c.name)
		}
		if last := m.Collisions[len(m.Collisions)-1]; last.Joined != c.joined {
			t.Errorf("%s: last impact joined = %v, want %v (%d impacts)", c.name, last.Joined, c.joined, len(m.Collisions))
		}
		for _, col := range m.Collisions {
			if !near(col.Momentum, col.MomentumAfter, 1e-12*math.Abs(col.Momentum)+1e-15) {
				t.Errorf("%s: momentum %v -> %v at %v s", c.name, col.Momentum, col.MomentumAfter, col.T)
			}
		}
		if c.name == "bounce back" && m.Collisions[0].V1After >= 0 {
			t.Errorf("%s: the light object goes on at %v m/s, want it thrown back", c.name, m.Collisions[0].V1After)
		}
		prev1, prev2 := m.At(0)
		for i := 1; i <= 4000; i++ {
			s1, s2 := m.At(float64(i) * 1e-3)
			if gap := (s2 - c.tr.Target.Length/2) - (s1 + c.tr.Object.Length/2); gap < -1e-9 {
				t.Fatalf("%s: the bodies overlap by %v m at %v s", c.name, -gap, float64(i)*1e-3)
			}
			// 4 m/s bounds every speed here: no jumps between samples.
			if math.Abs(s1-prev1) > 4e-3 || math.Abs(s2-prev2) > 4e-3 {
				t.Fatalf("%s: a jump at %v s: %v -> %v, %v -> %v", c.name, float64(i)*1e-3, prev1, s1, prev2, s2)
			}
			prev1, prev2 = s1, s2
		}
		end1, end2 := m.At(4)
		if later1, later2 := m.At(100); later1 != end1 || later2 != end2 {
			t.Errorf("%s: still moving after 4 s (%v, %v then %v, %v)", c.name, end1, end2, later1, later2)
		}
	}
}

func TestTrialErrors(t *testing.T) {
	for _, c := range []struct {
		tr   Trial
		want string
	}{
		{Trial{Object: block, Target: block, S0: 0.1, TargetAt: 0.3}, "release point"},
		{Trial{Object: block, Target: block, S0: -0.6, TargetAt: 0.3}, "release point"},
		{Trial{Object: block, Target: block, S0: -0.2, TargetAt: 0.1}, "target's back"},
		{Trial{Object: Body{Length: 0.1, Mass: 1, MuS: 0.1, MuK: 0.2}, Target: block, S0: -0.2, TargetAt: 0.3}, "MuK <= MuS"},
	} {
		if _, err := Simulate(c.tr); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Simulate(%+v): error %v, want one naming %q", c.tr, err, c.want)
		}
	}
}
