#version 450
// loss_grad: the VJPs of the losses (TANGENT 0) and their tangents in the
// direction (t on the inputs, tg on the cotangent) (TANGENT 1), one
// invocation per input element. MSE is quadratic, so its VJP is g * J(x)
// with J linear and the tangent is g * J(t) + tg * J(x), g and tg being
// the example's cotangent and its tangent. Formulas in kernels/loss.go.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint OP = 0;
layout(constant_id = 4) const uint TANGENT = 0; // 1: tangent of the VJP

// The op codes match kernels.LossOp.
const uint MSE = 0, KL = 1;

// n: elements; k: elements per row (mse); scale: 2/k (mse) or 1/B (kl);
// invb: 1/B.
layout(push_constant) uniform Push { uint n; uint k; float scale; float invb; } p;
layout(std430, binding = 0) readonly buffer X0 { float x0[]; };
layout(std430, binding = 1) readonly buffer X1 { float x1[]; };
layout(std430, binding = 2) readonly buffer X2 { float x2[]; };
layout(std430, binding = 3) readonly buffer X3 { float x3[]; };
layout(std430, binding = 4) readonly buffer T0 { float t0[]; };
layout(std430, binding = 5) readonly buffer T1 { float t1[]; };
layout(std430, binding = 6) readonly buffer T2 { float t2[]; };
layout(std430, binding = 7) readonly buffer T3 { float t3[]; };
layout(std430, binding = 8) readonly buffer G { float g[]; };
layout(std430, binding = 9) readonly buffer TG { float tg[]; };
layout(std430, binding = 10) writeonly buffer O0 { float o0[]; };
layout(std430, binding = 11) writeonly buffer O1 { float o1[]; };
layout(std430, binding = 12) writeonly buffer O2 { float o2[]; };
layout(std430, binding = 13) writeonly buffer O3 { float o3[]; };

void main() {
	uint i = flat_index();
	if (i >= p.n) return;
	if (OP == MSE) {
		uint row = i / p.k;
		float d = x0[i] - x1[i];
		float v = TANGENT != 0 ? g[row] * (t0[i] - t1[i]) + tg[row] * d : g[row] * d;
		o0[i] = p.scale * v;
		o1[i] = -p.scale * v;
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
