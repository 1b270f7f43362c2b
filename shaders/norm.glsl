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
// k*setStride + b*blockStride. Every block is one (sample, channel) row,
// so its normalization set and channel are uniform: group_norm's sets are
// C/G blocks of S (blockStride S), batch_norm's N blocks of S (blockStride
// C*S). Per-channel reductions (dweight, dbias) use the batch_norm domain
// whatever the op ("channel domain").
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

// norm_block_set and norm_block_channel return the normalization set and
// the channel of block blk of reduced set k, in the norm-set domain or
// (chan) the channel domain.
uint norm_block_set(uint k, uint blk, bool chan) {
	if (!chan || p.g == 0) return k;
	return blk * p.g + k / (p.c / p.g);
}

uint norm_block_channel(uint k, uint blk, bool chan) {
	if (chan || p.g == 0) return k;
	return (k % p.g) * (p.c / p.g) + blk;
}
