#version 450
// copy: y[i] = x[i] for i < n.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(push_constant) uniform Push { uint n; } p;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

void main() {
	uint i = flat_index();
	if (i < p.n) y[i] = x[i];
}
