package gpu

import (
	"fmt"
	"sort"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// The allocator carves buffers out of large blocks. Each block is one
// VkDeviceMemory bound to one VkBuffer that covers it, so a buffer is a
// (block, offset, size) triple and binds as a descriptor range. Memory
// types are tried in an ordered fallback list:
//  1. device-local and host-visible on a large heap (unified memory:
//     lavapipe, integrated GPUs, resizable BAR): mapped, written directly;
//  2. device-local: written through a host-visible staging buffer;
//  3. host-visible: system memory, when device memory is exhausted.

const defaultBlockSize = 64 << 20

type span struct{ off, size uint64 }

type block struct {
	id      int
	mem     vk.DeviceMemory
	buf     vk.Buffer
	size    uint64
	memSize uint64 // bytes charged to the heap (the driver's requirement)
	typ     int
	mapped  unsafe.Pointer // nil when not host-visible
	free    []span         // sorted by offset, coalesced
	used    uint64
	private bool // made for one large buffer; released when it is freed
}

type allocator struct {
	d         *Device
	blockSize uint64
	align     uint64
	order     []int // memory types to try, best first
	heapUsed  []uint64
	blocks    []*block
	nextID    int
	noMap     bool // tests: leave blocks unmapped to exercise the staging path
}

func newAllocator(d *Device, blockSize int64) (*allocator, error) {
	a := &allocator{d: d, heapUsed: make([]uint64, len(d.Info.Heaps))}
	a.align = max(d.Info.MinStorageBufferAlign, 16)
	bs := uint64(defaultBlockSize)
	if blockSize > 0 {
		bs = uint64(blockSize)
	}
	a.blockSize = roundUp(min(bs, uint64(d.MaxBufferSize())), a.align)
	bits, err := a.typeBits()
	if err != nil {
		return nil, err
	}
	a.order = memoryTypeOrder(d.Info, bits)
	if len(a.order) == 0 {
		return nil, fmt.Errorf("gpu: %s offers no memory type for storage buffers: %w", d.Info.Name, ErrNoDevice)
	}
	return a, nil
}

// typeBits asks the driver which memory types can back a storage buffer.
func (a *allocator) typeBits() (uint32, error) {
	buf, err := a.newVkBuffer(a.blockSize)
	if err != nil {
		return 0, err
	}
	defer vk.DestroyBuffer(a.d.dev, buf, nil)
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(a.d.dev, buf, &req)
	req.Deref()
	return req.MemoryTypeBits, nil
}

// memoryTypeOrder ranks the memory types allowed by bits (see the package comment above).
func memoryTypeOrder(info Info, bits uint32) []int {
	var largestLocal uint64
	for _, h := range info.Heaps {
		if h.DeviceLocal && h.Size > largestLocal {
			largestLocal = h.Size
		}
	}
	rank := func(t MemoryType) int {
		switch {
		case t.DeviceLocal && t.HostVisible && t.HostCoherent && info.Heaps[t.Heap].Size*2 >= largestLocal:
			return 0
		case t.DeviceLocal:
			return 1
		case t.HostVisible && t.HostCoherent:
			return 2
		}
		return -1
	}
	var order []int
	for i, t := range info.MemoryTypes {
		if bits&(1<<i) != 0 && rank(t) >= 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(x, y int) bool {
		return rank(info.MemoryTypes[order[x]]) < rank(info.MemoryTypes[order[y]])
	})
	return order
}

func (a *allocator) newVkBuffer(size uint64) (vk.Buffer, error) {
	var buf vk.Buffer
	err := check("vkCreateBuffer", vk.CreateBuffer(a.d.dev, &vk.BufferCreateInfo{
		SType: vk.StructureTypeBufferCreateInfo,
		Size:  vk.DeviceSize(size),
		Usage: vk.BufferUsageFlags(vk.BufferUsageStorageBufferBit | vk.BufferUsageUniformTexelBufferBit |
			vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit),
		SharingMode: vk.SharingModeExclusive,
	}, nil, &buf))
	return buf, err
}

// alloc returns a span of at least size bytes, aligned for binding.
func (a *allocator) alloc(size uint64) (*block, uint64, error) {
	size = roundUp(max(size, 4), a.align)
	if lim := a.d.MaxBufferSize(); size > uint64(lim) {
		return nil, 0, fmt.Errorf("gpu: allocating %d bytes on %s (limit %d): %w", size, a.d.Info.Name, lim, ErrTooLarge)
	}
	if size <= a.blockSize {
		for _, b := range a.blocks {
			if b.private {
				continue
			}
			if off, ok := b.take(size); ok {
				return b, off, nil
			}
		}
	}
	b, err := a.newBlock(max(size, a.blockSize), size > a.blockSize)
	if err != nil {
		return nil, 0, err
	}
	off, _ := b.take(size)
	return b, off, nil
}

func (a *allocator) newBlock(size uint64, private bool) (*block, error) {
	// One allocation stays free for the staging buffer.
	if lim := a.d.Info.MaxMemoryAllocations; lim > 0 && uint64(len(a.blocks))+1 >= uint64(lim) {
		return nil, fmt.Errorf("gpu: allocating a %d-byte block: %s allows %d memory allocations and %d are in use: %w",
			size, a.d.Info.Name, lim, len(a.blocks), ErrOutOfDeviceMemory)
	}
	buf, err := a.newVkBuffer(size)
	if err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(a.d.dev, buf, &req)
	req.Deref()
	var lastErr error
	for _, t := range a.order {
		if req.MemoryTypeBits&(1<<t) == 0 {
			continue
		}
		heap := a.d.Info.MemoryTypes[t].Heap
		if a.heapUsed[heap]+uint64(req.Size) > a.d.Info.Heaps[heap].Size {
			lastErr = fmt.Errorf("gpu: allocating a %d-byte block: heap %d holds %d of %d bytes: %w",
				req.Size, heap, a.heapUsed[heap], a.d.Info.Heaps[heap].Size, ErrOutOfDeviceMemory)
			continue
		}
		var mem vk.DeviceMemory
		r, injected := a.d.fault("vkAllocateMemory")
		if !injected {
			r = vk.AllocateMemory(a.d.dev, &vk.MemoryAllocateInfo{
				SType:           vk.StructureTypeMemoryAllocateInfo,
				AllocationSize:  req.Size,
				MemoryTypeIndex: uint32(t),
			}, nil, &mem)
		}
		if r == vk.ErrorOutOfDeviceMemory || r == vk.ErrorOutOfHostMemory {
			lastErr = fmt.Errorf("gpu: allocating a %d-byte block in memory type %d: %w", req.Size, t, &VkError{"vkAllocateMemory", r})
			continue
		}
		if err := check("vkAllocateMemory", r); err != nil {
			vk.DestroyBuffer(a.d.dev, buf, nil)
			return nil, fmt.Errorf("gpu: %w", err)
		}
		if err := check("vkBindBufferMemory", vk.BindBufferMemory(a.d.dev, buf, mem, 0)); err != nil {
			vk.FreeMemory(a.d.dev, mem, nil)
			vk.DestroyBuffer(a.d.dev, buf, nil)
			return nil, fmt.Errorf("gpu: %w", err)
		}
		b := &block{id: a.nextID, mem: mem, buf: buf, size: size, memSize: uint64(req.Size), typ: t, private: private,
			free: []span{{0, size}}}
		a.nextID++
		if mt := a.d.Info.MemoryTypes[t]; mt.HostVisible && mt.HostCoherent && !a.noMap {
			var p unsafe.Pointer
			if err := check("vkMapMemory", vk.MapMemory(a.d.dev, mem, 0, vk.DeviceSize(vk.WholeSize), 0, &p)); err != nil {
				vk.FreeMemory(a.d.dev, mem, nil)
				vk.DestroyBuffer(a.d.dev, buf, nil)
				return nil, fmt.Errorf("gpu: %w", err)
			}
			b.mapped = p
		}
		a.heapUsed[heap] += uint64(req.Size)
		a.blocks = append(a.blocks, b)
		return b, nil
	}
	vk.DestroyBuffer(a.d.dev, buf, nil)
	if lastErr == nil {
		lastErr = fmt.Errorf("gpu: no memory type can hold a %d-byte buffer: %w", size, ErrOutOfDeviceMemory)
	}
	return nil, lastErr
}

// take carves size bytes from the first free span that fits.
func (b *block) take(size uint64) (uint64, bool) {
	for i, s := range b.free {
		if s.size < size {
			continue
		}
		off := s.off
		if s.size == size {
			b.free = append(b.free[:i], b.free[i+1:]...)
		} else {
			b.free[i] = span{s.off + size, s.size - size}
		}
		b.used += size
		return off, true
	}
	return 0, false
}

// give returns a span to the block, merging it with its neighbours.
func (b *block) give(off, size uint64) {
	i := sort.Search(len(b.free), func(i int) bool { return b.free[i].off > off })
	b.free = append(b.free, span{})
	copy(b.free[i+1:], b.free[i:])
	b.free[i] = span{off, size}
	if i+1 < len(b.free) && b.free[i].off+b.free[i].size == b.free[i+1].off {
		b.free[i].size += b.free[i+1].size
		b.free = append(b.free[:i+1], b.free[i+2:]...)
	}
	if i > 0 && b.free[i-1].off+b.free[i-1].size == b.free[i].off {
		b.free[i-1].size += b.free[i].size
		b.free = append(b.free[:i], b.free[i+1:]...)
	}
	b.used -= size
}

func (a *allocator) release(b *block, off, size uint64) {
	b.give(off, size)
	if b.private && b.used == 0 {
		a.freeBlock(b)
	}
}

func (a *allocator) freeBlock(b *block) {
	for i, x := range a.blocks {
		if x == b {
			a.blocks = append(a.blocks[:i], a.blocks[i+1:]...)
			break
		}
	}
	vk.DestroyBuffer(a.d.dev, b.buf, nil)
	vk.FreeMemory(a.d.dev, b.mem, nil)
	a.heapUsed[a.d.Info.MemoryTypes[b.typ].Heap] -= b.memSize
}

func (a *allocator) destroy() {
	for len(a.blocks) > 0 {
		a.freeBlock(a.blocks[0])
	}
}

// MemoryStats reports what the allocator holds.
type MemoryStats struct {
	Blocks    int    // memory blocks (VkDeviceMemory objects)
	Reserved  uint64 // bytes in blocks
	InUse     uint64 // bytes handed out to live buffers (after alignment)
	Mappable  bool   // whether buffers are written directly (unified memory)
	Alignment uint64 // offset and size granularity of buffers
	// DeviceMemory is the size of the heap the allocator draws from first:
	// the device's memory, which a program's working set must fit in
	// (memory types of other heaps are only a slow fallback).
	DeviceMemory uint64
}

// MemoryStats returns the allocator's current totals.
func (d *Device) MemoryStats() MemoryStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := MemoryStats{Alignment: d.mem.align}
	mt := d.Info.MemoryTypes[d.mem.order[0]]
	s.Mappable = mt.HostVisible && mt.HostCoherent
	s.DeviceMemory = d.Info.Heaps[mt.Heap].Size
	for _, b := range d.mem.blocks {
		s.Blocks++
		s.Reserved += b.size
		s.InUse += b.used
	}
	return s
}

// MaxBufferSize is the largest buffer Alloc accepts: the smaller of
// maxStorageBufferRange (what one binding may address) and
// maxMemoryAllocationSize (what one allocation may hold), rounded down to
// the buffer alignment.
func (d *Device) MaxBufferSize() int64 {
	lim := d.Info.MaxStorageBufferRange
	if m := d.Info.MaxAllocationSize; m > 0 {
		lim = min(lim, m)
	}
	align := max(d.Info.MinStorageBufferAlign, 16)
	return int64(lim / align * align)
}

func roundUp(x, a uint64) uint64 { return (x + a - 1) / a * a }

// FormatBytes writes a size in the largest binary unit it reaches
// ("1.5 GiB", "128.0 MiB", "512 bytes"), for messages and logs.
func FormatBytes(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", b)
}
