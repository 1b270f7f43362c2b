#version 450
// optim_adam: one fused, bias-corrected Adam step in place, in PyTorch's
// order of operations. The step-dependent scalars come from a buffer the
// host rewrites before each run, so a recorded program is replayed across
// steps: sched[0] = lr / (1 - beta1^t), sched[1] = 1 / sqrt(1 - beta2^t).
// Weight decay: L2 (DECOUPLED 0: g += wd * p, torch.optim.Adam) or
// decoupled (DECOUPLED 1: p *= 1 - lr * wd first, torch.optim.AdamW).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint DECOUPLED = 0;

// decay: 1 - lr * wd (decoupled) or 1.
layout(push_constant) uniform Push { uint n; float beta1; float beta2; float eps; float wd; float decay; } p;
layout(std430, binding = 0) buffer P { float prm[]; };
layout(std430, binding = 1) readonly buffer G { float grad[]; };
layout(std430, binding = 2) buffer M { float m1[]; };
layout(std430, binding = 3) buffer V { float m2[]; };
layout(std430, binding = 4) readonly buffer S { float sched[]; };

void main() {
	uint i = flat_index();
	if (i >= p.n) return;
	float w = prm[i], g = grad[i];
	if (DECOUPLED != 0) {
		w *= p.decay;
	} else {
		g = fma(p.wd, w, g);
	}
	float m = fma(p.beta1, m1[i], (1.0 - p.beta1) * g);
	float v = fma(p.beta2, m2[i], (1.0 - p.beta2) * g * g);
	m1[i] = m;
	m2[i] = v;
	prm[i] = w - sched[0] * m / (sqrt(v) * sched[1] + p.eps);
}
