package graph

import (
	"fmt"
	"slices"

	"github.com/noether-vk/noether-vk/kernels"
)

// Reassociation of products with low-rank batched operands.
//
// Adapting every weight per example (noether.AdaptAll) makes each example's
// weight a copy of the shared matrix plus a multiple of its gradient, and
// the gradient of a weight over one example is an outer product: W_b =
// W - c u_b v_bᵀ. Computed as written, every product with W_b first
// writes B copies of the matrix and then runs B matrix-vector products
// over them, both memory-bound. By distributivity and associativity the
// same value is
//
//	x_b W_b = x_b W - c (x_b u_b) v_bᵀ
//
// one dense product with the shared W (all examples' rows at once) and
// two products of rank one. The sum over the batch of such outer products
// (the meta-gradient of W) is likewise one product: Σ_b u_b v_bᵀ = Uᵀ V.
//
// The pass runs on the whole compiled graph, after differentiation, so it
// rewrites forward, gradient and tangent products alike, and the values
// autodiff asked for stay what they were. It changes the arithmetic (sums
// in another order), so results move by rounding; CompileOptions.NoReassoc
// turns it off.

// lowRankTerm is one term of a linear combination: coef times node, where
// node is an outer product of low rank (outer) or any other tensor.
type lowRankTerm struct {
	coef  float32
	node  *Node
	outer bool
}

// lowRank reports whether n is a batched product op(U) op(V), [B, M, r] by
// [B, r, N], of low rank r: reading the factors (r (M + N) values) costs
// at most a quarter of the M N values of the product.
func lowRank(n *Node) bool {
	o, ok := n.op.(matmulOp)
	if !ok || o.bias || len(n.in[0].shape) != 3 || len(n.in[1].shape) != 3 {
		return false
	}
	p, err := o.params(n.in[0].shape, n.in[1].shape)
	return err == nil && 4*p.K*(p.M+p.N) <= p.M*p.N
}

// linearTerms writes x as a linear combination of terms through add, sub,
// neg, scaling by a constant and stop_gradient (an identity once
// differentiation is done), all without broadcasting. ok is false when no
// term is a low-rank product, where rewriting would gain nothing.
func linearTerms(x *Node) (terms []lowRankTerm, ok bool) {
	var walk func(x *Node, c float32)
	walk = func(x *Node, c float32) {
		if x.kind == kindOp {
			switch o := x.op.(type) {
			case stopGradientOp:
				walk(x.in[0], c)
				return
			case binaryOp:
				if (o.op == kernels.Add || o.op == kernels.Sub) && x.in[0].shape.Equal(x.shape) && x.in[1].shape.Equal(x.shape) {
					walk(x.in[0], c)
					if o.op == kernels.Sub {
						walk(x.in[1], -c)
					} else {
						walk(x.in[1], c)
					}
					return
				}
			case scalarOp:
				if o.op == kernels.Mul {
					walk(x.in[0], c*o.s)
					return
				}
			case unaryOp:
				if o.fn == kernels.Neg && o.order == 0 && !o.scaled {
					walk(x.in[0], -c)
					return
				}
			}
		}
		t := lowRankTerm{coef: c, node: x, outer: lowRank(x)}
		ok = ok || t.outer
		terms = append(terms, t)
	}
	walk(x, 1)
	return terms, ok
}

// reassociate rewrites the products and batch sums that read low-rank
// combinations, over the nodes keep needs. It returns each rewritten
// node's replacement (nil when nothing changed); the replacements and
// the nodes they read are new nodes of the graph.
func reassociate(order []*Node) map[*Node]*Node {
	repl := map[*Node]*Node{}
	mapped := replacedBy(repl)
	for _, n := range order {
		switch n.kind {
		case kindOp:
		case kindOutput:
			if r, ok := repl[n.in[0]]; ok {
				repl[n] = n.g.Output(r, n.index)
			}
			continue
		default:
			continue
		}
		in := make([]*Node, len(n.in))
		for i, x := range n.in {
			in[i] = mapped(x)
		}
		var r *Node
		switch o := n.op.(type) {
		case matmulOp:
			if !o.bias && len(n.shape) == 3 {
				r = reassocProduct(n.g, o, in[0], in[1])
			}
		case reduceOp:
			if o.op == kernels.Sum && slices.Equal(o.axes, []int{0}) && len(in[0].shape) == 3 {
				r = reassocBatchSum(n.g, in[0])
			}
		}
		if r != nil && !r.shape.Equal(n.shape) {
			panic(fmt.Sprintf("graph: reassociating %v gave shape %v", n, r.shape))
		}
		if r == nil && !slices.Equal(in, n.in) {
			r = n.g.Apply(n.op, in...)
		}
		if r != nil {
			repl[n] = r
		}
	}
	return repl
}

// reassocProduct is op(a) op(b) with the low-rank terms of one operand
// multiplied in the cheap order, or nil when neither operand has any.
func reassocProduct(g *Graph, o matmulOp, a, b *Node) *Node {
	ta, tb := o.transA, o.transB
	if terms, ok := linearTerms(b); ok {
		return combine(g, terms, func(t *Node, outer bool) *Node {
			if outer {
				f := t.op.(matmulOp) // t = op(U) op(V)
				u, v := t.in[0], t.in[1]
				if !tb { // a U V
					return g.MatMulT(g.MatMulT(a, u, ta, f.transA), v, false, f.transB)
				}
				// a (U V)ᵀ = a op(V)ᵀ op(U)ᵀ
				return g.MatMulT(g.MatMulT(a, v, ta, !f.transB), u, false, !f.transA)
			}
			if w := batchBroadcastSource(t); w != nil && len(a.shape) == 3 {
				return sharedRight(g, a, w, ta, tb)
			}
			return g.MatMulT(a, t, ta, tb)
		})
	}
	if terms, ok := linearTerms(a); ok {
		return combine(g, terms, func(t *Node, outer bool) *Node {
			if outer {
				f := t.op.(matmulOp)
				u, v := t.in[0], t.in[1]
				if !ta { // U V b
					return g.MatMulT(u, g.MatMulT(v, b, f.transB, tb), f.transA, false)
				}
				// (U V)ᵀ b = op(V)ᵀ op(U)ᵀ b
				return g.MatMulT(v, g.MatMulT(u, b, !f.transA, tb), !f.transB, false)
			}
			if w := batchBroadcastSource(t); w != nil && len(b.shape) == 3 {
				return g.MatMulT(w, b, ta, tb)
			}
			return g.MatMulT(t, b, ta, tb)
		})
	}
	// A plain per-example copy of a shared matrix: one product over all
	// rows instead of B thin ones.
	if w := batchBroadcastSource(b); w != nil && !ta && len(a.shape) == 3 {
		return sharedRight(g, a, w, ta, tb)
	}
	return nil
}

// sharedRight is op(a) op(w) for a batched a [B, M, K] and a shared matrix
// w: one product over all B M rows when a is not transposed (the batched
// form would be B thin products), the batched kernel otherwise.
func sharedRight(g *Graph, a, w *Node, ta, tb bool) *Node {
	if ta {
		return g.MatMulT(a, w, ta, tb)
	}
	bs, m, k := a.shape[0], a.shape[1], a.shape[2]
	y := g.MatMulT(g.Reshape(a, bs*m, k), w, false, tb)
	return g.Reshape(y, bs, m, y.shape[1])
}

// reassocBatchSum is the sum over axis 0 of x with each low-rank term
// Σ_b U_bᵀ V_b done as one product over the flattened batch, or nil when
// no term has that layout (U stored [B, r, K], V [B, r, N]).
func reassocBatchSum(g *Graph, x *Node) *Node {
	terms, ok := linearTerms(x)
	if !ok {
		return nil
	}
	flat := false
	for i, t := range terms {
		if t.outer {
			f := t.node.op.(matmulOp)
			terms[i].outer = f.transA && !f.transB
			flat = flat || terms[i].outer
		}
	}
	if !flat {
		return nil
	}
	return combine(g, terms, func(t *Node, outer bool) *Node {
		if !outer {
			if w := batchBroadcastSource(t); w != nil {
				return g.Scale(w, float32(t.shape[0]))
			}
			return g.Sum(t, 0)
		}
		u, v := t.in[0], t.in[1]
		return g.MatMulT(g.Reshape(u, u.shape[0]*u.shape[1], u.shape[2]), g.Reshape(v, v.shape[0]*v.shape[1], v.shape[2]), true, false)
	})
}

// combine is Σ coef_i term(node_i), each term rewritten by product.
func combine(g *Graph, terms []lowRankTerm, product func(t *Node, outer bool) *Node) *Node {
	var acc *Node
	for _, t := range terms {
		p := product(t.node, t.outer)
		switch {
		case acc == nil && t.coef == 1:
			acc = p
		case acc == nil:
			acc = g.Scale(p, t.coef)
		case t.coef == 1:
			acc = g.Add(acc, p)
		case t.coef == -1:
			acc = g.Sub(acc, p)
		default:
			acc = g.Add(acc, g.Scale(p, t.coef))
		}
	}
	return acc
}
