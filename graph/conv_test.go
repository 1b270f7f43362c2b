package graph

import (
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// convCases: every member of the convolution family, forward and
// reverse over reverse, with and without bias, exact and inexact
// geometries (an inexact conv2d's input gradient cannot be a
// conv_transpose2d with a bias).
func convCases() []opCase {
	inexact := kernels.ConvParams{N: 1, C: 2, H: 6, W: 6, K: 3, KH: 3, KW: 3, Stride: 2, Pad: 1} // y 3x3, back to 5x5 != 6x6
	return []opCase{
		{name: "conv2d 3x3 pad 1 bias", shapes: []Shape{{2, 3, 5, 5}, {4, 3, 3, 3}, {4}}, lo: -0.7, hi: 0.7,
			build: func(g *Graph, in []*Node) *Node { return g.Conv2d(in[0], in[1], in[2], 1, 1) }},
		{name: "conv2d 4x4 stride 2 pad 1", shapes: []Shape{{1, 2, 6, 6}, {3, 2, 4, 4}}, lo: -0.7, hi: 0.7,
			build: func(g *Graph, in []*Node) *Node { return g.Conv2d(in[0], in[1], nil, 2, 1) }},
		{name: "conv2d 3x3 stride 2 pad 1 inexact bias", shapes: []Shape{{1, 2, 6, 6}, {3, 2, 3, 3}, {3}}, lo: -0.7, hi: 0.7,
			build: func(g *Graph, in []*Node) *Node { return g.Conv2d(in[0], in[1], in[2], 2, 1) }},
		{name: "conv2d 5x3 rectangular", shapes: []Shape{{2, 1, 6, 5}, {2, 1, 5, 3}}, lo: -0.7, hi: 0.7,
			build: func(g *Graph, in []*Node) *Node { return g.Conv2d(in[0], in[1], nil, 1, 2) }},
		{name: "conv_transpose2d 4x4 stride 2 pad 1 bias", shapes: []Shape{{2, 3, 3, 3}, {3, 2, 4, 4}, {2}}, lo: -0.7, hi: 0.7,
			build: func(g *Graph, in []*Node) *Node { return g.ConvTranspose2d(in[0], in[1], in[2], 2, 1) }},
		{name: "conv_transpose2d 1x1 to 4x4 bias", shapes: []Shape{{2, 4, 1, 1}, {4, 3, 4, 4}, {3}}, lo: -0.7, hi: 0.7,
			build: func(g *Graph, in []*Node) *Node { return g.ConvTranspose2d(in[0], in[1], in[2], 1, 0) }},
		{name: "conv2d input grad inexact", shapes: []Shape{{1, 3, 3, 3}, {3, 2, 3, 3}}, lo: -0.7, hi: 0.7,
			build: func(g *Graph, in []*Node) *Node { return g.Apply(convOp{inexact, convInput}, in...) }},
		{name: "conv2d_weight_grad inexact", shapes: []Shape{{1, 2, 6, 6}, {1, 3, 3, 3}}, lo: -0.7, hi: 0.7,
			build: func(g *Graph, in []*Node) *Node { return g.Apply(convOp{inexact, convWGrad}, in...) }},
	}
}

// TestConvShapeErrors: bad shapes and geometries stick to the graph,
// naming the op and the shapes.
func TestConvShapeErrors(t *testing.T) {
	p := kernels.ConvParams{N: 1, C: 2, H: 6, W: 6, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 1}
	checkShapeErrors(t, []shapeErrorCase{
		{"conv2d channels", func(g *Graph) { g.Conv2d(g.Input("x", 2, 3, 8, 8), g.Input("w", 4, 2, 3, 3), nil, 1, 1) }, []string{"conv2d", "2x3x8x8", "4x2x3x3"}},
		{"conv2d 3-D", func(g *Graph) { g.Conv2d(g.Input("x", 3, 8, 8), g.Input("w", 4, 3, 3, 3), nil, 1, 1) }, []string{"conv2d", "3x8x8"}},
		{"conv2d bias", func(g *Graph) {
			g.Conv2d(g.Input("x", 2, 3, 8, 8), g.Input("w", 4, 3, 3, 3), g.Input("b", 3), 1, 1)
		}, []string{"conv2d", "bias 3", "4x3x3x3"}},
		{"conv2d kernel", func(g *Graph) { g.Conv2d(g.Input("x", 1, 1, 2, 2), g.Input("w", 1, 1, 5, 5), nil, 1, 0) }, []string{"conv2d", "1x1x2x2", "1x1x5x5"}},
		{"conv2d stride", func(g *Graph) { g.Conv2d(g.Input("x", 1, 1, 8, 8), g.Input("w", 1, 1, 3, 3), nil, 5, 1) }, []string{"conv2d", "stride 5"}},
		{"conv2d pad", func(g *Graph) { g.Conv2d(g.Input("x", 1, 1, 8, 8), g.Input("w", 1, 1, 3, 3), nil, 1, 3) }, []string{"conv2d", "pad 3"}},
		{"conv_transpose2d layout", func(g *Graph) {
			g.ConvTranspose2d(g.Input("x", 2, 4, 1, 1), g.Input("w", 3, 4, 4, 4), nil, 1, 0)
		}, []string{"conv_transpose2d", "2x4x1x1", "3x4x4x4"}},
		{"conv_transpose2d bias", func(g *Graph) {
			g.ConvTranspose2d(g.Input("x", 2, 4, 1, 1), g.Input("w", 4, 3, 4, 4), g.Input("b", 4), 1, 0)
		}, []string{"conv_transpose2d", "bias 4"}},
		{"conv_transpose2d pad", func(g *Graph) {
			g.ConvTranspose2d(g.Input("x", 1, 2, 2, 2), g.Input("w", 2, 2, 2, 2), nil, 1, 2)
		}, []string{"conv_transpose2d", "1x2x2x2", "pad 2"}},
		{"weight grad operand", func(g *Graph) {
			g.Apply(convOp{p, convWGrad}, g.Input("x", 1, 2, 6, 6), g.Input("gy", 1, 3, 5, 5))
		}, []string{"conv2d_weight_grad", "1x3x5x5", "1x3x6x6"}},
		{"inexact input grad with bias", func(g *Graph) {
			q := p
			q.Stride = 2
			g.Apply(convOp{q, convInput}, g.Input("gy", 1, 3, 3, 3), g.Input("w", 3, 2, 3, 3), g.Input("b", 2))
		}, []string{"conv_transpose2d", "exact"}},
	})
}

// checkGradHVP compiles loss, its gradients with respect to ps and their
// forward-over-reverse products along random directions, runs them on the
// CPU (and on Vulkan when vk is set, which must agree), and checks the
// gradients against central differences of the loss (fullGrad: every
// element; otherwise the directional derivative) and the HVPs against
// central differences of the gradients.
func checkGradHVP(t *testing.T, g *Graph, loss *Node, ps []*Node, feeds, params map[string][]float32, rng *rand.Rand, vulkan, fullGrad bool) {
	t.Helper()
	grads := g.Grad(loss, ps...)
	tan := map[*Node]*Node{}
	for _, p := range ps {
		tan[p] = g.Input("v"+p.Name(), p.Shape()...)
		feeds["v"+p.Name()] = randVec(rng, p.Shape().Len(), -1, 1)
	}
	hv := mustJVP(t, g, grads, tan)
	prog := mustCompile(t, g, CompileOptions{}, append(append([]*Node{loss}, grads...), hv...)...)
	var want [][]float32
	if vulkan {
		want = runBoth(t, prog, params, feeds)
	} else {
		cpu := prog.OnCPU()
		setParams(t, cpu, params)
		want = mustRun(t, cpu, feeds)
	}

	const h = 1e-3
	le := mustCompile(t, g, CompileOptions{}, loss).OnCPU()
	if fullGrad {
		setParams(t, le, params)
		for i, p := range ps {
			closeTo(t, "dloss/d"+p.Name(), want[1+i], fdGrad(t, le, feeds, params, p.Name(), 1e-3), 2e-3, 2e-2)
		}
	} else {
		lplus, lminus := runShifted(t, le, params, feeds, h)
		dot := 0.0
		for i, p := range ps {
			for j, gj := range want[1+i] {
				dot += float64(gj) * float64(feeds["v"+p.Name()][j])
			}
		}
		closeTo(t, "<grad, v>", []float32{float32(dot)}, centralDiff(lplus[0], lminus[0], h), 0, 2e-2)
	}

	plus, minus := runShifted(t, mustCompile(t, g, CompileOptions{}, grads...).OnCPU(), params, feeds, h)
	for i, p := range ps {
		closeTo(t, "hvp "+p.Name(), want[1+len(ps)+i], centralDiff(plus[i], minus[i], h), 3e-3, 2e-2)
	}
}

func randParams(rng *rand.Rand, ps []*Node, scale float64) map[string][]float32 {
	params := map[string][]float32{}
	for _, p := range ps {
		params[p.Name()] = randVec(rng, p.Shape().Len(), -scale, scale)
	}
	return params
}

// TestConvNet is the graph issue's acceptance test: a small conv net with
// group norm, leaky ReLU and max pooling, x [2,3,8,8] -> conv 3x3 pad 1
// (3->4) -> group_norm (2 groups) -> leaky_relu 0.2 -> maxpool 2 -> conv
// 4x4 stride 2 pad 1 (4->6) -> mean of squares against a target. Every
// parameter's gradient (element by element) and HVP match finite
// differences, and the Vulkan executor matches the CPU one.
func TestConvNet(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	g := New()
	x, y := g.Input("x", 2, 3, 8, 8), g.Input("y", 2, 6, 2, 2)
	w1, b1 := g.Param("w1", 4, 3, 3, 3), g.Param("b1", 4)
	gw, gb := g.Param("gw", 4), g.Param("gb", 4)
	w2, b2 := g.Param("w2", 6, 4, 4, 4), g.Param("b2", 6)
	h := g.Conv2d(x, w1, b1, 1, 1)
	h = g.LeakyRelu(g.GroupNorm(h, gw, gb, 2), 0.2)
	h = g.Conv2d(g.MaxPool2d(h, 2, 0), w2, b2, 2, 1)
	loss := g.Mean(g.Square(g.Sub(h, y)))
	ps := []*Node{w1, b1, gw, gb, w2, b2}
	params := randParams(rng, ps, 0.5)
	for i := range params["gw"] {
		params["gw"][i] += 1
	}
	feeds := map[string][]float32{"x": randVec(rng, 2*3*8*8, -1, 1), "y": randVec(rng, 2*6*2*2, -1, 1)}
	checkGradHVP(t, g, loss, ps, feeds, params, rng, true, true)
}

// TestConvEmbeddingHVP: the paper's embedding shape, two 5x5 convolutions
// with pooling (6->8 pad 2, relu, maxpool 2, 8->8 pad 2, relu, maxpool 2),
// flattened into a linear layer: the forward-over-reverse HVP matches
// finite differences of the gradient, on both executors.
func TestConvEmbeddingHVP(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	g := New()
	x, y := g.Input("x", 2, 6, 8, 8), g.Input("y", 2, 5)
	w1, b1 := g.Param("w1", 8, 6, 5, 5), g.Param("b1", 8)
	w2, b2 := g.Param("w2", 8, 8, 5, 5), g.Param("b2", 8)
	wl, bl := g.Param("wl", 32, 5), g.Param("bl", 5)
	h := g.MaxPool2d(g.Relu(g.Conv2d(x, w1, b1, 1, 2)), 2, 0)
	h = g.MaxPool2d(g.Relu(g.Conv2d(h, w2, b2, 1, 2)), 2, 0)
	out := g.Linear(g.Reshape(h, 2, 32), wl, bl)
	loss := g.Mean(g.Square(g.Sub(out, y)))
	ps := []*Node{w1, b1, w2, b2, wl, bl}
	params := randParams(rng, ps, 0.3)
	feeds := map[string][]float32{"x": randVec(rng, 2*6*8*8, -1, 1), "y": randVec(rng, 2*5, -1, 1)}
	checkGradHVP(t, g, loss, ps, feeds, params, rng, true, false)
}

// TestConvOnVulkan: a small decoder (conv_transpose2d 1x1 -> 4x4 and 4x4
// stride 2 pad 1, both with bias) and an inexact strided conv2d, with the
// gradients, their forward-over-reverse products and the reverse-over-
// reverse products: every node of the Vulkan executor agrees with the CPU
// one.
func TestConvOnVulkan(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	g := New()
	z := g.Param("z", 2, 4, 1, 1)
	w1, b1 := g.Param("w1", 4, 3, 4, 4), g.Param("b1", 3)
	w2, b2 := g.Param("w2", 3, 2, 4, 4), g.Param("b2", 2)
	w3, b3 := g.Param("w3", 2, 2, 3, 3), g.Param("b3", 2)
	h := g.LeakyRelu(g.ConvTranspose2d(z, w1, b1, 1, 0), 0.2) // [2,3,4,4]
	h = g.Tanh(g.ConvTranspose2d(h, w2, b2, 2, 1))            // [2,2,8,8]
	h = g.Conv2d(h, w3, b3, 2, 1)                             // [2,2,4,4]; its input gradient is inexact
	loss := g.Sum(g.Sin(h))
	ps := []*Node{z, w1, b1, w2, b2, w3, b3}
	grads := g.Grad(loss, ps...)
	tan := map[*Node]*Node{}
	params := randParams(rng, ps, 0.7)
	feeds := map[string][]float32{}
	var dot *Node
	for i, p := range ps {
		tan[p] = g.Input("v"+p.Name(), p.Shape()...)
		feeds["v"+p.Name()] = randVec(rng, p.Shape().Len(), -1, 1)
		dot = addMaybe(g, dot, g.Sum(g.Mul(grads[i], tan[p])))
	}
	hv := g.JVP(grads, tan)
	rr := g.Grad(dot, ps...)
	if g.Err() != nil {
		t.Fatal(g.Err())
	}
	prog := mustCompile(t, g, CompileOptions{KeepAll: true}, append(append(append([]*Node{loss}, grads...), hv...), rr...)...)
	crossCheck(t, prog, params, feeds, 1e-4)
}
