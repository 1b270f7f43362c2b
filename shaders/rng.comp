#version 450
// rng: counter-based random numbers, Philox4x32-10 (Salmon et al., SC'11,
// as in Random123). Element j of the stream of key (seed) is word j%4 of
// the block philox(counter = (j/4 as 64 bits, 0, 0), key = (seed lo, seed
// hi)). This dispatch writes elements offset .. offset+n-1, one block per
// invocation; seed and offset come from a 4-word state buffer
// (seed lo, seed hi, offset lo, offset hi) that the host can rewrite
// between replays.
//   UNIFORM: u = (x >> 8) * 2^-24 in [0, 1), exact on every device.
//   NORMAL:  Box-Muller on the pairs (x0, x1), (x2, x3) of a block:
//            u1 = ((x0 >> 8) + 1) * 2^-24 in (0, 1], u2 = (x1 >> 8) * 2^-24,
//            z0 = r cos(2 pi u2), z1 = r sin(2 pi u2), r = sqrt(-2 ln u1),
//            computed as -r cos(a), -r sin(a) with a = 2 pi u2 - pi in
//            [-pi, pi), where GPU sin and cos are most accurate.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint DIST = 0;

const uint UNIFORM = 0, NORMAL = 1;

// Philox4x32 multipliers and Weyl key increments (Random123).
const uint M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
const uint W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;

layout(push_constant) uniform Push { uint n; } p;
layout(std430, binding = 0) readonly buffer State { uint st[]; };
layout(std430, binding = 1) writeonly buffer Out { float o[]; };

uvec4 philox(uvec4 c, uvec2 k) {
	for (int r = 0; r < 10; r++) {
		if (r > 0) k += uvec2(W0, W1);
		uint hi0, lo0, hi1, lo1;
		umulExtended(M0, c.x, hi0, lo0);
		umulExtended(M1, c.z, hi1, lo1);
		c = uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
	}
	return c;
}

void main() {
	uint tid = flat_index();
	uint offLo = st[2], offHi = st[3];
	// Element e of this block lands at out[first + e].
	int first = int(4u * tid) - int(offLo & 3u);
	if (first >= int(p.n)) return;
	// block = offset/4 + tid, in 64 bits.
	uint lo = (offLo >> 2) | (offHi << 30), hi = offHi >> 2;
	uint carry;
	lo = uaddCarry(lo, tid, carry);
	hi += carry;
	uvec4 x = philox(uvec4(lo, hi, 0u, 0u), uvec2(st[0], st[1]));
	vec4 v;
	if (DIST == UNIFORM) {
		v = vec4(x >> 8u) * exp2(-24.0);
	} else {
		vec2 u1 = (vec2(x.xz >> 8u) + 1.0) * exp2(-24.0);
		vec2 a = vec2(x.yw >> 8u) * (exp2(-24.0) * 6.28318530717958647692) - 3.14159265358979323846;
		vec2 r = sqrt(-2.0 * log(u1));
		v = -vec4(r.x * cos(a.x), r.x * sin(a.x), r.y * cos(a.y), r.y * sin(a.y));
	}
	for (int e = 0; e < 4; e++) {
		int i = first + e;
		if (i >= 0 && i < int(p.n)) o[i] = v[e];
	}
}
