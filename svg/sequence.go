package svg

import (
	"fmt"
	"maps"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// Inputs are a batch of sequences as per-step nodes (DeclareInputs makes
// them from time-major graph inputs). T is Config.Frames().
type Inputs struct {
	// Frames are x_0 .. x_{T-1}, [B, C, S, S] each. A Rollout may have
	// only the NPast context frames (pure generation: no posterior after
	// the context, no KL).
	Frames []*graph.Node
	// Actions are a_0 .. a_{T-2}, [B, ActionDim]: a_t is applied at frame
	// t and leads to frame t+1 (ActionDim > 0 only).
	Actions []*graph.Node
	// PriorEps and PosteriorEps are the N(0, 1) noise of step i at index
	// i-1, [B, ZDim] (LearnedPrior only). Teacher forcing needs no prior
	// noise; a rollout needs both, the posterior's for the steps with a
	// target. The same nodes before and after an inner step give the same
	// samples, as the Noether code's reused epsilons.
	PriorEps, PosteriorEps []*graph.Node
}

// Prediction is a predicted batch of sequences.
type Prediction struct {
	// Frames are gen_0 .. gen_{T-1}: the ground truth for t < NPast, the
	// decoded predictions after, as the reference's gen_seq. A Noether
	// inner loss embeds these.
	Frames []*graph.Node
	// Mu, LogVar (the posterior's, for the steps with a target) and
	// PriorMu, PriorLogVar (every step) hold step i at index i-1
	// (LearnedPrior only).
	Mu, LogVar, PriorMu, PriorLogVar []*graph.Node
	// KL is the sum over steps of KL(posterior || prior), summed over z
	// and averaged over the batch (the reference's svg_kl_crit): a
	// scalar, nil without a target at every step or without z.
	KL *graph.Node
}

// TeacherForced builds the reference's training pass (predict_many_steps
// in 'train' mode): for i = 1 .. T-1, encode the ground truth x_{i-1}
// (skips from the steps i < NPast), draw z from the posterior on x_i, run
// the prior on x_{i-1} for the KL, and decode. The prediction's frames
// are the context's ground truth followed by the decoded frames NPast ..
// T-1 (the decoded frames of the context steps are not used, as in the
// reference). c.Adapted holds the tailored sites; with c.Train set,
// c.NewState receives the final running statistics (Step).
func (m *Model) TeacherForced(c *nn.Context, in Inputs) (*Prediction, error) {
	return m.sequence(c, in, false)
}

// Rollout builds the reference's evaluation pass (predict_many_steps in
// 'eval' mode): the context steps i < NPast take z from the posterior on
// the ground truth; later steps take it from the prior and predict from
// their own previous prediction. With all T frames given, the posterior
// still encodes every ground-truth frame for the KL, as the reference
// does, but its z drives only the context steps.
func (m *Model) Rollout(c *nn.Context, in Inputs) (*Prediction, error) {
	return m.sequence(c, in, true)
}

func (m *Model) sequence(c *nn.Context, in Inputs, rollout bool) (*Prediction, error) {
	name := "TeacherForced"
	if rollout {
		name = "Rollout"
	}
	if err := m.checkInputs(in, rollout); err != nil {
		return nil, fmt.Errorf("svg: %s: %w", name, err)
	}
	// The caller's Params stay untouched by the running statistics'
	// chaining.
	sc := *c
	sc.Params = maps.Clone(c.Params)
	cfg := m.cfg
	at := func(xs []*graph.Node, i int) *graph.Node {
		if i < len(xs) {
			return xs[i]
		}
		return nil
	}
	p := &Prediction{Frames: []*graph.Node{in.Frames[0]}}
	carry := m.Start(c.Graph, in.Frames[0].Shape()[0])
	for i := 1; i < cfg.Frames(); i++ {
		// Teacher forcing predicts from the ground truth, the rollout from
		// its own frames (the ground truth within the context).
		source := in.Frames
		if rollout {
			source = p.Frames
		}
		step := StepInputs{
			Index:        i,
			Input:        source[i-1],
			Target:       at(in.Frames, i),
			Action:       at(in.Actions, i-1),
			PriorEps:     at(in.PriorEps, i-1),
			PosteriorEps: at(in.PosteriorEps, i-1),
			FromPrior:    rollout && i >= cfg.NPast,
		}
		out, next, err := m.step(&sc, carry, step)
		if err != nil {
			return nil, fmt.Errorf("svg: %s: step %d: %w", name, i, err)
		}
		carry = next
		if i < cfg.NPast {
			p.Frames = append(p.Frames, in.Frames[i])
		} else {
			p.Frames = append(p.Frames, out.Frame)
		}
		if out.Mu != nil {
			p.Mu, p.LogVar = append(p.Mu, out.Mu), append(p.LogVar, out.LogVar)
		}
		if out.PriorMu != nil {
			p.PriorMu, p.PriorLogVar = append(p.PriorMu, out.PriorMu), append(p.PriorLogVar, out.PriorLogVar)
		}
	}
	if cfg.hasZ() && len(p.Mu) == cfg.Frames()-1 {
		g := c.Graph
		kls := make([]*graph.Node, len(p.Mu))
		for i := range p.Mu {
			kls[i] = g.GaussianKL(p.Mu[i], p.LogVar[i], p.PriorMu[i], p.PriorLogVar[i])
		}
		p.KL = sum(g, kls)
	}
	c.NewState = sc.NewState
	return p, c.Graph.Err()
}

// checkInputs reports a sequence whose lengths do not fit the
// configuration (Step checks the shapes).
func (m *Model) checkInputs(in Inputs, rollout bool) error {
	cfg := m.cfg
	steps := cfg.Frames() - 1
	switch {
	case len(in.Frames) == cfg.Frames():
	case rollout && len(in.Frames) == cfg.NPast:
	case rollout:
		return fmt.Errorf("%d frames: want the %d context frames, or all %d for the KL", len(in.Frames), cfg.NPast, cfg.Frames())
	default:
		return fmt.Errorf("%d frames: want NPast + NFuture = %d", len(in.Frames), cfg.Frames())
	}
	if cfg.ActionDim > 0 && len(in.Actions) < steps {
		return fmt.Errorf("%d actions: want one per step, %d", len(in.Actions), steps)
	}
	if !cfg.hasZ() {
		return nil
	}
	if targets := len(in.Frames) - 1; len(in.PosteriorEps) < targets {
		return fmt.Errorf("%d posterior noise tensors: want one per step with a target, %d", len(in.PosteriorEps), targets)
	}
	if rollout && len(in.PriorEps) < steps {
		return fmt.Errorf("%d prior noise tensors: want one per step, %d", len(in.PriorEps), steps)
	}
	return nil
}

// Loss is the reference's outer loss (svg_crit) of p against the ground
// truth frames: the sum over t >= 1 of the mean squared error of gen_t,
// where the context frames are the ground truth itself and add 0, plus
// KLWeight times p.KL (LearnedPrior).
func (m *Model) Loss(g *graph.Graph, p *Prediction, frames []*graph.Node) (*graph.Node, error) {
	cfg := m.cfg
	if len(frames) != cfg.Frames() || len(p.Frames) != cfg.Frames() {
		return nil, fmt.Errorf("svg: Loss: %d predicted and %d true frames, want %d", len(p.Frames), len(frames), cfg.Frames())
	}
	if cfg.hasZ() && p.KL == nil {
		return nil, fmt.Errorf("svg: Loss: the prediction has no KL (its posterior had no target at every step)")
	}
	var terms []*graph.Node
	for t := cfg.NPast; t < cfg.Frames(); t++ {
		terms = append(terms, g.MSE(p.Frames[t], frames[t]))
	}
	loss := sum(g, terms)
	if cfg.hasZ() {
		loss = g.Add(loss, g.Scale(p.KL, cfg.KLWeight))
	}
	return loss, g.Err()
}

// sum adds scalar terms, in order.
func sum(g *graph.Graph, terms []*graph.Node) *graph.Node {
	total := terms[0]
	for _, t := range terms[1:] {
		total = g.Add(total, t)
	}
	return total
}
