#version 450
// norm_apply: the elementwise passes of the normalizations, one
// invocation per element of x. With xh = (x - mean)*r, r = 1/sqrt(var +
// eps), gh = g*w, tgh = tg*w + g*tw and m_* the set means of the
// norm_sums sums (zero with EVAL: constant statistics):
//
//   FORWARD            y   = w*xh + b
//   TANGENT            ty  = tw*xh + w*txh + tb,
//                      txh = r*(tx - m_tx - xh*m_xhtx)
//   BACKWARD           dx  = r*(gh - m_gh - xh*m_ghxh)
//   TANGENT_BACKWARD   tdx = r*(tgh - m_tgh - txh*m_ghxh
//                               - xh*(m_tghxh + m_ghtxh)
//                               - r*m_xhtx*(gh - m_gh - xh*m_ghxh)),
//                      m_ghtxh = r*(m_ghtx - m_tx*m_gh - m_ghxh*m_xhtx)
//
//   binding  0    1  2     3    4        5        6  7   8   9
//            out  x  mean  var  setsums  w        b  g   tx  tw  tg
//                                                 (b: tb in TANGENT)
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"
#include "norm.glsl"

layout(constant_id = 3) const uint MODE = 0;
layout(constant_id = 4) const uint EVAL = 0;

// The mode codes match kernels.normApplyMode.
const uint FORWARD = 0, TANGENT = 1, BACKWARD = 2, TANGENT_BACKWARD = 3;

layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer Mean { float mean[]; };
layout(std430, binding = 3) readonly buffer Var { float var[]; };
layout(std430, binding = 4) readonly buffer Sums { float sums[]; };
layout(std430, binding = 5) readonly buffer W { float w[]; };
layout(std430, binding = 6) readonly buffer B { float b[]; };
layout(std430, binding = 7) readonly buffer G { float g[]; };
layout(std430, binding = 8) readonly buffer TX { float tx[]; };
layout(std430, binding = 9) readonly buffer TW { float tw[]; };
layout(std430, binding = 10) readonly buffer TG { float tg[]; };

float msum(uint st, uint q) { return EVAL != 0 ? 0.0 : sums[st * 8 + q] * p.invM; }

void main() {
	uint i = flat_index();
	if (i >= p.n * p.c * p.s) return;
	uint st = norm_set(i);
	uint ch = norm_channel(i);
	float r = 1.0 / sqrt(var[st] + p.eps);
	float xh = (x[i] - mean[st]) * r;
	if (MODE == FORWARD) {
		o[i] = w[ch] * xh + b[ch];
	} else if (MODE == TANGENT) {
		float txh = r * (tx[i] - msum(st, 0) - xh * msum(st, 1));
		o[i] = tw[ch] * xh + w[ch] * txh + b[ch];
	} else if (MODE == BACKWARD) {
		float gh = g[i] * w[ch];
		o[i] = r * (gh - msum(st, 0) - xh * msum(st, 1));
	} else {
		float mgh = msum(st, 0), mghxh = msum(st, 1), mtx = msum(st, 2), mxhtx = msum(st, 3);
		float mtgh = msum(st, 4), mtghxh = msum(st, 5), mghtx = msum(st, 6);
		float gh = g[i] * w[ch];
		float tgh = tg[i] * w[ch] + g[i] * tw[ch];
		float txh = r * (tx[i] - mtx - xh * mxhtx);
		float mghtxh = r * (mghtx - mtx * mgh - mghxh * mxhtx);
		float bw = gh - mgh - xh * mghxh;
		o[i] = r * (tgh - mtgh - txh * mghxh - xh * (mtghxh + mghtxh) - r * mxhtx * bw);
	}
}
