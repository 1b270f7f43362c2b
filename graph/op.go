package graph

import (
	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// Op is one operation kind. Its derivative rules are written as graph ops,
// so their results can be differentiated again: VJP rules are what Grad
// applies, and JVP rules applied to a graph built by Grad give
// forward-over-reverse (Hessian-vector) products.
//
// An op has one or more outputs. A single-output op's node is its value;
// the outputs of a multi-output op (a fused LSTM cell's h and c) are read
// through Graph.Output projections.
type Op interface {
	// Name identifies the op in dumps, errors and profiles.
	Name() string
	// Infer returns the output shapes for the input shapes, or an error
	// naming the op and the shapes.
	Infer(in []Shape) ([]Shape, error)
	// VJP returns, for each input, the cotangent contribution given the
	// cotangents of the outputs (gout[i] nil: zero), or nil where the input
	// is not differentiable or gets nothing.
	VJP(g *Graph, n *Node, gout []*Node) []*Node
	// JVP returns the tangents of the outputs from the tangents of the
	// inputs (tin[i] nil: zero); a nil result entry means a zero tangent.
	JVP(g *Graph, n *Node, tin []*Node) []*Node
	// CPU computes the outputs with the kernels' CPU references.
	CPU(in [][]float32, n *Node) ([][]float32, error)
	// Record records the op's kernels on the Vulkan backend.
	Record(l Launch) error
}

// Launch is what an op's Record gets: the backend, the recorder, its
// operand and output buffers, and scratch memory when it asked for some.
type Launch struct {
	Kernels  *kernels.Vulkan
	Recorder *gpu.Recorder
	In       []*gpu.Buffer
	Out      []*gpu.Buffer
	Scratch  *gpu.Buffer
	Node     *Node
}

// scratcher is implemented by ops that need temporary device memory.
type scratcher interface {
	// Scratch returns the number of float32 of scratch memory n needs.
	Scratch(v *kernels.Vulkan, n *Node) (int, error)
}

// single wraps a one-output rule result.
func single(n *Node) []*Node { return []*Node{n} }
