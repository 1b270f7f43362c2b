package graph

import (
	"fmt"
	"sort"
)

// schedule returns the nodes needed for outputs in a topological order
// (inputs before users); nodes nothing requested depends on are dropped.
func schedule(outputs []*Node) ([]*Node, error) {
	const (
		unseen = iota
		active
		done
	)
	state := map[*Node]int{}
	var order []*Node
	// Iterative DFS: deep graphs (long unrolled rollouts) must not
	// overflow the goroutine stack.
	type frame struct {
		n    *Node
		next int
	}
	for _, out := range outputs {
		if state[out] == done {
			continue
		}
		stack := []frame{{n: out}}
		state[out] = active
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next < len(f.n.in) {
				c := f.n.in[f.next]
				f.next++
				switch state[c] {
				case unseen:
					state[c] = active
					stack = append(stack, frame{n: c})
				case active:
					return nil, fmt.Errorf("graph: cycle through %v", c)
				}
				continue
			}
			state[f.n] = done
			order = append(order, f.n)
			stack = stack[:len(stack)-1]
		}
	}
	return order, nil
}

// slot is a tensor's place in the arena.
type slot struct {
	offset, size int64
	birth, death int // schedule indices of the producer and the last reader
}

// plan assigns arena offsets to the op nodes of order so that no two
// tensors that are live at the same time overlap. A tensor is live from
// the step that produces it to the last step that reads it (to the end for
// outputs). Offsets and sizes are multiples of align. It returns the slots
// by node and the arena size (the planned peak).
func plan(order []*Node, outputs []*Node, align int64) (map[*Node]*slot, int64) {
	index := map[*Node]int{}
	for i, n := range order {
		index[n] = i
	}
	slots := map[*Node]*slot{}
	for i, n := range order {
		if n.kind != kindOp {
			continue
		}
		slots[n] = &slot{size: outOffset(n, len(n.outs), align), birth: i, death: i}
	}
	// Reading an output of a multi-output op keeps the whole op's memory.
	for i, n := range order {
		for _, x := range n.in {
			if s := slots[valueRoot(x)]; s != nil && s.death < i {
				s.death = i
			}
		}
	}
	for _, o := range outputs {
		if s := slots[valueRoot(o)]; s != nil {
			s.death = len(order)
		}
	}
	// Walk the schedule; at each producing step, place the new tensor in
	// the lowest gap between the tensors still live (first fit).
	var live []*slot // sorted by offset
	var peak int64
	for i, n := range order {
		s := slots[n]
		if s == nil {
			continue
		}
		kept := live[:0]
		for _, l := range live {
			if l.death >= i {
				kept = append(kept, l)
			}
		}
		live = kept
		var at int64
		for _, l := range live {
			if l.offset-at >= s.size {
				break
			}
			at = max(at, l.offset+l.size)
		}
		s.offset = at
		peak = max(peak, at+s.size)
		k := sort.Search(len(live), func(j int) bool { return live[j].offset > at })
		live = append(live, nil)
		copy(live[k+1:], live[k:])
		live[k] = s
	}
	return slots, peak
}

// valueRoot is the node that owns x's memory: the op for an Output
// projection, x itself otherwise.
func valueRoot(x *Node) *Node {
	if x.kind == kindOutput {
		return x.in[0]
	}
	return x
}

// outOffset is the byte offset of output i inside op node n's memory:
// outputs are packed in order, each rounded up to align.
func outOffset(n *Node, i int, align int64) int64 {
	var off int64
	for _, s := range n.outs[:i] {
		off += (int64(4*s.Len()) + align - 1) / align * align
	}
	return off
}
