#version 450
// rowwise: one workgroup per row of a [rows, L] tensor: a reduction over
// the row (wgreduce.glsl), then the row (or one value) written from it.
// The modes (kernels.RowwiseOp) are what Grad-CAM and PCA need:
//
//   MINMAX       y[r, j] = (x[r, j] - min_r) / (max_r - min_r); a
//                constant row gives zeros
//   SIGN         y[r] = the sign of the row's entry of largest magnitude
//                (the first such entry on ties), +1 for a row of zeros:
//                scikit-learn's svd_flip on the rows of x
//   JET          f is [rows, 3, L] (an RGB image per row, planar) and x a
//                heat map in [0, 1]: y[r, c, j] = (jet_c(x[r, j]) +
//                f[r, c, j]) / max over the row's 3L sums
//
//   binding  0  1  2
//            y  x  f (JET only; bound to x otherwise)
//
// variant: rowwise_subgroup -DSUBGROUP
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x_id = 0) in;
// Two values per invocation: (min, -max) for MINMAX, (|v|, index) for
// SIGN, (max, unused) for JET.
#define WG_T vec2
#define WG_WITH_ARGMAX
#include "wgreduce.glsl"

layout(constant_id = 3) const uint MODE = 0;

// The mode codes match kernels.RowwiseOp.
const uint MINMAX = 0, SIGN = 1, JET = 2;

layout(push_constant) uniform Push {
	uint rows;
	uint len; // L
} p;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer F { float f[]; };

// jet is the piecewise-linear jet colour map (MATLAB's, which OpenCV's
// COLORMAP_JET samples): dark blue at 0, blue, cyan, yellow, red, dark
// red at 1.
vec3 jet(float v) {
	return clamp(vec3(1.5) - abs(vec3(4.0 * v) - vec3(3.0, 2.0, 1.0)), 0.0, 1.0);
}

void main() {
	// The row is uniform across the workgroup, so the early return keeps
	// the reduction in uniform control flow.
	uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
	if (r >= p.rows) return;
	uint lid = gl_LocalInvocationID.x;
	uint base = r * p.len;
	float a, b;
	if (MODE == MINMAX) {
		a = uintBitsToFloat(0x7f800000u); // +inf
		b = a;
		for (uint j = lid; j < p.len; j += gl_WorkGroupSize.x) {
			a = min(a, x[base + j]);
			b = min(b, -x[base + j]);
		}
	} else if (MODE == SIGN) {
		a = -1.0;
		b = 0.0;
		for (uint j = lid; j < p.len; j += gl_WorkGroupSize.x) {
			// The first index of the largest magnitude.
			float m = abs(x[base + j]);
			if (m > a) {
				a = m;
				b = float(j);
			}
		}
	} else {
		a = 0.0;
		b = 0.0;
		for (uint j = lid; j < p.len; j += gl_WorkGroupSize.x) {
			vec3 c = jet(x[base + j]);
			uint fb = 3 * base + j;
			a = max(a, max(c.r + f[fb], max(c.g + f[fb + p.len], c.b + f[fb + 2 * p.len])));
		}
	}
	vec2 red = wg_reduce1(MODE == MINMAX ? WG_MIN : MODE == SIGN ? WG_ARGMAX : WG_MAX, vec2(a, b));
	if (MODE == MINMAX) {
		float lo = red.x, range = -red.y - red.x;
		for (uint j = lid; j < p.len; j += gl_WorkGroupSize.x) {
			y[base + j] = range > 0.0 ? (x[base + j] - lo) / range : 0.0;
		}
	} else if (MODE == SIGN) {
		if (lid == 0) y[r] = x[base + uint(red.y)] < 0.0 ? -1.0 : 1.0;
	} else {
		float m = red.x;
		for (uint j = lid; j < p.len; j += gl_WorkGroupSize.x) {
			vec3 c = jet(x[base + j]);
			uint fb = 3 * base + j;
			y[fb] = (c.r + f[fb]) / m;
			y[fb + p.len] = (c.g + f[fb + p.len]) / m;
			y[fb + 2 * p.len] = (c.b + f[fb + 2 * p.len]) / m;
		}
	}
}
