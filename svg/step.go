package svg

import (
	"errors"
	"fmt"
	"slices"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// Carry is what one step hands the next: the three LSTMs' states and the
// skips the decoder uses.
type Carry struct {
	Predictor, Prior, Posterior nn.LSTMState
	Skips                       []*graph.Node // finest first; nil before the first step
}

// Start returns the carry at the start of a sequence of batch examples:
// zero LSTM states and no skips.
func (m *Model) Start(g *graph.Graph, batch int) Carry {
	c := Carry{Predictor: m.predictor.ZeroState(g, batch)}
	if m.cfg.hasZ() {
		c.Prior = m.prior.ZeroState(g, batch)
		c.Posterior = m.posterior.ZeroState(g, batch)
	}
	return c
}

// StepInputs are one step's inputs. Frames are [B, C, S, S], actions
// [B, ActionDim], noise [B, ZDim].
type StepInputs struct {
	// Index is i: the step predicts frame i from frame i-1 (i >= 1).
	Index int
	// Input is frame i-1: ground truth, or in a rollout past the context
	// the previous prediction.
	Input *graph.Node
	// Target is the ground-truth frame i, which the posterior encodes; nil
	// runs no posterior (FromPrior must then be set). Unused by the
	// deterministic variant.
	Target *graph.Node
	// Action is the action applied at frame i-1 (ActionDim > 0 only).
	Action *graph.Node
	// PriorEps and PosteriorEps are the N(0, 1) noise of the prior's and
	// the posterior's reparameterised samples. PriorEps may be nil unless
	// FromPrior is set (the prior then only runs for the KL);
	// PosteriorEps is needed with a Target. LearnedPrior only.
	PriorEps, PosteriorEps *graph.Node
	// FromPrior draws z from the prior instead of the posterior.
	FromPrior bool
}

// StepOutputs are one step's results.
type StepOutputs struct {
	Frame *graph.Node // the decoded prediction of frame i
	// Mu and LogVar are the posterior's (nil without a Target); PriorMu
	// and PriorLogVar the prior's. All nil in the deterministic variant.
	Mu, LogVar, PriorMu, PriorLogVar *graph.Node
}

// Step builds step i of the reference's SVGModel.forward: encode frame
// i-1 (h and skips), take the skips if i < NPast (or at every step with
// EveryStepSkips), run the prior on h and the posterior on the encoded
// target, feed [h, z, action] to the predictor (whose layers read their
// hidden state plus the latent offsets in c.Adapted), and decode its
// output with the carried skips.
//
// With c.Train set, BatchNorm normalises with the batch statistics and
// Step chains the running statistics as PyTorch's successive calls do:
// after every encoder or decoder application it puts the updated ones
// (c.NewState) in c.Params, where the next application reads them.
func (m *Model) Step(c *nn.Context, carry Carry, in StepInputs) (StepOutputs, Carry, error) {
	out, next, err := m.step(c, carry, in)
	if err != nil {
		return out, carry, fmt.Errorf("svg: Step %d: %w", in.Index, err)
	}
	return out, next, nil
}

// step is Step with errors that do not name the call.
func (m *Model) step(c *nn.Context, carry Carry, in StepInputs) (StepOutputs, Carry, error) {
	var out StepOutputs
	if err := m.checkStep(in); err != nil {
		return out, carry, err
	}
	g := c.Graph
	h, skips := m.enc.encode(c, EncoderScope, in.Input)
	chainState(c)
	if m.cfg.Skips == EveryStepSkips || in.Index < m.cfg.NPast {
		carry.Skips = skips
	}
	if carry.Skips == nil {
		return out, carry, fmt.Errorf("no skips: with context skips only the steps i < NPast = %d set them, and the carry has none from an earlier step", m.cfg.NPast)
	}
	parts := []*graph.Node{h}
	if m.cfg.hasZ() {
		parts = append(parts, m.latent(c, h, in, &out, &carry))
	}
	if m.cfg.ActionDim > 0 {
		parts = append(parts, in.Action)
	}
	var code *graph.Node
	code, carry.Predictor = m.predict(c, g.Concat(1, parts...), carry.Predictor)
	out.Frame = m.dec.decode(c, DecoderScope, code, carry.Skips)
	chainState(c)
	return out, carry, g.Err()
}

// latent runs the posterior on the encoded target (if any) and the prior
// on h, records their statistics in out and their states in carry, and
// returns the z the step uses.
func (m *Model) latent(c *nn.Context, h *graph.Node, in StepInputs, out *StepOutputs, carry *Carry) *graph.Node {
	var z *graph.Node
	if in.Target != nil {
		hTarget, _ := m.enc.encode(c, EncoderScope, in.Target)
		chainState(c)
		z, out.Mu, out.LogVar, carry.Posterior = m.posterior.Step(c, PosteriorScope, hTarget, in.PosteriorEps, carry.Posterior)
	}
	eps := in.PriorEps
	if eps == nil { // the prior's sample is not used
		eps = c.Graph.Fill(0, h.Shape()[0], m.cfg.ZDim)
	}
	zPrior, mu, logvar, next := m.prior.Step(c, PriorScope, h, eps, carry.Prior)
	out.PriorMu, out.PriorLogVar, carry.Prior = mu, logvar, next
	if in.FromPrior {
		return zPrior
	}
	return z
}

// predict advances the predictor on x, each layer reading its hidden
// state plus its latent offset from c.Adapted (none: the state itself).
func (m *Model) predict(c *nn.Context, x *graph.Node, st nn.LSTMState) (*graph.Node, nn.LSTMState) {
	read := nn.LSTMState{H: slices.Clone(st.H), C: st.C}
	for l := range read.H {
		read.H[l] = c.AddOffset(m.layerScope(l), read.H[l])
	}
	return m.predictor.Step(c, PredictorScope, x, read)
}

// checkStep reports inputs of the wrong shape or missing for the
// configuration.
func (m *Model) checkStep(in StepInputs) error {
	cfg := m.cfg
	if in.Index < 1 {
		return errors.New("the step index must be at least 1 (step i predicts frame i)")
	}
	if in.Input == nil {
		return errors.New("no input frame")
	}
	s := in.Input.Shape()
	if len(s) != 4 || s[1] != cfg.Channels || s[2] != cfg.ImageSize || s[3] != cfg.ImageSize {
		return fmt.Errorf("input frame %v, want Bx%dx%dx%d", s, cfg.Channels, cfg.ImageSize, cfg.ImageSize)
	}
	batch := s[0]
	same := func(what string, n *graph.Node, want ...int) error {
		if !slices.Equal(n.Shape(), want) {
			return fmt.Errorf("%s %v, want %v", what, n.Shape(), graph.Shape(want))
		}
		return nil
	}
	if cfg.ActionDim > 0 {
		if in.Action == nil {
			return fmt.Errorf("no action (the model is action-conditioned, ActionDim %d)", cfg.ActionDim)
		}
		if err := same("action", in.Action, batch, cfg.ActionDim); err != nil {
			return err
		}
	} else if in.Action != nil {
		return errors.New("an action, but the model has ActionDim 0")
	}
	if !cfg.hasZ() {
		return nil
	}
	if in.Target != nil {
		if err := same("target frame", in.Target, s...); err != nil {
			return err
		}
		if in.PosteriorEps == nil {
			return errors.New("a target but no posterior noise")
		}
		if err := same("posterior noise", in.PosteriorEps, batch, cfg.ZDim); err != nil {
			return err
		}
	} else if !in.FromPrior {
		return errors.New("z from the posterior, but no target frame for it")
	}
	if in.FromPrior && in.PriorEps == nil {
		return errors.New("z from the prior, but no prior noise")
	}
	if in.PriorEps != nil {
		return same("prior noise", in.PriorEps, batch, cfg.ZDim)
	}
	return nil
}

// chainState makes the running statistics that a training application
// just updated the ones the next application reads.
func chainState(c *nn.Context) {
	if !c.Train || len(c.NewState) == 0 {
		return
	}
	if c.Params == nil {
		c.Params = make(map[string]*graph.Node, len(c.NewState))
	}
	for name, n := range c.NewState {
		c.Params[name] = n
	}
}
