#version 450
// saxpy: y[i] = alpha * x[i] + y[i] for i < n.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(push_constant) uniform Push { uint n; float alpha; } p;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };

void main() {
	uint i = flat_index();
	if (i < p.n) y[i] = fma(p.alpha, x[i], y[i]);
}
