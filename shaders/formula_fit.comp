#version 450
// formula_fit: fits the parameters theta (NP of them, at most 4) of many
// candidate conserved quantities f(q, p; theta) at once, one workgroup per
// candidate, the whole optimisation loop inside the shader.
//
// Objective (kernels.FormulaFitRequest documents it for callers): over a
// set of sequences s of L_s points, W = mean_s (1/L_s) sum_i (f_i - m_s)^2
// with m_s the mean of f over s, and R = W_true / W_rand. The loop runs
// `steps` Adam steps on log R, d log R = dW_true / W_true - dW_rand / W_rand
// with dW_s = (2 / L_s) sum_i (f_i - m_s) df_i (the m_s term drops out
// because the centred values sum to zero), then `polish` Newton steps on
// W_true - R W_rand at the current R (Dinkelbach's method for a ratio)
// with the Gauss-Newton Hessians H_s = (2 / L_s) sum_i (df_i - mdf_s)
// (df_i - mdf_s)^T, a Levenberg-Marquardt ridge and a trust region (see
// newton): a Newton step that does not lower R below its start's (the
// anchor's) is halved.
//
// Formulas are postfix bytecode (kernels.FormulaOp), interpreted at 4
// points at a time (vec4). The program is the same for every invocation of
// a workgroup, so the interpreter's branches are uniform. Derivatives are
// forward mode: each stack entry carries its value and NP partial
// derivatives. The stack is DEPTH registers that every push or pop shifts,
// rather than an array indexed by a stack pointer, and pipelines are
// specialised to what their candidates use (NP, DEPTH, TRIG, DIV): lavapipe
// runs every branch of the interpreter under masks and turns a dynamic
// index into a gather or scatter per invocation, so what is left out costs
// nothing and what stays costs the same for every instruction.
//
// Threads take whole sequences (thread t: sequences t, t + WG, ...) and
// run two passes over each: the mean first (summed as differences from the
// first value, which keeps float32 digits when f is nearly constant), then
// the centred sums with derivatives. The workgroup adds the threads'
// partial sums through shared memory; every thread adds them in the same
// order and so computes the same update, which keeps the loop's control
// flow uniform with one barrier per step (the partial sums alternate
// between two halves of the shared array, so a thread writing step t+1's
// cannot overwrite step t's while another still reads them).
//
// An Adam step whose R or gradient is not finite, or a polish step whose
// Newton system is not positive definite, ends the loop (nothing would
// change any more). The result is the parameters of the lowest finite R
// seen and that R, or +Inf when none was finite.
//
// The loop may be split over several dispatches (push constants from, to):
// the optimiser's state goes to a buffer between them. lavapipe needs it
// (see kernels.lavapipeLoopLimit).
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x_id = 0) in;

layout(constant_id = 3) const uint NP = 1;       // parameters of this dispatch's candidates, 0..4
layout(constant_id = 4) const bool TRIG = true;  // some candidate uses sin or cos
layout(constant_id = 5) const bool DIV = true;   // some candidate divides
layout(constant_id = 6) const uint DEPTH = 16;   // stack registers, 4, 8 or 16: the deepest stack of this dispatch's candidates or more

// Sizes and opcodes match kernels (formula.go).
const uint CODE = 16, DMAX = 16, NPMAX = 4, NCONST = 4;
const uint OP_END = 0, OP_Q = 1, OP_P = 2, OP_PARAM = 3, OP_CONST = 4, OP_ADD = 5, OP_SUB = 6, OP_MUL = 7,
	OP_DIV = 8, OP_NEG = 9, OP_SQUARE = 10, OP_SIN = 11, OP_COS = 12;
const uint OP_BITS = 8;
const float HALF_PI = 1.57079632679489662;
const float RIDGES[4] = float[](1e-6, 1e-4, 1e-2, 1.0); // kernels.formulaRidges

// Loops over parameters and stack registers have bounds fixed at compile
// time, unrolled by glslc, with guards that fold once the specialization
// constants are known: llvmpipe (lavapipe) does not unroll loops itself,
// and every iteration of a loop would count against its loop limit (see
// kernels.lavapipeLoopLimit).
#define FOR_PARAMS(k) [[unroll]] for (uint k = 0; k < NPMAX; k++) if (k < NP)
// Stack registers 0 .. DEPTH-3 upwards and DEPTH-2 .. 1 downwards.
#define FOR_UP(k) [[unroll]] for (uint k = 0; k < DMAX - 2; k++) if (k + 2 < DEPTH)
#define FOR_DOWN(k) [[unroll]] for (uint k = DMAX - 2; k > 0; k--) if (k + 2 <= DEPTH)
// The same over sd, register j of parameter k at j * NPMAX + k.
#define FOR_UP_FLAT(i) [[unroll]] for (uint i = 0; i < (DMAX - 2) * NPMAX; i++) if (i / NPMAX + 2 < DEPTH && i % NPMAX < NP)
#define FOR_DOWN_FLAT(i) [[unroll]] for (uint i = (DMAX - 1) * NPMAX - 1; i >= NPMAX; i--) if (i / NPMAX + 2 <= DEPTH && i % NPMAX < NP)

// The state a candidate carries from one dispatch to the next.
const uint ST_THETA = 0, ST_M1 = 4, ST_M2 = 8, ST_BEST_THETA = 12, ST_ANCHOR = 16, ST_BEST = 20, ST_B1T = 21,
	ST_B2T = 22, ST_DONE = 23, ST_ANCHOR_R = 24, ST_SIZE = 25;

layout(push_constant) uniform Push {
	uint first;  // candidate of workgroup 0
	uint nTrue;  // true sequences: offs[0 .. nTrue]
	uint nRand;  // random sequences: offs[nTrue + 1 .. nTrue + 1 + nRand]
	uint steps;  // Adam steps
	uint polish; // Newton steps after them
	uint from;   // this dispatch runs loop iterations from .. to-1 of 0 .. steps + polish
	uint to;
	float lr;    // peak learning rate of the cosine schedule
	float beta1;
	float beta2;
	float eps;
} pc;

layout(std430, binding = 0) readonly buffer Code { uint code[]; };       // CODE words per candidate
layout(std430, binding = 1) readonly buffer Consts { float consts[]; };  // NCONST per candidate
layout(std430, binding = 2) readonly buffer Init { float init[]; };      // NPMAX per candidate
layout(std430, binding = 3) readonly buffer Points { vec2 pts[]; };      // (q, p)
layout(std430, binding = 4) readonly buffer Offsets { uint offs[]; };
layout(std430, binding = 5) buffer State { float state[]; };             // ST_SIZE per candidate
layout(std430, binding = 6) writeonly buffer Fit { float fit[]; };       // NPMAX per candidate
layout(std430, binding = 7) writeonly buffer Score { float score[]; };

// The sums a step reduces over a set of sequences, at offsets: W, its
// gradient (NP), its Gauss-Newton Hessian (the lower triangle, row by row,
// NP (NP + 1) / 2).
const uint NTRI = NPMAX * (NPMAX + 1) / 2, SUMS_MAX = 1 + NPMAX + NTRI;
const uint SUMS = 1 + NP + NP * (NP + 1) / 2;
const uint S_W = 0, S_G = 1, S_H = 1 + NP;
// Row and column of the triangle's entries.
const uint TRI_K[NTRI] = uint[](0, 1, 1, 2, 2, 2, 3, 3, 3, 3);
const uint TRI_L[NTRI] = uint[](0, 0, 1, 0, 1, 2, 0, 1, 2, 3);
#define FOR_TRI(i) [[unroll]] for (uint i = 0; i < NTRI; i++) if (TRI_K[i] < NP)
#define FOR_SUMS(k) [[unroll]] for (uint k = 0; k < SUMS_MAX; k++) if (k < SUMS)
shared float part[2 * 2 * SUMS * gl_WorkGroupSize.x];

uint prog[CODE];
uint plen;
float cst[NCONST];
float theta[NPMAX];

// The stack below its top, as registers: sv[0] is the entry under the
// top, sd[j * NPMAX + k] the derivative of sv[j] by theta_k. Arrays are
// only indexed by constants (loops with constant bounds, unrolled): a
// dynamic index costs a gather and a scatter per access on CPU devices.
vec4 sv[DMAX - 1];
vec4 sd[(DMAX - 1) * NPMAX];

bool finite(float x) { return (floatBitsToUint(x) & 0x7f800000u) != 0x7f800000u; }

// pick returns v[i] of a 4-element array by selects, for the same reason.
float pick(float v[4], uint i) { return i == 0 ? v[0] : i == 1 ? v[1] : i == 2 ? v[2] : v[3]; }

// The value an instruction pushes (q, p, a parameter or a constant).
vec4 leaf(uint op, uint arg, vec4 q, vec4 p) {
	return op == OP_Q ? q : op == OP_P ? p : vec4(op == OP_PARAM ? pick(theta, arg) : pick(cst, arg));
}

// shift moves the stack down for a push (the old top becomes sv[0]) or up
// for a pop (sv[0] leaves it), values only.
void shift_value(bool push, bool pop, vec4 t) {
	if (push) {
		FOR_DOWN(k) sv[k] = sv[k - 1];
		sv[0] = t;
	} else if (pop) {
		FOR_UP(k) sv[k] = sv[k + 1];
	}
}

// f at 4 points (q, p), values only (the mean pass). A CPU device runs
// every branch under masks, so the branches are few and cheap, sin and cos
// share one call, and the division and the trigonometry exist only in
// pipelines whose candidates use them.
vec4 eval_value(vec4 q, vec4 p) {
	vec4 t = vec4(0.0); // the top of the stack
	for (uint i = 0; i < plen; i++) {
		uint op = prog[i] & ((1u << OP_BITS) - 1u), arg = prog[i] >> OP_BITS;
		bool push = op <= OP_CONST, pop = op >= OP_ADD && op <= OP_DIV;
		vec4 a = sv[0];
		shift_value(push, pop, t);
		if (push) {
			t = leaf(op, arg, q, p);
		} else if (pop) {
			if (DIV && op == OP_DIV) {
				t = a / t;
			} else {
				t = op == OP_MUL ? a * t : a + (op == OP_SUB ? -t : t);
			}
		} else if (TRIG && op >= OP_SIN) {
			t = sin(op == OP_COS ? t + HALF_PI : t);
		} else {
			t = op == OP_NEG ? -t : t * t;
		}
	}
	return t;
}

// f at 4 points and df/dtheta_k (k < NP) in df, forward mode.
vec4 eval_dual(vec4 q, vec4 p, out vec4 df[NPMAX]) {
	vec4 t = vec4(0.0);
	vec4 td[NPMAX];
	FOR_PARAMS(k) td[k] = vec4(0.0);
	for (uint i = 0; i < plen; i++) {
		uint op = prog[i] & ((1u << OP_BITS) - 1u), arg = prog[i] >> OP_BITS;
		bool push = op <= OP_CONST, pop = op >= OP_ADD && op <= OP_DIV;
		vec4 a = sv[0];
		vec4 da[NPMAX];
		FOR_PARAMS(k) da[k] = sd[k];
		shift_value(push, pop, t);
		if (push) {
			FOR_DOWN_FLAT(j) sd[j] = sd[j - NPMAX];
			FOR_PARAMS(k) {
				sd[k] = td[k];
				td[k] = vec4(op == OP_PARAM && k == arg ? 1.0 : 0.0);
			}
			t = leaf(op, arg, q, p);
		} else if (pop) {
			FOR_UP_FLAT(j) sd[j] = sd[j + NPMAX];
			if (DIV && op == OP_DIV) {
				vec4 r = 1.0 / t;
				t = a * r;
				FOR_PARAMS(k) td[k] = (da[k] - t * td[k]) * r;
			} else if (op == OP_MUL) {
				FOR_PARAMS(k) td[k] = da[k] * t + a * td[k];
				t = a * t;
			} else {
				float s = op == OP_SUB ? -1.0 : 1.0;
				FOR_PARAMS(k) td[k] = da[k] + s * td[k];
				t = a + s * t;
			}
		} else if (TRIG && op >= OP_SIN) {
			// cos(t) = sin(t + pi/2), whose derivative is cos(t + pi/2).
			vec4 u = op == OP_COS ? t + HALF_PI : t;
			vec4 c = cos(u);
			FOR_PARAMS(k) td[k] = c * td[k];
			t = sin(u);
		} else {
			vec4 c = op == OP_NEG ? vec4(-1.0) : 2.0 * t;
			FOR_PARAMS(k) td[k] = c * td[k];
			t = op == OP_NEG ? -t : t * t;
		}
	}
	df = td;
	return t;
}

// The 4 points of a sequence from i on (repeating its last point past its
// end b) and their weights, 1 for points of the sequence and 0 past it.
void load4(uint i, uint b, out vec4 q, out vec4 p, out vec4 w) {
	[[unroll]] for (uint c = 0; c < 4; c++) {
		vec2 x = pts[min(i + c, b - 1)];
		q[c] = x.x;
		p[c] = x.y;
		w[c] = i + c < b ? 1.0 : 0.0;
	}
}

// sequence_sums adds the sums (see S_W) of the sequence of points a .. b-1
// to acc.
void sequence_sums(uint a, uint b, inout float acc[SUMS_MAX]) {
	float n = float(b - a);
	vec4 q, p, w;
	float f0 = 0.0, s = 0.0;
	for (uint i = a; i < b; i += 4) {
		load4(i, b, q, p, w);
		vec4 f = eval_value(q, p);
		if (i == a) f0 = f.x;
		s += dot(w, f - f0);
	}
	float m = f0 + s / n;
	// The derivatives are summed as differences from the first point's,
	// like f, for the Hessian's centring.
	float s2 = 0.0, g[NPMAX], e[NPMAX], df0[NPMAX], h[NTRI];
	FOR_PARAMS(k) {
		g[k] = 0.0;
		e[k] = 0.0;
		df0[k] = 0.0;
	}
	FOR_TRI(u) h[u] = 0.0;
	for (uint i = a; i < b; i += 4) {
		load4(i, b, q, p, w);
		vec4 df[NPMAX], de[NPMAX];
		vec4 d = w * (eval_dual(q, p, df) - m);
		if (i == a) FOR_PARAMS(k) df0[k] = df[k].x;
		s2 += dot(d, d);
		FOR_PARAMS(k) {
			g[k] += dot(d, df[k]);
			de[k] = w * (df[k] - df0[k]);
			e[k] += dot(de[k], vec4(1.0));
		}
		FOR_TRI(u) h[u] += dot(de[TRI_K[u]], de[TRI_L[u]]);
	}
	acc[S_W] += s2 / n;
	FOR_PARAMS(k) acc[S_G + k] += 2.0 * g[k] / n;
	FOR_TRI(i) acc[S_H + i] += 2.0 * (h[i] - e[TRI_K[i]] * e[TRI_L[i]] / n) / n;
}

// T is the index of entry (k, m), m <= k, of a lower triangle.
#define T(k, m) ((k) * ((k) + 1) / 2 + (m))

// cholesky solves (a + ridge I) x = -g for the lower triangle a (see
// S_H) and reports false when the matrix is not positive definite or x
// not finite. The sums over m < 4 are written out (glslc unrolls only
// innermost loops, and llvmpipe counts every loop iteration); their guards
// fold to constants.
bool cholesky(float a[NTRI], float ridge, float g[NPMAX], out float x[NPMAX]) {
	float l[NTRI];
	bool ok = true;
	FOR_TRI(i) {
		uint k = TRI_K[i], j = TRI_L[i];
		float v = a[i] + (k == j ? ridge : 0.0);
		v -= (0 < j ? l[T(k, 0)] * l[T(j, 0)] : 0.0) + (1 < j ? l[T(k, 1)] * l[T(j, 1)] : 0.0) +
			(2 < j ? l[T(k, 2)] * l[T(j, 2)] : 0.0);
		if (k == j) {
			ok = ok && v > 0.0;
			l[i] = sqrt(max(v, 0.0));
		} else {
			l[i] = v / l[T(j, j)];
		}
	}
	float y[NPMAX];
	FOR_PARAMS(k) {
		y[k] = -g[k];
		y[k] -= (0 < k ? l[T(k, 0)] * y[0] : 0.0) + (1 < k ? l[T(k, 1)] * y[1] : 0.0) + (2 < k ? l[T(k, 2)] * y[2] : 0.0);
		y[k] /= l[T(k, k)];
	}
	[[unroll]] for (uint kk = 0; kk < NPMAX; kk++) {
		uint k = NPMAX - 1 - kk;
		if (k < NP) {
			x[k] = y[k];
			x[k] -= (k < 1 && 1 < NP ? l[T(1, k)] * x[1] : 0.0) + (k < 2 && 2 < NP ? l[T(2, k)] * x[2] : 0.0) +
				(k < 3 && 3 < NP ? l[T(3, k)] * x[3] : 0.0);
			x[k] /= l[T(k, k)];
			ok = ok && finite(x[k]);
		}
	}
	return ok;
}

// newton returns in x the Newton step of Dinkelbach's method for the
// ratio R = wt[S_W] / wr[S_W] = r (see kernels.newtonStep): (A + ridge) x
// = -(gt - r gr) with A = Ht - r Hr, the Hessian of W_true - r W_rand,
// and the first ridge of RIDGES (times A's largest diagonal entry) that
// makes it positive definite. It reports false when none does.
bool newton(float wt[SUMS_MAX], float wr[SUMS_MAX], float r, out float x[NPMAX]) {
	float g[NPMAX], a[NTRI];
	FOR_PARAMS(k) g[k] = wt[S_G + k] - r * wr[S_G + k];
	float scale = 0.0;
	FOR_TRI(i) {
		a[i] = wt[S_H + i] - r * wr[S_H + i];
		if (TRI_K[i] == TRI_L[i]) scale = max(scale, a[i]);
	}
	// Written out: a loop around cholesky's unrolled loops stays a loop.
	bool ok = cholesky(a, RIDGES[0] * scale, g, x);
	if (!ok) ok = cholesky(a, RIDGES[1] * scale, g, x);
	if (!ok) ok = cholesky(a, RIDGES[2] * scale, g, x);
	if (!ok) ok = cholesky(a, RIDGES[3] * scale, g, x);
	return ok;
}

void main() {
	uint cand = pc.first + gl_WorkGroupID.x;
	uint lid = gl_LocalInvocationID.x;
	plen = CODE;
	[[unroll]] for (uint i = CODE; i > 0; i--) {
		prog[i - 1] = code[cand * CODE + i - 1];
		if (prog[i - 1] == OP_END) plen = i - 1;
	}
	[[unroll]] for (uint k = 0; k < NCONST; k++) cst[k] = consts[cand * NCONST + k];

	uint st = cand * ST_SIZE;
	// anchor: where the last Newton step started, with its R.
	float m1[NPMAX], m2[NPMAX], best_theta[NPMAX], anchor[NPMAX];
	float best, b1t, b2t, anchor_r; // b1t, b2t: beta^t for the bias corrections
	bool done;
	if (pc.from == 0) {
		[[unroll]] for (uint k = 0; k < NPMAX; k++) {
			theta[k] = init[cand * NPMAX + k];
			m1[k] = 0.0;
			m2[k] = 0.0;
			best_theta[k] = theta[k];
			anchor[k] = theta[k];
		}
		best = uintBitsToFloat(0x7f800000u);
		anchor_r = best;
		b1t = 1.0;
		b2t = 1.0;
		done = false;
	} else {
		[[unroll]] for (uint k = 0; k < NPMAX; k++) {
			theta[k] = state[st + ST_THETA + k];
			m1[k] = state[st + ST_M1 + k];
			m2[k] = state[st + ST_M2 + k];
			best_theta[k] = state[st + ST_BEST_THETA + k];
			anchor[k] = state[st + ST_ANCHOR + k];
		}
		best = state[st + ST_BEST];
		anchor_r = state[st + ST_ANCHOR_R];
		b1t = state[st + ST_B1T];
		b2t = state[st + ST_B2T];
		done = state[st + ST_DONE] != 0.0;
	}

	uint nseq = pc.nTrue + pc.nRand, last = pc.steps + pc.polish;
	for (uint step = pc.from; step < pc.to && !done; step++) {
		float acc_t[SUMS_MAX], acc_r[SUMS_MAX];
		FOR_SUMS(k) {
			acc_t[k] = 0.0;
			acc_r[k] = 0.0;
		}
		for (uint j = lid; j < nseq; j += gl_WorkGroupSize.x) {
			bool is_true = j < pc.nTrue;
			uint o = is_true ? j : j + 1; // the random offsets follow the nTrue + 1 true ones
			float acc[SUMS_MAX];
			FOR_SUMS(k) acc[k] = 0.0;
			sequence_sums(offs[o], offs[o + 1], acc);
			FOR_SUMS(k) {
				acc_t[k] += is_true ? acc[k] : 0.0;
				acc_r[k] += is_true ? 0.0 : acc[k];
			}
		}
		uint half_ = (step & 1u) * 2 * SUMS * gl_WorkGroupSize.x;
		FOR_SUMS(k) {
			part[half_ + lid * 2 * SUMS + k] = acc_t[k];
			part[half_ + lid * 2 * SUMS + SUMS + k] = acc_r[k];
		}
		barrier();
		float wt[SUMS_MAX], wr[SUMS_MAX];
		FOR_SUMS(k) {
			wt[k] = 0.0;
			wr[k] = 0.0;
		}
		for (uint u = 0; u < gl_WorkGroupSize.x; u++) {
			FOR_SUMS(k) {
				wt[k] += part[half_ + u * 2 * SUMS + k];
				wr[k] += part[half_ + u * 2 * SUMS + SUMS + k];
			}
		}
		// From sums over sequences to means.
		FOR_SUMS(k) {
			wt[k] /= float(pc.nTrue);
			wr[k] /= float(pc.nRand);
		}
		float r = wt[S_W] / wr[S_W];
		bool improved = finite(r) && r < best;
		if (improved) {
			best = r;
			FOR_PARAMS(k) best_theta[k] = theta[k];
		}
		if (step == last) break;
		if (step < pc.steps) {
			float grad[NPMAX];
			bool ok = finite(r);
			FOR_PARAMS(k) {
				grad[k] = wt[S_G + k] / wt[S_W] - wr[S_G + k] / wr[S_W];
				ok = ok && finite(grad[k]);
			}
			if (!ok) {
				done = true;
				break;
			}
			b1t *= pc.beta1;
			b2t *= pc.beta2;
			float lr = pc.lr * 0.5 * (1.0 + cos(3.14159265358979 * float(step) / float(pc.steps)));
			FOR_PARAMS(k) {
				m1[k] = pc.beta1 * m1[k] + (1.0 - pc.beta1) * grad[k];
				m2[k] = pc.beta2 * m2[k] + (1.0 - pc.beta2) * grad[k] * grad[k];
				theta[k] -= lr * (m1[k] / (1.0 - b1t)) / (sqrt(m2[k] / (1.0 - b2t)) + pc.eps);
			}
		} else if (!(r < anchor_r)) {
			FOR_PARAMS(k) theta[k] = 0.5 * (theta[k] + anchor[k]);
		} else {
			float x[NPMAX];
			if (!newton(wt, wr, r, x)) {
				done = true;
				break;
			}
			// A trust region: no step longer than 1 + |theta_k| in any
			// coordinate, which keeps a parameter the score hardly depends
			// on (a near-singular Hessian) where it is.
			float scale = 1.0;
			FOR_PARAMS(k) scale = min(scale, (1.0 + abs(theta[k])) / abs(x[k]));
			anchor_r = r;
			FOR_PARAMS(k) {
				anchor[k] = theta[k];
				theta[k] += scale * x[k];
			}
		}
	}
	if (lid == 0) {
		[[unroll]] for (uint k = 0; k < NPMAX; k++) {
			state[st + ST_THETA + k] = theta[k];
			state[st + ST_M1 + k] = m1[k];
			state[st + ST_M2 + k] = m2[k];
			state[st + ST_BEST_THETA + k] = best_theta[k];
			state[st + ST_ANCHOR + k] = anchor[k];
			fit[cand * NPMAX + k] = best_theta[k];
		}
		state[st + ST_BEST] = best;
		state[st + ST_B1T] = b1t;
		state[st + ST_B2T] = b2t;
		state[st + ST_DONE] = done ? 1.0 : 0.0;
		state[st + ST_ANCHOR_R] = anchor_r;
		score[cand] = best;
	}
}
