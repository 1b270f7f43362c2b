package gpu

/*
#include "vkshim.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"sort"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

type opKind uint8

const (
	opDispatch opKind = iota
	opFill
	opCopy
)

type binding struct {
	buf    *Buffer
	access Access
}

type op struct {
	kind   opKind
	kernel *Kernel
	groups [3]uint32
	push   []byte
	binds  []binding
	fill   uint32
	label  string
}

// Recorder collects dispatches and transfers, then Finish records them
// into one command buffer with barriers only where a hazard exists. The
// first error sticks: later calls do nothing and Finish returns it.
type Recorder struct {
	d       *Device
	ops     []op
	profile bool
	err     error
}

// NewRecorder starts an empty recording.
func (d *Device) NewRecorder() *Recorder { return &Recorder{d: d} }

// Profile makes the program write a GPU timestamp after every operation,
// read back by Program.Profile after each Run.
func (r *Recorder) Profile() *Recorder {
	r.profile = r.d.Info.TimestampValidBits > 0
	return r
}

// Len is the number of operations recorded so far; callers use it to
// attribute Program.Profile entries to their own higher-level ops.
func (r *Recorder) Len() int { return len(r.ops) }

// Err is the first error met while recording.
func (r *Recorder) Err() error { return r.err }

func (r *Recorder) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("gpu: recording: "+format, args...)
	}
}

// Dispatch records k over the given workgroup counts with push constants
// push, binding bufs to bindings 0..n-1 with the kernel's declared access.
func (r *Recorder) Dispatch(k *Kernel, groups [3]uint32, push Push, bufs ...*Buffer) {
	if r.err != nil {
		return
	}
	lim := r.d.Info.MaxWorkgroupCount
	switch {
	case len(bufs) != len(k.bindings):
		r.fail("kernel %s takes %d buffers, got %d", k.name, len(k.bindings), len(bufs))
	case len(push) != k.push:
		r.fail("kernel %s takes %d bytes of push constants, got %d", k.name, k.push, len(push))
	case groups[0] == 0 || groups[1] == 0 || groups[2] == 0:
		r.fail("kernel %s: empty grid %v", k.name, groups)
	case groups[0] > lim[0] || groups[1] > lim[1] || groups[2] > lim[2]:
		r.fail("kernel %s: grid %v exceeds the device's maxComputeWorkGroupCount %v (use Device.Grid)", k.name, groups, lim)
	}
	if r.err != nil {
		return
	}
	o := op{kind: opDispatch, kernel: k, groups: groups, push: append([]byte(nil), push...), label: k.name}
	for i, b := range bufs {
		if !r.live(b) {
			r.fail("kernel %s: buffer %d is nil or freed", k.name, i)
			return
		}
		if k.bindings[i]&texel != 0 && !b.TexelBindable() {
			r.fail("kernel %s: buffer %d (%d bytes at offset %d) cannot be bound as texels (offset alignment %d, at most %d texels): check Buffer.TexelBindable first",
				k.name, i, b.size, b.off, r.d.Info.MinTexelBufferAlign, r.d.Info.MaxTexelBufferElements)
			return
		}

		o.binds = append(o.binds, binding{b, k.bindings[i]})
	}
	r.ops = append(r.ops, o)
}

func (r *Recorder) live(b *Buffer) bool {
	return b != nil && !b.freed && (b.parent == nil || !b.parent.freed) && b.d == r.d
}

// Fill records setting every 32-bit word of b to v (b's size must be a
// multiple of 4).
func (r *Recorder) Fill(b *Buffer, v uint32) {
	if r.err != nil {
		return
	}
	if !r.live(b) || b.size%4 != 0 {
		r.fail("Fill needs a live buffer whose size is a multiple of 4")
		return
	}
	r.ops = append(r.ops, op{kind: opFill, binds: []binding{{b, Write}}, fill: v, label: "fill"})
}

// Copy records copying all of src into dst (equal sizes).
func (r *Recorder) Copy(dst, src *Buffer) {
	if r.err != nil {
		return
	}
	if !r.live(dst) || !r.live(src) || dst.size != src.size {
		r.fail("Copy needs two live buffers of equal size")
		return
	}
	r.ops = append(r.ops, op{kind: opCopy, binds: []binding{{src, Read}, {dst, Write}}, label: "copy"})
}

// hazards tracks the byte ranges read and written since the last barrier,
// as sorted disjoint intervals per block, so a program of n operations is
// recorded in O(n log n).
type hazards struct {
	reads, writes intervals
}

type interval struct{ lo, hi uint64 }

type intervals map[*block][]interval

func (s intervals) overlaps(b *Buffer) bool {
	list := s[b.blk]
	lo, hi := b.off, b.off+b.cap
	i := sort.Search(len(list), func(i int) bool { return list[i].hi > lo })
	return i < len(list) && list[i].lo < hi
}

func (s intervals) add(b *Buffer) {
	list := s[b.blk]
	x := interval{b.off, b.off + b.cap}
	i := sort.Search(len(list), func(i int) bool { return list[i].hi >= x.lo })
	j := i
	for j < len(list) && list[j].lo <= x.hi {
		x.lo, x.hi = min(x.lo, list[j].lo), max(x.hi, list[j].hi)
		j++
	}
	if i == j {
		list = append(list, interval{})
		copy(list[i+1:], list[i:])
	} else {
		list = append(list[:i+1], list[j:]...)
	}
	list[i] = x
	s[b.blk] = list
}

func (s intervals) reset() {
	for k, v := range s {
		s[k] = v[:0]
	}
}

// needs reports whether o must wait for earlier work: it reads what was
// written (RAW), or writes what was read or written (WAR, WAW).
func (h *hazards) needs(o *op) bool {
	for _, b := range o.binds {
		if b.access&Read != 0 && h.writes.overlaps(b.buf) {
			return true
		}
		if b.access&Write != 0 && (h.writes.overlaps(b.buf) || h.reads.overlaps(b.buf)) {
			return true
		}
	}
	return false
}

func (h *hazards) add(o *op) {
	for _, b := range o.binds {
		if b.access&Read != 0 {
			h.reads.add(b.buf)
		}
		if b.access&Write != 0 {
			h.writes.add(b.buf)
		}
	}
}

func (h *hazards) reset() { h.reads.reset(); h.writes.reset() }

// Program is a recorded command buffer that can be run many times.
type Program struct {
	d          *Device
	cmds       []vk.CommandBuffer // submitted in order; see Device.MaxOpsPerSubmit
	fence      vk.Fence
	pool       C.VkDescriptorPool
	sets       []C.VkDescriptorSet // per op while recording
	views      []vk.BufferView
	query      vk.QueryPool
	labels     []string
	barrierAt  []bool
	barriers   int
	dispatches int
	runs       int
	lastWait   time.Duration
	closed     bool
}

// Finish records the collected operations into a command buffer.
func (r *Recorder) Finish() (*Program, error) {
	if r.err != nil {
		return nil, r.err
	}
	d := r.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return nil, err
	}
	p := &Program{d: d}
	err := p.record(r)
	if err != nil {
		p.destroy()
		return nil, err
	}
	d.progs[p] = struct{}{}
	return p, nil
}

func (p *Program) record(r *Recorder) error {
	d := p.d
	var err error
	if p.fence, err = d.newFence(); err != nil {
		return err
	}
	if err := p.createSets(r.ops); err != nil {
		return err
	}
	nq := 0
	if r.profile && len(r.ops) > 0 {
		nq = len(r.ops) + 1
		var query vk.QueryPool
		if err := check("vkCreateQueryPool", vk.CreateQueryPool(d.dev, &vk.QueryPoolCreateInfo{
			SType:      vk.StructureTypeQueryPoolCreateInfo,
			QueryType:  vk.QueryTypeTimestamp,
			QueryCount: uint32(nq),
		}, nil, &query)); err != nil {
			return fmt.Errorf("gpu: %w", err)
		}
		p.query = query
	}
	per := d.MaxOpsPerSubmit
	if per <= 0 {
		per = len(r.ops) + 1
	}
	var vcmd vk.CommandBuffer
	var cmd C.VkCommandBuffer
	begin := func() error {
		c, err := d.allocCommandBuffer()
		if err != nil {
			return err
		}
		p.cmds = append(p.cmds, c)
		if err := check("vkBeginCommandBuffer", vk.BeginCommandBuffer(c, &vk.CommandBufferBeginInfo{
			SType: vk.StructureTypeCommandBufferBeginInfo,
		})); err != nil {
			return fmt.Errorf("gpu: %w", err)
		}
		vcmd, cmd = c, C.VkCommandBuffer(unsafe.Pointer(c))
		return nil
	}
	end := func() error {
		// Make every result visible to the next submission and to the
		// host that waits on the fence.
		C.nvk_cmd_barrier(&d.cmds, cmd, 1)
		if err := check("vkEndCommandBuffer", vk.EndCommandBuffer(vcmd)); err != nil {
			return fmt.Errorf("gpu: %w", err)
		}
		return nil
	}
	if err := begin(); err != nil {
		return err
	}
	if nq > 0 {
		vk.CmdResetQueryPool(vcmd, p.query, 0, uint32(nq))
		vk.CmdWriteTimestamp(vcmd, vk.PipelineStageTopOfPipeBit, p.query, 0)
	}
	h := hazards{reads: intervals{}, writes: intervals{}}
	var bound *Kernel
	p.barrierAt = make([]bool, len(r.ops))
	for i := range r.ops {
		o := &r.ops[i]
		if i > 0 && i%per == 0 {
			// The previous submission completes before this one starts.
			if err := end(); err != nil {
				return err
			}
			if err := begin(); err != nil {
				return err
			}
			// A barrier's first scope holds everything earlier in
			// submission order: the previous submissions' writes.
			C.nvk_cmd_barrier(&d.cmds, cmd, 0)
			h.reset()
			bound = nil
		}
		if h.needs(o) {
			C.nvk_cmd_barrier(&d.cmds, cmd, 0)
			h.reset()
			p.barriers++
			p.barrierAt[i] = true
		}
		h.add(o)
		switch o.kind {
		case opDispatch:
			var push unsafe.Pointer
			if len(o.push) > 0 {
				push = unsafe.Pointer(&o.push[0])
			}
			C.nvk_cmd_dispatch(&d.cmds, cmd, C.VkPipeline(unsafe.Pointer(o.kernel.pipeline)), C.int(cbool(bound != o.kernel)),
				C.VkPipelineLayout(unsafe.Pointer(o.kernel.layout)), p.sets[i], push, C.uint32_t(len(o.push)),
				C.uint32_t(o.groups[0]), C.uint32_t(o.groups[1]), C.uint32_t(o.groups[2]))
			bound = o.kernel
			p.dispatches++
		case opFill:
			b := o.binds[0].buf
			vk.CmdFillBuffer(vcmd, b.blk.buf, vk.DeviceSize(b.off), vk.DeviceSize(b.size), o.fill)
		case opCopy:
			src, dst := o.binds[0].buf, o.binds[1].buf
			d.copyBuffer(vcmd, src.blk.buf, dst.blk.buf, src.off, dst.off, src.size)
		}
		if nq > 0 {
			vk.CmdWriteTimestamp(vcmd, vk.PipelineStageBottomOfPipeBit, p.query, uint32(i+1))
		}
		p.labels = append(p.labels, o.label)
	}
	if err := end(); err != nil {
		return err
	}
	p.sets = nil
	return nil
}

// createSets makes one descriptor set per distinct (kernel layout, buffer
// ranges) among the dispatches, in a pool sized to exactly what they need.
func (p *Program) createSets(ops []op) error {
	type setKey struct {
		layout vk.DescriptorSetLayout
		ranges string
	}
	index := map[setKey]int{}
	var layouts []C.VkDescriptorSetLayout
	var counts []C.uint32_t
	var bufs []C.VkBuffer
	var offs, sizes []C.VkDeviceSize
	var views []C.VkBufferView
	viewOf := map[[3]uint64]C.VkBufferView{}
	opSet := make([]int, len(ops))
	for i := range ops {
		o := &ops[i]
		opSet[i] = -1
		if o.kind != opDispatch || len(o.binds) == 0 {
			continue
		}
		var rk []byte
		for _, b := range o.binds {
			rk = binary.LittleEndian.AppendUint64(rk, uint64(b.buf.blk.id))
			rk = binary.LittleEndian.AppendUint64(rk, b.buf.off)
			rk = binary.LittleEndian.AppendUint64(rk, b.buf.size)
		}
		key := setKey{layout: o.kernel.setLayout, ranges: string(rk)}
		if j, ok := index[key]; ok {
			opSet[i] = j
			continue
		}
		opSet[i] = len(layouts)
		index[key] = len(layouts)
		layouts = append(layouts, C.VkDescriptorSetLayout(unsafe.Pointer(o.kernel.setLayout)))
		counts = append(counts, C.uint32_t(len(o.binds)))
		for _, b := range o.binds {
			bufs = append(bufs, C.VkBuffer(unsafe.Pointer(b.buf.blk.buf)))
			offs = append(offs, C.VkDeviceSize(b.buf.off))
			sizes = append(sizes, C.VkDeviceSize(b.buf.size))
			var view C.VkBufferView
			if b.access&texel != 0 {
				var err error
				if view, err = p.texelView(b.buf, viewOf); err != nil {
					return fmt.Errorf("gpu: kernel %s: %w", o.kernel.name, err)
				}
			}
			views = append(views, view)
		}
	}
	sets := make([]C.VkDescriptorSet, max(len(layouts), 1))
	var pool C.VkDescriptorPool
	r := C.nvk_create_sets(p.d.in.gipa, p.d.in.inst, p.d.cdev, C.uint32_t(len(layouts)), C.uint32_t(len(bufs)),
		ptrOr(layouts), ptrOr(counts), ptrOr(bufs), ptrOr(offs), ptrOr(sizes), ptrOr(views), &pool, &sets[0])
	p.pool = pool
	if err := check("vkAllocateDescriptorSets", vk.Result(r)); err != nil {
		return fmt.Errorf("gpu: %d descriptor sets: %w", len(layouts), err)
	}
	p.sets = make([]C.VkDescriptorSet, len(ops))
	for i, j := range opSet {
		if j >= 0 {
			p.sets[i] = sets[j]
		}
	}
	return nil
}

// texelView is the vec4 view of b for a texel binding, made once per
// range (see Buffer.TexelBindable).
func (p *Program) texelView(b *Buffer, made map[[3]uint64]C.VkBufferView) (C.VkBufferView, error) {
	n := b.texels()
	key := [3]uint64{uint64(b.blk.id), b.off, n}
	if v, ok := made[key]; ok {
		return v, nil
	}
	var view vk.BufferView
	if err := check("vkCreateBufferView", vk.CreateBufferView(p.d.dev, &vk.BufferViewCreateInfo{
		SType:  vk.StructureTypeBufferViewCreateInfo,
		Buffer: b.blk.buf,
		Format: vk.FormatR32g32b32a32Sfloat,
		Offset: vk.DeviceSize(b.off),
		Range:  vk.DeviceSize(16 * n),
	}, nil, &view)); err != nil {
		return nil, err
	}
	v := C.VkBufferView(unsafe.Pointer(view))
	made[key] = v
	p.views = append(p.views, view)
	return v, nil
}

func ptrOr[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// Run submits the program and waits for it to finish.
func (p *Program) Run() error {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	if p.closed {
		return fmt.Errorf("gpu: Run: %w", ErrClosed)
	}
	var wait time.Duration
	for i, c := range p.cmds {
		w, err := p.d.submitWait(fmt.Sprintf("running a program (submission %d of %d)", i+1, len(p.cmds)), c, p.fence)
		wait += w
		if err != nil {
			return err
		}
	}
	p.runs++
	p.lastWait = wait
	return nil
}

// LastWait is how long the last Run waited for the device: the rest of its
// time was host work (submission and bookkeeping).
func (p *Program) LastWait() time.Duration {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	return p.lastWait
}

// Barriers is the number of pipeline barriers recorded between operations
// (the final barrier that publishes results to the host is not counted).
func (p *Program) Barriers() int { return p.barriers }

// Submits is the number of submissions one Run makes (see
// Device.MaxOpsPerSubmit).
func (p *Program) Submits() int { return len(p.cmds) }

// TexelViews is the number of texel views the program made for its
// ReadTexels bindings (one per distinct range).
func (p *Program) TexelViews() int { return len(p.views) }

// Dispatches is the number of compute dispatches recorded.
func (p *Program) Dispatches() int { return p.dispatches }

// OpTime is the GPU time of one recorded operation.
type OpTime struct {
	Label string
	// Barrier reports whether a barrier preceded the operation.
	Barrier bool
	// Time is from the end of the previous operation to the end of this
	// one. Operations without a barrier between them may overlap, so their
	// times are then shares of their joint span.
	Time time.Duration
}

// GPUTime is the GPU time of the last Run: its operations' Profile times
// added up.
func (p *Program) GPUTime() (time.Duration, error) {
	times, err := p.Profile()
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, t := range times {
		total += t.Time
	}
	return total, nil
}

// Profile returns per-operation GPU times of the last Run. The recorder
// must have had Profile set.
func (p *Program) Profile() ([]OpTime, error) {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	if p.query == vk.NullQueryPool {
		return nil, fmt.Errorf("gpu: Profile: the program was recorded without Recorder.Profile (or the queue has no timestamps)")
	}
	if p.runs == 0 {
		return nil, fmt.Errorf("gpu: Profile: the program has not run")
	}
	n := len(p.labels) + 1
	ts := make([]uint64, n)
	if err := check("vkGetQueryPoolResults", vk.GetQueryPoolResults(p.d.dev, p.query, 0, uint32(n), uint(8*n),
		unsafe.Pointer(&ts[0]), 8, vk.QueryResultFlags(vk.QueryResult64Bit|vk.QueryResultWaitBit))); err != nil {
		return nil, fmt.Errorf("gpu: Profile: %w", err)
	}
	mask := ^uint64(0)
	if bits := p.d.Info.TimestampValidBits; bits < 64 {
		mask = 1<<bits - 1
	}
	period := float64(p.d.Info.TimestampPeriodNs)
	out := make([]OpTime, len(p.labels))
	for i := range out {
		dt := (ts[i+1] - ts[i]) & mask
		out[i] = OpTime{Label: p.labels[i], Barrier: p.barrierAt[i], Time: time.Duration(float64(dt) * period)}
	}
	return out, nil
}

// Close releases the program's command buffer, descriptor sets and queries.
func (p *Program) Close() {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	if p.closed || p.d.closed {
		return
	}
	vk.QueueWaitIdle(p.d.queue)
	p.destroy()
	delete(p.d.progs, p)
}

// destroy frees the program's objects. d.mu is held and the queue idle.
func (p *Program) destroy() {
	p.closed = true
	dev := p.d.dev
	if len(p.cmds) > 0 {
		vk.FreeCommandBuffers(dev, p.d.pool, uint32(len(p.cmds)), p.cmds)
	}
	if p.fence != vk.NullFence {
		vk.DestroyFence(dev, p.fence, nil)
	}
	if p.pool != nil {
		vk.DestroyDescriptorPool(dev, vk.DescriptorPool(unsafe.Pointer(p.pool)), nil)
	}
	for _, v := range p.views {
		vk.DestroyBufferView(dev, v, nil)
	}
	if p.query != vk.NullQueryPool {
		vk.DestroyQueryPool(dev, p.query, nil)
	}
}
