package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/kernels"
)

// The losses are fused kernels with their own VJP, JVP and tangent-of-VJP
// kernels (kernels.LossOp documents the formulas).

// lossOuts are the output shapes of a loss: MSE per example [B] (a scalar
// when B = 1), the Noether losses per example [B] and the batch mean, the
// KL divergence a scalar.
func lossOuts(op kernels.LossOp, s kernels.LossShape) []Shape {
	switch {
	case op == kernels.MSE && s.B == 1, op == kernels.GaussianKL:
		return []Shape{{}}
	case op == kernels.MSE:
		return []Shape{{s.B}}
	}
	return []Shape{{s.B}, {}}
}

type lossOp struct {
	op kernels.LossOp
	s  kernels.LossShape
}

func (o lossOp) Name() string { return o.op.String() }

// checkIns verifies that the first len(lens) shapes have those element counts.
func checkIns(name string, in []Shape, lens []int) error {
	for i, l := range lens {
		if in[i].Len() != l {
			return fmt.Errorf("graph: %s: operand %d has shape %v, want %d elements", name, i, in[i], l)
		}
	}
	return nil
}

func (o lossOp) Infer(in []Shape) ([]Shape, error) {
	ins, _ := o.op.Lens(o.s)
	if err := checkIns(o.Name(), in, ins); err != nil {
		return nil, err
	}
	return lossOuts(o.op, o.s), nil
}

func (o lossOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	gr := lossGradOp{lossOp: o, has: present(gouts)}
	args := append(append([]*Node{}, n.in...), nonNil(gouts)...)
	return outputsOf(g, g.Apply(gr, args...))
}

func (o lossOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	args := append([]*Node{}, n.in...)
	for i, t := range tin {
		args = append(args, zerosFor(g, t, n.in[i].shape))
	}
	return outputsOf(g, g.Apply(lossJVPOp{o}, args...))
}

func (o lossOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	return kernels.CPU{}.Loss(o.op, o.s, in)
}

func (o lossOp) Scratch(v *kernels.Vulkan, n *Node) (int, error) {
	return kernels.LossScratch(o.op, o.s), nil
}

func (o lossOp) Record(l Launch) error {
	return l.V.RecordLoss(l.R, o.op, o.s, false, l.In, nil, l.Out, l.Scratch)
}

// lossJVPOp: (inputs, input tangents) -> output tangents.
type lossJVPOp struct{ lossOp }

func (o lossJVPOp) Name() string { return o.op.String() + " tangent" }

func (o lossJVPOp) Infer(in []Shape) ([]Shape, error) {
	ins, _ := o.op.Lens(o.s)
	if err := checkIns(o.Name(), in, append(ins, ins...)); err != nil {
		return nil, err
	}
	return lossOuts(o.op, o.s), nil
}

func (o lossJVPOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name()+" (reverse over forward)", len(n.in))
}

func (o lossJVPOp) JVP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the JVP of "+o.Name(), len(n.outs))
}

func (o lossJVPOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	k := len(in) / 2
	return kernels.CPU{}.LossJVP(o.op, o.s, in[:k], in[k:])
}

func (o lossJVPOp) Record(l Launch) error {
	k := len(l.In) / 2
	return l.V.RecordLoss(l.R, o.op, o.s, true, l.In[:k], l.In[k:], l.Out, l.Scratch)
}

// lossGradOp: (inputs, the present output cotangents) -> input cotangents.
// has marks which outputs have a cotangent (the Noether losses have two).
type lossGradOp struct {
	lossOp
	has []bool
}

func (o lossGradOp) Name() string { return o.op.String() + " backward" }

func (o lossGradOp) Infer(in []Shape) ([]Shape, error) {
	ins, _ := o.op.Lens(o.s)
	if len(in) != len(ins)+count(o.has) {
		return nil, fmt.Errorf("graph: %s: %d operands, want %d", o.Name(), len(in), len(ins)+count(o.has))
	}
	return cloneShapes(in[:len(ins)]), nil
}

// expand places the present cotangents at their outputs; absent ones are
// the zero value (nil: a zero cotangent to the kernels).
func expand[T any](has []bool, x []T) []T {
	out := make([]T, len(has))
	k := 0
	for i, h := range has {
		if h {
			out[i] = x[k]
			k++
		}
	}
	return out
}

func (o lossGradOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name()+" (reverse over reverse)", len(n.in))
}

// JVP is the fused tangent of the backward.
func (o lossGradOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	args := append([]*Node{}, n.in...)
	for i, t := range tin {
		args = append(args, zerosFor(g, t, n.in[i].shape))
	}
	return outputsOf(g, g.Apply(lossGradTangentOp{o}, args...))
}

func (o lossGradOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	k := len(n.outs)
	return kernels.CPU{}.LossVJP(o.op, o.s, in[:k], o.zeroFill(expand(o.has, in[k:])))
}

// zeroFill gives absent cotangents explicit zeros: the CPU reference
// takes every cotangent.
func (o lossGradOp) zeroFill(g [][]float32) [][]float32 {
	_, outs := o.op.Lens(o.s)
	for i := range g {
		if g[i] == nil {
			g[i] = make([]float32, outs[i])
		}
	}
	return g
}

func (o lossGradOp) Record(l Launch) error {
	k := len(l.Out)
	return l.V.RecordLossGrad(l.R, o.op, o.s, l.In[:k], expand(o.has, l.In[k:]), nil, nil, l.Out)
}

// lossGradTangentOp: (inputs, cotangents, input tangents, cotangent
// tangents) -> tangents of the input cotangents.
type lossGradTangentOp struct{ lossGradOp }

func (o lossGradTangentOp) Name() string { return o.op.String() + " tangent of backward" }

func (o lossGradTangentOp) Infer(in []Shape) ([]Shape, error) {
	ins, _ := o.op.Lens(o.s)
	if want := 2 * (len(ins) + count(o.has)); len(in) != want {
		return nil, fmt.Errorf("graph: %s: %d operands, want %d", o.Name(), len(in), want)
	}
	return cloneShapes(in[:len(ins)]), nil
}

func (o lossGradTangentOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name(), len(n.in))
}

func (o lossGradTangentOp) JVP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the JVP of "+o.Name(), len(n.outs))
}

// split cuts the operands into inputs, cotangents, tangents and
// cotangent tangents.
func (o lossGradTangentOp) split(n int) (a, b, c, d int) {
	k, m := n, count(o.has)
	return k, k + m, 2*k + m, 2*k + 2*m
}

func (o lossGradTangentOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	a, b, c, d := o.split(len(n.outs))
	return kernels.CPU{}.LossHVP(o.op, o.s, in[:a], o.zeroFill(expand(o.has, in[a:b])), in[b:c], o.zeroFill(expand(o.has, in[c:d])))
}

func (o lossGradTangentOp) Record(l Launch) error {
	a, b, c, d := o.split(len(l.Out))
	in := l.In
	return l.V.RecordLossGrad(l.R, o.op, o.s, in[:a], expand(o.has, in[a:b]), in[b:c], expand(o.has, in[c:d]), l.Out)
}

// outputsOf returns a node's outputs: itself when it has one.
func outputsOf(g *Graph, n *Node) []*Node {
	if n.multi() {
		return g.Outputs(n)
	}
	return []*Node{n}
}

func present(xs []*Node) []bool {
	out := make([]bool, len(xs))
	for i, x := range xs {
		out[i] = x != nil
	}
	return out
}

func nonNil(xs []*Node) []*Node {
	var out []*Node
	for _, x := range xs {
		if x != nil {
			out = append(out, x)
		}
	}
	return out
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func cloneShapes(s []Shape) []Shape {
	out := make([]Shape, len(s))
	for i := range s {
		out[i] = cloneShape(s[i])
	}
	return out
}

// MSE is the mean of (pred - target)² over all elements, a scalar.
func (g *Graph) MSE(pred, target *Node) *Node {
	return g.Apply(lossOp{kernels.MSE, kernels.LossShape{B: 1, K: pred.shape.Len()}}, pred, target)
}

// MSEPerExample is the mean of (pred - target)² over each example's
// elements (pred's leading axis is the batch): shape [B].
func (g *Graph) MSEPerExample(pred, target *Node) *Node {
	if len(pred.shape) < 2 {
		g.fail(fmt.Errorf("graph: MSEPerExample: pred %v has no batch axis", pred.shape))
		return g.placeholder()
	}
	b := pred.shape[0]
	return g.Apply(lossOp{kernels.MSE, kernels.LossShape{B: b, K: pred.shape.Len() / b}}, pred, target)
}

// NoetherLoss is equation 2 of the paper over embeddings e [B, T+1, K]:
// form kernels.NoetherStart (2a, distance to e_0) or kernels.NoetherStep
// (2b, consecutive steps). It returns the per-example losses [B] and their
// batch mean (a scalar).
func (g *Graph) NoetherLoss(e *Node, form kernels.LossOp) (perExample, mean *Node) {
	if len(e.shape) != 3 || e.shape[1] < 2 || (form != kernels.NoetherStart && form != kernels.NoetherStep) {
		g.fail(fmt.Errorf("graph: NoetherLoss: embeddings %v (want [B, T+1, K], T >= 1) and form %v", e.shape, form))
		return g.placeholder(), g.placeholder()
	}
	n := g.Apply(lossOp{form, kernels.LossShape{B: e.shape[0], T: e.shape[1] - 1, K: e.shape[2]}}, e)
	return g.Output(n, 0), g.Output(n, 1)
}

// GaussianKL is KL(N(mu1, exp(logvar1)) || N(mu2, exp(logvar2))) of
// diagonal Gaussians [B, D], summed over D and averaged over B (a scalar).
func (g *Graph) GaussianKL(mu1, logvar1, mu2, logvar2 *Node) *Node {
	if len(mu1.shape) != 2 {
		g.fail(fmt.Errorf("graph: GaussianKL: mu %v (want [B, D])", mu1.shape))
		return g.placeholder()
	}
	s := kernels.LossShape{B: mu1.shape[0], K: mu1.shape[1]}
	return g.Apply(lossOp{kernels.GaussianKL, s}, mu1, logvar1, mu2, logvar2)
}
