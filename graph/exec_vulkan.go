package graph

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
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
	mem     MemoryPlan
	bufs    map[*Node]*gpu.Buffer // every scheduled node's buffer (views into the arena for ops)
	pieces  map[*Node][]piece     // tensors split by rows instead (see shard.go)
	blocks  map[*Node]blocked     // ops that run by blocks of rows
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
	// MaxBufferBytes caps each buffer the arena is cut into (0, or more
	// than the device allows: gpu.Device.MaxBufferSize). Lower values
	// make small graphs use several buffers, for tests.
	MaxBufferBytes int64
}

// OnVulkan allocates the program's memory on v's device and records it.
// Parameters start at zero. The arena is cut into as many buffers as the
// device's buffer limit requires; a program whose memory exceeds the
// device's is refused before anything is allocated, with an error naming
// the planned peak and the largest tensors.
func (p *Program) OnVulkan(v *kernels.Vulkan, o VulkanOptions) (*VulkanExec, error) {
	e := &VulkanExec{p: p, v: v, bufs: map[*Node]*gpu.Buffer{}, pieces: map[*Node][]piece{}, blocks: map[*Node]blocked{}, profile: o.Profile}
	if err := e.build(o.MaxBufferBytes); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *VulkanExec) alloc(n int) (*gpu.Buffer, error) {
	b, err := e.v.Device.Alloc(int64(4 * max(n, 1)))
	if err == nil {
		e.owned = append(e.owned, b)
	}
	return b, err
}

// tensorBytes is what a buffer of n floats takes from the allocator.
func tensorBytes(n int, align int64) int64 {
	return (int64(4*max(n, 1)) + align - 1) / align * align
}

// plan lays out the arena under the device's buffer limit (maxBuffer
// lowers it when positive), finds the ops that run by blocks of rows,
// sizes every other buffer and checks the whole against the device's free
// memory. It returns the arena slots and each op's scratch length in
// floats.
func (e *VulkanExec) plan(maxBuffer int64) (map[*Node][]*slot, map[*Node]int, error) {
	p, d := e.p, e.v.Device
	limit := d.MaxBufferSize()
	if maxBuffer > 0 {
		limit = min(limit, maxBuffer)
	}
	if limit = limit / p.align * p.align; limit == 0 {
		return nil, nil, fmt.Errorf("graph: OnVulkan: buffers of at most %d bytes cannot hold one %d-byte aligned tensor", min(d.MaxBufferSize(), maxBuffer), p.align)
	}
	slots, buffers, err := p.arena(limit)
	if err != nil {
		return nil, nil, err
	}
	st := d.MemoryStats()
	align := int64(st.Alignment)
	e.mem = MemoryPlan{Buffers: buffers, Device: int64(st.DeviceMemory)}
	for _, b := range buffers {
		e.mem.Peak += b
	}
	var big []sized // every tensor, for the error naming the largest
	for n, ss := range slots {
		var size int64
		for _, s := range ss {
			size += s.size
		}
		if !ss[0].view {
			big = append(big, sized{"", n, size})
		}
	}
	for _, u := range p.updates {
		for _, gr := range u.Grads {
			if len(slots[gr]) > 1 {
				return nil, nil, fmt.Errorf("graph: %v, a gradient that an update reads, is split by rows across buffers (more than one buffer holds): %w", gr, gpu.ErrTooLarge)
			}
		}
	}
	add := func(what string, n *Node, floats int) error {
		b := tensorBytes(floats, align)
		if b > d.MaxBufferSize() {
			return fmt.Errorf("graph: %s%v needs %d bytes, more than one buffer holds (%d): %w", what, n, b, d.MaxBufferSize(), gpu.ErrTooLarge)
		}
		e.mem.Other += b
		big = append(big, sized{what, n, b})
		return nil
	}
	scratch := map[*Node]int{}
	for _, n := range p.order {
		switch n.kind {
		case kindInput, kindParam, kindConst:
			if err := add("", n, n.shape.Len()); err != nil {
				return nil, nil, err
			}
		case kindOp:
			bounds, sum, _ := blocksOf(n, p.body(n), slots) // plan checked every op
			if bounds != nil {
				e.blocks[n] = blocked{bounds: bounds, sum: sum}
				if sum {
					if err := add("the partial sums of ", n, n.shape.Len()); err != nil {
						return nil, nil, err
					}
				}
			}
			sc, ok := p.body(n).op.(scratcher)
			if !ok {
				continue
			}
			size := 0
			for _, bn := range e.blockNodes(n) {
				s, err := sc.Scratch(e.v, bn)
				if err != nil {
					return nil, nil, fmt.Errorf("graph: %v: %w", n, err)
				}
				size = max(size, s)
			}
			if err := add("the scratch of ", n, size); err != nil {
				return nil, nil, err
			}
			scratch[n] = size
		}
	}
	for _, u := range p.updates {
		sched, norm, clip := u.stateLens()
		for _, n := range []int{sched, norm, clip} {
			if n > 0 {
				e.mem.Other += tensorBytes(n, align)
			}
		}
		for _, n := range u.Params {
			e.mem.Other += 2 * tensorBytes(n.shape.Len(), align)
		}
	}
	if free := int64(st.DeviceMemory) - int64(st.InUse); e.mem.Total() > free {
		return nil, nil, fmt.Errorf("graph: the program needs %s (a planned peak of %s in %s, %s besides), but %s has %s of memory with %s of it in use; its largest tensors: %s: %w",
			gpu.FormatBytes(e.mem.Total()), gpu.FormatBytes(e.mem.Peak), countBuffers(len(e.mem.Buffers)), gpu.FormatBytes(e.mem.Other), d.Info.Name,
			gpu.FormatBytes(int64(st.DeviceMemory)), gpu.FormatBytes(int64(st.InUse)), largest(big, 4), gpu.ErrOutOfDeviceMemory)
	}
	return slots, scratch, nil
}

// sized is the memory of a node (what: of which part of it), for naming
// the largest.
type sized struct {
	what  string
	n     *Node
	bytes int64
}

// largest lists the k largest of ts, largest first (ties in graph order).
func largest(ts []sized, k int) string {
	slices.SortFunc(ts, func(a, b sized) int {
		if c := cmp.Compare(b.bytes, a.bytes); c != 0 {
			return c
		}
		return cmp.Compare(a.n.id, b.n.id)
	})
	var parts []string
	for _, t := range ts[:min(k, len(ts))] {
		parts = append(parts, fmt.Sprintf("%s%v (%s)", t.what, t.n, gpu.FormatBytes(t.bytes)))
	}
	return strings.Join(parts, ", ")
}

func (e *VulkanExec) build(maxBuffer int64) error {
	p := e.p
	slots, scratch, err := e.plan(maxBuffer)
	if err != nil {
		return err
	}
	arena := make([]*gpu.Buffer, len(e.mem.Buffers))
	for i, size := range e.mem.Buffers {
		if arena[i], err = e.v.Device.Alloc(size); err != nil {
			return fmt.Errorf("graph: arena buffer %d of %d (%d bytes): %w", i+1, len(arena), size, err)
		}
		e.owned = append(e.owned, arena[i])
	}
	outs := map[*Node][]*gpu.Buffer{}
	for _, n := range p.order {
		switch n.kind {
		case kindOp:
			if ss := slots[n]; len(ss) > 1 {
				for _, s := range ss {
					view, err := arena[s.buf].View(s.offset, int64(s.rows)*rowBytes(n))
					if err != nil {
						return fmt.Errorf("graph: %v rows %d+%d: %w", n, s.row0, s.rows, err)
					}
					e.pieces[n] = append(e.pieces[n], piece{view, s.row0, s.rows})
				}
				break
			}
			s := slots[n][0]
			for i, sh := range n.outs {
				view, err := arena[s.buf].View(s.offset+outOffset(n, i, p.align), int64(4*sh.Len()))
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
	r := e.v.Device.NewRecorder()
	if e.profile {
		r.Profile()
	}
	for _, n := range p.order {
		if n.kind != kindOp || slots[n][0].inPlace {
			continue
		}
		body := p.body(n)
		l := Launch{Kernels: e.v, Recorder: r, In: make([]*gpu.Buffer, len(body.in)), Out: outs[n], Node: body}
		for i, x := range body.in {
			l.In[i] = e.bufs[x]
		}
		if size, ok := scratch[n]; ok {
			if l.Scratch, err = e.alloc(size); err != nil {
				return fmt.Errorf("graph: %v scratch: %w", n, err)
			}
		}
		start := r.Len()
		if b, ok := e.blocks[n]; ok {
			if b.sum {
				if b.partial, err = e.alloc(n.shape.Len()); err != nil {
					return fmt.Errorf("graph: %v partial sums: %w", n, err)
				}
				e.blocks[n] = b
			}
			err = e.recordBlocks(r, n, l.Scratch)
		} else {
			err = body.op.Record(l)
		}
		if err != nil {
			return fmt.Errorf("graph: recording %v: %w", body, err)
		}
		e.spans = append(e.spans, opSpan{body, start, r.Len()})
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

// Memory is the device memory the executor holds: the planned peak of
// the intermediates, the buffers it is cut into, everything else, and the
// device's memory.
func (e *VulkanExec) Memory() MemoryPlan { return e.mem }

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
		var err error
		if out[i], err = e.Value(o); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Value reads any scheduled node's value after a run; with
// CompileOptions.KeepAll every intermediate is intact.
func (e *VulkanExec) Value(n *Node) ([]float32, error) {
	n = e.p.computed(n)
	out := make([]float32, n.shape.Len())
	if ps, ok := e.pieces[n]; ok {
		w := int(rowBytes(n) / 4)
		for _, p := range ps {
			if err := p.buf.ReadFloat32(0, out[p.row0*w:(p.row0+p.rows)*w]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	b := e.bufs[n]
	if b == nil {
		return nil, fmt.Errorf("graph: %v is not part of the program", n)
	}
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
