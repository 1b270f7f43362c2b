package physics

import (
	"fmt"
	"math"
)

// System is an ideal Hamiltonian system of the paper's first experiment,
// with the data-generation settings of Hamiltonian Neural Networks
// (Greydanus et al. 2019), whose data the paper uses.
type System struct {
	Name string
	// Hamiltonian is the conserved energy H(q, p).
	Hamiltonian func(q, p float64) float64
	// Dynamics is Hamilton's equations, (dH/dp, -dH/dq).
	Dynamics Field
	// Initial radii are RadiusLo + RadiusWidth*u, u = rand() in [0, 1).
	// The width is stored rather than the upper end so that the product
	// is computed as HNN computes it (rand()+1.3, rand()*0.9+0.1): 2.3-1.3
	// is not 1 in float64.
	RadiusLo, RadiusWidth float64
	// Timescale is the number of output points per unit time: HNN's
	// t_eval = linspace(t0, t1, int(Timescale*(t1-t0))).
	Timescale int
	T0, T1    float64
	NoiseStd  float64
}

// Pendulum is the ideal pendulum: H = 3(1 - cos q) + p², dq/dt = 2p,
// dp/dt = -3 sin q; radii in [1.3, 2.3), 45 points over [0, 3].
func Pendulum() System {
	return System{
		Name:        "pendulum",
		Hamiltonian: func(q, p float64) float64 { return 3*(1-math.Cos(q)) + p*p },
		Dynamics:    func(x [2]float64) [2]float64 { return [2]float64{2 * x[1], -3 * math.Sin(x[0])} },
		RadiusLo:    1.3, RadiusWidth: 1,
		Timescale: 15, T0: 0, T1: 3,
		NoiseStd: 0.1,
	}
}

// Spring is the ideal mass-spring: H = p² + q², dq/dt = 2p, dp/dt = -2q;
// radii in [0.1, 1.0), 30 points over [0, 3].
func Spring() System {
	return System{
		Name:        "spring",
		Hamiltonian: func(q, p float64) float64 { return q*q + p*p },
		Dynamics:    func(x [2]float64) [2]float64 { return [2]float64{2 * x[1], -2 * x[0]} },
		RadiusLo:    0.1, RadiusWidth: 0.9,
		Timescale: 10, T0: 0, T1: 3,
		NoiseStd: 0.1,
	}
}

// GenOptions tune System.Generate; the zero value is HNN's setting.
type GenOptions struct {
	Seed uint32 // np.random.seed; 0 as in HNN
	// Trajectories in all (0: 50) and how many of them, first, are for
	// training (0: half, HNN's test_split 0.5).
	Trajectories, Train int
	// Rtol and Atol of the RK45 solver (0: 1e-10 and 1e-12).
	Rtol, Atol float64
}

// Times returns the system's output times, HNN's t_eval.
func (s System) Times() []float64 {
	return Linspace(s.T0, s.T1, int(float64(s.Timescale)*(s.T1-s.T0)))
}

// draws are the random numbers of one trajectory, in HNN's order.
type draws struct {
	y0     [2]float64 // rescaled to the radius
	noiseQ []float64
	noiseP []float64
}

// draw takes one trajectory's numbers from r as HNN's get_trajectory does:
// y0 = rand(2)*2 - 1; radius = rand()*width + lo; y0 = y0/|y0|*radius;
// (integration, which draws nothing); q += randn(T)*std; p += randn(T)*std.
func (s System) draw(r *MT19937, n int) draws {
	var d draws
	y0 := [2]float64{r.Float64()*2 - 1, r.Float64()*2 - 1}
	radius := r.Float64()*s.RadiusWidth + s.RadiusLo
	norm := math.Sqrt(y0[0]*y0[0] + y0[1]*y0[1])
	d.y0 = [2]float64{y0[0] / norm * radius, y0[1] / norm * radius}
	d.noiseQ = make([]float64, n)
	d.noiseP = make([]float64, n)
	for i := range d.noiseQ {
		d.noiseQ[i] = r.NormFloat64()
	}
	for i := range d.noiseP {
		d.noiseP[i] = r.NormFloat64()
	}
	return d
}

// Generate makes the system's data set as HNN's get_dataset does, all
// random numbers coming from one MT19937 seeded with o.Seed in HNN's order
// (see draw). Per trajectory: the true states come from SolveRK45 at
// Times; the derivative targets are Dynamics of the true states
// (noise-free); the observed states are the true ones plus Gaussian noise
// of std NoiseStd on q and on p.
//
// Differences from HNN, none of which changes a random draw: HNN calls
// SciPy's solve_ivp(RK45, rtol=1e-10) with its default atol 1e-6 and
// reads t_eval from the dense-output interpolant; this solver uses atol
// 1e-12 by default and steps onto every output time, so its states are
// closer to the exact flow (they differ from SciPy's by about 1e-6, far
// below the noise).
func (s System) Generate(o GenOptions) (*Dataset, error) {
	if o.Trajectories == 0 {
		o.Trajectories = 50
	}
	if o.Train == 0 {
		o.Train = o.Trajectories / 2
	}
	if o.Rtol == 0 {
		o.Rtol = 1e-10
	}
	if o.Atol == 0 {
		o.Atol = 1e-12
	}
	if o.Trajectories < 0 || o.Train < 0 || o.Train > o.Trajectories {
		return nil, fmt.Errorf("physics: %s: bad split %d of %d trajectories", s.Name, o.Train, o.Trajectories)
	}
	times := s.Times()
	if len(times) < 2 {
		return nil, fmt.Errorf("physics: %s: needs at least 2 output times, got %d", s.Name, len(times))
	}
	r := NewMT19937(o.Seed)
	d := &Dataset{Name: s.Name, DT: times[1] - times[0]}
	for k := 0; k < o.Trajectories; k++ {
		dr := s.draw(r, len(times))
		truth, err := SolveRK45(s.Dynamics, dr.y0, times, o.Rtol, o.Atol)
		if err != nil {
			return nil, fmt.Errorf("physics: %s trajectory %d: %w", s.Name, k, err)
		}
		tr := Trajectory{
			T:    append([]float64(nil), times...),
			X:    make([][2]float64, len(times)),
			True: truth,
			DXDT: make([][2]float64, len(times)),
		}
		for i, x := range truth {
			tr.DXDT[i] = s.Dynamics(x)
			tr.X[i] = [2]float64{x[0] + dr.noiseQ[i]*s.NoiseStd, x[1] + dr.noiseP[i]*s.NoiseStd}
		}
		if k < o.Train {
			d.Train = append(d.Train, tr)
		} else {
			d.Test = append(d.Test, tr)
		}
	}
	return d, nil
}
