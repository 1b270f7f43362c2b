package gpu

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Buffer is a range of device memory bound as a storage buffer. Buffers
// from Alloc are zero-filled. A Buffer must not be written or read by the
// host while a Program that uses it runs; every method here waits for its
// own transfers, so that holds unless Programs run on other goroutines.
type Buffer struct {
	d      *Device
	blk    *block
	off    uint64 // offset in the block
	size   uint64 // bytes the user asked for
	cap    uint64 // bytes reserved (size rounded to the alignment)
	parent *Buffer
	freed  bool
}

// Alloc returns a zero-filled buffer of size bytes.
func (d *Device) Alloc(size int64) (*Buffer, error) {
	if size <= 0 {
		return nil, fmt.Errorf("gpu: Alloc(%d): size must be positive", size)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return nil, err
	}
	blk, off, err := d.mem.alloc(uint64(size))
	if err != nil {
		return nil, err
	}
	b := &Buffer{d: d, blk: blk, off: off, size: uint64(size), cap: roundUp(max(uint64(size), 4), d.mem.align)}
	if err := b.zero(); err != nil {
		d.mem.release(blk, off, b.cap)
		return nil, err
	}
	return b, nil
}

// zero clears the whole reserved range. d.mu is held.
func (b *Buffer) zero() error {
	if b.blk.mapped != nil {
		clear(unsafe.Slice((*byte)(unsafe.Add(b.blk.mapped, b.off)), b.cap))
		return nil
	}
	return b.d.runOnce("zero-filling a buffer", func(cmd vk.CommandBuffer) {
		vk.CmdFillBuffer(cmd, b.blk.buf, vk.DeviceSize(b.off), vk.DeviceSize(b.cap), 0)
	})
}

// Size is the buffer's length in bytes.
func (b *Buffer) Size() int64 { return int64(b.size) }

// View returns the sub-range [off, off+size) of b as a buffer of its own,
// for binding part of a larger allocation (an arena). off must be a
// multiple of the device's storage-buffer offset alignment (MemoryStats).
// Views share b's memory and must not outlive it; they are not freed.
func (b *Buffer) View(off, size int64) (*Buffer, error) {
	if off < 0 || size <= 0 || uint64(off+size) > b.size {
		return nil, fmt.Errorf("gpu: View(%d, %d) outside a %d-byte buffer", off, size, b.size)
	}
	if uint64(off)%b.d.mem.align != 0 {
		return nil, fmt.Errorf("gpu: View offset %d is not a multiple of the binding alignment %d", off, b.d.mem.align)
	}
	return &Buffer{d: b.d, blk: b.blk, off: b.off + uint64(off), size: uint64(size), cap: uint64(size), parent: b}, nil
}

// TexelBindable says whether b can be bound with ReadTexels: the device
// has such bindings (Info.TexelReads), b starts at a multiple of the
// device's texel-buffer offset alignment and its vec4 texels are within
// the device's limit on their number.
func (b *Buffer) TexelBindable() bool {
	info := &b.d.Info
	return info.TexelReads && b.off%info.MinTexelBufferAlign == 0 && b.texels() <= uint64(info.MaxTexelBufferElements)
}

// texels is the number of vec4 texels that cover b. Past a size that is
// not a multiple of 16 bytes the last one reaches beyond b, but not into
// another buffer (each starts at a multiple of the binding alignment, at
// least 16 bytes), nor past b's block (a multiple of it too); a shader
// reading texels reads only b's elements of it.
func (b *Buffer) texels() uint64 { return (b.size + 15) / 16 }

// Free returns the buffer's memory to the allocator. Freeing twice, or
// freeing a view, is a no-op.
func (b *Buffer) Free() {
	if b.parent != nil {
		return
	}
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	if b.freed || b.d.closed {
		return
	}
	b.freed = true
	b.d.mem.release(b.blk, b.off, b.cap)
}

func (b *Buffer) checkRange(call string, off int64, n int) error {
	if b.freed || (b.parent != nil && b.parent.freed) {
		return fmt.Errorf("gpu: %s on a freed buffer", call)
	}
	if off < 0 || uint64(off)+uint64(n) > b.size {
		return fmt.Errorf("gpu: %s of %d bytes at offset %d outside a %d-byte buffer", call, n, off, b.size)
	}
	return nil
}

// Write copies data into the buffer at byte offset off.
func (b *Buffer) Write(off int64, data []byte) error {
	if err := b.checkRange("Write", off, len(data)); err != nil {
		return err
	}
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	if err := b.d.usable(); err != nil {
		return err
	}
	if b.blk.mapped != nil {
		copy(unsafe.Slice((*byte)(unsafe.Add(b.blk.mapped, b.off+uint64(off))), len(data)), data)
		return nil
	}
	return b.d.staged(b, uint64(off), data, true)
}

// Read copies len(out) bytes from byte offset off into out.
func (b *Buffer) Read(off int64, out []byte) error {
	if err := b.checkRange("Read", off, len(out)); err != nil {
		return err
	}
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	if err := b.d.usable(); err != nil {
		return err
	}
	if b.blk.mapped != nil {
		copy(out, unsafe.Slice((*byte)(unsafe.Add(b.blk.mapped, b.off+uint64(off))), len(out)))
		return nil
	}
	return b.d.staged(b, uint64(off), out, false)
}

// WriteFloat32 copies v into the buffer starting at element i.
func (b *Buffer) WriteFloat32(i int, v []float32) error {
	return b.Write(int64(i)*4, Float32Bytes(v))
}

// ReadFloat32 fills out from the buffer starting at element i.
func (b *Buffer) ReadFloat32(i int, out []float32) error {
	return b.Read(int64(i)*4, Float32Bytes(out))
}

// Float32Bytes views v as bytes without copying.
func Float32Bytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

// stagingBuffer is host-visible memory for copies to and from device
// memory the host cannot map.
type stagingBuffer struct {
	mem    vk.DeviceMemory
	buf    vk.Buffer
	size   uint64
	mapped unsafe.Pointer
}

const stagingChunk = 16 << 20

// staged copies between host memory p and b through the staging buffer,
// in chunks. d.mu is held.
func (d *Device) staged(b *Buffer, off uint64, p []byte, toDevice bool) error {
	if d.staging == nil {
		s, err := d.newStaging(stagingChunk)
		if err != nil {
			return err
		}
		d.staging = s
	}
	s := d.staging
	for done := uint64(0); done < uint64(len(p)); {
		n := min(uint64(len(p))-done, s.size)
		host := unsafe.Slice((*byte)(s.mapped), n)
		var err error
		if toDevice {
			copy(host, p[done:done+n])
			err = d.runOnce("uploading a buffer", func(cmd vk.CommandBuffer) { d.copyBuffer(cmd, s.buf, b.blk.buf, 0, b.off+off+done, n) })
		} else {
			err = d.runOnce("downloading a buffer", func(cmd vk.CommandBuffer) { d.copyBuffer(cmd, b.blk.buf, s.buf, b.off+off+done, 0, n) })
			copy(p[done:done+n], host)
		}
		if err != nil {
			return err
		}
		done += n
	}
	return nil
}

func (d *Device) newStaging(size uint64) (*stagingBuffer, error) {
	buf, err := d.mem.newVkBuffer(size)
	if err != nil {
		return nil, fmt.Errorf("gpu: staging buffer: %w", err)
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(d.dev, buf, &req)
	req.Deref()
	best := -1
	for i, t := range d.Info.MemoryTypes {
		if req.MemoryTypeBits&(1<<i) == 0 || !t.HostVisible || !t.HostCoherent {
			continue
		}
		if best < 0 || (t.HostCached && !d.Info.MemoryTypes[best].HostCached) {
			best = i
		}
	}
	if best < 0 {
		vk.DestroyBuffer(d.dev, buf, nil)
		return nil, fmt.Errorf("gpu: %s has no host-visible coherent memory for staging: %w", d.Info.Name, ErrNoDevice)
	}
	var mem vk.DeviceMemory
	if err := check("vkAllocateMemory", vk.AllocateMemory(d.dev, &vk.MemoryAllocateInfo{
		SType: vk.StructureTypeMemoryAllocateInfo, AllocationSize: req.Size, MemoryTypeIndex: uint32(best),
	}, nil, &mem)); err != nil {
		vk.DestroyBuffer(d.dev, buf, nil)
		return nil, fmt.Errorf("gpu: staging buffer: %w", err)
	}
	s := &stagingBuffer{buf: buf, size: size, mem: mem}
	if err := check("vkBindBufferMemory", vk.BindBufferMemory(d.dev, buf, s.mem, 0)); err != nil {
		s.destroy(d.dev)
		return nil, fmt.Errorf("gpu: staging buffer: %w", err)
	}
	var mapped unsafe.Pointer
	if err := check("vkMapMemory", vk.MapMemory(d.dev, s.mem, 0, vk.DeviceSize(vk.WholeSize), 0, &mapped)); err != nil {
		s.destroy(d.dev)
		return nil, fmt.Errorf("gpu: staging buffer: %w", err)
	}
	s.mapped = mapped
	return s, nil
}

func (s *stagingBuffer) destroy(dev vk.Device) {
	vk.DestroyBuffer(dev, s.buf, nil)
	if s.mem != vk.NullDeviceMemory {
		vk.FreeMemory(dev, s.mem, nil)
	}
}
