#version 450
// unary: y[i] = s[i] * f^(ORDER)(x[i]) for the elementwise function OP and
// its first and second derivatives (ORDER 0, 1, 2), which the VJP, the JVP
// and the tangent of the VJP need. With SCALED = 0, s is ignored (bind x).
// alpha is leaky_relu's negative slope.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint OP = 0;
layout(constant_id = 4) const uint ORDER = 0;
layout(constant_id = 5) const uint SCALED = 0;
// Elements per invocation: lavapipe pays per invocation, so a few
// consecutive elements each cut its overhead (see kernels.Vulkan.Elems).
layout(constant_id = 6) const uint ELEMS = 1;

layout(push_constant) uniform Push { uint n; float alpha; } p;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer S { float s[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

#include "activation.glsl"
#include "unary_f.glsl"

void main() {
	uint base = flat_index() * ELEMS;
	for (uint e = 0; e < ELEMS; e++) {
		uint i = base + e;
		if (i >= p.n) return;
		float v = unary_f(OP, ORDER, p.alpha, x[i]);
		y[i] = SCALED != 0 ? s[i] * v : v;
	}
}
