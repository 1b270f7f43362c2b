package nn_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// lstmModel is two stacked LSTMCells unrolled over steps, with a
// per-example CN [batch, hidden] (the same gamma and beta for both
// layers) on each layer's h, and a linear read-out regressed on y. It
// returns the loss and the parameters: gamma, beta, then the modules'.
func lstmModel(g *graph.Graph, batch, in, hidden, steps int) (loss *graph.Node, params []*graph.Node) {
	cells := []nn.LSTMCell{{In: in, Hidden: hidden}, {In: hidden, Hidden: hidden}}
	readout := nn.Linear{In: hidden, Out: 1, NoBias: true}
	gamma, beta := g.Param("gamma", batch, hidden), g.Param("beta", batch, hidden)
	params = []*graph.Node{gamma, beta}
	c := &nn.Context{Graph: g, Adapted: map[string]*graph.Node{}}
	var st nn.LSTMState
	for l, cell := range cells {
		s := nn.Scope("lstm").Index(l)
		params = append(params, nn.Declare(g, cell.Params(s))...)
		c.Adapted[s.Name("cn.scale")], c.Adapted[s.Name("cn.shift")] = gamma, beta
		st.H, st.C = append(st.H, g.Fill(0, batch, hidden)), append(st.C, g.Fill(0, batch, hidden))
	}
	params = append(params, nn.Declare(g, readout.Params("out"))...)
	for t := range steps {
		x := g.Input(fmt.Sprint("x", t), batch, in)
		for l, cell := range cells {
			s := nn.Scope("lstm").Index(l)
			st.H[l], st.C[l] = cell.Step(c, s, x, st.H[l], st.C[l])
			st.H[l] = c.CN(s, st.H[l])
			x = st.H[l]
		}
		y := g.Input(fmt.Sprint("y", t), batch, 1)
		term := g.Mean(g.Square(g.Sub(readout.Apply(c, "out", x), y)))
		if loss == nil {
			loss = term
		} else {
			loss = g.Add(loss, term)
		}
	}
	return g.Scale(loss, 1/float32(steps)), params
}

// TestLSTM: a 2-layer LSTM unrolled 10 steps with per-example CN affine:
// gradients and Hessian-vector products against finite differences, the
// two executors agree, and the planner reuses memory.
func TestLSTM(t *testing.T) {
	const batch, in, hidden, steps = 2, 3, 4, 10
	rng := rand.New(rand.NewPCG(5, 5))
	g := graph.New()
	loss, ps := lstmModel(g, batch, in, hidden, steps)
	grads := g.Grad(loss, ps...)
	feeds, params := map[string][]float32{}, map[string][]float32{}
	for s := range steps {
		feeds[fmt.Sprint("x", s)] = randVec(rng, batch*in, -1, 1, 0)
		feeds[fmt.Sprint("y", s)] = randVec(rng, batch, -1, 1, 0)
	}
	// A value and a direction per parameter; gamma near 1.
	tan := map[*graph.Node]*graph.Node{}
	for _, p := range ps {
		lo := -0.6
		if p.Name() == "gamma" {
			lo = 0.5
		}
		params[p.Name()] = randVec(rng, p.Shape().Len(), lo, lo+1.2, 0)
		tan[p] = g.Input("v"+p.Name(), p.Shape()...)
		feeds["v"+p.Name()] = randVec(rng, p.Shape().Len(), -1, 1, 0)
	}
	hv := g.JVP(grads, tan)
	prog := graphtest.Compile(t, g, append(append([]*graph.Node{loss}, grads...), hv...)...)
	st := prog.Stats()
	t.Logf("LSTM step graph: %d ops, arena %d bytes planned, %d without reuse", st.Ops, st.PeakBytes, st.TotalBytes)
	if st.PeakBytes >= st.TotalBytes/2 {
		t.Errorf("planner peak %d is not well below the sum of sizes %d", st.PeakBytes, st.TotalBytes)
	}
	es := executors(t, g, openVulkan(t), params, append(append([]*graph.Node{loss}, grads...), hv...)...)
	want, got := graphtest.Run(t, es["cpu"], feeds), graphtest.Run(t, es["vulkan"], feeds)
	for i := range want {
		kerneltest.Near(t, fmt.Sprint("vulkan vs cpu output ", i), got[i], want[i], kerneltest.F32Reduce)
	}

	// Directional derivatives per parameter tensor: elementwise finite
	// differences of a float32 loss are noise for the small gradients of
	// the first layer; along a random direction the signal adds up.
	le := executors(t, g, nil, params, loss)["cpu"]
	const h = 1e-2
	for i, p := range ps {
		dir := feeds["v"+p.Name()]
		at := func(s float32) float64 {
			graphtest.SetParams(t, le, map[string][]float32{p.Name(): shifted(params[p.Name()], dir, s)})
			return float64(graphtest.Run(t, le, feeds)[0][0])
		}
		fd := (at(h) - at(-h)) / (2 * h)
		graphtest.SetParams(t, le, params)
		var dot float64
		for j, gj := range want[1+i] {
			dot += float64(gj) * float64(dir[j])
		}
		kerneltest.Near(t, "<dloss/d"+p.Name()+", v>", []float32{float32(dot)}, []float32{float32(fd)}, kerneltest.Tol{Name: "directional", Rel: 2e-2})
	}

	// Hessian-vector products: central differences of the gradients
	// along every direction at once.
	ge := executors(t, g, nil, params, grads...)["cpu"]
	const hh = 1e-3
	all := func(s float32) [][]float32 {
		for _, p := range ps {
			graphtest.SetParams(t, ge, map[string][]float32{p.Name(): shifted(params[p.Name()], feeds["v"+p.Name()], s)})
		}
		return graphtest.Run(t, ge, feeds)
	}
	plus, minus := all(hh), all(-hh)
	for i, p := range ps {
		fd := make([]float32, len(plus[i]))
		for j := range fd {
			fd[j] = (plus[i][j] - minus[i][j]) / (2 * hh)
		}
		kerneltest.Near(t, "hvp "+p.Name(), want[1+len(ps)+i], fd, kerneltest.FD)
	}
}

// shifted is v + s*dir.
func shifted(v, dir []float32, s float32) []float32 {
	out := slices.Clone(v)
	for j := range out {
		out[j] += s * dir[j]
	}
	return out
}
