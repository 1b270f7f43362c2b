package graph

import (
	"fmt"
	"slices"

	"github.com/noether-vk/noether-vk/kernels"
)

// binaryOp is elementwise arithmetic with NumPy broadcasting.
type binaryOp struct{ op kernels.BinaryOp }

func (o binaryOp) Name() string { return o.op.String() }

func (o binaryOp) Infer(in []Shape) ([]Shape, error) {
	s, err := kernels.Broadcast(in[0], in[1])
	if err != nil {
		return nil, fmt.Errorf("graph: %s: %v", o.op, err)
	}
	return []Shape{s}, nil
}

func (o binaryOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	a, b, gy := n.in[0], n.in[1], gouts[0]
	switch o.op {
	case kernels.Add:
		return []*Node{g.SumTo(gy, a.shape...), g.SumTo(gy, b.shape...)}
	case kernels.Sub:
		return []*Node{g.SumTo(gy, a.shape...), g.SumTo(g.Neg(gy), b.shape...)}
	case kernels.Mul:
		return []*Node{g.SumTo(g.Mul(gy, b), a.shape...), g.SumTo(g.Mul(gy, a), b.shape...)}
	case kernels.Div:
		gb := g.Div(gy, b)
		return []*Node{g.SumTo(gb, a.shape...), g.SumTo(g.Neg(g.Mul(gb, g.Div(a, b))), b.shape...)}
	}
	panic("graph: unknown binary op")
}

func (o binaryOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	a, b, ta, tb := n.in[0], n.in[1], tin[0], tin[1]
	var t *Node
	switch o.op {
	case kernels.Add:
		t = addMaybe(g, ta, tb)
	case kernels.Sub:
		if tb != nil {
			tb = g.Neg(tb)
		}
		t = addMaybe(g, ta, tb)
	case kernels.Mul:
		if ta != nil {
			ta = g.Mul(ta, b)
		}
		if tb != nil {
			tb = g.Mul(a, tb)
		}
		t = addMaybe(g, ta, tb)
	case kernels.Div:
		// d(a/b) = (ta - (a/b) tb) / b
		if tb != nil {
			tb = g.Neg(g.Mul(g.Div(a, b), tb))
		}
		t = g.Div(addMaybe(g, ta, tb), b)
	}
	if !t.shape.Equal(n.shape) {
		t = g.BroadcastTo(t, n.shape...)
	}
	return single(t)
}

func (o binaryOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	y, _, err := kernels.CPU{}.Binary(o.op, in[0], n.in[0].shape, in[1], n.in[1].shape)
	return [][]float32{y}, err
}

func (o binaryOp) Record(l Launch) error {
	n := l.Node
	return l.Kernels.RecordBinary(l.Recorder, o.op, l.In[0], n.in[0].shape, l.In[1], n.in[1].shape, l.Out[0])
}

// Add is a + b with broadcasting.
func (g *Graph) Add(a, b *Node) *Node { return g.Apply(binaryOp{kernels.Add}, a, b) }

// Sub is a - b with broadcasting.
func (g *Graph) Sub(a, b *Node) *Node { return g.Apply(binaryOp{kernels.Sub}, a, b) }

// Mul is a ⊙ b with broadcasting.
func (g *Graph) Mul(a, b *Node) *Node { return g.Apply(binaryOp{kernels.Mul}, a, b) }

// Div is a / b with broadcasting.
func (g *Graph) Div(a, b *Node) *Node { return g.Apply(binaryOp{kernels.Div}, a, b) }

// scalarOp is x op s, or s op x with left.
type scalarOp struct {
	op   kernels.BinaryOp
	s    float32
	left bool
}

func (o scalarOp) Name() string {
	if o.left {
		return fmt.Sprintf("%g %s", o.s, o.op)
	}
	return fmt.Sprintf("%s %g", o.op, o.s)
}

func (o scalarOp) Infer(in []Shape) ([]Shape, error) { return []Shape{cloneShape(in[0])}, nil }

// scaleBy returns v ⊙ dy/dx, the VJP and the JVP of a scalar op alike.
func (o scalarOp) scaleBy(g *Graph, n *Node, v *Node) *Node {
	x := n.in[0]
	switch o.op {
	case kernels.Add:
		return v
	case kernels.Sub:
		if o.left {
			return g.Neg(v)
		}
		return v
	case kernels.Mul:
		return g.Scale(v, o.s)
	default: // Div
		if o.left { // y = s/x: dy/dx = -y/x
			return g.Neg(g.Div(g.Mul(v, n), x))
		}
		return g.Scale(v, 1/o.s)
	}
}

func (o scalarOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	return []*Node{o.scaleBy(g, n, gouts[0])}
}

func (o scalarOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	return single(o.scaleBy(g, n, tin[0]))
}

func (o scalarOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	y, err := kernels.CPU{}.BinaryScalar(o.op, in[0], o.s, o.left)
	return [][]float32{y}, err
}

func (o scalarOp) Record(l Launch) error {
	return l.Kernels.RecordBinaryScalar(l.Recorder, o.op, l.In[0], o.s, o.left, l.Out[0], l.Node.shape.Len())
}

// Scale is s ⊙ x.
func (g *Graph) Scale(x *Node, s float32) *Node {
	return g.Apply(scalarOp{op: kernels.Mul, s: s}, x)
}

// AddScalar is x + s.
func (g *Graph) AddScalar(x *Node, s float32) *Node {
	return g.Apply(scalarOp{op: kernels.Add, s: s}, x)
}

// ScalarOp is x op s, or s op x when left is true.
func (g *Graph) ScalarOp(op kernels.BinaryOp, x *Node, s float32, left bool) *Node {
	return g.Apply(scalarOp{op: op, s: s, left: left}, x)
}

// reduceOp is sum, mean or sum of squares over axes. from is the shape the
// input is read as and to the output's shape; both keep the reduced axes'
// data layout (size-1 axes do not move data), so SumTo and Reduce with or
// without kept axes are the same kernel.
type reduceOp struct {
	op   kernels.ReduceOp
	axes []int
	to   Shape
}

func (o reduceOp) Name() string { return fmt.Sprintf("%s%v", o.op, o.axes) }

func (o reduceOp) Infer(in []Shape) ([]Shape, error) {
	r, err := kernels.Reduced(in[0], o.axes, true)
	if err != nil {
		return nil, fmt.Errorf("graph: %s over %v of %v: %v", o.op, o.axes, in[0], err)
	}
	if r.Len() != o.to.Len() {
		return nil, fmt.Errorf("graph: %s over %v of %v gives %d values, not shape %v", o.op, o.axes, in[0], r.Len(), o.to)
	}
	return []Shape{cloneShape(o.to)}, nil
}

// keepShape is the output shape with the reduced axes kept as size 1.
func (o reduceOp) keepShape(x Shape) Shape {
	r, _ := kernels.Reduced(x, o.axes, true)
	return r
}

func (o reduceOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	x := n.in[0]
	gx := g.broadcastFrom(gouts[0], o.keepShape(x.shape), x.shape)
	switch o.op {
	case kernels.Mean:
		gx = g.Scale(gx, float32(n.shape.Len())/float32(x.shape.Len()))
	case kernels.SumSq:
		gx = g.Scale(g.Mul(gx, x), 2)
	}
	return []*Node{gx}
}

func (o reduceOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	t := tin[0]
	if o.op == kernels.SumSq {
		// d sum x² = 2 sum x t
		return single(g.Scale(g.Apply(reduceOp{op: kernels.Sum, axes: o.axes, to: o.to}, g.Mul(n.in[0], t)), 2))
	}
	return single(g.Apply(o, t))
}

func (o reduceOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	y, _, err := kernels.CPU{}.Reduce(o.op, in[0], n.in[0].shape, o.axes, true)
	return [][]float32{y}, err
}

func (o reduceOp) Scratch(v *kernels.Vulkan, n *Node) (int, error) {
	return v.ReduceScratch(o.op, n.in[0].shape, o.axes)
}

func (o reduceOp) Record(l Launch) error {
	return l.Kernels.RecordReduce(l.Recorder, o.op, l.In[0], l.Node.in[0].shape, o.axes, l.Out[0], l.Scratch)
}

// Reduce applies op over axes (none: every axis), keeping them as size-1
// dimensions with keep.
func (g *Graph) Reduce(op kernels.ReduceOp, x *Node, axes []int, keep bool) *Node {
	if len(axes) == 0 {
		axes = kernels.AllAxes(len(x.shape))
	}
	to, err := kernels.Reduced(x.shape, axes, keep)
	if err != nil {
		g.fail(fmt.Errorf("graph: %s over %v of %v: %v", op, axes, x.shape, err))
		return g.placeholder()
	}
	return g.Apply(reduceOp{op: op, axes: slices.Clone(axes), to: to}, x)
}

// Sum sums over axes (none: all), dropping them.
func (g *Graph) Sum(x *Node, axes ...int) *Node { return g.Reduce(kernels.Sum, x, axes, false) }

// Mean averages over axes (none: all), dropping them.
func (g *Graph) Mean(x *Node, axes ...int) *Node { return g.Reduce(kernels.Mean, x, axes, false) }

// SumSq sums squares over axes (none: all), dropping them.
func (g *Graph) SumSq(x *Node, axes ...int) *Node { return g.Reduce(kernels.SumSq, x, axes, false) }

// SumTo sums x over the axes along which shape was broadcast to x's shape:
// the adjoint of broadcasting. It returns x itself when the shapes match.
func (g *Graph) SumTo(x *Node, shape ...int) *Node {
	to := Shape(shape)
	if x.shape.Equal(to) {
		return x
	}
	if _, err := kernels.BroadcastStrides(to, x.shape); err != nil {
		g.fail(fmt.Errorf("graph: SumTo: %v does not broadcast to %v", to, x.shape))
		return g.placeholder()
	}
	axes := kernels.SumAxes(to, x.shape)
	if len(axes) == 0 { // only leading axes differ in rank: the same data
		return g.Reshape(x, shape...)
	}
	return g.Apply(reduceOp{op: kernels.Sum, axes: axes, to: cloneShape(to)}, x)
}

// broadcastOp expands its input, read as shape from, to shape to.
type broadcastOp struct{ from, to Shape }

func (o broadcastOp) Name() string { return fmt.Sprintf("broadcast%v", o.to) }

func (o broadcastOp) Infer(in []Shape) ([]Shape, error) {
	if in[0].Len() != o.from.Len() {
		return nil, fmt.Errorf("graph: broadcast: input %v read as %v", in[0], o.from)
	}
	if _, err := kernels.BroadcastStrides(o.from, o.to); err != nil {
		return nil, fmt.Errorf("graph: broadcast %v to %v: %v", o.from, o.to, err)
	}
	return []Shape{cloneShape(o.to)}, nil
}

func (o broadcastOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	s := g.SumTo(gouts[0], o.from...)
	return []*Node{g.Reshape(s, n.in[0].shape...)}
}

func (o broadcastOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	return single(g.Apply(o, tin[0]))
}

func (o broadcastOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	y, err := kernels.CPU{}.BroadcastTo(in[0], o.from, o.to)
	return [][]float32{y}, err
}

func (o broadcastOp) Record(l Launch) error {
	return l.Kernels.RecordBroadcast(l.Recorder, l.In[0], o.from, o.to, l.Out[0])
}

// BroadcastTo expands x to shape (NumPy rules). It returns x itself when
// the shapes match.
func (g *Graph) BroadcastTo(x *Node, shape ...int) *Node {
	return g.broadcastFrom(x, x.shape, shape)
}

func (g *Graph) broadcastFrom(x *Node, from, to Shape) *Node {
	if x.shape.Equal(to) {
		return x
	}
	return g.Apply(broadcastOp{from: cloneShape(from), to: cloneShape(to)}, x)
}

// reshapeOp gives the same data another shape (a copy on the device).
type reshapeOp struct{ to Shape }

func (o reshapeOp) Name() string { return fmt.Sprintf("reshape%v", o.to) }

func (o reshapeOp) Infer(in []Shape) ([]Shape, error) {
	if in[0].Len() != o.to.Len() {
		return nil, fmt.Errorf("graph: reshape %v to %v: sizes differ", in[0], o.to)
	}
	return []Shape{cloneShape(o.to)}, nil
}

func (o reshapeOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	return []*Node{g.Reshape(gouts[0], n.in[0].shape...)}
}

func (o reshapeOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	return single(g.Reshape(tin[0], o.to...))
}

func (o reshapeOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	return [][]float32{slices.Clone(in[0])}, nil
}

func (o reshapeOp) Record(l Launch) error {
	l.Recorder.Copy(l.Out[0], l.In[0])
	return l.Recorder.Err()
}

// Reshape gives x a new shape with the same number of elements. It
// returns x itself when the shapes match.
func (g *Graph) Reshape(x *Node, shape ...int) *Node {
	if x.shape.Equal(shape) {
		return x
	}
	return g.Apply(reshapeOp{to: cloneShape(Shape(shape))}, x)
}

// stopGradientOp is the identity whose derivatives are zero.
type stopGradientOp struct{}

func (stopGradientOp) Name() string                      { return "stop_gradient" }
func (stopGradientOp) Infer(in []Shape) ([]Shape, error) { return []Shape{cloneShape(in[0])}, nil }
func (stopGradientOp) VJP(*Graph, *Node, []*Node) []*Node {
	return []*Node{nil}
}
func (stopGradientOp) JVP(*Graph, *Node, []*Node) []*Node { return []*Node{nil} }
func (stopGradientOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	return [][]float32{slices.Clone(in[0])}, nil
}
func (stopGradientOp) Record(l Launch) error {
	l.Recorder.Copy(l.Out[0], l.In[0])
	return l.Recorder.Err()
}

// StopGradient is x as a value that derivatives treat as a constant: Grad
// does not flow through it and JVP gives it no tangent (a tangent seeded
// on the StopGradient node itself still flows onwards). The meta-gradient
// uses it to take partial derivatives at each inner step.
func (g *Graph) StopGradient(x *Node) *Node { return g.Apply(stopGradientOp{}, x) }
