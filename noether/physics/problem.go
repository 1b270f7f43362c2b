package physics

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/noether"
)

// Embedding is a conservation embedding g_phi: a neural network (an MLP)
// or a formula with trainable parameters.
type Embedding interface {
	Params() []nn.ParamSpec
	// Apply maps states x [B, D] to embeddings [B, K], each row from its
	// own state alone (StepProblem embeds two batches stacked as one).
	Apply(g *graph.Graph, phi []*graph.Node, x *graph.Node) *graph.Node
}

// StepScheme is the pair of states whose embeddings the physics Noether
// loss compares, both made from one evaluation of the field f at x.
type StepScheme int

const (
	// CentralStep compares x - f(x) dt/2 and x + f(x) dt/2. The
	// difference is dt grad g(x).f(x) + O(dt^3); for a quadratic g, as the
	// spring's energy, the O(dt^3) term is zero, so the true field has
	// zero loss. The default: tailoring with it improves rollouts where
	// ForwardStep's degrades them (see the README's results).
	CentralStep StepScheme = iota
	// ForwardStep compares x and x + f(x) dt, as the paper's code does.
	// It is biased: even the true field changes a conserved g along the
	// step, by about dt^2/2 f'(Hess g)f, so tailoring pulls f off the truth
	// (for the spring it adds a damping term).
	ForwardStep
)

func (s StepScheme) String() string {
	if s == ForwardStep {
		return "forward"
	}
	return "central"
}

// ParseStepScheme reads "central" or "forward".
func ParseStepScheme(s string) (StepScheme, error) {
	switch s {
	case "central", "midpoint":
		return CentralStep, nil
	case "forward", "euler":
		return ForwardStep, nil
	}
	return 0, fmt.Errorf("physics: step scheme %q: want central (x - f dt/2, x + f dt/2) or forward (x, x + f dt; the paper's)", s)
}

// StepProblem is the paper's physics setting: the model predicts dx/dt
// from the state, the Noether loss is applied to a finite-difference step
// of the predicted field (Scheme), and the task loss is the MSE of dx/dt.
type StepProblem struct {
	Adapt  noether.ModelAdaptation
	Embed  Embedding
	DT     float32
	Scheme StepScheme
	X, Y   *graph.Node // states [B, D] and their derivatives
}

// Inner implements Problem.
func (p *StepProblem) Inner(g *graph.Graph, theta, adapted, phi []*graph.Node) *graph.Node {
	f := p.Adapt.Apply(g, theta, adapted, p.X)
	from, to := p.X, g.Add(p.X, g.Scale(f, p.DT))
	if p.Scheme == CentralStep {
		half := g.Scale(f, p.DT/2)
		from, to = g.Sub(p.X, half), g.Add(p.X, half)
	}
	// Both states go through g_phi as one stacked batch: half the
	// dispatches of two passes, in every derivative of the step too. With
	// two embeddings the forms 2a and 2b are the same loss.
	b := from.Shape()[0]
	embeds := g.Split(p.Embed.Apply(g, phi, g.Concat(0, from, to)), 0, b, b)
	return noether.Loss(g, embeds, noether.FromStart)
}

// Task implements Problem. Generic ops (not the fused loss kernel) keep
// every meta-gradient mode available.
func (p *StepProblem) Task(g *graph.Graph, theta, adapted []*graph.Node) *graph.Node {
	return g.Mean(g.Square(g.Sub(p.Adapt.Apply(g, theta, adapted, p.X), p.Y)))
}
