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
layout(constant_id = 5) const uint ELEMS = 1;

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
	// Each invocation takes ELEMS consecutive elements of one (sample,
	// channel) row, so the row's set, channel and statistics are loaded
	// once per invocation.
	uint t = flat_index();
	uint chunks = (p.s + ELEMS - 1) / ELEMS;
	if (t >= p.n * p.c * chunks) return;
	uint row = t / chunks;
	uint j0 = (t - row * chunks) * ELEMS;
	uint ch = row % p.c;
	uint st = p.g == 0 ? ch : (row / p.c) * p.g + ch / (p.c / p.g);
	float r = 1.0 / sqrt(var[st] + p.eps);
	float mu = mean[st];
	float wc = w[ch];
	float bc = MODE == FORWARD || MODE == TANGENT ? b[ch] : 0.0;
	float twc = MODE == TANGENT || MODE == TANGENT_BACKWARD ? tw[ch] : 0.0;
	float m0 = msum(st, 0), m1 = msum(st, 1);
	float mtx = 0.0, mxhtx = 0.0, mtgh = 0.0, mtghxh = 0.0, mghtx = 0.0, mghtxh = 0.0;
	if (MODE == TANGENT_BACKWARD) {
		mtx = msum(st, 2);
		mxhtx = msum(st, 3);
		mtgh = msum(st, 4);
		mtghxh = msum(st, 5);
		mghtx = msum(st, 6);
		// m(gh*txh), expanded; m0 = m(gh), m1 = m(gh*xh).
		mghtxh = r * (mghtx - mtx * m0 - m1 * mxhtx);
	}
	uint jn = min(j0 + ELEMS, p.s);
	for (uint j = j0; j < jn; j++) {
		uint i = row * p.s + j;
		float xh = (x[i] - mu) * r;
		if (MODE == FORWARD) {
			o[i] = wc * xh + bc;
		} else if (MODE == TANGENT) {
			// m0 = m(tx), m1 = m(xh*tx).
			float txh = r * (tx[i] - m0 - xh * m1);
			o[i] = twc * xh + wc * txh + bc;
		} else if (MODE == BACKWARD) {
			o[i] = r * (g[i] * wc - m0 - xh * m1);
		} else {
			float gh = g[i] * wc;
			float tgh = tg[i] * wc + g[i] * twc;
			float txh = r * (tx[i] - mtx - xh * mxhtx);
			float bw = gh - m0 - xh * m1;
			// dr = -r^2 m(xh*tx).
			o[i] = r * (tgh - mtgh - txh * m1 - xh * (mtghxh + mghtxh) - r * mxhtx * bw);
		}
	}
}
