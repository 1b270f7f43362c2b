#version 450
// optim: in-place elementwise updates with one read-only operand.
//   SGD:  x[i] -= a * y[i]                     (x = parameters, y = gradient, a = lr)
//   CLIP: x[i] *= min(1, a / (y[0] + 1e-6))    (x = gradient, y[0] = global norm,
//                                               a = max norm; PyTorch's clip_grad_norm_)
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint OP = 0;

// The op codes match kernels' optim* constants.
const uint SGD = 0, CLIP = 1;

layout(push_constant) uniform Push { uint n; float a; } p;
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };

void main() {
	uint i = flat_index();
	if (i >= p.n) return;
	if (OP == SGD) {
		x[i] = fma(-p.a, y[i], x[i]);
	} else {
		x[i] *= min(1.0, p.a / (y[0] + 1e-6));
	}
}
