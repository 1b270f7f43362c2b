#version 450
// norm_stats: the mean and the biased variance of every normalization set
// (see norm.glsl), two passes over the set (mean first, then the squared
// deviations), one workgroup per set, reduced by wgreduce.glsl. With
// RUNNING (batch_norm training) it also updates the running statistics in
// place: rm = (1-m) rm + m mean, rv = (1-m) rv + m var * M/(M-1).
//
//   binding   0     1         2    3   4
//             mean  variance  x    rm  rv    (rm, rv read and written)
//
// variant: norm_stats_subgroup -DSUBGROUP
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x_id = 0) in;
#include "norm.glsl"
#include "wgreduce.glsl"

layout(constant_id = 3) const uint RUNNING = 0;

layout(std430, binding = 0) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 1) writeonly buffer Var { float var[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) buffer RM { float rm[]; };
layout(std430, binding = 4) buffer RV { float rv[]; };

void main() {
	// The set is uniform across the workgroup, so the early return keeps
	// the reductions in uniform control flow.
	uint k = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
	if (k >= p.sets) return;
	uint lid = gl_LocalInvocationID.x;
	uint m = p.a * p.l;
	float acc = 0.0;
	for (uint blk = 0; blk < p.a; blk++) {
		uint base = k * p.setStride + blk * p.blockStride;
		for (uint j = lid; j < p.l; j += gl_WorkGroupSize.x) acc += x[base + j];
	}
	float mu = wg_reduce1(WG_ADD, acc) / float(m);
	barrier(); // wg_reduce's storage is reused below
	acc = 0.0;
	for (uint blk = 0; blk < p.a; blk++) {
		uint base = k * p.setStride + blk * p.blockStride;
		for (uint j = lid; j < p.l; j += gl_WorkGroupSize.x) {
			float d = x[base + j] - mu;
			acc += d * d;
		}
	}
	float v = wg_reduce1(WG_ADD, acc) / float(m);
	if (lid == 0) {
		mean[k] = mu;
		var[k] = v;
		if (RUNNING != 0) {
			rm[k] = (1.0 - p.momentum) * rm[k] + p.momentum * mu;
			rv[k] = (1.0 - p.momentum) * rv[k] + p.momentum * v * p.unbias;
		}
	}
}
