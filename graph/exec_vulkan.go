package graph

import (
	"fmt"
	"time"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// VulkanExec is a program recorded once into a command buffer; each Run
// writes the inputs, submits once, waits and reads the outputs, however
// many dispatches the program holds.
type VulkanExec struct {
	p       *Program
	v       *kernels.Vulkan
	arena   *gpu.Buffer
	bufs    map[*Node]*gpu.Buffer // every scheduled node's buffer (views into the arena for ops)
	owned   []*gpu.Buffer         // buffers to free on Close
	prog    *gpu.Program
	profile bool
	spans   []opSpan // recorded operations of each op node, for Profile
	updates []*vkUpdate
	step    int // optimiser steps taken
}

type opSpan struct {
	n          *Node
	start, end int
}

// VulkanOptions tune the Vulkan executor.
type VulkanOptions struct {
	// Profile records GPU timestamps around every op (see Profile).
	Profile bool
}

// OnVulkan allocates the program's memory on v's device and records it.
// Parameters start at zero.
func (p *Program) OnVulkan(v *kernels.Vulkan, o VulkanOptions) (*VulkanExec, error) {
	e := &VulkanExec{p: p, v: v, bufs: map[*Node]*gpu.Buffer{}, profile: o.Profile}
	if err := e.build(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *VulkanExec) alloc(n int) (*gpu.Buffer, error) {
	b, err := e.v.D.Alloc(int64(4 * max(n, 1)))
	if err == nil {
		e.owned = append(e.owned, b)
	}
	return b, err
}

func (e *VulkanExec) build() error {
	p := e.p
	if lim := int64(e.v.D.Info.MaxStorageBufferRange); p.peak > lim {
		return fmt.Errorf("graph: the planned arena of %d bytes exceeds the device's maxStorageBufferRange (%d): reduce the batch size", p.peak, lim)
	}
	if p.peak > 0 {
		a, err := e.v.D.Alloc(p.peak)
		if err != nil {
			return fmt.Errorf("graph: arena: %w", err)
		}
		e.arena = a
		e.owned = append(e.owned, a)
	}
	outs := map[*Node][]*gpu.Buffer{}
	for _, n := range p.order {
		switch n.kind {
		case kindOp:
			s := p.slots[n]
			for i, sh := range n.outs {
				view, err := e.arena.View(s.offset+outOffset(n, i, p.align), int64(4*sh.Len()))
				if err != nil {
					return fmt.Errorf("graph: %v: %w", n, err)
				}
				outs[n] = append(outs[n], view)
			}
			if !n.multi() {
				e.bufs[n] = outs[n][0]
			}
		case kindOutput:
			e.bufs[n] = outs[n.in[0]][n.index]
		default:
			b, err := e.alloc(n.shape.Len())
			if err != nil {
				return fmt.Errorf("graph: %v: %w", n, err)
			}
			if n.kind == kindConst {
				if err := b.WriteFloat32(0, n.value); err != nil {
					return err
				}
			}
			e.bufs[n] = b
		}
	}
	r := e.v.D.NewRecorder()
	if e.profile {
		r.Profile()
	}
	for _, n := range p.order {
		if n.kind != kindOp {
			continue
		}
		l := Launch{V: e.v, R: r, In: make([]*gpu.Buffer, len(n.in)), Out: outs[n], Node: n}
		for i, x := range n.in {
			l.In[i] = e.bufs[x]
		}
		if sc, ok := n.op.(scratcher); ok {
			size, err := sc.Scratch(e.v, n)
			if err != nil {
				return fmt.Errorf("graph: %v: %w", n, err)
			}
			if l.Scratch, err = e.alloc(size); err != nil {
				return fmt.Errorf("graph: %v scratch: %w", n, err)
			}
		}
		start := r.Len()
		if err := n.op.Record(l); err != nil {
			return fmt.Errorf("graph: recording %v: %w", n, err)
		}
		e.spans = append(e.spans, opSpan{n, start, r.Len()})
	}
	if err := e.recordUpdates(r); err != nil {
		return err
	}
	prog, err := r.Finish()
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	e.prog = prog
	return nil
}

func (e *VulkanExec) param(name string) (*Node, *gpu.Buffer, error) {
	n, ok := e.p.g.byName[name]
	if !ok || n.kind != kindParam || e.bufs[n] == nil {
		return nil, nil, fmt.Errorf("graph: the program has no parameter %q", name)
	}
	return n, e.bufs[n], nil
}

// SetParam uploads a parameter's value. A parameter of the graph that
// this program does not use is accepted and ignored.
func (e *VulkanExec) SetParam(name string, v []float32) error {
	n, b, err := e.param(name)
	if err != nil {
		return e.p.unusedParam(name)
	}
	if len(v) != n.shape.Len() {
		return fmt.Errorf("graph: SetParam(%q): %d values, want %d", name, len(v), n.shape.Len())
	}
	return b.WriteFloat32(0, v)
}

// Param downloads a parameter's value.
func (e *VulkanExec) Param(name string) ([]float32, error) {
	n, b, err := e.param(name)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n.shape.Len())
	return out, b.ReadFloat32(0, out)
}

// Run writes the inputs, runs the recorded program once and returns the outputs.
func (e *VulkanExec) Run(feeds map[string][]float32) ([][]float32, error) {
	if err := e.p.checkFeeds(feeds); err != nil {
		return nil, err
	}
	for _, n := range e.p.inputs {
		if err := e.bufs[n].WriteFloat32(0, feeds[n.name]); err != nil {
			return nil, err
		}
	}
	if err := e.beginUpdates(); err != nil {
		return nil, err
	}
	if err := e.prog.Run(); err != nil {
		return nil, err
	}
	out := make([][]float32, len(e.p.outputs))
	for i, o := range e.p.outputs {
		out[i] = make([]float32, o.shape.Len())
		if err := e.bufs[o].ReadFloat32(0, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Value reads any scheduled node's value after a run; with
// CompileOptions.KeepAll every intermediate is intact.
func (e *VulkanExec) Value(n *Node) ([]float32, error) {
	b := e.bufs[n]
	if b == nil {
		return nil, fmt.Errorf("graph: %v is not part of the program", n)
	}
	out := make([]float32, n.shape.Len())
	return out, b.ReadFloat32(0, out)
}

// OpTime is one op's GPU time in the last run.
type OpTime struct {
	Node string
	Time time.Duration
}

// Profile returns per-op GPU times of the last Run (VulkanOptions.Profile).
func (e *VulkanExec) Profile() ([]OpTime, error) {
	times, err := e.prog.Profile()
	if err != nil {
		return nil, err
	}
	out := make([]OpTime, len(e.spans))
	for i, sp := range e.spans {
		out[i].Node = sp.n.String()
		for _, t := range times[sp.start:sp.end] {
			out[i].Time += t.Time
		}
	}
	return out, nil
}

// Dispatches is the number of kernel dispatches the recorded program holds.
func (e *VulkanExec) Dispatches() int { return e.prog.Dispatches() }

// Close frees the executor's memory and command buffer.
func (e *VulkanExec) Close() {
	if e.prog != nil {
		e.prog.Close()
		e.prog = nil
	}
	for _, b := range e.owned {
		b.Free()
	}
	e.owned = nil
}

// LastWait is how long the last Run waited for the device; the rest of
// its time was host work (uploads, submission, read-back).
func (e *VulkanExec) LastWait() time.Duration { return e.prog.LastWait() }
