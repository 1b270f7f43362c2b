package svg_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/svg"
)

// tiny is a model small enough for finite differences on the CPU: 8x8
// frames of 2 channels, two context and two predicted frames, SVG-LP with
// actions and GroupNorm; the KL weight is large so that its gradients
// count.
func tiny(family svg.Family) svg.Config {
	return svg.Config{
		ImageSize: 8, Channels: 2, Family: family, Width: 2,
		GDim: 3, ZDim: 2, RNNSize: 4, PredictorLayers: 2, PriorLayers: 1, PosteriorLayers: 1,
		NPast: 2, NFuture: 2, Norm: svg.GroupNorm, Variant: svg.LearnedPrior,
		ActionDim: 1, KLWeight: 0.5,
	}
}

func newModel(t testing.TB, cfg svg.Config) *svg.Model {
	t.Helper()
	m, err := svg.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// uniform draws n values from U(lo, hi).
func uniform(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}

// testValues are parameter values for gradient checks: U(-0.5, 0.5), far
// wider than the reference's N(0, 0.02) so that a finite-difference step
// is small beside them, with norm weights and running variances near 1.
func testValues(rng *rand.Rand, specs []nn.ParamSpec) map[string][]float32 {
	out := map[string][]float32{}
	for _, s := range specs {
		lo := -0.5
		if len(s.Shape) == 1 && (strings.Contains(s.Name, ".1.weight") || strings.HasSuffix(s.Name, "running_var")) {
			lo = 0.5
		}
		out[s.Name] = uniform(rng, graph.Shape(s.Shape).Len(), lo, lo+1)
	}
	return out
}

// testFeeds are random inputs for DeclareInputs: frames in [0, 1),
// actions in [-2, 2), N(0, 1) noise.
func testFeeds(rng *rand.Rand, m *svg.Model, batch int) map[string][]float32 {
	cfg := m.Config()
	steps := cfg.Frames() - 1
	feeds := m.Noise(rng, batch)
	feeds[svg.FramesInput] = uniform(rng, cfg.Frames()*batch*cfg.Channels*cfg.ImageSize*cfg.ImageSize, 0, 1)
	if cfg.ActionDim > 0 {
		feeds[svg.ActionsInput] = uniform(rng, steps*batch*cfg.ActionDim, -2, 2)
	}
	return feeds
}

// onCPU compiles outs and opens them on the CPU graph.Executor with values set.
func onCPU(t testing.TB, g *graph.Graph, values map[string][]float32, outs ...*graph.Node) *graph.CPUExec {
	t.Helper()
	e := graphtest.Compile(t, g, outs...).OnCPU()
	graphtest.SetParams(t, e, values)
	return e
}

// declared is a model declared in a fresh graph with its inputs.
type declared struct {
	m      *svg.Model
	g      *graph.Graph
	params []*graph.Node // the trained parameters, in the order of Params
	in     svg.Inputs
}

func declare(t testing.TB, cfg svg.Config, batch int) declared {
	t.Helper()
	m := newModel(t, cfg)
	g := graph.New()
	ps := m.Declare(g)
	return declared{m: m, g: g, params: ps[:len(m.Params())], in: m.DeclareInputs(g, batch)}
}

// predict builds the teacher-forced or rollout prediction with the given
// context.
func (d declared) predict(t testing.TB, c *nn.Context, rollout bool) *svg.Prediction {
	t.Helper()
	build := d.m.TeacherForced
	if rollout {
		build = d.m.Rollout
	}
	p, err := build(c, d.in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (d declared) loss(t testing.TB, p *svg.Prediction) *graph.Node {
	t.Helper()
	l, err := d.m.Loss(d.g, p, d.in.Frames)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
