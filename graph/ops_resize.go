package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/kernels"
)

// resizeOp is bilinear resizing (backward false) or its adjoint (backward
// true), kernels.ResizeShape's semantics. Both are linear: each one's VJP
// is the other and each one's JVP is itself, so every derivative order is
// available.
type resizeOp struct {
	sh       kernels.ResizeShape
	backward bool
}

func (o resizeOp) Name() string {
	if o.backward {
		return "resize_bilinear2d backward"
	}
	return "resize_bilinear2d"
}

func (o resizeOp) shapes() (small, big Shape) {
	s := o.sh
	return Shape{s.N, s.C, s.H, s.W}, Shape{s.N, s.C, s.OH, s.OW}
}

func (o resizeOp) Infer(in []Shape) ([]Shape, error) {
	small, big := o.shapes()
	return inferResampling(o.Name(), small, big, o.backward, in[0])
}

func (o resizeOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	return []*Node{g.Apply(resizeOp{o.sh, !o.backward}, gouts[0])}
}

func (o resizeOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	return single(g.Apply(o, tin[0]))
}

func (o resizeOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	var y []float32
	var err error
	if o.backward {
		y, err = kernels.CPU{}.ResizeBilinear2DBackward(o.sh, in[0])
	} else {
		y, err = kernels.CPU{}.ResizeBilinear2D(o.sh, in[0])
	}
	return [][]float32{y}, err
}

func (o resizeOp) Record(l Launch) error {
	if o.backward {
		return l.Kernels.RecordResizeBilinear2DBackward(l.Recorder, o.sh, l.In[0], l.Out[0])
	}
	return l.Kernels.RecordResizeBilinear2D(l.Recorder, o.sh, l.In[0], l.Out[0])
}

// ResizeBilinear2d resizes x [N,C,H,W] to [N,C,oh,ow] by bilinear
// interpolation, as PyTorch's F.interpolate(x, size=(oh, ow),
// mode="bilinear", align_corners=alignCorners) without antialiasing;
// false is PyTorch's default (see kernels.ResizeShape).
func (g *Graph) ResizeBilinear2d(x *Node, oh, ow int, alignCorners bool) *Node {
	if x == nil || x.g != g {
		g.fail(fmt.Errorf("graph: resize_bilinear2d: x is nil or from another graph"))
		return g.placeholder()
	}
	s := x.shape
	if len(s) != 4 || oh < 1 || ow < 1 {
		g.fail(fmt.Errorf("graph: resize_bilinear2d: x %v to %dx%d (want [N,C,H,W] and a positive size)", s, oh, ow))
		return g.placeholder()
	}
	return g.Apply(resizeOp{sh: kernels.ResizeShape{N: s[0], C: s[1], H: s[2], W: s[3], OH: oh, OW: ow, AlignCorners: alignCorners}}, x)
}

// ResizeBilinear2dBackward is the adjoint of ResizeBilinear2d from
// [N,C,h,w]: it spreads each element of y [N,C,OH,OW] over the input
// pixels it was interpolated from, with the same weights.
func (g *Graph) ResizeBilinear2dBackward(y *Node, h, w int, alignCorners bool) *Node {
	if y == nil || y.g != g {
		g.fail(fmt.Errorf("graph: resize_bilinear2d backward: operand is nil or from another graph"))
		return g.placeholder()
	}
	s := y.shape
	if len(s) != 4 || h < 1 || w < 1 {
		g.fail(fmt.Errorf("graph: resize_bilinear2d backward: operand %v to %dx%d (want [N,C,OH,OW] and a positive size)", s, h, w))
		return g.placeholder()
	}
	return g.Apply(resizeOp{sh: kernels.ResizeShape{N: s[0], C: s[1], H: h, W: w, OH: s[2], OW: s[3], AlignCorners: alignCorners}, backward: true}, y)
}
