package physics

import "math"

// MT19937 is the Mersenne Twister with the draws of NumPy's legacy global
// generator (np.random.seed, np.random.rand, np.random.randn), so that data
// generated here from a seed match NumPy's: uniforms bit for bit, Gaussians
// bit for bit but for about one in 1000 that is one ulp off (see
// NormFloat64). It is not safe for concurrent use.
type MT19937 struct {
	mt       [624]uint32
	idx      int
	hasGauss bool
	gauss    float64
}

// NewMT19937 returns a generator seeded as np.random.seed(seed) seeds the
// legacy global generator for an integer seed (Matsumoto and Nishimura's
// init_genrand), with no cached Gaussian.
func NewMT19937(seed uint32) *MT19937 {
	r := &MT19937{}
	r.Seed(seed)
	return r
}

// Seed resets the generator as np.random.seed(seed) does, dropping any
// cached Gaussian.
func (r *MT19937) Seed(seed uint32) {
	r.mt[0] = seed
	for i := 1; i < 624; i++ {
		prev := r.mt[i-1]
		r.mt[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	r.idx = 624
	r.hasGauss = false
	r.gauss = 0
}

// Uint32 returns the next 32-bit output of the twister.
func (r *MT19937) Uint32() uint32 {
	const upper, lower, matrixA = 0x80000000, 0x7fffffff, 0x9908b0df
	if r.idx >= 624 {
		mt := &r.mt
		for i := 0; i < 624; i++ {
			y := mt[i]&upper | mt[(i+1)%624]&lower
			v := mt[(i+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= matrixA
			}
			mt[i] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// Float64 is np.random.rand(): a double in [0, 1) with 53 random bits made
// from two 32-bit outputs, ((a>>5)*2^26 + (b>>6)) / 2^53.
func (r *MT19937) Float64() float64 {
	a := r.Uint32() >> 5
	b := r.Uint32() >> 6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// NormFloat64 is np.random.randn() of the legacy generator: the polar
// Box-Muller method, which makes two normals per accepted pair and caches
// the second (f*x1) for the next call; the cache survives uniform draws in
// between, as NumPy's does, and only Seed clears it.
func (r *MT19937) NormFloat64() float64 {
	if r.hasGauss {
		r.hasGauss = false
		return r.gauss
	}
	var x1, x2, r2 float64
	for {
		x1 = 2*r.Float64() - 1
		x2 = 2*r.Float64() - 1
		r2 = float64(x1*x1) + float64(x2*x2) // no fused multiply-add
		if r2 < 1 && r2 != 0 {
			break
		}
	}
	f := math.Sqrt(-2 * logCR(r2) / r2)
	r.gauss = f * x1
	r.hasGauss = true
	return f * x2
}
