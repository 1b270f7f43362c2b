package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// matmulOp is op(A) x op(B) (+ bias) with A stored [M,K] ([K,M] with
// transA) or batched [B,M,K], likewise B; a batched operand meets a shared
// one by broadcasting over the batch.
type matmulOp struct {
	transA, transB, bias bool
}

func (o matmulOp) Name() string {
	name := "matmul"
	if o.transA {
		name += " Aᵀ"
	}
	if o.transB {
		name += " Bᵀ"
	}
	if o.bias {
		name += " +bias"
	}
	return name
}

// params derives the kernel's sizes from the operand shapes.
func (o matmulOp) params(a, b Shape) (kernels.MatMulParams, error) {
	p := kernels.MatMulParams{Batch: 1, TransA: o.transA, TransB: o.transB}
	if len(a) < 2 || len(a) > 3 || len(b) < 2 || len(b) > 3 {
		return p, fmt.Errorf("graph: %s: operands %v and %v must be 2-D or batched 3-D", o.Name(), a, b)
	}
	am, ak := a[len(a)-2], a[len(a)-1]
	if o.transA {
		am, ak = ak, am
	}
	bk, bn := b[len(b)-2], b[len(b)-1]
	if o.transB {
		bk, bn = bn, bk
	}
	if ak != bk {
		return p, fmt.Errorf("graph: %s: inner dimensions of %v and %v differ (%d vs %d)", o.Name(), a, b, ak, bk)
	}
	p.M, p.K, p.N = am, ak, bn
	p.BatchA, p.BatchB = len(a) == 3, len(b) == 3
	switch {
	case p.BatchA && p.BatchB && a[0] != b[0]:
		return p, fmt.Errorf("graph: %s: batch sizes of %v and %v differ", o.Name(), a, b)
	case p.BatchA:
		p.Batch = a[0]
	case p.BatchB:
		p.Batch = b[0]
	}
	return p, p.Validate()
}

func (o matmulOp) Infer(in []Shape) ([]Shape, error) {
	p, err := o.params(in[0], in[1])
	if err != nil {
		return nil, err
	}
	if o.bias && !in[2].Equal(Shape{p.N}) {
		return nil, fmt.Errorf("graph: %s: bias %v, want [%d]", o.Name(), in[2], p.N)
	}
	if p.BatchA || p.BatchB {
		return []Shape{{p.Batch, p.M, p.N}}, nil
	}
	return []Shape{{p.M, p.N}}, nil
}

func (o matmulOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	a, b, gy := n.in[0], n.in[1], gouts[0]
	// Stored-layout gradients, each one matmul (batched when gy is).
	var da, db *Node
	if !o.transA {
		da = g.MatMulT(gy, b, false, !o.transB) // G op(B)ᵀ
	} else {
		da = g.MatMulT(b, gy, o.transB, true) // op(B) Gᵀ
	}
	if !o.transB {
		db = g.MatMulT(a, gy, !o.transA, false) // op(A)ᵀ G
	} else {
		db = g.MatMulT(gy, a, true, o.transA) // Gᵀ op(A)
	}
	// A shared operand met a batched one: its gradient sums over the batch.
	if len(a.shape) == 2 && len(da.shape) == 3 {
		da = g.Sum(da, 0)
	}
	if len(b.shape) == 2 && len(db.shape) == 3 {
		db = g.Sum(db, 0)
	}
	out := []*Node{da, db}
	if o.bias {
		out = append(out, g.SumTo(gy, n.in[2].shape...))
	}
	return out
}

func (o matmulOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	a, b := n.in[0], n.in[1]
	var t *Node
	if tin[0] != nil {
		t = g.MatMulT(tin[0], b, o.transA, o.transB)
	}
	if tin[1] != nil {
		t = addMaybe(g, t, g.MatMulT(a, tin[1], o.transA, o.transB))
	}
	if o.bias && tin[2] != nil {
		if t == nil {
			t = g.BroadcastTo(tin[2], n.shape...)
		} else {
			t = g.Add(t, tin[2])
		}
	}
	if t != nil && !t.shape.Equal(n.shape) {
		t = g.BroadcastTo(t, n.shape...)
	}
	return single(t)
}

func (o matmulOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	p, err := o.params(n.in[0].shape, n.in[1].shape)
	if err != nil {
		return nil, err
	}
	var bias []float32
	if o.bias {
		bias = in[2]
	}
	y, err := kernels.CPU{}.MatMul(p, in[0], in[1], bias)
	return [][]float32{y}, err
}

func (o matmulOp) Record(l Launch) error {
	p, err := o.params(l.Node.in[0].shape, l.Node.in[1].shape)
	if err != nil {
		return err
	}
	var bias *gpu.Buffer
	if o.bias {
		bias = l.In[2]
	}
	return l.Kernels.RecordMatMul(l.Recorder, p, l.In[0], l.In[1], bias, l.Out[0])
}

// MatMul is a x b for a [M,K] or [B,M,K] and b [K,N] or [B,K,N].
func (g *Graph) MatMul(a, b *Node) *Node { return g.MatMulT(a, b, false, false) }

// MatMulT is op(a) x op(b), op transposing the last two axes where asked.
func (g *Graph) MatMulT(a, b *Node, transA, transB bool) *Node {
	return g.Apply(matmulOp{transA: transA, transB: transB}, a, b)
}

// Linear is x w + bias for x [M,K] or [B,M,K], w [K,N], bias [N].
func (g *Graph) Linear(x, w, bias *Node) *Node {
	return g.Apply(matmulOp{bias: true}, x, w, bias)
}
