package nn

import "github.com/noether-vk/noether-vk/graph"

// Sequential applies its modules in order. The i-th lives in scope s.i,
// as in torch.nn.Sequential (parameter-free layers count too), unless it
// is Named.
type Sequential []Module

// child returns the scope the i-th module is applied at: a Named module
// adds its own name to s.
func (q Sequential) child(s Scope, i int) Scope {
	if _, ok := q[i].(Named); ok {
		return s
	}
	return s.Index(i)
}

// Params implements Module.
func (q Sequential) Params(s Scope) []ParamSpec {
	var ps []ParamSpec
	for i, m := range q {
		ps = append(ps, m.Params(q.child(s, i))...)
	}
	return ps
}

// State implements Stateful.
func (q Sequential) State(s Scope) []ParamSpec {
	var ps []ParamSpec
	for i, m := range q {
		ps = append(ps, State(m, q.child(s, i))...)
	}
	return ps
}

// Adaptables implements Adaptive.
func (q Sequential) Adaptables(s Scope) []AdaptSpec {
	var as []AdaptSpec
	for i, m := range q {
		as = append(as, Adaptables(m, q.child(s, i))...)
	}
	return as
}

// Apply implements Module.
func (q Sequential) Apply(c *Context, s Scope, x *graph.Node) *graph.Node {
	for i, m := range q {
		x = m.Apply(c, q.child(s, i), x)
	}
	return x
}

// Named puts its module in the child scope s.Name, in a Sequential in
// place of its index: Sequential{Named{"c1", block}, ...} at "enc" names
// the block's weights "enc.c1.*".
type Named struct {
	Name   string
	Module Module
}

// Params implements Module.
func (n Named) Params(s Scope) []ParamSpec { return n.Module.Params(s.In(n.Name)) }

// State implements Stateful.
func (n Named) State(s Scope) []ParamSpec { return State(n.Module, s.In(n.Name)) }

// Adaptables implements Adaptive.
func (n Named) Adaptables(s Scope) []AdaptSpec { return Adaptables(n.Module, s.In(n.Name)) }

// Apply implements Module.
func (n Named) Apply(c *Context, s Scope, x *graph.Node) *graph.Node {
	return n.Module.Apply(c, s.In(n.Name), x)
}
