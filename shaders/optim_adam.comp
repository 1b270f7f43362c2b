#version 450
// optim_adam: one fused, bias-corrected Adam step in place, in PyTorch's
// order of operations, over up to MAXT tensors in one dispatch (a model's
// many small parameters would otherwise cost a dispatch each). The
// step-dependent scalars come from a buffer the host rewrites before each
// run, so a recorded program is replayed across steps:
// sched[0] = lr / (1 - beta1^t), sched[1] = 1 / sqrt(1 - beta2^t).
// Weight decay: L2 (DECOUPLED 0: g += wd * p, torch.optim.Adam) or
// decoupled (DECOUPLED 1: p *= 1 - lr * wd first, torch.optim.AdamW).
//
// Tensor t takes the flat invocations first[t] .. first[t] + n[t] - 1.
// Every first[t] is a multiple of the workgroup size, so a workgroup serves
// one tensor and picks its buffers uniformly; unused slots have
// first[t] = 0xffffffff and alias tensor 0's buffers.
//
// CLIP 1 reads each gradient scaled by min(1, maxNorm / (norm[0] + 1e-6)),
// clip_grad_norm_ with its norm computed before, the gradients themselves
// left as they are. The product is the one the in-place clip pass of
// optim.comp stores, so the parameters come out the same either way.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "index.glsl"

layout(constant_id = 3) const uint DECOUPLED = 0;
layout(constant_id = 4) const uint CLIP = 0;

// MAXT matches kernels.adamTensors: 4 tensors are 16 bindings, with the
// two scalars' 18, inside what desktop and mobile GPUs allow a stage.
const uint MAXT = 4;

// decay: 1 - lr * wd (decoupled) or 1.
layout(push_constant) uniform Push {
	uint n[MAXT];
	uint first[MAXT];
	float beta1;
	float beta2;
	float eps;
	float wd;
	float decay;
	float maxNorm;
} p;
layout(std430, binding = 0) readonly buffer S { float sched[]; };
layout(std430, binding = 1) readonly buffer N { float norm[]; };

#define TENSOR(t) \
	layout(std430, binding = 2 + 4 * t) buffer P##t { float prm##t[]; }; \
	layout(std430, binding = 3 + 4 * t) readonly buffer G##t { float grad##t[]; }; \
	layout(std430, binding = 4 + 4 * t) buffer M##t { float m1##t[]; }; \
	layout(std430, binding = 5 + 4 * t) buffer V##t { float m2##t[]; };
TENSOR(0)
TENSOR(1)
TENSOR(2)
TENSOR(3)

#define LOAD(t) case t: w = prm##t[j]; g = grad##t[j]; m = m1##t[j]; v = m2##t[j]; break;
#define STORE(t) case t: prm##t[j] = w; m1##t[j] = m; m2##t[j] = v; break;

void main() {
	uint i = flat_index();
	uint t = 0;
	for (uint k = 1; k < MAXT; k++) {
		if (i >= p.first[k]) t = k;
	}
	uint j = i - p.first[t];
	if (j >= p.n[t]) return;
	float w, g, m, v;
	switch (t) {
	LOAD(0) LOAD(1) LOAD(2) LOAD(3)
	}
	if (CLIP != 0) {
		g *= min(1.0, p.maxNorm / (norm[0] + 1e-6));
	}
	if (DECOUPLED != 0) {
		w *= p.decay;
	} else {
		g = fma(p.wd, w, g);
	}
	m = fma(p.beta1, m, (1.0 - p.beta1) * g);
	v = fma(p.beta2, v, (1.0 - p.beta2) * g * g);
	w = w - sched[0] * m / (sqrt(v) * sched[1] + p.eps);
	switch (t) {
	STORE(0) STORE(1) STORE(2) STORE(3)
	}
}
