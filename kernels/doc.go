// Package kernels holds noether-vk's tensor operations: for each op family
// the Go launcher of its compute shader (grid, push and specialization
// constants) and its CPU reference.
//
// Every family is reachable two ways:
//
//   - Record* methods on *Vulkan record the op into a gpu.Recorder over
//     gpu.Buffers; the graph engine uses these.
//   - Host-slice methods (Unary, MatMul, ...) run the op on []float32 and
//     return new slices. Both backends, CPU (the reference) and Vulkan,
//     implement them, and kernels/kerneltest checks every backend with the
//     same conformance suite: forward against the CPU reference, VJP and
//     JVP against finite differences, and the tangent of the VJP (the
//     forward-over-reverse product the meta-gradient needs) against finite
//     differences of the VJP.
//
// Each family declares its own backend interface (UnaryBackend, ...); the
// suite finds it by type assertion, so a backend that lacks a family fails
// that family's checks instead of failing to compile.
//
// One family is not an op but a composition: Fused runs a small program of
// unary, binary and scalar ops (and optionally a sum over the leading
// axis) in one dispatch, with the bits of its ops' own kernels. The graph
// compiler builds these programs after differentiation, so they have no
// derivative rules; the suite checks their forward, and fused_test.go their
// bits against the ops run one at a time.
//
// Some kernels come in variants for different devices (MatMulVariant:
// register tiles for lavapipe, shared-memory tiles for GPUs, operands
// read as storage buffers or as texels), all with the same bits.
// Vulkan.Tuning picks one per shape where noether-vk tune chose one
// (package kernels/tune), the default elsewhere. With Vulkan.Texels (the
// default on CPU devices) the products, fused elementwise kernels,
// cn_affine and direct convolutions read their operands through texel
// views: each family's _texel SPIR-V binds them a second time so. With
// Vulkan.SubgroupReduce (the default; NOETHER_VK_SUBGROUP_REDUCE=off
// turns it off) the kernels that reduce across a workgroup (the
// normalizations, rowwise, the losses, cn_affine's backward) run their
// _subgroup SPIR-V where the device has subgroup arithmetic: the same
// sums in another order, so not the same bits as the shared-memory trees.
// The direct convolution's register tile follows the device type
// (Vulkan.ConvTile: CPUConvTile, tuned on lavapipe, or GPUConvTile, small
// enough for GPU compilers to build).
//
// Layout is row-major (NCHW for images); all data are float32.
package kernels
