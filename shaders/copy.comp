#version 450
// copy: y[i] = x[i] for i < n.
// variant: copy_texel -DTEXEL
// (x read as a uniform texel buffer of vec4: the gpu package's test of
// texel bindings)
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(push_constant) uniform Push { uint n; } p;
#ifdef TEXEL
layout(binding = 0) uniform samplerBuffer x4;
#define X(i) texelFetch(x4, int((i) >> 2))[(i) & 3]
#else
layout(std430, binding = 0) readonly buffer X { float x[]; };
#define X(i) x[i]
#endif
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

void main() {
	uint i = flat_index();
	if (i < p.n) y[i] = X(i);
}
