package graph

import (
	"math/rand/v2"
	"testing"
)

// randomGraph builds a DAG of n unary-like nodes with random fan-in from a
// few inputs, using a test op with any number of operands.
func randomGraph(rng *rand.Rand, n int) (*Graph, []*Node) {
	g := New()
	nodes := []*Node{g.Input("x0", 1+rng.IntN(50)), g.Input("x1", 1+rng.IntN(50))}
	for range n {
		k := 1 + rng.IntN(3)
		var in []*Node
		for range k {
			in = append(in, nodes[rng.IntN(len(nodes))])
		}
		nodes = append(nodes, g.Apply(testOp{size: 1 + rng.IntN(200)}, in...))
	}
	var outs []*Node
	for range 1 + rng.IntN(3) {
		outs = append(outs, nodes[len(nodes)-1-rng.IntN(min(5, n))])
	}
	return g, outs
}

// TestPlanNoOverlap: over many random graphs, no two tensors that are live
// at the same step share arena bytes, and the peak is at most the sum.
func TestPlanNoOverlap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 300 {
		g, outs := randomGraph(rng, 1+rng.IntN(80))
		if g.Err() != nil {
			t.Fatal(g.Err())
		}
		order, err := schedule(outs)
		if err != nil {
			t.Fatal(err)
		}
		slots, peak := plan(order, outs, 16)
		var sum int64
		var all []*slot
		for _, s := range slots {
			sum += s.size
			all = append(all, s)
			if s.offset%16 != 0 || s.offset+s.size > peak {
				t.Fatalf("trial %d: slot %+v outside the arena of %d or unaligned", trial, s, peak)
			}
		}
		if peak > sum {
			t.Fatalf("trial %d: peak %d > sum of sizes %d", trial, peak, sum)
		}
		for i, a := range all {
			for _, b := range all[i+1:] {
				liveTogether := a.birth <= b.death && b.birth <= a.death
				overlap := a.offset < b.offset+b.size && b.offset < a.offset+a.size
				if liveTogether && overlap {
					t.Fatalf("trial %d: live tensors overlap: %+v and %+v", trial, a, b)
				}
			}
		}
		// Every operand is produced before its user.
		pos := map[*Node]int{}
		for i, n := range order {
			pos[n] = i
		}
		for _, n := range order {
			for _, x := range n.in {
				if pos[x] >= pos[n] {
					t.Fatalf("trial %d: %v scheduled before its operand %v", trial, n, x)
				}
			}
		}
	}
}

// TestPlanReuses: a chain of equal-sized steps needs only two buffers.
func TestPlanReuses(t *testing.T) {
	g := New()
	x := g.Input("x", 100)
	for range 50 {
		x = g.Apply(testOp{size: 100}, x)
	}
	order, _ := schedule([]*Node{x})
	_, peak := plan(order, []*Node{x}, 16)
	if peak != 2*400 {
		t.Errorf("chain of 50 steps: peak %d bytes, want %d", peak, 800)
	}
}

func TestScheduleDropsDeadNodes(t *testing.T) {
	g := New()
	x := g.Input("x", 3)
	used := g.Apply(testOp{size: 3}, x)
	g.Apply(testOp{size: 3}, x) // nobody asks for it
	order, err := schedule([]*Node{used})
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 {
		t.Errorf("schedule kept %d nodes, want 2 (input and the used op)", len(order))
	}
}
