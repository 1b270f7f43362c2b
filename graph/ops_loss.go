package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/kernels"
)

// The losses are fused kernels with their own VJP, JVP and tangent-of-VJP
// kernels (kernels.LossOp documents the formulas).

// lossOuts is the output shape of a loss: MSE per example [B] (a scalar
// when B = 1), the KL divergence a scalar.
func lossOuts(op kernels.LossOp, s kernels.LossShape) []Shape {
	if op == kernels.MSE && s.B > 1 {
		return []Shape{{s.B}}
	}
	return []Shape{{}}
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
	return outputsOf(g, g.Apply(lossGradOp{o}, append(append([]*Node{}, n.in...), gouts[0])...))
}

func (o lossOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	args := append([]*Node{}, n.in...)
	for i, t := range tin {
		args = append(args, zerosFor(g, t, n.in[i].shape))
	}
	return single(g.Apply(lossJVPOp{o}, args...))
}

func (o lossOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	return kernels.CPU{}.Loss(o.op, o.s, in)
}

func (o lossOp) Scratch(v *kernels.Vulkan, n *Node) (int, error) {
	return kernels.LossScratch(o.op, o.s), nil
}

func (o lossOp) Record(l Launch) error {
	return l.Kernels.RecordLoss(l.Recorder, o.op, o.s, false, l.In, nil, l.Out, l.Scratch)
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
	return l.Kernels.RecordLoss(l.Recorder, o.op, o.s, true, l.In[:k], l.In[k:], l.Out, l.Scratch)
}

// lossGradOp: (inputs, output cotangent) -> input cotangents.
type lossGradOp struct{ lossOp }

func (o lossGradOp) Name() string { return o.op.String() + " backward" }

func (o lossGradOp) Infer(in []Shape) ([]Shape, error) {
	ins, _ := o.op.Lens(o.s)
	if len(in) != len(ins)+1 {
		return nil, fmt.Errorf("graph: %s: %d operands, want %d", o.Name(), len(in), len(ins)+1)
	}
	return cloneShapes(in[:len(ins)]), nil
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
	return kernels.CPU{}.LossVJP(o.op, o.s, in[:k], in[k:])
}

func (o lossGradOp) Record(l Launch) error {
	k := len(l.Out)
	return l.Kernels.RecordLossGrad(l.Recorder, o.op, o.s, l.In[:k], l.In[k:], nil, nil, l.Out)
}

// lossGradTangentOp: (inputs, cotangents, input tangents, cotangent
// tangents) -> tangents of the input cotangents.
type lossGradTangentOp struct{ lossGradOp }

func (o lossGradTangentOp) Name() string { return o.op.String() + " tangent of backward" }

func (o lossGradTangentOp) Infer(in []Shape) ([]Shape, error) {
	ins, _ := o.op.Lens(o.s)
	if want := 2 * (len(ins) + 1); len(in) != want {
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

// tangentOperands cuts the operands of a loss of k inputs into the
// inputs, the cotangent, the inputs' tangents and the cotangent's tangent.
func tangentOperands[T any](in []T, k int) (x, g, t, tg []T) {
	return in[:k], in[k : k+1], in[k+1 : 2*k+1], in[2*k+1:]
}

func (o lossGradTangentOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	x, g, t, tg := tangentOperands(in, len(n.outs))
	return kernels.CPU{}.LossHVP(o.op, o.s, x, g, t, tg)
}

func (o lossGradTangentOp) Record(l Launch) error {
	x, g, t, tg := tangentOperands(l.In, len(l.Out))
	return l.Kernels.RecordLossGrad(l.Recorder, o.op, o.s, x, g, t, tg, l.Out)
}

// outputsOf returns a node's outputs: itself when it has one.
func outputsOf(g *Graph, n *Node) []*Node {
	if n.multi() {
		return g.Outputs(n)
	}
	return []*Node{n}
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
