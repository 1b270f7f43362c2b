package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(rngCases) }

// RNGNormal is the tolerance of Box-Muller normals against the float64
// reference: the uniforms are bit-exact, so the difference is the float32
// rounding of the angle and the device's log, sin and cos (a few ulps of
// r <= 5.8).
var RNGNormal = Tol{Name: "rng-normal", Abs: 2e-6, Rel: 1e-5}

// rngCases generate from both distributions at size 1, odd sizes at offsets
// that are not multiples of the block size, and a stream position whose
// 64-bit block counter carries from the low into the high word.
func rngCases(rng *rand.Rand) []Case {
	var cases []Case
	for _, dist := range []kernels.RNGDist{kernels.Uniform, kernels.Normal} {
		tol := Exact
		if dist == kernels.Normal {
			tol = RNGNormal
		}
		for _, c := range []struct {
			seed, offset uint64
			n            int
		}{
			{0, 0, 1},
			{rng.Uint64(), 3 + 4*rng.Uint64N(1000), 5 + rng.IntN(60)},
			{rng.Uint64(), 1<<34 - 6, 3000 + rng.IntN(3000)},
		} {
			cases = append(cases, Case{
				Op:    dist.String(),
				Shape: fmt.Sprintf("%d at offset %d, seed %#x", c.n, c.offset, c.seed),
				Forward: func(b kernels.Backend, _ [][]float32) ([][]float32, error) {
					rb, ok := b.(kernels.RNGBackend)
					if !ok {
						return nil, fmt.Errorf("backend %s has no RNG kernels", b.Name())
					}
					x, err := rb.RNG(dist, c.seed, c.offset, c.n)
					return [][]float32{x}, err
				},
				Tol: tol,
			})
		}
	}
	return cases
}
