#version 450
// reduce: partial sums of x (squared with SQUARE) over the reduced axes.
// The launcher groups the input's dimensions into at most 3 kept runs
// (kdim, kstr) and 3 reduced runs (rdim, rstr), so output o and reduced
// element r read x[Σ o_k kstr_k + Σ r_j rstr_j]. Each output's rlen
// elements are split into `parts` interleaved partial sums, one per
// thread, written to y[o * parts + part] times scale; a second dispatch
// with parts = 1 sums the partials. Threads share nothing: no barriers.
// The reduced runs' coordinates come from multiply-highs by the magic
// numbers rmag, rshift (fastdiv.glsl), not integer divisions per element.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"
#include "fastdiv.glsl"

layout(constant_id = 3) const uint KD = 1; // kept runs, 0..3
layout(constant_id = 4) const uint RD = 1; // reduced runs, 0..3
layout(constant_id = 5) const uint SQUARE = 0;

layout(push_constant) uniform Push {
	uint m;         // outputs
	uint rlen;      // reduced elements per output
	uint parts;     // partial sums per output
	uint partsFast; // 1: adjacent threads take adjacent parts of one output
	float scale;
	uint kdim[3];
	uint kstr[3];
	uint rdim[3];
	uint rstr[3];
	uint rmag[3];
	uint rshift; // three 8-bit shifts
} p;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

void main() {
	uint t = flat_index();
	if (t >= p.m * p.parts) return;
	uint o = p.partsFast != 0 ? t / p.parts : t % p.m;
	uint part = p.partsFast != 0 ? t % p.parts : t / p.m;
	uint base = 0;
	uint q = o;
	for (int d = int(KD) - 1; d >= 0; d--) {
		base += (q % p.kdim[d]) * p.kstr[d];
		q /= p.kdim[d];
	}
	// Kahan summation; precise stops the compiler from folding the
	// compensation away or contracting it into fused multiply-adds.
	precise float s = 0.0;
	precise float c = 0.0;
	for (uint r = part; r < p.rlen; r += p.parts) {
		uint off = 0;
		if (RD == 1) {
			off = r * p.rstr[0];
		} else {
			uint u = r;
			for (int d = int(RD) - 1; d >= 0; d--) {
				uint q = fast_div(u, p.rmag[d], packed_shift(p.rshift, d));
				off += (u - q * p.rdim[d]) * p.rstr[d];
				u = q;
			}
		}
		float v = x[base + off];
		if (SQUARE != 0) v *= v;
		precise float yv = v - c;
		precise float tv = s + yv;
		c = (tv - s) - yv;
		s = tv;
	}
	y[o * p.parts + part] = s * p.scale;
}
