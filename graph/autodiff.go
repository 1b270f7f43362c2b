package graph

import "fmt"

// Grad returns d loss / d w for each w in wrt (reverse mode). loss must
// have one element. The result is a graph too, so it can be compiled,
// differentiated again (JVP of Grad is forward-over-reverse), or combined
// with other nodes. Inputs that loss does not depend on get zeros.
func (g *Graph) Grad(loss *Node, wrt ...*Node) []*Node {
	if g.err != nil {
		return g.placeholders(len(wrt))
	}
	if loss.shape.Len() != 1 {
		g.fail(fmt.Errorf("graph: Grad: the loss has shape %v; it must have one element", loss.shape))
		return g.placeholders(len(wrt))
	}
	order, err := schedule([]*Node{loss})
	if err != nil {
		g.fail(err)
		return g.placeholders(len(wrt))
	}
	// Only nodes on a path from some w to the loss need cotangents.
	needed := map[*Node]bool{}
	for _, w := range wrt {
		needed[w] = true
	}
	for _, n := range order {
		for _, x := range n.in {
			if needed[x] {
				needed[n] = true
				break
			}
		}
	}
	cot := map[*Node]*Node{loss: g.Fill(1, loss.shape...)}
	// Cotangents of the outputs of multi-output ops, gathered from their
	// projections (which come later in the order, so earlier in reverse).
	outCot := map[*Node][]*Node{}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if !needed[n] {
			continue
		}
		if n.kind == kindOutput {
			if c := cot[n]; c != nil {
				p := n.in[0]
				if outCot[p] == nil {
					outCot[p] = make([]*Node, len(p.outs))
				}
				outCot[p][n.index] = addMaybe(g, outCot[p][n.index], c)
			}
			continue
		}
		if n.kind != kindOp {
			continue
		}
		gout := outCot[n]
		if !n.multi() {
			gout = []*Node{cot[n]}
		}
		if gout == nil || allNil(gout) {
			continue
		}
		contrib := n.op.VJP(g, n, gout)
		if len(contrib) != len(n.in) {
			g.fail(fmt.Errorf("graph: %s VJP returned %d cotangents for %d operands", n.op.Name(), len(contrib), len(n.in)))
			return g.placeholders(len(wrt))
		}
		for j, x := range n.in {
			if contrib[j] == nil || !needed[x] {
				continue
			}
			if !contrib[j].shape.Equal(x.shape) {
				g.fail(fmt.Errorf("graph: %s VJP gave operand %d shape %v, want %v", n.op.Name(), j, contrib[j].shape, x.shape))
				return g.placeholders(len(wrt))
			}
			cot[x] = addMaybe(g, cot[x], contrib[j])
		}
	}
	out := make([]*Node, len(wrt))
	for i, w := range wrt {
		if c := cot[w]; c != nil {
			out[i] = c
		} else {
			out[i] = g.Fill(0, w.shape...)
		}
	}
	return out
}

// JVP returns the tangents of outputs when the nodes in tangents move in
// the given directions (forward mode). Nodes not in tangents are fixed.
// Applied to the results of Grad it gives Hessian-vector products, and
// with tangents on some nodes and gradients with respect to others, the
// mixed second derivatives the meta-gradient needs.
func (g *Graph) JVP(outputs []*Node, tangents map[*Node]*Node) []*Node {
	if g.err != nil {
		return g.placeholders(len(outputs))
	}
	for n, t := range tangents {
		if t == nil || !t.shape.Equal(n.shape) {
			g.fail(fmt.Errorf("graph: JVP: the tangent of %v must have its shape", n))
			return g.placeholders(len(outputs))
		}
	}
	order, err := schedule(outputs)
	if err != nil {
		g.fail(err)
		return g.placeholders(len(outputs))
	}
	tan := map[*Node]*Node{}
	for n, t := range tangents {
		tan[n] = t
	}
	outTan := map[*Node][]*Node{}
	for _, n := range order {
		if tan[n] != nil {
			continue
		}
		if n.kind == kindOutput {
			if ts := outTan[n.in[0]]; ts != nil {
				tan[n] = ts[n.index]
			}
			continue
		}
		if n.kind != kindOp {
			continue
		}
		tin := make([]*Node, len(n.in))
		for i, x := range n.in {
			tin[i] = tan[x]
		}
		if allNil(tin) {
			continue
		}
		ts := n.op.JVP(g, n, tin)
		if len(ts) != len(n.outs) {
			g.fail(fmt.Errorf("graph: %s JVP returned %d tangents for %d outputs", n.op.Name(), len(ts), len(n.outs)))
			return g.placeholders(len(outputs))
		}
		for i, t := range ts {
			if t != nil && !t.shape.Equal(n.outs[i]) {
				g.fail(fmt.Errorf("graph: %s JVP gave output %d shape %v, want %v", n.op.Name(), i, t.shape, n.outs[i]))
				return g.placeholders(len(outputs))
			}
		}
		outTan[n] = ts
		if !n.multi() {
			tan[n] = ts[0]
		}
	}
	out := make([]*Node, len(outputs))
	for i, o := range outputs {
		if t := tan[o]; t != nil {
			out[i] = t
		} else {
			out[i] = g.Fill(0, o.shape...)
		}
	}
	return out
}

// HVP returns the Hessian-vector products H v of loss with respect to wrt
// (forward-over-reverse: the JVP of Grad in direction v).
func (g *Graph) HVP(loss *Node, wrt []*Node, v []*Node) []*Node {
	if len(v) != len(wrt) {
		g.fail(fmt.Errorf("graph: HVP: %d directions for %d variables", len(v), len(wrt)))
		return g.placeholders(len(wrt))
	}
	grads := g.Grad(loss, wrt...)
	t := map[*Node]*Node{}
	for i, w := range wrt {
		t[w] = v[i]
	}
	return g.JVP(grads, t)
}

func (g *Graph) placeholders(n int) []*Node {
	out := make([]*Node, n)
	for i := range out {
		out[i] = g.placeholder()
	}
	return out
}

func allNil(xs []*Node) bool {
	for _, x := range xs {
		if x != nil {
			return false
		}
	}
	return true
}

// addMaybe adds b to a, where either may be nil (a zero).
func addMaybe(g *Graph, a, b *Node) *Node {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return g.Add(a, b)
}
