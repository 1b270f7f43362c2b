#version 450
// variant: matmul_plain -DNO_SUBGROUP_SHUFFLE
// (the same kernel without the subgroup-shuffle capability, for devices
// that lack it; tools/shaderc builds it from this line)
#ifndef NO_SUBGROUP_SHUFFLE
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
#extension GL_EXT_control_flow_attributes : require
// matmul: C[b] = op(A[b]) op(B[b]) (+ bias) for b < batch; op(A) is M x K,
// op(B) is K x N, all row-major. A is stored [M,K], or [K,M] with TRANS_A;
// B is [K,N], or [N,K] with TRANS_B. A shared operand has batch stride 0.
//
// Register-blocked without shared memory (fastest on lavapipe, where
// barriers are costly): each invocation accumulates a TM x TN block of C
// in registers, reading op(A) and op(B) four k at a time, as vec4 where an
// operand's contiguous axis is a multiple of 4 (VEC_A, VEC_B, VEC_C).
// Out-of-range rows and columns are clamped for loads and skipped for
// stores, so any size works (and every lane stays active for SHARE_A).
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

const uint TC = TN / 4;

layout(push_constant) uniform Push { uint M, N, K, batch, strideA, strideB; } p;
// Scalar and vec4 views of the same bindings.
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 1) readonly buffer B4 { vec4 b4[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer C { float c[]; };
layout(std430, binding = 3) writeonly buffer C4 { vec4 c4[]; };

float loadA(uint offA, uint i, uint k) { return TRANS_A ? a[offA + k * p.M + i] : a[offA + i * p.K + k]; }
float loadB(uint offB, uint k, uint j) { return TRANS_B ? b[offB + j * p.K + k] : b[offB + k * p.N + j]; }

void main() {
	const uint row0 = gl_GlobalInvocationID.y * TM, col0 = gl_GlobalInvocationID.x * TN;
	if (!SHARE_A && (row0 >= p.M || col0 >= p.N)) return;
	uint rows[TM], cols[TN], chunks[TC];
	[[unroll]] for (uint r = 0; r < TM; r++) rows[r] = min(row0 + r, p.M - 1);
	[[unroll]] for (uint j = 0; j < TN; j++) cols[j] = min(col0 + j, p.N - 1);
	[[unroll]] for (uint q = 0; q < TC; q++) chunks[q] = min(col0 / 4 + q, p.N / 4 - 1);
	const uint K4 = p.K & ~3u;

	for (uint n = gl_WorkGroupID.z; n < p.batch; n += gl_NumWorkGroups.z) {
		const uint offA = n * p.strideA, offB = n * p.strideB;
		vec4 acc[TM][TC];
		[[unroll]] for (uint r = 0; r < TM; r++)
			[[unroll]] for (uint q = 0; q < TC; q++) acc[r][q] = vec4(0.0);

		for (uint k = 0; k < K4; k += 4) {
			// av[r][kk] = op(A)(row r, k+kk); bv[kk][q] = op(B)(k+kk, columns 4q..4q+3).
			vec4 av[TM], bv[4][TC];
#ifndef NO_SUBGROUP_SHUFFLE
			if (SHARE_A) {
				// Lane l loads rows l, l + SG, ... (SG = gl_SubgroupSize).
				vec4 mine[TM];
				[[unroll]] for (uint h = 0; h < TM; h += gl_SubgroupSize) {
					const uint i = min(row0 + h + gl_SubgroupInvocationID, p.M - 1);
					mine[h / gl_SubgroupSize] = !TRANS_A && VEC_A ? a4[(offA + i * p.K + k) / 4]
						: vec4(loadA(offA, i, k), loadA(offA, i, k + 1), loadA(offA, i, k + 2), loadA(offA, i, k + 3));
				}
				[[unroll]] for (uint r = 0; r < TM; r++) av[r] = subgroupShuffle(mine[r / gl_SubgroupSize], r % gl_SubgroupSize);
			} else
#endif
			if (!TRANS_A && VEC_A) {
				[[unroll]] for (uint r = 0; r < TM; r++) av[r] = a4[(offA + rows[r] * p.K + k) / 4];
			} else if (TRANS_A && VEC_A) {
				[[unroll]] for (uint kk = 0; kk < 4; kk++)
					[[unroll]] for (uint r = 0; r < TM; r += 4) {
						vec4 t = a4[(offA + (k + kk) * p.M) / 4 + min((row0 + r) / 4, p.M / 4 - 1)];
						av[r][kk] = t.x, av[r + 1][kk] = t.y, av[r + 2][kk] = t.z, av[r + 3][kk] = t.w;
					}
			} else {
				[[unroll]] for (uint r = 0; r < TM; r++)
					[[unroll]] for (uint kk = 0; kk < 4; kk++) av[r][kk] = loadA(offA, rows[r], k + kk);
			}
			if (!TRANS_B && VEC_B) {
				[[unroll]] for (uint kk = 0; kk < 4; kk++)
					[[unroll]] for (uint q = 0; q < TC; q++) bv[kk][q] = b4[(offB + (k + kk) * p.N) / 4 + chunks[q]];
			} else if (TRANS_B && VEC_B) {
				[[unroll]] for (uint j = 0; j < TN; j++) {
					vec4 t = b4[(offB + cols[j] * p.K + k) / 4];
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
		for (uint k = K4; k < p.K; k++) {
			vec4 bv[TC];
			[[unroll]] for (uint j = 0; j < TN; j++) bv[j / 4][j % 4] = loadB(offB, k, cols[j]);
			[[unroll]] for (uint r = 0; r < TM; r++) {
				float s = loadA(offA, rows[r], k);
				[[unroll]] for (uint q = 0; q < TC; q++) acc[r][q] = fma(vec4(s), bv[q], acc[r][q]);
			}
		}

		vec4 bias4[TC];
		[[unroll]] for (uint j = 0; j < TN; j++) bias4[j / 4][j % 4] = BIAS ? bias[cols[j]] : 0.0;
		[[unroll]] for (uint r = 0; r < TM; r++) {
			if (row0 + r >= p.M) break;
			const uint base = (n * p.M + row0 + r) * p.N + col0;
			[[unroll]] for (uint q = 0; q < TC; q++) {
				vec4 v = acc[r][q] + bias4[q];
				if (VEC_C && col0 + 4 * q < p.N) {
					c4[base / 4 + q] = v;
				} else if (!VEC_C) {
					[[unroll]] for (uint e = 0; e < 4; e++)
						if (col0 + 4 * q + e < p.N) c[base + 4 * q + e] = v[e];
				}
			}
		}
	}
}
