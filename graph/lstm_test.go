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
	tan := randTangents(g, rng, ps, params, feeds, -0.6, 0.6)
	params["gamma"] = randVec(rng, batch*hidden, 0.5, 1.5)
	hv := mustJVP(t, g, grads, tan)
	prog := mustCompile(t, g, CompileOptions{}, append(append([]*Node{loss}, grads...), hv...)...)
	st := prog.Stats()
	t.Logf("LSTM step graph: %d ops, arena %d bytes planned, %d without reuse", st.Ops, st.PeakBytes, st.TotalBytes)
	if st.PeakBytes >= st.TotalBytes/2 {
		t.Errorf("planner peak %d is not well below the sum of sizes %d", st.PeakBytes, st.TotalBytes)
	}
	want := runBoth(t, prog, params, feeds)
	le := mustCompile(t, g, CompileOptions{}, loss).OnCPU()
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
	const h = 1e-3
	plus, minus := runShifted(t, mustCompile(t, g, CompileOptions{}, grads...).OnCPU(), params, feeds, h)
	for i, p := range ps {
		closeTo(t, "hvp "+p.Name(), want[1+len(ps)+i], centralDiff(plus[i], minus[i], h), 3e-3, 2e-2)
	}
}
