package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/kernels"
)

// The fused ops (conditional-normalization affine, LSTM cell, losses) have
// a kernel for every derivative order the meta-gradient uses: forward,
// backward (VJP), tangent (JVP) and tangent of backward (the JVP of the
// VJP, i.e. forward-over-reverse). Orders beyond those report an error
// naming the op instead of building a wrong graph.

// zerosFor returns t, or zeros of shape s when t is nil.
func zerosFor(g *Graph, t *Node, s Shape) *Node {
	if t != nil {
		return t
	}
	return g.Fill(0, s...)
}

// unsupported records that a derivative order is not available.
func unsupported(g *Graph, what string, n int) []*Node {
	g.fail(fmt.Errorf("graph: %s is not available (the fused kernels stop at the tangent of the backward)", what))
	return make([]*Node, n)
}

// cnShape reads x [N,C,...] as the kernel's [N,C,S].
func cnShape(x Shape) kernels.CNShape {
	s := 1
	for _, d := range x[2:] {
		s *= d
	}
	return kernels.CNShape{N: x[0], C: x[1], S: s}
}

func checkCN(name string, x, gamma Shape) error {
	if len(x) < 2 || !gamma.Equal(Shape{x[0], x[1]}) {
		return fmt.Errorf("graph: %s: x %v needs gamma and beta of shape [%s]", name, x, Shape(x[:min(2, len(x))]))
	}
	return nil
}

// cnAffineOp: y[n,c,...] = x[n,c,...] gamma[n,c] + beta[n,c].
type cnAffineOp struct{}

func (cnAffineOp) Name() string { return "cn_affine" }

func (o cnAffineOp) Infer(in []Shape) ([]Shape, error) {
	if err := checkCN(o.Name(), in[0], in[1]); err != nil {
		return nil, err
	}
	if !in[2].Equal(in[1]) {
		return nil, fmt.Errorf("graph: cn_affine: beta %v, want %v", in[2], in[1])
	}
	return []Shape{cloneShape(in[0])}, nil
}

func (cnAffineOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	return g.Outputs(g.Apply(cnBackwardOp{}, n.in[0], n.in[1], gouts[0]))
}

func (cnAffineOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	x, gamma := n.in[0], n.in[1]
	return single(g.Apply(cnTangentOp{}, x, gamma, zerosFor(g, tin[0], x.shape), zerosFor(g, tin[1], gamma.shape), zerosFor(g, tin[2], gamma.shape)))
}

func (cnAffineOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	y, err := kernels.CPU{}.CNAffine(cnShape(n.in[0].shape), in[0], in[1], in[2])
	return [][]float32{y}, err
}

func (cnAffineOp) Record(l Launch) error {
	return l.Kernels.RecordCNAffine(l.Recorder, cnShape(l.Node.in[0].shape), l.In[0], l.In[1], l.In[2], l.Out[0])
}

// CNAffine is the per-example conditional-normalization affine x ⊙ gamma +
// beta, gamma and beta of shape [N,C] broadcast over x's trailing axes.
func (g *Graph) CNAffine(x, gamma, beta *Node) *Node { return g.Apply(cnAffineOp{}, x, gamma, beta) }

// cnBackwardOp: (x, gamma, g) -> (dx = g gamma, dgamma = Σ_s g x, dbeta = Σ_s g).
type cnBackwardOp struct{}

func (cnBackwardOp) Name() string { return "cn_affine backward" }

func (o cnBackwardOp) Infer(in []Shape) ([]Shape, error) {
	if err := checkCN(o.Name(), in[0], in[1]); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[0]), cloneShape(in[1]), cloneShape(in[1])}, nil
}

// VJP of the backward (reverse over reverse), from generic ops: with
// cotangents (a, c, d) of (dx, dgamma, dbeta): x̄ = c g, γ̄ = Σ_s a g,
// ḡ = a γ + c x + d.
func (cnBackwardOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	x, gamma, gy := n.in[0], n.in[1], n.in[2]
	sh := cnShape(x.shape)
	flat := func(v *Node) *Node { return g.Reshape(v, sh.N, sh.C, sh.S) }
	col := func(v *Node) *Node { return g.Reshape(v, sh.N, sh.C, 1) }
	var xb, gb, gyb *Node // gyb in the flat [N,C,S] layout until the end
	if a := gouts[0]; a != nil {
		gb = g.Sum(g.Mul(flat(a), flat(gy)), 2)
		gyb = g.Mul(flat(a), col(gamma))
	}
	if c := gouts[1]; c != nil {
		xb = g.Reshape(g.Mul(col(c), flat(gy)), x.shape...)
		gyb = addMaybe(g, gyb, g.Mul(col(c), flat(x)))
	}
	if d := gouts[2]; d != nil {
		db := g.BroadcastTo(col(d), sh.N, sh.C, sh.S)
		gyb = addMaybe(g, gyb, db)
	}
	if gyb != nil {
		gyb = g.Reshape(gyb, x.shape...)
	}
	return []*Node{xb, gb, gyb}
}

func (cnBackwardOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	x, gamma, gy := n.in[0], n.in[1], n.in[2]
	return g.Outputs(g.Apply(cnTangentBackwardOp{}, x, gamma, gy,
		zerosFor(g, tin[0], x.shape), zerosFor(g, tin[1], gamma.shape), zerosFor(g, tin[2], gy.shape)))
}

func (cnBackwardOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	dx, dg, db, err := kernels.CPU{}.CNAffineBackward(cnShape(n.in[0].shape), in[0], in[1], in[2])
	return [][]float32{dx, dg, db}, err
}

func (cnBackwardOp) Record(l Launch) error {
	return l.Kernels.RecordCNAffineBackward(l.Recorder, cnShape(l.Node.in[0].shape), l.In[0], l.In[1], l.In[2], l.Out[0], l.Out[1], l.Out[2])
}

// cnTangentOp: (x, gamma, tx, tgamma, tbeta) -> tx gamma + x tgamma + tbeta.
type cnTangentOp struct{}

func (cnTangentOp) Name() string { return "cn_affine tangent" }

func (o cnTangentOp) Infer(in []Shape) ([]Shape, error) {
	if err := checkCN(o.Name(), in[0], in[1]); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[0])}, nil
}

// The tangent is bilinear in (x, gamma) and (tx, tgamma), so its
// cotangents are two backward kernels: backward(tx, gamma, a) gives
// (t̄x, γ̄, t̄β) and backward(x, tgamma, a) gives (x̄, t̄γ).
func (cnTangentOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	x, gamma, tx, tgamma := n.in[0], n.in[1], n.in[2], n.in[3]
	b1 := g.Outputs(g.Apply(cnBackwardOp{}, tx, gamma, gouts[0]))
	b2 := g.Outputs(g.Apply(cnBackwardOp{}, x, tgamma, gouts[0]))
	return []*Node{b2[0], b1[1], b1[0], b2[1], b1[2]}
}

// And its tangent is two tangent kernels, by the same bilinearity.
func (cnTangentOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	x, gamma, tx, tgamma := n.in[0], n.in[1], n.in[2], n.in[3]
	z := func(i int) *Node { return zerosFor(g, tin[i], n.in[i].shape) }
	a := g.Apply(cnTangentOp{}, x, gamma, z(2), z(3), z(4))
	b := g.Apply(cnTangentOp{}, z(0), z(1), tx, tgamma, g.Fill(0, gamma.shape...))
	return single(g.Add(a, b))
}

func (cnTangentOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	y, err := kernels.CPU{}.CNAffineTangent(cnShape(n.in[0].shape), in[0], in[1], in[2], in[3], in[4])
	return [][]float32{y}, err
}

func (cnTangentOp) Record(l Launch) error {
	return l.Kernels.RecordCNAffineTangent(l.Recorder, cnShape(l.Node.in[0].shape), l.In[0], l.In[1], l.In[2], l.In[3], l.In[4], l.Out[0])
}

// cnTangentBackwardOp: the tangent of the backward, (x, gamma, g, tx,
// tgamma, tg) -> tangents of (dx, dgamma, dbeta).
type cnTangentBackwardOp struct{}

func (cnTangentBackwardOp) Name() string { return "cn_affine tangent of backward" }

func (o cnTangentBackwardOp) Infer(in []Shape) ([]Shape, error) {
	if err := checkCN(o.Name(), in[0], in[1]); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[0]), cloneShape(in[1]), cloneShape(in[1])}, nil
}

func (o cnTangentBackwardOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name(), len(n.in))
}

func (o cnTangentBackwardOp) JVP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the JVP of "+o.Name(), 3)
}

func (cnTangentBackwardOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	a, b, c, err := kernels.CPU{}.CNAffineTangentBackward(cnShape(n.in[0].shape), in[0], in[1], in[2], in[3], in[4], in[5])
	return [][]float32{a, b, c}, err
}

func (cnTangentBackwardOp) Record(l Launch) error {
	return l.Kernels.RecordCNAffineTangentBackward(l.Recorder, cnShape(l.Node.in[0].shape), l.In[0], l.In[1], l.In[2], l.In[3], l.In[4], l.In[5], l.Out[0], l.Out[1], l.Out[2])
}

// lstmShape reads z [B,4H].
func lstmShape(z Shape) kernels.LSTMShape { return kernels.LSTMShape{B: z[0], H: z[1] / 4} }

func checkLSTM(name string, z, c Shape) error {
	if len(z) != 2 || z[1]%4 != 0 || !c.Equal(Shape{z[0], z[1] / 4}) {
		return fmt.Errorf("graph: %s: pre-activations %v and cell %v (want [B,4H] and [B,H])", name, z, c)
	}
	return nil
}

// lstmOp: (z [B,4H], c_prev [B,H]) -> (h, c), gates i, f, g, o.
type lstmOp struct{}

func (lstmOp) Name() string { return "lstm_cell" }

func (o lstmOp) Infer(in []Shape) ([]Shape, error) {
	if err := checkLSTM(o.Name(), in[0], in[1]); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[1]), cloneShape(in[1])}, nil
}

func (lstmOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	z, c := n.in[0], n.in[1]
	return g.Outputs(g.Apply(lstmBackwardOp{}, z, c, zerosFor(g, gouts[0], c.shape), zerosFor(g, gouts[1], c.shape)))
}

func (lstmOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	z, c := n.in[0], n.in[1]
	return g.Outputs(g.Apply(lstmTangentOp{}, z, c, zerosFor(g, tin[0], z.shape), zerosFor(g, tin[1], c.shape)))
}

func (lstmOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	h, c, err := kernels.CPU{}.LSTMCell(lstmShape(n.in[0].shape), in[0], in[1])
	return [][]float32{h, c}, err
}

func (lstmOp) Record(l Launch) error {
	return l.Kernels.RecordLSTMCell(l.Recorder, lstmShape(l.Node.in[0].shape), l.In[0], l.In[1], l.Out[0], l.Out[1])
}

// LSTMCell is the fused LSTM update from pre-activations z [B,4H] (gate
// blocks i, f, g, o) and the previous cell c [B,H]; it returns (h, c).
func (g *Graph) LSTMCell(z, c *Node) (h, cNext *Node) {
	n := g.Apply(lstmOp{}, z, c)
	if !n.multi() {
		return g.placeholder(), g.placeholder()
	}
	return g.Output(n, 0), g.Output(n, 1)
}

// lstmBackwardOp: (z, c_prev, gh, gc) -> (dz, dc_prev).
type lstmBackwardOp struct{}

func (lstmBackwardOp) Name() string { return "lstm_cell backward" }

func (o lstmBackwardOp) Infer(in []Shape) ([]Shape, error) {
	if err := checkLSTM(o.Name(), in[0], in[1]); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[0]), cloneShape(in[1])}, nil
}

func (o lstmBackwardOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name()+" (reverse over reverse)", len(n.in))
}

func (lstmBackwardOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	z := func(i int) *Node { return zerosFor(g, tin[i], n.in[i].shape) }
	return g.Outputs(g.Apply(lstmTangentBackwardOp{}, n.in[0], n.in[1], n.in[2], n.in[3], z(0), z(1), z(2), z(3)))
}

func (lstmBackwardOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	dz, dc, err := kernels.CPU{}.LSTMCellBackward(lstmShape(n.in[0].shape), in[0], in[1], in[2], in[3])
	return [][]float32{dz, dc}, err
}

func (lstmBackwardOp) Record(l Launch) error {
	return l.Kernels.RecordLSTMCellBackward(l.Recorder, lstmShape(l.Node.in[0].shape), l.In[0], l.In[1], l.In[2], l.In[3], l.Out[0], l.Out[1])
}

// lstmTangentOp: (z, c_prev, tz, tc_prev) -> (th, tc).
type lstmTangentOp struct{}

func (lstmTangentOp) Name() string { return "lstm_cell tangent" }

func (o lstmTangentOp) Infer(in []Shape) ([]Shape, error) {
	if err := checkLSTM(o.Name(), in[0], in[1]); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[1]), cloneShape(in[1])}, nil
}

func (o lstmTangentOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name()+" (reverse over forward)", len(n.in))
}

func (o lstmTangentOp) JVP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the JVP of "+o.Name(), 2)
}

func (lstmTangentOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	th, tc, err := kernels.CPU{}.LSTMCellTangent(lstmShape(n.in[0].shape), in[0], in[1], in[2], in[3])
	return [][]float32{th, tc}, err
}

func (lstmTangentOp) Record(l Launch) error {
	return l.Kernels.RecordLSTMCellTangent(l.Recorder, lstmShape(l.Node.in[0].shape), l.In[0], l.In[1], l.In[2], l.In[3], l.Out[0], l.Out[1])
}

// lstmTangentBackwardOp: (z, c_prev, gh, gc, tz, tc_prev, tgh, tgc) ->
// tangents of (dz, dc_prev).
type lstmTangentBackwardOp struct{}

func (lstmTangentBackwardOp) Name() string { return "lstm_cell tangent of backward" }

func (o lstmTangentBackwardOp) Infer(in []Shape) ([]Shape, error) {
	if err := checkLSTM(o.Name(), in[0], in[1]); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[0]), cloneShape(in[1])}, nil
}

func (o lstmTangentBackwardOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name(), len(n.in))
}

func (o lstmTangentBackwardOp) JVP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the JVP of "+o.Name(), 2)
}

func (lstmTangentBackwardOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	a, b, err := kernels.CPU{}.LSTMCellTangentBackward(lstmShape(n.in[0].shape), in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7])
	return [][]float32{a, b}, err
}

func (lstmTangentBackwardOp) Record(l Launch) error {
	in := l.In
	return l.Kernels.RecordLSTMCellTangentBackward(l.Recorder, lstmShape(l.Node.in[0].shape), in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], l.Out[0], l.Out[1])
}
