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
// beside one that drops it) or in an operand stay apart.
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
	loss := g.Add(g.Add(g.Mean(g.Mul(halves[0], halves2[1])), g.Mean(g.Square(other))),
		g.Add(g.Add(g.Mean(rows), g.Mean(g.Square(cols))), g.Mean(g.Square(kept))))
	grads := g.Grad(loss, w, w2)
	outs := append([]*Node{loss, halves2[0]}, grads...)
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
	}{{"tanh", 3, 2}, {"split", 2, 1}, {"sum[0]", 2, 2}} {
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
