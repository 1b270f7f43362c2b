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
	rng := rand.New(rand.NewPCG(4, 4))
	const batch, hidden = 9, 6
	g := New()
	x, y := g.Input("x", batch, 2), g.Input("y", batch, 2)
	out, ps := mlp(g, x, hidden)
	loss := g.Mean(g.Square(g.Sub(out, y)))
	grads := g.Grad(loss, ps...)
	tan := map[*Node]*Node{}
	feeds := map[string][]float32{"x": randVec(rng, batch*2, -1, 1), "y": randVec(rng, batch*2, -1, 1)}
	params := map[string][]float32{}
	for _, p := range ps {
		v := g.Input("v"+p.Name(), p.Shape()...)
		tan[p] = v
		feeds["v"+p.Name()] = randVec(rng, p.Shape().Len(), -1, 1)
		params[p.Name()] = randVec(rng, p.Shape().Len(), -0.8, 0.8)
	}
	hv := g.JVP(grads, tan)
	if g.Err() != nil {
		t.Fatal(g.Err())
	}
	prog, err := g.Compile(CompileOptions{}, append(append([]*Node{loss}, grads...), hv...)...)
	if err != nil {
		t.Fatal(err)
	}
	cpu := prog.OnCPU()
	vk, err := prog.OnVulkan(openVulkan(t), VulkanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer vk.Close()
	setParams(t, cpu, params)
	setParams(t, vk, params)
	want, got := mustRun(t, cpu, feeds), mustRun(t, vk, feeds)
	for i := range want {
		closeTo(t, "vulkan vs cpu", got[i], want[i], 1e-5, 1e-4)
	}

	lp, err := g.Compile(CompileOptions{}, loss)
	if err != nil {
		t.Fatal(err)
	}
	le := lp.OnCPU()
	setParams(t, le, params)
	for i, p := range ps {
		closeTo(t, "dloss/d"+p.Name(), want[1+i], fdGrad(t, le, feeds, params, p.Name(), 1e-3), 2e-3, 2e-2)
	}

	gp, err := g.Compile(CompileOptions{}, grads...)
	if err != nil {
		t.Fatal(err)
	}
	ge := gp.OnCPU()
	const h = 1e-3
	at := func(s float32) [][]float32 {
		shifted := map[string][]float32{}
		for k, v := range params {
			shifted[k] = append([]float32(nil), v...)
			for j := range shifted[k] {
				shifted[k][j] += s * feeds["v"+k][j]
			}
		}
		setParams(t, ge, shifted)
		return mustRun(t, ge, feeds)
	}
	plus, minus := at(h), at(-h)
	for i, p := range ps {
		fd := make([]float32, len(plus[i]))
		for j := range fd {
			fd[j] = (plus[i][j] - minus[i][j]) / (2 * h)
		}
		closeTo(t, "hvp "+p.Name(), want[1+len(ps)+i], fd, 3e-3, 2e-2)
	}
}
