package nn

import (
	"fmt"
	"strconv"

	"github.com/noether-vk/noether-vk/graph"
)

// Scope is the dotted name prefix a module's tensors live under: the
// module at scope "enc.c1" names its weight "enc.c1.weight", as PyTorch's
// named_parameters does. The empty scope is the root.
type Scope string

// In returns the child scope called child.
func (s Scope) In(child string) Scope {
	if s == "" {
		return Scope(child)
	}
	return s + "." + Scope(child)
}

// Index returns the child scope of the i-th layer of a list ("enc.0").
func (s Scope) Index(i int) Scope { return s.In(strconv.Itoa(i)) }

// Name returns the full name of the tensor called local in s.
func (s Scope) Name(local string) string { return string(s.In(local)) }

// ParamSpec declares one named tensor of a model: a trained parameter or,
// from State, a non-trained state tensor. Init draws its initial value.
type ParamSpec struct {
	Name  string
	Shape []int
	Init  Initializer
}

// Module is a layer or a composition of layers. It holds configuration
// only; its tensors live in the graph (or in Context.Params) under the
// names Params gives, so one module value can be applied many times, at
// different scopes, with shared or per-example parameters.
type Module interface {
	// Params declares the trained parameters, in the order Init draws
	// them.
	Params(s Scope) []ParamSpec
	// Apply adds the module's ops on x to c.Graph and returns the output.
	Apply(c *Context, s Scope, x *graph.Node) *graph.Node
}

// Stateful is implemented by modules with non-trained state that the
// caller carries between runs (BatchNorm's running statistics).
type Stateful interface {
	State(s Scope) []ParamSpec
}

// State returns m's state tensors at s (none when m is not Stateful).
func State(m Module, s Scope) []ParamSpec {
	if st, ok := m.(Stateful); ok {
		return st.State(s)
	}
	return nil
}

// Context is what Apply builds against: the graph, the tensors the modules
// read by name and the mode.
type Context struct {
	Graph *graph.Graph
	// Params holds nodes that replace the graph's parameters (or state)
	// of the same name: per-example copies [B, ...] of a weight, adapted
	// weights, running statistics fed as inputs. A name not here is read
	// from the graph (graph.Graph.Lookup), where Declare put it.
	Params map[string]*graph.Node
	// Adapted holds the per-example adaptation tensors by AdaptSpec name.
	// A site with no tensor inserts no op.
	Adapted map[string]*graph.Node
	// Train selects batch statistics in BatchNorm, which then records the
	// updated running statistics in NewState.
	Train bool
	// NewState receives, in training, the new value of every state tensor
	// by name, for the caller to fetch after a run and store.
	NewState map[string]*graph.Node
}

// Param returns the node named name: from c.Params, else the graph's
// parameter or input of that name. A name found in neither is a
// programmer error (the model's Params or State were not declared), and
// Param panics naming it.
func (c *Context) Param(name string) *graph.Node {
	if n, ok := c.Params[name]; ok {
		return n
	}
	if n, ok := c.Graph.Lookup(name); ok {
		return n
	}
	panic(fmt.Sprintf("nn: %q is neither in Context.Params nor declared in the graph (declare the model's Params and State with Declare)", name))
}

// setState records the new value of a state tensor.
func (c *Context) setState(name string, n *graph.Node) {
	if c.NewState == nil {
		c.NewState = map[string]*graph.Node{}
	}
	c.NewState[name] = n
}

// Declare adds a graph parameter for every spec and returns them in
// order (the list to differentiate with respect to). A name declared
// twice is a graph error (graph.Graph.Err).
func Declare(g *graph.Graph, specs []ParamSpec) []*graph.Node {
	ps := make([]*graph.Node, len(specs))
	for i, s := range specs {
		ps[i] = g.Param(s.Name, s.Shape...)
	}
	return ps
}
