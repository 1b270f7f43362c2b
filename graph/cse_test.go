package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// TestCommonSubexpressions: ops that repeat earlier ones (the same op on
// the same operands, or on operands that were merged first; an output
// projection of a repeated multi-output op) are computed once, gradients
// through them included, with the bits of the program as written on the
// CPU and on Vulkan; ops that differ in a field (a sum that keeps its axis
// beside one that drops it) or in an operand stay apart. A chain of
// stop_gradients is its operand, except one the program outputs.
func TestCommonSubexpressions(t *testing.T) {
	g := New()
	x := g.Input("x", 6, 4)
	w, w2 := g.Param("w", 4, 5), g.Param("w2", 4, 5)
	first := g.Tanh(g.MatMul(x, w))
	again := g.Tanh(g.MatMul(x, w)) // merged: the product, then the tanh
	other := g.Tanh(g.MatMul(x, w2))
	halves := g.Split(first, 0, 3, 3)
	halves2 := g.Split(again, 0, 3, 3) // merged after its operand, with its outputs
	rows, cols := g.Sum(again, 0), g.Sum(again, 1)
	kept := g.Reduce(kernels.Sum, again, []int{0}, true) // the name of rows, another shape
	frozen := g.StopGradient(g.StopGradient(other))      // other itself
	loss := g.Add(g.Add(g.Mean(g.Mul(halves[0], halves2[1])), g.Mean(g.Mul(other, frozen))),
		g.Add(g.Add(g.Mean(rows), g.Mean(g.Square(cols))), g.Mean(g.Square(kept))))
	grads := g.Grad(loss, w, w2)
	outs := append([]*Node{loss, halves2[0], g.StopGradient(first)}, grads...)
	rng := rand.New(rand.NewPCG(2, 7))
	params := map[string][]float32{"w": randVec(rng, 20, -1, 1), "w2": randVec(rng, 20, -1, 1)}
	feeds := map[string][]float32{"x": randVec(rng, 24, -1, 1)}

	merged := mustCompile(t, g, CompileOptions{NoFusion: true}, outs...)
	plain := mustCompile(t, g, CompileOptions{NoFusion: true, NoCSE: true}, outs...)
	ops := func(p *Program, name string) int {
		k := 0
		for _, n := range p.order {
			if n.kind == kindOp && n.op.Name() == name {
				k++
			}
		}
		return k
	}
	for _, c := range []struct {
		op          string
		plain, want int
	}{{"tanh", 3, 2}, {"split", 2, 1}, {"sum[0]", 2, 2}, {"stop_gradient", 3, 1}} {
		if got, was := ops(merged, c.op), ops(plain, c.op); was != c.plain || got != c.want {
			t.Errorf("%s: %d ops merged, %d as written; want %d and %d", c.op, got, was, c.want, c.plain)
		}
	}
	if got, was := merged.Stats().Ops, plain.Stats().Ops; got >= was {
		t.Errorf("merging left %d ops of %d", got, was)
	}
	v := openVulkan(t)
	for _, backend := range []string{"cpu", "vulkan"} {
		run := func(p *Program) [][]float32 {
			var e Executor = p.OnCPU()
			if backend == "vulkan" {
				vk, err := p.OnVulkan(v, VulkanOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer vk.Close()
				e = vk
			}
			setParams(t, e, params)
			return mustRun(t, e, feeds)
		}
		want, got := run(plain), run(merged)
		for i := range want {
			sameBits(t, fmt.Sprint(backend, " output ", i), got[i], want[i])
		}
	}
}

// TestStopGradientOfUpdatedParam: an output that is a stop_gradient of a
// parameter an update changes in place is the value before the update, as
// it was computed; merging keeps that copy.
func TestStopGradientOfUpdatedParam(t *testing.T) {
	g := New()
	x, w := g.Input("x", 3, 2), g.Param("w", 2, 2)
	loss := g.Mean(g.Square(g.MatMul(x, w)))
	before := g.StopGradient(w)
	adam := kernels.AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	p := mustCompile(t, g, CompileOptions{Updates: []Update{{Params: []*Node{w}, Grads: g.Grad(loss, w), Adam: adam}}}, before)
	rng := rand.New(rand.NewPCG(4, 1))
	params := map[string][]float32{"w": randVec(rng, 4, -1, 1)}
	feeds := map[string][]float32{"x": randVec(rng, 6, -1, 1)}
	v := openVulkan(t)
	vk, err := p.OnVulkan(v, VulkanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer vk.Close()
	for name, e := range map[string]Executor{"cpu": p.OnCPU(), "vulkan": vk} {
		setParams(t, e, params)
		sameBits(t, name, mustRun(t, e, feeds)[0], params["w"])
	}
}
