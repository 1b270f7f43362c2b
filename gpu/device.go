package gpu

/*
#include "vkshim.h"
*/
import "C"

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// DeviceType is the kind of a physical device.
type DeviceType int

// Device types, ordered by preference when no device is requested.
const (
	TypeOther DeviceType = iota
	TypeCPU
	TypeVirtual
	TypeIntegrated
	TypeDiscrete
)

func (t DeviceType) String() string {
	return [...]string{"other", "cpu", "virtual", "integrated", "discrete"}[t]
}

func deviceType(t vk.PhysicalDeviceType) DeviceType {
	switch t {
	case vk.PhysicalDeviceTypeDiscreteGpu:
		return TypeDiscrete
	case vk.PhysicalDeviceTypeIntegratedGpu:
		return TypeIntegrated
	case vk.PhysicalDeviceTypeVirtualGpu:
		return TypeVirtual
	case vk.PhysicalDeviceTypeCpu:
		return TypeCPU
	}
	return TypeOther
}

// Heap is one memory heap.
type Heap struct {
	Size        uint64 `json:"size"`
	DeviceLocal bool   `json:"device_local"`
}

// MemoryType is one memory type with its property flags spelled out.
type MemoryType struct {
	Heap         int  `json:"heap"`
	DeviceLocal  bool `json:"device_local"`
	HostVisible  bool `json:"host_visible"`
	HostCoherent bool `json:"host_coherent"`
	HostCached   bool `json:"host_cached"`
}

// Info describes a physical device: identity, driver, memory, compute
// limits and the optional features kernels may use.
type Info struct {
	Index         int        `json:"index"`
	Name          string     `json:"name"`
	Type          DeviceType `json:"-"`
	TypeName      string     `json:"type"`
	VendorID      uint32     `json:"vendor_id"`
	DeviceID      uint32     `json:"device_id"`
	DriverName    string     `json:"driver_name"`
	DriverInfo    string     `json:"driver_info"`
	DriverVersion string     `json:"driver_version"`
	APIVersion    string     `json:"api_version"`
	api           uint32

	Heaps       []Heap       `json:"heaps"`
	MemoryTypes []MemoryType `json:"memory_types"`

	QueueFamily        int  `json:"queue_family"`
	TimestampValidBits int  `json:"timestamp_valid_bits"`
	HasCompute         bool `json:"has_compute"`

	SubgroupSize       uint32    `json:"subgroup_size"`
	SubgroupSizeRange  [2]uint32 `json:"subgroup_size_range"`
	SubgroupOperations []string  `json:"subgroup_operations"`
	SubgroupInCompute  bool      `json:"subgroup_in_compute"`

	MaxWorkgroupSize        [3]uint32 `json:"max_workgroup_size"`
	MaxWorkgroupInvocations uint32    `json:"max_workgroup_invocations"`
	MaxWorkgroupCount       [3]uint32 `json:"max_workgroup_count"`
	SharedMemory            uint32    `json:"shared_memory_bytes"`
	MaxStorageBufferRange   uint64    `json:"max_storage_buffer_range"`
	MaxPushConstants        uint32    `json:"max_push_constants_bytes"`
	MinStorageBufferAlign   uint64    `json:"min_storage_buffer_offset_alignment"`
	MinTexelBufferAlign     uint64    `json:"min_texel_buffer_offset_alignment"`
	MaxTexelBufferElements  uint32    `json:"max_texel_buffer_elements"`
	// TexelReads: the device has uniform texel buffers of
	// R32G32B32A32_SFLOAT (Vulkan makes them mandatory), which ReadTexels
	// bindings are.
	TexelReads           bool   `json:"texel_reads"`
	NonCoherentAtomSize  uint64 `json:"non_coherent_atom_size"`
	MaxMemoryAllocations uint32 `json:"max_memory_allocations"`
	// MaxAllocationSize is the largest single VkDeviceMemory the driver
	// promises to allocate (maxMemoryAllocationSize, Vulkan 1.1).
	MaxAllocationSize      uint64  `json:"max_memory_allocation_size"`
	MaxStorageBuffersStage uint32  `json:"max_storage_buffers_per_stage"`
	TimestampPeriodNs      float32 `json:"timestamp_period_ns"`

	Float32AtomicAdd       bool `json:"float32_atomic_add"`
	Float32AtomicAddShared bool `json:"float32_atomic_add_shared"`
	ShaderFloat16          bool `json:"shader_float16"`
	StorageBuffer16Bit     bool `json:"storage_buffer_16bit"`
	ShaderFloat64          bool `json:"shader_float64"`
	ShaderInt64            bool `json:"shader_int64"`

	Selected bool `json:"selected"`

	pd      vk.PhysicalDevice
	support C.nvk_support
}

// Usable reports whether noether-vk can run on the device.
func (i *Info) Usable() bool { return i.HasCompute && i.api >= vk.MakeVersion(1, 1, 0) }

var subgroupOpNames = []string{"basic", "vote", "arithmetic", "ballot", "shuffle", "shuffle_relative", "clustered", "quad"}

func enumerate(in *instance) ([]Info, error) {
	var n uint32
	if err := check("vkEnumeratePhysicalDevices", vk.EnumeratePhysicalDevices(in.vkInstance(), &n, nil)); err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	pds := make([]vk.PhysicalDevice, n)
	if n > 0 {
		if err := check("vkEnumeratePhysicalDevices", vk.EnumeratePhysicalDevices(in.vkInstance(), &n, pds)); err != nil {
			return nil, fmt.Errorf("gpu: %w", err)
		}
	}
	infos := make([]Info, 0, n)
	for i, pd := range pds[:n] {
		infos = append(infos, describe(in, i, pd))
	}
	return infos, nil
}

func describe(in *instance, index int, pd vk.PhysicalDevice) Info {
	var p vk.PhysicalDeviceProperties
	vk.GetPhysicalDeviceProperties(pd, &p)
	p.Deref()
	p.Limits.Deref()
	info := Info{
		Index:    index,
		Name:     cstr(p.DeviceName[:]),
		Type:     deviceType(p.DeviceType),
		VendorID: p.VendorID,
		DeviceID: p.DeviceID,
		api:      p.ApiVersion,
		pd:       pd,
	}
	info.TypeName = info.Type.String()
	info.APIVersion = versionString(p.ApiVersion)
	info.DriverVersion = driverVersion(p.VendorID, p.DriverVersion)
	l := p.Limits
	info.MaxWorkgroupSize = l.MaxComputeWorkGroupSize
	info.MaxWorkgroupInvocations = l.MaxComputeWorkGroupInvocations
	info.MaxWorkgroupCount = l.MaxComputeWorkGroupCount
	info.SharedMemory = l.MaxComputeSharedMemorySize
	info.MaxStorageBufferRange = uint64(l.MaxStorageBufferRange)
	info.MaxPushConstants = l.MaxPushConstantsSize
	info.MinStorageBufferAlign = uint64(l.MinStorageBufferOffsetAlignment)
	info.MinTexelBufferAlign = max(uint64(l.MinTexelBufferOffsetAlignment), 1)
	info.MaxTexelBufferElements = l.MaxTexelBufferElements
	var fp vk.FormatProperties
	vk.GetPhysicalDeviceFormatProperties(pd, vk.FormatR32g32b32a32Sfloat, &fp)
	fp.Deref()
	info.TexelReads = vk.FormatFeatureFlagBits(fp.BufferFeatures)&vk.FormatFeatureUniformTexelBufferBit != 0
	info.NonCoherentAtomSize = uint64(l.NonCoherentAtomSize)
	info.MaxMemoryAllocations = l.MaxMemoryAllocationCount
	info.MaxStorageBuffersStage = l.MaxPerStageDescriptorStorageBuffers
	info.TimestampPeriodNs = l.TimestampPeriod

	var mp vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(pd, &mp)
	mp.Deref()
	for h := uint32(0); h < mp.MemoryHeapCount; h++ {
		mp.MemoryHeaps[h].Deref()
		hp := mp.MemoryHeaps[h]
		info.Heaps = append(info.Heaps, Heap{Size: uint64(hp.Size), DeviceLocal: hp.Flags&vk.MemoryHeapFlags(vk.MemoryHeapDeviceLocalBit) != 0})
	}
	for t := uint32(0); t < mp.MemoryTypeCount; t++ {
		mp.MemoryTypes[t].Deref()
		f := mp.MemoryTypes[t].PropertyFlags
		info.MemoryTypes = append(info.MemoryTypes, MemoryType{
			Heap:         int(mp.MemoryTypes[t].HeapIndex),
			DeviceLocal:  f&vk.MemoryPropertyFlags(vk.MemoryPropertyDeviceLocalBit) != 0,
			HostVisible:  f&vk.MemoryPropertyFlags(vk.MemoryPropertyHostVisibleBit) != 0,
			HostCoherent: f&vk.MemoryPropertyFlags(vk.MemoryPropertyHostCoherentBit) != 0,
			HostCached:   f&vk.MemoryPropertyFlags(vk.MemoryPropertyHostCachedBit) != 0,
		})
	}

	info.QueueFamily = -1
	// Prefer a compute family without graphics (async compute on real
	// GPUs), but only one that can time dispatches, when one exists.
	best := -1
	for i, q := range queueFamilies(in, pd) {
		if q.queueFlags&C.VK_QUEUE_COMPUTE_BIT == 0 || q.queueCount == 0 {
			continue
		}
		score := 0
		if q.timestampValidBits > 0 {
			score += 2
		}
		if q.queueFlags&C.VK_QUEUE_GRAPHICS_BIT == 0 {
			score++
		}
		if score > best {
			best, info.QueueFamily, info.TimestampValidBits = score, i, int(q.timestampValidBits)
		}
	}
	info.HasCompute = info.QueueFamily >= 0

	exts := deviceExtensions(in, pd)
	sup := C.nvk_support{api_version: C.uint32_t(min(p.ApiVersion, in.api))}
	v12 := uint32(sup.api_version) >= vk.MakeVersion(1, 2, 0)
	sup.ext_atomic_float = cbool(exts["VK_EXT_shader_atomic_float"])
	sup.ext_float16_int8 = cbool(v12 || exts["VK_KHR_shader_float16_int8"])
	sup.ext_driver_props = cbool(v12 || exts["VK_KHR_driver_properties"])
	sup.ext_subgroup_control = cbool(uint32(sup.api_version) >= vk.MakeVersion(1, 3, 0) || exts["VK_EXT_subgroup_size_control"])
	info.support = sup
	var f C.nvk_facts
	C.nvk_query_facts(in.gipa, in.inst, C.VkPhysicalDevice(unsafe.Pointer(pd)), &sup, &f)
	info.SubgroupSize = uint32(f.subgroup_size)
	info.MaxAllocationSize = uint64(f.max_memory_allocation_size)
	info.SubgroupSizeRange = [2]uint32{info.SubgroupSize, info.SubgroupSize}
	if f.subgroup_size_control != 0 {
		info.SubgroupSizeRange = [2]uint32{uint32(f.min_subgroup_size), uint32(f.max_subgroup_size)}
	}
	for bit, name := range subgroupOpNames {
		if uint32(f.subgroup_ops)&(1<<bit) != 0 {
			info.SubgroupOperations = append(info.SubgroupOperations, name)
		}
	}
	info.SubgroupInCompute = uint32(f.subgroup_stages)&uint32(vk.ShaderStageComputeBit) != 0
	if f.has_driver_props != 0 {
		info.DriverName = C.GoString(&f.driver_name[0])
		info.DriverInfo = C.GoString(&f.driver_info[0])
	}
	info.Float32AtomicAdd = f.float32_atomic_add != 0
	info.Float32AtomicAddShared = f.float32_atomic_add_shared != 0
	info.ShaderFloat16 = f.shader_float16 != 0
	info.StorageBuffer16Bit = f.storage_buffer_16bit != 0
	info.ShaderFloat64 = f.shader_float64 != 0
	info.ShaderInt64 = f.shader_int64 != 0
	return info
}

func deviceExtensions(in *instance, pd vk.PhysicalDevice) map[string]bool {
	cpd := C.VkPhysicalDevice(unsafe.Pointer(pd))
	out := map[string]bool{}
	for _, e := range vkList(func(n *C.uint32_t, props *C.VkExtensionProperties) C.VkResult {
		return C.nvk_device_extensions(in.gipa, in.inst, cpd, n, props)
	}) {
		out[C.GoString(&e.extensionName[0])] = true
	}
	return out
}

// queueFamilies returns pd's queue families (through vkshim.c, see
// vkList).
func queueFamilies(in *instance, pd vk.PhysicalDevice) []C.VkQueueFamilyProperties {
	cpd := C.VkPhysicalDevice(unsafe.Pointer(pd))
	return vkList(func(n *C.uint32_t, props *C.VkQueueFamilyProperties) C.VkResult {
		C.nvk_queue_families(in.gipa, in.inst, cpd, n, props)
		return C.VK_SUCCESS // the query has no result
	})
}

// driverVersion decodes the vendor-specific packing of driverVersion.
func driverVersion(vendor, v uint32) string {
	if vendor == 0x10DE { // NVIDIA: 10.8.8.6 bits
		return fmt.Sprintf("%d.%d.%d.%d", v>>22, (v>>14)&0xff, (v>>6)&0xff, v&0x3f)
	}
	return versionString(v)
}

// choose picks the device named by sel (an index or a case-insensitive
// name substring), or the most capable usable one.
func choose(infos []Info, sel string) (int, error) {
	var names []string
	for _, in := range infos {
		names = append(names, fmt.Sprintf("%d: %s", in.Index, in.Name))
	}
	list := strings.Join(names, "; ")
	if len(infos) == 0 {
		return -1, fmt.Errorf("gpu: the Vulkan loader found no physical device: %w", ErrNoDevice)
	}
	if sel != "" {
		if i, err := strconv.Atoi(sel); err == nil {
			if i < 0 || i >= len(infos) {
				return -1, fmt.Errorf("gpu: device index %d out of range (devices: %s): %w", i, list, ErrNoDevice)
			}
			if !infos[i].Usable() {
				return -1, fmt.Errorf("gpu: device %d (%s) has no compute queue or predates Vulkan 1.1: %w", i, infos[i].Name, ErrNoDevice)
			}
			return i, nil
		}
		for _, in := range infos {
			if in.Usable() && strings.Contains(strings.ToLower(in.Name), strings.ToLower(sel)) {
				return in.Index, nil
			}
		}
		return -1, fmt.Errorf("gpu: no usable device matches %q (devices: %s): %w", sel, list, ErrNoDevice)
	}
	order := make([]int, 0, len(infos))
	for i := range infos {
		if infos[i].Usable() {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return -1, fmt.Errorf("gpu: no device with a compute queue and Vulkan 1.1 (devices: %s): %w", list, ErrNoDevice)
	}
	sort.SliceStable(order, func(a, b int) bool { return infos[order[a]].Type > infos[order[b]].Type })
	return order[0], nil
}

// Devices lists every physical device the loader reports, with the one
// Open would choose under o marked Selected. It opens no logical device.
func Devices(o Options) ([]Info, error) {
	in, err := newInstance(o)
	if err != nil {
		return nil, err
	}
	defer in.close()
	infos, err := enumerate(in)
	if err != nil {
		return nil, err
	}
	if i, err := choose(infos, o.Device); err == nil {
		infos[i].Selected = true
	} else if o.Device != "" || len(infos) == 0 {
		return infos, err
	}
	return infos, nil
}
