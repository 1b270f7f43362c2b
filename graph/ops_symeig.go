package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/kernels"
)

// symEigOp is the eigen-decomposition of symmetric matrices [B, n, n] or
// [n, n]: eigenvalues [B, n] (or [n]) in descending order and unit
// eigenvectors [B, n, n] (or [n, n]) as rows, each with its entry of
// largest magnitude positive (kernels.SymEigBackend).
type symEigOp struct{}

func (symEigOp) Name() string { return "symeig" }

// symEigDims returns the batch and the matrix size of a.
func symEigDims(a Shape) (batch, n int) {
	if len(a) == 2 {
		return 1, a[0]
	}
	return a[0], a[1]
}

func (o symEigOp) Infer(in []Shape) ([]Shape, error) {
	a := in[0]
	ok := (len(a) == 2 || len(a) == 3) && a[len(a)-1] == a[len(a)-2] && a[len(a)-1] <= kernels.SymEigMaxN
	if !ok {
		return nil, fmt.Errorf("graph: symeig: a %v, want square matrices [n, n] or [B, n, n] of n <= %d", a, kernels.SymEigMaxN)
	}
	return []Shape{a[:len(a)-1], cloneShape(a)}, nil
}

func (o symEigOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	if anyNonNil(gouts) {
		notDifferentiable(g, o)
	}
	return []*Node{nil}
}

func (o symEigOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	if anyNonNil(tin) {
		notDifferentiable(g, o)
	}
	return []*Node{nil, nil}
}

func (o symEigOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	b, m := symEigDims(n.in[0].shape)
	vals, vecs, err := kernels.CPU{}.SymEig(b, m, in[0])
	return [][]float32{vals, vecs}, err
}

func (o symEigOp) Scratch(v *kernels.Vulkan, n *Node) (int, error) {
	b, m := symEigDims(n.in[0].shape)
	return kernels.SymEigScratch(b, m), nil
}

func (o symEigOp) Record(l Launch) error {
	b, m := symEigDims(l.Node.in[0].shape)
	return l.Kernels.RecordSymEig(l.Recorder, b, m, l.In[0], l.Out[0], l.Out[1], l.Scratch)
}

// SymEig returns the eigenvalues (descending) and the eigenvectors (as
// rows, in the same order, each with its entry of largest magnitude
// positive) of the symmetric matrices a [n, n] or [B, n, n], n at most
// kernels.SymEigMaxN: on the device, one workgroup per matrix by parallel
// cyclic Jacobi. It is not differentiable.
func (g *Graph) SymEig(a *Node) (values, vectors *Node) {
	n := g.Apply(symEigOp{}, a)
	if !n.multi() {
		return g.placeholder(), g.placeholder()
	}
	return g.Output(n, 0), g.Output(n, 1)
}
