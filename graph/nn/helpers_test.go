package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// openVulkan opens the test device (validation on, closed at the end).
func openVulkan(t testing.TB) *kernels.Vulkan { return kernels.NewVulkan(gputest.Open(t)) }

// executors compiles outs and opens the program on the CPU and, when v is
// not nil, on Vulkan, with params set on each.
func executors(t testing.TB, g *graph.Graph, v *kernels.Vulkan, params map[string][]float32, outs ...*graph.Node) map[string]graph.Executor {
	t.Helper()
	prog, err := g.Compile(graph.CompileOptions{}, outs...)
	if err != nil {
		t.Fatal(err)
	}
	es := map[string]graph.Executor{"cpu": prog.OnCPU()}
	if v != nil {
		vk, err := prog.OnVulkan(v, graph.VulkanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(vk.Close)
		es["vulkan"] = vk
	}
	for _, e := range es {
		graphtest.SetParams(t, e, params)
	}
	return es
}

// fdGrad is the central-difference gradient (gonum's diff/fd) of the
// scalar first output of e with respect to the parameter name, at params.
func fdGrad(t testing.TB, e graph.Executor, params, feeds map[string][]float32, name string) []float32 {
	t.Helper()
	at := make([]float64, len(params[name]))
	for i, v := range params[name] {
		at[i] = float64(v)
	}
	loss := func(x []float64) float64 {
		p := make([]float32, len(x))
		for i, v := range x {
			p[i] = float32(v)
		}
		if err := e.SetParam(name, p); err != nil {
			t.Fatal(err)
		}
		return float64(graphtest.Run(t, e, feeds)[0][0])
	}
	grad := fd.Gradient(nil, loss, at, &fd.Settings{Formula: fd.Central, Step: 1e-2})
	if err := e.SetParam(name, params[name]); err != nil {
		t.Fatal(err)
	}
	return f32(grad)
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// randVec draws n values in [lo, hi), or with gap > 0 of magnitude in
// [gap, hi) and random sign (away from the kinks of relu-like ops).
func randVec(rng *rand.Rand, n int, lo, hi, gap float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		if gap > 0 {
			v[i] = float32((gap + (hi-gap)*rng.Float64()) * float64(1-2*rng.IntN(2)))
		} else {
			v[i] = float32(lo + (hi-lo)*rng.Float64())
		}
	}
	return v
}

// distinct returns n values spaced 0.1 apart in random order, so that
// max pooling has no near-ties a finite-difference step could swap.
func distinct(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i, j := range rng.Perm(n) {
		v[i] = 0.1*float32(j) - 0.05*float32(n)
	}
	return v
}

// checkGrads compares the gradients of the first output of e (compiled
// from a scalar loss) with respect to every named tensor against finite
// differences on the CPU.
func checkGrads(t testing.TB, what string, lossOnCPU graph.Executor, params, feeds map[string][]float32, names []string, grads [][]float32) {
	t.Helper()
	for i, name := range names {
		kerneltest.Near(t, fmt.Sprintf("%s: d loss/d %s", what, name), grads[i], fdGrad(t, lossOnCPU, params, feeds, name), kerneltest.FD)
	}
}
