// Package gpu is noether-vk's Vulkan runtime: it opens a device, manages
// its memory, builds compute pipelines from SPIR-V, and records dispatches
// into command buffers that are replayed many times.
//
// It knows nothing of tensors or models; kernels and graph build on it.
//
// # Opening a device
//
//	d, err := gpu.Open(gpu.OptionsFromEnv())
//	if err != nil { ... }         // errors.Is(err, gpu.ErrNoLoader), ErrNoDevice, ...
//	defer d.Close()
//
// The loader (libvulkan.so.1) is opened at run time with dlopen, so the
// binary needs only the runtime package and reports a missing loader as
// ErrNoLoader instead of failing to start. Devices are chosen by
// NOETHER_VK_DEVICE (an index or a name substring), else discrete >
// integrated > virtual > CPU (lavapipe). NOETHER_VK_VALIDATE=1 turns on
// VK_LAYER_KHRONOS_validation; its messages collect in Device.Messages
// (tests fail on any). NOETHER_VK_VALIDATE=sync adds synchronization
// validation.
//
// Device facts that vulkan-go cannot query (subgroup size and operations,
// float atomics, fp16, 16-bit storage, driver name) come from a small cgo
// shim (vkshim.c) against the system Vulkan header.
//
// # Memory
//
// Device.Alloc returns zero-filled Buffers carved from 64 MiB blocks, each
// one VkDeviceMemory with one VkBuffer over it, aligned to
// minStorageBufferOffsetAlignment. Memory types are tried in order:
// device-local and mappable (unified memory: lavapipe, integrated GPUs,
// resizable BAR), then device-local through a staging buffer, then host
// memory. A buffer over Device.MaxBufferSize (maxStorageBufferRange or
// maxMemoryAllocationSize) is ErrTooLarge, one over a heap or over
// maxMemoryAllocationCount ErrOutOfDeviceMemory; none reaches the driver.
//
// # Recording and replay
//
//	r := d.NewRecorder()
//	r.Dispatch(k, d.Grid(k, n), gpu.Push{}.U32(uint32(n)).F32(alpha), x, y)
//	p, err := r.Finish()       // records one command buffer, once
//	err = p.Run()              // submit + wait; repeat as often as needed
//
// A Kernel declares each binding's Access; Finish inserts a global memory
// barrier only before an operation that reads what an earlier operation of
// the same barrier interval wrote, or writes what it read or wrote
// (Program.Barriers counts them). Descriptor sets are deduplicated and
// allocated from a pool sized for the program, so they cannot run out
// mid-run. Recorder.Profile adds timestamps; Program.Profile returns the
// GPU time of each operation. A binding declared ReadTexels is bound as a
// uniform texel buffer of vec4 (a view per range, made with the sets): on
// lavapipe a texel fetch loads each lane's value without the loop, branch
// and bounds check per lane of a storage-buffer load at lane-dependent
// addresses.
//
// # Presenting
//
// Options.Present opens a device that can present to a window: the
// instance enables the window system's surface extensions, the window's
// surface is made on it (Presentation.Surface), the device asked for is
// taken when one of its compute queue families presents to the surface,
// else the most capable device that can (PresentNote says so: an NVIDIA
// GPU cannot present to Xvfb, lavapipe can), and VK_KHR_swapchain is
// enabled. gpu/window builds the swapchain on Handles; its submissions
// and presents go through WithQueue, which serialises them with every
// other use of the queue (a VkQueue is externally synchronised).
//
// # lavapipe threads
//
// lavapipe splits every dispatch over LP_NUM_THREADS worker threads
// (default: one per CPU). Options.SetLavapipeThreads / NOETHER_VK_LP_THREADS
// set it before the instance is created. The trade-off measured on this
// project's 2-core development machines is in the README: 0 threads cut
// the per-dispatch cost by an order of magnitude (no worker wake-ups), while
// large kernels run on one core. Real GPU drivers ignore the setting.
package gpu
