package pendulum

import (
	"math"
	"math/rand/v2"
)

// rng draws one episode's random numbers. Its source is a PCG stream
// (math/rand/v2, an algorithm fixed by its specification), and the
// conversions to uniforms and Gaussians are written here rather than taken
// from rand.Rand, so the values an episode sees depend on this file and the
// seed alone, not on the Go release.
type rng struct {
	src *rand.PCG
}

// newRNG gives every (seed, split, episode) its own stream, so an episode
// does not change when another split or the number of episodes does.
func newRNG(seed uint64, split Split, episode int) *rng {
	stream := mix(uint64(split)<<32 | uint64(episode))
	return &rng{src: rand.NewPCG(mix(seed), mix(seed^stream))}
}

// mix is SplitMix64's finaliser: nearby seeds give unrelated PCG states.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// uniform is in [lo, hi): 53 random bits scaled to [0, 1).
func (r *rng) uniform(lo, hi float64) float64 {
	return lo + (hi-lo)*(float64(r.src.Uint64()>>11)*0x1p-53)
}

// normal is a standard Gaussian by the Box-Muller transform; u1 is in
// (0, 1] so its logarithm is finite.
func (r *rng) normal() float64 {
	u1 := float64(r.src.Uint64()>>11+1) * 0x1p-53
	u2 := float64(r.src.Uint64()>>11) * 0x1p-53
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}
