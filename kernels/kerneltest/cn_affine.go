package kerneltest

import (
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(cnAffineCases) }

func cnAffineCases(rng *rand.Rand) []Case {
	shapes := []kernels.CNShape{
		{N: 1, C: 1, S: 1},
		{N: 2, C: 3, S: 5},     // small enough for the full finite-difference gradient
		{N: 4, C: 50, S: 1},    // an MLP layer's features: the backward's one-invocation-per-row path
		{N: 1, C: 2, S: 32},    // the longest rows of that path
		{N: 1, C: 2, S: 33},    // the shortest rows of the workgroup-per-row path
		{N: 1, C: 3, S: 7 * 9}, // odd spatial size
		// Rows longer than the reduction workgroup, of random odd length.
		{N: 1 + rng.IntN(3), C: 1 + 2*rng.IntN(4), S: 65 + 2*rng.IntN(100)},
		{N: 2, C: 64, S: 32 * 32}, // a DCGAN layer
	}
	var cases []Case
	for _, sh := range shapes {
		be := func(b kernels.Backend) kernels.CNAffineBackend {
			return backendAs[kernels.CNAffineBackend](b, "cn_affine kernels")
		}
		must := func(out []float32, err error) [][]float32 {
			if err != nil {
				panic(err)
			}
			return [][]float32{out}
		}
		must3 := func(a, b, c []float32, err error) [][]float32 {
			if err != nil {
				panic(err)
			}
			return [][]float32{a, b, c}
		}
		elem, rows := sh.N*sh.C*sh.S, sh.N*sh.C
		cases = append(cases, Case{
			Op:    "cn_affine",
			Shape: Join(sh.N, sh.C, sh.S),
			// x, gamma, beta
			In: []Input{{Len: elem, Lo: -2, Hi: 2}, {Len: rows, Lo: -2, Hi: 2}, {Len: rows, Lo: -2, Hi: 2}},
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = must(be(b).CNAffine(sh, in[0], in[1], in[2])) })
				return
			},
			VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = must3(be(b).CNAffineBackward(sh, in[0], in[1], g[0])) })
				return
			},
			JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = must(be(b).CNAffineTangent(sh, in[0], in[1], t[0], t[1], t[2])) })
				return
			},
			HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = must3(be(b).CNAffineTangentBackward(sh, in[0], in[1], g[0], t[0], t[1], tg[0])) })
				return
			},
			Symmetric: true,
		})
	}
	return cases
}
