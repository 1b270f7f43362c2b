package gpu

/*
#include "vkshim.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Device is an opened Vulkan device with one compute queue, a memory
// allocator and a pipeline cache. Its methods are safe for concurrent use;
// work is serialised on the single queue.
type Device struct {
	// Info describes the device; Info.Enabled* say which optional features were enabled.
	Info Info
	// SubmitTimeout bounds the wait for one submission (default 10 minutes).
	SubmitTimeout time.Duration
	// MaxOpsPerSubmit splits a program of more operations into several
	// command buffers, submitted one after another, so that no single
	// submission runs long enough to trip a GPU watchdog and no command
	// buffer grows without bound (default 16384; it applies to programs
	// finished after it is set).
	MaxOpsPerSubmit int

	mu      sync.Mutex
	in      *instance
	dev     vk.Device
	cdev    C.VkDevice
	queue   vk.Queue
	cmds    C.nvk_cmds
	pool    vk.CommandPool
	oneShot vk.CommandBuffer
	fence   vk.Fence
	mem     *allocator
	staging *stagingBuffer
	kernels map[kernelKey]*Kernel
	modules map[[32]byte]vk.ShaderModule
	progs   map[*Program]struct{}
	lost    bool
	closed  bool
	faults  map[string]vk.Result // injected by tests (export_test.go)
	// presentNote says why a presenting device is not the one asked for.
	presentNote string
}

// Open creates a Vulkan instance and opens the device o selects.
func Open(o Options) (*Device, error) {
	in, err := newInstance(o)
	if err != nil {
		return nil, err
	}
	infos, err := enumerate(in)
	if err != nil {
		in.close()
		return nil, err
	}
	var idx int
	var note string
	if o.Present != nil {
		idx, note, err = in.choosePresenting(o.Present, infos, o.Device)
	} else {
		idx, err = choose(infos, o.Device)
	}
	if err != nil {
		in.close()
		return nil, err
	}
	info := infos[idx]
	info.Selected = true
	d := &Device{
		Info:            info,
		SubmitTimeout:   10 * time.Minute,
		MaxOpsPerSubmit: 16384,
		presentNote:     note,
		in:              in,
		kernels:         map[kernelKey]*Kernel{},
		modules:         map[[32]byte]vk.ShaderModule{},
		progs:           map[*Program]struct{}{},
	}
	if err := d.create(o); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Device) create(o Options) error {
	en := C.nvk_enable{
		float32_atomic_add:        cbool(d.Info.Float32AtomicAdd),
		float32_atomic_add_shared: cbool(d.Info.Float32AtomicAddShared),
		shader_float16:            cbool(d.Info.ShaderFloat16),
		storage_buffer_16bit:      cbool(d.Info.StorageBuffer16Bit),
		swapchain:                 cbool(o.Present != nil),
	}
	r := C.nvk_create_device(d.in.gipa, d.in.inst, C.VkPhysicalDevice(unsafe.Pointer(d.Info.pd)),
		C.uint32_t(d.Info.QueueFamily), &d.Info.support, &en, &d.cdev)
	if err := check("vkCreateDevice", vk.Result(r)); err != nil {
		return fmt.Errorf("gpu: opening %s: %w", d.Info.Name, err)
	}
	d.dev = vk.Device(unsafe.Pointer(d.cdev))
	C.nvk_load_cmds(d.in.gipa, d.in.inst, d.cdev, &d.cmds)
	var q vk.Queue
	vk.GetDeviceQueue(d.dev, uint32(d.Info.QueueFamily), 0, &q)
	d.queue = q

	var pool vk.CommandPool
	if err := check("vkCreateCommandPool", vk.CreateCommandPool(d.dev, &vk.CommandPoolCreateInfo{
		SType:            vk.StructureTypeCommandPoolCreateInfo,
		Flags:            vk.CommandPoolCreateFlags(vk.CommandPoolCreateResetCommandBufferBit),
		QueueFamilyIndex: uint32(d.Info.QueueFamily),
	}, nil, &pool)); err != nil {
		return fmt.Errorf("gpu: %w", err)
	}
	d.pool = pool
	var err error
	if d.oneShot, err = d.allocCommandBuffer(); err != nil {
		return err
	}
	if d.fence, err = d.newFence(); err != nil {
		return err
	}
	d.mem, err = newAllocator(d, o.BlockSize)
	return err
}

func (d *Device) allocCommandBuffer() (vk.CommandBuffer, error) {
	cbs := make([]vk.CommandBuffer, 1)
	if err := check("vkAllocateCommandBuffers", vk.AllocateCommandBuffers(d.dev, &vk.CommandBufferAllocateInfo{
		SType:              vk.StructureTypeCommandBufferAllocateInfo,
		CommandPool:        d.pool,
		Level:              vk.CommandBufferLevelPrimary,
		CommandBufferCount: 1,
	}, cbs)); err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	return cbs[0], nil
}

func (d *Device) newFence() (vk.Fence, error) {
	var f vk.Fence
	if err := check("vkCreateFence", vk.CreateFence(d.dev, &vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}, nil, &f)); err != nil {
		return f, fmt.Errorf("gpu: %w", err)
	}
	return f, nil
}

// Messages returns the validation-layer messages collected so far (nil
// without Options.Validate).
func (d *Device) Messages() []Message { return d.in.messages() }

// fault returns an injected result for call, for tests of failure paths.
func (d *Device) fault(call string) (vk.Result, bool) {
	r, ok := d.faults[call]
	return r, ok
}

// usable returns the error that forbids new work, if any. d.mu is held.
func (d *Device) usable() error {
	if d.closed {
		return ErrClosed
	}
	if d.lost {
		return fmt.Errorf("gpu: %s: %w", d.Info.Name, ErrDeviceLost)
	}
	return nil
}

// submitWait submits cmd and waits for it with fence, returning how long
// it waited. d.mu is held.
func (d *Device) submitWait(call string, cmd vk.CommandBuffer, fence vk.Fence) (time.Duration, error) {
	if err := d.usable(); err != nil {
		return 0, err
	}
	r, injected := d.fault("vkQueueSubmit")
	if !injected {
		r = vk.Result(C.nvk_submit(&d.cmds, C.VkQueue(unsafe.Pointer(d.queue)), C.VkCommandBuffer(unsafe.Pointer(cmd)),
			C.VkFence(unsafe.Pointer(fence))))
	}
	if err := d.lostIf(check("vkQueueSubmit", r)); err != nil {
		return 0, fmt.Errorf("gpu: %s: %w", call, err)
	}
	start := time.Now()
	r, injected = d.fault("vkWaitForFences")
	if !injected {
		// Waits, then resets the fence for the next submission.
		r = vk.Result(C.nvk_wait(&d.cmds, d.cdev, C.VkFence(unsafe.Pointer(fence)), C.uint64_t(d.SubmitTimeout.Nanoseconds())))
	}
	wait := time.Since(start)
	if r == vk.Timeout {
		// The queue still owns the work; treat the device as unusable.
		d.lost = true
		return wait, fmt.Errorf("gpu: %s: no completion within %v (raise Device.SubmitTimeout for very long work): %w", call, d.SubmitTimeout, ErrDeviceLost)
	}
	if err := d.lostIf(check("vkWaitForFences", r)); err != nil {
		return wait, fmt.Errorf("gpu: %s: %w", call, err)
	}
	return wait, nil
}

// lostIf marks the device lost when err says so.
func (d *Device) lostIf(err error) error {
	if e, ok := err.(*VkError); ok && e.Result == vk.ErrorDeviceLost {
		d.lost = true
	}
	return err
}

// copyBuffer records a copy of size bytes from src at srcOff to dst at
// dstOff into cmd (through vkshim.c: see nvk_cmd_copy).
func (d *Device) copyBuffer(cmd vk.CommandBuffer, src, dst vk.Buffer, srcOff, dstOff, size uint64) {
	C.nvk_cmd_copy(&d.cmds, C.VkCommandBuffer(unsafe.Pointer(cmd)), C.VkBuffer(unsafe.Pointer(src)), C.VkBuffer(unsafe.Pointer(dst)),
		C.VkDeviceSize(srcOff), C.VkDeviceSize(dstOff), C.VkDeviceSize(size))
}

// runOnce records with rec into the one-shot command buffer, submits it and
// waits. d.mu is held.
func (d *Device) runOnce(call string, rec func(cmd vk.CommandBuffer)) error {
	if err := d.usable(); err != nil {
		return err
	}
	cmd := d.oneShot
	if err := check("vkBeginCommandBuffer", vk.BeginCommandBuffer(cmd, &vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo,
		Flags: vk.CommandBufferUsageFlags(vk.CommandBufferUsageOneTimeSubmitBit),
	})); err != nil {
		return fmt.Errorf("gpu: %s: %w", call, err)
	}
	rec(cmd)
	C.nvk_cmd_barrier(&d.cmds, C.VkCommandBuffer(unsafe.Pointer(cmd)), 1)
	if err := check("vkEndCommandBuffer", vk.EndCommandBuffer(cmd)); err != nil {
		return fmt.Errorf("gpu: %s: %w", call, err)
	}
	_, err := d.submitWait(call, cmd, d.fence)
	return err
}

// Close waits for the device to go idle and destroys every object it
// created: programs, kernels, memory, the device and the instance.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.dev != nil {
		vk.DeviceWaitIdle(d.dev)
		for p := range d.progs {
			p.destroy()
		}
		for _, k := range d.kernels {
			k.destroy(d.dev)
		}
		for _, m := range d.modules {
			vk.DestroyShaderModule(d.dev, m, nil)
		}
		if d.mem != nil {
			d.mem.destroy()
		}
		if d.staging != nil {
			d.staging.destroy(d.dev)
		}
		if d.fence != vk.NullFence {
			vk.DestroyFence(d.dev, d.fence, nil)
		}
		if d.pool != vk.NullCommandPool {
			vk.DestroyCommandPool(d.dev, d.pool, nil)
		}
		vk.DestroyDevice(d.dev, nil)
	}
	d.in.close()
	return nil
}
