package formulas

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
)

// Build adds e to g elementwise over q and p, which must have the same
// shape ([B], [B,1], [B,T,1], ...), and returns a node of that shape.
// params maps every name of Params to a node whose shape broadcasts
// against q's under NumPy rules: shape [1] (a trainable scalar: g.Param(name,
// 1)) always does, and so does a per-example [B,1] against q of [B,1].
// Numbers become scalar ops (AddScalar, Scale, ScalarOp); subtrees without
// q, p or parameters are folded in float64 and rounded to float32 once. The
// graph computes in float32, so results match Eval to float32 accuracy.
// The result is differentiable with g.Grad and g.JVP like any node.
func (e *Expr) Build(g *graph.Graph, q, p *graph.Node, params map[string]*graph.Node) (*graph.Node, error) {
	if q == nil || p == nil {
		return nil, fmt.Errorf("formulas: Build %s: q and p must be nodes", e)
	}
	if !q.Shape().Equal(p.Shape()) {
		return nil, fmt.Errorf("formulas: Build %s: q has shape %v and p %v; they must be equal", e, q.Shape(), p.Shape())
	}
	for _, name := range e.Params() {
		n, ok := params[name]
		if !ok || n == nil {
			return nil, fmt.Errorf("formulas: Build %s: no node for parameter %s (pass e.g. g.Param(%q, 1))", e, name, name)
		}
		if bs, err := kernels.Broadcast(n.Shape(), q.Shape()); err != nil || !bs.Equal(q.Shape()) {
			return nil, fmt.Errorf("formulas: Build %s: parameter %s has shape %v, which does not broadcast to q's %v", e, name, n.Shape(), q.Shape())
		}
	}
	b := builder{g: g, q: q, p: p, params: params}
	v := b.build(e)
	var out *graph.Node
	if v.n == nil {
		out = g.Fill(float32(v.c), q.Shape()...)
	} else {
		out = g.BroadcastTo(v.n, q.Shape()...)
	}
	if err := g.Err(); err != nil {
		return nil, fmt.Errorf("formulas: Build %s: %w", e, err)
	}
	return out, nil
}

type builder struct {
	g      *graph.Graph
	q, p   *graph.Node
	params map[string]*graph.Node
}

// scalarOps are the kernels of the binary kinds.
var scalarOps = map[Kind]kernels.BinaryOp{Add: kernels.Add, Sub: kernels.Sub, Mul: kernels.Mul, Div: kernels.Div}

// value is a built subtree: a node, or (n == nil) a constant c.
type value struct {
	n *graph.Node
	c float64
}

func (b *builder) build(e *Expr) value {
	g := b.g
	switch e.Kind {
	case Num:
		return value{c: e.Value}
	case VarQ:
		return value{n: b.q}
	case VarP:
		return value{n: b.p}
	case Param:
		return value{n: b.params[e.Name]}
	case Neg, Square, Sin, Cos:
		x := b.build(e.X)
		if x.n == nil {
			v, _, _ := (&Expr{Kind: e.Kind, X: &Expr{Kind: Num, Value: x.c}}).EvalGrad(0, 0, nil)
			return value{c: v}
		}
		switch e.Kind {
		case Neg:
			return value{n: g.Neg(x.n)}
		case Square:
			return value{n: g.Square(x.n)}
		case Sin:
			return value{n: g.Sin(x.n)}
		}
		return value{n: g.Cos(x.n)}
	}
	x, y := b.build(e.X), b.build(e.Y)
	switch {
	case x.n == nil && y.n == nil:
		v, _, _ := (&Expr{Kind: e.Kind, X: &Expr{Kind: Num, Value: x.c}, Y: &Expr{Kind: Num, Value: y.c}}).EvalGrad(0, 0, nil)
		return value{c: v}
	case x.n == nil || y.n == nil: // one side is a constant
		n, c, left := x.n, float32(y.c), false
		if n == nil {
			n, c, left = y.n, float32(x.c), true
		}
		return value{n: g.ScalarOp(scalarOps[e.Kind], n, c, left)}
	}
	switch e.Kind {
	case Add:
		return value{n: g.Add(x.n, y.n)}
	case Sub:
		return value{n: g.Sub(x.n, y.n)}
	case Mul:
		return value{n: g.Mul(x.n, y.n)}
	}
	return value{n: g.Div(x.n, y.n)}
}
