#version 450
// loss_grad: the VJPs of the losses (TANGENT 0) and their tangents in the
// direction (t on the inputs, tg on the cotangents) (TANGENT 1), one
// invocation per input element. MSE and the Noether losses are quadratic,
// so their VJP is w * J(x) with J linear and the tangent is
// w * J(t) + tw * J(x), where w and tw are the example's cotangent
// weights. Formulas in kernels/loss.go.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint OP = 0;
layout(constant_id = 4) const uint FORM = 0;     // noether: 0 distance to e_0, 1 consecutive steps
layout(constant_id = 5) const uint TANGENT = 0;  // 1: tangent of the VJP
layout(constant_id = 6) const uint HAS_ROW = 0;  // a per-row cotangent g is bound
layout(constant_id = 7) const uint HAS_MEAN = 0; // a cotangent gm of the batch mean is bound

// The op codes match kernels.LossOp's shader codes.
const uint MSE = 0, NOETHER = 1, KL = 2;

// n: elements; k: elements per row (mse) or embedding size (noether);
// t: steps T (noether); scale: 2/k (mse, noether) or 1/B (kl); invb: 1/B.
layout(push_constant) uniform Push { uint n; uint k; uint t; float scale; float invb; } p;
layout(std430, binding = 0) readonly buffer X0 { float x0[]; };
layout(std430, binding = 1) readonly buffer X1 { float x1[]; };
layout(std430, binding = 2) readonly buffer X2 { float x2[]; };
layout(std430, binding = 3) readonly buffer X3 { float x3[]; };
layout(std430, binding = 4) readonly buffer T0 { float t0[]; };
layout(std430, binding = 5) readonly buffer T1 { float t1[]; };
layout(std430, binding = 6) readonly buffer T2 { float t2[]; };
layout(std430, binding = 7) readonly buffer T3 { float t3[]; };
layout(std430, binding = 8) readonly buffer G { float g[]; };
layout(std430, binding = 9) readonly buffer GM { float gm[]; };
layout(std430, binding = 10) readonly buffer TG { float tg[]; };
layout(std430, binding = 11) readonly buffer TGM { float tgm[]; };
layout(std430, binding = 12) writeonly buffer O0 { float o0[]; };
layout(std430, binding = 13) writeonly buffer O1 { float o1[]; };
layout(std430, binding = 14) writeonly buffer O2 { float o2[]; };
layout(std430, binding = 15) writeonly buffer O3 { float o3[]; };

// weight returns the cotangent of example b's loss: its own entry plus
// its share of the batch mean's.
float weight(uint b, bool tan) {
	float w = 0.0;
	if (HAS_ROW != 0) w += tan ? tg[b] : g[b];
	if (HAS_MEAN != 0) w += (tan ? tgm[0] : gm[0]) * p.invb;
	return w;
}

// noether_adj is dL_b/de at element i with unit cotangent and without the
// 2/k factor, for the sequence x0 or (tan) the tangent t0.
float noether_adj(bool tan, uint i, uint base, uint step, uint dim) {
	if (FORM == 0) {
		if (step > 0) return tan ? t0[i] - t0[base + dim] : x0[i] - x0[base + dim];
		float s = 0.0;
		for (uint u = 1; u <= p.t; u++) {
			uint j = base + u * p.k + dim;
			s += tan ? t0[j] - t0[i] : x0[j] - x0[i];
		}
		return -s;
	}
	float s = 0.0;
	if (step > 0) s += tan ? t0[i] - t0[i - p.k] : x0[i] - x0[i - p.k];
	if (step < p.t) s -= tan ? t0[i + p.k] - t0[i] : x0[i + p.k] - x0[i];
	return s;
}

void main() {
	uint i = flat_index();
	if (i >= p.n) return;
	if (OP == MSE) {
		uint row = i / p.k;
		float d = x0[i] - x1[i];
		float v = TANGENT != 0 ? weight(row, false) * (t0[i] - t1[i]) + weight(row, true) * d : weight(row, false) * d;
		o0[i] = p.scale * v;
		o1[i] = -p.scale * v;
	} else if (OP == NOETHER) {
		uint per = (p.t + 1) * p.k;
		uint b = i / per, rem = i % per;
		uint base = b * per, step = rem / p.k, dim = rem % p.k;
		float v = weight(b, false) * noether_adj(TANGENT != 0, i, base, step, dim);
		if (TANGENT != 0) v += weight(b, true) * noether_adj(false, i, base, step, dim);
		o0[i] = p.scale * v;
	} else if (OP == KL) {
		// x0 = mu1, x1 = logvar1, x2 = mu2, x3 = logvar2.
		float dm = x0[i] - x2[i], q = exp(-x3[i]), r = exp(x1[i] - x3[i]);
		float gs = g[0] * p.invb;
		float gmu = dm * q, glv1 = 0.5 * (r - 1.0), glv2 = 0.5 * (1.0 - r - dm * dm * q);
		if (TANGENT == 0) {
			o0[i] = gs * gmu;
			o1[i] = gs * glv1;
			o2[i] = -gs * gmu;
			o3[i] = gs * glv2;
			return;
		}
		float tgs = tg[0] * p.invb;
		float dd = t0[i] - t2[i];
		float hmu = q * (dd - dm * t3[i]);
		float hlv1 = 0.5 * r * (t1[i] - t3[i]);
		float hlv2 = -0.5 * (r * t1[i] + 2.0 * dm * dd * q - (r + dm * dm * q) * t3[i]);
		o0[i] = tgs * gmu + gs * hmu;
		o1[i] = tgs * glv1 + gs * hlv1;
		o2[i] = -(tgs * gmu + gs * hmu);
		o3[i] = tgs * glv2 + gs * hlv2;
	}
}
