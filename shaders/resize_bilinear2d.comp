#version 450
// resize_bilinear2d: bilinear resizing of N*C planes of H x W to OH x OW,
// as PyTorch's F.interpolate(mode="bilinear") without antialiasing (see
// kernels.ResizeShape for the coordinates, ALIGN for align_corners).
//
//   FORWARD    y from x, one invocation per output element (also the
//              tangent: the op is linear)
//   BACKWARD   dx[pl, iy, ix] = sum over the outputs that read input
//              (iy, ix) of their weight on it times g; one invocation per
//              input element, which gathers, so no atomics are needed
//              (also the tangent of the backward, applied to tg)
//
// Source coordinates are precise float32, computed exactly as the CPU
// reference does, so both pick the same taps.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint MODE = 0;
layout(constant_id = 4) const uint ALIGN = 0;

// The mode codes match kernels.resizeMode.
const uint FORWARD = 0, BACKWARD = 1;

layout(push_constant) uniform Push {
	uint planes;
	uint h, w;   // input plane
	uint oh, ow; // output plane
	float sy, sx; // source step per output pixel (kernels.resizeScale)
} p;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer In { float x[]; };

// taps returns, along an axis of n input pixels, the two pixels output
// pixel d reads (i0, i1) and the weight of i1 (that of i0 is 1 - l).
void taps(uint d, uint n, float scale, out uint i0, out uint i1, out float l) {
	precise float src;
	if (ALIGN != 0) {
		src = scale * float(d);
	} else {
		precise float c = float(d) + 0.5;
		precise float m = scale * c;
		src = max(m - 0.5, 0.0);
	}
	i0 = uint(src);
	i1 = i0 < n - 1 ? i0 + 1 : i0;
	l = src - float(i0);
}

// weight is the weight output pixel d puts on input pixel i.
float weight(uint d, uint i, uint n, float scale) {
	uint i0, i1;
	float l;
	taps(d, n, scale, i0, i1, l);
	float wgt = 0.0;
	if (i0 == i) wgt += 1.0 - l;
	if (i1 == i) wgt += l;
	return wgt;
}

// reach bounds the output pixels along an axis (out of them) that read
// input pixel i: those whose first tap is i - 1 or i, widened by one on
// each side against rounding; weight() then decides exactly.
void reach(uint i, uint out_n, float scale, out uint lo, out uint hi) {
	if (scale == 0.0) { // align_corners with one output pixel
		lo = 0;
		hi = out_n - 1;
		return;
	}
	float a, b;
	if (ALIGN != 0) {
		a = (float(i) - 1.0) / scale;
		b = (float(i) + 1.0) / scale;
	} else {
		a = (float(i) - 0.5) / scale - 0.5;
		b = (float(i) + 1.5) / scale - 0.5;
	}
	lo = uint(max(floor(a) - 1.0, 0.0));
	hi = uint(min(ceil(b) + 1.0, float(out_n - 1)));
}

void main() {
	uint i = flat_index();
	if (MODE == FORWARD) {
		uint plane = p.oh * p.ow;
		if (i >= p.planes * plane) return;
		uint pl = i / plane, r = i % plane;
		uint y0, y1, x0, x1;
		float ly, lx;
		taps(r / p.ow, p.h, p.sy, y0, y1, ly);
		taps(r % p.ow, p.w, p.sx, x0, x1, lx);
		uint base = pl * p.h * p.w;
		float top = (1.0 - lx) * x[base + y0 * p.w + x0] + lx * x[base + y0 * p.w + x1];
		float bot = (1.0 - lx) * x[base + y1 * p.w + x0] + lx * x[base + y1 * p.w + x1];
		o[i] = (1.0 - ly) * top + ly * bot;
	} else {
		uint plane = p.h * p.w;
		if (i >= p.planes * plane) return;
		uint pl = i / plane, r = i % plane;
		uint iy = r / p.w, ix = r % p.w;
		uint ylo, yhi, xlo, xhi;
		reach(iy, p.oh, p.sy, ylo, yhi);
		reach(ix, p.ow, p.sx, xlo, xhi);
		uint base = pl * p.oh * p.ow;
		float s = 0.0;
		for (uint oy = ylo; oy <= yhi; oy++) {
			float wy = weight(oy, iy, p.h, p.sy);
			if (wy == 0.0) continue;
			float row = 0.0;
			for (uint ox = xlo; ox <= xhi; ox++) {
				float wx = weight(ox, ix, p.w, p.sx);
				if (wx != 0.0) row += wx * x[base + oy * p.ow + ox];
			}
			s += wy * row;
		}
		o[i] = s;
	}
}
