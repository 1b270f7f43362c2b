package graph

import (
	"math/rand/v2"
	"testing"
)

// mlp is the paper's baseline shape, 2 -> h -> h -> 2 with tanh and no
// bias on the last layer.
func mlp(g *Graph, x *Node, h int) (out *Node, params []*Node) {
	w1, b1 := g.Param("w1", 2, h), g.Param("b1", h)
	w2, b2 := g.Param("w2", h, h), g.Param("b2", h)
	w3 := g.Param("w3", h, 2)
	a := g.Tanh(g.Linear(x, w1, b1))
	a = g.Tanh(g.Linear(a, w2, b2))
	return g.MatMul(a, w3), []*Node{w1, b1, w2, b2, w3}
}

// TestMLP: gradients and HVPs of an MLP regression loss against finite
// differences, with both executors agreeing.
func TestMLP(t *testing.T) {
	g, loss, ps, grads, hv, params, feeds := mlpProblem(t, rand.New(rand.NewPCG(4, 4)), 9, 6)
	want := runBoth(t, mustCompile(t, g, CompileOptions{}, append(append([]*Node{loss}, grads...), hv...)...), params, feeds)

	le := mustCompile(t, g, CompileOptions{}, loss).OnCPU()
	setParams(t, le, params)
	for i, p := range ps {
		closeTo(t, "dloss/d"+p.Name(), want[1+i], fdGrad(t, le, feeds, params, p.Name(), 1e-3), 2e-3, 2e-2)
	}

	const h = 1e-3
	plus, minus := runShifted(t, mustCompile(t, g, CompileOptions{}, grads...).OnCPU(), params, feeds, h)
	for i, p := range ps {
		closeTo(t, "hvp "+p.Name(), want[1+len(ps)+i], centralDiff(plus[i], minus[i], h), 3e-3, 2e-2)
	}
}

// mlpProblem is an MLP regression loss on batch random examples with its
// gradients and a Hessian-vector product along random tangents, and the
// parameters and feeds to run it with.
func mlpProblem(t *testing.T, rng *rand.Rand, batch, hidden int) (g *Graph, loss *Node, ps, grads, hv []*Node, params, feeds map[string][]float32) {
	t.Helper()
	g = New()
	x, y := g.Input("x", batch, 2), g.Input("y", batch, 2)
	out, ps := mlp(g, x, hidden)
	loss = g.Mean(g.Square(g.Sub(out, y)))
	grads = g.Grad(loss, ps...)
	feeds = map[string][]float32{"x": randVec(rng, batch*2, -1, 1), "y": randVec(rng, batch*2, -1, 1)}
	params = map[string][]float32{}
	hv = mustJVP(t, g, grads, randTangents(g, rng, ps, params, feeds, -0.8, 0.8))
	return g, loss, ps, grads, hv, params, feeds
}
