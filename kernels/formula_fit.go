package kernels

import (
	"context"
	"fmt"
	"math"
)

// FormulaFitRequest asks for the parameters of K candidate conserved
// quantities f(q, p; theta), each fitted on its own, and their scores.
//
// The data are sequences of states: true ones (points along trajectories)
// and random ones (the caller's control, typically the same points shuffled
// across sequences, laid out with the same lengths). For a set of sequences
// s of L_s points,
//
//	W(theta) = mean over s of (1/L_s) sum_i (f(x_i) - m_s)^2,
//
// the within-sequence population variance, with m_s the mean of f over s
// (computed first, then the centred sum, for float32 accuracy). The score
// is R = W_true / W_rand; it is unchanged by f -> a f + b, so rescaling a
// formula cannot fake conservation, and small R means f is conserved along
// the true sequences but not along random ones.
//
// Each candidate's theta starts at Init and takes Steps Adam steps on
// log R, with the gradient d log R = dW_true/W_true - dW_rand/W_rand and
// dW = mean over s of (2/L_s) sum_i (f_i - m_s) df_i/dtheta. The learning
// rate follows a cosine from LR down to 0: lr_t = LR (1 + cos(pi t /
// Steps)) / 2 at step t = 0 .. Steps-1, with betas FormulaFitBeta1 and
// FormulaFitBeta2 and epsilon FormulaFitEps, bias corrected. Adam finds
// the basin; it converges slowly inside it, because the gradient of log R
// grows like 1/(theta - theta*) near a conserved quantity's theta*.
// Polish Newton steps follow, Dinkelbach's method for minimising a ratio:
// theta += x with (H_true - R H_rand + ridge I) x = -(dW_true - R dW_rand),
// where H is the Gauss-Newton Hessian of W, mean over s of (2/L_s) sum_i
// (df_i - mdf_s)(df_i - mdf_s)^T, and the ridge the first of 1e-6, 1e-4,
// 1e-2 and 1 times the matrix's largest diagonal entry that makes it
// positive definite (see formulaRidges). Steps are damped: shortened to at
// most 1 + |theta_k| in every coordinate k (a parameter the score hardly
// depends on has a near-singular Hessian), and halved back when they do
// not lower R below that at their start. For a formula linear in theta
// the first Newton step from near the optimum lands on it; on noise-free
// data a few give theta to float32 accuracy.
//
// An Adam step whose R or gradient is not finite (a division by zero, an
// overflow) or a Newton system that is not positive definite ends that
// candidate's fit: nothing would change any more. The result is the theta
// of the lowest finite R met (before each step and after the last) and
// that R; a candidate whose R was never finite scores +Inf. Candidates
// without parameters are only evaluated.
//
// Several starting points for one formula are several candidates with the
// same code: the caller replicates them and keeps the best.
type FormulaFitRequest struct {
	// Code holds K programs of FormulaCodeLen words (see FormulaOp).
	Code []uint32
	// Consts holds FormulaMaxConsts constants per candidate, read by OpConst.
	Consts []float32
	// Init holds FormulaMaxParams starting parameters per candidate; those
	// at or past the candidate's NParams are ignored.
	Init []float32
	// NParams is each candidate's number of parameters, 0 to FormulaMaxParams.
	NParams []uint8
	// Points holds the states, (q, p) per point.
	Points []float32
	// True and Random are offsets into Points, in points: sequence s holds
	// points off[s] to off[s+1]-1. Each needs at least one sequence, and
	// every sequence at least one point.
	True, Random []uint32
	// Steps is the number of Adam steps; LR the peak learning rate; Polish
	// the number of Newton steps after them.
	Steps  int
	LR     float32
	Polish int
	// Chunk is the number of candidates per submission (0:
	// FormulaFitChunk). Smaller chunks report progress more often and keep
	// each submission short on GPUs with a watchdog.
	Chunk int
	// Progress, when set, is called after each chunk with the number of
	// candidates done and the total.
	Progress func(done, total int)
}

// Adam's constants and the default chunk of FitFormulas. Beta2 is 0.9,
// not the usual 0.999: the gradient of log R spikes when theta passes
// near a conserved quantity's theta*, and a long memory of the spikes
// stalls Adam afterwards (measured on one-parameter energies of the
// pendulum and the spring from six starts, 300 steps at rate 0.05 without
// Newton steps: worst relative error 5e-5 with 0.9, 8e-4 with 0.99 and
// 0.999).
const (
	FormulaFitBeta1 = 0.9
	FormulaFitBeta2 = 0.9
	FormulaFitEps   = 1e-8
	FormulaFitChunk = 512
)

// FormulaFitResult holds the fitted parameters (FormulaMaxParams per
// candidate; entries past NParams repeat Init) and the score R of each
// candidate, +Inf for a rejected one.
type FormulaFitResult struct {
	Params []float32
	Score  []float32
}

// FormulaFitBackend fits formulas (see FormulaFitRequest). Both backends
// implement it: CPU is the float64 reference of the shader's computation.
type FormulaFitBackend interface {
	FitFormulas(ctx context.Context, req FormulaFitRequest) (FormulaFitResult, error)
}

// check validates r and returns the number of candidates.
func (r *FormulaFitRequest) check() (int, error) {
	k := len(r.NParams)
	fail := func(format string, args ...any) (int, error) {
		return 0, fmt.Errorf("kernels: FitFormulas: "+format, args...)
	}
	switch {
	case k == 0:
		return fail("no candidates")
	case len(r.Code) != k*FormulaCodeLen:
		return fail("%d code words for %d candidates, want %d", len(r.Code), k, k*FormulaCodeLen)
	case len(r.Consts) != k*FormulaMaxConsts:
		return fail("%d constants for %d candidates, want %d", len(r.Consts), k, k*FormulaMaxConsts)
	case len(r.Init) != k*FormulaMaxParams:
		return fail("%d initial parameters for %d candidates, want %d", len(r.Init), k, k*FormulaMaxParams)
	case len(r.Points)%2 != 0:
		return fail("%d point coordinates, want pairs (q, p)", len(r.Points))
	case r.Steps < 0 || r.Polish < 0:
		return fail("%d steps and %d polish steps", r.Steps, r.Polish)
	case !(r.LR >= 0) || math.IsInf(float64(r.LR), 0):
		return fail("learning rate %v", r.LR)
	case r.Chunk < 0:
		return fail("chunk of %d candidates", r.Chunk)
	}
	for i := range k {
		if err := CheckFormula(r.Code[i*FormulaCodeLen:(i+1)*FormulaCodeLen], int(r.NParams[i])); err != nil {
			return fail("candidate %d: %v", i, err)
		}
	}
	for _, s := range []struct {
		name string
		offs []uint32
	}{{"true", r.True}, {"random", r.Random}} {
		if len(s.offs) < 2 {
			return fail("%d %s offsets, want at least 2 (one sequence)", len(s.offs), s.name)
		}
		for j := 1; j < len(s.offs); j++ {
			if s.offs[j] <= s.offs[j-1] || int(s.offs[j]) > len(r.Points)/2 {
				return fail("%s sequence %d spans points %d to %d of %d (want at least one point, within the points)",
					s.name, j-1, s.offs[j-1], s.offs[j], len(r.Points)/2)
			}
		}
	}
	return k, nil
}

// chunk is the number of candidates per submission.
func (r *FormulaFitRequest) chunk() int {
	if r.Chunk > 0 {
		return r.Chunk
	}
	return FormulaFitChunk
}

// FitFormulas implements FormulaFitBackend in float64, one candidate after
// another, with the shader's schedule and rules.
func (CPU) FitFormulas(ctx context.Context, req FormulaFitRequest) (FormulaFitResult, error) {
	k, err := req.check()
	if err != nil {
		return FormulaFitResult{}, err
	}
	res := FormulaFitResult{Params: append([]float32(nil), req.Init...), Score: make([]float32, k)}
	for i := range k {
		if i%req.chunk() == 0 {
			if err := ctx.Err(); err != nil {
				return FormulaFitResult{}, fmt.Errorf("kernels: FitFormulas: %w", err)
			}
			if req.Progress != nil && i > 0 {
				req.Progress(i, k)
			}
		}
		theta, score := fitOne(&req, i)
		for j, t := range theta {
			res.Params[i*FormulaMaxParams+j] = float32(t)
		}
		res.Score[i] = float32(score)
	}
	if req.Progress != nil {
		req.Progress(k, k)
	}
	return res, nil
}

// fitOne runs candidate i's loop and returns its best parameters and
// score.
func fitOne(req *FormulaFitRequest, i int) ([]float64, float64) {
	np := int(req.NParams[i])
	theta := make([]float64, np)
	for j := range theta {
		theta[j] = float64(req.Init[i*FormulaMaxParams+j])
	}
	steps, polish := req.Steps, req.Polish
	if np == 0 {
		steps, polish = 0, 0
	}
	best, bestTheta := math.Inf(1), append([]float64(nil), theta...)
	anchorR, anchor := math.Inf(1), append([]float64(nil), theta...) // where the last Newton step started
	m1, m2 := make([]float64, np), make([]float64, np)
	b1t, b2t := 1.0, 1.0
	for step := 0; step <= steps+polish; step++ {
		t, r := formulaSums(req, i, theta, req.True), formulaSums(req, i, theta, req.Random)
		rr := t.w / r.w
		improved := isFinite(rr) && rr < best
		if improved {
			best = rr
			copy(bestTheta, theta)
		}
		if step == steps+polish {
			break
		}
		if step < steps {
			grad, ok := logRGrad(t, r)
			if !ok {
				break
			}
			b1t *= FormulaFitBeta1
			b2t *= FormulaFitBeta2
			lr := float64(req.LR) * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(steps)))
			for j, g := range grad {
				m1[j] = FormulaFitBeta1*m1[j] + (1-FormulaFitBeta1)*g
				m2[j] = FormulaFitBeta2*m2[j] + (1-FormulaFitBeta2)*g*g
				theta[j] -= lr * (m1[j] / (1 - b1t)) / (math.Sqrt(m2[j]/(1-b2t)) + FormulaFitEps)
			}
			continue
		}
		if !(rr < anchorR) {
			for j := range theta {
				theta[j] = 0.5 * (theta[j] + anchor[j])
			}
			continue
		}
		x, ok := newtonStep(t, r, rr)
		if !ok {
			break
		}
		// The shader's trust region: no step longer than 1 + |theta_j|.
		scale := 1.0
		for j := range x {
			scale = math.Min(scale, (1+math.Abs(theta[j]))/math.Abs(x[j]))
		}
		anchorR = rr
		copy(anchor, theta)
		for j := range theta {
			theta[j] += scale * x[j]
		}
	}
	return bestTheta, best
}

func isFinite(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }

// wSums is W over a set of sequences with its gradient g and Gauss-Newton
// Hessian h (full, symmetric).
type wSums struct {
	w float64
	g []float64
	h [][]float64
}

// logRGrad returns the gradient of log R = log(t.w / r.w), and false when
// R or the gradient is not finite.
func logRGrad(t, r wSums) ([]float64, bool) {
	ok := isFinite(t.w / r.w)
	grad := make([]float64, len(t.g))
	for j := range grad {
		grad[j] = t.g[j]/t.w - r.g[j]/r.w
		ok = ok && isFinite(grad[j])
	}
	return grad, ok
}

// formulaRidges are the ridges newtonStep tries, in turn, as multiples of
// the largest diagonal entry of the Newton matrix: the first that makes it
// positive definite is used (Levenberg and Marquardt's damping). Away from
// the minimum the matrix is indefinite along directions R does not depend
// on: f = a p^2 - b cos q is as conserved for every multiple of (a, b), and
// W_true - R W_rand has zero curvature along (a, b) while mixing it with
// the direction that matters. A small ridge leaves the Newton step where
// the matrix is good; a large one makes it a short gradient step.
var formulaRidges = [...]float64{1e-6, 1e-4, 1e-2, 1}

// newtonStep returns the step of Dinkelbach's method for the ratio
// R = t.w / r.w (rr = R): the Newton step for W_true - rr W_rand, solving
// (t.h - rr r.h + ridge I) x = -(t.g - rr r.g) by Cholesky with the first
// ridge of formulaRidges that makes the matrix positive definite. It
// reports false when none does or x is not finite.
func newtonStep(t, r wSums, rr float64) ([]float64, bool) {
	n := len(t.g)
	g := make([]float64, n)
	a := make([][]float64, n)
	scale := 0.0
	for k := range a {
		g[k] = t.g[k] - rr*r.g[k]
		a[k] = make([]float64, n)
		for j := range a[k] {
			a[k][j] = t.h[k][j] - rr*r.h[k][j]
		}
		scale = math.Max(scale, a[k][k])
	}
	for _, ridge := range formulaRidges {
		if x, ok := solveCholesky(a, ridge*scale, g); ok {
			return x, true
		}
	}
	return nil, false
}

// solveCholesky solves (a + ridge I) x = -g, and reports false when the
// matrix is not positive definite or x is not finite.
func solveCholesky(a [][]float64, ridge float64, g []float64) ([]float64, bool) {
	n := len(g)
	l := make([][]float64, n)
	for k := range l {
		l[k] = make([]float64, k+1)
		for j := 0; j <= k; j++ {
			v := a[k][j]
			if k == j {
				v += ridge
			}
			for m := 0; m < j; m++ {
				v -= l[k][m] * l[j][m]
			}
			if k == j {
				if !(v > 0) {
					return nil, false
				}
				l[k][k] = math.Sqrt(v)
			} else {
				l[k][j] = v / l[j][j]
			}
		}
	}
	y := make([]float64, n)
	for k := range y {
		y[k] = -g[k]
		for m := 0; m < k; m++ {
			y[k] -= l[k][m] * y[m]
		}
		y[k] /= l[k][k]
	}
	x := make([]float64, n)
	for k := n - 1; k >= 0; k-- {
		x[k] = y[k]
		for m := k + 1; m < n; m++ {
			x[k] -= l[m][k] * x[m]
		}
		x[k] /= l[k][k]
		if !isFinite(x[k]) {
			return nil, false
		}
	}
	return x, true
}

// formulaObjective returns R = W_true / W_rand of candidate i at theta and
// the gradient of log R.
func formulaObjective(req *FormulaFitRequest, i int, theta []float64) (float64, []float64) {
	t, r := formulaSums(req, i, theta, req.True), formulaSums(req, i, theta, req.Random)
	grad, _ := logRGrad(t, r)
	return t.w / r.w, grad
}

// formulaSums returns W of candidate i at theta over the sequences offs,
// with its derivatives.
func formulaSums(req *FormulaFitRequest, i int, theta []float64, offs []uint32) wSums {
	code := req.Code[i*FormulaCodeLen : (i+1)*FormulaCodeLen]
	consts := req.Consts[i*FormulaMaxConsts : (i+1)*FormulaMaxConsts]
	np := len(theta)
	out := wSums{g: make([]float64, np), h: make([][]float64, np)}
	for k := range out.h {
		out.h[k] = make([]float64, np)
	}
	ns := float64(len(offs) - 1)
	for s := 1; s < len(offs); s++ {
		a, b := int(offs[s-1]), int(offs[s])
		n := float64(b - a)
		f := make([]float64, b-a)
		df := make([][]float64, b-a)
		sum, mdf := 0.0, make([]float64, np)
		for j := range f {
			x := req.Points[2*(a+j):]
			f[j], df[j] = EvalFormula(code, consts, theta, float64(x[0]), float64(x[1]))
			sum += f[j] - f[0]
			for k := range mdf {
				mdf[k] += df[j][k] / n
			}
		}
		// As the shader: the mean from differences to the first value, so
		// a constant f has exactly zero variance.
		m := f[0] + sum/n
		for j := range f {
			d := f[j] - m
			out.w += d * d / n / ns
			for k := range out.g {
				out.g[k] += 2 * d * df[j][k] / n / ns
				for l := range out.g {
					out.h[k][l] += 2 * (df[j][k] - mdf[k]) * (df[j][l] - mdf[l]) / n / ns
				}
			}
		}
	}
	return out
}
