package noether

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
)

// Problem is what tailoring adapts against and what meta-training
// scores, as functions of the model's shared parameters theta, the
// per-example adapted tensors (see Adaptation) and the embedding's
// parameters phi.
type Problem interface {
	// Inner returns the unsupervised loss per example, [B]: the Noether
	// loss of the model's predictions under the embedding.
	Inner(g *graph.Graph, theta, adapted, phi []*graph.Node) *graph.Node
	// Task returns the scalar task loss of the tailored model.
	Task(g *graph.Graph, theta, adapted []*graph.Node) *graph.Node
}

// Adaptation says what tailoring adapts per example.
type Adaptation interface {
	// Start returns the adapted tensors before the inner steps.
	Start(g *graph.Graph, theta []*graph.Node, batch int) []*graph.Node
	// Fold returns the gradient with respect to theta that flows through
	// Start, given u, the gradient with respect to its result; nil when
	// Start does not depend on theta.
	Fold(g *graph.Graph, theta, u []*graph.Node) []*graph.Node
}

// InnerOpt is the inner (tailoring) optimiser.
type InnerOpt int

const (
	InnerSGD InnerOpt = iota
	// InnerAdam is Adam from fresh moments on each prediction, bias
	// corrected (so its first step moves every coordinate by about lr).
	InnerAdam
)

// MetaGrad is how the outer gradient passes through the inner update.
type MetaGrad int

const (
	// ForwardOverReverse pushes the task-loss gradient at the adapted
	// parameters forward through the inner gradient's graph, giving the
	// exact second-order terms (the README's "How it is built"); SGD inner steps only.
	ForwardOverReverse MetaGrad = iota
	// Reverse differentiates the whole unrolled inner optimisation in
	// reverse mode again (reverse over reverse); exact, any optimiser.
	Reverse
	// FirstOrder treats the inner gradient as a constant: the model gets
	// the gradient at its adapted parameters and the embedding none.
	FirstOrder
)

func (m MetaGrad) String() string {
	return [...]string{"forward-over-reverse", "reverse", "first-order"}[m]
}

// ParseMetaGrad reads a MetaGrad's String form.
func ParseMetaGrad(s string) (MetaGrad, error) {
	for m := ForwardOverReverse; m <= FirstOrder; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("noether: meta-gradient %q: want forward-over-reverse, reverse or first-order", s)
}

// Tailoring configures the inner optimisation.
type Tailoring struct {
	Steps    int     // inner steps (0: no tailoring)
	LR       float32 // inner learning rate
	Opt      InnerOpt
	MetaGrad MetaGrad
	// Adam's constants for InnerAdam (0: 0.9, 0.999, 1e-8).
	Beta1, Beta2, Eps float32
}

func (t Tailoring) check() error {
	if t.Steps < 0 || !(t.LR >= 0) {
		return fmt.Errorf("noether: tailoring: %d steps at lr %v (want >= 0)", t.Steps, t.LR)
	}
	if t.MetaGrad == ForwardOverReverse && t.Opt != InnerSGD && t.Steps > 0 {
		return fmt.Errorf("noether: tailoring: the forward-over-reverse meta-gradient needs SGD inner steps; use the reverse meta-gradient with Adam")
	}
	return nil
}

// innerStep records one inner update and what the meta-gradient needs.
type innerStep struct {
	a, gA, gTheta, gPhi []*graph.Node
}

// tailor builds the inner optimisation from the adapted tensors a: it
// returns them after t.Steps steps against p.Inner, and the steps taken.
func tailor(g *graph.Graph, p Problem, theta, a, phi []*graph.Node, t Tailoring) ([]*graph.Node, []innerStep) {
	var steps []innerStep
	var m, v []*graph.Node
	b1, b2, eps := t.Beta1, t.Beta2, t.Eps
	if b1 == 0 && b2 == 0 && eps == 0 {
		b1, b2, eps = 0.9, 0.999, 1e-8
	}
	cur := a
	for s := 1; s <= t.Steps; s++ {
		if t.MetaGrad != Reverse {
			// Each step's gradients are partial derivatives at that
			// step's tensors, so the meta-gradient can chain the steps
			// without differentiating earlier steps' backward graphs.
			leaves := make([]*graph.Node, len(cur))
			for i := range cur {
				leaves[i] = g.StopGradient(cur[i])
			}
			cur = leaves
		}
		// The batch sum keeps each example's gradient its own.
		inner := g.Sum(p.Inner(g, theta, cur, phi))
		wrt := append(append(append([]*graph.Node(nil), cur...), theta...), phi...)
		grads := g.Grad(inner, wrt...)
		st := innerStep{a: cur, gA: grads[:len(cur)], gTheta: grads[len(cur) : len(cur)+len(theta)], gPhi: grads[len(cur)+len(theta):]}
		steps = append(steps, st)
		next := make([]*graph.Node, len(cur))
		for i, th := range cur {
			gr := st.gA[i]
			switch t.Opt {
			case InnerSGD:
				next[i] = g.Sub(th, g.Scale(gr, t.LR))
			case InnerAdam:
				if m == nil {
					m, v = make([]*graph.Node, len(cur)), make([]*graph.Node, len(cur))
				}
				if s == 1 {
					m[i] = g.Scale(gr, 1-b1)
					v[i] = g.Scale(g.Square(gr), 1-b2)
				} else {
					m[i] = g.Add(g.Scale(m[i], b1), g.Scale(gr, 1-b1))
					v[i] = g.Add(g.Scale(v[i], b2), g.Scale(g.Square(gr), 1-b2))
				}
				mh := g.Scale(m[i], float32(1/(1-pow(b1, s))))
				vh := g.Scale(v[i], float32(1/(1-pow(b2, s))))
				next[i] = g.Sub(th, g.Scale(g.Div(mh, g.AddScalar(g.Sqrt(vh), eps)), t.LR))
			}
		}
		cur = next
	}
	return cur, steps
}

func pow(x float32, n int) float64 {
	r := 1.0
	for range n {
		r *= float64(x)
	}
	return r
}

// Meta builds one meta-training objective: per-example tensors start as
// ad.Start says, are tailored against p.Inner and scored by p.Task. It
// returns the task loss and its gradients with respect to theta and phi
// through the inner update, computed as t.MetaGrad says.
func Meta(g *graph.Graph, p Problem, ad Adaptation, theta, phi []*graph.Node, batch int, t Tailoring) (loss *graph.Node, dTheta, dPhi []*graph.Node, err error) {
	if err := t.check(); err != nil {
		return nil, nil, nil, err
	}
	a0 := ad.Start(g, theta, batch)
	if t.MetaGrad == Reverse || t.Steps == 0 {
		adapted, _ := tailor(g, p, theta, a0, phi, t)
		loss = p.Task(g, theta, adapted)
		grads := g.Grad(loss, append(append([]*graph.Node(nil), theta...), phi...)...)
		return loss, grads[:len(theta)], grads[len(theta):], g.Err()
	}
	// theta reaches the task loss directly, through the inner gradients
	// and through Start; each part is added separately.
	start := make([]*graph.Node, len(a0))
	for i := range a0 {
		start[i] = g.StopGradient(a0[i])
	}
	adapted, steps := tailor(g, p, theta, start, phi, t)
	final := make([]*graph.Node, len(adapted))
	for i := range adapted {
		final[i] = g.StopGradient(adapted[i])
	}
	loss = p.Task(g, theta, final)
	grads := g.Grad(loss, append(append([]*graph.Node(nil), final...), theta...)...)
	u, dTheta := grads[:len(final)], grads[len(final):]
	dPhi = make([]*graph.Node, len(phi))
	add := func(acc, x *graph.Node) *graph.Node {
		if acc == nil {
			return x
		}
		return g.Add(acc, x)
	}
	if t.MetaGrad == ForwardOverReverse {
		// Walk the steps backwards: a_{s+1} = a_s - lr grad_a L_N gives
		// dL/da_s = u - lr H_aa u, dL/dtheta += -lr H_theta,a u and
		// dL/dphi += -lr H_phi,a u, all from one JVP of the step's
		// gradients with tangent u on a_s.
		for s := len(steps) - 1; s >= 0; s-- {
			st := steps[s]
			tan := map[*graph.Node]*graph.Node{}
			for i, x := range st.a {
				tan[x] = u[i]
			}
			outs := append(append(append([]*graph.Node(nil), st.gA...), st.gTheta...), st.gPhi...)
			hv := g.JVP(outs, tan)
			next := make([]*graph.Node, len(u))
			for i := range u {
				next[i] = u[i]
				if h := hv[i]; h != nil {
					next[i] = g.Sub(u[i], g.Scale(h, t.LR))
				}
			}
			for i := range theta {
				if h := hv[len(u)+i]; h != nil {
					dTheta[i] = g.Sub(dTheta[i], g.Scale(h, t.LR))
				}
			}
			for i := range phi {
				if h := hv[len(u)+len(theta)+i]; h != nil {
					dPhi[i] = add(dPhi[i], g.Scale(h, -t.LR))
				}
			}
			u = next
		}
	}
	if fold := ad.Fold(g, theta, u); fold != nil {
		for i := range theta {
			dTheta[i] = g.Add(dTheta[i], fold[i])
		}
	}
	for i, ph := range phi {
		if dPhi[i] == nil {
			dPhi[i] = g.Fill(0, ph.Shape()...)
		}
	}
	return loss, dTheta, dPhi, g.Err()
}

// Predict returns the tailored per-example tensors for a batch: started
// by ad, adapted by t (no meta-gradient is built).
func Predict(g *graph.Graph, p Problem, ad Adaptation, theta, phi []*graph.Node, batch int, t Tailoring) ([]*graph.Node, error) {
	t.MetaGrad = Reverse // no meta-gradient, so no partial-derivative copies
	if err := t.check(); err != nil {
		return nil, err
	}
	adapted, _ := tailor(g, p, theta, ad.Start(g, theta, batch), phi, t)
	return adapted, g.Err()
}
