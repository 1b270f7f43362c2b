#version 450
// fill: y[i] = value for i < n.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(push_constant) uniform Push { uint n; float value; } p;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };

void main() {
	uint i = flat_index();
	if (i < p.n) y[i] = p.value;
}
