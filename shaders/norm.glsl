// Shared declarations of the normalization kernels (norm_stats,
// norm_sums, norm_apply): group_norm and batch_norm over x of shape
// [N, C, S] (S the spatial size).
//
// A "set" is the group of elements that share one mean and variance:
// group_norm (G > 0) has N*G sets, set n*G + c/(C/G), each C/G*S
// contiguous elements; batch_norm (G = 0) has C sets, set c, each N
// blocks of S elements C*S apart. The reduction kernels run one workgroup
// per reduced set of the domain (sets, a, l, setStride, blockStride):
// set k is a blocks of l contiguous elements, block b starting at
// k*setStride + b*blockStride. Per-channel reductions (dweight, dbias)
// use the batch_norm domain whatever the op.
//
// Include this AFTER the layout(local_size_x_id = ...) declaration.
layout(push_constant) uniform Push {
	uint n, c, s, g;  // shape and groups (0: batch_norm)
	uint sets;        // reduced sets of this dispatch's domain
	uint a, l;        // blocks per set, elements per block
	uint setStride, blockStride;
	float invM;       // 1 / elements per normalization set
	float eps;
	float momentum;   // running-statistics update (norm_stats)
	float unbias;     // M / (M - 1): the running variance is unbiased
} p;

// norm_set returns the normalization set of flat element i.
uint norm_set(uint i) {
	uint ch = (i / p.s) % p.c;
	if (p.g == 0) return ch;
	return (i / (p.c * p.s)) * p.g + ch / (p.c / p.g);
}

// norm_channel returns the channel of flat element i.
uint norm_channel(uint i) { return (i / p.s) % p.c; }

// norm_elem returns the flat index of the j-th element of reduced set k.
uint norm_elem(uint k, uint j) {
	return k * p.setStride + (j / p.l) * p.blockStride + j % p.l;
}
