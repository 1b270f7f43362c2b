package graph

import (
	"fmt"
	"reflect"
	"strings"
)

// Common subexpressions. Differentiation and the meta-gradient build some
// values twice: the SVG encoder and frame predictor's first layers run on
// the same ground-truth frames in the inner and the outer pass (the inner
// step adapts only the CN sites), and an MLP's first layer gives the same
// product before and after an inner step that adapts only its CN
// parameters. Every op is a pure function of its operands, so an op that
// repeats an earlier one (the same op, equal in every field, on the same
// operands) is that one: the pass maps it to the first, which then stays
// in memory until the repeat's last reader. Identical inputs give the
// kernels' identical bits, so results do not change.
//
// A stop_gradient computes its operand's value (it only matters to
// differentiation, which is done by now), so its readers read the operand
// and the copy is gone: the meta-step's inner step starts from per-example
// constants through two of them per CN parameter. One a program keeps (an
// output, or a gradient an update reads) stays a copy, since an update
// may change its operand in place after the ops have run.

// commonSubexpressions returns, for each op (or output projection) of
// order that repeats an earlier one, possibly once its operands have been
// merged, the node that computes its value: the earlier one, or a new
// node of the graph on the merged operands; for each stop_gradient not in
// keep, the node that computes its operand's value.
func commonSubexpressions(order, keep []*Node) map[*Node]*Node {
	repl := map[*Node]*Node{}
	mapped := replacedBy(repl)
	seen := map[string][]*Node{}
	kept := nodeSet(keep)
	for _, n := range order {
		if n.kind != kindOp && n.kind != kindOutput {
			continue
		}
		if _, ok := n.op.(stopGradientOp); ok && !kept[n] {
			repl[n] = mapped(n.in[0])
			continue
		}
		in := make([]*Node, len(n.in))
		changed := false
		for i, x := range n.in {
			in[i] = mapped(x)
			changed = changed || in[i] != n.in[i]
		}
		key := cseKey(n, in)
		var same *Node
		for _, m := range seen[key] {
			if n.kind == kindOutput || reflect.DeepEqual(m.op, n.op) {
				same = m
				break
			}
		}
		switch {
		case same != nil:
			repl[n] = same
		case changed && n.kind == kindOutput:
			repl[n] = n.g.Output(in[0], n.index)
			seen[key] = append(seen[key], repl[n])
		case changed:
			repl[n] = n.g.Apply(n.op, in...)
			seen[key] = append(seen[key], repl[n])
		default:
			seen[key] = append(seen[key], n)
		}
	}
	return repl
}

// cseKey names what n computes from the operands in: the op's type and
// name (or the output's index) and the operands' identities. Nodes with
// equal keys are compared in full.
func cseKey(n *Node, in []*Node) string {
	var b strings.Builder
	if n.kind == kindOutput {
		fmt.Fprintf(&b, "out %d", n.index)
	} else {
		fmt.Fprintf(&b, "%T %s", n.op, n.op.Name())
	}
	for _, x := range in {
		fmt.Fprintf(&b, " %p", x)
	}
	return b.String()
}
