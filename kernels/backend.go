package kernels

import (
	"fmt"
	"os"
	"slices"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/shaders"
)

// Backend runs kernels on host slices. Op families extend it with their
// own interfaces (see UnaryBackend).
type Backend interface {
	Name() string
}

// CPU is the reference backend: plain Go, float64 accumulation where it
// matters, written for clarity rather than speed.
type CPU struct{}

// Name implements Backend.
func (CPU) Name() string { return "cpu" }

// Vulkan runs kernels on a gpu.Device.
type Vulkan struct {
	Device *gpu.Device
	// Local is the workgroup size of 1-D elementwise kernels.
	Local uint32
	// Elems is how many consecutive elements one invocation of an
	// elementwise kernel handles.
	Elems uint32
	// Conv chooses the direct, GEMM or implicit GEMM form of the conv
	// passes (ConvAuto: direct or GEMM per shape, see ConvScratch).
	Conv ConvPath
	// ConvTile is the direct convolution shader's register block:
	// CPUConvTile on CPU devices, GPUConvTile on others.
	ConvTile ConvTile
	// Tuning holds the variants tuned for this device (noether-vk tune);
	// nil runs the defaults.
	Tuning *Tuning
	// Texels makes the kernels read their operands as uniform texel
	// buffers where they can: the default matrix products
	// (MatMulVariant.Texels), the fused elementwise kernel, cn_affine and
	// the direct convolution.
	Texels bool
	// SubgroupReduce lets the kernels that reduce across a workgroup (the
	// normalizations' statistics and sums, rowwise, the losses, the
	// cn_affine backward) add within each subgroup with subgroup
	// arithmetic and combine the subgroups' partials after one barrier,
	// instead of a shared-memory tree of log2(workgroup) barriers, where
	// the device has subgroup arithmetic in compute shaders (see
	// subgroupVariant). Both are deterministic; they add in different
	// orders, so their sums differ in rounding.
	SubgroupReduce bool
}

// NewVulkan returns the Vulkan backend on d. On a CPU device (lavapipe)
// every invocation has a fixed cost, so elementwise kernels take 4
// elements each (about 2x faster for relu at the MLP's 1125x200); GPUs
// want one element per invocation so neighbouring threads read
// neighbouring words. On a CPU device the kernels read texels (1.3-1.5x
// faster at the MLP's products on lavapipe, whose storage-buffer loads at
// lane-dependent addresses are loops over the lanes); on GPUs that is
// unmeasured, so they keep storage buffers unless a product is tuned.
// NOETHER_VK_CONV=direct, gemm or implicit sets Conv (to test or time one
// conv form everywhere, the graph engine included); NOETHER_VK_TEXELS=on or off
// sets Texels, NOETHER_VK_CONV_TILE=cpu or gpu ConvTile (to test the
// other kind's tile). SubgroupReduce is on unless
// NOETHER_VK_SUBGROUP_REDUCE=off.
func NewVulkan(d *gpu.Device) *Vulkan {
	v := &Vulkan{Device: d, Local: 64, Elems: 1, ConvTile: GPUConvTile, SubgroupReduce: os.Getenv("NOETHER_VK_SUBGROUP_REDUCE") != "off"}
	if d.Info.Type == gpu.TypeCPU {
		v.Elems, v.Texels, v.ConvTile = 4, true, CPUConvTile
	}
	switch os.Getenv("NOETHER_VK_CONV_TILE") {
	case "cpu":
		v.ConvTile = CPUConvTile
	case "gpu":
		v.ConvTile = GPUConvTile
	}
	switch os.Getenv("NOETHER_VK_TEXELS") {
	case "on":
		v.Texels = true
	case "off":
		v.Texels = false
	}
	switch os.Getenv("NOETHER_VK_CONV") {
	case "direct":
		v.Conv = ConvDirect
	case "gemm":
		v.Conv = ConvGemm
	case "implicit":
		v.Conv = ConvImplicit
	}
	return v
}

// Name implements Backend.
func (v *Vulkan) Name() string { return "vulkan: " + v.Device.Info.Name }

// subgroupVariant returns the subgroup variant (shader_subgroup, see
// shaders/wgreduce.glsl) of a shader that reduces across workgroups of
// local invocations when v.SubgroupReduce is on, the device has subgroup
// arithmetic in compute shaders (a module that declares it cannot be
// loaded elsewhere) and a workgroup is whole subgroups; else shader.
func (v *Vulkan) subgroupVariant(shader string, local uint32) string {
	info := &v.Device.Info
	sg := info.SubgroupSize
	if v.SubgroupReduce && info.SubgroupInCompute && slices.Contains(info.SubgroupOperations, "arithmetic") && sg > 0 && local%sg == 0 {
		return shader + "_subgroup"
	}
	return shader
}

// kernel returns the pipeline of shader family name (shaders/NAME.comp)
// with the given bindings, push-constant size and specialization constants.
func (v *Vulkan) kernel(name string, binds []gpu.Access, push int, spec ...uint32) (*gpu.Kernel, error) {
	return v.Device.Kernel(gpu.KernelSpec{Name: name, SPIRV: shaders.SPIRV(name), Bindings: binds, PushBytes: push, Spec: spec})
}

// withTexels binds, when on, the read-only buffers bufs[slots[j]] whose
// use[j] holds (the shader reads them as vec4, or their elements as
// lanes' consecutive words) a second time as texels, one ReadTexels
// binding per slot after the others, and returns the texel variant of
// shader (shader_texel) with bit j set for each so bound: that SPIR-V
// reads those bindings' loads there. A slot not bound so (or that cannot
// be) repeats the first that is, so the layout stays the same; with none,
// shader and the bindings are returned unchanged. Texels give the same
// bits.
func withTexels(on bool, shader string, access []gpu.Access, bufs []*gpu.Buffer, slots []int, use []bool) (string, []gpu.Access, []*gpu.Buffer, uint32) {
	var mask uint32
	first := -1
	for j, b := range slots {
		if on && use[j] && bufs[b].TexelBindable() {
			mask |= 1 << j
			if first < 0 {
				first = b
			}
		}
	}
	if mask == 0 {
		return shader, access, bufs, 0
	}
	// Appending to the callers' slices must not write into their arrays.
	access, bufs = slices.Clip(access), slices.Clip(bufs)
	for j, b := range slots {
		if mask&(1<<j) == 0 {
			b = first
		}
		access, bufs = append(access, gpu.ReadTexels), append(bufs, bufs[b])
	}
	return shader + "_texel", access, bufs, mask
}

// exec1 is exec for work with one output, of outLen floats.
func (v *Vulkan) exec1(ins [][]float32, outLen int, rec func(r *gpu.Recorder, in []*gpu.Buffer, out *gpu.Buffer) error) ([]float32, error) {
	out, err := v.exec(ins, []int{outLen}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return rec(r, in, out[0])
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// exec uploads ins, lets rec record work that reads them and writes
// buffers of outLens floats, runs it once and returns the outputs. It is
// the host-slice path: one submit per call, for tests and the selftest.
func (v *Vulkan) exec(ins [][]float32, outLens []int, rec func(r *gpu.Recorder, in, out []*gpu.Buffer) error) ([][]float32, error) {
	var bufs []*gpu.Buffer
	defer func() {
		for _, b := range bufs {
			b.Free()
		}
	}()
	newBuf := func(n int) (*gpu.Buffer, error) {
		b, err := v.Device.Alloc(int64(4 * max(n, 1)))
		if err == nil {
			bufs = append(bufs, b)
		}
		return b, err
	}
	in := make([]*gpu.Buffer, len(ins))
	for i, x := range ins {
		b, err := newBuf(len(x))
		if err != nil {
			return nil, err
		}
		if err := b.WriteFloat32(0, x); err != nil {
			return nil, err
		}
		in[i] = b
	}
	out := make([]*gpu.Buffer, len(outLens))
	for i, n := range outLens {
		b, err := newBuf(n)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	r := v.Device.NewRecorder()
	if err := rec(r, in, out); err != nil {
		return nil, err
	}
	p, err := r.Finish()
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if err := p.Run(); err != nil {
		return nil, err
	}
	res := make([][]float32, len(outLens))
	for i, n := range outLens {
		res[i] = make([]float32, n)
		if err := out[i].ReadFloat32(0, res[i]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// checkLen returns an error naming op when a slice has the wrong length.
func checkLen(op, what string, got, want int) error {
	if got != want {
		return fmt.Errorf("kernels: %s: %s has %d elements, want %d", op, what, got, want)
	}
	return nil
}

// strideLocal is the workgroup size of a reduction kernel whose
// invocations stride over blocks of l elements with the workgroup, each
// invocation passes times over blocks such blocks: base (a power of two),
// except on a CPU device where that would run more loop iterations in one
// invocation than loopBudget allows (the blocks of a batch_norm over 600
// images of 64x64 came out wrong at 64): then the smallest larger power
// of two that fits, within the device's workgroup limits and sharedPer
// bytes of shared memory per invocation. Widening changes how the sums
// are split, so only the reductions that need it are widened; when no
// width fits (many short blocks) the error says so.
func (v *Vulkan) strideLocal(op string, base uint32, passes, blocks, l, sharedPer int) (uint32, error) {
	info := &v.Device.Info
	if info.Type != gpu.TypeCPU {
		return base, nil
	}
	loops := func(local uint32) int { return passes * (blocks*((l+int(local)-1)/int(local)+1) + 1) }
	limit := min(info.MaxWorkgroupInvocations, info.MaxWorkgroupSize[0], info.SharedMemory/uint32(max(sharedPer, 1)))
	local := base
	for loops(local) > loopBudget && local*2 <= limit && int(local) < l {
		local *= 2
	}
	if n := loops(local); n > loopBudget {
		return 0, fmt.Errorf("kernels: %s: %d blocks of %d elements would take one invocation %d loop iterations, beyond what "+
			"this CPU device (%s) runs before it silently stops a shader's loops (%d); run it on a GPU, or reduce over fewer elements",
			op, blocks, l, n, info.Name, loopBudget)
	}
	return local, nil
}
