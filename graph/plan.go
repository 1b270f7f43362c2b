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

// slot is a tensor's place in the arena: buffer buf, bytes [offset,
// offset+size). A tensor split by rows (see shard.go) has a slot per
// piece, holding its rows [row0, row0+rows).
type slot struct {
	buf          int
	offset, size int64
	birth, death int // schedule indices of the producer and the last reader
	row0, rows   int
	// view: the tensor lies inside another's slot (see views.go), which
	// gives it its place; inPlace: its value is there without a kernel
	// (a split viewing its operand, a concatenation its operands write).
	view, inPlace bool
}

// plan assigns arena places to the op nodes of order so that no two
// tensors that are live at the same time overlap. A tensor is live from
// the step that produces it to the last step that reads it (to the end for
// outputs). Offsets and sizes are multiples of align.
//
// The arena is one address space cut into buffers of limit bytes (0: one
// buffer; a multiple of align), and no slot may straddle a cut, since a
// kernel binds each operand as a range of one buffer. A tensor larger than
// limit is split by rows of its leading axis into pieces that fit, when
// every op that writes or reads it can run a block of rows at a time
// (blocksOf), and is an error naming it otherwise. plan returns the slots
// by node and the size of each buffer; their sum is the planned peak.
// body(n) is the node that computes n (Program.body). withViews places
// the splits and concatenations that can be views inside the memory of
// what they view (see views.go).
func plan(order []*Node, outputs []*Node, align, limit int64, body func(*Node) *Node, withViews bool) (map[*Node][]*slot, []int64, error) {
	slots := map[*Node][]*slot{}
	for i, n := range order {
		if n.kind != kindOp {
			continue
		}
		size := outOffset(n, len(n.outs), align)
		if limit <= 0 || size <= limit {
			slots[n] = []*slot{{size: size, birth: i, death: i}}
			continue
		}
		rows, err := pieceRows(n, limit)
		if err != nil {
			return nil, nil, err
		}
		for r0 := 0; r0 < n.shape[0]; r0 += rows {
			k := min(rows, n.shape[0]-r0)
			size := (int64(k)*rowBytes(n) + align - 1) / align * align
			slots[n] = append(slots[n], &slot{size: size, birth: i, death: i, row0: r0, rows: k})
		}
	}
	views := map[*Node]view{}
	if withViews {
		views = findViews(order, outputs, align)
	}
	for v, w := range views {
		// Each view of an owner split by rows goes (so a concatenation's
		// operands all go together).
		if len(slots[w.owner]) > 1 {
			delete(views, v)
		}
	}
	for v := range views {
		slots[v][0].view = true
	}
	for _, n := range order {
		if n.kind == kindOp {
			if _, _, err := blocksOf(n, body(n), slots); err != nil {
				return nil, nil, err
			}
		}
	}
	// Reading an output of a multi-output op keeps the whole op's memory.
	for i, n := range order {
		for _, x := range body(n).in {
			for _, s := range slots[valueRoot(x)] {
				s.death = max(s.death, i)
			}
		}
	}
	for _, o := range outputs {
		for _, s := range slots[valueRoot(o)] {
			s.death = len(order)
		}
	}
	for v, w := range views {
		s, o := slots[v][0], slots[w.owner][0]
		o.birth, o.death = min(o.birth, s.birth), max(o.death, s.death)
		_, split := v.op.(splitOp)
		if split {
			s.inPlace = true
		} else {
			o.inPlace = true
		}
	}
	// fit moves a start that would straddle a cut to the cut.
	fit := func(at, size int64) int64 {
		if limit > 0 && at/limit != (at+size-1)/limit {
			return (at/limit + 1) * limit
		}
		return at
	}
	// Walk the schedule; at each producing step, place the new tensor in
	// the lowest gap between the tensors still live (first fit).
	// An owner of views is born with its earliest one.
	born := make([][]*slot, len(order))
	for _, n := range order {
		for _, s := range slots[n] {
			if !s.view {
				born[s.birth] = append(born[s.birth], s)
			}
		}
	}
	var live []*slot // sorted by offset
	var ends []int64 // the end of the highest tensor in each buffer
	for i := range order {
		for _, s := range born[i] {
			kept := live[:0]
			for _, l := range live {
				if l.death >= i {
					kept = append(kept, l)
				}
			}
			live = kept
			var at int64
			for _, l := range live {
				at = fit(at, s.size)
				if l.offset-at >= s.size {
					break
				}
				at = max(at, l.offset+l.size)
			}
			s.offset = fit(at, s.size)
			k := sort.Search(len(live), func(j int) bool { return live[j].offset > s.offset })
			live = append(live, nil)
			copy(live[k+1:], live[k:])
			live[k] = s
			if limit > 0 {
				s.buf = int(s.offset / limit)
			}
			for len(ends) <= s.buf {
				ends = append(ends, int64(len(ends))*limit)
			}
			ends[s.buf] = max(ends[s.buf], s.offset+s.size)
		}
	}
	// Offsets become offsets within each buffer.
	sizes := make([]int64, len(ends))
	for b, end := range ends {
		sizes[b] = end - int64(b)*limit
	}
	for _, ss := range slots {
		for _, s := range ss {
			s.offset -= int64(s.buf) * limit
		}
	}
	for v, w := range views {
		s, o := slots[v][0], slots[w.owner][0]
		s.buf, s.offset = o.buf, o.offset+w.offset
	}
	return slots, sizes, nil
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
