package video

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/svg"
)

// Problem is Noether training on video as a noether.Problem: an SVG
// model tailored per example at the sites of Adapt against the Noether
// loss of its predictions under the embedding g_phi, scored by SVG's own
// loss. Build it with NewProblem.
//
// The noise inputs of In (SVG-LP) are graph inputs, so every pass built
// here, before and after the inner step, reads the same samples: the
// Noether code's reused epsilons.
type Problem struct {
	model *svg.Model
	embed noether.Model
	adapt svg.Adaptation
	in    svg.Inputs
	form  noether.Form
	// rollout makes the inner loss score the autoregressive prediction
	// (evaluation) instead of the teacher-forced one (training).
	rollout bool
}

// NewProblem returns the problem of model m on the inputs in. With
// rollout unset (training) the inner loss embeds the teacher-forced
// prediction and in must hold all the sequence's frames; with rollout set
// (evaluation, tailoring at prediction time) it embeds the autoregressive
// prediction, and in may hold only the context frames, so the future is
// never fed in. Task needs all frames.
func NewProblem(m *svg.Model, embed noether.Model, adapt svg.Adaptation, in svg.Inputs, form noether.Form, rollout bool) (*Problem, error) {
	cfg := m.Config()
	switch {
	case len(in.Frames) == cfg.Frames():
	case rollout && len(in.Frames) == cfg.NPast:
	default:
		return nil, fmt.Errorf("video: NewProblem: %d frames: want %d (or the %d context frames for a rollout)", len(in.Frames), cfg.Frames(), cfg.NPast)
	}
	if cfg.ActionDim > 0 && len(in.Actions) < cfg.Frames()-1 {
		return nil, fmt.Errorf("video: NewProblem: %d actions: want one per step, %d", len(in.Actions), cfg.Frames()-1)
	}
	return &Problem{model: m, embed: embed, adapt: adapt, in: in, form: form, rollout: rollout}, nil
}

// Predict builds the prediction the inner loss scores (teacher-forced or
// autoregressive, as NewProblem was told) with the parameters theta (nil:
// the graph's own) and the adapted tensors (nil: none).
func (p *Problem) Predict(g *graph.Graph, theta, adapted []*graph.Node) *svg.Prediction {
	return p.pass(g, theta, adapted, p.rollout)
}

func (p *Problem) pass(g *graph.Graph, theta, adapted []*graph.Node, rollout bool) *svg.Prediction {
	build := p.model.TeacherForced
	if rollout {
		build = p.model.Rollout
	}
	var bound map[string]*graph.Node
	if adapted != nil {
		bound = p.adapt.Bind(adapted)
	}
	pred, err := build(p.model.Context(g, theta, bound), p.in)
	if pred == nil {
		// NewProblem checked the inputs' lengths; shapes are the graph's
		// to report, and it keeps any error it met (g.Err).
		panic(fmt.Sprintf("video: building the SVG pass: %v", err))
	}
	return pred
}

// Inner implements noether.Problem: the Noether loss per example of the
// prediction's consecutive frame pairs.
func (p *Problem) Inner(g *graph.Graph, theta, adapted, phi []*graph.Node) *graph.Node {
	return NoetherLoss(g, p.embed, phi, p.Predict(g, theta, adapted).Frames, p.form)
}

// Task implements noether.Problem: SVG's loss (the summed frame MSEs, and
// the KL for SVG-LP) of the teacher-forced prediction.
func (p *Problem) Task(g *graph.Graph, theta, adapted []*graph.Node) *graph.Node {
	pred := p.pass(g, theta, adapted, false)
	loss, err := p.model.Loss(g, pred, p.in.Frames)
	if loss == nil {
		panic(fmt.Sprintf("video: Task: %v (it needs all the sequence's frames)", err))
	}
	return loss
}
