#version 450
// loss: the reductions of the loss family (forward values and JVPs) and the
// sum of squares of clip_grad_norm. Workgroup (grp, row) sums term(row, j)
// over j = grp*L + lid, stepping by G*L (G = groups per row), folds its
// lanes (wgreduce.glsl) and writes
//     out[off + row*G + grp] = root?(scale * sum).
// With G > 1 those are partial sums that a SUM pass (G = 1) folds.
//
// SUMSQ (clip_grad_norm_'s sums of squares) reads a different tensor on
// each row instead, in one dispatch for up to 8 tensors: row r squares the
// rn[r] terms of input r (a, b, c, d, ta, tb, tc, td) over rg[r] groups
// and writes out[roff[r] + grp]; the grid is as wide as the widest row.
//
// variant: loss_subgroup -DSUBGROUP
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x_id = 0) in;
#include "wgreduce.glsl"

layout(constant_id = 3) const uint OP = 0;
layout(constant_id = 4) const uint ROOT = 0; // 1: write sqrt of the result

// The op codes match kernels' reduce* constants.
const uint SUM = 0, SUMSQ = 1, MSE = 2, MSE_JVP = 3, KL = 4, KL_JVP = 5;

// n: terms per row; off: first output slot; rn, rg, roff: SUMSQ's rows.
layout(push_constant) uniform Push {
	uint n;
	uint off;
	float scale;
	uint rn[8];
	uint rg[8];
	uint roff[8];
} p;
// a..d: primal inputs; ta..td: tangents (JVPs). Unused ones alias a.
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) readonly buffer C { float c[]; };
layout(std430, binding = 3) readonly buffer D { float d[]; };
layout(std430, binding = 4) readonly buffer TA { float ta[]; };
layout(std430, binding = 5) readonly buffer TB { float tb[]; };
layout(std430, binding = 6) readonly buffer TC { float tc[]; };
layout(std430, binding = 7) readonly buffer TD { float td[]; };
layout(std430, binding = 8) writeonly buffer Out { float o[]; };

float term(uint row, uint j) {
	uint i = row * p.n + j;
	switch (OP) {
	case SUM:
		return a[i];
	case SUMSQ:
		switch (row) {
		case 0: return a[j] * a[j];
		case 1: return b[j] * b[j];
		case 2: return c[j] * c[j];
		case 3: return d[j] * d[j];
		case 4: return ta[j] * ta[j];
		case 5: return tb[j] * tb[j];
		case 6: return tc[j] * tc[j];
		case 7: return td[j] * td[j];
		}
		return 0.0;
	case MSE: {
		float e = a[i] - b[i];
		return e * e;
	}
	case MSE_JVP:
		return (a[i] - b[i]) * (ta[i] - tb[i]);
	case KL: {
		// a = mu1, b = logvar1, c = mu2, d = logvar2.
		float dm = a[i] - c[i];
		return 0.5 * (d[i] - b[i] + exp(b[i] - d[i]) + dm * dm * exp(-d[i]) - 1.0);
	}
	case KL_JVP: {
		float dm = a[i] - c[i], q = exp(-d[i]), r = exp(b[i] - d[i]);
		return dm * q * (ta[i] - tc[i]) + 0.5 * (r - 1.0) * tb[i] + 0.5 * (1.0 - r - dm * dm * q) * td[i];
	}
	}
	return 0.0;
}

void main() {
	uint lid = gl_LocalInvocationID.x, L = gl_WorkGroupSize.x;
	uint grp = gl_WorkGroupID.x, G = gl_NumWorkGroups.x, row = gl_WorkGroupID.y;
	uint n = p.n, off = p.off + row * G;
	if (OP == SUMSQ) {
		G = p.rg[row];
		n = p.rn[row];
		off = p.roff[row];
		if (grp >= G) return; // the whole workgroup: a narrower row
	}
	float s = 0.0;
	for (uint j = grp * L + lid; j < n; j += G * L) s += term(row, j);
	// L is a power of two (checked by the launcher).
	s = wg_reduce1(WG_ADD, s);
	if (lid == 0) {
		float v = p.scale * s;
		o[off + grp] = ROOT != 0 ? sqrt(v) : v;
	}
}
