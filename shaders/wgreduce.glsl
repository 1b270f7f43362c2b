// Workgroup reductions (norm_stats, norm_sums, rowwise, loss, cn_affine):
// every invocation contributes values and gets their reduction over the
// workgroup. Two builds of the same source:
//
// - plain: a shared-memory tree, log2(WG) barrier stages (the workgroup
//   size WG must be a power of two);
// - SUBGROUP (the shader's NAME_subgroup variant, for devices with
//   subgroup arithmetic in compute shaders): each subgroup reduces its
//   lanes with GL_KHR_shader_subgroup_arithmetic, one lane stores the
//   subgroup's partial, and after ONE barrier every invocation combines
//   the gl_NumSubgroups partials in subgroup order.
//
// Both orders are fixed, so each build is deterministic; they add in
// different orders, so their sums differ in rounding. The SUBGROUP build
// needs every invocation of the workgroup active at the call (uniform
// control flow: return early only for a whole workgroup).
//
// Before including it (after the layout(local_size_x_id = ...) line) a
// shader may define WG_T, the type reduced (float by default, or a vector:
// its components are reduced apiece), WG_N, the most values one call
// reduces at once (1 by default), and WG_WITH_ARGMAX for op WG_ARGMAX (WG_T
// vec2). A SUBGROUP shader enables GL_KHR_shader_subgroup_arithmetic.
#ifndef WG_T
#define WG_T float
#endif
#ifndef WG_N
#define WG_N 1
#endif

// The ops: a sum, the minimum, the maximum, and (WG_ARGMAX, with
// WG_WITH_ARGMAX) the vec2 of the largest x and the smallest y among
// those: with y an index, the first index of the largest value.
const uint WG_ADD = 0, WG_MIN = 1, WG_MAX = 2, WG_ARGMAX = 3;

// Value q's slot of invocation (plain) or subgroup (SUBGROUP) i is
// wg_red[q * WG + i].
shared WG_T wg_red[WG_N * gl_WorkGroupSize.x];

WG_T wg_op(uint op, WG_T a, WG_T b) {
	switch (op) {
	case WG_MIN:
		return min(a, b);
	case WG_MAX:
		return max(a, b);
#ifdef WG_WITH_ARGMAX
	case WG_ARGMAX:
		return b.x > a.x || (b.x == a.x && b.y < a.y) ? b : a;
#endif
	}
	return a + b;
}

#ifdef SUBGROUP
WG_T wg_subgroup_op(uint op, WG_T v) {
	switch (op) {
	case WG_MIN:
		return subgroupMin(v);
	case WG_MAX:
		return subgroupMax(v);
#ifdef WG_WITH_ARGMAX
	case WG_ARGMAX: {
		float m = subgroupMax(v.x);
		return vec2(m, subgroupMin(v.x == m ? v.y : uintBitsToFloat(0x7f800000u)));
	}
#endif
	}
	return subgroupAdd(v);
}
#endif

// wg_reduce replaces v[0..n) (n <= WG_N, uniform) of every invocation by
// their reduction with op over the workgroup. It leaves wg_red in use:
// call barrier() before calling it again.
void wg_reduce(uint op, inout WG_T v[WG_N], uint n) {
	uint wg = gl_WorkGroupSize.x;
#ifdef SUBGROUP
	for (uint q = 0; q < n; q++) {
		WG_T s = wg_subgroup_op(op, v[q]);
		if (subgroupElect()) wg_red[q * wg + gl_SubgroupID] = s;
	}
	barrier();
	for (uint q = 0; q < n; q++) {
		WG_T s = wg_red[q * wg];
		for (uint i = 1; i < gl_NumSubgroups; i++) s = wg_op(op, s, wg_red[q * wg + i]);
		v[q] = s;
	}
#else
	uint lid = gl_LocalInvocationID.x;
	for (uint q = 0; q < n; q++) wg_red[q * wg + lid] = v[q];
	barrier();
	for (uint h = wg / 2; h > 0; h /= 2) {
		if (lid < h) {
			for (uint q = 0; q < n; q++) wg_red[q * wg + lid] = wg_op(op, wg_red[q * wg + lid], wg_red[q * wg + lid + h]);
		}
		barrier();
	}
	for (uint q = 0; q < n; q++) v[q] = wg_red[q * wg];
#endif
}

// wg_reduce1 is wg_reduce of one value.
WG_T wg_reduce1(uint op, WG_T v) {
	WG_T a[WG_N];
	a[0] = v;
	wg_reduce(op, a, 1);
	return a[0];
}
