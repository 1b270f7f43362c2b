// Package shaders holds the GLSL compute shaders of noether-vk and the
// SPIR-V compiled from them, embedded so that `go build` needs no shader
// compiler.
//
// One .comp file per kernel family; variants come from specialization
// constants (constant_id 0..2 are the workgroup size by convention, see
// gpu.KernelSpec). What a specialization constant cannot switch, a
// capability some devices lack, is a build variant: a line
// "// variant: NAME -DDEFINE" in the source makes tools/shaderc also build
// NAME.spv with that define (matmul_plain is matmul without subgroup
// shuffles). Files ending in .glsl are shared includes. `make
// shaders` (or `go generate ./shaders`) rebuilds every .spv with glslc for
// the Vulkan 1.1 environment; `make check-shaders` fails when a committed
// .spv differs from what its source compiles to.
//
// Register tiles: a loop that indexes a local array (an accumulator tile, a
// row segment) must be marked [[unroll]] (GL_EXT_control_flow_attributes),
// even when its bound is a specialization constant. glslc cannot unroll it
// (the bound is unknown until pipeline creation) and llvmpipe's own
// heuristic leaves large bodies rolled, which puts the array in memory,
// indexed at run time: conv2d's direct kernels ran up to 1.8x faster on
// lavapipe once marked. The hint is honoured after specialization.
package shaders
