#version 450
// concat: one part of a concatenation along an axis. With `outer` the
// product of the dimensions before the axis, a part is `outer` rows of
// `len` floats that sit at column `off` of the whole's rows of `row`
// floats.
//
//   INSERT    whole[o*row + off + j] = part[o*len + j]   (concat)
//   EXTRACT   part[o*len + j] = whole[o*row + off + j]   (split)
//
// The launcher dispatches once per part.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint MODE = 0;

// The mode codes match kernels.concatMode.
const uint INSERT = 0, EXTRACT = 1;

layout(push_constant) uniform Push { uint outer; uint len; uint row; uint off; } p;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer In { float x[]; };

void main() {
	uint i = flat_index();
	if (i >= p.outer * p.len) return;
	uint r = i / p.len, j = i % p.len;
	uint w = r * p.row + p.off + j;
	if (MODE == INSERT) {
		o[w] = x[i];
	} else {
		o[i] = x[w];
	}
}
