#version 450
// unary: y[i] = s[i] * f^(ORDER)(x[i]) for the elementwise function OP and
// its first and second derivatives (ORDER 0, 1, 2), which the VJP, the JVP
// and the tangent of the VJP need. With SCALED = 0, s is ignored (bind x).
// alpha is leaky_relu's negative slope.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint OP = 0;
layout(constant_id = 4) const uint ORDER = 0;
layout(constant_id = 5) const uint SCALED = 0;
// Elements per invocation: lavapipe pays per invocation, so a few
// consecutive elements each cut its overhead (see kernels.Vulkan.Elems).
layout(constant_id = 6) const uint ELEMS = 1;

// The op codes match kernels.UnaryOp.
const uint NEG = 0, SQUARE = 1, SQRT = 2, EXP = 3, LOG = 4, SIN = 5, COS = 6, TANH = 7, SIGMOID = 8,
           RELU = 9, LEAKY_RELU = 10, SOFTPLUS = 11;

layout(push_constant) uniform Push { uint n; float alpha; } p;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer S { float s[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

#include "activation.glsl"

float f(float v) {
	switch (OP) {
	case NEG:
		return ORDER == 0 ? -v : (ORDER == 1 ? -1.0 : 0.0);
	case SQUARE:
		return ORDER == 0 ? v * v : (ORDER == 1 ? 2.0 * v : 2.0);
	case SQRT: {
		float r = sqrt(v);
		return ORDER == 0 ? r : (ORDER == 1 ? 0.5 / r : -0.25 / (v * r));
	}
	case EXP:
		return exp(v);
	case LOG:
		return ORDER == 0 ? log(v) : (ORDER == 1 ? 1.0 / v : -1.0 / (v * v));
	case SIN:
		return ORDER == 0 ? sin(v) : (ORDER == 1 ? cos(v) : -sin(v));
	case COS:
		return ORDER == 0 ? cos(v) : (ORDER == 1 ? -sin(v) : -cos(v));
	case TANH: {
		float t = safe_tanh(v);
		return ORDER == 0 ? t : (ORDER == 1 ? 1.0 - t * t : -2.0 * t * (1.0 - t * t));
	}
	case SIGMOID: {
		float g = sigmoid(v);
		return ORDER == 0 ? g : (ORDER == 1 ? g * (1.0 - g) : g * (1.0 - g) * (1.0 - 2.0 * g));
	}
	case RELU:
		return ORDER == 0 ? max(v, 0.0) : (ORDER == 1 ? (v > 0.0 ? 1.0 : 0.0) : 0.0);
	case LEAKY_RELU:
		return ORDER == 0 ? (v > 0.0 ? v : p.alpha * v) : (ORDER == 1 ? (v > 0.0 ? 1.0 : p.alpha) : 0.0);
	case SOFTPLUS: {
		if (ORDER == 0) return max(v, 0.0) + log(1.0 + exp(-abs(v)));
		float g = sigmoid(v);
		return ORDER == 1 ? g : g * (1.0 - g);
	}
	}
	return 0.0;
}

void main() {
	uint base = flat_index() * ELEMS;
	for (uint e = 0; e < ELEMS; e++) {
		uint i = base + e;
		if (i >= p.n) return;
		float v = f(x[i]);
		y[i] = SCALED != 0 ? s[i] * v : v;
	}
}
