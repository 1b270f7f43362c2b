package nn

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
)

// ApplyTapped is Apply that also returns the output of the module at
// index tap: an intermediate activation as a graph node, to differentiate
// with respect to (Grad-CAM takes the gradient of a score at a hidden
// layer) or to read out. The output is the same node Apply builds.
func (q Sequential) ApplyTapped(c *Context, s Scope, x *graph.Node, tap int) (out, tapped *graph.Node) {
	if tap < 0 || tap >= len(q) {
		panic(fmt.Sprintf("nn: ApplyTapped: module %d of a Sequential of %d", tap, len(q)))
	}
	for i, m := range q {
		x = m.Apply(c, q.child(s, i), x)
		if i == tap {
			tapped = x
		}
	}
	return x, tapped
}
