package svg

import (
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/graph"
)

// The graph inputs DeclareInputs adds: time-major, as the reference's
// batches after normalize_data, so that a batch of sequences is one
// buffer per kind. T is Config.Frames().
const (
	FramesInput       = "frames"        // [T, B, C, S, S]
	ActionsInput      = "actions"       // [T-1, B, ActionDim]; ActionDim > 0
	PriorEpsInput     = "eps_prior"     // [T-1, B, ZDim]; LearnedPrior
	PosteriorEpsInput = "eps_posterior" // [T-1, B, ZDim]; LearnedPrior
)

// DeclareInputs adds the graph inputs of a batch of batch sequences that
// the configuration uses and returns them split into steps.
func (m *Model) DeclareInputs(g *graph.Graph, batch int) Inputs {
	cfg := m.cfg
	steps := cfg.Frames() - 1
	in := Inputs{Frames: SplitTime(g, g.Input(FramesInput, cfg.Frames(), batch, cfg.Channels, cfg.ImageSize, cfg.ImageSize))}
	if cfg.ActionDim > 0 {
		in.Actions = SplitTime(g, g.Input(ActionsInput, steps, batch, cfg.ActionDim))
	}
	if cfg.hasZ() {
		in.PriorEps = SplitTime(g, g.Input(PriorEpsInput, steps, batch, cfg.ZDim))
		in.PosteriorEps = SplitTime(g, g.Input(PosteriorEpsInput, steps, batch, cfg.ZDim))
	}
	return in
}

// SplitTime splits a time-major node [T, B, ...] into T nodes [B, ...].
func SplitTime(g *graph.Graph, x *graph.Node) []*graph.Node {
	s := x.Shape()
	ones := make([]int, s[0])
	for i := range ones {
		ones[i] = 1
	}
	parts := g.Split(x, 0, ones...)
	for i, p := range parts {
		parts[i] = g.Reshape(p, s[1:]...)
	}
	return parts
}

// Noise draws N(0, 1) feeds for the noise inputs of DeclareInputs (none
// for the deterministic variant). Feeding the same values to every pass
// of a meta-training step reuses the samples across the inner step.
func (m *Model) Noise(rng *rand.Rand, batch int) map[string][]float32 {
	feeds := map[string][]float32{}
	if !m.cfg.hasZ() {
		return feeds
	}
	n := (m.cfg.Frames() - 1) * batch * m.cfg.ZDim
	for _, name := range []string{PriorEpsInput, PosteriorEpsInput} {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		feeds[name] = v
	}
	return feeds
}
