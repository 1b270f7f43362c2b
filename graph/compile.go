package graph

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Program is a compiled graph: the nodes the outputs need, in execution
// order, with arena offsets. It is backend-neutral; OnCPU and OnVulkan
// make executors from it.
type Program struct {
	g       *Graph
	order   []*Node
	outputs []*Node
	keep    []*Node // nodes live to the end: outputs and the gradients updates read
	slots   map[*Node][]*slot
	buffers []int64 // the arena in one buffer: nil or its size
	peak    int64
	align   int64
	keepAll bool
	views   bool    // splits and concatenations may be views (see views.go)
	inputs  []*Node // the inputs and parameters the program reads, in order,
	params  []*Node // found once so that Run does not scan the schedule
	updates []Update
	// bodies holds, for each root of a fused group, the node that computes
	// it (see fuse.go); body returns it.
	bodies map[*Node]*Node
	fused  int // ops fused into others or no longer needed (PlanStats.Fused)
	// rewritten maps each node that reassociation or the merging of
	// repeated ops replaced (see reassoc.go, cse.go) to the node that
	// computes its value in this program.
	rewritten map[*Node]*Node
}

// computed is the node of this program that holds n's value.
func (p *Program) computed(n *Node) *Node {
	if r, ok := p.rewritten[n]; ok {
		return r
	}
	return n
}

// body is the node whose op and operands compute n in this program: a
// fused op for the root of a fused group, n itself otherwise. Memory and
// buffers stay keyed by n.
func (p *Program) body(n *Node) *Node {
	if b, ok := p.bodies[n]; ok {
		return b
	}
	return n
}

// CompileOptions tune compilation.
type CompileOptions struct {
	// KeepAll gives every op its own memory (no reuse), so every
	// intermediate value can be read after a run: for debugging.
	KeepAll bool
	// Updates are optimiser steps applied in place after every Run.
	Updates []Update
	// Align is the byte alignment of arena offsets (0: 256, which every
	// Vulkan device accepts for storage-buffer offsets).
	Align int64
	// NoFusion compiles every elementwise op to a kernel of its own
	// instead of fusing chains of them (see fuse.go): for tests and A/B
	// timing. KeepAll implies it, since fusion keeps no intermediates, and
	// so does NOETHER_VK_FUSION=off in the environment (to time or test
	// whole commands without fusion).
	NoFusion bool
	// NoReassoc keeps products with low-rank batched operands (per-example
	// weights adapted by a gradient step) as written instead of
	// reassociating them (see reassoc.go): for tests and A/B timing.
	// KeepAll implies it, and so does NOETHER_VK_REASSOC=off.
	NoReassoc bool
	// NoCSE computes every op as written, repeats included, instead of
	// merging ops that repeat earlier ones (see cse.go): for tests and A/B
	// timing. KeepAll implies it, and so does NOETHER_VK_CSE=off.
	NoCSE bool
	// NoViews gives every split and concatenation its own memory and
	// kernel instead of viewing its operand or its operands' memory (see
	// views.go): for tests and A/B timing. KeepAll implies it, and so does
	// NOETHER_VK_VIEWS=off.
	NoViews bool
}

// Compile plans the graph for computing outputs. Reassociation and the
// merging of repeated ops (see CompileOptions.NoReassoc and NoCSE) add the
// nodes they rewrite to g, so,
// like the builders, Compile must not run concurrently on one graph.
func (g *Graph) Compile(o CompileOptions, outputs ...*Node) (*Program, error) {
	if g.err != nil {
		return nil, g.err
	}
	if len(outputs) == 0 {
		return nil, fmt.Errorf("graph: Compile needs at least one output")
	}
	for i, out := range outputs {
		if out == nil || out.g != g {
			return nil, fmt.Errorf("graph: output %d is nil or from another graph", i)
		}
	}
	if err := g.checkUpdates(o.Updates); err != nil {
		return nil, err
	}
	// Gradients that updates read stay live to the end like outputs.
	keep := append([]*Node(nil), outputs...)
	for _, u := range o.Updates {
		keep = append(keep, u.Grads...)
	}
	order, err := schedule(keep)
	if err != nil {
		return nil, err
	}
	p := &Program{g: g, outputs: outputs, align: o.Align, keepAll: o.KeepAll, updates: o.Updates,
		views: !o.NoViews && !o.KeepAll && os.Getenv("NOETHER_VK_VIEWS") != "off"}
	// Rewrites replace nodes by others that compute the same values
	// (p.rewritten); each pass works on the program the last one left.
	rewrite := func(repl map[*Node]*Node) error {
		if len(repl) == 0 {
			return nil
		}
		if p.rewritten == nil {
			p.rewritten = map[*Node]*Node{}
		}
		for n, r := range p.rewritten {
			if rr, ok := repl[r]; ok {
				p.rewritten[n] = rr
			}
		}
		for n, r := range repl {
			p.rewritten[n] = r
		}
		p.outputs = mapNodes(outputs, p.computed)
		keep = mapNodes(keep, p.computed)
		p.updates = slices.Clone(o.Updates)
		for i := range p.updates {
			p.updates[i].Grads = mapNodes(p.updates[i].Grads, p.computed)
		}
		order, err = schedule(keep)
		return err
	}
	if !o.NoReassoc && !o.KeepAll && os.Getenv("NOETHER_VK_REASSOC") != "off" {
		if err := rewrite(reassociate(order)); err != nil {
			return nil, err
		}
	}
	if !o.NoCSE && !o.KeepAll && os.Getenv("NOETHER_VK_CSE") != "off" {
		if err := rewrite(commonSubexpressions(order, keep)); err != nil {
			return nil, err
		}
	}
	if !o.NoFusion && !o.KeepAll && os.Getenv("NOETHER_VK_FUSION") != "off" {
		n := len(order)
		order, p.bodies = fuse(order, keep)
		p.fused = n - len(order)
	}
	p.order = order
	if p.align == 0 {
		p.align = 256
	}
	if o.KeepAll {
		keep = order
	}
	p.keep = keep
	// Unbounded, the plan cannot fail.
	p.slots, p.buffers, _ = plan(order, keep, p.align, 0, p.body, p.views)
	for _, b := range p.buffers {
		p.peak += b
	}
	for _, n := range order {
		switch n.kind {
		case kindInput:
			p.inputs = append(p.inputs, n)
		case kindParam:
			p.params = append(p.params, n)
		}
	}
	return p, nil
}

// replacedBy returns the function that maps a node to its replacement in
// repl, or to itself; it sees entries added to repl later.
func replacedBy(repl map[*Node]*Node) func(*Node) *Node {
	return func(x *Node) *Node {
		if r, ok := repl[x]; ok {
			return r
		}
		return x
	}
}

// nodeSet is the set of ns.
func nodeSet(ns []*Node) map[*Node]bool {
	set := make(map[*Node]bool, len(ns))
	for _, n := range ns {
		set[n] = true
	}
	return set
}

// mapNodes is f applied to each of ns.
func mapNodes(ns []*Node, f func(*Node) *Node) []*Node {
	out := make([]*Node, len(ns))
	for i, n := range ns {
		out[i] = f(n)
	}
	return out
}

// arena is the program's memory plan for buffers of at most limit bytes:
// the one-buffer plan when it fits, else a plan cut into several.
func (p *Program) arena(limit int64) (map[*Node][]*slot, []int64, error) {
	if p.peak <= limit {
		return p.slots, p.buffers, nil
	}
	return plan(p.order, p.keep, p.align, limit, p.body, p.views)
}

// PlanStats summarises a program's memory plan.
type PlanStats struct {
	Ops        int   // op nodes executed (a fused group counts once)
	Fused      int   // ops fused into others, or no longer needed once fused (not counted in Ops)
	PeakBytes  int64 // arena size in one buffer: the planned peak of simultaneously live intermediates
	TotalBytes int64 // sum of every intermediate's size: the arena without reuse
}

// Stats returns the program's plan summary.
func (p *Program) Stats() PlanStats {
	s := PlanStats{PeakBytes: p.peak, Fused: p.fused}
	for _, sl := range p.slots {
		s.Ops++
		if !sl[0].view {
			s.TotalBytes += sl[0].size // one slot each: the program's plan splits nothing
		}
	}
	return s
}

// Dump is a textual listing: one line per node in execution order with its
// op, operands, shape, bytes and arena offset.
func (p *Program) Dump() string {
	var b strings.Builder
	st := p.Stats()
	fmt.Fprintf(&b, "program: %d ops (%d more fused into them or no longer needed), arena %d bytes (%d without reuse)\n", st.Ops, st.Fused, st.PeakBytes, st.TotalBytes)
	for _, n := range p.order {
		s := p.slots[n]
		n = p.body(n)
		fmt.Fprintf(&b, "  %v", n)
		if n.kind == kindOp {
			var args []string
			for _, x := range n.in {
				args = append(args, fmt.Sprintf("%%%d", x.id))
			}
			fmt.Fprintf(&b, " (%s)", strings.Join(args, ", "))
		}
		if s != nil {
			fmt.Fprintf(&b, "  %d bytes @%d", s[0].size, s[0].offset)
			if s[0].inPlace {
				b.WriteString(" (in place, no kernel)")
			}
		} else if n.kind != kindOutput {
			fmt.Fprintf(&b, "  %d bytes", 4*n.shape.Len())
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// checkFeeds validates the fed inputs against the program's inputs.
func (p *Program) checkFeeds(feeds map[string][]float32) error {
	for _, n := range p.inputs {
		v, ok := feeds[n.name]
		if !ok {
			return fmt.Errorf("graph: Run: input %q %v not fed", n.name, n.shape)
		}
		if len(v) != n.shape.Len() {
			return fmt.Errorf("graph: Run: input %q has %d values, shape %v needs %d", n.name, len(v), n.shape, n.shape.Len())
		}
	}
	for name := range feeds {
		if n, ok := p.g.byName[name]; !ok || n.kind != kindInput {
			return fmt.Errorf("graph: Run: %q is not an input of the graph", name)
		}
	}
	return nil
}

// unusedParam is nil for a parameter of the graph that the program does not
// need, and an error for a name the graph does not have.
func (p *Program) unusedParam(name string) error {
	if n, ok := p.g.byName[name]; ok && n.kind == kindParam {
		return nil
	}
	return fmt.Errorf("graph: SetParam: the graph has no parameter %q", name)
}
