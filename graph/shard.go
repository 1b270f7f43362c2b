package graph

import (
	"fmt"
	"slices"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// Tensors larger than one buffer. A kernel binds each operand as a range
// of one buffer, and a buffer holds at most gpu.Device.MaxBufferSize bytes
// (128 MiB on lavapipe), while one tensor can be larger: the per-example
// copies of a 200x200 weight for 1125 examples take 180 MB. The Vulkan
// executor's plan splits such a tensor by rows of its leading axis into
// pieces that each fit a buffer, and every op that writes or reads it runs
// a block of rows at a time, each block inside one piece of every split
// operand. The ops that can do so say how (rowBlocker); a sum, mean or
// sum of squares over the leading axis adds up the sums of its blocks. The
// CPU executor and the program's own plan never split.

// blockRows is the granule of row blocks: a block of any tensor then
// starts at a multiple of 64 x 4 bytes, which satisfies the largest
// storage-buffer offset alignment Vulkan allows (256).
const blockRows = 64

// rowBlocker is implemented by ops whose output rows (the leading axis)
// depend only on the same rows of some operands and on the others whole.
// blocksOf asks it only of nodes with a leading axis.
type rowBlocker interface {
	// rowBlock returns the op that computes a block of rows rows of n's
	// output, and which operands it reads in the block's rows (cut)
	// rather than whole; ok is false when n cannot run by blocks.
	rowBlock(n *Node, rows int) (op Op, cut []bool, ok bool)
}

// rowBytes is the size of one row of x's leading axis.
func rowBytes(x *Node) int64 { return int64(4 * x.shape.Len() / x.shape[0]) }

// withRows is s with its leading axis set to rows.
func withRows(s Shape, rows int) Shape {
	out := cloneShape(s)
	out[0] = rows
	return out
}

// pieceRows is the number of rows in each piece of op node n, too large
// for one buffer of limit bytes.
func pieceRows(n *Node, limit int64) (int, error) {
	size := outOffset(n, len(n.outs), 1)
	if n.multi() || len(n.shape) == 0 || n.shape[0] < 2 {
		return 0, fmt.Errorf("graph: %v needs %d bytes, more than one buffer holds (%d), and has no rows to split it by: %w", n, size, limit, gpu.ErrTooLarge)
	}
	rows := int(limit/rowBytes(n)) / blockRows * blockRows
	if rows == 0 {
		return 0, fmt.Errorf("graph: %v needs %d bytes, more than one buffer holds (%d), and %d of its rows need more than one buffer too: %w", n, size, limit, blockRows, gpu.ErrTooLarge)
	}
	return rows, nil
}

// blocksOf says how op node n runs when it writes or reads a tensor split
// into pieces (slots with more than one entry): by blocks of rows between
// consecutive bounds (nil: n runs whole), each inside one piece of every
// split operand; with sum, n reduces over the leading axis of its split
// input, and the sums of the blocks add up. It is an error naming n and the
// tensor when n cannot run so. b is the node that computes n
// (Program.body).
func blocksOf(n, b *Node, slots map[*Node][]*slot) (bounds []int, sum bool, err error) {
	split := func(x *Node) bool { return len(slots[x]) > 1 }
	var reads []*Node
	for _, x := range b.in {
		if split(x) {
			reads = append(reads, x)
		}
	}
	if !split(n) && len(reads) == 0 {
		return nil, false, nil
	}
	cannot := func(x *Node, why string) error {
		return fmt.Errorf("graph: %v (%d bytes) is larger than one buffer, and %v %s, so it cannot be split by rows: %w", x, 4*x.shape.Len(), b, why, gpu.ErrTooLarge)
	}
	// Every split tensor's piece boundaries bound n's blocks.
	starts := map[int]bool{}
	mark := func(x *Node) {
		for _, s := range slots[x] {
			starts[s.row0] = true
		}
	}
	// markCut marks the split operands, which must be read by rows.
	markCut := func(cut []bool) error {
		for i, x := range b.in {
			if split(x) && !cut[i] {
				return cannot(x, "reads it whole")
			}
			if split(x) {
				mark(x)
			}
		}
		return nil
	}
	rows := 0
	fo, fusedSum := b.op.(fusedOp)
	fusedSum = fusedSum && fo.prog.Reduces
	if r, ok := b.op.(reduceOp); ok && slices.Contains(r.axes, 0) {
		if split(n) {
			return nil, false, cannot(n, "reduces over its leading axis")
		}
		mark(b.in[0])
		rows, sum = b.in[0].shape[0], true
	} else if fusedSum {
		cut, ok := fo.rowCut(b)
		if split(n) || !ok {
			return nil, false, cannot(n, "reduces over its leading axis")
		}
		if err := markCut(cut); err != nil {
			return nil, false, err
		}
		rows, sum = fo.shape[0], true
	} else {
		rb, ok := b.op.(rowBlocker)
		var cut []bool
		if ok = ok && len(b.shape) > 0; ok {
			_, cut, ok = rb.rowBlock(b, b.shape[0])
		}
		if !ok {
			x := n
			if len(reads) > 0 {
				x = reads[0]
			}
			return nil, false, cannot(x, "cannot run a block of rows at a time")
		}
		if err := markCut(cut); err != nil {
			return nil, false, err
		}
		if split(n) {
			mark(n)
		}
		rows = n.shape[0]
	}
	for r := range starts {
		bounds = append(bounds, r)
	}
	slices.Sort(bounds)
	return append(bounds, rows), sum, nil
}

// blockNode is n computing rows rows by op, reading the cut operands in
// rows; with sum, n's output keeps its shape (a reduction over the leading
// axis). Recording reads only shapes and the op from it.
func blockNode(n *Node, op Op, cut []bool, rows int, sum bool) *Node {
	in := make([]*Node, len(n.in))
	for i, x := range n.in {
		s := x.shape
		if cut[i] {
			s = withRows(s, rows)
		}
		in[i] = &Node{g: n.g, id: x.id, kind: x.kind, name: x.name, shape: s}
	}
	s := n.shape
	if !sum {
		s = withRows(s, rows)
	}
	return &Node{g: n.g, id: n.id, kind: kindOp, op: op, in: in, shape: s, outs: []Shape{s}}
}

// cutLeading marks the operands that share n's leading axis (same rank,
// same length): row i of n reads row i of them. Others are broadcast along
// it and read whole.
func cutLeading(n *Node) []bool {
	cut := make([]bool, len(n.in))
	for i, x := range n.in {
		cut[i] = len(x.shape) == len(n.shape) && x.shape[0] == n.shape[0]
	}
	return cut
}

func (o unaryOp) rowBlock(n *Node, rows int) (Op, []bool, bool) {
	return o, cutLeading(n), true
}

func (o scalarOp) rowBlock(n *Node, rows int) (Op, []bool, bool) {
	return o, cutLeading(n), true
}

func (o binaryOp) rowBlock(n *Node, rows int) (Op, []bool, bool) {
	return o, cutLeading(n), true
}

func (o stopGradientOp) rowBlock(n *Node, rows int) (Op, []bool, bool) {
	return o, cutLeading(n), true
}

// A reshape that keeps the leading axis copies rows to rows.
func (o reshapeOp) rowBlock(n *Node, rows int) (Op, []bool, bool) {
	x := n.in[0].shape
	ok := len(x) > 0 && len(o.to) > 0 && x[0] == o.to[0]
	return reshapeOp{to: withRows(o.to, rows)}, []bool{true}, ok
}

// A broadcast along other axes reads the same rows of its input; one
// along the leading axis reads all of it for every block.
func (o broadcastOp) rowBlock(n *Node, rows int) (Op, []bool, bool) {
	from, to := o.from, o.to
	if len(from) == len(to) && from[0] == to[0] {
		x := n.in[0].shape
		ok := len(x) > 0 && x[0] == from[0] // rows of the input are rows of from
		return broadcastOp{from: withRows(from, rows), to: withRows(to, rows)}, []bool{true}, ok
	}
	return broadcastOp{from: from, to: withRows(to, rows)}, []bool{false}, true
}

// A batched product runs by batches of its batched operands; an unbatched
// one by rows of A.
func (o matmulOp) rowBlock(n *Node, rows int) (Op, []bool, bool) {
	cut := make([]bool, len(n.in))
	if len(n.shape) == 3 {
		cut[0], cut[1] = len(n.in[0].shape) == 3, len(n.in[1].shape) == 3
		return o, cut, true
	}
	cut[0] = true
	return o, cut, !o.transA
}

// A reduction over other axes keeps the leading one (one over the leading
// axis is blocksOf's sum).
func (o reduceOp) rowBlock(n *Node, rows int) (Op, []bool, bool) {
	x := n.in[0].shape
	if slices.Contains(o.axes, 0) || o.to[0] != x[0] {
		return nil, nil, false
	}
	return reduceOp{op: o.op, axes: o.axes, to: withRows(o.to, rows)}, []bool{true}, true
}

// piece holds rows [row0, row0+rows) of a split tensor.
type piece struct {
	buf        *gpu.Buffer
	row0, rows int
}

// blocked is how an op runs by blocks of rows (blocksOf); a reduction
// over the leading axis adds each block's sum (from the second) from
// partial, and a mean then scales the total.
type blocked struct {
	bounds  []int
	sum     bool
	partial *gpu.Buffer
}

// blockNodes are the nodes that op node n's blocks record (n itself when
// it runs whole).
func (e *VulkanExec) blockNodes(n *Node) []*Node {
	b, ok := e.blocks[n]
	if !ok {
		return []*Node{e.p.body(n)}
	}
	var out []*Node
	for i := range len(b.bounds) - 1 {
		bn, _ := e.blockNode(n, b.bounds[i+1]-b.bounds[i])
		out = append(out, bn)
	}
	return out
}

// blockNode is rows rows of blocked op node n, and which operands it
// reads in rows.
func (e *VulkanExec) blockNode(n *Node, rows int) (*Node, []bool) {
	b := e.p.body(n)
	if fo, ok := b.op.(fusedOp); ok && e.blocks[n].sum {
		cut, _ := fo.rowCut(b)
		return blockNode(b, fo.rows(rows), cut, rows, true), cut
	}
	if e.blocks[n].sum {
		op := b.op.(reduceOp)
		if op.op == kernels.Mean {
			op.op = kernels.Sum
		}
		return blockNode(b, op, []bool{true}, rows, true), []bool{true}
	}
	op, cut, _ := b.op.(rowBlocker).rowBlock(b, rows)
	return blockNode(b, op, cut, rows, false), cut
}

// rows is a view of rows [lo, hi) of x's leading axis, inside one piece
// when x is split.
func (e *VulkanExec) rows(x *Node, lo, hi int) (*gpu.Buffer, error) {
	rb := rowBytes(x)
	ps, ok := e.pieces[x]
	if !ok {
		return e.bufs[x].View(int64(lo)*rb, int64(hi-lo)*rb)
	}
	for _, p := range ps {
		if lo >= p.row0 && hi <= p.row0+p.rows {
			return p.buf.View(int64(lo-p.row0)*rb, int64(hi-lo)*rb)
		}
	}
	return nil, fmt.Errorf("graph: rows [%d, %d) of %v span two pieces", lo, hi, x)
}

// recordBlocks records blocked op node n a block of rows at a time.
func (e *VulkanExec) recordBlocks(r *gpu.Recorder, n *Node, scratch *gpu.Buffer) error {
	b := e.blocks[n]
	for i := range len(b.bounds) - 1 {
		lo, hi := b.bounds[i], b.bounds[i+1]
		bn, cut := e.blockNode(n, hi-lo)
		l := Launch{Kernels: e.v, Recorder: r, In: make([]*gpu.Buffer, len(bn.in)), Scratch: scratch, Node: bn}
		for j, x := range e.p.body(n).in {
			var err error
			if l.In[j] = e.bufs[x]; cut[j] {
				if l.In[j], err = e.rows(x, lo, hi); err != nil {
					return err
				}
			}
		}
		var out *gpu.Buffer
		switch {
		case b.sum && i == 0:
			out = e.bufs[n]
		case b.sum:
			out = b.partial
		default:
			var err error
			if out, err = e.rows(n, lo, hi); err != nil {
				return err
			}
		}
		l.Out = []*gpu.Buffer{out}
		if err := bn.op.Record(l); err != nil {
			return fmt.Errorf("rows [%d, %d): %w", lo, hi, err)
		}
		if b.sum && i > 0 {
			// The binary kernel reads and writes each element in one
			// invocation, so it may add in place.
			if err := e.v.RecordBinary(r, kernels.Add, e.bufs[n], n.shape, b.partial, n.shape, e.bufs[n]); err != nil {
				return fmt.Errorf("rows [%d, %d): %w", lo, hi, err)
			}
		}
	}
	if b.sum && n.op.(reduceOp).op == kernels.Mean {
		scale := float32(n.shape.Len()) / float32(n.in[0].shape.Len())
		return e.v.RecordBinaryScalar(r, kernels.Mul, e.bufs[n], scale, false, e.bufs[n], n.shape.Len())
	}
	return nil
}
