#version 450
// cn_affine: the per-example conditional-normalization affine
// y[n,c,s] = x[n,c,s] * gamma[n,c] + beta[n,c], with x viewed as rows
// r = n*C + c of S elements. MODE picks the kernel; every derivative order
// the meta-gradient needs has its own fused variant:
//
//   FORWARD            y   = x*gamma + beta
//   TANGENT            ty  = tx*gamma + x*tgamma + tbeta
//   BACKWARD           dx  = g*gamma, dgamma = sum_s g*x, dbeta = sum_s g
//   TANGENT_BACKWARD   tdx = tg*gamma + g*tgamma,
//                      tdgamma = sum_s (tg*x + g*tx), tdbeta = sum_s tg
//
// Every mode binds the same nine buffers (a pipeline's layout must cover
// every binding its shader declares). A mode reads only the ones its row
// names; the launcher fills the others with aliases of buffers the
// dispatch already reads or writes, so they add no hazards.
//
//   binding            0    1        2       3  4      5      6   7       8
//   FORWARD            y                     x  gamma  beta
//   TANGENT            ty                    x  gamma  tbeta  tx  tgamma
//   BACKWARD           dx   dgamma   dbeta   x  gamma  g
//   TANGENT_BACKWARD   tdx  tdgamma  tdbeta  x  gamma  g      tx  tgamma  tg
//
// Bindings 0-2 are written, 3-8 read. Binding 5 holds one value per row
// (beta, tbeta) in the forward modes and one per element (g) in the
// backward ones.
//
// FORWARD and TANGENT run one invocation per element over a 1-D grid. The
// backward modes run one workgroup per row: each invocation strides over
// the row, then the workgroup adds its partial sums (wgreduce.glsl; the
// workgroup size is a power of two). With SERIAL (short rows,
// such as an MLP layer's S = 1) they run one invocation per row instead,
// summing it in order: a workgroup per row of one element costs lavapipe
// a whole workgroup launch and its barriers for each element.
//
// variant: cn_affine_texel -DTEXEL
// (bindings 3-8 again as uniform texel buffers of vec4 at 9-14; TEX bit
// j reads binding 3 + j from there)
// variant: cn_affine_subgroup -DSUBGROUP
// variant: cn_affine_subgroup_texel -DSUBGROUP -DTEXEL
// (the backward modes' workgroup sums with subgroup arithmetic)
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x_id = 0) in;
#include "index.glsl"
#include "fastdiv.glsl"
#define WG_T vec2
#include "wgreduce.glsl"

layout(constant_id = 3) const uint MODE = 0;
layout(constant_id = 4) const bool SERIAL = false;

// The mode codes match kernels.cnAffineMode.
const uint FORWARD = 0, BACKWARD = 1, TANGENT = 2, TANGENT_BACKWARD = 3;

// sm, sl: the magic numbers of a division by s (fastdiv.glsl).
layout(push_constant) uniform Push { uint rows; uint s; uint sm; uint sl; } p;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(std430, binding = 1) writeonly buffer Sum0 { float sum0[]; };
layout(std430, binding = 2) writeonly buffer Sum1 { float sum1[]; };
layout(std430, binding = 3) readonly buffer X { float x[]; };
layout(std430, binding = 4) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 5) readonly buffer In5 { float in5[]; };
layout(std430, binding = 6) readonly buffer TX { float tx[]; };
layout(std430, binding = 7) readonly buffer TGamma { float tgamma[]; };
layout(std430, binding = 8) readonly buffer TG { float tg[]; };
#ifdef TEXEL
layout(constant_id = 5) const uint TEX = 0;
layout(binding = 9) uniform samplerBuffer tex_x;
layout(binding = 10) uniform samplerBuffer tex_gamma;
layout(binding = 11) uniform samplerBuffer tex_in5;
layout(binding = 12) uniform samplerBuffer tex_tx;
layout(binding = 13) uniform samplerBuffer tex_tgamma;
layout(binding = 14) uniform samplerBuffer tex_tg;
// LD(j, name, i) reads element i of binding 3 + j.
#define LD(j, name, i) (((TEX >> j) & 1u) != 0 ? texelFetch(tex_##name, int((i) >> 2))[(i) & 3] : name[i])
#else
#define LD(j, name, i) name[i]
#endif

void elementwise() {
	uint i = flat_index();
	if (i >= p.rows * p.s) return;
	uint r = fast_div(i, p.sm, p.sl);
	// precise: every product and sum rounded on its own, as the fused
	// kernel computes these ops when the graph compiler merges them.
	precise float y;
	if (MODE == FORWARD) {
		y = LD(0, x, i) * LD(1, gamma, r) + LD(2, in5, r);
	} else {
		y = LD(3, tx, i) * LD(1, gamma, r) + LD(0, x, i) * LD(4, tgamma, r) + LD(2, in5, r);
	}
	o[i] = y;
}

// row_sums accumulates the backward modes' outputs over elements
// [j0, j1) of row r (stride step), writing dx or tdx, and returns the
// partial sums (dgamma, dbeta) or (tdgamma, tdbeta).
vec2 row_sums(uint r, uint j0, uint j1, uint step) {
	float gam = LD(1, gamma, r);
	float tgam = MODE == TANGENT_BACKWARD ? LD(4, tgamma, r) : 0.0;
	float a0 = 0.0, a1 = 0.0;
	for (uint j = j0; j < j1; j += step) {
		uint i = r * p.s + j;
		float g = LD(2, in5, i);
		if (MODE == BACKWARD) {
			o[i] = g * gam;
			a0 += g * LD(0, x, i);
			a1 += g;
		} else {
			float t = LD(5, tg, i);
			o[i] = t * gam + g * tgam;
			a0 += t * LD(0, x, i) + g * LD(3, tx, i);
			a1 += t;
		}
	}
	return vec2(a0, a1);
}

void serial_row() {
	uint r = flat_index();
	if (r >= p.rows) return;
	vec2 a = row_sums(r, 0, p.s, 1);
	sum0[r] = a.x;
	sum1[r] = a.y;
}

void reduce_row() {
	// The row is uniform across the workgroup, so returning early keeps
	// the reduction below in uniform control flow.
	uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
	if (r >= p.rows) return;
	uint lid = gl_LocalInvocationID.x;
	vec2 a = wg_reduce1(WG_ADD, row_sums(r, lid, p.s, gl_WorkGroupSize.x));
	if (lid == 0) {
		sum0[r] = a.x;
		sum1[r] = a.y;
	}
}

void main() {
	if (MODE == FORWARD || MODE == TANGENT) {
		elementwise();
	} else if (SERIAL) {
		serial_row();
	} else {
		reduce_row();
	}
}
