package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(unaryCases) }

// unaryDomain keeps inputs where the function and its finite differences
// are defined and smooth: positive for sqrt and log, away from the kink
// for relu and leaky_relu.
func unaryDomain(op kernels.UnaryOp, n int) Input {
	switch op {
	case kernels.Sqrt, kernels.Log:
		return Input{Len: n, Lo: 0.3, Hi: 3}
	case kernels.Relu, kernels.LeakyRelu:
		return Input{Len: n, Lo: -2, Hi: 2, Gap: 0.1}
	}
	return Input{Len: n, Lo: -2, Hi: 2}
}

func unaryCases(rng *rand.Rand) []Case {
	const alpha = 0.2
	var cases []Case
	for _, op := range kernels.UnaryOps {
		for _, n := range []int{1, 5 + rng.IntN(60), 1000 + rng.IntN(5000)} {
			un := func(b kernels.Backend, order int, x, s []float32) []float32 {
				ub := backendAs[kernels.UnaryBackend](b, "unary kernels")
				y, err := ub.Unary(op, order, alpha, x, s)
				if err != nil {
					panic(err)
				}
				return y
			}
			cases = append(cases, Case{
				Op:    op.String(),
				Shape: fmt.Sprint(n),
				In:    []Input{unaryDomain(op, n)},
				Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
					err = guard(func() { out = [][]float32{un(b, 0, in[0], nil)} })
					return
				},
				VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
					err = guard(func() { out = [][]float32{un(b, 1, in[0], g[0])} })
					return
				},
				JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
					err = guard(func() { out = [][]float32{un(b, 1, in[0], t[0])} })
					return
				},
				// d/de [g' f'(x')] with x' = x + e t, g' = g + e tg:
				// tg f'(x) + g t f''(x).
				HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
					err = guard(func() {
						gt := make([]float32, len(g[0]))
						for i := range gt {
							gt[i] = g[0][i] * t[0][i]
						}
						a, c := un(b, 1, in[0], tg[0]), un(b, 2, in[0], gt)
						for i := range a {
							a[i] += c[i]
						}
						out = [][]float32{a}
					})
					return
				},
				Symmetric: true,
			})
		}
	}
	return cases
}
