package pendulum

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/svg/clips"
)

// Policy is the scripted controller that records the episodes: energy
// pumping toward a target energy, plus smooth noise (see the package
// documentation for why). At step t, in state s,
//
//	u_t = clip(Gain*(E* - Energy(s))*thdot + n_t, -2, 2)
//	n_t = NoiseCorr*n_{t-1} + NoiseStd*sqrt(1 - NoiseCorr^2)*eps_t,  n_0 = NoiseStd*eps_0
//
// with eps_t standard Gaussians and E* drawn uniformly from
// [MinEnergy, MaxEnergy) at the first step and every Hold steps after.
type Policy struct {
	// Gain is the torque per unit of energy error and of angular speed.
	Gain float64
	// MinEnergy and MaxEnergy bound the target energy. Energy is -5 at
	// rest hanging down and 5 at rest upright: -2.5 is a swing of 60
	// degrees each side. Keep MaxEnergy below 5: near it the pendulum
	// creeps to the top and lingers there (see the package
	// documentation).
	MinEnergy, MaxEnergy float64
	// Hold is how many steps a target energy is kept.
	Hold int
	// NoiseStd is the noise torque's standard deviation and NoiseCorr its
	// correlation from one step to the next (0 is white noise).
	NoiseStd, NoiseCorr float64
}

// DefaultPolicy is the policy of DefaultConfig: gain 1, targets in
// [-2.5, 4) redrawn every 50 steps (2.5 seconds: four per episode), noise
// of standard deviation 0.5 with correlation 0.9 (a time constant of about
// ten steps).
func DefaultPolicy() Policy {
	return Policy{Gain: 1, MinEnergy: -2.5, MaxEnergy: 4, Hold: 50, NoiseStd: 0.5, NoiseCorr: 0.9}
}

func (p Policy) validate() error {
	switch {
	case !(p.Gain >= 0) || math.IsInf(p.Gain, 0):
		return fmt.Errorf("pendulum: policy gain %v: want finite and >= 0", p.Gain)
	case !(p.MinEnergy <= p.MaxEnergy) || math.IsInf(p.MinEnergy, 0) || math.IsInf(p.MaxEnergy, 0):
		return fmt.Errorf("pendulum: policy energy range [%v, %v): want finite bounds, min <= max", p.MinEnergy, p.MaxEnergy)
	case p.Hold < 1:
		return fmt.Errorf("pendulum: policy hold %d steps: want >= 1", p.Hold)
	case !(p.NoiseStd >= 0) || math.IsInf(p.NoiseStd, 0):
		return fmt.Errorf("pendulum: policy noise std %v: want finite and >= 0", p.NoiseStd)
	case !(p.NoiseCorr >= 0 && p.NoiseCorr < 1):
		return fmt.Errorf("pendulum: policy noise correlation %v: want in [0, 1)", p.NoiseCorr)
	}
	return nil
}

// controller is a Policy running in one episode.
type controller struct {
	p      Policy
	r      *clips.RNG
	t      int
	target float64
	noise  float64
}

// act returns the torque for state s and advances the controller by one
// step. Draw order per step: a target (every Hold steps), then one noise
// Gaussian.
func (c *controller) act(s State) float64 {
	if c.t%c.p.Hold == 0 {
		c.target = c.r.Uniform(c.p.MinEnergy, c.p.MaxEnergy)
	}
	eps := c.r.Normal()
	if c.t == 0 {
		c.noise = c.p.NoiseStd * eps
	} else {
		c.noise = c.p.NoiseCorr*c.noise + c.p.NoiseStd*math.Sqrt(1-c.p.NoiseCorr*c.p.NoiseCorr)*eps
	}
	c.t++
	pump := c.p.Gain * (c.target - Energy(s)) * s.ThDot
	return clip(pump+c.noise, MaxTorque)
}
