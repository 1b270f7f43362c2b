package graph

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// gradCAMCases are the differentiable steps of Grad-CAM for TestClosure:
// the bilinear resize (up, down, align_corners) and its adjoint, and the
// per-channel spatial mean that weighs the channels (a mean over H and
// W; on 2x2 planes, since a mean over many pixels shrinks the second
// derivatives below what float32 finite differences resolve), each
// checked against finite differences there.
func gradCAMCases() []opCase {
	return []opCase{
		{name: "resize_bilinear2d up", shapes: []Shape{{1, 2, 2, 3}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.ResizeBilinear2d(in[0], 5, 7, false) }},
		{name: "resize_bilinear2d down align_corners", shapes: []Shape{{2, 1, 5, 4}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.ResizeBilinear2d(in[0], 3, 2, true) }},
		{name: "resize_bilinear2d backward", shapes: []Shape{{1, 2, 6, 4}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.ResizeBilinear2dBackward(in[0], 3, 3, false) }},
		{name: "channel weights: mean over H, W", shapes: []Shape{{2, 3, 2, 2}}, lo: -1, hi: 1,
			build: func(g *Graph, in []*Node) *Node { return g.Mean(in[0], 2, 3) }},
	}
}

// TestGradCAMOpsOnVulkan: the Grad-CAM and PCA ops (resize and its
// derivatives, min-max normalisation, the jet blend, svd_flip's sign and
// the eigen-decomposition) agree between the Vulkan and CPU executors
// node by node.
func TestGradCAMOpsOnVulkan(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 18))
	g := New()
	x := g.Param("x", 2, 3, 4, 4)
	img := g.Input("img", 6, 3, 9, 9)
	up := g.ResizeBilinear2d(x, 9, 9, false)
	loss := g.Sum(g.Sin(up))
	gx := g.Grad(loss, x)[0]
	hv := mustJVP(t, g, []*Node{gx}, map[*Node]*Node{x: g.Input("vx", 2, 3, 4, 4)})
	heat := g.NormalizeMinMax(g.Reshape(up, 6, 9, 9))
	blend := g.JetBlend(heat, img)
	vals, vecs := g.SymEig(g.Input("a", 2, 5, 5))
	sign := g.SignOfLargest(g.Reshape(vecs, 10, 5))
	prog := mustCompile(t, g, CompileOptions{KeepAll: true}, loss, gx, hv[0], heat, blend, vals, vecs, sign)
	params := map[string][]float32{"x": randVec(rng, 96, -1, 1)}
	feeds := map[string][]float32{"img": randVec(rng, 6*3*81, 0, 1), "vx": randVec(rng, 96, -1, 1), "a": randSym(rng, 2, 5)}
	crossCheck(t, prog, params, feeds, 1e-4)
	out := runBoth(t, prog, params, feeds)
	// Every eigenvector has its largest entry positive.
	for i, s := range out[7] {
		if s != 1 {
			t.Errorf("eigenvector %d: sign of its largest entry %v, want 1", i, s)
		}
	}
}

// randSym returns batch random symmetric n x n matrices.
func randSym(rng *rand.Rand, batch, n int) []float32 {
	a := randVec(rng, batch*n*n, -1, 1)
	for m := 0; m < len(a); m += n * n {
		for i := range n {
			for j := range i {
				a[m+i*n+j] = a[m+j*n+i]
			}
		}
	}
	return a
}

// TestGradCAMOpsNotDifferentiable: a derivative through the rowwise ops
// or the eigen-decomposition is a graph error naming the op, and bad
// shapes name the op and the shapes.
func TestGradCAMOpsNotDifferentiable(t *testing.T) {
	check := func(what string, f func(g *Graph, x *Node) *Node, mode string) {
		t.Helper()
		g := New()
		x := g.Param("x", 4, 4)
		y := f(g, x)
		if mode == "grad" {
			g.Grad(g.Sum(y), x)
		} else {
			g.JVP([]*Node{y}, map[*Node]*Node{x: g.Input("v", 4, 4)})
		}
		op, _, _ := strings.Cut(what, " ")
		if g.Err() == nil || !strings.Contains(g.Err().Error(), "not differentiable") || !strings.Contains(g.Err().Error(), op) {
			t.Errorf("%s through %s: err = %v", mode, what, g.Err())
		}
	}
	for _, mode := range []string{"grad", "jvp"} {
		check("row_minmax", func(g *Graph, x *Node) *Node { return g.NormalizeMinMax(x) }, mode)
		check("row_sign", func(g *Graph, x *Node) *Node { return g.SignOfLargest(x) }, mode)
		check("row_jet", func(g *Graph, x *Node) *Node { return g.JetBlend(x, g.Input("img", 4, 3, 4)) }, mode)
		check("symeig values", func(g *Graph, x *Node) *Node { v, _ := g.SymEig(x); return v }, mode)
		check("symeig vectors", func(g *Graph, x *Node) *Node { _, v := g.SymEig(x); return v }, mode)
	}
	checkShapeErrors(t, []shapeErrorCase{
		{"resize 3-D", func(g *Graph) { g.ResizeBilinear2d(g.Input("x", 2, 4, 4), 8, 8, false) }, []string{"resize_bilinear2d", "2x4x4"}},
		{"resize to nothing", func(g *Graph) { g.ResizeBilinear2d(g.Input("x", 1, 2, 4, 4), 0, 8, false) }, []string{"resize_bilinear2d", "0x8"}},
		{"jet image", func(g *Graph) { g.JetBlend(g.Input("h", 2, 4, 4), g.Input("i", 2, 1, 4, 4)) }, []string{"row_jet", "2x1x4x4"}},
		{"sign of a vector", func(g *Graph) { g.SignOfLargest(g.Input("x", 5)) }, []string{"row_sign", "5"}},
		{"symeig not square", func(g *Graph) { g.SymEig(g.Input("a", 3, 4)) }, []string{"symeig", "3x4"}},
	})
}
