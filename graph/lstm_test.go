package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// lstmModel is a 2-layer LSTM unrolled over steps with per-example CN
// affine on each layer's output, and a linear read-out regressed on y.
func lstmModel(g *Graph, batch, in, hidden, steps int) (loss *Node, params []*Node) {
	gamma, beta := g.Param("gamma", batch, hidden), g.Param("beta", batch, hidden)
	wo := g.Param("wo", hidden, 1)
	params = []*Node{gamma, beta, wo}
	type layer struct{ wx, wh, b *Node }
	var layers []layer
	for l := range 2 {
		width := in
		if l > 0 {
			width = hidden
		}
		ly := layer{g.Param(fmt.Sprint("wx", l), width, 4*hidden), g.Param(fmt.Sprint("wh", l), hidden, 4*hidden), g.Param(fmt.Sprint("b", l), 4*hidden)}
		layers = append(layers, ly)
		params = append(params, ly.wx, ly.wh, ly.b)
	}
	h := []*Node{g.Fill(0, batch, hidden), g.Fill(0, batch, hidden)}
	c := []*Node{g.Fill(0, batch, hidden), g.Fill(0, batch, hidden)}
	var total *Node
	for t := range steps {
		x := g.Input(fmt.Sprint("x", t), batch, in)
		for l, ly := range layers {
			z := g.Add(g.Linear(x, ly.wx, ly.b), g.MatMul(h[l], ly.wh))
			h[l], c[l] = g.LSTMCell(z, c[l])
			h[l] = g.CNAffine(h[l], gamma, beta)
			x = h[l]
		}
		y := g.Input(fmt.Sprint("y", t), batch, 1)
		total = addMaybe(g, total, g.Mean(g.Square(g.Sub(g.MatMul(x, wo), y))))
	}
	return g.Scale(total, 1/float32(steps)), params
}

// TestLSTM: a 2-layer LSTM unrolled 10 steps with per-example CN affine:
// gradients and HVPs against finite differences, the two executors agree,
// and the planner reuses memory.
func TestLSTM(t *testing.T) {
	const batch, in, hidden, steps = 2, 3, 4, 10
	rng := rand.New(rand.NewPCG(5, 5))
	g := New()
	loss, ps := lstmModel(g, batch, in, hidden, steps)
	grads := g.Grad(loss, ps...)
	feeds := map[string][]float32{}
	for s := range steps {
		feeds[fmt.Sprint("x", s)] = randVec(rng, batch*in, -1, 1)
		feeds[fmt.Sprint("y", s)] = randVec(rng, batch, -1, 1)
	}
	params := map[string][]float32{}
	tan := map[*Node]*Node{}
	for _, p := range ps {
		params[p.Name()] = randVec(rng, p.Shape().Len(), -0.6, 0.6)
		v := g.Input("v"+p.Name(), p.Shape()...)
		feeds["v"+p.Name()] = randVec(rng, p.Shape().Len(), -1, 1)
		tan[p] = v
	}
	params["gamma"] = randVec(rng, batch*hidden, 0.5, 1.5)
	hv := g.JVP(grads, tan)
	if g.Err() != nil {
		t.Fatal(g.Err())
	}
	prog, err := g.Compile(CompileOptions{}, append(append([]*Node{loss}, grads...), hv...)...)
	if err != nil {
		t.Fatal(err)
	}
	st := prog.Stats()
	t.Logf("LSTM step graph: %d ops, arena %d bytes planned, %d without reuse", st.Ops, st.PeakBytes, st.TotalBytes)
	if st.PeakBytes >= st.TotalBytes/2 {
		t.Errorf("planner peak %d is not well below the sum of sizes %d", st.PeakBytes, st.TotalBytes)
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
		closeTo(t, fmt.Sprint("vulkan vs cpu output ", i), got[i], want[i], 1e-5, 1e-4)
	}
	lp, err := g.Compile(CompileOptions{}, loss)
	if err != nil {
		t.Fatal(err)
	}
	le := lp.OnCPU()
	setParams(t, le, params)
	// Directional derivatives per parameter tensor: elementwise finite
	// differences of a float32 loss are noise for the small gradients of
	// the first layer; along a random direction the signal adds up.
	for i, p := range ps {
		dir := feeds["v"+p.Name()]
		loss := func(s float64) float64 {
			q := append([]float32(nil), params[p.Name()]...)
			for j := range q {
				q[j] += float32(s) * dir[j]
			}
			if err := le.SetParam(p.Name(), q); err != nil {
				t.Fatal(err)
			}
			return float64(mustRun(t, le, feeds)[0][0])
		}
		const h = 1e-2
		fd := (loss(h) - loss(-h)) / (2 * h)
		if err := le.SetParam(p.Name(), params[p.Name()]); err != nil {
			t.Fatal(err)
		}
		dot := 0.0
		for j, gj := range want[1+i] {
			dot += float64(gj) * float64(dir[j])
		}
		closeTo(t, "<dloss/d"+p.Name()+", v>", []float32{float32(dot)}, []float32{float32(fd)}, 0, 2e-2)
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
