package graph

import (
	"container/heap"
	"fmt"
	"slices"
	"strings"

	"github.com/noether-vk/noether-vk/kernels"
)

// Elementwise fusion. A chain or small DAG of elementwise ops (unary,
// binary with broadcasting, scalar, broadcast, reshape, stop_gradient, the
// conditional-normalization affine and its tangent, and matrix products
// over one term, which are outer products) whose
// intermediates nothing outside it reads compiles into one dispatch
// of the fused kernel (kernels.Fused): its inputs are read once, its
// intermediates never reach memory, and on lavapipe, where an elementwise
// kernel costs about as much per element as per launch, the meta-training
// step's per-example weight updates (mul, sub, stop_gradient over
// 32x200x200) go from three passes over memory to one. A unary, binary or
// scalar op left alone runs in the fused kernel too (aloneInFused), which
// takes four elements an invocation where the ops' own kernels take one.
//
// A group has a root, the op whose value leaves it, and members, each
// read only by members (but for outer products, which a group may compute
// again from their vectors while they stay in memory for other readers).
// Every member and every input of the group is read
// at the root's elements through a map of element strides over the
// root's shape: the root's own layout, or NumPy broadcasting of a smaller
// tensor (so a broadcast inside a group is only a way of indexing). The
// pass runs on the scheduled program, after differentiation, so forward,
// VJP, JVP and tangent-of-VJP graphs fuse alike; it is deterministic (it
// walks the schedule), and each fused op computes exactly what its ops
// compute one after another (see kernels.Fused).

// fusable reports whether n is an elementwise op the fused kernel can
// compute.
func fusable(n *Node) bool {
	if n.kind != kindOp || n.multi() {
		return false
	}
	switch o := n.op.(type) {
	case unaryOp, binaryOp, scalarOp, broadcastOp, reshapeOp, stopGradientOp, cnAffineOp, cnTangentOp:
		return true
	case matmulOp:
		return outerProduct(o, n)
	}
	return false
}

// outerProduct reports whether matmul node n sums over one term: each
// output is a product of an element of A and one of B, so it is
// elementwise with broadcasting (the per-example weight gradients of the
// meta-training step are such products).
func outerProduct(o matmulOp, n *Node) bool {
	p, err := o.params(n.in[0].shape, n.in[1].shape)
	return err == nil && !o.bias && p.K == 1
}

// outerViews are the shapes an outer product reads A and B as, for
// broadcasting to its output: A as a column ([M,1], batched [B,M,1]) and
// B as a row ([1,N], [B,1,N]). With one term to sum over, transposing an
// operand does not move its data.
func outerViews(o matmulOp, n *Node) (a, b Shape) {
	p, _ := o.params(n.in[0].shape, n.in[1].shape)
	a, b = Shape{p.M, 1}, Shape{1, p.N}
	if p.BatchA {
		a = Shape{p.Batch, p.M, 1}
	}
	if p.BatchB {
		b = Shape{p.Batch, 1, p.N}
	}
	return a, b
}

// inputMap is the map, as element strides over shape s, through which a
// group reads operand i of member c, which is read through phi; nil when
// it has none (a broadcast below an index map that is not a broadcast).
func inputMap(c *Node, i int, phi []int, s Shape) []int {
	x := c.in[i]
	from := x.shape
	switch o := c.op.(type) {
	case broadcastOp:
		from = o.from
	case matmulOp:
		a, b := outerViews(o, c)
		from = [2]Shape{a, b}[i]
	case cnAffineOp, cnTangentOp:
		// gamma, beta and their tangents, [N,C], scale whole rows of
		// x [N,C,...]: they read as [N,C,1,...].
		if len(from) == 2 {
			from = Shape{from[0], from[1]}
			for len(from) < len(c.shape) {
				from = append(from, 1)
			}
		}
	case binaryOp:
	default: // same elements, same order
		return phi
	}
	if from.Equal(c.shape) {
		return phi
	}
	// Broadcasts compose: from broadcasts to c's shape, which broadcasts
	// to s, so from broadcasts to s.
	if cs, err := kernels.BroadcastStrides(c.shape, s); err != nil || !slices.Equal(cs, phi) {
		return nil
	}
	st, err := kernels.BroadcastStrides(from, s)
	if err != nil {
		return nil
	}
	return st
}

// fusion is a group being built: the members with their maps, over the
// elements of shape: the root's, or for a root that reduces over the
// leading axis, its operand's.
type fusion struct {
	root    *Node
	shape   Shape
	maps    map[*Node][]int
	members []*Node // in schedule order once built
}

// operand is a register of the fused program: a member's value, or an
// input read through a map.
type operand struct {
	n   *Node
	via string // an input's map, printed
}

// program returns the group's leaves and fused program, or an error when
// it exceeds the kernel's limits.
func (f *fusion) program(pos map[*Node]int) ([]*Node, kernels.Fused, error) {
	slices.SortFunc(f.members, func(a, b *Node) int { return pos[a] - pos[b] })
	var leaves []*Node
	var prog kernels.Fused
	regs := map[operand]int{}
	member := nodeSet(f.members)
	// Leaves take the first registers, in the order members read them.
	for _, m := range f.members {
		for i, x := range m.in {
			if member[x] {
				continue
			}
			st := inputMap(m, i, f.maps[m], f.shape)
			key := operand{x, fmt.Sprint(st)}
			if _, ok := regs[key]; !ok {
				regs[key] = len(leaves)
				leaves = append(leaves, x)
				prog.Strides = append(prog.Strides, st)
			}
		}
	}
	reg := func(m *Node, i int) int {
		x := m.in[i]
		if member[x] {
			return regs[operand{n: x}]
		}
		return regs[operand{x, fmt.Sprint(inputMap(m, i, f.maps[m], f.shape))}]
	}
	for _, m := range f.members {
		r := len(leaves) + len(prog.Code)
		var in kernels.FusedInstr
		switch o := m.op.(type) {
		case unaryOp:
			in = kernels.FusedInstr{Kind: kernels.FusedUnary, Unary: o.fn, Order: o.order, Scaled: o.scaled, Imm: o.alpha, A: reg(m, 0)}
			if o.scaled {
				in.B = reg(m, 1)
			}
		case binaryOp:
			in = kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: o.op, A: reg(m, 0), B: reg(m, 1)}
		case reduceOp:
			prog.Reduces, prog.Reduce = true, o.op
			continue
		case matmulOp:
			// The matmul kernel accumulates from +0: a product of -0
			// leaves it +0, which adding +0 reproduces (and changes no
			// other value).
			prog.Code = append(prog.Code, kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: kernels.Mul, A: reg(m, 0), B: reg(m, 1)})
			r++
			in = kernels.FusedInstr{Kind: kernels.FusedScalar, Binary: kernels.Add, Imm: 0, A: r - 1}
		case cnAffineOp:
			// x gamma + beta, as cn_affine.comp computes it.
			prog.Code = append(prog.Code, kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: kernels.Mul, A: reg(m, 0), B: reg(m, 1)})
			r++
			in = kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: kernels.Add, A: r - 1, B: reg(m, 2)}
		case cnTangentOp:
			// (tx gamma + x tgamma) + tbeta, as cn_affine.comp computes it.
			prog.Code = append(prog.Code,
				kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: kernels.Mul, A: reg(m, 2), B: reg(m, 1)},
				kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: kernels.Mul, A: reg(m, 0), B: reg(m, 3)},
				kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: kernels.Add, A: r, B: r + 1})
			r += 3
			in = kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: kernels.Add, A: r - 1, B: reg(m, 4)}
		case scalarOp:
			in = kernels.FusedInstr{Kind: kernels.FusedScalar, Binary: o.op, Left: o.left, Imm: o.s, A: reg(m, 0)}
		default: // broadcast, reshape, stop_gradient: the operand's register
			regs[operand{n: m}] = reg(m, 0)
			continue
		}
		prog.Code = append(prog.Code, in)
		regs[operand{n: m}] = r
	}
	// Every member feeds the root, so the root's value is the last
	// instruction's, or the only input's when the group only moves data.
	return leaves, prog, prog.Check(f.shape)
}

// fuse returns order without the ops that no longer need to run, and the
// nodes that compute some of the rest (Program.body): batched products
// that read a per-example copy made by broadcasting read the original
// instead (sharedOperands), and groups of fusable ops become fused ops
// (groups). Nodes in keep are read after the program and stay in memory.
func fuse(order, keep []*Node) ([]*Node, map[*Node]*Node) {
	bodies := sharedOperands(order)
	groups(order, keep, bodies)
	if len(bodies) == 0 {
		return order, nil
	}
	return live(order, keep, bodies), bodies
}

// sharedOperands finds the batched products one of whose operands is a
// broadcast of a matrix along the batch (through stop_gradients), as the
// per-example copies of a weight are before adaptation changes them, and
// gives each a body that reads the matrix itself: the kernel then reads
// it for every batch entry (stride 0) instead of a copy per entry, and
// computes every element with the same terms in the same order, so the
// same bits. Outer products are left to the fusion of groups.
func sharedOperands(order []*Node) map[*Node]*Node {
	bodies := map[*Node]*Node{}
	for _, n := range order {
		o, ok := n.op.(matmulOp)
		if !ok || len(n.shape) != 3 || outerProduct(o, n) {
			continue
		}
		in := slices.Clone(n.in)
		changed := false
		for i := range 2 {
			other := in[1-i]
			if src := batchBroadcastSource(in[i]); src != nil && len(other.shape) == 3 {
				in[i], changed = src, true
			}
		}
		if changed {
			bodies[n] = &Node{g: n.g, id: n.id, kind: kindOp, op: o, in: in, shape: n.shape, outs: n.outs}
		}
	}
	return bodies
}

// batchBroadcastSource is the matrix that x, [B, R, C], copies B times
// (a broadcast of an [R, C] node, through stop_gradients), or nil.
func batchBroadcastSource(x *Node) *Node {
	for x.kind == kindOp {
		switch o := x.op.(type) {
		case stopGradientOp:
			x = x.in[0]
			continue
		case broadcastOp:
			// The source must be read as [R, C] or [1, R, C], not as
			// another shape of as many elements.
			src, from := x.in[0], o.from
			if len(from) == 3 && from[0] == 1 {
				from = from[1:]
			}
			if len(o.to) == 3 && src.shape.Equal(o.to[1:]) && from.Equal(o.to[1:]) {
				return src
			}
		}
		return nil
	}
	return nil
}

// live is order without the nodes that nothing in keep needs any more,
// each node reading what its body reads.
func live(order, keep []*Node, bodies map[*Node]*Node) []*Node {
	needed := nodeSet(keep)
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if !needed[n] {
			continue
		}
		b := n
		if bb, ok := bodies[n]; ok {
			b = bb
		}
		for _, x := range b.in {
			needed[x] = true
		}
	}
	return slices.DeleteFunc(slices.Clone(order), func(n *Node) bool { return !needed[n] })
}

// groups makes a fused op of every group of fusable ops it finds in
// order, adding it to bodies under the group's root. Nodes in keep can
// only be roots.
func groups(order, keep []*Node, bodies map[*Node]*Node) {
	pos := map[*Node]int{}
	for i, n := range order {
		pos[n] = i
	}
	readers := map[*Node][]*Node{}
	for _, n := range order {
		in := n.in
		if b, ok := bodies[n]; ok {
			in = b.in
		}
		for i, x := range in {
			if !slices.Contains(in[:i], x) {
				readers[x] = append(readers[x], n)
			}
		}
	}
	kept := nodeSet(keep)
	absorbed := map[*Node]bool{}
	for i := len(order) - 1; i >= 0; i-- {
		root := order[i]
		if absorbed[root] {
			continue
		}
		var f *fusion
		var leaves []*Node
		var prog kernels.Fused
		cands := &byPos{pos: pos}
		push := func(m *Node) {
			for _, x := range m.in {
				heap.Push(cands, x)
			}
		}
		switch {
		case fusable(root):
			f = &fusion{root: root, shape: root.shape, maps: map[*Node][]int{root: contiguous(root.shape)}, members: []*Node{root}}
			push(root)
		case reducesLeading(root, readers, kept):
			x := root.in[0]
			f = &fusion{root: root, shape: x.shape, maps: map[*Node][]int{x: contiguous(x.shape)}, members: []*Node{root, x}}
			var err error
			if leaves, prog, err = f.program(pos); err != nil {
				continue
			}
			push(x)
		default:
			continue
		}
		// Candidates come out latest first, so every reader of one is
		// decided before it.
		for cands.Len() > 0 {
			c := heap.Pop(cands).(*Node)
			if _, in := f.maps[c]; in || absorbed[c] || kept[c] || !fusable(c) {
				continue
			}
			st, ok := f.readMap(c, readers[c])
			if !ok {
				continue
			}
			f.maps[c] = st
			f.members = append(f.members, c)
			l, p, err := f.program(pos)
			if err != nil {
				delete(f.maps, c)
				f.members = slices.DeleteFunc(f.members, func(m *Node) bool { return m == c })
				continue
			}
			leaves, prog = l, p
			push(c)
		}
		if len(f.members) < 2 {
			if !aloneInFused(root) {
				continue
			}
			var err error
			if leaves, prog, err = f.program(pos); err != nil {
				continue
			}
		}
		if copyOnly(prog, f.shape) {
			continue
		}
		// A member read outside the group (a recomputed op) is computed
		// again where those readers are, from its own operands, which so
		// stay out of reach of absorption too: otherwise they would run
		// unfused, one kernel each, for the other group to read.
		escapes := map[*Node]bool{}
		for _, m := range slices.Backward(f.members) {
			if m == root {
				continue
			}
			escapes[m] = readOutside(m, readers[m], f.maps) || slices.ContainsFunc(readers[m], func(r *Node) bool { return escapes[r] })
			if !escapes[m] {
				absorbed[m] = true
			}
		}
		bodies[root] = &Node{g: root.g, id: root.id, kind: kindOp, op: fusedOp{prog: prog, shape: f.shape, members: f.members, leaves: leaves},
			in: leaves, shape: root.shape, outs: root.outs}
	}
}

// aloneInFused reports whether elementwise op n, alone, runs faster in the
// fused kernel than in its own: a unary, binary or scalar op over a
// multiple of 4 elements, which the fused kernel takes four to an
// invocation (on lavapipe a scalar multiply of 128x200 went from 88-90 us
// to 50-51 us a dispatch, scaled tanh' from 85-91 to 65-90). The bits are
// the same.
func aloneInFused(n *Node) bool {
	switch n.op.(type) {
	case unaryOp, binaryOp, scalarOp:
		return n.shape.Len()%4 == 0
	}
	return false
}

// copyOnly reports whether a program only copies its input in the same
// layout (a chain of reshapes and stop_gradients): a buffer copy does
// that faster than any kernel.
func copyOnly(p kernels.Fused, s Shape) bool {
	return !p.Reduces && len(p.Code) == 0 && len(p.Strides) == 1 && slices.Equal(p.Strides[0], contiguous(s))
}

// recomputable reports whether c costs less to compute again inside a
// group than to keep: an outer product reads two small vectors for the
// elements it would otherwise read from a tensor of their product's size;
// the conditional-normalization affine (and its tangent) is two or four
// arithmetic ops, and computing it again where each of its readers runs
// saves its own pass over memory and, on lavapipe, a dispatch that costs
// more than the reads.
func recomputable(c *Node) bool {
	switch o := c.op.(type) {
	case matmulOp:
		return outerProduct(o, c)
	case cnAffineOp, cnTangentOp:
		return true
	}
	return false
}

// reducesLeading reports whether n sums (or averages, or sums the squares
// of) a fusable operand that only it reads over the operand's leading
// axis alone, in one pass per output (kernels.ReducesInOnePass): the fused
// kernel then sums as the reduce kernel does, to the same bits.
func reducesLeading(n *Node, readers map[*Node][]*Node, kept map[*Node]bool) bool {
	o, ok := n.op.(reduceOp)
	if !ok {
		return false
	}
	x := n.in[0]
	axis0 := len(o.axes) == 1 && (o.axes[0] == 0 || o.axes[0] == -len(x.shape))
	return axis0 && len(x.shape) > 1 && fusable(x) && !kept[x] && len(readers[x]) == 1 &&
		kernels.ReducesInOnePass(o.op, x.shape, o.axes)
}

// readMap is the map through which the group would read c, when every
// reader of c is a member and they all read it through the same map, and
// c's own operands have maps too.
//
// A recomputable c (an outer product) may have readers outside the group
// too: the group computes it again from its two vectors rather than read
// it back from memory, and it stays in the program for the others.
func (f *fusion) readMap(c *Node, readers []*Node) ([]int, bool) {
	var st []int
	for _, r := range readers {
		phi, in := f.maps[r]
		if !in && recomputable(c) {
			continue
		}
		if !in {
			return nil, false
		}
		for i, x := range r.in {
			if x != c {
				continue
			}
			m := inputMap(r, i, phi, f.shape)
			if m == nil || (st != nil && !slices.Equal(st, m)) {
				return nil, false
			}
			st = m
		}
	}
	for i := range c.in {
		if inputMap(c, i, st, f.shape) == nil {
			return nil, false
		}
	}
	return st, st != nil
}

// readOutside reports whether a member has readers outside its group (a
// recomputed outer product), so that it stays in the program.
func readOutside(m *Node, readers []*Node, maps map[*Node][]int) bool {
	for _, r := range readers {
		if _, in := maps[r]; !in {
			return true
		}
	}
	return false
}

// contiguous is the row-major element strides of s.
func contiguous(s Shape) []int {
	st, _ := kernels.BroadcastStrides(s, s)
	return st
}

// byPos is a max-heap of nodes by schedule position.
type byPos struct {
	pos   map[*Node]int
	nodes []*Node
}

func (h *byPos) Len() int           { return len(h.nodes) }
func (h *byPos) Less(i, j int) bool { return h.pos[h.nodes[i]] > h.pos[h.nodes[j]] }
func (h *byPos) Swap(i, j int)      { h.nodes[i], h.nodes[j] = h.nodes[j], h.nodes[i] }
func (h *byPos) Push(x any)         { h.nodes = append(h.nodes, x.(*Node)) }
func (h *byPos) Pop() any {
	n := h.nodes[len(h.nodes)-1]
	h.nodes = h.nodes[:len(h.nodes)-1]
	return n
}

// fusedOp computes a fusion group's root in one kernel. It exists only
// inside compiled programs, after differentiation, so it has no
// derivative rules.
type fusedOp struct {
	prog    kernels.Fused
	shape   Shape   // the elements the program runs over
	members []*Node // in schedule order, the root last
	leaves  []*Node
}

func (o fusedOp) Name() string {
	names := make([]string, len(o.members))
	for i, m := range o.members {
		names[i] = m.op.Name()
	}
	return "fused(" + strings.Join(names, ", ") + ")"
}

func (o fusedOp) Infer(in []Shape) ([]Shape, error) {
	return []Shape{cloneShape(o.members[len(o.members)-1].shape)}, nil
}

func (o fusedOp) VJP(*Graph, *Node, []*Node) []*Node {
	panic("graph: a fused op exists only in compiled programs and is never differentiated")
}

func (o fusedOp) JVP(*Graph, *Node, []*Node) []*Node {
	panic("graph: a fused op exists only in compiled programs and is never differentiated")
}

// CPU evaluates the program with the ops' own CPU references, so the CPU
// executor gives the same bits with or without fusion.
func (o fusedOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	y, err := kernels.CPU{}.Fused(o.prog, o.shape, in)
	return [][]float32{y}, err
}

func (o fusedOp) Record(l Launch) error {
	return l.Kernels.RecordFused(l.Recorder, o.prog, o.shape, l.In, l.Out[0])
}

// rowCut says which inputs follow the program's rows, for a block of rows:
// those whose leading axis is the program's, read row by row. The others
// must be read whole for every row (stride 0 along the leading axis);
// ok is false when one is neither.
func (o fusedOp) rowCut(n *Node) (cut []bool, ok bool) {
	cut = make([]bool, len(n.in))
	for k, x := range n.in {
		st := o.prog.Strides[k][0]
		switch {
		case st == 0:
		case len(x.shape) > 0 && x.shape[0] == o.shape[0] && st == x.shape.Len()/x.shape[0]:
			cut[k] = true
		default:
			return nil, false
		}
	}
	return cut, true
}

// rows is the program over rows rows; a reduction's blocks sum, and a
// mean is scaled once they are added up (recordBlocks).
func (o fusedOp) rows(rows int) fusedOp {
	o.shape = withRows(o.shape, rows)
	if o.prog.Reduces && o.prog.Reduce == kernels.Mean {
		o.prog.Reduce = kernels.Sum
	}
	return o
}

// A fused op runs by blocks of rows when each input either follows its
// rows or is read whole (rowCut); a fused reduction over the leading axis
// is blocksOf's sum instead.
func (o fusedOp) rowBlock(n *Node, rows int) (Op, []bool, bool) {
	cut, ok := o.rowCut(n)
	return o.rows(rows), cut, ok && !o.prog.Reduces
}
