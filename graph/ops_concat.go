package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/kernels"
)

// Concat and split are linear and adjoint to each other: the VJP of
// concat splits the cotangent into the parts' sizes, the VJP of split
// concatenates the parts' cotangents (zeros for parts that got none), and
// each one's JVP is itself applied to the tangents.

// concatOp joins its operands along a (non-negative) axis.
type concatOp struct{ axis int }

func (concatOp) Name() string { return "concat" }

func (o concatOp) Infer(in []Shape) ([]Shape, error) {
	out := cloneShape(in[0])
	if o.axis >= len(out) {
		return nil, fmt.Errorf("graph: concat: axis %d of %v", o.axis, in[0])
	}
	for _, s := range in[1:] {
		ok := len(s) == len(out)
		for d := 0; ok && d < len(s); d++ {
			ok = d == o.axis || s[d] == out[d]
		}
		if !ok {
			return nil, fmt.Errorf("graph: concat: shapes %v differ off axis %d", in, o.axis)
		}
		out[o.axis] += s[o.axis]
	}
	return []Shape{out}, nil
}

func (o concatOp) sizes(n *Node) []int {
	sizes := make([]int, len(n.in))
	for i, x := range n.in {
		sizes[i] = x.shape[o.axis]
	}
	return sizes
}

func (o concatOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	return g.Split(gouts[0], o.axis, o.sizes(n)...)
}

func (o concatOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	ts := make([]*Node, len(tin))
	for i, t := range tin {
		ts[i] = zerosFor(g, t, n.in[i].shape)
	}
	return single(g.Concat(o.axis, ts...))
}

func (o concatOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	shapes := make([]Shape, len(n.in))
	for i, x := range n.in {
		shapes[i] = x.shape
	}
	y, _, err := kernels.CPU{}.Concat(in, shapes, o.axis)
	return [][]float32{y}, err
}

func (o concatOp) Record(l Launch) error {
	shapes := make([]Shape, len(l.Node.in))
	for i, x := range l.Node.in {
		shapes[i] = x.shape
	}
	return l.Kernels.RecordConcat(l.Recorder, l.In, shapes, o.axis, l.Out[0])
}

// splitOp cuts its operand along a (non-negative) axis into parts.
type splitOp struct {
	axis  int
	sizes []int
}

func (splitOp) Name() string { return "split" }

func (o splitOp) Infer(in []Shape) ([]Shape, error) {
	x := in[0]
	total := 0
	for _, s := range o.sizes {
		if s <= 0 {
			total = -1
			break
		}
		total += s
	}
	if o.axis >= len(x) || total != x[o.axis] {
		return nil, fmt.Errorf("graph: split: %v along axis %d into sizes %v", x, o.axis, o.sizes)
	}
	outs := make([]Shape, len(o.sizes))
	for i, s := range o.sizes {
		outs[i] = cloneShape(x)
		outs[i][o.axis] = s
	}
	return outs, nil
}

func (o splitOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	parts := make([]*Node, len(gouts))
	for i, c := range gouts {
		parts[i] = zerosFor(g, c, n.outs[i])
	}
	return single(g.Concat(o.axis, parts...))
}

func (o splitOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	return g.Split(tin[0], o.axis, o.sizes...)
}

func (o splitOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	return kernels.CPU{}.Split(in[0], n.in[0].shape, o.axis, o.sizes)
}

func (o splitOp) Record(l Launch) error {
	return l.Kernels.RecordSplit(l.Recorder, l.In[0], l.Node.in[0].shape, o.axis, o.sizes, l.Out)
}

// normAxis resolves a possibly negative axis of an n-dimensional tensor.
func normAxis(axis, n int) (int, bool) {
	if axis < 0 {
		axis += n
	}
	return axis, axis >= 0 && axis < n
}

// Concat joins xs along axis (negative: counted from the end); their
// shapes must agree off that axis.
func (g *Graph) Concat(axis int, xs ...*Node) *Node {
	if len(xs) == 0 || xs[0] == nil {
		g.fail(fmt.Errorf("graph: concat: no operands"))
		return g.placeholder()
	}
	a, ok := normAxis(axis, len(xs[0].shape))
	if !ok {
		g.fail(fmt.Errorf("graph: concat: axis %d of %v", axis, xs[0].shape))
		return g.placeholder()
	}
	if len(xs) == 1 {
		return xs[0]
	}
	return g.Apply(concatOp{a}, xs...)
}

// Split cuts x along axis (negative: counted from the end) into parts of
// the given sizes, which must add up to x's extent there.
func (g *Graph) Split(x *Node, axis int, sizes ...int) []*Node {
	if x == nil || x.g != g {
		g.fail(fmt.Errorf("graph: split: x is nil or from another graph"))
		return g.placeholders(len(sizes))
	}
	a, ok := normAxis(axis, len(x.shape))
	if !ok || len(sizes) == 0 {
		g.fail(fmt.Errorf("graph: split: %v along axis %d into sizes %v", x.shape, axis, sizes))
		return g.placeholders(max(len(sizes), 1))
	}
	if len(sizes) == 1 {
		if sizes[0] != x.shape[a] {
			g.fail(fmt.Errorf("graph: split: %v along axis %d into sizes %v", x.shape, axis, sizes))
			return g.placeholders(1)
		}
		return []*Node{x}
	}
	n := g.Apply(splitOp{a, append([]int(nil), sizes...)}, x)
	if !n.multi() {
		return g.placeholders(len(sizes))
	}
	return g.Outputs(n)
}
