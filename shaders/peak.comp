#version 450
// peak: kernels that measure a device's ceilings for bench-kernels.
// MODE 0 (fma): every invocation runs ITERS iterations of 8 independent
// vec4 FMA chains (64 flops per iteration) and writes one value, so the
// time is arithmetic, not memory. MODE 1 (copy): y = x with vec4 loads and
// stores; bytes moved = 2 * size.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint MODE = 0;
layout(constant_id = 4) const uint ITERS = 256;

layout(push_constant) uniform Push { uint n; float seed; } p;
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
layout(std430, binding = 1) writeonly buffer Y { vec4 y[]; };

void main() {
	uint i = flat_index();
	if (i >= p.n) return;
	if (MODE == 1) {
		y[i] = x[i];
		return;
	}
	// Multipliers just below 1 keep the chains finite; the seed (a push
	// constant) stops the compiler from folding them.
	vec4 m = vec4(0.999999) - vec4(p.seed);
	vec4 a0 = vec4(float(i)), a1 = a0 + 1.0, a2 = a0 + 2.0, a3 = a0 + 3.0;
	vec4 a4 = a0 + 4.0, a5 = a0 + 5.0, a6 = a0 + 6.0, a7 = a0 + 7.0;
	for (uint k = 0; k < ITERS; k++) {
		a0 = fma(a0, m, m); a1 = fma(a1, m, m); a2 = fma(a2, m, m); a3 = fma(a3, m, m);
		a4 = fma(a4, m, m); a5 = fma(a5, m, m); a6 = fma(a6, m, m); a7 = fma(a7, m, m);
	}
	y[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}
