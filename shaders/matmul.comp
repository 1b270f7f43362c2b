#version 450
// variant: matmul_plain -DNO_SUBGROUP_SHUFFLE
// (the same kernel without the subgroup-shuffle capability, for devices
// that lack it; tools/shaderc builds it from this line)
// variant: matmul_texel -DTEXEL
// variant: matmul_plain_texel -DNO_SUBGROUP_SHUFFLE -DTEXEL
// (A and B as uniform texel buffers of vec4, read with texelFetch)
#ifndef NO_SUBGROUP_SHUFFLE
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
#extension GL_EXT_control_flow_attributes : require
#extension GL_GOOGLE_include_directive : require
// matmul: C[b] = op(A[b]) op(B[b]) (+ bias) for b < batch; op(A) is M x K,
// op(B) is K x N, all row-major. A is stored [M,K], or [K,M] with TRANS_A;
// B is [K,N], or [N,K] with TRANS_B. A shared operand has batch stride 0.
//
// Each invocation accumulates a TM x TN block of C in registers. Two ways
// to feed it, chosen by SHARED:
// - registers only (the default, fastest on lavapipe, where barriers are
//   costly): each invocation reads op(A) and op(B) itself, four k at a
//   time, as vec4 where an operand's contiguous axis is a multiple of 4
//   (VEC_A, VEC_B, VEC_C);
// - shared memory (what discrete GPUs want): the workgroup stages an
//   SK-deep slice of its (WY*TM) x (WX*TN) tile of op(A) and op(B) in
//   shared memory, each element loaded once (as vec4 where the layout
//   allows), then every invocation reads its rows and columns from there.
// Both add the products of every element in the order k = 0, 1, ..., K-1
// with fma, so they give the same bits (the shared path's padding beyond
// K adds exact zeros). Out-of-range rows and columns are clamped for
// loads and skipped for stores, so any size works (and every lane stays
// active for SHARE_A and the shared path's barriers).
//
// Implicit GEMM (CONV > 0): the product is one pass of a 2-D convolution
// (kernels.convMode + 1) whose unfolded operands are read in place, from
// the image or the output gradient, instead of from a column matrix that
// im2col wrote first: no scratch, no extra pass. With the convolution's
// X [N,C,H,W], W [OC,C,KH,KW], Y and G [N,OC,OH,OW], CKK = C*KH*KW:
//   1 forward         Y[n] = W x col(X[n])        M OC, N OH*OW, K CKK
//   2 input gradient  dX[n] = Wᵀ' x col'(G[n])    M C,  N H*W,   K OC*KH*KW
//   3 weight gradient dW = G' x col(X)ᵀ           M OC, N CKK,   K N*OH*OW
// (2, stride 1 only, sums for input pixel (iy, ix) the taps whose output
// pixel (iy + P - ky, ix + P - kx) is in range; 3 reads G [N,OC,OH*OW] as
// the [OC, N*OH*OW] matrix G'.) Mapped operands load scalars; BIAS adds
// bias[row], the output channel's. The coordinates come from constant
// divisors (the kernel's sides, stride) and multiply-highs (fastdiv.glsl).
#include "fastdiv.glsl"
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(constant_id = 3) const uint TM = 8; // rows of C per invocation
layout(constant_id = 4) const uint TN = 8; // columns, a multiple of 4
layout(constant_id = 5) const bool TRANS_A = false;
layout(constant_id = 6) const bool TRANS_B = false;
layout(constant_id = 7) const bool BIAS = false;
layout(constant_id = 8) const bool VEC_A = false;
layout(constant_id = 9) const bool VEC_B = false;
layout(constant_id = 10) const bool VEC_C = false;
// SHARE_A (set by the launcher when a subgroup lies within one row of the
// workgroup): the lanes of a subgroup cover the same rows, so lane l loads
// the four A values of rows l, l + subgroup size, ... and the others take
// them by shuffle. On lavapipe every non-constant load is a loop over the
// lanes, so this divides A's loads by the subgroup size. matmul_plain
// (NO_SUBGROUP_SHUFFLE) leaves the capability and this path out.
layout(constant_id = 11) const bool SHARE_A = false;
layout(constant_id = 12) const bool SHARED = false;
// k per shared-memory stage (a multiple of 4); 1 leaves the unused
// arrays of the register path at a few bytes.
layout(constant_id = 13) const uint SK = 1;

layout(constant_id = 16) const uint CONV = 0;
layout(constant_id = 21) const bool ACC = false; // see kBegin
layout(constant_id = 17) const uint CKH = 1; // the convolution's kernel rows
layout(constant_id = 18) const uint CKW = 1; // and columns
layout(constant_id = 19) const uint CS = 1;  // stride
layout(constant_id = 20) const uint CP = 0;  // padding
const uint KHW = CKH * CKW;

const uint TC = TN / 4;
const uint WX = gl_WorkGroupSize.x, WY = gl_WorkGroupSize.y;
const uint TILE_R = WY * TM, TILE_C4 = WX * TC; // rows, vec4 columns
shared float sa[SK * TILE_R];  // sa[k * TILE_R + row]
shared vec4 sb[SK * TILE_C4];  // sb[k * TILE_C4 + column / 4]
vec4 acc[TM][TC];

layout(push_constant) uniform Push {
	uint M, N, K, batch, strideA, strideB;
	// CONV only: the convolution's shape, and the magic numbers dividing
	// by the row length of op(B)'s columns' image (OW; W for the input
	// gradient) and by OH*OW.
	uint C, H, W, OH, OW, OC;
	uint rowM, ohwM, shifts;
	// This dispatch adds k in [kBegin, kEnd) (a multiple of 4, and of SK
	// on the shared path); with ACC it continues from C's values, so a
	// product split along k gives the bits of the whole.
	uint kBegin, kEnd;
} p;
// Scalar and vec4 views of the same bindings.
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 1) readonly buffer B4 { vec4 b4[]; };
#ifdef TEXEL
// A and B again as vec4 texels; TEX_A and TEX_B (set with VEC_A and
// VEC_B) read the vec4 loads from there, scalar loads stay above.
layout(constant_id = 14) const bool TEX_A = false;
layout(constant_id = 15) const bool TEX_B = false;
layout(binding = 4) uniform samplerBuffer At;
layout(binding = 5) uniform samplerBuffer Bt;
#define A4(i) (TEX_A ? texelFetch(At, int(i)) : a4[i])
#define B4(i) (TEX_B ? texelFetch(Bt, int(i)) : b4[i])
#else
#define A4(i) a4[i]
#define B4(i) b4[i]
#endif
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer C { float c[]; };
layout(std430, binding = 3) buffer C4 { vec4 c4[]; };

// pixel splits flat index j of an OH x OW image (of an H x W one for
// the input gradient) into row and column.
uvec2 pixel(uint j) {
	const uint y = fast_div(j, p.rowM, packed_shift(p.shifts, 0));
	return uvec2(y, j - y * (CONV == 2 ? p.W : p.OW));
}

// unfolded is element (row k = (c, ky, kx), output pixel pix) of the
// column matrix of image c of X at off: the input pixel under tap
// (ky, kx), 0 in the padding.
float unfolded(uint off, uint k, uint pix) {
	const uint c = k / KHW, ky = (k % KHW) / CKW, kx = k % CKW;
	const uvec2 o = pixel(pix);
	const uint iy = o.x * CS + ky - CP, ix = o.y * CS + kx - CP; // wraps below 0
	return iy < p.H && ix < p.W ? b[off + (c * p.H + iy) * p.W + ix] : 0.0;
}

// imagePixel splits k of the weight gradient's N*OH*OW into image and pixel.
uvec2 imagePixel(uint k) {
	const uint ohw = p.OH * p.OW, n = fast_div(k, p.ohwM, packed_shift(p.shifts, 1));
	return uvec2(n, k - n * ohw);
}

float loadA(uint offA, uint i, uint k) {
	if (CONV == 2) return a[(k / KHW * p.C + i) * KHW + k % KHW]; // W[oc, c=i, tap]
	if (CONV == 3) {
		const uvec2 s = imagePixel(k);
		return a[(s.x * p.OC + i) * p.OH * p.OW + s.y];
	}
	return TRANS_A ? a[offA + k * p.M + i] : a[offA + i * p.K + k];
}

float loadB(uint offB, uint k, uint j) {
	if (CONV == 1) return unfolded(offB, k, j);
	if (CONV == 2) {
		// G[n, oc, oy, ox] for input pixel j and tap k = (oc, ky, kx).
		const uint oc = k / KHW, ky = (k % KHW) / CKW, kx = k % CKW;
		const uvec2 i = pixel(j);
		const uint oy = i.x + CP - ky, ox = i.y + CP - kx; // wraps below 0
		return oy < p.OH && ox < p.OW ? b[offB + (oc * p.OH + oy) * p.OW + ox] : 0.0;
	}
	if (CONV == 3) {
		const uvec2 s = imagePixel(k);
		return unfolded(s.x * p.C * p.H * p.W, j, s.y);
	}
	return TRANS_B ? b[offB + j * p.K + k] : b[offB + k * p.N + j];
}

// storeTile writes acc (+ bias) to C's rows row0.. and columns col0.. of
// batch entry n, skipping those beyond C.
void storeTile(uint n, uint row0, uint col0) {
	vec4 bias4[TC];
	[[unroll]] for (uint j = 0; j < TN; j++) bias4[j / 4][j % 4] = BIAS && CONV == 0 ? bias[min(col0 + j, p.N - 1)] : 0.0;
	[[unroll]] for (uint r = 0; r < TM; r++) {
		if (row0 + r >= p.M) break;
		const uint base = (n * p.M + row0 + r) * p.N + col0;
		const float rowBias = CONV != 0 && BIAS ? bias[row0 + r] : 0.0;
		[[unroll]] for (uint q = 0; q < TC; q++) {
			vec4 v = acc[r][q] + bias4[q] + rowBias;
			if (VEC_C && col0 + 4 * q < p.N) {
				c4[base / 4 + q] = v;
			} else if (!VEC_C) {
				[[unroll]] for (uint e = 0; e < 4; e++)
					if (col0 + 4 * q + e < p.N) c[base + 4 * q + e] = v[e];
			}
		}
	}
}

// initTile starts acc at zero, or with ACC at C's values (rows and
// columns clamped as for loads; those beyond C are never stored).
void initTile(uint n, uint rows[TM], uint cols[TN]) {
	[[unroll]] for (uint r = 0; r < TM; r++)
		[[unroll]] for (uint j = 0; j < TN; j++) acc[r][j / 4][j % 4] = ACC ? c[(n * p.M + rows[r]) * p.N + cols[j]] : 0.0;
}

void registerTiles() {
	const uint row0 = gl_GlobalInvocationID.y * TM, col0 = gl_GlobalInvocationID.x * TN;
	if (!SHARE_A && (row0 >= p.M || col0 >= p.N)) return;
	uint rows[TM], cols[TN], chunks[TC];
	[[unroll]] for (uint r = 0; r < TM; r++) rows[r] = min(row0 + r, p.M - 1);
	[[unroll]] for (uint j = 0; j < TN; j++) cols[j] = min(col0 + j, p.N - 1);
	[[unroll]] for (uint q = 0; q < TC; q++) chunks[q] = min(col0 / 4 + q, p.N / 4 - 1);
	const uint K4 = p.kBegin + ((p.kEnd - p.kBegin) & ~3u);

	for (uint n = gl_WorkGroupID.z; n < p.batch; n += gl_NumWorkGroups.z) {
		const uint offA = n * p.strideA, offB = n * p.strideB;
		initTile(n, rows, cols);
		for (uint k = p.kBegin; k < K4; k += 4) {
			// av[r][kk] = op(A)(row r, k+kk); bv[kk][q] = op(B)(k+kk, columns 4q..4q+3).
			vec4 av[TM], bv[4][TC];
#ifndef NO_SUBGROUP_SHUFFLE
			if (SHARE_A && TRANS_A && VEC_A) {
				// The 4 x TM block of A (k rows of TM contiguous floats) is
				// TM vec4s, entry e = kk * TM/4 + r/4: lane l loads entries
				// l, l + SG, ... and every lane takes its four k of each row
				// from them by shuffle.
				vec4 mine[TM];
				[[unroll]] for (uint h = 0; h < TM; h += gl_SubgroupSize) {
					const uint e = min(h + gl_SubgroupInvocationID, TM - 1);
					mine[h / gl_SubgroupSize] = A4((offA + (k + e / (TM / 4)) * p.M) / 4 + min(row0 / 4 + e % (TM / 4), p.M / 4 - 1));
				}
				[[unroll]] for (uint kk = 0; kk < 4; kk++)
					[[unroll]] for (uint r = 0; r < TM; r += 4) {
						const uint e = kk * (TM / 4) + r / 4;
						const vec4 t = subgroupShuffle(mine[e / gl_SubgroupSize], e % gl_SubgroupSize);
						av[r][kk] = t.x, av[r + 1][kk] = t.y, av[r + 2][kk] = t.z, av[r + 3][kk] = t.w;
					}
			} else if (SHARE_A) {
				// Lane l loads rows l, l + SG, ... (SG = gl_SubgroupSize).
				vec4 mine[TM];
				[[unroll]] for (uint h = 0; h < TM; h += gl_SubgroupSize) {
					const uint i = min(row0 + h + gl_SubgroupInvocationID, p.M - 1);
					mine[h / gl_SubgroupSize] = !TRANS_A && VEC_A ? A4((offA + i * p.K + k) / 4)
						: vec4(loadA(offA, i, k), loadA(offA, i, k + 1), loadA(offA, i, k + 2), loadA(offA, i, k + 3));
				}
				[[unroll]] for (uint r = 0; r < TM; r++) av[r] = subgroupShuffle(mine[r / gl_SubgroupSize], r % gl_SubgroupSize);
			} else
#endif
			if (!TRANS_A && VEC_A) {
				[[unroll]] for (uint r = 0; r < TM; r++) av[r] = A4((offA + rows[r] * p.K + k) / 4);
			} else if (TRANS_A && VEC_A) {
				[[unroll]] for (uint kk = 0; kk < 4; kk++)
					[[unroll]] for (uint r = 0; r < TM; r += 4) {
						vec4 t = A4((offA + (k + kk) * p.M) / 4 + min((row0 + r) / 4, p.M / 4 - 1));
						av[r][kk] = t.x, av[r + 1][kk] = t.y, av[r + 2][kk] = t.z, av[r + 3][kk] = t.w;
					}
			} else {
				[[unroll]] for (uint r = 0; r < TM; r++)
					[[unroll]] for (uint kk = 0; kk < 4; kk++) av[r][kk] = loadA(offA, rows[r], k + kk);
			}
			if (!TRANS_B && VEC_B) {
				[[unroll]] for (uint kk = 0; kk < 4; kk++)
					[[unroll]] for (uint q = 0; q < TC; q++) bv[kk][q] = B4((offB + (k + kk) * p.N) / 4 + chunks[q]);
			} else if (TRANS_B && VEC_B) {
				[[unroll]] for (uint j = 0; j < TN; j++) {
					vec4 t = B4((offB + cols[j] * p.K + k) / 4);
					bv[0][j / 4][j % 4] = t.x, bv[1][j / 4][j % 4] = t.y, bv[2][j / 4][j % 4] = t.z, bv[3][j / 4][j % 4] = t.w;
				}
			} else {
				[[unroll]] for (uint kk = 0; kk < 4; kk++)
					[[unroll]] for (uint j = 0; j < TN; j++) bv[kk][j / 4][j % 4] = loadB(offB, k + kk, cols[j]);
			}
			[[unroll]] for (uint kk = 0; kk < 4; kk++)
				[[unroll]] for (uint r = 0; r < TM; r++)
					[[unroll]] for (uint q = 0; q < TC; q++) acc[r][q] = fma(vec4(av[r][kk]), bv[kk][q], acc[r][q]);
		}
		for (uint k = K4; k < p.kEnd; k++) {
			vec4 bv[TC];
			[[unroll]] for (uint j = 0; j < TN; j++) bv[j / 4][j % 4] = loadB(offB, k, cols[j]);
			[[unroll]] for (uint r = 0; r < TM; r++) {
				float s = loadA(offA, rows[r], k);
				[[unroll]] for (uint q = 0; q < TC; q++) acc[r][q] = fma(vec4(s), bv[q], acc[r][q]);
			}
		}

		storeTile(n, row0, col0);
	}
}

// sharedTiles is the shared-memory path: per stage of SK k, the workgroup
// loads its tile's slices of op(A) (TILE_R x SK) and op(B) (SK x 4
// TILE_C4) into sa and sb, zero beyond K, then each invocation multiplies
// its TM rows by its TN columns from there.
void sharedTiles() {
	const uint lx = gl_LocalInvocationID.x, ly = gl_LocalInvocationID.y;
	const uint tid = ly * WX + lx, threads = WX * WY;
	const uint tileRow0 = gl_WorkGroupID.y * TILE_R, tileCol0 = gl_WorkGroupID.x * TILE_C4 * 4;
	const uint row0 = tileRow0 + ly * TM, col0 = tileCol0 + lx * TN;
	for (uint n = gl_WorkGroupID.z; n < p.batch; n += gl_NumWorkGroups.z) {
		const uint offA = n * p.strideA, offB = n * p.strideB;
		uint rows[TM], cols[TN];
		[[unroll]] for (uint r = 0; r < TM; r++) rows[r] = min(row0 + r, p.M - 1);
		[[unroll]] for (uint j = 0; j < TN; j++) cols[j] = min(col0 + j, p.N - 1);
		initTile(n, rows, cols);
		for (uint k0 = p.kBegin; k0 < p.kEnd; k0 += SK) {
			// op(A)'s slice. Untransposed A is contiguous along k, so
			// neighbouring threads take neighbouring k; transposed, along
			// the rows.
			if (!TRANS_A && VEC_A) {
				for (uint e = tid; e < TILE_R * SK / 4; e += threads) {
					const uint r = e / (SK / 4), kk = 4 * (e % (SK / 4)), k = k0 + kk;
					const uint i = min(tileRow0 + r, p.M - 1);
					const vec4 v = k < p.kEnd ? A4((offA + i * p.K + k) / 4) : vec4(0.0);
					[[unroll]] for (uint h = 0; h < 4; h++) sa[(kk + h) * TILE_R + r] = v[h];
				}
			} else if (TRANS_A && VEC_A) {
				for (uint e = tid; e < TILE_R / 4 * SK; e += threads) {
					const uint kk = e / (TILE_R / 4), r = 4 * (e % (TILE_R / 4)), k = k0 + kk;
					const vec4 v = k < p.kEnd ? A4((offA + k * p.M) / 4 + min((tileRow0 + r) / 4, p.M / 4 - 1)) : vec4(0.0);
					[[unroll]] for (uint h = 0; h < 4; h++) sa[kk * TILE_R + r + h] = v[h];
				}
			} else {
				for (uint e = tid; e < TILE_R * SK; e += threads) {
					const uint kk = TRANS_A ? e / TILE_R : e % SK, r = TRANS_A ? e % TILE_R : e / SK, k = k0 + kk;
					sa[kk * TILE_R + r] = k < p.kEnd ? loadA(offA, min(tileRow0 + r, p.M - 1), k) : 0.0;
				}
			}
			// op(B)'s slice, as vec4 of four columns.
			if (!TRANS_B && VEC_B) {
				for (uint e = tid; e < SK * TILE_C4; e += threads) {
					const uint kk = e / TILE_C4, q = e % TILE_C4, k = k0 + kk;
					sb[e] = k < p.kEnd ? B4((offB + k * p.N) / 4 + min(tileCol0 / 4 + q, p.N / 4 - 1)) : vec4(0.0);
				}
			} else if (TRANS_B && VEC_B) {
				for (uint e = tid; e < TILE_C4 * 4 * SK / 4; e += threads) {
					const uint j = e / (SK / 4), kk = 4 * (e % (SK / 4)), k = k0 + kk;
					const vec4 v = k < p.kEnd ? B4((offB + min(tileCol0 + j, p.N - 1) * p.K + k) / 4) : vec4(0.0);
					[[unroll]] for (uint h = 0; h < 4; h++) sb[(kk + h) * TILE_C4 + j / 4][j % 4] = v[h];
				}
			} else {
				for (uint e = tid; e < SK * TILE_C4 * 4; e += threads) {
					const uint kk = TRANS_B ? e % SK : e / (TILE_C4 * 4), j = TRANS_B ? e / SK : e % (TILE_C4 * 4), k = k0 + kk;
					sb[kk * TILE_C4 + j / 4][j % 4] = k < p.kEnd ? loadB(offB, k, min(tileCol0 + j, p.N - 1)) : 0.0;
				}
			}
			barrier();
			[[unroll]] for (uint kk = 0; kk < SK; kk++) {
				vec4 bv[TC];
				[[unroll]] for (uint q = 0; q < TC; q++) bv[q] = sb[kk * TILE_C4 + lx * TC + q];
				[[unroll]] for (uint r = 0; r < TM; r++) {
					const float av = sa[kk * TILE_R + ly * TM + r];
					[[unroll]] for (uint q = 0; q < TC; q++) acc[r][q] = fma(vec4(av), bv[q], acc[r][q]);
				}
			}
			barrier();
		}
		storeTile(n, row0, col0);
	}
}

void main() {
	if (SHARED) {
		sharedTiles();
	} else {
		registerTiles();
	}
}
