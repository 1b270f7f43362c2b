package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(lstmCases) }

func lstmCases(rng *rand.Rand) []Case {
	shapes := []kernels.LSTMShape{
		{B: 1, H: 1},
		{B: 2, H: 3},                  // small enough for the full finite-difference gradient
		{B: 3, H: 5 + 2*rng.IntN(20)}, // odd hidden size
		{B: 2, H: 256},                // the predictor LSTM of the paper's runs
	}
	var cases []Case
	for _, sh := range shapes {
		be := func(b kernels.Backend) kernels.LSTMCellBackend {
			return backendAs[kernels.LSTMCellBackend](b, "lstm_cell kernels")
		}
		must := func(a, b []float32, err error) [][]float32 {
			if err != nil {
				panic(err)
			}
			return [][]float32{a, b}
		}
		n := sh.B * sh.H
		cases = append(cases, Case{
			Op:    "lstm_cell",
			Shape: fmt.Sprintf("B%d-H%d", sh.B, sh.H),
			// z, c_prev. The range spans the gates' curved region, where
			// second derivatives matter, without saturating them.
			In: []Input{{Len: 4 * n, Lo: -2, Hi: 2}, {Len: n, Lo: -2, Hi: 2}},
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = must(be(b).LSTMCell(sh, in[0], in[1])) })
				return
			},
			VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = must(be(b).LSTMCellBackward(sh, in[0], in[1], g[0], g[1])) })
				return
			},
			JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = must(be(b).LSTMCellTangent(sh, in[0], in[1], t[0], t[1])) })
				return
			},
			HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
				err = guard(func() {
					out = must(be(b).LSTMCellTangentBackward(sh, in[0], in[1], g[0], g[1], t[0], t[1], tg[0], tg[1]))
				})
				return
			},
			Symmetric: true,
		})
	}
	return cases
}
