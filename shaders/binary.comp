#version 450
// binary: y = a OP b elementwise with NumPy broadcasting. The launcher
// collapses the output shape to NDIM dimensions (1..6, dim[]) and passes
// each operand's element strides over them (sa[], sb[]; 0 along broadcast
// dimensions), and for each dimension the magic numbers of a division by
// it (mag[], shifts[] four to a word; see fastdiv.glsl). SCALAR = 1
// computes a OP s and SCALAR = 2 s OP a with s a push constant; OP =
// FIRST copies a broadcast (the adjoint of a sum).
// In those modes b is not read (bind a).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"
#include "fastdiv.glsl"

layout(constant_id = 3) const uint OP = 0;
layout(constant_id = 4) const uint NDIM = 1;
layout(constant_id = 5) const uint SCALAR = 0;

// The op codes match kernels.BinaryOp.
const uint ADD = 0, SUB = 1, MUL = 2, DIV = 3, FIRST = 4;
const uint MAX_DIMS = 6;

layout(push_constant) uniform Push {
	uint n;
	float s;
	uint dim[MAX_DIMS];
	uint sa[MAX_DIMS];
	uint sb[MAX_DIMS];
	uint mag[MAX_DIMS];
	uint shifts[2];
} p;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

float apply(float u, float v) {
	switch (OP) {
	case ADD: return u + v;
	case SUB: return u - v;
	case MUL: return u * v;
	case DIV: return u / v;
	}
	return u;
}

void main() {
	uint i = flat_index();
	if (i >= p.n) return;
	uint ia = 0, ib = 0;
	if (NDIM == 1) {
		ia = i * p.sa[0];
		ib = i * p.sb[0];
	} else {
		uint r = i;
		for (int d = int(NDIM) - 1; d >= 0; d--) {
			uint q = fast_div(r, p.mag[d], packed_shift(p.shifts[d / 4], d));
			uint c = r - q * p.dim[d];
			r = q;
			ia += c * p.sa[d];
			ib += c * p.sb[d];
		}
	}
	float u = a[ia];
	if (OP == FIRST) {
		y[i] = u;
	} else if (SCALAR == 1) {
		y[i] = apply(u, p.s);
	} else if (SCALAR == 2) {
		y[i] = apply(p.s, u);
	} else {
		y[i] = apply(u, b[ib]);
	}
}
