package physics

import (
	"fmt"
	"math"
)

// Field is a vector field over the state x = (q, p): dx/dt = f(x).
type Field func(x [2]float64) [2]float64

// Dormand-Prince 5(4) coefficients.
var (
	dpC = [7]float64{0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1}
	dpA = [7][6]float64{
		{},
		{1.0 / 5},
		{3.0 / 40, 9.0 / 40},
		{44.0 / 45, -56.0 / 15, 32.0 / 9},
		{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
		{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
		{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
	}
	// dpE is the 5th-order weights minus the embedded 4th-order ones.
	dpE = [7]float64{71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40}
)

// Linspace is np.linspace(start, stop, n): start + i*(stop-start)/(n-1),
// with the last point exactly stop.
func Linspace(start, stop float64, n int) []float64 {
	if n <= 0 {
		return nil
	}
	if n == 1 {
		return []float64{start}
	}
	step := (stop - start) / float64(n-1)
	t := make([]float64, n)
	for i := range t {
		t[i] = float64(i)*step + start
	}
	t[n-1] = stop
	return t
}

// SolveRK45 integrates dx/dt = f(x) from x0 at times[0] and returns the
// state at every entry of times (increasing), with the adaptive
// Dormand-Prince 5(4) method in float64: per-component error scale
// atol + rtol*max(|x|, |x_new|), RMS error norm, step factor
// 0.9*err^(-1/5) clamped to [0.2, 10]. Steps are shortened to land on each
// output time exactly (no dense-output interpolation), so the outputs are
// as accurate as the tolerances make the steps.
func SolveRK45(f Field, x0 [2]float64, times []float64, rtol, atol float64) ([][2]float64, error) {
	if len(times) == 0 {
		return nil, nil
	}
	if rtol <= 0 || atol <= 0 {
		return nil, fmt.Errorf("physics: SolveRK45 needs rtol and atol > 0, got %g and %g", rtol, atol)
	}
	out := make([][2]float64, len(times))
	out[0] = x0
	x := x0
	t := times[0]
	var k [7][2]float64
	k[0] = f(x)
	h := initialStep(f, x, k[0], rtol, atol)
	const maxSteps = 10_000_000
	steps := 0
	for i := 1; i < len(times); i++ {
		target := times[i]
		if !(target >= t) {
			return nil, fmt.Errorf("physics: SolveRK45 output times must increase, got %g after %g", target, t)
		}
		for t < target {
			if steps++; steps > maxSteps {
				return nil, fmt.Errorf("physics: SolveRK45 took over %d steps before t=%g", maxSteps, target)
			}
			last := false
			hs := h
			if t+hs >= target {
				hs = target - t
				last = true
			}
			for s := 1; s < 7; s++ {
				var y [2]float64
				for c := 0; c < 2; c++ {
					acc := 0.0
					for j := 0; j < s; j++ {
						acc += dpA[s][j] * k[j][c]
					}
					y[c] = x[c] + hs*acc
				}
				k[s] = f(y)
			}
			// The 7th stage is evaluated at the new 5th-order state (FSAL).
			var xn [2]float64
			for c := 0; c < 2; c++ {
				acc := 0.0
				for j := 0; j < 6; j++ {
					acc += dpA[6][j] * k[j][c]
				}
				xn[c] = x[c] + hs*acc
			}
			errNorm := 0.0
			for c := 0; c < 2; c++ {
				e := 0.0
				for j := 0; j < 7; j++ {
					e += dpE[j] * k[j][c]
				}
				e *= hs
				sc := atol + rtol*math.Max(math.Abs(x[c]), math.Abs(xn[c]))
				errNorm += (e / sc) * (e / sc)
			}
			errNorm = math.Sqrt(errNorm / 2)
			if math.IsNaN(errNorm) || math.IsInf(errNorm, 0) {
				return nil, fmt.Errorf("physics: SolveRK45 state became non-finite near t=%g", t)
			}
			if errNorm <= 1 {
				if last {
					t = target
				} else {
					t += hs
				}
				x = xn
				k[0] = k[6]
			}
			fac := 10.0
			if errNorm > 0 {
				fac = math.Min(10, math.Max(0.2, 0.9*math.Pow(errNorm, -0.2)))
			}
			if errNorm > 1 {
				fac = math.Min(fac, 1)
			}
			// Grow from the step actually tried, unless a short landing
			// step succeeded: then keep the longer step.
			if !(last && errNorm <= 1) || hs*fac > h {
				h = hs * fac
			}
			if h < 1e-14*math.Max(1, math.Abs(t)) {
				return nil, fmt.Errorf("physics: SolveRK45 step size underflow at t=%g", t)
			}
		}
		out[i] = x
	}
	return out, nil
}

// initialStep is Hairer, Nørsett and Wanner's starting-step heuristic for
// a 5th-order method.
func initialStep(f Field, x, f0 [2]float64, rtol, atol float64) float64 {
	var d0, d1 float64
	for c := 0; c < 2; c++ {
		sc := atol + rtol*math.Abs(x[c])
		d0 += (x[c] / sc) * (x[c] / sc)
		d1 += (f0[c] / sc) * (f0[c] / sc)
	}
	d0, d1 = math.Sqrt(d0/2), math.Sqrt(d1/2)
	h0 := 1e-6
	if d0 >= 1e-5 && d1 >= 1e-5 {
		h0 = 0.01 * d0 / d1
	}
	var x1 [2]float64
	for c := 0; c < 2; c++ {
		x1[c] = x[c] + h0*f0[c]
	}
	f1 := f(x1)
	d2 := 0.0
	for c := 0; c < 2; c++ {
		sc := atol + rtol*math.Abs(x[c])
		d := (f1[c] - f0[c]) / sc
		d2 += d * d
	}
	d2 = math.Sqrt(d2/2) / h0
	var h1 float64
	if d1 <= 1e-15 && d2 <= 1e-15 {
		h1 = math.Max(1e-6, h0*1e-3)
	} else {
		h1 = math.Pow(0.01/math.Max(d1, d2), 1.0/5)
	}
	return math.Min(100*h0, h1)
}
