#version 450
// symeig: eigenvalues and eigenvectors of symmetric n x n matrices
// (n <= MAXN), one workgroup per matrix, by the cyclic Jacobi method in
// parallel (round-robin) order: each step rotates n/2 disjoint pairs
// (p, q) at once, every pair once per sweep, until the off-diagonal
// Frobenius norm is below 1e-7 of the matrix's, or after the sweeps the
// launcher asks for (kernels.symEigMaxSweeps).
//
// Per step: (1) one invocation per pair computes the rotation that zeros
// A[p][q] (Rutishauser's form: theta = (A[q][q] - A[p][p]) / (2 A[p][q]),
// t = sign(theta) / (|theta| + sqrt(theta^2 + 1)), c = 1/sqrt(t^2 + 1),
// s = t c) and writes the pair's 2x2 block directly (A[p][p] -= t
// A[p][q], A[q][q] += t A[p][q], A[p][q] = A[q][p] = 0); (2) every column
// pair of A outside the blocks and of V is rotated, A J and V J; (3) every
// row pair of A outside the blocks, J^T A. Pairs are disjoint, so no two
// invocations write the same element within a phase.
//
// Output (kernels.SymEigBackend): eigenvalues in descending order, and
// the eigenvectors as rows in the same order, each with its entry of
// largest magnitude positive (the first such entry on ties).
//
//   binding  0       1        2                                         3
//            values  vectors  work: A, V (2 n^2 each), then per matrix   input
//                             (converged, squared Frobenius norm)
layout(local_size_x_id = 0) in;

const uint MAXN = 256;

// A dispatch runs steps [t0, t1) of the sweeps (see main), after the
// setup with INIT and followed by the output with FINISH: one dispatch
// does it all, or (on lavapipe, which ends an invocation's loops after
// 65535 iterations) several, the state kept in the work buffer.
const uint INIT = 1, FINISH = 2;
layout(push_constant) uniform Push {
	uint batch;
	uint n;
	uint flags;
	uint t0, t1;
} p;
layout(std430, binding = 0) writeonly buffer Vals { float vals[]; };
layout(std430, binding = 1) writeonly buffer Vecs { float vecs[]; };
layout(std430, binding = 2) coherent buffer Work { float w[]; };
layout(std430, binding = 3) readonly buffer In { float a[]; };

shared float cs[MAXN / 2];
shared float sn[MAXN / 2];
shared uint rank[MAXN];
shared float sgn[MAXN];
shared float red[gl_WorkGroupSize.x];

// sync orders the work buffer and shared memory between the workgroup's
// invocations.
void sync() {
	memoryBarrierBuffer();
	memoryBarrierShared();
	barrier();
}

float wg_sum(float v) {
	uint lid = gl_LocalInvocationID.x;
	red[lid] = v;
	sync();
	for (uint k = gl_WorkGroupSize.x / 2; k > 0; k /= 2) {
		if (lid < k) red[lid] += red[lid + k];
		sync();
	}
	float s = red[0];
	sync();
	return s;
}

// pair returns the k-th pair of round r of the round-robin schedule over
// m (even) indices: index m - 1 stays, the others rotate.
uvec2 pair(uint r, uint k, uint m) {
	if (k == 0) return uvec2(r, m - 1);
	return uvec2((r + k) % (m - 1), (r + m - 1 - k) % (m - 1));
}

void main() {
	uint b = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
	if (b >= p.batch) return; // uniform across the workgroup
	uint lid = gl_LocalInvocationID.x, local = gl_WorkGroupSize.x;
	uint n = p.n, nn = n * n;
	uint A = b * 2 * nn, V = A + nn; // offsets into w
	uint state = p.batch * 2 * nn + 2 * b; // w[state]: converged, w[state + 1]: frob
	uint m = n + (n & 1); // a dummy index pads an odd n
	uint half_m = m / 2;
	if ((p.flags & INIT) != 0) {
		float frob = 0.0;
		for (uint i = lid; i < nn; i += local) {
			float v = a[b * nn + i];
			w[A + i] = v;
			w[V + i] = (i / n == i % n) ? 1.0 : 0.0;
			frob += v * v;
		}
		frob = wg_sum(frob);
		if (lid == 0) w[state] = 0.0, w[state + 1] = frob;
		sync();
	}
	// Steps t0 <= t < t1, step t = round r of sweep t / (m - 1); sweeps
	// stop, for this and the later dispatches, once the matrix has
	// converged.
	for (uint t = p.t0; t < p.t1 && w[state] == 0.0; t++) {
		uint r = t % (m - 1);
		if (r == 0) {
			float off = 0.0;
			for (uint i = lid; i < nn; i += local) {
				if (i / n != i % n) off += w[A + i] * w[A + i];
			}
			// Uniform: every invocation reads the same sums.
			if (wg_sum(off) <= 1e-14 * w[state + 1]) {
				if (lid == 0) w[state] = 1.0;
				break;
			}
		}
		for (uint k = lid; k < half_m; k += local) {
			uvec2 pq = pair(r, k, m);
			float c = 1.0, s = 0.0;
			if (pq.y < n) {
				uint pp = A + pq.x * n + pq.x, qq = A + pq.y * n + pq.y;
				uint pqi = A + pq.x * n + pq.y, qpi = A + pq.y * n + pq.x;
				float apq = w[pqi];
				if (apq != 0.0) {
					float theta = (w[qq] - w[pp]) / (2.0 * apq);
					float t = 1.0 / (abs(theta) + sqrt(theta * theta + 1.0));
					if (theta < 0.0) t = -t;
					c = inversesqrt(t * t + 1.0);
					s = t * c;
					w[pp] -= t * apq;
					w[qq] += t * apq;
					w[pqi] = 0.0;
					w[qpi] = 0.0;
				}
			}
			cs[k] = c;
			sn[k] = s;
		}
		sync();
		// Columns p and q of A (rows outside the block) and of V.
		for (uint it = lid; it < half_m * n; it += local) {
			uint k = it / n, i = it % n;
			uvec2 pq = pair(r, k, m);
			float c = cs[k], s = sn[k];
			if (pq.y >= n || s == 0.0) continue;
			uint vp = V + i * n + pq.x, vq = V + i * n + pq.y;
			float x = w[vp], y = w[vq];
			w[vp] = c * x - s * y;
			w[vq] = s * x + c * y;
			if (i == pq.x || i == pq.y) continue;
			uint ap = A + i * n + pq.x, aq = A + i * n + pq.y;
			x = w[ap];
			y = w[aq];
			w[ap] = c * x - s * y;
			w[aq] = s * x + c * y;
		}
		sync();
		// Rows p and q of A (columns outside the block).
		for (uint it = lid; it < half_m * n; it += local) {
			uint k = it / n, j = it % n;
			uvec2 pq = pair(r, k, m);
			float c = cs[k], s = sn[k];
			if (pq.y >= n || s == 0.0 || j == pq.x || j == pq.y) continue;
			uint ap = A + pq.x * n + j, aq = A + pq.y * n + j;
			float x = w[ap], y = w[aq];
			w[ap] = c * x - s * y;
			w[aq] = s * x + c * y;
		}
		sync();
	}
	if ((p.flags & FINISH) == 0) return;
	sync();
	// Rank the eigenvalues (descending, ties by index) and find each
	// vector's sign.
	for (uint i = lid; i < n; i += local) {
		float d = w[A + i * n + i];
		uint k = 0;
		for (uint j = 0; j < n; j++) {
			float e = w[A + j * n + j];
			if (e > d || (e == d && j < i)) k++;
		}
		rank[i] = k;
		uint best = 0;
		for (uint r = 1; r < n; r++) {
			if (abs(w[V + r * n + i]) > abs(w[V + best * n + i])) best = r;
		}
		sgn[i] = w[V + best * n + i] < 0.0 ? -1.0 : 1.0;
		vals[b * n + k] = d;
	}
	sync();
	for (uint it = lid; it < nn; it += local) {
		uint i = it / n, r = it % n; // eigenvector i, entry r
		vecs[b * nn + rank[i] * n + r] = sgn[i] * w[V + r * n + i];
	}
}
