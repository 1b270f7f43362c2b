package graph

import "slices"

// Views. A split along the leading axis cuts its operand into runs of
// rows that already lie one after another in memory, and a concatenation
// along the leading axis lays its operands one after another: when every
// run starts at an aligned offset, the split's parts can be its operand's
// memory, and the concatenation's operands can be computed straight into
// its memory, so neither needs a kernel. The physics Noether loss stacks
// the states before and after a step to run g_phi once over both and
// splits the embeddings apart again: four copies a pass, each a dispatch.
//
// A view lives inside its owner's slot, which is kept from the earliest
// birth to the latest death of the owner and its views. Nothing is
// viewed twice or through another view, nothing kept (outputs and the
// gradients updates read, which an update may change in place) takes part,
// and nothing split by rows across buffers either (plan drops the views of
// such tensors, and their kernels run).

// view places a node's memory at offset bytes into its owner's.
type view struct {
	owner  *Node
	offset int64
}

// findViews returns the views among the ops of order: the operands of
// each concatenation along the leading axis (all of them or none) and
// each split along the leading axis, when every part's size is a
// multiple of align. (Neither op fuses, so each is its own body.) Walking
// the schedule, an op is decided before anything that reads it.
func findViews(order, keep []*Node, align int64) map[*Node]view {
	kept := nodeSet(keep)
	views := map[*Node]view{}
	owners := map[*Node]bool{}
	// viewable reports whether x may own or be a view: an op of one
	// output, neither kept nor a view already; free, whether it may
	// become a view: viewable and no owner either.
	viewable := func(x *Node) bool {
		_, viewed := views[x]
		return x.kind == kindOp && !x.multi() && !kept[x] && !viewed
	}
	free := func(x *Node) bool { return viewable(x) && !owners[x] }
	aligned := func(ns []int, rowElems int) bool {
		for _, rows := range ns {
			if int64(4*rows*rowElems)%align != 0 {
				return false
			}
		}
		return true
	}
	for _, n := range order {
		if n.kind != kindOp || kept[n] {
			continue
		}
		switch o := n.op.(type) {
		case concatOp:
			sizes := o.sizes(n)
			if o.axis != 0 || !aligned(sizes, n.shape.Len()/n.shape[0]) {
				continue
			}
			ok := true
			for i, x := range n.in {
				ok = ok && free(x) && slices.Index(n.in, x) == i
			}
			if !ok {
				continue
			}
			var off int64
			for _, x := range n.in {
				views[x] = view{n, off}
				off += int64(4 * x.shape.Len())
			}
			owners[n] = true
		case splitOp:
			x := n.in[0]
			if o.axis != 0 || !aligned(o.sizes, x.shape.Len()/x.shape[0]) || !viewable(x) {
				continue
			}
			views[n] = view{x, 0}
			owners[x] = true
		}
	}
	return views
}
