#version 450
// upsample_nearest2d: nearest-neighbour upsampling of N*C planes of H x W
// by integer factors (fh, fw): y[pl, oy, ox] = x[pl, oy / fh, ox / fw].
//
//   FORWARD    y  from x    (also the tangent: the op is linear)
//   BACKWARD   dx[pl, iy, ix] = sum of g over the fh x fw block it fed
//              (also the tangent of the backward, applied to tg)
//
// One invocation per input element: the forward writes its block, the
// backward sums it.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint MODE = 0;

// The mode codes match kernels.upsampleMode.
const uint FORWARD = 0, BACKWARD = 1;

layout(push_constant) uniform Push {
	uint planes;
	uint h, w;   // input plane
	uint fh, fw; // factors
} p;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer In { float x[]; };

void main() {
	uint i = flat_index();
	uint ow = p.w * p.fw;
	uint plane = p.h * p.w;
	if (i >= p.planes * plane) return;
	uint pl = i / plane, r = i % plane;
	uint iy = r / p.w, ix = r % p.w;
	uint base = pl * plane * p.fh * p.fw + iy * p.fh * ow + ix * p.fw;
	if (MODE == FORWARD) {
		float v = x[i];
		for (uint a = 0; a < p.fh; a++) {
			for (uint b = 0; b < p.fw; b++) {
				o[base + a * ow + b] = v;
			}
		}
	} else {
		float s = 0.0;
		for (uint a = 0; a < p.fh; a++) {
			for (uint b = 0; b < p.fw; b++) {
				s += x[base + a * ow + b];
			}
		}
		o[i] = s;
	}
}
