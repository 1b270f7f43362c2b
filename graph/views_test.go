package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestViews: splits and concatenations along the leading axis whose parts
// start at aligned offsets run no kernel (the parts view their operand,
// the operands are computed into the concatenation), with the bits of the
// program without views on Vulkan, and close to the CPU executor's; those
// that cannot be views (another axis, unaligned parts, an operand that is
// a parameter, one operand twice, a part already a view, a kept operand)
// keep their kernels.
func TestViews(t *testing.T) {
	g := New()
	x := g.Input("x", 4, 16)
	w, w2 := g.Param("w", 16, 16), g.Param("w2", 16, 16)
	a, b := g.Tanh(g.MatMul(x, w)), g.Sigmoid(g.MatMul(x, w2)) // [4, 16]: 256 bytes each
	stacked := g.Concat(0, a, b)                               // a view of a and b
	y := g.MatMul(stacked, w)
	halves := g.Split(y, 0, 4, 4)             // views of y
	late := g.Mul(a, halves[1])               // reads a after the concatenation
	again := g.Concat(0, a, g.Exp(b))         // a is a view of stacked already
	twice := g.Concat(0, late, late)          // one operand twice
	wide := g.Concat(1, halves[0], halves[1]) // another axis
	odd := g.Split(g.Tanh(x), 0, 1, 3)        // 64-byte parts
	withParam := g.Concat(0, g.MatMul(w, w2), w)
	c := g.Exp(a)
	keptOperand := g.Concat(0, c, b)
	// Scheduled in this order, so that stacked claims a first.
	outs := []*Node{twice, g.Square(again), wide, odd[0], odd[1], withParam, keptOperand, c}
	rng := rand.New(rand.NewPCG(9, 3))
	params := map[string][]float32{"w": randVec(rng, 256, -0.5, 0.5), "w2": randVec(rng, 256, -0.5, 0.5)}
	feeds := map[string][]float32{"x": randVec(rng, 64, -1, 1)}

	p := mustCompile(t, g, CompileOptions{NoFusion: true, Align: 256}, outs...)
	plain := mustCompile(t, g, CompileOptions{NoFusion: true, Align: 256, NoViews: true}, outs...)
	inPlace := func(n *Node) bool { return p.slots[p.computed(n)][0].inPlace }
	for _, c := range []struct {
		name string
		n    *Node
		want bool
	}{{"stacked", stacked, true}, {"halves", halves[0].in[0], true}, {"again", again, false}, {"twice", twice, false},
		{"wide", wide, false}, {"odd", odd[0].in[0], false}, {"withParam", withParam, false}, {"keptOperand", keptOperand, false}} {
		if got := inPlace(c.n); got != c.want {
			t.Errorf("%s: in place %v, want %v:\n%s", c.name, got, c.want, p.Dump())
		}
	}
	for _, n := range plain.order {
		if n.kind == kindOp && plain.slots[n][0].inPlace {
			t.Errorf("NoViews: %v in place", n)
		}
	}
	vk, vkPlain := onVulkan(t, p), onVulkan(t, plain)
	defer vk.Close()
	defer vkPlain.Close()
	// Both copy two parts, a dispatch each.
	if d, was := vk.Dispatches(), vkPlain.Dispatches(); d != was-4 {
		t.Errorf("%d dispatches with views, %d without; want 4 fewer", d, was)
	}
	cpu := p.OnCPU()
	results := map[string][][]float32{}
	for name, e := range map[string]Executor{"views": vk, "plain": vkPlain, "cpu": cpu} {
		setParams(t, e, params)
		results[name] = mustRun(t, e, feeds)
	}
	for i := range outs {
		sameBits(t, fmt.Sprint("views against plain, output ", i), results["views"][i], results["plain"][i])
		closeTo(t, fmt.Sprint("views against the CPU, output ", i), results["views"][i], results["cpu"][i], 1e-6, 1e-5)
	}
}
