package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(lossCases) }

func lossBackend(b kernels.Backend) kernels.LossBackend {
	return backendAs[kernels.LossBackend](b, "loss kernels")
}

// lossCase builds the case of op at s; every loss has a Hessian, so the
// symmetry check applies.
func lossCase(name, shape string, op kernels.LossOp, s kernels.LossShape, in []Input) Case {
	return Case{
		Op:    name,
		Shape: shape,
		In:    in,
		Forward: func(b kernels.Backend, in [][]float32) ([][]float32, error) {
			return lossBackend(b).Loss(op, s, in)
		},
		VJP: func(b kernels.Backend, in, g [][]float32) ([][]float32, error) {
			return lossBackend(b).LossVJP(op, s, in, g)
		},
		JVP: func(b kernels.Backend, in, t [][]float32) ([][]float32, error) {
			return lossBackend(b).LossJVP(op, s, in, t)
		},
		HVP: func(b kernels.Backend, in, g, t, tg [][]float32) ([][]float32, error) {
			return lossBackend(b).LossHVP(op, s, in, g, t, tg)
		},
		Symmetric: true,
	}
}

// lossCases covers size 1, odd sizes, and rows longer than one reduction
// workgroup's share (4096 terms), which take the two-pass path.
func lossCases(rng *rand.Rand) []Case {
	var cases []Case
	uniform := func(n int) Input { return Input{Len: n, Lo: -1, Hi: 1} }

	// mse: B = 1 is the mean over all elements, B > 1 the per-example form.
	for _, s := range []kernels.LossShape{
		{B: 1, K: 1}, {B: 1, K: 5 + rng.IntN(60)}, {B: 1, K: 8192 + rng.IntN(4000)},
		{B: 3 + rng.IntN(4), K: 7 + rng.IntN(20)}, {B: 2, K: 4097 + rng.IntN(2000)},
	} {
		shape := fmt.Sprintf("%s mean", Join(s.K))
		if s.B > 1 {
			shape = fmt.Sprintf("%s per example", Join(s.B, s.K))
		}
		n := s.B * s.K
		cases = append(cases, lossCase("mse", shape, kernels.MSE, s, []Input{uniform(n), uniform(n)}))
	}

	// gaussian_kl: log-variances in [-1, 1] keep exp well scaled.
	for _, s := range []kernels.LossShape{{B: 1, K: 1}, {B: 2 + rng.IntN(3), K: 5 + rng.IntN(20)}, {B: 2, K: 64}} {
		n := s.B * s.K
		cases = append(cases, lossCase("gaussian_kl", Join(s.B, s.K), kernels.GaussianKL, s,
			[]Input{uniform(n), uniform(n), uniform(n), uniform(n)}))
	}
	return cases
}
