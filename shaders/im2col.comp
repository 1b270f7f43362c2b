#version 450
// im2col: the data movement of the GEMM form of conv2d (see kernels/conv_gemm_vk.go).
// The geometry is conv2d's: input X [N,C,H,W], kernel KH x KW, stride S,
// padding P, output [N,K,OH,OW]. A column matrix has one row per tap
// r = (c*KH + ky)*KW + kx (C*KH*KW rows) and one column per output pixel
// s = oy*OW + ox of image n; its element (r, n, s) is stored at
// r*rowStride + n*nStride + s, so [N, CKK, OH*OW] (rowStride = OH*OW,
// nStride = CKK*OH*OW) and [CKK, N*OH*OW] (rowStride = N*OH*OW,
// nStride = OH*OW) are both layouts of it.
//
//   MODE 0 IM2COL  out = col, in = X: col(r, n, s) = X[n,c,iy,ix] or 0
//                  outside, with iy = oy*S - P + ky, ix = ox*S - P + kx.
//   MODE 1 COL2IM  out = dX [N,C,H,W], in = col: a gather, each input pixel
//                  sums the col entries that map to it (+ bias[c] with
//                  BIAS), so no atomics.
//   MODE 2 PACK    out = [K, N, OH*OW], in = [N, K, OH*OW] (a transpose
//                  of the two leading axes).
//   MODE 3 BIAS    out = Y [N,K,OH*OW] in place: Y += bias[k]; binding 1
//                  is the bias.
//
// Each invocation handles TN consecutive elements of its output (one row
// segment), so the index arithmetic is paid once per segment.
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 1) const uint MODE = 0;
layout(constant_id = 2) const int S = 1;
layout(constant_id = 3) const int P = 0;
layout(constant_id = 4) const int KH = 3;
layout(constant_id = 5) const int KW = 3;
layout(constant_id = 6) const bool BIAS = false;
layout(constant_id = 7) const uint TN = 4;

layout(push_constant) uniform Push { uint N, C, H, W, K, OH, OW, rowStride, nStride; } p;
layout(std430, binding = 0) buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer In { float x[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };

void main() {
	const uint seg = flat_index();
	const uint OHW = p.OH * p.OW;
	if (MODE == 0) {
		// Segments of TN pixels along s within each (n, r).
		const uint segs = (OHW + TN - 1) / TN;
		const uint CKK = p.C * uint(KH * KW);
		if (seg >= p.N * CKK * segs) return;
		const uint s0 = (seg % segs) * TN, t = seg / segs;
		const uint r = t % CKK, n = t / CKK;
		const int kx = int(r % uint(KW)), ky = int((r / uint(KW)) % uint(KH));
		const uint c = r / uint(KH * KW);
		const uint xbase = (n * p.C + c) * p.H * p.W;
		const uint obase = r * p.rowStride + n * p.nStride;
		uint oy = s0 / p.OW, ox = s0 % p.OW;
		for (uint e = 0; e < TN; e++) {
			const uint s = s0 + e;
			if (s >= OHW) break;
			const int iy = int(oy) * S - P + ky, ix = int(ox) * S - P + kx;
			float v = 0.0;
			if (iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W)) v = x[xbase + uint(iy) * p.W + uint(ix)];
			o[obase + s] = v;
			if (++ox == p.OW) ox = 0, oy++;
		}
	} else if (MODE == 1) {
		// Segments of TN pixels along a row of dX.
		const uint segs = (p.W + TN - 1) / TN;
		if (seg >= p.N * p.C * p.H * segs) return;
		const uint ix0 = (seg % segs) * TN, t = seg / segs;
		const uint iy = t % p.H, c = (t / p.H) % p.C, n = t / (p.H * p.C);
		const uint obase = ((n * p.C + c) * p.H + iy) * p.W;
		const float b0 = BIAS ? bias[c] : 0.0;
		for (uint e = 0; e < TN; e++) {
			const uint ix = ix0 + e;
			if (ix >= p.W) break;
			float acc = b0;
			for (int ky = 0; ky < KH; ky++) {
				const int ty = int(iy) + P - ky;
				if (ty < 0 || ty % S != 0 || ty / S >= int(p.OH)) continue;
				for (int kx = 0; kx < KW; kx++) {
					const int tx = int(ix) + P - kx;
					if (tx < 0 || tx % S != 0 || tx / S >= int(p.OW)) continue;
					const uint r = (c * uint(KH) + uint(ky)) * uint(KW) + uint(kx);
					acc += x[r * p.rowStride + n * p.nStride + uint(ty / S) * p.OW + uint(tx / S)];
				}
			}
			o[obase + ix] = acc;
		}
	} else if (MODE == 2) {
		const uint segs = (OHW + TN - 1) / TN;
		if (seg >= p.N * p.K * segs) return;
		const uint s0 = (seg % segs) * TN, t = seg / segs;
		const uint k = t % p.K, n = t / p.K;
		const uint ibase = (n * p.K + k) * OHW, obase = (k * p.N + n) * OHW;
		for (uint e = 0; e < TN; e++) {
			if (s0 + e >= OHW) break;
			o[obase + s0 + e] = x[ibase + s0 + e];
		}
	} else {
		const uint segs = (OHW + TN - 1) / TN;
		if (seg >= p.N * p.K * segs) return;
		const uint s0 = (seg % segs) * TN, t = seg / segs;
		const uint base = t * OHW;
		const float b = x[t % p.K];
		for (uint e = 0; e < TN; e++) {
			if (s0 + e >= OHW) break;
			o[base + s0 + e] += b;
		}
	}
}
