package physics

// Trajectory is one sequence of states x = (q, p) at times T; all slices
// have the same length.
type Trajectory struct {
	T []float64
	// X is what a model sees: noisy states for the ideal systems, the
	// measurements for the real pendulum.
	X [][2]float64
	// True is what predictions are scored against: the noise-free states
	// for the ideal systems; the measurements (X) for the real pendulum.
	True [][2]float64
	// DXDT is the derivative target at each point: the true dynamics at the
	// true state for the ideal systems; finite differences for the real
	// pendulum (see LoadRealPendulum).
	DXDT [][2]float64
}

// Len is the number of points.
func (t *Trajectory) Len() int { return len(t.T) }

// Dataset is a system's train and test trajectories, sampled every DT.
type Dataset struct {
	Name        string
	Train, Test []Trajectory
	DT          float64
}

// TrainX and TrainDXDT are the training pairs, every point of every
// training trajectory in order, as the trainer feeds them (HNN's x, dx).
func (d *Dataset) TrainX() [][2]float64 {
	return flatten(d.Train, func(t *Trajectory) [][2]float64 { return t.X })
}

// TrainDXDT is the derivative targets of TrainX, point for point.
func (d *Dataset) TrainDXDT() [][2]float64 {
	return flatten(d.Train, func(t *Trajectory) [][2]float64 { return t.DXDT })
}

// TestX and TestDXDT are the test pairs, as TrainX and TrainDXDT.
func (d *Dataset) TestX() [][2]float64 {
	return flatten(d.Test, func(t *Trajectory) [][2]float64 { return t.X })
}

// TestDXDT is the derivative targets of TestX, point for point.
func (d *Dataset) TestDXDT() [][2]float64 {
	return flatten(d.Test, func(t *Trajectory) [][2]float64 { return t.DXDT })
}

func flatten(ts []Trajectory, f func(*Trajectory) [][2]float64) [][2]float64 {
	var out [][2]float64
	for i := range ts {
		out = append(out, f(&ts[i])...)
	}
	return out
}

// Float32 lays pairs out row-major as float32, shape [len(v), 2], the
// layout a graph input [N, 2] is fed in.
func Float32(v [][2]float64) []float32 {
	out := make([]float32, 0, 2*len(v))
	for _, x := range v {
		out = append(out, float32(x[0]), float32(x[1]))
	}
	return out
}
