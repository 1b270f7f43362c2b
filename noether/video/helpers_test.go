package video_test

import (
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/svg"
)

// tinySVG is an SVG small enough for finite differences on the CPU: 8x8
// RGB frames, two context and two predicted frames, SVG-LP (so that there
// is noise to reuse) with actions and GroupNorm; the KL weight is large so
// that its gradients count.
func tinySVG(family svg.Family) svg.Config {
	return svg.Config{
		ImageSize: 8, Channels: 3, Family: family, Width: 2,
		GDim: 3, ZDim: 2, RNNSize: 4, PredictorLayers: 2, PriorLayers: 1, PosteriorLayers: 1,
		NPast: 2, NFuture: 2, Norm: svg.GroupNorm, Variant: svg.LearnedPrior,
		ActionDim: 1, KLWeight: 0.5,
	}
}

// uniform draws n values from U(lo, hi).
func uniform(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}

// wideValues are parameter values for gradient checks: U(-0.5, 0.5), far
// wider than the initialisations so that a finite-difference step is
// small beside them, with norm weights near 1.
func wideValues(rng *rand.Rand, specs []nn.ParamSpec) map[string][]float32 {
	out := map[string][]float32{}
	for _, s := range specs {
		lo := -0.5
		if len(s.Shape) == 1 && s.Name[len(s.Name)-len(".1.weight"):] == ".1.weight" {
			lo = 0.5
		}
		out[s.Name] = uniform(rng, graph.Shape(s.Shape).Len(), lo, lo+1)
	}
	return out
}

// feedsFor are random inputs for svg.Model.DeclareInputs: frames in
// [0, 1), actions in [-2, 2), N(0, 1) noise.
func feedsFor(rng *rand.Rand, m *svg.Model, batch int) map[string][]float32 {
	cfg := m.Config()
	feeds := m.Noise(rng, batch)
	feeds[svg.FramesInput] = uniform(rng, cfg.Frames()*batch*cfg.Channels*cfg.ImageSize*cfg.ImageSize, 0, 1)
	feeds[svg.ActionsInput] = uniform(rng, (cfg.Frames()-1)*batch*cfg.ActionDim, -2, 2)
	return feeds
}

// onCPU compiles outs and opens them on the CPU executor with values set.
func onCPU(t testing.TB, g *graph.Graph, values map[string][]float32, outs ...*graph.Node) graph.Executor {
	t.Helper()
	e := graphtest.Compile(t, g, outs...).OnCPU()
	graphtest.SetParams(t, e, values)
	return e
}

// shifted is v + s*dir.
func shifted(v, dir []float32, s float32) []float32 {
	out := make([]float32, len(v))
	for i := range v {
		out[i] = v[i] + s*dir[i]
	}
	return out
}
