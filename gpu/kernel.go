package gpu

/*
#include "vkshim.h"
*/
import "C"

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Access says how a kernel uses one of its storage-buffer bindings; the
// recorder derives barriers from it.
type Access uint8

const (
	Read      Access = 1 << iota // the kernel only reads the binding
	Write                        // the kernel only writes it
	texel                        // bound as a uniform texel buffer
	ReadWrite = Read | Write
	// ReadTexels binds a read-only buffer as a uniform texel buffer of
	// vec4 (R32G32B32A32_SFLOAT), read with texelFetch: on lavapipe a
	// texel fetch loads each lane's value straight into the vector, where
	// a storage-buffer load with an address that differs between lanes is
	// a loop over the lanes.
	ReadTexels = Read | texel
)

// KernelSpec describes a compute pipeline.
type KernelSpec struct {
	// Name appears in errors and profiles.
	Name string
	// SPIRV is the compiled shader; its entry point is "main".
	SPIRV []byte
	// Bindings gives the access of storage buffers 0..len-1 of set 0.
	Bindings []Access
	// PushBytes is the size of the shader's push-constant block.
	PushBytes int
	// Spec holds specialization constants by constant_id. By convention
	// ids 0, 1 and 2 are local_size_x/y/z; missing ones default to 1.
	Spec []uint32
}

type kernelKey struct {
	spirv [32]byte
	spec  string
	binds string
	push  int
}

// Kernel is a compiled compute pipeline with its layouts.
type Kernel struct {
	name      string
	bindings  []Access
	push      int
	local     [3]uint32
	setLayout vk.DescriptorSetLayout
	layout    vk.PipelineLayout
	pipeline  vk.Pipeline
}

// Name is the kernel's name from its spec.
func (k *Kernel) Name() string { return k.name }

// LocalSize is the workgroup size.
func (k *Kernel) LocalSize() [3]uint32 { return k.local }

// Kernel returns the pipeline for s, creating it on first use. Pipelines
// are cached by (SPIR-V hash, specialization constants, layout).
func (d *Device) Kernel(s KernelSpec) (*Kernel, error) {
	if len(s.SPIRV) == 0 || len(s.SPIRV)%4 != 0 {
		return nil, fmt.Errorf("gpu: kernel %s: SPIR-V of %d bytes is not a whole number of words", s.Name, len(s.SPIRV))
	}
	if len(s.Spec) > C.NVK_MAX_SPEC {
		return nil, fmt.Errorf("gpu: kernel %s: %d specialization constants (at most %d)", s.Name, len(s.Spec), C.NVK_MAX_SPEC)
	}
	key := kernelKey{spirv: sha256.Sum256(s.SPIRV), push: s.PushBytes}
	key.spec = string(u32Bytes(s.Spec))
	for _, a := range s.Bindings {
		key.binds += string(rune('0' + a))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return nil, err
	}
	if k, ok := d.kernels[key]; ok {
		return k, nil
	}
	k := &Kernel{name: s.Name, bindings: append([]Access(nil), s.Bindings...), push: s.PushBytes, local: [3]uint32{1, 1, 1}}
	copy(k.local[:], s.Spec)
	info := &d.Info
	if k.local[0] > info.MaxWorkgroupSize[0] || k.local[1] > info.MaxWorkgroupSize[1] || k.local[2] > info.MaxWorkgroupSize[2] ||
		uint64(k.local[0])*uint64(k.local[1])*uint64(k.local[2]) > uint64(info.MaxWorkgroupInvocations) {
		return nil, fmt.Errorf("gpu: kernel %s: workgroup %v exceeds the device's limits %v / %d invocations", s.Name, k.local, info.MaxWorkgroupSize, info.MaxWorkgroupInvocations)
	}
	if s.PushBytes < 0 || s.PushBytes%4 != 0 || uint32(s.PushBytes) > info.MaxPushConstants {
		return nil, fmt.Errorf("gpu: kernel %s: push constants of %d bytes (a multiple of 4, at most %d)", s.Name, s.PushBytes, info.MaxPushConstants)
	}
	if uint32(len(s.Bindings)) > info.MaxStorageBuffersStage {
		return nil, fmt.Errorf("gpu: kernel %s: %d storage buffers (device limit %d)", s.Name, len(s.Bindings), info.MaxStorageBuffersStage)
	}
	module, err := d.module(s.Name, key.spirv, s.SPIRV)
	if err != nil {
		return nil, err
	}
	if err := k.create(d, module, s.Spec); err != nil {
		k.destroy(d.dev)
		return nil, err
	}
	d.kernels[key] = k
	return k, nil
}

func (d *Device) module(name string, hash [32]byte, spirv []byte) (vk.ShaderModule, error) {
	if m, ok := d.modules[hash]; ok {
		return m, nil
	}
	words := make([]uint32, len(spirv)/4)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(spirv[4*i:])
	}
	var m vk.ShaderModule
	if err := check("vkCreateShaderModule", vk.CreateShaderModule(d.dev, &vk.ShaderModuleCreateInfo{
		SType:    vk.StructureTypeShaderModuleCreateInfo,
		CodeSize: uint(len(spirv)),
		PCode:    words,
	}, nil, &m)); err != nil {
		return m, fmt.Errorf("gpu: kernel %s: %w", name, err)
	}
	d.modules[hash] = m
	return m, nil
}

func (k *Kernel) create(d *Device, module vk.ShaderModule, spec []uint32) error {
	binds := make([]vk.DescriptorSetLayoutBinding, len(k.bindings))
	for i := range binds {
		typ := vk.DescriptorTypeStorageBuffer
		if k.bindings[i]&texel != 0 {
			typ = vk.DescriptorTypeUniformTexelBuffer
		}
		binds[i] = vk.DescriptorSetLayoutBinding{
			Binding:         uint32(i),
			DescriptorType:  typ,
			DescriptorCount: 1,
			StageFlags:      vk.ShaderStageFlags(vk.ShaderStageComputeBit),
		}
	}
	// Out-parameters go to locals: vulkan-go refuses addresses of fields
	// of structs that hold Go pointers.
	var setLayout vk.DescriptorSetLayout
	if err := check("vkCreateDescriptorSetLayout", vk.CreateDescriptorSetLayout(d.dev, &vk.DescriptorSetLayoutCreateInfo{
		SType:        vk.StructureTypeDescriptorSetLayoutCreateInfo,
		BindingCount: uint32(len(binds)),
		PBindings:    binds,
	}, nil, &setLayout)); err != nil {
		return fmt.Errorf("gpu: kernel %s: %w", k.name, err)
	}
	k.setLayout = setLayout
	lci := vk.PipelineLayoutCreateInfo{
		SType:          vk.StructureTypePipelineLayoutCreateInfo,
		SetLayoutCount: 1,
		PSetLayouts:    []vk.DescriptorSetLayout{k.setLayout},
	}
	if k.push > 0 {
		lci.PushConstantRangeCount = 1
		lci.PPushConstantRanges = []vk.PushConstantRange{{
			StageFlags: vk.ShaderStageFlags(vk.ShaderStageComputeBit),
			Size:       uint32(k.push),
		}}
	}
	var layout vk.PipelineLayout
	if err := check("vkCreatePipelineLayout", vk.CreatePipelineLayout(d.dev, &lci, nil, &layout)); err != nil {
		return fmt.Errorf("gpu: kernel %s: %w", k.name, err)
	}
	k.layout = layout
	var specPtr *C.uint32_t
	if len(spec) > 0 {
		specPtr = (*C.uint32_t)(unsafe.Pointer(&spec[0]))
	}
	var pipe C.VkPipeline
	r := C.nvk_create_compute_pipeline(d.in.gipa, d.in.inst, d.cdev, C.VkShaderModule(unsafe.Pointer(module)),
		C.VkPipelineLayout(unsafe.Pointer(k.layout)), specPtr, C.uint32_t(len(spec)), &pipe)
	if err := check("vkCreateComputePipelines", vk.Result(r)); err != nil {
		return fmt.Errorf("gpu: kernel %s: %w", k.name, err)
	}
	k.pipeline = vk.Pipeline(unsafe.Pointer(pipe))
	return nil
}

func (k *Kernel) destroy(dev vk.Device) {
	if k.pipeline != vk.NullPipeline {
		vk.DestroyPipeline(dev, k.pipeline, nil)
	}
	if k.layout != vk.NullPipelineLayout {
		vk.DestroyPipelineLayout(dev, k.layout, nil)
	}
	if k.setLayout != vk.NullDescriptorSetLayout {
		vk.DestroyDescriptorSetLayout(dev, k.setLayout, nil)
	}
}

// Grid returns the workgroup counts that cover n invocations along x.
// Counts beyond the device's per-dimension limit fold into y, so shaders
// index with gl_GlobalInvocationID.x + gl_GlobalInvocationID.y *
// gl_NumWorkGroups.x * gl_WorkGroupSize.x and bound-check against n.
func (d *Device) Grid(k *Kernel, n int) [3]uint32 {
	groups := (uint64(n) + uint64(k.local[0]) - 1) / uint64(k.local[0])
	maxX := uint64(d.Info.MaxWorkgroupCount[0])
	if groups <= maxX {
		return [3]uint32{uint32(max(groups, 1)), 1, 1}
	}
	y := (groups + maxX - 1) / maxX
	return [3]uint32{uint32((groups + y - 1) / y), uint32(y), 1}
}

// Push builds a push-constant block: p = gpu.Push{}.U32(n).F32(alpha).
type Push []byte

// U32 appends a uint32.
func (p Push) U32(v uint32) Push { return binary.LittleEndian.AppendUint32(p, v) }

// I32 appends an int32.
func (p Push) I32(v int32) Push { return p.U32(uint32(v)) }

// F32 appends a float32.
func (p Push) F32(v float32) Push { return p.U32(math.Float32bits(v)) }

func u32Bytes(v []uint32) []byte {
	out := make([]byte, 0, 4*len(v))
	for _, x := range v {
		out = binary.LittleEndian.AppendUint32(out, x)
	}
	return out
}
