package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// lowRankProblem reads per-example weights S = W - 0.3 u vᵀ - p qᵀ (W
// shared, broadcast over the batch; u, v, p, q per example) from every
// side reassociation handles: S on the right (plain and transposed, and
// with the other operand transposed), on the left (plain and transposed),
// and summed over the batch, one of them read through a multi-output
// split; then the gradients of a loss over all of them, whose products
// reassociate too.
func lowRankProblem(t *testing.T, rng *rand.Rand, b, k, n int) (g *Graph, outs, rewritten []*Node, params, feeds map[string][]float32) {
	t.Helper()
	g = New()
	w := g.Param("w", k, n)
	u, v := g.Input("u", b, 1, k), g.Input("v", b, 1, n)
	p, q := g.Input("p", b, 1, k), g.Input("q", b, 1, n)
	x, xt, xa := g.Input("x", b, 3, k), g.Input("xt", b, 2, n), g.Input("xa", b, k, 3)
	z, zt := g.Input("z", b, n, 2), g.Input("zt", b, k, 2)
	wb := g.StopGradient(g.BroadcastTo(w, b, k, n))
	s := g.Sub(g.Sub(wb, g.Scale(g.MatMulT(u, v, true, false), 0.3)), g.MatMulT(p, q, true, false))
	ys := []*Node{
		g.MatMul(x, s),                // x S: [b, 3, n]
		g.MatMulT(xt, s, false, true), // xt Sᵀ: [b, 2, k]
		g.MatMulT(xa, s, true, false), // xaᵀ S: [b, 3, n]
		g.MatMul(s, z),                // S z: [b, k, 2]
		g.MatMulT(s, zt, true, false), // Sᵀ zt: [b, n, 2]
		g.Sum(s, 0),                   // Σ_b S_b
	}
	// A multi-output op after a rewritten product: its clone's outputs
	// must replace the original's.
	halves := g.Split(ys[0], 2, n/2, n/2)
	loss := g.Add(g.Mean(g.Square(g.Tanh(halves[0]))), g.Mean(g.Square(halves[1])))
	for _, y := range ys[1:] {
		loss = g.Add(loss, g.Mean(g.Sin(y)))
	}
	grads := g.Grad(loss, w, u, v, x)
	params = map[string][]float32{"w": randVec(rng, k*n, -1, 1)}
	feeds = map[string][]float32{}
	for _, in := range []*Node{u, v, p, q, x, xt, xa, z, zt} {
		feeds[in.Name()] = randVec(rng, in.Shape().Len(), -1, 1)
	}
	return g, append(append([]*Node{loss}, ys...), grads...), ys, params, feeds
}

// TestReassociation: reassociated programs give the written programs'
// values to rounding, on the CPU and on Vulkan, with and without fusion,
// also split across buffers, without ever writing a per-example [B, K, N]
// tensor; Value reads a rewritten node.
func TestReassociation(t *testing.T) {
	const b, k, n = 6, 24, 32
	rng := rand.New(rand.NewPCG(21, 4))
	v := openVulkan(t)
	lrG, lrOuts, lrRewritten, lrParams, lrFeeds := lowRankProblem(t, rng, b, k, n)
	peG, peOuts, peParams, peFeeds := perExampleProblem(t, rng, b, k)
	for _, c := range []struct {
		name          string
		g             *Graph
		outs          []*Node
		params, feeds map[string][]float32
		big           Shape // the per-example tensor that must not be written
	}{
		{"low-rank operands on every side", lrG, lrOuts, lrParams, lrFeeds, Shape{b, k, n}},
		{"per-example weights after an inner step", peG, peOuts, peParams, peFeeds, Shape{b, k, k}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := mustRun(t, withParams(t, mustCompile(t, c.g, CompileOptions{NoReassoc: true}, c.outs...).OnCPU(), c.params), c.feeds)
			for _, fusion := range []bool{false, true} {
				p := mustCompile(t, c.g, CompileOptions{NoFusion: !fusion}, c.outs...)
				if len(p.rewritten) == 0 {
					t.Fatal("nothing was reassociated")
				}
				for _, m := range p.order {
					if m.kind == kindOp && m.shape.Equal(c.big) {
						t.Errorf("fusion %v: the program still computes %v", fusion, p.body(m))
					}
				}
				e, err := p.OnVulkan(v, VulkanOptions{})
				if err != nil {
					t.Fatal(err)
				}
				gotV := mustRun(t, withParams(t, e, c.params), c.feeds)
				gotC := mustRun(t, withParams(t, p.OnCPU(), c.params), c.feeds)
				for i := range want {
					closeTo(t, fmt.Sprintf("fusion %v, Vulkan output %d", fusion, i), gotV[i], want[i], 1e-5, 1e-4)
					closeTo(t, fmt.Sprintf("fusion %v, CPU output %d", fusion, i), gotC[i], want[i], 1e-5, 1e-4)
				}
				if c.name == "low-rank operands on every side" {
					val, err := e.Value(lrRewritten[0])
					if err != nil {
						t.Fatal(err)
					}
					closeTo(t, "Value of x S", val, want[1], 1e-5, 1e-4)
				}
				e.Close()
			}
			// Split into row blocks across buffers, as large programs are.
			e, err := mustCompile(t, c.g, CompileOptions{}, c.outs...).OnVulkan(v, VulkanOptions{MaxBufferBytes: 4096})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if n := len(e.Memory().Buffers); n < 2 {
				t.Errorf("buffer limit 4096: the arena is in %d buffer", n)
			}
			got := mustRun(t, withParams(t, e, c.params), c.feeds)
			for i := range want {
				closeTo(t, fmt.Sprintf("row blocks, output %d", i), got[i], want[i], 1e-5, 1e-4)
			}
		})
	}
	// Off switch (with the merging of repeated ops off too): the written
	// program, nothing rewritten.
	if p := mustCompile(t, lrG, CompileOptions{NoReassoc: true, NoCSE: true}, lrOuts...); len(p.rewritten) != 0 {
		t.Errorf("NoReassoc rewrote %d nodes", len(p.rewritten))
	}
}

// TestReassociationLeavesFullRank: products whose operands hold no
// low-rank term, or whose factors are not much thinner than the product,
// are left as written.
func TestReassociationLeavesFullRank(t *testing.T) {
	g := New()
	a, w := g.Input("a", 4, 3, 8), g.Param("w", 8, 8)
	full := g.MatMul(a, g.Sub(g.BroadcastTo(w, 4, 8, 8), g.Input("d", 4, 8, 8)))
	u, v := g.Input("u", 4, 3, 8), g.Input("v", 4, 3, 8)
	thick := g.MatMul(a, g.MatMulT(u, v, true, false)) // rank 3 of 8x8: 4*3*16 > 64
	p := mustCompile(t, g, CompileOptions{}, full, thick)
	if len(p.rewritten) != 0 {
		t.Errorf("rewrote %d nodes of products without low-rank operands", len(p.rewritten))
	}
}

// withParams sets e's parameters and returns it.
func withParams(t *testing.T, e Executor, params map[string][]float32) Executor {
	t.Helper()
	setParams(t, e, params)
	return e
}
