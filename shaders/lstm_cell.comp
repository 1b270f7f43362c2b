#version 450
// lstm_cell: the fused LSTM cell update from gate pre-activations
// z [B, 4H] (per row the gate blocks i, f, g, o, H values each) and the
// previous cell state c_prev [B, H]:
//
//   i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o)
//   c = f*c_prev + i*g,  h = o*tanh(c)
//
// MODE picks the kernel; every derivative order the meta-gradient needs has
// its own fused variant, and each recomputes the gates (cheaper than
// storing them):
//
//   FORWARD            (h, c)
//   BACKWARD           (dz, dc_prev) from the cotangents (gh, gc) of (h, c)
//   TANGENT            (th, tc) from the tangents (tz, tc_prev)
//   TANGENT_BACKWARD   the tangents of (dz, dc_prev) in direction
//                      (tz, tc_prev; tgh, tgc)
//
// Every mode binds the same ten buffers (a pipeline's layout must cover
// every binding its shader declares). A mode reads only the ones its row
// names; the launcher binds z or c_prev to the others.
//
//   binding            0    1         2  3       4   5   6   7        8    9
//   FORWARD            h    c         z  c_prev
//   BACKWARD           dz   dc_prev   z  c_prev  gh  gc
//   TANGENT            th   tc        z  c_prev          tz  tc_prev
//   TANGENT_BACKWARD   tdz  tdc_prev  z  c_prev  gh  gc  tz  tc_prev  tgh  tgc
//
// Bindings 0 and 1 are written, 2-9 read. One invocation per (b, j) cell.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint MODE = 0;

// The mode codes match kernels.lstmMode.
const uint FORWARD = 0, BACKWARD = 1, TANGENT = 2, TANGENT_BACKWARD = 3;

// n = B*H cells.
layout(push_constant) uniform Push { uint n; uint h; } p;
layout(std430, binding = 0) writeonly buffer Out0 { float out0[]; };
layout(std430, binding = 1) writeonly buffer Out1 { float out1[]; };
layout(std430, binding = 2) readonly buffer Z { float z[]; };
layout(std430, binding = 3) readonly buffer CPrev { float c_prev[]; };
layout(std430, binding = 4) readonly buffer GH { float gh[]; };
layout(std430, binding = 5) readonly buffer GC { float gc[]; };
layout(std430, binding = 6) readonly buffer TZ { float tz[]; };
layout(std430, binding = 7) readonly buffer TCPrev { float tc_prev[]; };
layout(std430, binding = 8) readonly buffer TGH { float tgh[]; };
layout(std430, binding = 9) readonly buffer TGC { float tgc[]; };

#include "activation.glsl"

void main() {
	uint k = flat_index();
	if (k >= p.n) return;
	uint b = k / p.h;
	uint zi = 4 * b * p.h + (k - b * p.h); // z index of gate i; f, g, o follow at +h
	uint zf = zi + p.h, zg = zf + p.h, zo = zg + p.h;

	float ig = sigmoid(z[zi]), fg = sigmoid(z[zf]), gg = safe_tanh(z[zg]), og = sigmoid(z[zo]);
	float cp = c_prev[k];
	float c = fg * cp + ig * gg;
	float tc = safe_tanh(c);
	// First derivatives of the activations at their pre-activations.
	float si = ig * (1.0 - ig), sf = fg * (1.0 - fg), sg = 1.0 - gg * gg, so = og * (1.0 - og);
	float u = 1.0 - tc * tc; // tanh'(c)

	if (MODE == FORWARD) {
		out0[k] = og * tc;
		out1[k] = c;
		return;
	}

	// Tangents of the gates and of c, for the tangent modes.
	float ti = 0.0, tf = 0.0, tg = 0.0, to = 0.0, tcell = 0.0;
	if (MODE == TANGENT || MODE == TANGENT_BACKWARD) {
		ti = si * tz[zi];
		tf = sf * tz[zf];
		tg = sg * tz[zg];
		to = so * tz[zo];
		tcell = tf * cp + fg * tc_prev[k] + ti * gg + ig * tg;
	}
	if (MODE == TANGENT) {
		out0[k] = to * tc + og * u * tcell;
		out1[k] = tcell;
		return;
	}

	// dct: the total cotangent of c, through h and directly.
	float h_bar = gh[k];
	float dct = gc[k] + h_bar * og * u;
	if (MODE == BACKWARD) {
		out0[zi] = dct * gg * si;
		out0[zf] = dct * cp * sf;
		out0[zg] = dct * ig * sg;
		out0[zo] = h_bar * tc * so;
		out1[k] = dct * fg;
		return;
	}

	// TANGENT_BACKWARD differentiates each BACKWARD line; the second
	// derivatives enter as d(sigmoid') = sigmoid'(1 - 2 sigmoid) dz and
	// d(tanh') = -2 tanh tanh' dz.
	float tu = -2.0 * tc * u * tcell;
	float th_bar = tgh[k];
	float tdct = tgc[k] + th_bar * og * u + h_bar * (to * u + og * tu);
	out0[zi] = tdct * gg * si + dct * (tg * si + gg * (1.0 - 2.0 * ig) * ti);
	out0[zf] = tdct * cp * sf + dct * (tc_prev[k] * sf + cp * (1.0 - 2.0 * fg) * tf);
	out0[zg] = tdct * ig * sg + dct * (ti * sg - 2.0 * ig * gg * tg);
	out0[zo] = th_bar * tc * so + h_bar * (u * tcell * so + tc * (1.0 - 2.0 * og) * to);
	out1[k] = tdct * fg + dct * tf;
}
