package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// opCase builds one op on inputs of the given shapes (values drawn in
// [lo, hi], kept away from 0 by gap where the op has a kink or pole).
type opCase struct {
	name   string
	shapes []Shape
	lo, hi float64
	gap    float64
	build  func(g *Graph, in []*Node) *Node
	// noRR: the op's VJP has no VJP of its own (reverse over reverse),
	// by design of the fused kernels.
	noRR bool
}

func closureCases() []opCase {
	var cs []opCase
	for _, op := range kernels.UnaryOps {
		c := opCase{name: op.String(), shapes: []Shape{{2, 3}}, lo: -2, hi: 2,
			build: func(g *Graph, in []*Node) *Node { return g.unary(op, 0, 0.2, in[0], nil) }}
		switch op {
		case kernels.Sqrt, kernels.Log:
			c.lo, c.hi = 0.5, 2
		case kernels.Relu, kernels.LeakyRelu:
			c.gap = 0.2
		}
		cs = append(cs, c)
	}
	for _, op := range kernels.BinaryOps {
		c := opCase{name: op.String(), shapes: []Shape{{2, 3}, {3}}, lo: -2, hi: 2,
			build: func(g *Graph, in []*Node) *Node { return g.Apply(binaryOp{op}, in...) }}
		if op == kernels.Div {
			c.gap = 0.5
		}
		cs = append(cs, c)
	}
	for _, sc := range []scalarOp{{kernels.Add, 0.5, false}, {kernels.Sub, 0.5, true}, {kernels.Mul, -1.5, false}, {kernels.Div, 2, false}, {kernels.Div, 2, true}} {
		cs = append(cs, opCase{name: sc.Name(), shapes: []Shape{{5}}, lo: -2, hi: 2, gap: 0.5,
			build: func(g *Graph, in []*Node) *Node { return g.Apply(sc, in[0]) }})
	}
	for _, op := range []kernels.ReduceOp{kernels.Sum, kernels.Mean, kernels.SumSq} {
		cs = append(cs, opCase{name: op.String() + " axis 1", shapes: []Shape{{2, 3, 2}}, lo: -2, hi: 2,
			build: func(g *Graph, in []*Node) *Node { return g.Reduce(op, in[0], []int{1}, false) }})
	}
	cs = append(cs,
		opCase{name: "broadcast", shapes: []Shape{{3, 1}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.BroadcastTo(in[0], 2, 3, 4) }},
		opCase{name: "sum-to", shapes: []Shape{{2, 3, 4}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.SumTo(in[0], 3, 1) }},
		opCase{name: "reshape", shapes: []Shape{{2, 6}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.Reshape(in[0], 3, 4) }},
		opCase{name: "linear", shapes: []Shape{{3, 4}, {4, 5}, {5}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.Linear(in[0], in[1], in[2]) }},
		opCase{name: "matmul batched A, shared B", shapes: []Shape{{2, 3, 4}, {4, 5}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.MatMul(in[0], in[1]) }},
		opCase{name: "matmul shared A, batched B", shapes: []Shape{{3, 4}, {2, 4, 5}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.MatMul(in[0], in[1]) }},
	)
	cs = append(cs,
		opCase{name: "cn_affine", shapes: []Shape{{2, 3, 2, 2}, {2, 3}, {2, 3}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.CNAffine(in[0], in[1], in[2]) }},
		opCase{name: "lstm_cell h", shapes: []Shape{{2, 8}, {2, 2}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { h, _ := g.LSTMCell(in[0], in[1]); return h }, noRR: true},
		opCase{name: "lstm_cell c", shapes: []Shape{{2, 8}, {2, 2}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { _, c := g.LSTMCell(in[0], in[1]); return c }, noRR: true},
		opCase{name: "lstm_cell h+c", shapes: []Shape{{2, 8}, {2, 2}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { h, c := g.LSTMCell(in[0], in[1]); return g.Mul(h, c) }, noRR: true},
	)
	cs = append(cs, poolNormCases()...)
	cs = append(cs, gradCAMCases()...)
	cs = append(cs, convCases()...)
	for _, tr := range [][2]bool{{true, false}, {false, true}, {true, true}} {
		cs = append(cs, opCase{name: fmt.Sprintf("matmul transposes %v", tr), shapes: []Shape{{2, 4, 3}, {2, 5, 4}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node {
				a, b := in[0], in[1]
				if !tr[0] {
					a = g.Reshape(a, 2, 3, 4)
				}
				if !tr[1] {
					b = g.Reshape(b, 2, 4, 5)
				}
				return g.MatMulT(a, b, tr[0], tr[1])
			}})
	}
	return cs
}

// TestClosure: for every op, the graph of its VJP can be differentiated
// forward, and that forward-over-reverse product of L = <c, sin(op(x))> matches
// finite differences of the VJP; where the op's VJP has a VJP too, the
// reverse-over-reverse product (the gradient of <∇L, v>) must match as well.
func TestClosure(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, c := range closureCases() {
		t.Run(c.name, func(t *testing.T) {
			g := New()
			var ins, dirs []*Node
			feeds := map[string][]float32{}
			params := map[string][]float32{}
			for i, s := range c.shapes {
				name := fmt.Sprint("x", i)
				ins = append(ins, g.Param(name, s...))
				dirs = append(dirs, g.Input("v"+name, s...))
				params[name] = drawAway(rng, s.Len(), c.lo, c.hi, c.gap)
				feeds["v"+name] = randVec(rng, s.Len(), -1, 1)
			}
			out := c.build(g, ins)
			cst := g.Input("c", out.shape...)
			feeds["c"] = randVec(rng, out.shape.Len(), -1, 1)
			// <c, sin(op(x))>: the cotangent reaching the op depends on x,
			// so reverse over reverse exercises every term of the op's VJP.
			loss := g.Sum(g.Mul(cst, g.Sin(out)))
			grads := g.Grad(loss, ins...)
			tan := map[*Node]*Node{}
			for i := range ins {
				tan[ins[i]] = dirs[i]
			}
			hv := g.JVP(grads, tan)
			if !c.noRR {
				var dot *Node
				for i := range grads {
					dot = addMaybe(g, dot, g.Sum(g.Mul(grads[i], dirs[i])))
				}
				hv = append(hv, g.Grad(dot, ins...)...)
			}
			if g.Err() != nil {
				t.Fatal(g.Err())
			}
			e := mustCompile(t, g, CompileOptions{}, hv...).OnCPU()
			setParams(t, e, params)
			got := mustRun(t, e, feeds)

			const h = 1e-3
			plus, minus := runShifted(t, mustCompile(t, g, CompileOptions{}, grads...).OnCPU(), params, feeds, h)
			for k := range got {
				m := k % len(grads) // reverse-over-reverse results follow the JVPs
				fd := centralDiff(plus[m], minus[m], h)
				what := "forward-over-reverse"
				if k >= len(grads) {
					what = "reverse-over-reverse"
				}
				closeTo(t, what, got[k], fd, 3e-3, 2e-2)
			}
		})
	}
}

func drawAway(rng *rand.Rand, n int, lo, hi, gap float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		for {
			x := lo + (hi-lo)*rng.Float64()
			if gap == 0 || x >= gap || x <= -gap {
				v[i] = float32(x)
				break
			}
		}
	}
	return v
}
