package graph

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
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

// TestPlanNoOverlap: over many random graphs, cut into buffers or not, no
// two tensors that are live at the same step share bytes of a buffer, every
// tensor lies inside its buffer, and the peak is at most the sum.
// unfused is Program.body of a program without fusion.
func unfused(n *Node) *Node { return n }

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
		// The test op's largest tensor is 800 bytes.
		limit := []int64{0, 800, 1600, 4000}[trial%4]
		slots, buffers, err := plan(order, outs, 16, limit, unfused, true)
		if err != nil {
			t.Fatal(err)
		}
		var sum, peak int64
		for _, b := range buffers {
			peak += b
			if b <= 0 || (limit > 0 && b > limit) {
				t.Fatalf("trial %d: buffer sizes %v with limit %d", trial, buffers, limit)
			}
		}
		var all []*slot
		for _, ss := range slots {
			s := ss[0]
			sum += s.size
			all = append(all, s)
			if s.offset%16 != 0 || s.buf >= len(buffers) || s.offset+s.size > buffers[s.buf] {
				t.Fatalf("trial %d: slot %+v outside the buffers %v or unaligned", trial, s, buffers)
			}
		}
		if peak > sum {
			t.Fatalf("trial %d: peak %d > sum of sizes %d", trial, peak, sum)
		}
		for i, a := range all {
			for _, b := range all[i+1:] {
				liveTogether := a.birth <= b.death && b.birth <= a.death
				overlap := a.buf == b.buf && a.offset < b.offset+b.size && b.offset < a.offset+a.size
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

// TestPlanBuffers: a chain of 100-float steps with two live at a time fits
// one 800-byte buffer; with 640-byte buffers each tensor takes its own, and
// a tensor larger than a buffer that its ops cannot split is an error
// naming it.
func TestPlanBuffers(t *testing.T) {
	g := New()
	x := g.Input("x", 100)
	for range 10 {
		x = g.Apply(testOp{size: 100}, x)
	}
	order, _ := schedule([]*Node{x})
	for _, c := range []struct {
		limit   int64
		buffers []int64
	}{{0, []int64{800}}, {800, []int64{800}}, {640, []int64{400, 400}}, {400, []int64{400, 400}}} {
		_, buffers, err := plan(order, []*Node{x}, 16, c.limit, unfused, true)
		if err != nil || !slices.Equal(buffers, c.buffers) {
			t.Errorf("limit %d: buffers %v (err %v), want %v", c.limit, buffers, err, c.buffers)
		}
	}
	_, _, err := plan(order, []*Node{x}, 16, 384, unfused, true)
	if err == nil || !strings.Contains(err.Error(), "%1 = test 100 (400 bytes) is larger than one buffer, and %1 = test 100 cannot run a block of rows") || !errors.Is(err, gpu.ErrTooLarge) {
		t.Errorf("a tensor over the limit that cannot be split: err = %v", err)
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
	_, buffers, _ := plan(order, []*Node{x}, 16, 0, unfused, true)
	if len(buffers) != 1 || buffers[0] != 2*400 {
		t.Errorf("chain of 50 steps: buffers %v, want one of %d bytes", buffers, 800)
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
