package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

func openVulkan(t testing.TB) *kernels.Vulkan { return kernels.NewVulkan(gputest.Open(t)) }

func randVec(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}

func mustRun(t testing.TB, e Executor, feeds map[string][]float32) [][]float32 {
	t.Helper()
	out, err := e.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// closeTo compares with a mixed tolerance relative to the largest |want|.
func closeTo(t testing.TB, what string, got, want []float32, abs, rel float64) {
	t.Helper()
	kerneltest.Near(t, what, got, want, kerneltest.Tol{Abs: abs, Rel: rel})
}

// elementwiseModel: loss = mean((tanh(x*w + b) - y)^2) + 0.1*sum(sin(w)^2),
// with w [1,5] and b [5] broadcast over x [4,5]: it exercises broadcasting,
// reductions, unary and binary ops and fan-out (w used twice).
func elementwiseModel(g *Graph) (loss, w, b *Node) {
	x := g.Input("x", 4, 5)
	y := g.Input("y", 4, 5)
	w = g.Param("w", 1, 5)
	b = g.Param("b", 5)
	h := g.Tanh(g.Add(g.Mul(x, w), b))
	d := g.Sub(h, y)
	loss = g.Add(g.Mean(g.Square(d)), g.Scale(g.Sum(g.Square(g.Sin(w))), 0.1))
	return loss, w, b
}

// fdGrad is the central-difference gradient of the compiled scalar loss
// with respect to parameter name.
func fdGrad(t testing.TB, e Executor, feeds map[string][]float32, params map[string][]float32, name string, h float64) []float32 {
	t.Helper()
	base := slices.Clone(params[name])
	out := make([]float32, len(base))
	for i := range base {
		at := func(s float64) float64 {
			p := slices.Clone(base)
			p[i] = float32(float64(p[i]) + s)
			if err := e.SetParam(name, p); err != nil {
				t.Fatal(err)
			}
			return float64(mustRun(t, e, feeds)[0][0])
		}
		out[i] = float32((at(h) - at(-h)) / (2 * h))
	}
	if err := e.SetParam(name, base); err != nil {
		t.Fatal(err)
	}
	return out
}

func setParams(t testing.TB, e Executor, params map[string][]float32) {
	t.Helper()
	for k, v := range params {
		if err := e.SetParam(k, v); err != nil {
			t.Fatal(err)
		}
	}
}

// mustCompile compiles outs, failing the test on an error.
func mustCompile(t testing.TB, g *Graph, o CompileOptions, outs ...*Node) *Program {
	t.Helper()
	prog, err := g.Compile(o, outs...)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// mustJVP is g.JVP(grads, tan), failing the test if the graph holds an
// error.
func mustJVP(t testing.TB, g *Graph, grads []*Node, tan map[*Node]*Node) []*Node {
	t.Helper()
	hv := g.JVP(grads, tan)
	if g.Err() != nil {
		t.Fatal(g.Err())
	}
	return hv
}

// randTangents draws, parameter by parameter, a value for each of ps in
// [lo, hi) into params and a direction in [-1, 1) into feeds["v"+name],
// and returns the direction inputs "v"+name it adds to g.
func randTangents(g *Graph, rng *rand.Rand, ps []*Node, params, feeds map[string][]float32, lo, hi float64) map[*Node]*Node {
	tan := map[*Node]*Node{}
	for _, p := range ps {
		params[p.Name()] = randVec(rng, p.Shape().Len(), lo, hi)
		tan[p] = g.Input("v"+p.Name(), p.Shape()...)
		feeds["v"+p.Name()] = randVec(rng, p.Shape().Len(), -1, 1)
	}
	return tan
}

// onVulkan opens prog on a fresh Vulkan executor, closed when the test
// ends.
func onVulkan(t testing.TB, prog *Program) *VulkanExec {
	t.Helper()
	vk, err := prog.OnVulkan(openVulkan(t), VulkanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vk.Close() })
	return vk
}

// cpuAndVulkan opens prog on both executors with params set.
func cpuAndVulkan(t testing.TB, prog *Program, params map[string][]float32) (*CPUExec, *VulkanExec) {
	t.Helper()
	cpu, vk := prog.OnCPU(), onVulkan(t, prog)
	setParams(t, cpu, params)
	setParams(t, vk, params)
	return cpu, vk
}

// runBoth runs prog on the CPU and Vulkan executors with params set,
// checks that every output agrees (abs 1e-5, rel 1e-4 of the CPU's) and
// returns the CPU's outputs.
func runBoth(t testing.TB, prog *Program, params, feeds map[string][]float32) [][]float32 {
	t.Helper()
	cpu, vk := cpuAndVulkan(t, prog, params)
	want, got := mustRun(t, cpu, feeds), mustRun(t, vk, feeds)
	for i := range want {
		closeTo(t, fmt.Sprint("vulkan vs cpu output ", i), got[i], want[i], 1e-5, 1e-4)
	}
	return want
}

// crossCheck runs prog.CrossCheck on a fresh Vulkan device and reports
// every mismatch.
func crossCheck(t testing.TB, prog *Program, params, feeds map[string][]float32, rel float64) {
	t.Helper()
	bad, err := prog.CrossCheck(openVulkan(t), params, feeds, rel)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range bad {
		t.Errorf("mismatch: %v", m)
	}
}

// shiftedParams is params moved by s along the directions feeds["v"+name].
func shiftedParams(params, feeds map[string][]float32, s float32) map[string][]float32 {
	p := map[string][]float32{}
	for k, v := range params {
		p[k] = slices.Clone(v)
		for j := range p[k] {
			p[k][j] += s * feeds["v"+k][j]
		}
	}
	return p
}

// runShifted runs e with params moved by +h and -h along the directions
// feeds["v"+name], and leaves params set on e.
func runShifted(t testing.TB, e Executor, params, feeds map[string][]float32, h float32) (plus, minus [][]float32) {
	t.Helper()
	setParams(t, e, shiftedParams(params, feeds, h))
	plus = mustRun(t, e, feeds)
	setParams(t, e, shiftedParams(params, feeds, -h))
	minus = mustRun(t, e, feeds)
	setParams(t, e, params)
	return plus, minus
}

// centralDiff is (plus - minus) / (2h), element by element.
func centralDiff(plus, minus []float32, h float32) []float32 {
	fd := make([]float32, len(plus))
	for j := range fd {
		fd[j] = (plus[j] - minus[j]) / (2 * h)
	}
	return fd
}

// checkShapeErrors builds each case on a fresh graph and checks that the
// graph holds an error mentioning every one of want.
func checkShapeErrors(t *testing.T, cases []shapeErrorCase) {
	t.Helper()
	for _, c := range cases {
		g := New()
		c.build(g)
		if g.Err() == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(g.Err().Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, g.Err(), w)
			}
		}
	}
}

type shapeErrorCase struct {
	name  string
	build func(g *Graph)
	want  []string
}

// TestGradAndHVP checks Grad against finite differences of the loss and
// HVP against finite differences of Grad, on the CPU and Vulkan executors,
// and that both executors agree.
func TestGradAndHVP(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	g := New()
	loss, w, b := elementwiseModel(g)
	grads := g.Grad(loss, w, b)
	vw, vb := g.Input("vw", 1, 5), g.Input("vb", 5)
	hv := g.JVP(grads, map[*Node]*Node{w: vw, b: vb})
	if g.Err() != nil {
		t.Fatal(g.Err())
	}
	feeds := map[string][]float32{
		"x": randVec(rng, 20, -1, 1), "y": randVec(rng, 20, -1, 1),
		"vw": randVec(rng, 5, -1, 1), "vb": randVec(rng, 5, -1, 1),
	}
	params := map[string][]float32{"w": randVec(rng, 5, -1, 1), "b": randVec(rng, 5, -1, 1)}

	want := runBoth(t, mustCompile(t, g, CompileOptions{}, loss, grads[0], grads[1], hv[0], hv[1]), params, feeds)

	// Gradients against finite differences of the loss (CPU executor:
	// float64 inside each kernel, so differences are clean).
	le := mustCompile(t, g, CompileOptions{}, loss).OnCPU()
	setParams(t, le, params)
	closeTo(t, "dloss/dw", want[1], fdGrad(t, le, feeds, params, "w", 1e-3), 2e-3, 2e-2)
	closeTo(t, "dloss/db", want[2], fdGrad(t, le, feeds, params, "b", 1e-3), 2e-3, 2e-2)

	// HVP against finite differences of the gradient along (vw, vb).
	const h = 1e-3
	plus, minus := runShifted(t, mustCompile(t, g, CompileOptions{}, grads...).OnCPU(), params, feeds, h)
	for k := range 2 {
		closeTo(t, "hvp", want[3+k], centralDiff(plus[k], minus[k], h), 2e-3, 2e-2)
	}
}

// TestReplayBitIdentical: replaying a compiled graph gives the same bits.
func TestReplayBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	g := New()
	loss, w, b := elementwiseModel(g)
	grads := g.Grad(loss, w, b)
	e := onVulkan(t, mustCompile(t, g, CompileOptions{}, loss, grads[0], grads[1]))
	setParams(t, e, map[string][]float32{"w": randVec(rng, 5, -1, 1), "b": randVec(rng, 5, -1, 1)})
	feeds := map[string][]float32{"x": randVec(rng, 20, -1, 1), "y": randVec(rng, 20, -1, 1)}
	first := mustRun(t, e, feeds)
	for range 20 {
		again := mustRun(t, e, feeds)
		for i := range first {
			for j := range first[i] {
				if math.Float32bits(first[i][j]) != math.Float32bits(again[i][j]) {
					t.Fatalf("replay differs at output %d[%d]: %v vs %v", i, j, first[i][j], again[i][j])
				}
			}
		}
	}
}

// TestShapeErrors: mismatches are reported with the op and the shapes.
func TestShapeErrors(t *testing.T) {
	g := New()
	a, b := g.Input("a", 3, 5), g.Input("b", 4, 1)
	g.Mul(a, b)
	if g.Err() == nil || !contains(g.Err().Error(), "mul") || !contains(g.Err().Error(), "3x5") {
		t.Errorf("err = %v", g.Err())
	}
	g = New()
	x := g.Input("x", 3)
	g.Grad(x, x)
	if g.Err() == nil {
		t.Error("Grad of a non-scalar accepted")
	}
	g = New()
	x = g.Input("x", 2)
	p, err := g.Compile(CompileOptions{}, g.Tanh(x))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.OnCPU().Run(map[string][]float32{"x": {1}}); err == nil {
		t.Error("a short feed was accepted")
	}
	if _, err := p.OnCPU().Run(nil); err == nil {
		t.Error("a missing feed was accepted")
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestCrossCheck: every node of a graph with gradients agrees between the
// executors; and a program compiled without KeepAll is refused.
func TestCrossCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	g := New()
	loss, w, b := elementwiseModel(g)
	grads := g.Grad(loss, w, b)
	prog, err := g.Compile(CompileOptions{KeepAll: true}, append(grads, loss)...)
	if err != nil {
		t.Fatal(err)
	}
	v := openVulkan(t)
	params := map[string][]float32{"w": randVec(rng, 5, -1, 1), "b": randVec(rng, 5, -1, 1)}
	feeds := map[string][]float32{"x": randVec(rng, 20, -1, 1), "y": randVec(rng, 20, -1, 1)}
	bad, err := prog.CrossCheck(v, params, feeds, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range bad {
		t.Errorf("mismatch: %v", m)
	}
	reused, err := g.Compile(CompileOptions{}, loss)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reused.CrossCheck(v, params, feeds, 1e-5); err == nil {
		t.Error("CrossCheck of a program with reused memory succeeded")
	}
}

// TestFusedOnVulkan: a graph with every fused op, its gradients and their
// tangents agrees with the CPU executor node by node.
func TestFusedOnVulkan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	g := New()
	e := g.Param("e", 2, 4, 8)
	mu, lv := g.Param("mu", 2, 3), g.Param("lv", 2, 3)
	z, c := g.Param("z", 2, 8), g.Param("c", 2, 2)
	gamma, beta := g.Param("gamma", 2, 4), g.Param("beta", 2, 4)
	cn := g.Reshape(g.CNAffine(e, gamma, beta), 2, 32)
	h, c1 := g.LSTMCell(z, c)
	loss := g.Add(g.Sum(g.MSEPerExample(cn, g.Reshape(g.Scale(e, 0.5), 2, 32))), g.GaussianKL(mu, lv, g.Scale(mu, 0.5), g.Scale(lv, 2)))
	loss = g.Add(loss, g.MSE(h, c1))
	ps := []*Node{e, mu, lv, z, c, gamma, beta}
	grads := g.Grad(loss, ps...)
	params, feeds := map[string][]float32{}, map[string][]float32{}
	hv := mustJVP(t, g, grads, randTangents(g, rng, ps, params, feeds, -1, 1))
	crossCheck(t, mustCompile(t, g, CompileOptions{KeepAll: true}, append(grads, hv...)...), params, feeds, 1e-4)
}
