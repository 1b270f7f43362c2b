package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/kernels"
)

// Ops that read statistics of whole rows or matrices and are not
// differentiable: the rowwise family (kernels.RowwiseOp) here and the
// symmetric eigen-decomposition (ops_symeig.go). A derivative asked
// through one of them is a graph error naming the op, not a silent zero.

// notDifferentiable records that a derivative reached op.
func notDifferentiable(g *Graph, op Op) {
	g.fail(fmt.Errorf("graph: %s is not differentiable: take derivatives of what feeds it, not through it", op.Name()))
}

// anyNonNil tells whether some node is given.
func anyNonNil(ns []*Node) bool {
	for _, n := range ns {
		if n != nil {
			return true
		}
	}
	return false
}

// rowwiseOp applies a kernels.RowwiseOp to the rows of its first operand,
// read as [rows, L] with rows its leading axis; RowJet's second operand is
// the image [rows, 3, ...].
type rowwiseOp struct{ op kernels.RowwiseOp }

func (o rowwiseOp) Name() string { return o.op.String() }

func (o rowwiseOp) Infer(in []Shape) ([]Shape, error) {
	x := in[0]
	if len(x) < 2 {
		return nil, fmt.Errorf("graph: %s: x %v has no rows to work on (want [rows, ...])", o.op, x)
	}
	switch o.op {
	case kernels.RowSign:
		return []Shape{{x[0]}}, nil
	case kernels.RowJet:
		want := append(Shape{x[0], 3}, x[1:]...)
		if !in[1].Equal(want) {
			return nil, fmt.Errorf("graph: %s: heat map %v and image %v, want the image %v", o.op, x, in[1], want)
		}
		return []Shape{want}, nil
	}
	return []Shape{cloneShape(x)}, nil
}

func (o rowwiseOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	if anyNonNil(gouts) {
		notDifferentiable(g, o)
	}
	return make([]*Node, len(n.in))
}

func (o rowwiseOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	if anyNonNil(tin) {
		notDifferentiable(g, o)
	}
	return []*Node{nil}
}

// dims returns the rows and their length.
func (o rowwiseOp) dims(n *Node) (rows, l int) {
	x := n.in[0].shape
	return x[0], x.Len() / x[0]
}

func (o rowwiseOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	rows, l := o.dims(n)
	var f []float32
	if o.op == kernels.RowJet {
		f = in[1]
	}
	y, err := kernels.CPU{}.Rowwise(o.op, rows, l, in[0], f)
	return [][]float32{y}, err
}

func (o rowwiseOp) Record(l Launch) error {
	rows, n := o.dims(l.Node)
	f := l.In[0]
	if o.op == kernels.RowJet {
		f = l.In[1]
	}
	return l.Kernels.RecordRowwise(l.Recorder, o.op, rows, n, l.In[0], f, l.Out[0])
}

// NormalizeMinMax maps each x[i] (rows along the leading axis) linearly
// onto [0, 1]: (x - min) / (max - min), zeros where the row is constant.
// It is not differentiable.
func (g *Graph) NormalizeMinMax(x *Node) *Node { return g.Apply(rowwiseOp{kernels.RowMinMax}, x) }

// SignOfLargest is, for each x[i], the sign of its entry of largest
// magnitude (the first in row-major order on ties; +1 when x[i] is all
// zeros): scikit-learn's svd_flip sign, [rows]. It is not
// differentiable.
func (g *Graph) SignOfLargest(x *Node) *Node { return g.Apply(rowwiseOp{kernels.RowSign}, x) }

// JetBlend colours each heat map heat[i] (values in [0, 1]) with the jet
// colour map, adds it to image[i] [3, ...] (RGB, planar, in [0, 1]) and
// divides by the largest value of the sum, as pytorch-grad-cam's
// show_cam_on_image (see kernels.RowJet). It is not differentiable.
func (g *Graph) JetBlend(heat, image *Node) *Node {
	return g.Apply(rowwiseOp{kernels.RowJet}, heat, image)
}
