package search

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/physics"
)

// runner runs the candidates' experiments from one trained baseline. Each
// run takes a copy of cfg with the candidate's settings; nothing is
// shared between runs but the baseline, which none of them changes.
type runner struct {
	cfg  physics.Config
	data *physics.Dataset
	base *physics.Baseline
}

// tailorSweep is the first stage of a candidate's assessment: the
// baseline tailored with formula f by one SGD step at each inner learning
// rate, scored by long-term prediction on the training trajectories (the
// paper's "training performance", and the criterion of the final choice).
// Scoring by the task loss instead (the MSE of dx/dt after the step)
// favours the smallest rates, at which tailoring does nothing. A score that
// is not finite counts as +Inf.
func (r *runner) tailorSweep(f *formulas.Expr, params map[string]float64, lrs []float64) ([]float64, error) {
	out := make([]float64, len(lrs))
	for i, lr := range lrs {
		c := r.cfg
		c.Method, c.Loss, c.LossParams = physics.Tailor, f, params
		c.Inner = noether.Tailoring{Steps: 1, LR: float32(lr)}
		rmse, err := c.Evaluate(r.data, r.base, r.data.Train)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(rmse) || math.IsInf(rmse, 0) {
			rmse = math.Inf(1)
		}
		out[i] = rmse
	}
	return out, nil
}

// metaTailor fine-tunes the baseline with formula f through one inner step
// at rate lr (Algorithm 1), checkpointing under dir, and evaluates
// long-term prediction on the training and test trajectories.
func (r *runner) metaTailor(f *formulas.Expr, params map[string]float64, lr float64, dir string) (*physics.Result, error) {
	c := r.cfg
	c.Method, c.Loss, c.LossParams = physics.MetaTailor, f, params
	c.Inner = noether.Tailoring{Steps: 1, LR: float32(lr)}
	c.Dir = dir
	return c.RunMethod(r.data, r.base)
}

// Equivalence says how close a fitted formula is to a family of the true
// conserved quantity: f is regressed on the family's terms (least squares,
// with a constant), so any affine image of a family member is recognised.
type Equivalence struct {
	Family string  `json:"family"` // "p^2 - c*cos(q)" or "q^2 + c*p^2"
	C      float64 `json:"c"`      // the family's constant implied by the fit
	// Residual is the RMS of the regression's residual relative to the
	// standard deviation of f: 0 for an exact member of the family.
	Residual float64 `json:"residual"`
}

// Equivalent is true when the regression explains f to 1e-3.
func (q Equivalence) Equivalent() bool { return q.Residual < 1e-3 }

// FamilyOf returns the conserved-quantity family of a system.
func FamilyOf(system string) (string, error) {
	switch system {
	case "pendulum", "real-pendulum":
		return "p^2 - c*cos(q)", nil
	case "spring":
		return "q^2 + c*p^2", nil
	}
	return "", fmt.Errorf("search: system %q: want spring, pendulum or real-pendulum", system)
}

// Compare regresses f (with parameter values params) over the states on
// the terms of system's family: f ~ a*u + b*v + k with (u, v) = (p^2,
// cos q) for the pendulums, c = -b/a; (q^2, p^2) for the spring, c = b/a.
func Compare(f *formulas.Expr, params map[string]float64, system string, states [][2]float64) (Equivalence, error) {
	family, err := FamilyOf(system)
	if err != nil {
		return Equivalence{}, err
	}
	terms := func(s [2]float64) (float64, float64) {
		if system == "spring" {
			return s[0] * s[0], s[1] * s[1]
		}
		return s[1] * s[1], math.Cos(s[0])
	}
	// Normal equations of the 3-term regression, on centred data (the
	// constant drops out).
	n := float64(len(states))
	var mu, mv, mf float64
	fs := make([]float64, len(states))
	for i, s := range states {
		u, v := terms(s)
		fs[i] = f.Eval(s[0], s[1], params)
		mu, mv, mf = mu+u/n, mv+v/n, mf+fs[i]/n
	}
	var suu, suv, svv, suf, svf, sff float64
	for i, s := range states {
		u, v := terms(s)
		u, v, y := u-mu, v-mv, fs[i]-mf
		suu, suv, svv, suf, svf, sff = suu+u*u, suv+u*v, svv+v*v, suf+u*y, svf+v*y, sff+y*y
	}
	det := suu*svv - suv*suv
	if !(det > 0) || !(sff > 0) {
		return Equivalence{Family: family, C: math.NaN(), Residual: math.Inf(1)}, nil
	}
	a := (suf*svv - svf*suv) / det
	b := (svf*suu - suf*suv) / det
	var sse float64
	for i, s := range states {
		u, v := terms(s)
		r := fs[i] - mf - a*(u-mu) - b*(v-mv)
		sse += r * r
	}
	q := Equivalence{Family: family, Residual: math.Sqrt(sse / sff)}
	if q.C = b / a; system != "spring" {
		q.C = -q.C
	}
	return q, nil
}

// candidateDir is where candidate i's meta-tailoring checkpoints live.
func candidateDir(root string, i int) string {
	return filepath.Join(root, fmt.Sprintf("candidate-%02d", i))
}
