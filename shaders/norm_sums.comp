#version 450
// norm_sums: the sums the normalization derivatives need, one workgroup
// per reduced set (see norm.glsl), reduced by wgreduce.glsl. With xh the
// normalized input, r = 1/sqrt(var + eps), gh = g*w and tgh = tg*w + g*tw:
//
//   SET_BACKWARD          per norm set: [gh, gh*xh]
//   SET_TANGENT           per norm set: [tx, xh*tx]
//   SET_TANGENT_BACKWARD  per norm set: [gh, gh*xh, tx, xh*tx, tgh,
//                         tgh*xh, gh*tx]
//   CH_BACKWARD           per channel: dw = g*xh, db = g
//   CH_TANGENT_BACKWARD   per channel: tdw = tg*xh + g*txh, tdb = tg, with
//                         txh = r*(tx - mean(tx) - xh*mean(xh*tx)) from
//                         the SET_TANGENT_BACKWARD sums
//
// Set modes write out0[k*8 + j]; channel modes out0[k] and out1[k]. With
// EVAL (batch_norm evaluation: constant statistics) the set sums are not
// read and count as zero.
//
//   binding  0     1     2  3     4    5        6  7  8   9   10
//            out0  out1  x  mean  var  setsums  w  g  tx  tw  tg
//
// variant: norm_sums_subgroup -DSUBGROUP
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x_id = 0) in;
#include "norm.glsl"
#define WG_N 7
#include "wgreduce.glsl"

layout(constant_id = 3) const uint MODE = 0;
layout(constant_id = 4) const uint EVAL = 0;

// The mode codes match kernels.normSumsMode.
const uint SET_BACKWARD = 0, SET_TANGENT = 1, SET_TANGENT_BACKWARD = 2, CH_BACKWARD = 3, CH_TANGENT_BACKWARD = 4;
const uint NSUM = MODE == SET_TANGENT_BACKWARD ? 7 : 2;

layout(std430, binding = 0) writeonly buffer Out0 { float out0[]; };
layout(std430, binding = 1) writeonly buffer Out1 { float out1[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Var { float var[]; };
layout(std430, binding = 5) readonly buffer Sums { float sums[]; };
layout(std430, binding = 6) readonly buffer W { float w[]; };
layout(std430, binding = 7) readonly buffer G { float g[]; };
layout(std430, binding = 8) readonly buffer TX { float tx[]; };
layout(std430, binding = 9) readonly buffer TW { float tw[]; };
layout(std430, binding = 10) readonly buffer TG { float tg[]; };

void main() {
	// The set is uniform across the workgroup, so the early return keeps
	// the reduction in uniform control flow.
	uint k = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
	if (k >= p.sets) return;
	uint lid = gl_LocalInvocationID.x;
	uint wg = gl_WorkGroupSize.x;
	float acc[7] = float[7](0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
	bool chan = MODE == CH_BACKWARD || MODE == CH_TANGENT_BACKWARD;
	for (uint blk = 0; blk < p.a; blk++) {
		// One (sample, channel) row: its set and channel are uniform.
		uint base = k * p.setStride + blk * p.blockStride;
		uint st = norm_block_set(k, blk, chan);
		uint ch = norm_block_channel(k, blk, chan);
		float r = 1.0 / sqrt(var[st] + p.eps);
		float mu = mean[st];
		float wc = w[ch];
		float twc = MODE == SET_TANGENT_BACKWARD ? tw[ch] : 0.0;
		float mtx = 0.0, mxhtx = 0.0;
		if (MODE == CH_TANGENT_BACKWARD && EVAL == 0) {
			mtx = sums[st * 8 + 2] * p.invM;
			mxhtx = sums[st * 8 + 3] * p.invM;
		}
		for (uint j = lid; j < p.l; j += wg) {
			uint i = base + j;
			float xh = (x[i] - mu) * r;
			if (MODE == SET_BACKWARD) {
				float gh = g[i] * wc;
				acc[0] += gh;
				acc[1] += gh * xh;
			} else if (MODE == SET_TANGENT) {
				acc[0] += tx[i];
				acc[1] += xh * tx[i];
			} else if (MODE == SET_TANGENT_BACKWARD) {
				float gh = g[i] * wc;
				float tgh = tg[i] * wc + g[i] * twc;
				acc[0] += gh;
				acc[1] += gh * xh;
				acc[2] += tx[i];
				acc[3] += xh * tx[i];
				acc[4] += tgh;
				acc[5] += tgh * xh;
				acc[6] += gh * tx[i];
			} else if (MODE == CH_BACKWARD) {
				acc[0] += g[i] * xh;
				acc[1] += g[i];
			} else {
				float txh = r * (tx[i] - mtx - xh * mxhtx);
				acc[0] += tg[i] * xh + g[i] * txh;
				acc[1] += tg[i];
			}
		}
	}
	wg_reduce(WG_ADD, acc, NSUM);
	if (lid == 0) {
		if (MODE == CH_BACKWARD || MODE == CH_TANGENT_BACKWARD) {
			out0[k] = acc[0];
			out1[k] = acc[1];
		} else {
			for (uint q = 0; q < NSUM; q++) out0[k * 8 + q] = acc[q];
		}
	}
}
