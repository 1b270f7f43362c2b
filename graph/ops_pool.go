package graph

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/kernels"
)

// Max pooling keeps the argmax of every window as a second output of the
// forward op: flat indices into x, stored as the bits of int32 values in
// float32 slots, which is what the Vulkan kernel writes (uint32), so both
// executors hold the same bits. The argmax is not differentiable: its
// cotangents and tangents are ignored (nil). With the argmax fixed, the
// backward (a scatter of the cotangent) and the tangent (a gather of the
// tangent) are linear and adjoint to each other, so each one's VJP is the
// other and each one's JVP is itself: every derivative order is available.

// argBits stores int32 indices as float32 bit patterns.
func argBits(arg []int32) []float32 {
	out := make([]float32, len(arg))
	for i, a := range arg {
		out[i] = math.Float32frombits(uint32(a))
	}
	return out
}

// argInts reads what argBits stored.
func argInts(v []float32) []int32 {
	out := make([]int32, len(v))
	for i, f := range v {
		out[i] = int32(math.Float32bits(f))
	}
	return out
}

func poolOutShape(sh kernels.PoolShape) Shape {
	oh, ow := sh.Out()
	return Shape{sh.N, sh.C, oh, ow}
}

func poolInShape(sh kernels.PoolShape) Shape { return Shape{sh.N, sh.C, sh.H, sh.W} }

// maxPoolOp: x [N,C,H,W] -> (y [N,C,OH,OW], argmax [N,C,OH,OW]).
type maxPoolOp struct{ sh kernels.PoolShape }

func (maxPoolOp) Name() string { return "maxpool2d" }

func (o maxPoolOp) Infer(in []Shape) ([]Shape, error) {
	if !in[0].Equal(poolInShape(o.sh)) {
		return nil, fmt.Errorf("graph: maxpool2d: x %v, want %v", in[0], poolInShape(o.sh))
	}
	return []Shape{poolOutShape(o.sh), poolOutShape(o.sh)}, nil
}

func (o maxPoolOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	if gouts[0] == nil {
		return []*Node{nil}
	}
	return []*Node{g.Apply(maxPoolArgOp{o.sh, true}, g.Output(n, 1), gouts[0])}
}

func (o maxPoolOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	return []*Node{g.Apply(maxPoolArgOp{o.sh, false}, g.Output(n, 1), tin[0]), nil}
}

func (o maxPoolOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	y, arg, err := kernels.CPU{}.MaxPool2D(o.sh, in[0])
	return [][]float32{y, argBits(arg)}, err
}

func (o maxPoolOp) Record(l Launch) error {
	return l.Kernels.RecordMaxPool2D(l.Recorder, o.sh, l.In[0], l.Out[0], l.Out[1])
}

// MaxPool2d is 2-D max pooling of x [N,C,H,W] over k x k windows with the
// given stride (0: k), no padding, floor mode, as torch's max_pool2d.
func (g *Graph) MaxPool2d(x *Node, k, stride int) *Node {
	y, _ := g.MaxPool2dWithArgmax(x, k, stride)
	return y
}

// MaxPool2dWithArgmax is MaxPool2d that also returns the argmax: flat
// indices into x stored as int32 bit patterns in float32 (read them with
// math.Float32bits). The argmax is not differentiable.
func (g *Graph) MaxPool2dWithArgmax(x *Node, k, stride int) (y, argmax *Node) {
	if x == nil || x.g != g {
		g.fail(fmt.Errorf("graph: maxpool2d: x is nil or from another graph"))
		return g.placeholder(), g.placeholder()
	}
	if stride == 0 {
		stride = k
	}
	s := x.shape
	if len(s) != 4 || k <= 0 || stride <= 0 || s[2] < k || s[3] < k {
		g.fail(fmt.Errorf("graph: maxpool2d: x %v with window %d and stride %d (want [N,C,H,W] with H, W >= window)", s, k, stride))
		return g.placeholder(), g.placeholder()
	}
	n := g.Apply(maxPoolOp{kernels.PoolShape{N: s[0], C: s[1], H: s[2], W: s[3], KH: k, KW: k, SH: stride, SW: stride}}, x)
	if !n.multi() {
		return g.placeholder(), g.placeholder()
	}
	return g.Output(n, 0), g.Output(n, 1)
}

func checkArg(name string, sh kernels.PoolShape, arg, v Shape, vWant Shape) error {
	if !arg.Equal(poolOutShape(sh)) || !v.Equal(vWant) {
		return fmt.Errorf("graph: %s: argmax %v and operand %v, want %v and %v for %v", name, arg, v, poolOutShape(sh), vWant, sh)
	}
	return nil
}

// maxPoolArgOp is the scatter of g [N,C,OH,OW] to the argmax positions,
// (argmax, g) -> dx [N,C,H,W] (backward true), or its adjoint, the gather
// (argmax, t [N,C,H,W]) -> t[argmax] [N,C,OH,OW] (backward false). Both
// are linear in their second operand: each one's VJP is the other and
// each one's JVP is itself.
type maxPoolArgOp struct {
	sh       kernels.PoolShape
	backward bool
}

func (o maxPoolArgOp) Name() string {
	if o.backward {
		return "maxpool2d backward"
	}
	return "maxpool2d tangent"
}

func (o maxPoolArgOp) Infer(in []Shape) ([]Shape, error) {
	from, to := poolInShape(o.sh), poolOutShape(o.sh)
	if o.backward {
		from, to = to, from
	}
	if err := checkArg(o.Name(), o.sh, in[0], in[1], from); err != nil {
		return nil, err
	}
	return []Shape{to}, nil
}

func (o maxPoolArgOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	return []*Node{nil, g.Apply(maxPoolArgOp{o.sh, !o.backward}, n.in[0], gouts[0])}
}

func (o maxPoolArgOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	if tin[1] == nil {
		return []*Node{nil}
	}
	return single(g.Apply(o, n.in[0], tin[1]))
}

func (o maxPoolArgOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	var y []float32
	var err error
	if o.backward {
		y, err = kernels.CPU{}.MaxPool2DBackward(o.sh, argInts(in[0]), in[1])
	} else {
		y, err = kernels.CPU{}.MaxPool2DTangent(o.sh, argInts(in[0]), in[1])
	}
	return [][]float32{y}, err
}

func (o maxPoolArgOp) Record(l Launch) error {
	if o.backward {
		return l.Kernels.RecordMaxPool2DBackward(l.Recorder, o.sh, l.In[0], l.In[1], l.Out[0])
	}
	return l.Kernels.RecordMaxPool2DTangent(l.Recorder, o.sh, l.In[0], l.In[1], l.Out[0])
}

// upsampleOp is nearest-neighbour upsampling (backward false) or its
// adjoint, the sum over each factor block (backward true). Both are
// linear: each one's VJP is the other and each one's JVP is itself.
type upsampleOp struct {
	sh       kernels.UpsampleShape
	backward bool
}

func (o upsampleOp) Name() string {
	if o.backward {
		return "upsample_nearest2d backward"
	}
	return "upsample_nearest2d"
}

func (o upsampleOp) shapes() (small, big Shape) {
	s := o.sh
	return Shape{s.N, s.C, s.H, s.W}, Shape{s.N, s.C, s.H * s.FH, s.W * s.FW}
}

func (o upsampleOp) Infer(in []Shape) ([]Shape, error) {
	small, big := o.shapes()
	return inferResampling(o.Name(), small, big, o.backward, in[0])
}

// inferResampling is the shape rule of an op that maps small to big and of
// its adjoint (backward), which maps big back to small.
func inferResampling(name string, small, big Shape, backward bool, in Shape) ([]Shape, error) {
	from, to := small, big
	if backward {
		from, to = big, small
	}
	if !in.Equal(from) {
		return nil, fmt.Errorf("graph: %s: operand %v, want %v", name, in, from)
	}
	return []Shape{to}, nil
}

func (o upsampleOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	return []*Node{g.Apply(upsampleOp{o.sh, !o.backward}, gouts[0])}
}

func (o upsampleOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	return single(g.Apply(o, tin[0]))
}

func (o upsampleOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	var y []float32
	var err error
	if o.backward {
		y, err = kernels.CPU{}.UpsampleNearest2DBackward(o.sh, in[0])
	} else {
		y, err = kernels.CPU{}.UpsampleNearest2D(o.sh, in[0])
	}
	return [][]float32{y}, err
}

func (o upsampleOp) Record(l Launch) error {
	if o.backward {
		return l.Kernels.RecordUpsampleNearest2DBackward(l.Recorder, o.sh, l.In[0], l.Out[0])
	}
	return l.Kernels.RecordUpsampleNearest2D(l.Recorder, o.sh, l.In[0], l.Out[0])
}

// UpsampleNearest2d repeats every pixel of x [N,C,H,W] factor x factor
// times: [N,C,H*factor,W*factor].
func (g *Graph) UpsampleNearest2d(x *Node, factor int) *Node {
	if x == nil || x.g != g {
		g.fail(fmt.Errorf("graph: upsample_nearest2d: x is nil or from another graph"))
		return g.placeholder()
	}
	s := x.shape
	if len(s) != 4 || factor <= 0 {
		g.fail(fmt.Errorf("graph: upsample_nearest2d: x %v with factor %d (want [N,C,H,W] and a positive factor)", s, factor))
		return g.placeholder()
	}
	return g.Apply(upsampleOp{sh: kernels.UpsampleShape{N: s[0], C: s[1], H: s[2], W: s[3], FH: factor, FW: factor}}, x)
}

// UpsampleNearest2dBackward is the adjoint of UpsampleNearest2d: it sums
// every factor x factor block of y [N,C,H*factor,W*factor] into [N,C,H,W].
func (g *Graph) UpsampleNearest2dBackward(y *Node, factor int) *Node {
	if y == nil || y.g != g {
		g.fail(fmt.Errorf("graph: upsample_nearest2d backward: operand is nil or from another graph"))
		return g.placeholder()
	}
	s := y.shape
	if len(s) != 4 || factor <= 0 || s[2]%factor != 0 || s[3]%factor != 0 {
		g.fail(fmt.Errorf("graph: upsample_nearest2d backward: operand %v with factor %d (want [N,C,H,W] with H and W multiples of the factor)", s, factor))
		return g.placeholder()
	}
	return g.Apply(upsampleOp{sh: kernels.UpsampleShape{N: s[0], C: s[1], H: s[2] / factor, W: s[3] / factor, FH: factor, FW: factor}, backward: true}, y)
}
