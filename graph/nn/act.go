package nn

import "github.com/noether-vk/noether-vk/graph"

// Activations are elementwise modules without parameters.
type (
	// Tanh is the hyperbolic tangent.
	Tanh struct{}
	// ReLU is max(x, 0).
	ReLU struct{}
	// Sigmoid is 1/(1+exp(-x)).
	Sigmoid struct{}
	// LeakyReLU is x for x > 0 and Slope*x otherwise (DCGAN's is 0.2).
	LeakyReLU struct{ Slope float32 }
)

// Params implements Module: none.
func (Tanh) Params(Scope) []ParamSpec { return nil }

// Apply implements Module.
func (Tanh) Apply(c *Context, _ Scope, x *graph.Node) *graph.Node { return c.Graph.Tanh(x) }

// Params implements Module: none.
func (ReLU) Params(Scope) []ParamSpec { return nil }

// Apply implements Module.
func (ReLU) Apply(c *Context, _ Scope, x *graph.Node) *graph.Node { return c.Graph.Relu(x) }

// Params implements Module: none.
func (Sigmoid) Params(Scope) []ParamSpec { return nil }

// Apply implements Module.
func (Sigmoid) Apply(c *Context, _ Scope, x *graph.Node) *graph.Node { return c.Graph.Sigmoid(x) }

// Params implements Module: none.
func (LeakyReLU) Params(Scope) []ParamSpec { return nil }

// Apply implements Module.
func (l LeakyReLU) Apply(c *Context, _ Scope, x *graph.Node) *graph.Node {
	return c.Graph.LeakyRelu(x, l.Slope)
}
