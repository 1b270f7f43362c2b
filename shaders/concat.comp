#version 450
// concat: one part of a concatenation along an axis. With `outer` the
// product of the dimensions before the axis, a part is `outer` rows of
// `len` floats that sit at column `off` of the whole's rows of `row`
// floats.
//
//   INSERT    whole[o*row + off + j] = part[o*len + j]   (concat)
//   EXTRACT   part[o*len + j] = whole[o*row + off + j]   (split)
//
// The launcher dispatches once per part; each invocation copies ELEMS
// consecutive floats of one row.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint MODE = 0;

// The mode codes match kernels.concatMode.
const uint INSERT = 0, EXTRACT = 1;

layout(constant_id = 4) const uint ELEMS = 1;

layout(push_constant) uniform Push { uint outer; uint len; uint row; uint off; } p;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer In { float x[]; };

void main() {
	uint t = flat_index();
	uint chunks = (p.len + ELEMS - 1) / ELEMS;
	if (t >= p.outer * chunks) return;
	uint r = t / chunks;
	uint j0 = (t - r * chunks) * ELEMS;
	uint jn = min(j0 + ELEMS, p.len);
	uint part = r * p.len, whole = r * p.row + p.off;
	for (uint j = j0; j < jn; j++) {
		if (MODE == INSERT) {
			o[whole + j] = x[part + j];
		} else {
			o[part + j] = x[whole + j];
		}
	}
}
