#version 450
// fused: one dispatch evaluates a small elementwise program, a chain or DAG
// of unary, binary and scalar ops that the graph compiler merged (see
// kernels.Fused), reading each input once and writing only the result.
//
// The program travels in specialization constants, so the driver compiles
// it to straight-line code: registers 0..NIN-1 hold the inputs at the
// element, register MAX_IN+k the result of instruction k, and the last
// instruction's register (input 0 without code) is written. Instruction k
// is the word Ck: bits 0-5 the opcode, 6-10 operand a, 11-15 operand b,
// 16-18 an immediate (push word 1+imm: a scalar op's constant, leaky_relu's
// slope), bit 19 a unary op scaled by register b.
//
// Each instruction computes as its op's own kernel does, and its result
// passes an identity the compiler cannot see through (opaque), as a value
// passes memory between two kernels: so nothing is rewritten across ops,
// and a fused program gives the unfused kernels' bits.
//
// Inputs are read in one of five modes (MODES, 3 bits per input): CONTIG,
// the output's own layout; SPLAT0, element 0 everywhere; or at an index
// computed from the element's coordinates over the collapsed output
// shape and the input's strides (push words after the dimensions, NDIM
// each, for the inputs read so): GATHER reads VEC elements at the
// innermost stride, ROWVEC one vec4 (innermost stride 1), ROWSPLAT one
// element (innermost stride 0). With VEC = 4 each invocation computes four
// consecutive elements (the launcher ensures n and, when an input is read
// by coordinates, the innermost dimension are multiples of 4). With
// REDUCE, each invocation sums VEC outputs over the leading axis instead
// (see main).
//
// variant: fused_texel -DTEXEL
// (each input again as a uniform texel buffer of vec4 at binding 9 + k;
// TEX bit k reads input k's vec4 loads from there)
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint NIN = 1;
layout(constant_id = 4) const uint NDIM = 1;
layout(constant_id = 5) const uint NCODE = 0;
layout(constant_id = 6) const uint VEC = 1;
layout(constant_id = 7) const uint MODES = 0;
layout(constant_id = 8) const uint C0 = 0;
layout(constant_id = 9) const uint C1 = 0;
layout(constant_id = 10) const uint C2 = 0;
layout(constant_id = 11) const uint C3 = 0;
layout(constant_id = 12) const uint C4 = 0;
layout(constant_id = 13) const uint C5 = 0;
layout(constant_id = 14) const uint C6 = 0;
layout(constant_id = 15) const uint C7 = 0;
layout(constant_id = 16) const uint C8 = 0;
layout(constant_id = 17) const uint C9 = 0;
layout(constant_id = 18) const uint C10 = 0;
layout(constant_id = 19) const uint C11 = 0;
layout(constant_id = 20) const uint C12 = 0;
layout(constant_id = 21) const uint C13 = 0;
layout(constant_id = 22) const uint C14 = 0;
layout(constant_id = 23) const uint C15 = 0;
layout(constant_id = 24) const uint C16 = 0;
layout(constant_id = 25) const uint C17 = 0;
layout(constant_id = 26) const uint C18 = 0;
layout(constant_id = 27) const uint C19 = 0;
layout(constant_id = 28) const uint C20 = 0;
layout(constant_id = 29) const uint C21 = 0;
layout(constant_id = 30) const uint C22 = 0;
layout(constant_id = 31) const uint C23 = 0;

// Push words: n, the NIMM immediates (MODES bits 26-29), the NDIM
// collapsed dimensions, then the strides.
const uint NIMM = (MODES >> 26) & 15u;
const uint MAX_IN = 8, MAX_DIMS = 6, DIMS_AT = 1 + NIMM, STRIDES_AT = DIMS_AT + NDIM, ROWS_AT = 30, SCALE_AT = 31;
// MODES bits 24-25: a sum over the leading axis (of the values, or of
// their squares), with the rows and the scale in the last push words.
const uint REDUCE = (MODES >> 24) & 3u, REDUCE_SUM = 1, REDUCE_SUMSQ = 2;
const uint CONTIG = 0, SPLAT0 = 1, GATHER = 2, ROWVEC = 3, ROWSPLAT = 4;
// Opcodes: 0..35 unary (3 * kernels.UnaryOp + order), then the binary ops
// (kernels.BinaryOp order: add, sub, mul, div) on two registers, on a
// register and an immediate, and on an immediate and a register.
const uint UNARY_END = 36, BINARY = 40, SCALAR_RIGHT = 44, SCALAR_LEFT = 48;

layout(push_constant) uniform Push { uint w[32]; } p;

// Each input binding is declared twice, as floats and as vec4s.
#define INPUT(k) \
	layout(std430, binding = k) readonly buffer X##k { float x##k[]; }; \
	layout(std430, binding = k) readonly buffer V##k { vec4 v##k[]; };
INPUT(0) INPUT(1) INPUT(2) INPUT(3) INPUT(4) INPUT(5) INPUT(6) INPUT(7)
#ifdef TEXEL
layout(constant_id = 32) const uint TEX = 0;
#define TEXELS(k) layout(binding = 9 + k) uniform samplerBuffer t##k;
TEXELS(0) TEXELS(1) TEXELS(2) TEXELS(3) TEXELS(4) TEXELS(5) TEXELS(6) TEXELS(7)
#define VLOAD(k, j) (((TEX >> k) & 1u) != 0 ? texelFetch(t##k, int(j)) : v##k[j])
#else
#define VLOAD(k, j) v##k[j]
#endif
layout(std430, binding = 8) writeonly buffer Y { float y[]; };
layout(std430, binding = 8) writeonly buffer Y4 { vec4 y4[]; };

#include "activation.glsl"
#include "unary_f.glsl"

// code is instruction word k (a constant once the loop is unrolled).
uint code(uint k) {
	switch (k) {
	case 0: return C0; case 1: return C1; case 2: return C2; case 3: return C3;
	case 4: return C4; case 5: return C5; case 6: return C6; case 7: return C7;
	case 8: return C8; case 9: return C9; case 10: return C10; case 11: return C11;
	case 12: return C12; case 13: return C13; case 14: return C14; case 15: return C15;
	case 16: return C16; case 17: return C17; case 18: return C18; case 19: return C19;
	case 20: return C20; case 21: return C21; case 22: return C22; case 23: return C23;
	}
	return 0;
}

uint mode(uint k) { return (MODES >> (3 * k)) & 7u; }

// stridesAt is the push word of input k's first stride.
uint stridesAt(uint k) {
	uint at = STRIDES_AT;
	for (uint j = 0; j < k; j++) {
		if (mode(j) >= GATHER) at += NDIM;
	}
	return at;
}

// binary is the binary kernel's arithmetic (binary.comp's apply).
float binary(uint op, float a, float b) {
	switch (op) {
	case 0: return a + b;
	case 1: return a - b;
	case 2: return a * b;
	}
	return a / b;
}

// Reads VEC elements of input k, at flat element i or, by coordinates, at
// index idx with innermost stride inner.
#define LOAD(k, i, idx, inner) \
	(mode(k) == CONTIG ? (VEC == 4 ? VLOAD(k, (i) >> 2) : vec4(x##k[i])) : \
	 mode(k) == SPLAT0 ? vec4(x##k[0]) : \
	 mode(k) == ROWVEC ? VLOAD(k, (idx) >> 2) : \
	 mode(k) == ROWSPLAT || VEC == 1 ? vec4(x##k[idx]) : \
	 vec4(x##k[idx], x##k[(idx) + (inner)], x##k[(idx) + 2 * (inner)], x##k[(idx) + 3 * (inner)]))

vec4 r[MAX_IN + 24];

// order_zero: f^(order) of op is the constant 0.
bool order_zero(uint op, uint order) {
	return order == 2 && (op == NEG || op == RELU || op == LEAKY_RELU);
}

vec4 imm(uint ins) { return vec4(uintBitsToFloat(p.w[1 + ((ins >> 16) & 7u)])); }

// opaque returns x unchanged, through an integer OR with zero that the
// compiler cannot see (n < 2^31, so n >> 31 is 0): each instruction's
// result crosses it as it crosses memory between two kernels. Otherwise
// the compiler would rewrite across ops, in ways that change bits: fold a
// transcendental of a constant derivative (neg', square'') at compile time,
// merge a scale into the division inside sigmoid, contract a multiply into
// the next add.
vec4 opaque(vec4 x) {
	return uintBitsToFloat(floatBitsToUint(x) | uvec4(p.w[0] >> 31));
}

// exec runs instruction k with the arithmetic of the op's own kernel
// (unary.comp: s[i] * f(x[i]); binary.comp: apply(a, b), apply(a, s),
// apply(s, a)).
void exec(uint k, uint ins) {
	uint op = ins & 63u;
	vec4 a = r[(ins >> 6) & 31u], b = r[(ins >> 11) & 31u];
	vec4 y;
	if (op < UNARY_END) {
		float alpha = imm(ins).x;
		vec4 f = vec4(unary_f(op / 3, op % 3, alpha, a.x), unary_f(op / 3, op % 3, alpha, a.y),
		              unary_f(op / 3, op % 3, alpha, a.z), unary_f(op / 3, op % 3, alpha, a.w));
		// A scaled derivative that is the constant 0 (neg'', relu'',
		// leaky_relu'') is +0, as the unary kernel's s[i] * 0.0 compiles
		// (folded), whatever the sign of s.
		bool zero = order_zero(op / 3, op % 3);
		y = ((ins >> 19) & 1u) != 0 ? (zero ? vec4(0.0) : b * f) : f;
	} else if (op < SCALAR_RIGHT) {
		y = vec4(binary(op - BINARY, a.x, b.x), binary(op - BINARY, a.y, b.y), binary(op - BINARY, a.z, b.z), binary(op - BINARY, a.w, b.w));
	} else {
		vec4 s = imm(ins);
		bool left = op >= SCALAR_LEFT;
		uint bop = left ? op - SCALAR_LEFT : op - SCALAR_RIGHT;
		vec4 u = left ? s : a, v = left ? a : s;
		y = vec4(binary(bop, u.x, v.x), binary(bop, u.y, v.y), binary(bop, u.z, v.z), binary(bop, u.w, v.w));
	}
	r[MAX_IN + k] = opaque(y);
}

// evaluate returns the program's result register at VEC elements from
// flat element i.
vec4 evaluate(uint i) {
	uint c[MAX_DIMS];
	uint rest = i;
	for (int d = int(NDIM) - 1; d >= 0; d--) {
		c[d] = rest % p.w[DIMS_AT + d];
		rest /= p.w[DIMS_AT + d];
	}
#define READ(k) if (k < NIN) { uint at = stridesAt(k); uint idx = 0; \
	if (mode(k) >= GATHER) { for (uint d = 0; d < NDIM; d++) idx += c[d] * p.w[at + d]; } \
	r[k] = LOAD(k, i, idx, mode(k) >= GATHER ? p.w[at + NDIM - 1] : 0u); }
	READ(0) READ(1) READ(2) READ(3) READ(4) READ(5) READ(6) READ(7)
	// Unrolled once the specialization constants are known, so every
	// switch on an instruction word folds away.
	[[unroll]] for (uint k = 0; k < NCODE; k++) exec(k, code(k));
	return NCODE == 0 ? r[0] : r[MAX_IN + NCODE - 1];
}

void main() {
	// Elementwise, invocation t computes VEC elements from VEC t. With
	// REDUCE it sums VEC outputs from VEC t over the ROWS rows instead, as
	// the reduce kernel does when it takes each output in one pass: the
	// same Kahan summation, in the same order, with the same scale. (With
	// VEC = 1 only the first component is a value; one loop keeps one copy
	// of the program.)
	uint rows = REDUCE != 0 ? p.w[ROWS_AT] : 1u;
	uint m = p.w[0] / rows;
	uint o = flat_index() * VEC;
	if (o >= m) return;
	vec4 value;
	precise vec4 s = vec4(0.0);
	precise vec4 cs = vec4(0.0);
	for (uint row = 0; row < rows; row++) {
		vec4 v = evaluate(row * m + o);
		if (REDUCE == 0) {
			value = v;
			continue;
		}
		if (REDUCE == REDUCE_SUMSQ) v *= v;
		precise vec4 yv = v - cs;
		precise vec4 tv = s + yv;
		cs = (tv - s) - yv;
		s = tv;
	}
	if (REDUCE != 0) value = s * uintBitsToFloat(p.w[SCALE_AT]);
	if (VEC == 4) {
		y4[o >> 2] = value;
	} else {
		y[o] = value.x;
	}
}
