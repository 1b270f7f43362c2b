package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// sameBits fails unless got and want are identical bit for bit (NaNs
// included).
func sameBits(t testing.TB, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %g (%#08x), unfused %g (%#08x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// perExampleProblem is a small cousin of the meta-training step with every
// weight adapted per example: per-example copies of w (a broadcast over
// the batch), one inner SGD step on them (mul by the rate, sub,
// stop_gradient), the task loss with the adapted weights, and its
// gradients and a Hessian-vector product, so forward, VJP, JVP and
// tangent-of-VJP chains all meet the fusion pass. The weights' gradient
// sums over the batch (a reduction after an elementwise chain).
func perExampleProblem(t *testing.T, rng *rand.Rand, batch, n int) (g *Graph, outs []*Node, params, feeds map[string][]float32) {
	t.Helper()
	g = New()
	x, y := g.Input("x", batch, 1, n), g.Input("y", batch, 1, n)
	w, b := g.Param("w", n, n), g.Param("b", n)
	wb := g.StopGradient(g.BroadcastTo(w, batch, n, n))
	inner := func(w *Node) *Node {
		return g.Sigmoid(g.Add(g.MatMul(x, w), g.Scale(b, 0.5)))
	}
	lossN := g.Mean(g.Square(g.Sub(inner(wb), g.Sin(x))))
	gw := g.Grad(lossN, wb)[0]
	adapted := g.StopGradient(g.Sub(wb, g.Scale(gw, 0.1)))
	h := inner(adapted)
	d := g.Sub(g.Mul(h, g.AddScalar(g.Neg(h), 2)), y)
	loss := g.Add(g.Mean(g.Square(d)), g.Scale(g.Sum(g.Square(g.Tanh(b))), 0.01))
	grads := g.Grad(loss, w, b)
	params, feeds = map[string][]float32{}, map[string][]float32{
		"x": randVec(rng, batch*n, -1, 1), "y": randVec(rng, batch*n, -1, 1)}
	// Zeros in x make outer products of -0 (a negative times 0), which
	// the matmul kernel turns into +0 and fusion must too.
	for i := 0; i < len(feeds["x"]); i += 5 {
		feeds["x"][i] = 0
	}
	hv := mustJVP(t, g, grads, randTangents(g, rng, []*Node{w, b}, params, feeds, -0.8, 0.8))
	return g, append(append([]*Node{loss}, grads...), hv...), params, feeds
}

// cnProblem is a conditional-normalization layer between two
// elementwise ops, x [N,C,spatial...]: tanh(cn_affine(sin(x), gamma,
// beta)) against y, with the loss's gradients and a Hessian-vector
// product in gamma and beta. The affine fuses into both its readers (the
// forward's tanh and the backward's tanh'), which compute it again, so
// it leaves the program; its tangent stays, as its reader there would
// need more inputs than the fused kernel binds; the backward kernels are
// not elementwise.
func cnProblem(t *testing.T, rng *rand.Rand, shape ...int) (g *Graph, outs []*Node, params, feeds map[string][]float32) {
	t.Helper()
	g = New()
	x, y := g.Input("x", shape...), g.Input("y", shape...)
	gamma, beta := g.Param("gamma", shape[0], shape[1]), g.Param("beta", shape[0], shape[1])
	h := g.Tanh(g.CNAffine(g.Sin(x), gamma, beta))
	loss := g.Mean(g.Square(g.Sub(h, y)))
	grads := g.Grad(loss, gamma, beta)
	n := Shape(shape).Len()
	params, feeds = map[string][]float32{}, map[string][]float32{"x": randVec(rng, n, -2, 2), "y": randVec(rng, n, -1, 1)}
	hv := mustJVP(t, g, grads, randTangents(g, rng, []*Node{gamma, beta}, params, feeds, -1.5, 1.5))
	return g, append(append([]*Node{loss}, grads...), hv...), params, feeds
}

// TestFusionBitwise: fused programs give the unfused programs' bits, on
// Vulkan and on the CPU, with fewer dispatches; a run split into row
// blocks (a small buffer limit) gives them too.
//
// The per-example problem is compiled without reassociation (see
// TestReassociation), so that fusion meets the per-example copies.
func TestFusionBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	v := openVulkan(t)
	mlpG, mlpLoss, _, mlpGrads, mlpHV, mlpParams, mlpFeeds := mlpProblem(t, rng, 33, 12)
	elemG := New()
	elemLoss, ew, eb := elementwiseModel(elemG)
	elemOuts := append([]*Node{elemLoss}, elemG.Grad(elemLoss, ew, eb)...)
	elemParams := map[string][]float32{"w": randVec(rng, 5, -1, 1), "b": randVec(rng, 5, -1, 1)}
	elemFeeds := map[string][]float32{"x": randVec(rng, 20, -1, 1), "y": randVec(rng, 20, -1, 1)}
	peG, peOuts, peParams, peFeeds := perExampleProblem(t, rng, 128, 12)
	cnG, cnOuts, cnParams, cnFeeds := cnProblem(t, rng, 16, 24)
	cn4G, cn4Outs, cn4Params, cn4Feeds := cnProblem(t, rng, 3, 5, 4, 6)
	for _, c := range []struct {
		name          string
		g             *Graph
		outs          []*Node
		params, feeds map[string][]float32
		maxBuffer     int64
		gone          []string // ops that must all be fused away
	}{
		{"elementwise model", elemG, elemOuts, elemParams, elemFeeds, 0, nil},
		{"MLP with HVP", mlpG, append(append([]*Node{mlpLoss}, mlpGrads...), mlpHV...), mlpParams, mlpFeeds, 0, nil},
		{"per-example weights", peG, peOuts, peParams, peFeeds, 0, nil},
		{"CN affine of an MLP layer", cnG, cnOuts, cnParams, cnFeeds, 0, []string{"cn_affine"}},
		{"CN affine of feature maps", cn4G, cn4Outs, cn4Params, cn4Feeds, 0, []string{"cn_affine"}},
		// 128 copies of a 12x12 weight take 73728 bytes: two pieces.
		{"per-example weights in row blocks", peG, peOuts, peParams, peFeeds, 36864, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			progs := map[bool]*Program{}
			results := map[bool][][]float32{}
			dispatches := map[bool]int{}
			for _, fusion := range []bool{false, true} {
				p := mustCompile(t, c.g, CompileOptions{NoFusion: !fusion, NoReassoc: true}, c.outs...)
				progs[fusion] = p
				e, err := p.OnVulkan(v, VulkanOptions{MaxBufferBytes: c.maxBuffer})
				if err != nil {
					t.Fatal(err)
				}
				setParams(t, e, c.params)
				results[fusion] = mustRun(t, e, c.feeds)
				dispatches[fusion] = e.Dispatches()
				if c.maxBuffer > 0 && len(e.Memory().Buffers) < 2 {
					t.Errorf("buffer limit %d: the arena is in %d buffer", c.maxBuffer, len(e.Memory().Buffers))
				}
				e.Close()
			}
			for _, n := range progs[true].order {
				if n.kind == kindOp && slices.Contains(c.gone, n.op.Name()) {
					t.Errorf("%v was not fused", n)
				}
			}
			st := progs[true].Stats()
			t.Logf("%d ops fused into the others: %d ops, %d dispatches (unfused: %d ops, %d dispatches)",
				st.Fused, st.Ops, dispatches[true], progs[false].Stats().Ops, dispatches[false])
			if st.Fused == 0 || dispatches[true] >= dispatches[false] || st.Ops+st.Fused != progs[false].Stats().Ops {
				t.Errorf("fusion merged %d ops: %d ops and %d dispatches against %d and %d", st.Fused, st.Ops, dispatches[true], progs[false].Stats().Ops, dispatches[false])
			}
			for i := range results[false] {
				sameBits(t, fmt.Sprint("vulkan output ", i), results[true][i], results[false][i])
			}
			cpuFused, cpuPlain := progs[true].OnCPU(), progs[false].OnCPU()
			setParams(t, cpuFused, c.params)
			setParams(t, cpuPlain, c.params)
			want, got := mustRun(t, cpuPlain, c.feeds), mustRun(t, cpuFused, c.feeds)
			for i := range want {
				sameBits(t, fmt.Sprint("cpu output ", i), got[i], want[i])
			}
		})
	}
}

// TestFusionGroups: what a group may absorb. A value that another op
// outside the group reads, or that the program outputs, stays in memory;
// a chain whose intermediates nothing else reads becomes one op; the pass
// is deterministic.
func TestFusionGroups(t *testing.T) {
	g := New()
	x := g.Input("x", 8, 4)
	b := g.Param("b", 4)
	shared := g.Tanh(g.Add(x, b)) // read by the group below and by a sum
	left := g.Square(g.Scale(shared, 2))
	right := g.Exp(g.Neg(shared))
	kept := g.Sin(g.Mul(left, right)) // an output, and read by the group below
	loss := g.Add(g.Sum(g.Sqrt(g.AddScalar(g.Square(kept), 1))), g.Sum(shared))
	p := mustCompile(t, g, CompileOptions{}, loss, kept)
	dump := p.Dump()
	t.Log(dump)
	for _, want := range []string{
		"fused(add, tanh)",                         // shared
		"fused(mul 2, square, neg, exp, mul, sin)", // a DAG: both branches read shared
		"fused(square, add 1, sqrt)",               // reads kept
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("the program has no %s", want)
		}
	}
	if st := p.Stats(); st.Ops != 6 || st.Fused != 8 {
		t.Errorf("%d ops with %d fused, want 6 (three groups, two sums, an add of scalars) with 8", st.Ops, st.Fused)
	}
	if again := mustCompile(t, g, CompileOptions{}, loss, kept).Dump(); again != dump {
		t.Errorf("a second compilation differs:\n%s", again)
	}
	for _, o := range []CompileOptions{{NoFusion: true}, {KeepAll: true}} {
		if st := mustCompile(t, g, o, loss, kept).Stats(); st.Fused != 0 {
			t.Errorf("%+v: %d ops fused", o, st.Fused)
		}
	}
	rng := rand.New(rand.NewPCG(20, 2))
	runBoth(t, p, map[string][]float32{"b": randVec(rng, 4, -1, 1)}, map[string][]float32{"x": randVec(rng, 32, -1, 1)})
}

// TestFusionReductions: a sum, mean or sum of squares over the leading axis
// of a chain that only it reads becomes one fused op, bit for bit the
// reduce kernel's sums, also when its operand is split by rows into
// pieces that the fused op sums block by block.
func TestFusionReductions(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 4))
	g := New()
	x, w := g.Input("x", 40, 12), g.Param("w", 12)
	big := g.Input("big", 128, 65536)
	shared := g.Sin(big) // 32 MiB, read by two reductions
	outs := []*Node{
		g.Sum(g.Mul(g.Tanh(x), w), 0),
		g.Mean(g.Exp(g.Neg(x)), 0),
		g.SumSq(g.AddScalar(x, 1), 0),
		g.Mean(g.Square(shared), 0),
		g.Sum(g.Scale(shared, 2), 0),
	}
	params := map[string][]float32{"w": randVec(rng, 12, -1, 1)}
	feeds := map[string][]float32{"x": randVec(rng, 480, -2, 2), "big": randVec(rng, 128*65536, -3, 3)}
	fused, plain := mustCompile(t, g, CompileOptions{}, outs...), mustCompile(t, g, CompileOptions{NoFusion: true}, outs...)
	dump := fused.Dump()
	for _, want := range []string{"fused(tanh, mul, sum[0])", "fused(neg, exp, mean[0])", "fused(add 1, sumsq[0])", "fused(square, mean[0])", "fused(mul 2, sum[0])"} {
		if !strings.Contains(dump, want) {
			t.Errorf("the program has no %s:\n%s", want, dump)
		}
	}
	v := openVulkan(t)
	run := func(p *Program, maxBuffer int64) [][]float32 {
		e, err := p.OnVulkan(v, VulkanOptions{MaxBufferBytes: maxBuffer})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if maxBuffer > 0 && len(e.Memory().Buffers) < 2 {
			t.Errorf("buffer limit %d: the arena is in %d buffer", maxBuffer, len(e.Memory().Buffers))
		}
		setParams(t, e, params)
		return mustRun(t, e, feeds)
	}
	for _, maxBuffer := range []int64{0, 16 << 20} {
		// Split, both sum their blocks and add them up.
		want, got := run(plain, maxBuffer), run(fused, maxBuffer)
		for i := range want {
			sameBits(t, fmt.Sprintf("buffer limit %d, output %d", maxBuffer, i), got[i], want[i])
		}
	}
	cpuFused, cpuPlain := fused.OnCPU(), plain.OnCPU()
	setParams(t, cpuFused, params)
	setParams(t, cpuPlain, params)
	cw, cg := mustRun(t, cpuPlain, feeds), mustRun(t, cpuFused, feeds)
	for i := range cw {
		sameBits(t, fmt.Sprint("cpu output ", i), cg[i], cw[i])
	}
}

// TestFusionSharedOperands: a batched product whose operand copies one
// matrix along the batch reads the matrix itself, with the same bits, and
// the copy is not made; a broadcast that only looks like such a copy (the
// gradient of a sum over axis 1: a [4, 3] tensor read as [4, 1, 3] for a
// [4, 4, 3] operand) is left alone.
func TestFusionSharedOperands(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 5))
	g := New()
	x, w := g.Input("x", 4, 2, 3), g.Param("w", 3, 5)
	shared := g.MatMul(x, g.StopGradient(g.BroadcastTo(w, 4, 3, 5)))
	z, s := g.Input("z", 4, 4, 3), g.Input("s", 4, 3)
	lookalike := g.Grad(g.Sum(g.Mul(g.Sum(z, 1), s)), z)[0]
	if b, ok := lookalike.op.(broadcastOp); !ok || !b.from.Equal(Shape{4, 1, 3}) || !lookalike.in[0].shape.Equal(Shape{4, 3}) {
		t.Fatalf("the gradient of the sum is %v, not a [4, 3] tensor read as [4, 1, 3]", lookalike)
	}
	other := g.MatMul(lookalike, g.Input("y", 4, 3, 5))
	feeds := map[string][]float32{"x": randVec(rng, 24, -1, 1), "z": randVec(rng, 48, -1, 1), "s": randVec(rng, 12, -1, 1), "y": randVec(rng, 60, -1, 1)}
	params := map[string][]float32{"w": randVec(rng, 15, -1, 1)}
	// Reassociation would turn the shared product into one over all rows;
	// this tests what fusion does with the product as written.
	fused, plain := mustCompile(t, g, CompileOptions{NoReassoc: true}, shared, other), mustCompile(t, g, CompileOptions{NoFusion: true, NoReassoc: true}, shared, other)
	if b := fused.body(fused.computed(shared)); b.in[1] != w {
		t.Errorf("the product reads %v, not w:\n%s", b.in[1], fused.Dump())
	}
	if b := fused.body(other); b != other {
		t.Errorf("the product of the look-alike reads %v:\n%s", b.in[0], fused.Dump())
	}
	var results [2][][]float32
	for i, p := range []*Program{plain, fused} {
		e := onVulkan(t, p)
		setParams(t, e, params)
		results[i] = mustRun(t, e, feeds)
	}
	for i := range results[0] {
		sameBits(t, fmt.Sprint("output ", i), results[1][i], results[0][i])
	}
}
