#version 450
// variant: conv2d_texel -DTEXEL
// (bindings 1-4 again as uniform texel buffers of vec4 at 6-9; TEX bit j
// reads binding 1 + j from there)
#extension GL_EXT_control_flow_attributes : require
// conv2d: the 2-D convolution family (NCHW, square stride S and padding P,
// kernel KH x KW). Every op of conv2d and conv_transpose2d and of their
// derivatives is one of four modes on the geometry of a convolution with
// input X [N,C,H,W], weights Wt [K,C,KH,KW] and output Y [N,K,OH,OW]:
//
//   FORWARD  out = Y  [N,K,OH,OW]  Y[n,k,oy,ox] = sum_{c,ky,kx} X[n,c,iy,ix] Wt[k,c,ky,kx] (+ bias[k])
//   DGRAD    out = dX [N,C,H,W]    dX[n,c,iy,ix] = sum_{k,ky,kx} G[n,k,oy,ox] Wt[k,c,ky,kx] (+ bias[c])
//   WGRAD    out = dW [K,C,KH,KW]  dW[k,c,ky,kx] = sum_{n,oy,ox} G[n,k,oy,ox] X[n,c,iy,ix]
//   BIAS     out = db [K]          db[k] = sum_{n,oy,ox} G[n,k,oy,ox]
//
// with iy = oy*S - P + ky, ix = ox*S - P + kx. DGRAD is the transposed
// convolution (conv_transpose2d's forward); WGRAD is conv2d_weight_grad.
// With PAIRS = 2 the mode sums two products, (a1, b1) and (a2, b2): the
// tangents, conv(tx, w) + conv(x, tw), and the tangents of the backward
// are all such sums, so each is one dispatch.
//
//   binding   0    1   2   3   4   5
//   FORWARD   Y    X   Wt  X'  Wt' bias
//   DGRAD     dX   G   Wt  G'  Wt' bias
//   WGRAD     dW   G   X   G'  X'
//   BIAS      db   G
//
// Unused bindings are aliases of read ones (the launcher's choice).
//
// Register-blocked, no shared memory (barriers are costly on lavapipe):
// an invocation owns TM channels x TN pixels of one output row (FORWARD,
// DGRAD) or TM output channels x KW taps of one (c, ky) (WGRAD). The TM
// channels come from the workgroup id, so the weight loads of FORWARD and
// DGRAD and the G loads of WGRAD have the same address on every lane; the
// lane-varying operand is loaded once per input row segment and reused by
// every tap that reads it. Geometry is specialized (S, P, KH, KW, TM, TN),
// and every loop over a register array is marked [[unroll]] (see
// shaders/doc.go), so the tiles and segments stay in registers.
//
// DGRAD with S > 1 runs one dispatch per phase (PY, PX): it computes the
// pixels (PY + S*q, PX + S*j), whose contributing taps are the same
// (PX + P - kx divisible by S, likewise ky) and whose inputs ox are
// consecutive in j.
// The grid is x: pixel or (c, ky) blocks, y: channel blocks, z: batch
// (WGRAD: row splits).
layout(local_size_x_id = 0) in;

layout(constant_id = 1) const uint MODE = 0;
layout(constant_id = 2) const int TM = 16; // channels per invocation
layout(constant_id = 3) const int TN = 8;  // pixels (columns) per invocation
layout(constant_id = 4) const int S = 1;   // stride
layout(constant_id = 5) const int P = 0;   // padding
layout(constant_id = 6) const int KH = 3;
layout(constant_id = 7) const int KW = 3;
layout(constant_id = 8) const int PX = 0;  // DGRAD column phase, 0 <= PX < S
layout(constant_id = 9) const int PAIRS = 1;
layout(constant_id = 10) const bool BIAS = false;
layout(constant_id = 11) const int PY = 0;  // DGRAD row phase, 0 <= PY < S
// VEC4: the uniform operand is read as vec4: FORWARD and DGRAD read a
// kernel row of Wt (the launcher sets it when KW = 4), WGRAD reads TN
// consecutive values of a row of G (when OW and TN are multiples of 4).
layout(constant_id = 12) const bool VEC4 = false;
// WGRAD: input channels per invocation (they share every G load).
layout(constant_id = 13) const int WC = 1;

// The mode codes match kernels.convMode.
const uint FORWARD = 0, DGRAD = 1, WGRAD = 2, BIASGRAD = 3;

// Input row segment of FORWARD and WGRAD: TN outputs at stride S, KW taps each.
const int SEG = (TN - 1) * S + KW;
// DGRAD: output column j0 + t reads input ox = j0 + t + (PX + P - kx) / S for
// the taps kx with PX + P - kx divisible by S; OFF shifts to non-negative
// numerators so that / and % are floor division and modulus.
const int KM = KH > KW ? KH : KW;
const int OFF = S * KM;
const int DMAX = (PX + P + OFF) / S - KM;            // kx = 0
const int DMIN = (PX + P - (KW - 1) + OFF) / S - KM; // kx = KW - 1
const int SEGD = DMAX - DMIN + TN;

layout(push_constant) uniform Push { int N, C, H, W, K, OH, OW; } p;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer A1 { float a1[]; };
layout(std430, binding = 2) readonly buffer B1 { float b1[]; };
layout(std430, binding = 3) readonly buffer A2 { float a2[]; };
layout(std430, binding = 4) readonly buffer B2 { float b2[]; };
layout(std430, binding = 5) readonly buffer Bias { float bias[]; };
layout(std430, binding = 1) readonly buffer A1v { vec4 a1v[]; };
layout(std430, binding = 2) readonly buffer B1v { vec4 b1v[]; };
layout(std430, binding = 3) readonly buffer A2v { vec4 a2v[]; };
layout(std430, binding = 4) readonly buffer B2v { vec4 b2v[]; };

#ifdef TEXEL
layout(constant_id = 14) const uint TEX = 0;
layout(binding = 6) uniform samplerBuffer ta1;
layout(binding = 7) uniform samplerBuffer tb1;
layout(binding = 8) uniform samplerBuffer ta2;
layout(binding = 9) uniform samplerBuffer tb2;
// V4(j, name, i) is vec4 i of binding 1 + j, S1 its float i.
#define V4(j, name, i) (((TEX >> j) & 1u) != 0 ? texelFetch(t##name, i) : name##v[i])
#define S1(j, name, i) (((TEX >> j) & 1u) != 0 ? texelFetch(t##name, (i) >> 2)[(i) & 3] : name[i])
#else
#define V4(j, name, i) name##v[i]
#define S1(j, name, i) name[i]
#endif

// second picks the pair; it is a constant after inlining.
float la(bool second, int i) { return second ? S1(2, a2, i) : S1(0, a1, i); }
float lb(bool second, int i) { return second ? S1(3, b2, i) : S1(1, b1, i); }
vec4 la4(bool second, int i) { return second ? V4(2, a2, i) : V4(0, a1, i); }
vec4 lb4(bool second, int i) { return second ? V4(3, b2, i) : V4(1, b1, i); }

// wrow returns tap kx of the kernel row starting at wbase (VEC4: one vec4
// load per row, at kx = 0; the caller unrolls kx, so w4 is reused).
float wtap(bool sec, int wbase, int kx, vec4 w4) { return VEC4 ? w4[kx] : lb(sec, wbase + kx); }

shared float red[gl_WorkGroupSize.x];

void forward() {
	const int nb = (p.OW + TN - 1) / TN;
	const int gx = int(gl_GlobalInvocationID.x);
	const bool live = gx < p.OH * nb;
	const int oy = min(gx / nb, p.OH - 1), ox0 = (gx % nb) * TN;
	const int k0 = int(gl_WorkGroupID.y) * TM, n = int(gl_WorkGroupID.z);
	float acc[TM][TN];
	[[unroll]] for (int m = 0; m < TM; m++)
		[[unroll]] for (int t = 0; t < TN; t++) acc[m][t] = 0.0;
	[[unroll]] for (int pair = 0; pair < PAIRS; pair++) {
		const bool sec = pair == 1;
		for (int c = 0; c < p.C; c++) {
			for (int ky = 0; ky < KH; ky++) {
				const int iy = oy * S - P + ky;
				const bool rowok = iy >= 0 && iy < p.H;
				const int base = ((n * p.C + c) * p.H + clamp(iy, 0, p.H - 1)) * p.W;
				const int ix0 = ox0 * S - P;
				float seg[SEG];
				[[unroll]] for (int u = 0; u < SEG; u++) {
					const int ix = ix0 + u;
					const float v = la(sec, base + clamp(ix, 0, p.W - 1));
					seg[u] = rowok && ix >= 0 && ix < p.W ? v : 0.0;
				}
				[[unroll]] for (int m = 0; m < TM; m++) {
					const int wbase = ((min(k0 + m, p.K - 1) * p.C + c) * KH + ky) * KW;
					const vec4 w4 = VEC4 ? lb4(sec, wbase / 4) : vec4(0.0);
					[[unroll]] for (int kx = 0; kx < KW; kx++) {
						const float w = wtap(sec, wbase, kx, w4);
						[[unroll]] for (int t = 0; t < TN; t++) acc[m][t] = fma(w, seg[t * S + kx], acc[m][t]);
					}
				}
			}
		}
	}
	if (!live) return;
	[[unroll]] for (int m = 0; m < TM; m++) {
		const int k = k0 + m;
		if (k >= p.K) break;
		const float b = BIAS ? bias[k] : 0.0;
		const int obase = ((n * p.K + k) * p.OH + oy) * p.OW + ox0;
		[[unroll]] for (int t = 0; t < TN; t++)
			if (ox0 + t < p.OW) o[obase + t] = acc[m][t] + b;
	}
}

void dgrad() {
	// Rows iy = PY + S*q and columns ix = PX + S*j; an invocation owns
	// j0 .. j0+TN-1 of row q. Only the taps ky with PY + P - ky divisible
	// by S reach these rows (and kx likewise), so the loops skip the rest
	// at compile time.
	const int nq = (p.H - PY + S - 1) / S, nj = (p.W - PX + S - 1) / S;
	const int nb = (nj + TN - 1) / TN;
	const int gx = int(gl_GlobalInvocationID.x);
	const bool live = gx < nq * nb;
	const int q = min(gx / nb, nq - 1), j0 = (gx % nb) * TN;
	const int c0 = int(gl_WorkGroupID.y) * TM, n = int(gl_WorkGroupID.z);
	float acc[TM][TN];
	[[unroll]] for (int m = 0; m < TM; m++)
		[[unroll]] for (int t = 0; t < TN; t++) acc[m][t] = 0.0;
	[[unroll]] for (int pair = 0; pair < PAIRS; pair++) {
		const bool sec = pair == 1;
		for (int k = 0; k < p.K; k++) {
			for (int ky = 0; ky < KH; ky++) {
				if ((PY + P - ky + OFF) % S != 0) continue;
				const int oy = q + (PY + P - ky + OFF) / S - KM;
				const bool rowok = oy >= 0 && oy < p.OH;
				const int base = ((n * p.K + k) * p.OH + clamp(oy, 0, p.OH - 1)) * p.OW;
				float seg[SEGD];
				[[unroll]] for (int u = 0; u < SEGD; u++) {
					const int ox = j0 + DMIN + u;
					const float v = la(sec, base + clamp(ox, 0, p.OW - 1));
					seg[u] = rowok && ox >= 0 && ox < p.OW ? v : 0.0;
				}
				[[unroll]] for (int m = 0; m < TM; m++) {
					const int wbase = ((k * p.C + min(c0 + m, p.C - 1)) * KH + ky) * KW;
					const vec4 w4 = VEC4 ? lb4(sec, wbase / 4) : vec4(0.0);
					[[unroll]] for (int kx = 0; kx < KW; kx++) {
						if ((PX + P - kx + OFF) % S != 0) continue;
						const int d = (PX + P - kx + OFF) / S - KM - DMIN;
						const float w = wtap(sec, wbase, kx, w4);
						[[unroll]] for (int t = 0; t < TN; t++) acc[m][t] = fma(w, seg[d + t], acc[m][t]);
					}
				}
			}
		}
	}
	if (!live) return;
	[[unroll]] for (int m = 0; m < TM; m++) {
		const int c = c0 + m;
		if (c >= p.C) break;
		const float b = BIAS ? bias[c] : 0.0;
		const int obase = ((n * p.C + c) * p.H + PY + S * q) * p.W + PX;
		[[unroll]] for (int t = 0; t < TN; t++)
			if (j0 + t < nj) o[obase + (j0 + t) * S] = acc[m][t] + b;
	}
}

void wgrad() {
	// An invocation owns (WC channels from c0, ky) and accumulates TM
	// output channels x KW taps for each, over the rows r = (n, oy) of
	// its split: workgroup z of Z sums rows [R z / Z, R (z+1) / Z) of the
	// R = N*OH and writes its partial dW to o[z * |dW| ...] (the launcher
	// adds the Z partials when Z > 1, so the reduction over N*OH*OW
	// spreads over Z times more workgroups).
	const int nc = (p.C + WC - 1) / WC;
	const int gx = int(gl_GlobalInvocationID.x);
	const bool live = gx < nc * KH;
	const int c0 = min(gx / KH, nc - 1) * WC, ky = gx % KH;
	const int k0 = int(gl_WorkGroupID.y) * TM;
	float acc[WC][TM][KW];
	[[unroll]] for (int h = 0; h < WC; h++)
		[[unroll]] for (int m = 0; m < TM; m++)
			[[unroll]] for (int kx = 0; kx < KW; kx++) acc[h][m][kx] = 0.0;
	const int rows = p.N * p.OH, z = int(gl_WorkGroupID.z), nz = int(gl_NumWorkGroups.z);
	[[unroll]] for (int pair = 0; pair < PAIRS; pair++) {
		const bool sec = pair == 1;
		for (int r = rows * z / nz; r < rows * (z + 1) / nz; r++) {
			const int n = r / p.OH, oy = r % p.OH;
			const int iy = oy * S - P + ky;
			const bool rowok = iy >= 0 && iy < p.H;
			for (int ox0 = 0; ox0 < p.OW; ox0 += TN) {
				const int ix0 = ox0 * S - P;
				float seg[WC][SEG];
				[[unroll]] for (int h = 0; h < WC; h++) {
					const int base = ((n * p.C + min(c0 + h, p.C - 1)) * p.H + clamp(iy, 0, p.H - 1)) * p.W;
					[[unroll]] for (int u = 0; u < SEG; u++) {
						const int ix = ix0 + u;
						const float v = lb(sec, base + clamp(ix, 0, p.W - 1));
						seg[h][u] = rowok && ix >= 0 && ix < p.W ? v : 0.0;
					}
				}
				[[unroll]] for (int m = 0; m < TM; m++) {
					const int gbase = ((n * p.K + min(k0 + m, p.K - 1)) * p.OH + oy) * p.OW;
					float gs[TN];
					if (VEC4) {
						// OW is a multiple of 4: a chunk is all in or all out.
						[[unroll]] for (int t = 0; t < TN; t += 4) {
							const vec4 g4 = la4(sec, (gbase + min(ox0 + t, p.OW - 4)) / 4);
							const bool ok = ox0 + t < p.OW;
							[[unroll]] for (int e = 0; e < 4; e++) gs[t + e] = ok ? g4[e] : 0.0;
						}
					} else {
						[[unroll]] for (int t = 0; t < TN; t++) {
							const float g = la(sec, gbase + min(ox0 + t, p.OW - 1));
							gs[t] = ox0 + t < p.OW ? g : 0.0;
						}
					}
					[[unroll]] for (int h = 0; h < WC; h++)
						[[unroll]] for (int t = 0; t < TN; t++)
							[[unroll]] for (int kx = 0; kx < KW; kx++) acc[h][m][kx] = fma(gs[t], seg[h][t * S + kx], acc[h][m][kx]);
				}
			}
		}
	}
	if (!live) return;
	[[unroll]] for (int h = 0; h < WC; h++) {
		const int c = c0 + h;
		if (c >= p.C) break;
		[[unroll]] for (int m = 0; m < TM; m++) {
			const int k = k0 + m;
			if (k >= p.K) break;
			const int obase = z * p.K * p.C * KH * KW + ((k * p.C + c) * KH + ky) * KW;
			[[unroll]] for (int kx = 0; kx < KW; kx++) o[obase + kx] = acc[h][m][kx];
		}
	}
}

void biasgrad() {
	// One workgroup per channel k (uniform, so the barriers are too); the
	// lanes stride over the N x OH*OW elements, then add in a tree.
	const int k = int(gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x);
	if (k >= p.K) return;
	const int lid = int(gl_LocalInvocationID.x), sp = p.OH * p.OW;
	float s = 0.0;
	for (int n = 0; n < p.N; n++)
		for (int i = lid; i < sp; i += int(gl_WorkGroupSize.x)) s += la(false, (n * p.K + k) * sp + i);
	red[lid] = s;
	barrier();
	for (uint h = gl_WorkGroupSize.x / 2; h > 0; h /= 2) {
		if (lid < h) red[lid] += red[lid + h];
		barrier();
	}
	if (lid == 0) o[k] = red[0];
}

void main() {
	if (MODE == FORWARD) forward();
	else if (MODE == DGRAD) dgrad();
	else if (MODE == WGRAD) wgrad();
	else biasgrad();
}
