package pendulum

import "math"

// Gym Pendulum-v0's constants.
const (
	DT        = 0.05 // seconds per step and per frame
	G         = 10.0 // gravity
	Mass      = 1.0
	Length    = 1.0
	MaxTorque = 2.0 // |u| is clipped to this
	MaxSpeed  = 8.0 // |thdot| is clipped to this after each step
)

// State is the pendulum's angle Th (radians, 0 upright, increasing
// counter-clockwise; not wrapped, as Gym keeps it) and angular speed ThDot.
type State struct {
	Th, ThDot float64
}

// Step is one step of Gym Pendulum-v0 under torque u:
//
//	u      = clip(u, -2, 2)
//	thdot' = thdot + (-3g/(2l) sin(th + pi) + 3/(m l^2) u) dt
//	th'    = th + thdot' dt
//	thdot' = clip(thdot', -8, 8)
//
// The angle advances with the unclipped speed, as in Gym; only the stored
// speed is clipped. The expression keeps Gym's order of operations
// (sin(th + pi), not -sin th) so that results match it in float64.
func Step(s State, u float64) State {
	u = clip(u, MaxTorque)
	thdot := s.ThDot + (-3*G/(2*Length)*math.Sin(s.Th+math.Pi)+3.0/(Mass*Length*Length)*u)*DT
	th := s.Th + thdot*DT
	return State{Th: th, ThDot: clip(thdot, MaxSpeed)}
}

// Energy is the pendulum's mechanical energy, I thdot^2/2 + m g (l/2) cos th
// with I = m l^2/3 (a uniform rod about its end): 5 at rest upright, -5 at
// rest hanging down. A torque u changes it at the rate thdot*u, which is
// what the policy uses.
func Energy(s State) float64 {
	inertia := Mass * Length * Length / 3
	return inertia*s.ThDot*s.ThDot/2 + Mass*G*Length/2*math.Cos(s.Th)
}

func clip(v, limit float64) float64 {
	return math.Max(-limit, math.Min(limit, v))
}
