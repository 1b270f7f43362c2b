package graph

import (
	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// Op is one operation kind. Its derivative rules are written as graph ops,
// so their results can be differentiated again: VJP rules are what Grad
// applies, and JVP rules applied to a graph built by Grad give
// forward-over-reverse (Hessian-vector) products.
type Op interface {
	// Name identifies the op in dumps, errors and profiles.
	Name() string
	// Infer returns the output shape for the input shapes, or an error
	// naming the op and the shapes.
	Infer(in []Shape) (Shape, error)
	// VJP returns, for each input, the cotangent contribution of g (the
	// cotangent of n's output), or nil where the input is not differentiable
	// or gets nothing.
	VJP(g *Graph, n *Node, gout *Node) []*Node
	// JVP returns the tangent of n's output from the tangents of its inputs;
	// tin[i] is nil where input i has a zero tangent.
	JVP(g *Graph, n *Node, tin []*Node) *Node
	// CPU computes the output with the kernels' CPU reference.
	CPU(in [][]float32, n *Node) ([]float32, error)
	// Record records the op's kernel(s) on the Vulkan backend.
	Record(v *kernels.Vulkan, r *gpu.Recorder, in []*gpu.Buffer, out *gpu.Buffer, n *Node) error
}
