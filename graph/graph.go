package graph

import (
	"fmt"
	"slices"
)

type nodeKind uint8

const (
	kindOp nodeKind = iota
	kindInput
	kindParam
	kindConst
	kindOutput // output i of a multi-output op (in[0])
)

// Node is a value in a graph: an input, a parameter, a constant, or the
// output of an op.
type Node struct {
	g     *Graph
	id    int
	kind  nodeKind
	op    Op
	in    []*Node
	shape Shape     // nil for multi-output ops, whose outputs are projections; Shape{} is a scalar
	outs  []Shape   // op nodes: every output's shape
	index int       // kindOutput: which output of in[0]
	name  string    // inputs and parameters
	value []float32 // constants
}

// multi reports whether n is an op with several outputs (read through
// Output projections; n itself has no value).
func (n *Node) multi() bool { return n.kind == kindOp && len(n.outs) > 1 }

// Shape is the node's shape.
func (n *Node) Shape() Shape { return n.shape }

// Graph returns the graph the node belongs to.
func (n *Node) Graph() *Graph { return n.g }

// Inputs are the node's operands.
func (n *Node) Inputs() []*Node { return n.in }

// Op is the node's op (nil for inputs, parameters and constants).
func (n *Node) Op() Op { return n.op }

// Name is the name of an input or parameter.
func (n *Node) Name() string { return n.name }

func (n *Node) String() string {
	switch n.kind {
	case kindInput:
		return fmt.Sprintf("input %q %v", n.name, n.shape)
	case kindParam:
		return fmt.Sprintf("param %q %v", n.name, n.shape)
	case kindConst:
		return fmt.Sprintf("%%%d = const %v", n.id, n.shape)
	case kindOutput:
		return fmt.Sprintf("%%%d = %%%d.%d %v", n.id, n.in[0].id, n.index, n.shape)
	}
	if n.multi() {
		return fmt.Sprintf("%%%d = %s %v", n.id, n.op.Name(), n.outs)
	}
	return fmt.Sprintf("%%%d = %s %v", n.id, n.op.Name(), n.shape)
}

// Graph is a static dataflow graph under construction. Builder methods
// never return errors: the first error sticks, later calls return a
// placeholder node, and Err (and Compile) report it, as bufio.Writer does.
type Graph struct {
	nodes  []*Node
	byName map[string]*Node
	err    error
}

// New returns an empty graph.
func New() *Graph { return &Graph{byName: map[string]*Node{}} }

// Err is the first error met while building.
func (g *Graph) Err() error { return g.err }

func (g *Graph) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

func (g *Graph) add(n *Node) *Node {
	n.g = g
	n.id = len(g.nodes)
	g.nodes = append(g.nodes, n)
	return n
}

func (g *Graph) named(kind nodeKind, name string, shape Shape) *Node {
	if !validShape(shape) {
		g.fail(fmt.Errorf("graph: %s has invalid shape %v", name, shape))
	}
	if _, dup := g.byName[name]; dup {
		g.fail(fmt.Errorf("graph: the name %q is used twice", name))
	}
	n := g.add(&Node{kind: kind, name: name, shape: cloneShape(shape)})
	g.byName[name] = n
	return n
}

// Input declares an input fed at every run.
func (g *Graph) Input(name string, shape ...int) *Node { return g.named(kindInput, name, shape) }

// Param declares a named parameter. Parameters live on the device between
// runs (Executable.SetParam and Param move them).
func (g *Graph) Param(name string, shape ...int) *Node { return g.named(kindParam, name, shape) }

// Const adds a constant tensor.
func (g *Graph) Const(value []float32, shape ...int) *Node {
	s := Shape(shape)
	if !validShape(s) || s.Len() != len(value) {
		g.fail(fmt.Errorf("graph: constant of %d values with shape %v", len(value), s))
	}
	return g.add(&Node{kind: kindConst, shape: cloneShape(s), value: slices.Clone(value)})
}

// Fill adds a constant tensor whose elements all equal v.
func (g *Graph) Fill(v float32, shape ...int) *Node {
	vals := make([]float32, Shape(shape).Len())
	for i := range vals {
		vals[i] = v
	}
	return g.Const(vals, shape...)
}

// Apply adds a node computing op on in. It is how op constructors add nodes;
// shape errors stick (see Graph). For a multi-output op, read the outputs
// with Output.
func (g *Graph) Apply(op Op, in ...*Node) *Node {
	shapes := make([]Shape, len(in))
	for i, x := range in {
		if x == nil || x.g != g {
			g.fail(fmt.Errorf("graph: %s: operand %d is nil or from another graph", op.Name(), i))
			return g.placeholder()
		}
		if x.multi() {
			g.fail(fmt.Errorf("graph: %s: operand %d is the multi-output %v; pass one of its Outputs", op.Name(), i, x))
			return g.placeholder()
		}
		shapes[i] = x.shape
	}
	if g.err != nil {
		return g.placeholder()
	}
	outs, err := op.Infer(shapes)
	if err != nil {
		g.fail(err)
		return g.placeholder()
	}
	n := &Node{kind: kindOp, op: op, in: slices.Clone(in), outs: outs}
	if len(outs) == 1 {
		n.shape = outs[0]
		if n.shape == nil {
			n.shape = Shape{} // a scalar
		}
	}
	return g.add(n)
}

// Output returns output i of a multi-output op node.
func (g *Graph) Output(n *Node, i int) *Node {
	if n.kind != kindOp || len(n.outs) < 2 || i < 0 || i >= len(n.outs) {
		g.fail(fmt.Errorf("graph: Output(%v, %d): not an output of a multi-output op", n, i))
		return g.placeholder()
	}
	return g.add(&Node{kind: kindOutput, in: []*Node{n}, index: i, shape: n.outs[i]})
}

// Outputs returns every output of a multi-output op node.
func (g *Graph) Outputs(n *Node) []*Node {
	out := make([]*Node, len(n.outs))
	for i := range out {
		out[i] = g.Output(n, i)
	}
	return out
}

// placeholder stands in for a node that could not be built.
func (g *Graph) placeholder() *Node {
	return g.add(&Node{kind: kindConst, shape: Shape{1}, value: []float32{0}})
}

// Lookup returns the input or parameter with the given name.
func (g *Graph) Lookup(name string) (*Node, bool) {
	n, ok := g.byName[name]
	return n, ok
}
