package physics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/noether"
)

// tinyMeta builds a tiny meta-training objective: a 2-16-16-2 model (wide
// enough that the per-example weights of AdaptAll are reassociated, see
// graph/reassoc.go), a 2-3-2
// embedding, batch 3.
func tinyMeta(t *testing.T, tl noether.Tailoring, cn bool, scheme StepScheme) (*graph.Graph, *graph.Node, []*graph.Node, []*graph.Node, []*graph.Node, map[string][]float32, map[string][]float32) {
	t.Helper()
	g := graph.New()
	model := NewMLP("f", []int{2, 16, 16, 2}, false)
	emb := NewMLP("g", []int{2, 3, 2}, true)
	x, y := g.Input("x", 3, 2), g.Input("y", 3, 2)
	var ad noether.ModelAdaptation = noether.AdaptAll{Model: model}
	if cn {
		ad = noether.AdaptSites{Model: model}
	}
	theta, phi := nn.Declare(g, model.Params()), nn.Declare(g, emb.Params())
	p := &StepProblem{Adapt: ad, Embed: emb, DT: 0.5, Scheme: scheme, X: x, Y: y}
	loss, dth, dph, err := noether.Meta(g, p, ad, theta, phi, 3, tl)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 9))
	params := nn.Init(rng, model.Params())
	for k, v := range nn.Init(rng, emb.Params()) {
		params[k] = v
	}
	feeds := map[string][]float32{"x": make([]float32, 6), "y": make([]float32, 6)}
	for _, k := range []string{"x", "y"} {
		for i := range feeds[k] {
			feeds[k][i] = float32(2*rng.Float64() - 1)
		}
	}
	return g, loss, theta, phi, append(dth, dph...), params, feeds
}

// TestMetaGradient: the meta-gradient through one and two inner SGD steps,
// by forward-over-reverse and by reverse-over-reverse, equals central
// finite differences of the outer loss taken through the inner update, for
// the model's and the embedding's parameters, with either step scheme;
// first order differs.
func TestMetaGradient(t *testing.T) {
	for _, c := range []struct {
		cn     bool
		steps  int
		mg     noether.MetaGrad
		scheme StepScheme
	}{
		{false, 1, noether.ForwardOverReverse, CentralStep}, {false, 1, noether.Reverse, CentralStep}, {false, 1, noether.FirstOrder, CentralStep},
		{false, 2, noether.ForwardOverReverse, CentralStep}, {false, 2, noether.Reverse, CentralStep}, {false, 2, noether.FirstOrder, CentralStep},
		{true, 1, noether.ForwardOverReverse, CentralStep}, {true, 1, noether.Reverse, CentralStep}, {true, 1, noether.FirstOrder, CentralStep},
		{true, 2, noether.ForwardOverReverse, CentralStep}, {true, 2, noether.Reverse, CentralStep},
		{false, 1, noether.ForwardOverReverse, ForwardStep}, {true, 2, noether.ForwardOverReverse, ForwardStep}, {true, 1, noether.Reverse, ForwardStep},
	} {
		steps, mg := c.steps, c.mg
		{
			t.Run(fmt.Sprintf("cn=%v/steps%d/%v/%v", c.cn, steps, mg, c.scheme), func(t *testing.T) {
				tl := noether.Tailoring{Steps: steps, LR: 0.3, MetaGrad: mg}
				g, loss, theta, phi, grads, params, feeds := tinyMeta(t, tl, c.cn, c.scheme)
				prog, err := g.Compile(graph.CompileOptions{}, append([]*graph.Node{loss}, grads...)...)
				if err != nil {
					t.Fatal(err)
				}
				e := prog.OnCPU()
				for k, v := range params {
					if err := e.SetParam(k, v); err != nil {
						t.Fatal(err)
					}
				}
				out, err := e.Run(feeds)
				if err != nil {
					t.Fatal(err)
				}
				worst, phiNorm := 0.0, 0.0
				for i, n := range append(append([]*graph.Node(nil), theta...), phi...) {
					base := params[n.Name()]
					for j := range base {
						fd := centralDiff(t, e, feeds, n.Name(), base, j, 1e-2)
						got := float64(out[1+i][j])
						if i >= len(theta) {
							phiNorm += fd * fd
						}
						if err := math.Abs(got-fd) / (1e-3 + math.Abs(fd)); err > worst {
							worst = err
						}
					}
				}
				if mg == noether.FirstOrder {
					if worst < 0.05 || phiNorm == 0 {
						t.Errorf("first order matched finite differences (worst rel err %.2g): the test cannot see second-order terms", worst)
					}
					return
				}
				if worst > 0.02 {
					t.Errorf("worst relative error against finite differences %.3g", worst)
				}
			})
		}
	}
}

func centralDiff(t *testing.T, e *graph.CPUExec, feeds map[string][]float32, name string, base []float32, j int, h float32) float64 {
	t.Helper()
	v := append([]float32(nil), base...)
	eval := func(x float32) float64 {
		v[j] = x
		if err := e.SetParam(name, v); err != nil {
			t.Fatal(err)
		}
		out, err := e.Run(feeds)
		if err != nil {
			t.Fatal(err)
		}
		return float64(out[0][0])
	}
	x0 := base[j]
	d := (eval(x0+h) - eval(x0-h)) / float64(2*h)
	v[j] = x0
	if err := e.SetParam(name, v); err != nil {
		t.Fatal(err)
	}
	return d
}
