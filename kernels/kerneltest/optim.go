package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(optimCases) }

func optimBackend(b kernels.Backend) kernels.OptimBackend {
	return backendAs[kernels.OptimBackend](b, "optimiser kernels")
}

// adamSteps is how many Adam steps a case chains, each with its own gradient.
const adamSteps = 3

// optimCases checks the optimisers forward only (they are not
// differentiated): SGD, several Adam steps in a row from a fresh and from a
// warm state with each kind of weight decay, and gradient clipping where
// it triggers and where it does not.
func optimCases(rng *rand.Rand) []Case {
	var cases []Case
	sizes := []int{1, 5 + rng.IntN(60), 3000 + rng.IntN(3000)}
	for _, n := range sizes {
		cases = append(cases, Case{
			Op:    "sgd",
			Shape: fmt.Sprint(n),
			In:    []Input{{Len: n, Lo: -1, Hi: 1}, {Len: n, Lo: -1, Hi: 1}},
			Forward: func(b kernels.Backend, in [][]float32) ([][]float32, error) {
				p, err := optimBackend(b).SGD(in[0], in[1], 0.1)
				return [][]float32{p}, err
			},
		})
	}

	configs := []struct {
		name  string
		c     kernels.AdamConfig
		start int  // first step
		warm  bool // random moments instead of zeros
	}{
		// The paper's MLP baseline: lr 1e-3, L2 weight decay 1e-4.
		{"l2 from step 1", kernels.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-4}, 1, false},
		{"no decay from step 7", kernels.AdamConfig{LR: 2e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, 7, true},
		{"decoupled from step 40", kernels.AdamConfig{LR: 1e-2, Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.05, Decoupled: true}, 40, true},
	}
	for _, cfg := range configs {
		for _, n := range sizes {
			moment := Input{Len: n}
			second := Input{Len: n}
			if cfg.warm {
				moment = Input{Len: n, Lo: -0.1, Hi: 0.1}
				second = Input{Len: n, Lo: 1e-4, Hi: 1e-2}
			}
			cases = append(cases, Case{
				Op:    "adam",
				Shape: fmt.Sprintf("%d, %d steps, %s", n, adamSteps, cfg.name),
				In:    []Input{{Len: n, Lo: -1, Hi: 1}, {Len: adamSteps * n, Lo: -1, Hi: 1}, moment, second},
				Forward: func(b kernels.Backend, in [][]float32) ([][]float32, error) {
					p, m, v := in[0], in[2], in[3]
					for s := range adamSteps {
						var err error
						p, m, v, err = optimBackend(b).Adam(p, in[1][s*n:(s+1)*n], m, v, cfg.c, cfg.start+s)
						if err != nil {
							return nil, err
						}
					}
					return [][]float32{p, m, v}, nil
				},
			})
		}
	}

	// Random values in [-1, 1] (values nil): the norm of the long lists is
	// about 40, so max norm 1 clips them and 1000 does not.
	for _, c := range []struct {
		lens    []int
		values  [][]float32
		maxNorm float32
	}{
		{[]int{1}, [][]float32{{0.5}}, 10},
		{[]int{1}, [][]float32{{-3}}, 0.25},
		{[]int{7 + rng.IntN(30), 1, 4096 + rng.IntN(2000)}, make([][]float32, 3), 1},
		{[]int{7 + rng.IntN(30), 1, 4096 + rng.IntN(2000)}, make([][]float32, 3), 1000},
	} {
		in := make([]Input, len(c.lens))
		for i, n := range c.lens {
			in[i] = Input{Len: n, Lo: -1, Hi: 1, Values: c.values[i]}
		}
		cases = append(cases, Case{
			Op:    "clip_grad_norm",
			Shape: fmt.Sprintf("%v, max norm %g", c.lens, c.maxNorm),
			In:    in,
			Forward: func(b kernels.Backend, in [][]float32) ([][]float32, error) {
				g, norm, err := optimBackend(b).ClipGradNorm(in, c.maxNorm)
				return append(g, []float32{norm}), err
			},
		})
	}
	return cases
}
