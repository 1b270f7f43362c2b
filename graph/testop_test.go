package graph

import (
	"errors"
)

// testOp has any number of operands and an output of a fixed size; the
// planner tests need nothing else.
type testOp struct{ size int }

func (o testOp) Name() string                                { return "test" }
func (o testOp) Infer(in []Shape) ([]Shape, error)           { return []Shape{{o.size}}, nil }
func (o testOp) VJP(g *Graph, n *Node, gout []*Node) []*Node { return make([]*Node, len(n.in)) }
func (o testOp) JVP(g *Graph, n *Node, tin []*Node) []*Node  { return nil }
func (o testOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	return nil, errors.New("testOp does not run")
}
func (o testOp) Record(l Launch) error { return errors.New("testOp does not run") }
