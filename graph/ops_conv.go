package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/kernels"
)

// The convolution family is three bilinear ops over one conv2d geometry p
// (x [N,C,H,W], w [K,C,KH,KW], y [N,K,OH,OW]):
//
//	conv2d            (x, w [, b]) -> y   = conv(x, w) + b
//	conv_transpose2d  (gy, w [, b]) -> x-shaped: the input gradient of conv
//	conv2d_weight_grad (x, gy) -> w-shaped
//
// All three are the partial gradients of one trilinear form
// T(x, w, gy) = <conv(x, w), gy> = <x, convT(gy, w)> = <w, wgrad(x, gy)>,
// so every VJP is another member of the family (the adjoint in the
// remaining argument) and every JVP is a sum of two members (product
// rule). The family is closed under both, so any derivative order is
// available: forward-over-reverse and reverse-over-reverse alike. The bias
// is a sum over N, H and W in reverse and is folded into one of the two
// tangent terms in forward mode.
//
// The user-facing ConvTranspose2d is the input-gradient op of the conv2d
// that maps its output back to its input; that conv2d's geometry is exact
// (its (H + 2 Pad - KH) is a multiple of the stride), which is what lets
// the op carry a bias, recorded by the kernels' conv_transpose2d. The
// input gradient of a conv2d whose geometry is not exact (8x8 under 3x3
// stride 2 pad 1) is recorded by the kernels' conv2d input gradient and
// takes no bias.

type convRole uint8

const (
	convFwd   convRole = iota // (x, w [, b]) -> y
	convInput                 // (gy, w [, b]) -> x-shaped
	convWGrad                 // (x, gy) -> w-shaped
)

// convOp is one member of the family; p is always the conv2d geometry.
type convOp struct {
	p    kernels.ConvParams
	role convRole
}

func (o convOp) Name() string {
	switch o.role {
	case convInput:
		return "conv_transpose2d"
	case convWGrad:
		return "conv2d_weight_grad"
	}
	return "conv2d"
}

// shapes returns the geometry's x, w and y shapes.
func (o convOp) shapes() (x, w, y Shape, err error) {
	p := o.p
	ys, err := p.OutShape(false)
	if err != nil {
		return nil, nil, nil, err
	}
	return Shape{p.N, p.C, p.H, p.W}, Shape{p.K, p.C, p.KH, p.KW}, Shape{ys[0], ys[1], ys[2], ys[3]}, nil
}

// transposed returns the kernels' conv_transpose2d parameters equivalent
// to the input gradient of p, and whether they describe it exactly.
func (o convOp) transposed() (kernels.ConvParams, bool) {
	p := o.p
	ys, err := p.OutShape(false)
	if err != nil {
		return kernels.ConvParams{}, false
	}
	t := kernels.ConvParams{N: p.N, C: p.K, H: ys[2], W: ys[3], K: p.C, KH: p.KH, KW: p.KW, Stride: p.Stride, Pad: p.Pad}
	os, err := t.OutShape(true)
	return t, err == nil && os[2] == p.H && os[3] == p.W
}

func (o convOp) Infer(in []Shape) ([]Shape, error) {
	xs, ws, ys, err := o.shapes()
	if err != nil {
		return nil, fmt.Errorf("graph: %s: %v", o.Name(), err)
	}
	var want []Shape
	var out Shape
	var names string
	switch o.role {
	case convFwd:
		want, out, names = []Shape{xs, ws, {ys[1]}}, ys, "x, w, bias"
	case convInput:
		want, out, names = []Shape{ys, ws, {xs[1]}}, xs, "x, w, bias"
	case convWGrad:
		want, out, names = []Shape{xs, ys}, ws, "x, gy"
	}
	if len(in) < 2 || len(in) > len(want) {
		return nil, fmt.Errorf("graph: %s: %d operands (%s)", o.Name(), len(in), names)
	}
	for i, s := range in {
		if !s.Equal(want[i]) {
			return nil, fmt.Errorf("graph: %s: operands (%s) %v, want %v for %v", o.Name(), names, in, want[:len(in)], o.p)
		}
	}
	if o.role == convInput && len(in) == 3 {
		if _, exact := o.transposed(); !exact {
			return nil, fmt.Errorf("graph: %s: a bias needs an exact geometry (%v)", o.Name(), o.p)
		}
	}
	return []Shape{out}, nil
}

// apply adds a member of the family; a nil bias is left out.
func (o convOp) apply(g *Graph, role convRole, a, b, bias *Node) *Node {
	op := convOp{o.p, role}
	if bias == nil {
		return g.Apply(op, a, b)
	}
	return g.Apply(op, a, b, bias)
}

// biasGrad sums a cotangent [N,C,H,W] into [C].
func biasGrad(g *Graph, gy *Node) *Node { return g.Sum(gy, 0, 2, 3) }

func (o convOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	c := gouts[0]
	a, b := n.in[0], n.in[1]
	out := make([]*Node, len(n.in))
	if c == nil {
		return out
	}
	switch o.role {
	case convFwd: // a = x, b = w, c ~ y
		out[0] = o.apply(g, convInput, c, b, nil)
		out[1] = o.apply(g, convWGrad, a, c, nil)
	case convInput: // a = gy, b = w, c ~ x
		out[0] = o.apply(g, convFwd, c, b, nil)
		out[1] = o.apply(g, convWGrad, c, a, nil)
	case convWGrad: // a = x, b = gy, c ~ w
		out[0] = o.apply(g, convInput, b, c, nil)
		out[1] = o.apply(g, convFwd, a, c, nil)
	}
	if len(n.in) == 3 {
		out[2] = biasGrad(g, c)
	}
	return out
}

func (o convOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	a, b := n.in[0], n.in[1]
	var tb *Node
	if len(tin) == 3 {
		tb = tin[2]
	}
	var sum *Node
	if tin[0] != nil {
		sum = o.apply(g, o.role, tin[0], b, tb)
		tb = nil
	}
	if tin[1] != nil {
		sum = addMaybe(g, sum, o.apply(g, o.role, a, tin[1], tb))
		tb = nil
	}
	if tb != nil { // only the bias moves
		s := n.shape
		sum = g.BroadcastTo(g.Reshape(tb, s[1], 1, 1), s...)
	}
	return []*Node{sum}
}

func (o convOp) bias(in [][]float32) []float32 {
	if len(in) == 3 {
		return in[2]
	}
	return nil
}

func (o convOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	c := kernels.CPU{}
	var y []float32
	var err error
	switch o.role {
	case convFwd:
		y, err = c.Conv2D(o.p, in[0], in[1], o.bias(in))
	case convInput:
		if t, exact := o.transposed(); exact {
			y, err = c.ConvTranspose2D(t, in[0], in[1], o.bias(in))
		} else {
			y, _, _, err = c.Conv2DBackward(o.p, make([]float32, o.p.InLen()), in[1], in[0])
		}
	case convWGrad:
		_, y, _, err = c.Conv2DBackward(o.p, in[0], make([]float32, o.p.WeightLen()), in[1])
	}
	return [][]float32{y}, err
}

// Scratch implements scratcher: what kernels.Vulkan.ConvScratch asks for
// the pass the op records (the GEMM form's column matrix, or the direct
// weight gradient's partial sums; 0 for none).
func (o convOp) Scratch(v *kernels.Vulkan, n *Node) (int, error) {
	switch o.role {
	case convFwd:
		return v.ConvScratch(o.p, false, kernels.ConvPassForward)
	case convInput:
		if len(n.in) == 3 {
			t, _ := o.transposed()
			return v.ConvScratch(t, true, kernels.ConvPassForward)
		}
		return v.ConvScratch(o.p, false, kernels.ConvPassInputGrad)
	}
	return v.ConvScratch(o.p, false, kernels.ConvPassWeightGrad)
}

func (o convOp) Record(l Launch) error {
	switch o.role {
	case convFwd:
		if len(l.In) == 3 {
			return l.Kernels.RecordConv2D(l.Recorder, o.p, l.In[0], l.In[1], l.In[2], l.Out[0], l.Scratch)
		}
		return l.Kernels.RecordConv2D(l.Recorder, o.p, l.In[0], l.In[1], nil, l.Out[0], l.Scratch)
	case convInput:
		if len(l.In) == 3 {
			t, _ := o.transposed()
			return l.Kernels.RecordConvTranspose2D(l.Recorder, t, l.In[0], l.In[1], l.In[2], l.Out[0], l.Scratch)
		}
		return l.Kernels.RecordConv2DInputGrad(l.Recorder, o.p, l.In[1], l.In[0], l.Out[0], l.Scratch)
	default:
		return l.Kernels.RecordConv2DWeightGrad(l.Recorder, o.p, l.In[0], l.In[1], l.Out[0], l.Scratch)
	}
}

// convArgs checks the builders' operands; it reports the failure and
// returns false when they are unusable.
func (g *Graph) convArgs(name string, x, w, bias *Node, stride, pad int) bool {
	for i, v := range []*Node{x, w} {
		if v == nil || v.g != g {
			g.fail(fmt.Errorf("graph: %s: operand %d is nil or from another graph", name, i))
			return false
		}
	}
	if bias != nil && bias.g != g {
		g.fail(fmt.Errorf("graph: %s: the bias is from another graph", name))
		return false
	}
	// conv2d's weights are [K,C,KH,KW], conv_transpose2d's [C,K,KH,KW].
	in, out := 1, 0
	want := "x [N,C,H,W], w [K,C,KH,KW], bias [K]"
	if name != "conv2d" {
		in, out = 0, 1
		want = "x [N,C,H,W], w [C,K,KH,KW], bias [K]"
	}
	if len(x.shape) != 4 || len(w.shape) != 4 || x.shape[1] != w.shape[in] ||
		(bias != nil && !bias.shape.Equal(Shape{w.shape[out]})) {
		bs := "none"
		if bias != nil {
			bs = bias.shape.String()
		}
		g.fail(fmt.Errorf("graph: %s: x %v, w %v, bias %s (want %s)", name, x.shape, w.shape, bs, want))
		return false
	}
	return true
}

// Conv2d is torch's conv2d: x [N,C,H,W], weights w [K,C,KH,KW], bias [K]
// (nil: none), square stride and zero padding, giving [N,K,OH,OW] with
// OH = (H + 2 pad - KH)/stride + 1. Kernels are 1..7 on a side, stride
// 1..4 and pad smaller than the kernel.
func (g *Graph) Conv2d(x, w, bias *Node, stride, pad int) *Node {
	if !g.convArgs("conv2d", x, w, bias, stride, pad) {
		return g.placeholder()
	}
	s, ws := x.shape, w.shape
	p := kernels.ConvParams{N: s[0], C: s[1], H: s[2], W: s[3], K: ws[0], KH: ws[2], KW: ws[3], Stride: stride, Pad: pad}
	if _, err := p.OutShape(false); err != nil {
		g.fail(fmt.Errorf("graph: conv2d: x %v, w %v, stride %d, pad %d: %v", s, ws, stride, pad, err))
		return g.placeholder()
	}
	return convOp{p: p}.apply(g, convFwd, x, w, bias)
}

// ConvTranspose2d is torch's conv_transpose2d without output padding:
// x [N,C,H,W], weights w [C,K,KH,KW] (torch's layout), bias [K] (nil:
// none), giving [N,K,(H-1) stride - 2 pad + KH, ...]. It is the input
// gradient of the conv2d with the same weights that maps its output back
// to x's shape: the DCGAN decoder's 4x4 stride 2 pad 1 doubles H and W,
// and 4x4 stride 1 pad 0 turns 1x1 into 4x4.
func (g *Graph) ConvTranspose2d(x, w, bias *Node, stride, pad int) *Node {
	if !g.convArgs("conv_transpose2d", x, w, bias, stride, pad) {
		return g.placeholder()
	}
	s, ws := x.shape, w.shape
	t := kernels.ConvParams{N: s[0], C: s[1], H: s[2], W: s[3], K: ws[1], KH: ws[2], KW: ws[3], Stride: stride, Pad: pad}
	os, err := t.OutShape(true)
	if err != nil {
		g.fail(fmt.Errorf("graph: conv_transpose2d: x %v, w %v, stride %d, pad %d: %v", s, ws, stride, pad, err))
		return g.placeholder()
	}
	// The conv2d mapping [N,K,OH,OW] back to [N,C,H,W] with weights [C,K,KH,KW].
	p := kernels.ConvParams{N: s[0], C: ws[1], H: os[2], W: os[3], K: s[1], KH: ws[2], KW: ws[3], Stride: stride, Pad: pad}
	return convOp{p: p}.apply(g, convInput, x, w, bias)
}
