package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

// The rowwise ops (min-max normalisation, svd_flip's sign, the jet
// blend): forward only, none is differentiable. Rows shorter and longer
// than a workgroup, one row and many; the sign's ties (two entries of
// the same magnitude and opposite signs: the first wins), zero rows and
// constant rows are fixed inputs.
func init() { Register(rowwiseCases) }

func rowwiseBackend(b kernels.Backend) kernels.RowwiseBackend {
	return backendAs[kernels.RowwiseBackend](b, "rowwise kernels")
}

func rowwiseCases(rng *rand.Rand) []Case {
	var cases []Case
	add := func(op kernels.RowwiseOp, rows, l int, shape string, in []Input) {
		// The sign is exact; the normalisation and the blend divide.
		tol := F32
		if op == kernels.RowSign {
			tol = Exact
		}
		cases = append(cases, Case{
			Op:    op.String(),
			Shape: fmt.Sprintf("[%d,%d]%s", rows, l, shape),
			In:    in,
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				var f []float32
				if op == kernels.RowJet {
					f = in[1]
				}
				y, err := rowwiseBackend(b).Rowwise(op, rows, l, in[0], f)
				return [][]float32{y}, err
			},
			Tol: tol,
		})
	}
	for _, sh := range [][2]int{{1, 1}, {3, 7}, {5, 64}, {2, 1000}, {16, 1024}, {1 + rng.IntN(5), 1 + rng.IntN(300)}} {
		rows, l := sh[0], sh[1]
		add(kernels.RowSign, rows, l, "", []Input{{Len: rows * l, Lo: -1, Hi: 1}})
		add(kernels.RowMinMax, rows, l, "", []Input{{Len: rows * l, Lo: -3, Hi: 5}})
		add(kernels.RowJet, rows, l, "", []Input{{Len: rows * l, Lo: 0, Hi: 1}, {Len: 3 * rows * l, Lo: 0, Hi: 1}})
	}
	// Ties, zeros and constants: row 0 ties -0.5 (first) against +0.5, row
	// 1 is all zeros, row 2 ties +2 (first) against -2, row 3 is constant.
	fixed := []float32{
		0.1, -0.5, 0.2, 0.5,
		0, 0, 0, 0,
		2, 1, -2, 0,
		0.7, 0.7, 0.7, 0.7,
	}
	add(kernels.RowSign, 4, 4, " ties", []Input{{Len: 16, Values: fixed}})
	add(kernels.RowMinMax, 4, 4, " constant rows", []Input{{Len: 16, Values: fixed}})
	return cases
}
