#version 450
// maxpool2d: max pooling over kh x kw windows with strides (sh, sw), no
// padding, floor mode (as PyTorch: OH = (H - kh) / sh + 1). x is viewed as
// `planes` = N*C planes of H x W. MODE picks the kernel:
//
//   FORWARD    y[o] = max over o's window; arg[o] = flat index into x of
//              the first maximum met in row-major window order (a NaN
//              wins, as in PyTorch)
//   TANGENT    ty[o] = tx[arg[o]]
//   BACKWARD   dx[i] = sum of g[o] over the windows o with arg[o] == i
//   BACKWARD_SCATTER  the same for windows that do not overlap (strides
//              at least the window): one invocation per window writes its
//              whole window (g[o] at the argmax, 0 elsewhere); the
//              launcher clears dx first when windows leave gaps
//
// The tangent of BACKWARD is BACKWARD applied to the cotangent's tangent:
// the argmax is locally constant. BACKWARD gathers (one invocation per
// input element, over the windows that can contain it), so overlapping
// windows need no atomics.
//
//   binding    0    1    2
//   FORWARD    y    arg  x    (arg written)
//   TANGENT    ty   arg  tx   (arg read)
//   BACKWARD   dx   arg  g    (arg read; also BACKWARD_SCATTER)
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint MODE = 0;

// The mode codes match kernels.maxpoolMode.
const uint FORWARD = 0, TANGENT = 1, BACKWARD = 2, BACKWARD_SCATTER = 3;

layout(push_constant) uniform Push {
	uint planes;
	uint h, w;   // input plane
	uint oh, ow; // output plane
	uint kh, kw;
	uint sh, sw;
} p;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(std430, binding = 1) buffer Arg { uint arg[]; };
layout(std430, binding = 2) readonly buffer In { float x[]; };

void main() {
	uint i = flat_index();
	if (MODE == FORWARD) {
		uint oplane = p.oh * p.ow;
		if (i >= p.planes * oplane) return;
		uint pl = i / oplane, r = i % oplane;
		uint oy = r / p.ow, ox = r % p.ow;
		uint base = pl * p.h * p.w + oy * p.sh * p.w + ox * p.sw;
		uint best = base;
		float bv = x[base];
		for (uint ky = 0; ky < p.kh; ky++) {
			for (uint kx = 0; kx < p.kw; kx++) {
				uint j = base + ky * p.w + kx;
				float v = x[j];
				if (v > bv || isnan(v) && !isnan(bv)) {
					bv = v;
					best = j;
				}
			}
		}
		o[i] = bv;
		arg[i] = best;
	} else if (MODE == TANGENT) {
		if (i >= p.planes * p.oh * p.ow) return;
		o[i] = x[arg[i]];
	} else if (MODE == BACKWARD_SCATTER) {
		uint oplane = p.oh * p.ow;
		if (i >= p.planes * oplane) return;
		uint pl = i / oplane, r = i % oplane;
		uint oy = r / p.ow, ox = r % p.ow;
		uint base = pl * p.h * p.w + oy * p.sh * p.w + ox * p.sw;
		uint a = arg[i];
		float gv = x[i];
		for (uint ky = 0; ky < p.kh; ky++) {
			for (uint kx = 0; kx < p.kw; kx++) {
				uint j = base + ky * p.w + kx;
				o[j] = j == a ? gv : 0.0;
			}
		}
	} else {
		uint plane = p.h * p.w;
		if (i >= p.planes * plane) return;
		uint pl = i / plane, r = i % plane;
		uint iy = r / p.w, ix = r % p.w;
		// Windows oy with oy*sh <= iy < oy*sh + kh.
		uint y0 = iy + 1 > p.kh ? (iy + 1 - p.kh + p.sh - 1) / p.sh : 0;
		uint y1 = min(iy / p.sh + 1, p.oh);
		uint x0 = ix + 1 > p.kw ? (ix + 1 - p.kw + p.sw - 1) / p.sw : 0;
		uint x1 = min(ix / p.sw + 1, p.ow);
		float s = 0.0;
		uint obase = pl * p.oh * p.ow;
		for (uint oy = y0; oy < y1; oy++) {
			for (uint ox = x0; ox < x1; ox++) {
				uint q = obase + oy * p.ow + ox;
				if (arg[q] == i) s += x[q];
			}
		}
		o[i] = s;
	}
}
