package gpu

/*
#include <stdlib.h>
#include "vkshim.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// Presentation asks Open for a device that can present to a window
// (Options.Present). Package gpu/window fills it from GLFW; gpu itself
// knows no window system.
type Presentation struct {
	// InstanceExtensions are the instance extensions the window system's
	// surfaces need (GLFW's required list: VK_KHR_surface and, on X11,
	// VK_KHR_xcb_surface). The instance enables exactly these besides its
	// own.
	InstanceExtensions []string
	// Surface creates the window's surface (a VkSurfaceKHR) on the new
	// instance (a VkInstance). Open calls it once, before it chooses the
	// device; the surface is destroyed with the device.
	Surface func(instance unsafe.Pointer) (surface unsafe.Pointer, err error)
}

// presentExtensions converts p's instance extensions to C strings (none
// without p); free releases them.
func presentExtensions(p *Presentation) (names []*C.char, free func(), err error) {
	free = func() {
		for _, n := range names {
			C.free(unsafe.Pointer(n))
		}
	}
	if p == nil {
		return nil, free, nil
	}
	if p.Surface == nil {
		panic("gpu: a Presentation needs its Surface function")
	}
	var missing []string
	for _, e := range p.InstanceExtensions {
		if !hasInstanceExtension(e) {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		return nil, free, fmt.Errorf("gpu: the Vulkan loader lacks the window-surface extensions %s: install a driver that presents to this display (mesa-vulkan-drivers), or write frames to files instead of a window (--frames DIR)",
			strings.Join(missing, ", "))
	}
	if len(p.InstanceExtensions) > 8 {
		return nil, free, fmt.Errorf("gpu: %d window-surface extensions requested (at most 8)", len(p.InstanceExtensions))
	}
	for _, e := range p.InstanceExtensions {
		names = append(names, C.CString(e))
	}
	return names, free, nil
}

// choosePresenting creates p's surface on the instance, then chooses the
// device sel names (or the most capable one) when it can present to it,
// else the most capable device that can; note then says so. A device
// presents from a queue family that also computes, so that composing and
// presenting share one queue.
func (in *instance) choosePresenting(p *Presentation, infos []Info, sel string) (int, string, error) {
	s, err := p.Surface(unsafe.Pointer(in.inst))
	if err != nil {
		return -1, "", fmt.Errorf("gpu: creating the window's Vulkan surface: %w", err)
	}
	in.surface = C.VkSurfaceKHR(s)
	presents := make([]bool, len(infos))
	for i := range infos {
		presents[i] = in.presentFamily(&infos[i])
	}
	return choosePresenting(infos, presents, sel)
}

// choosePresenting picks the device sel names (or the most capable one)
// when it presents, else the most capable one that does, with a note
// saying so.
func choosePresenting(infos []Info, presents []bool, sel string) (int, string, error) {
	want, err := choose(infos, sel)
	if err != nil {
		return -1, "", err
	}
	if presents[want] {
		return want, "", nil
	}
	var presenting []Info
	for i, p := range presents {
		if p {
			presenting = append(presenting, infos[i])
		}
	}
	if len(presenting) == 0 {
		return -1, "", fmt.Errorf("gpu: no Vulkan device can present to this display (none has VK_KHR_swapchain and a compute queue that presents to the window): %w; write frames to files instead (--frames DIR)", ErrNoDevice)
	}
	best, err := choose(presenting, "")
	if err != nil {
		return -1, "", err
	}
	idx := presenting[best].Index
	return idx, fmt.Sprintf("%s cannot present to this display; the viewer composes and presents on %s", infos[want].Name, infos[idx].Name), nil
}

// presentFamily reports whether info's device can present to the
// instance's surface, and points info.QueueFamily at a family that
// computes and presents (its own choice when that one presents).
func (in *instance) presentFamily(info *Info) bool {
	if !info.Usable() || !deviceExtensions(in, info.pd)["VK_KHR_swapchain"] {
		return false
	}
	presents := func(family int) bool {
		return C.nvk_surface_support(in.gipa, in.inst, C.VkPhysicalDevice(unsafe.Pointer(info.pd)), C.uint32_t(family), in.surface) != 0
	}
	if presents(info.QueueFamily) {
		return true
	}
	for i, q := range queueFamilies(in, info.pd) {
		if q.queueFlags&C.VK_QUEUE_COMPUTE_BIT != 0 && q.queueCount > 0 && presents(i) {
			info.QueueFamily, info.TimestampValidBits = i, int(q.timestampValidBits)
			return true
		}
	}
	return false
}

// PresentNote says, for a device opened with Options.Present, why it is
// not the device that was asked for (empty when it is).
func (d *Device) PresentNote() string { return d.presentNote }

// Handles are the raw Vulkan objects behind a Device, for a package that
// makes Vulkan calls of its own on it (gpu/window presents with them).
// They stay valid until Close.
type Handles struct {
	// GetInstanceProcAddr is the loader's vkGetInstanceProcAddr.
	GetInstanceProcAddr unsafe.Pointer
	Instance            unsafe.Pointer // VkInstance
	PhysicalDevice      unsafe.Pointer // VkPhysicalDevice
	Device              unsafe.Pointer // VkDevice
	QueueFamily         uint32
	// Surface is the Presentation's VkSurfaceKHR (nil without one).
	Surface unsafe.Pointer
}

// Handles returns the device's raw Vulkan objects.
func (d *Device) Handles() Handles {
	return Handles{
		GetInstanceProcAddr: unsafe.Pointer(d.in.gipa),
		Instance:            unsafe.Pointer(d.in.inst),
		PhysicalDevice:      unsafe.Pointer(d.Info.pd),
		Device:              unsafe.Pointer(d.cdev),
		QueueFamily:         uint32(d.Info.QueueFamily),
		Surface:             unsafe.Pointer(d.in.surface),
	}
}

// WithQueue runs fn with the device's queue (a VkQueue) under the lock
// that serialises every other use of it (Program.Run, uploads,
// downloads): a VkQueue is externally synchronised, so work submitted
// from outside this package goes through here. fn must not call methods
// of d. A *VkError from fn with VK_ERROR_DEVICE_LOST marks the device
// lost.
func (d *Device) WithQueue(fn func(queue unsafe.Pointer) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	return d.lostIf(fn(unsafe.Pointer(d.queue)))
}

// Handle returns the VkBuffer that holds b and b's byte offset in it,
// for copies recorded outside this package.
func (b *Buffer) Handle() (buffer unsafe.Pointer, offset uint64) {
	return unsafe.Pointer(b.blk.buf), b.off
}
