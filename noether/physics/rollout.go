package physics

import (
	"fmt"
	"math"
)

// BatchField is a vector field evaluated on a batch of states at once, so
// a model on the GPU can take every trajectory of a rollout in one run per
// RK4 stage. It returns dx/dt for each state, in order.
type BatchField func(states [][2]float64) [][2]float64

// Batch makes a BatchField of a per-state Field.
func Batch(f Field) BatchField {
	return func(states [][2]float64) [][2]float64 {
		out := make([][2]float64, len(states))
		for i, x := range states {
			out[i] = f(x)
		}
		return out
	}
}

// RK4 integrates dx/dt = f(x) from every state of x0 with the classical
// fixed-step Runge-Kutta method: steps output steps of dt, each made of
// substeps (at least 1) RK4 steps of dt/substeps. It returns, per initial
// state, steps+1 states (x0 first), indexed [trajectory][point]. f is
// called 4*steps*substeps times, each time on the whole batch.
func RK4(f BatchField, x0 [][2]float64, dt float64, steps, substeps int) [][][2]float64 {
	if substeps < 1 {
		substeps = 1
	}
	n := len(x0)
	out := make([][][2]float64, n)
	x := make([][2]float64, n)
	copy(x, x0)
	for b := range out {
		out[b] = make([][2]float64, 0, steps+1)
		out[b] = append(out[b], x0[b])
	}
	h := dt / float64(substeps)
	tmp := make([][2]float64, n)
	for s := 0; s < steps; s++ {
		for sub := 0; sub < substeps; sub++ {
			k1 := f(x)
			for b := range tmp {
				tmp[b] = [2]float64{x[b][0] + h/2*k1[b][0], x[b][1] + h/2*k1[b][1]}
			}
			k2 := f(tmp)
			for b := range tmp {
				tmp[b] = [2]float64{x[b][0] + h/2*k2[b][0], x[b][1] + h/2*k2[b][1]}
			}
			k3 := f(tmp)
			for b := range tmp {
				tmp[b] = [2]float64{x[b][0] + h*k3[b][0], x[b][1] + h*k3[b][1]}
			}
			k4 := f(tmp)
			for b := range x {
				for c := 0; c < 2; c++ {
					x[b][c] += h / 6 * (k1[b][c] + 2*k2[b][c] + 2*k3[b][c] + k4[b][c])
				}
			}
		}
		for b := range out {
			out[b] = append(out[b], x[b])
		}
	}
	return out
}

// Rollout is the long-term prediction protocol of this project (the
// paper's is not public):
//
//   - start from each trajectory's first true state, True[0] (noise-free
//     for the ideal systems; the measurement for the real pendulum);
//   - integrate the model's vector field with RK4 at the data's dt
//     (Dataset.DT), substeps RK4 steps per sample (1: one step per
//     sample), all trajectories as one batch, for as many points as the
//     longest trajectory has; each trajectory keeps its own length;
//   - score with RMSE against True at every point of every trajectory
//     (the first included, where the error is zero), over both
//     coordinates: sqrt(mean over all points and q, p of the squared error).
//
// For the ideal systems the test set is 25 trajectories of 45 (pendulum) or
// 30 (spring) points over 3 s; for the real pendulum it is the test
// segments (see ParseRealPendulum).
func Rollout(f BatchField, trajs []Trajectory, dt float64, substeps int) [][][2]float64 {
	x0 := make([][2]float64, len(trajs))
	longest := 0
	for i := range trajs {
		x0[i] = trajs[i].True[0]
		longest = max(longest, trajs[i].Len())
	}
	out := RK4(f, x0, dt, longest-1, substeps)
	for i := range out {
		out[i] = out[i][:trajs[i].Len()]
	}
	return out
}

// RMSE is the root mean square error of pred against the trajectories'
// True states over every point and both coordinates (see Rollout).
func RMSE(pred [][][2]float64, trajs []Trajectory) (float64, error) {
	if len(pred) != len(trajs) {
		return 0, fmt.Errorf("physics: RMSE of %d predicted trajectories against %d", len(pred), len(trajs))
	}
	var sum float64
	n := 0
	for i := range trajs {
		if len(pred[i]) != len(trajs[i].True) {
			return 0, fmt.Errorf("physics: RMSE: trajectory %d has %d predicted points and %d true ones", i, len(pred[i]), len(trajs[i].True))
		}
		for k, y := range trajs[i].True {
			for c := 0; c < 2; c++ {
				e := pred[i][k][c] - y[c]
				sum += e * e
				n++
			}
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("physics: RMSE of no points")
	}
	return math.Sqrt(sum / float64(n)), nil
}

// RolloutRMSE runs Rollout on the test trajectories and scores it.
func (d *Dataset) RolloutRMSE(f BatchField, substeps int) (float64, error) {
	return RMSE(Rollout(f, d.Test, d.DT, substeps), d.Test)
}
