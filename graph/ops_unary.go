package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// unaryOp computes s ⊙ f^(order)(x) (s optional): the unary kernel. Its
// derivatives are unary nodes of the next order, so the VJP of order 0 is
// order 1 and the tangent of that VJP is order 2, which the kernels have.
type unaryOp struct {
	fn     kernels.UnaryOp
	order  int
	alpha  float32
	scaled bool
}

func (o unaryOp) Name() string {
	name := o.fn.String()
	for range o.order {
		name += "'"
	}
	if o.scaled {
		name = "scaled " + name
	}
	return name
}

func (o unaryOp) Infer(in []Shape) ([]Shape, error) {
	if o.scaled && !in[0].Equal(in[1]) {
		return nil, fmt.Errorf("graph: %s: x %v and scale %v differ", o.Name(), in[0], in[1])
	}
	return []Shape{cloneShape(in[0])}, nil
}

// unary adds s ⊙ f^(order)(x); s may be nil.
func (g *Graph) unary(fn kernels.UnaryOp, order int, alpha float32, x, s *Node) *Node {
	if order > 2 {
		g.fail(fmt.Errorf("graph: derivative %d of %s is not available (the kernels stop at the second)", order, fn))
		return g.placeholder()
	}
	if s == nil {
		return g.Apply(unaryOp{fn: fn, order: order, alpha: alpha}, x)
	}
	return g.Apply(unaryOp{fn: fn, order: order, alpha: alpha, scaled: true}, x, s)
}

func (o unaryOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	x, gout := n.in[0], gouts[0]
	if !o.scaled {
		return []*Node{g.unary(o.fn, o.order+1, o.alpha, x, gout)}
	}
	s := n.in[1]
	return []*Node{
		g.unary(o.fn, o.order+1, o.alpha, x, g.Mul(gout, s)),
		g.unary(o.fn, o.order, o.alpha, x, gout),
	}
}

func (o unaryOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	x := n.in[0]
	var s *Node
	if o.scaled {
		s = n.in[1]
	}
	var out *Node
	if tx := tin[0]; tx != nil {
		scale := tx
		if s != nil {
			scale = g.Mul(s, tx)
		}
		out = g.unary(o.fn, o.order+1, o.alpha, x, scale)
	}
	if o.scaled && tin[1] != nil {
		out = addMaybe(g, out, g.unary(o.fn, o.order, o.alpha, x, tin[1]))
	}
	return single(out)
}

func (o unaryOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	var s []float32
	if o.scaled {
		s = in[1]
	}
	y, err := kernels.CPU{}.Unary(o.fn, o.order, o.alpha, in[0], s)
	return [][]float32{y}, err
}

func (o unaryOp) Record(l Launch) error {
	var s *gpu.Buffer
	if o.scaled {
		s = l.In[1]
	}
	return l.Kernels.RecordUnary(l.Recorder, o.fn, o.order, o.alpha, l.In[0], s, l.Out[0], l.Node.shape.Len())
}

// Elementwise functions.

func (g *Graph) Neg(x *Node) *Node      { return g.unary(kernels.Neg, 0, 0, x, nil) }
func (g *Graph) Square(x *Node) *Node   { return g.unary(kernels.Square, 0, 0, x, nil) }
func (g *Graph) Sqrt(x *Node) *Node     { return g.unary(kernels.Sqrt, 0, 0, x, nil) }
func (g *Graph) Exp(x *Node) *Node      { return g.unary(kernels.Exp, 0, 0, x, nil) }
func (g *Graph) Log(x *Node) *Node      { return g.unary(kernels.Log, 0, 0, x, nil) }
func (g *Graph) Sin(x *Node) *Node      { return g.unary(kernels.Sin, 0, 0, x, nil) }
func (g *Graph) Cos(x *Node) *Node      { return g.unary(kernels.Cos, 0, 0, x, nil) }
func (g *Graph) Tanh(x *Node) *Node     { return g.unary(kernels.Tanh, 0, 0, x, nil) }
func (g *Graph) Sigmoid(x *Node) *Node  { return g.unary(kernels.Sigmoid, 0, 0, x, nil) }
func (g *Graph) Relu(x *Node) *Node     { return g.unary(kernels.Relu, 0, 0, x, nil) }
func (g *Graph) Softplus(x *Node) *Node { return g.unary(kernels.Softplus, 0, 0, x, nil) }

// LeakyRelu is x for x > 0 and slope*x otherwise.
func (g *Graph) LeakyRelu(x *Node, slope float32) *Node {
	return g.unary(kernels.LeakyRelu, 0, slope, x, nil)
}
