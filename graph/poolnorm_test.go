package graph

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// spread returns x (in [-1, 1]) plus a fixed permutation of multiples of
// 2.1, centred: every two elements differ by at least 0.1, so finite
// differences do not cross an argmax switch.
func spread(g *Graph, x *Node) *Node {
	rng := rand.New(rand.NewPCG(3, 3))
	n := x.shape.Len()
	v := make([]float32, n)
	for i, j := range rng.Perm(n) {
		v[i] = 2.1 * float32(j-n/2)
	}
	return g.Add(x, g.Const(v, x.shape...))
}

func poolNormCases() []opCase {
	bn := func(train bool) func(g *Graph, in []*Node) *Node {
		return func(g *Graph, in []*Node) *Node {
			rm := g.Const([]float32{0.2, -0.3}, 2)
			rv := g.Const([]float32{0.8, 1.5}, 2)
			y, _, _ := g.BatchNorm(in[0], in[1], in[2], rm, rv, kernels.BNConfig{Train: train, Momentum: 0.1})
			return y
		}
	}
	return []opCase{
		{name: "maxpool2d 2x2 floor", shapes: []Shape{{1, 2, 4, 5}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.MaxPool2d(spread(g, in[0]), 2, 0) }},
		{name: "maxpool2d 3x3 stride 1", shapes: []Shape{{2, 1, 4, 4}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.MaxPool2d(spread(g, in[0]), 3, 1) }},
		{name: "upsample_nearest2d", shapes: []Shape{{1, 2, 2, 3}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.UpsampleNearest2d(in[0], 2) }},
		{name: "upsample_nearest2d backward", shapes: []Shape{{1, 2, 4, 6}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.UpsampleNearest2dBackward(in[0], 2) }},
		{name: "concat axis 1", shapes: []Shape{{2, 1, 3}, {2, 2, 3}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.Concat(1, in...) }},
		{name: "concat axis -1 of 3", shapes: []Shape{{2, 2}, {2, 1}, {2, 3}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.Concat(-1, in...) }},
		{name: "split one part unused", shapes: []Shape{{2, 5, 3}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node {
				p := g.Split(in[0], 1, 2, 2, 1)
				return g.Mul(p[0], p[1])
			}},
		{name: "group_norm 2 groups", shapes: []Shape{{2, 4, 3}, {4}, {4}}, lo: -1, hi: 1, noRR: true,
			build: func(g *Graph, in []*Node) *Node { return g.GroupNorm(in[0], in[1], in[2], 2) }},
		{name: "group_norm 1 group NCHW", shapes: []Shape{{2, 2, 2, 2}, {2}, {2}}, lo: -1, hi: 1, noRR: true,
			build: func(g *Graph, in []*Node) *Node { return g.GroupNorm(in[0], in[1], in[2], 1) }},
		{name: "batch_norm training", shapes: []Shape{{3, 2, 4}, {2}, {2}}, lo: -1, hi: 1, noRR: true, build: bn(true)},
		{name: "batch_norm evaluation", shapes: []Shape{{3, 2, 4}, {2}, {2}}, lo: -1, hi: 1, noRR: true, build: bn(false)},
	}
}

// poolNormModel: every new op, their gradients and forward-over-reverse
// products.
func poolNormModel(g *Graph) (loss *Node, ps []*Node, extra []*Node) {
	x := g.Param("x", 2, 4, 4, 4)
	w, b := g.Param("w", 4), g.Param("b", 4)
	bw, bb := g.Param("bw", 8), g.Param("bb", 8)
	rm, rv := g.Input("rm", 8), g.Input("rv", 8)
	h := g.LeakyRelu(g.GroupNorm(x, w, b, 2), 0.1)
	h = g.UpsampleNearest2d(g.MaxPool2d(h, 2, 0), 2)
	h = g.Concat(1, h, x)
	yt, nm, nv := g.BatchNorm(h, bw, bb, rm, rv, kernels.BNConfig{Train: true, Momentum: 0.1})
	ye, _, _ := g.BatchNorm(h, bw, bb, rm, rv, kernels.BNConfig{})
	parts := g.Split(g.Add(yt, g.Scale(ye, 0.5)), 1, 3, 5)
	loss = g.Add(g.SumSq(h), g.Add(g.Mean(g.Square(parts[0])), g.Mean(g.Sin(parts[1]))))
	return loss, []*Node{x, w, b, bw, bb}, []*Node{nm, nv, h}
}

// TestPoolNormOnVulkan: a graph with every pooling, normalization and
// concatenation op, its gradients and their tangents agrees with the CPU
// executor node by node (the argmax bits included).
func TestPoolNormOnVulkan(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	g := New()
	loss, ps, extra := poolNormModel(g)
	grads := g.Grad(loss, ps...)
	params := map[string][]float32{}
	feeds := map[string][]float32{"rm": randVec(rng, 8, -0.5, 0.5), "rv": randVec(rng, 8, 0.5, 1.5)}
	hv := mustJVP(t, g, grads, randTangents(g, rng, ps, params, feeds, -1, 1))
	prog := mustCompile(t, g, CompileOptions{KeepAll: true}, append(append(append(grads, hv...), extra...), loss)...)
	crossCheck(t, prog, params, feeds, 1e-4)
	// The running statistics: PyTorch's update with the unbiased variance,
	// the same at every replay (the operands are not updated in place).
	vk := onVulkan(t, prog)
	setParams(t, vk, params)
	first := mustRun(t, vk, feeds)
	again := mustRun(t, vk, feeds)
	k := 2 * len(ps)
	closeTo(t, "replayed running mean", again[k], first[k], 0, 0)
	closeTo(t, "replayed running var", again[k+1], first[k+1], 0, 0)
	h := first[k+2] // [2, 8, 4, 4]
	wantM, wantV := make([]float32, 8), make([]float32, 8)
	for c := range 8 {
		var vals []float64
		for n := range 2 {
			for _, v := range h[(n*8+c)*16 : (n*8+c+1)*16] {
				vals = append(vals, float64(v))
			}
		}
		var m, q float64
		for _, v := range vals {
			m += v
		}
		m /= float64(len(vals))
		for _, v := range vals {
			q += (v - m) * (v - m)
		}
		wantM[c] = float32(0.9*float64(feeds["rm"][c]) + 0.1*m)
		wantV[c] = float32(0.9*float64(feeds["rv"][c]) + 0.1*q/float64(len(vals)-1))
	}
	closeTo(t, "running mean", first[k], wantM, 1e-5, 1e-4)
	closeTo(t, "running var", first[k+1], wantV, 1e-5, 1e-4)
}

// TestPoolNormGradAndHVP: x -> group_norm -> leaky_relu -> maxpool ->
// upsample -> concat with x -> sum of squares: the gradient and the
// Hessian-vector product against central differences of the loss and of
// the gradient along a direction, on both executors.
func TestPoolNormGradAndHVP(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	g := New()
	x := g.Param("x", 2, 4, 4, 4)
	w, b := g.Param("w", 4), g.Param("b", 4)
	h := g.LeakyRelu(g.GroupNorm(x, w, b, 2), 0.1)
	h = g.UpsampleNearest2d(g.MaxPool2d(h, 2, 0), 2)
	loss := g.SumSq(g.Concat(1, h, g.Scale(x, 0.5)))
	ps := []*Node{x, w, b}
	grads := g.Grad(loss, ps...)
	params, feeds := map[string][]float32{}, map[string][]float32{}
	hv := mustJVP(t, g, grads, randTangents(g, rng, ps, params, feeds, -1, 1))
	prog := mustCompile(t, g, CompileOptions{}, append(append([]*Node{loss}, grads...), hv...)...)
	vk := onVulkan(t, prog)
	var ref [][]float32
	for _, e := range []Executor{prog.OnCPU(), vk} {
		name := "cpu"
		if e == Executor(vk) {
			name = "vulkan"
		}
		setParams(t, e, params)
		got := mustRun(t, e, feeds)
		if ref == nil {
			ref = got
		} else {
			for i := range got {
				closeTo(t, fmt.Sprint("vulkan vs cpu output ", i), got[i], ref[i], 1e-5, 1e-4)
			}
		}
		const h = 1e-3
		plus, minus := runShifted(t, e, params, feeds, h)
		dot := 0.0
		for i, p := range ps {
			for j, gj := range got[1+i] {
				dot += float64(gj) * float64(feeds["v"+p.Name()][j])
			}
		}
		fd := (float64(plus[0][0]) - float64(minus[0][0])) / (2 * h)
		closeTo(t, name+" <grad, v>", []float32{float32(dot)}, []float32{float32(fd)}, 0, 2e-2)
		for i, p := range ps {
			closeTo(t, name+" hvp "+p.Name(), got[1+len(ps)+i], centralDiff(plus[1+i], minus[1+i], h), 3e-3, 2e-2)
		}
	}
}

// TestPoolNormShapeErrors: bad shapes stick to the graph, naming the op
// and the shapes.
func TestPoolNormShapeErrors(t *testing.T) {
	checkShapeErrors(t, []shapeErrorCase{
		{"maxpool 3-D", func(g *Graph) { g.MaxPool2d(g.Input("x", 2, 4, 4), 2, 2) }, []string{"maxpool2d", "2x4x4"}},
		{"maxpool window", func(g *Graph) { g.MaxPool2d(g.Input("x", 1, 1, 2, 5), 3, 1) }, []string{"maxpool2d", "1x1x2x5"}},
		{"upsample 2-D", func(g *Graph) { g.UpsampleNearest2d(g.Input("x", 4, 4), 2) }, []string{"upsample_nearest2d", "4x4"}},
		{"upsample backward", func(g *Graph) { g.UpsampleNearest2dBackward(g.Input("x", 1, 1, 3, 4), 2) }, []string{"upsample_nearest2d backward", "1x1x3x4"}},
		{"concat", func(g *Graph) { g.Concat(1, g.Input("a", 2, 3, 4), g.Input("b", 2, 3, 5)) }, []string{"concat", "2x3x5"}},
		{"concat axis", func(g *Graph) { g.Concat(3, g.Input("a", 2, 3), g.Input("b", 2, 3)) }, []string{"concat", "axis 3"}},
		{"split", func(g *Graph) { g.Split(g.Input("x", 2, 5), 1, 2, 2) }, []string{"split", "2x5"}},
		{"group_norm groups", func(g *Graph) { g.GroupNorm(g.Input("x", 2, 6, 3), g.Input("w", 6), g.Input("b", 6), 4) }, []string{"group_norm", "2x6x3"}},
		{"group_norm weight", func(g *Graph) { g.GroupNorm(g.Input("x", 2, 6, 3), g.Input("w", 3), g.Input("b", 6), 2) }, []string{"group_norm", "2x6x3"}},
		{"batch_norm running", func(g *Graph) {
			g.BatchNorm(g.Input("x", 2, 3, 4), g.Input("w", 3), g.Input("b", 3), g.Input("rm", 3), g.Input("rv", 4), kernels.BNConfig{Train: true})
		}, []string{"batch_norm", "running_var"}},
		{"batch_norm one value", func(g *Graph) {
			g.BatchNorm(g.Input("x", 1, 3), g.Input("w", 3), g.Input("b", 3), g.Input("rm", 3), g.Input("rv", 3), kernels.BNConfig{Train: true})
		}, []string{"batch_norm", "1x3"}},
	})
	// The statistics are not differentiable: a loss on the running mean
	// is refused rather than silently given a zero gradient.
	g := New()
	x := g.Param("x", 2, 3, 4)
	_, nm, _ := g.BatchNorm(x, g.Input("w", 3), g.Input("b", 3), g.Input("rm", 3), g.Input("rv", 3), kernels.BNConfig{Train: true, Momentum: 0.1})
	g.Grad(g.Sum(nm), x)
	if g.Err() == nil || !strings.Contains(g.Err().Error(), "not differentiable") {
		t.Errorf("gradient through the running mean: err = %v", g.Err())
	}
}
