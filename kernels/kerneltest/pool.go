package kerneltest

import (
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

// Max pooling and nearest upsampling. Derivative checks (finite
// differences) run on small shapes; the models' shapes (the Noether
// embedding's pools on [B,32,64,64] and [B,64,32,32], VGG-64 decoder
// upsampling) at B = 2 and 8 are "forward+derivatives" cases: the forward,
// the backward and the tangent kernels, on fixed random cotangents and
// tangents, compared with the CPU reference, which keeps the suite's
// runtime on lavapipe small.
func init() { Register(poolCases) }

func poolBackend(b kernels.Backend) kernels.MaxPoolBackend {
	return backendAs[kernels.MaxPoolBackend](b, "maxpool2d kernels")
}

func upsampleBackend(b kernels.Backend) kernels.UpsampleBackend {
	return backendAs[kernels.UpsampleBackend](b, "upsample_nearest2d kernels")
}

// poolDistinct returns n values, a random permutation of evenly spaced
// levels 0.05 apart: every window's maximum then leads by more than the
// finite-difference perturbation can close (2 * step 1e-2), so the argmax
// is stable under the checks.
func poolDistinct(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i, p := range rng.Perm(n) {
		v[i] = float32(0.05 * (float64(p) - float64(n)/2))
	}
	return v
}

// poolArgF is the argmax as exactly representable floats, for the exact
// forward comparison.
func poolArgF(arg []int32) []float32 {
	out := make([]float32, len(arg))
	for i, a := range arg {
		out[i] = float32(a)
	}
	return out
}

func poolCases(rng *rand.Rand) []Case {
	var cases []Case
	mp := func(b kernels.Backend, sh kernels.PoolShape, x []float32) ([]float32, []int32) {
		y, arg, err := poolBackend(b).MaxPool2D(sh, x)
		if err != nil {
			panic(err)
		}
		return y, arg
	}
	// mpBackward is the backward of g at x (the argmax recomputed).
	mpBackward := func(b kernels.Backend, sh kernels.PoolShape, x, g []float32) (out [][]float32, err error) {
		err = guard(func() {
			_, arg := mp(b, sh, x)
			dx, err := poolBackend(b).MaxPool2DBackward(sh, arg, g)
			if err != nil {
				panic(err)
			}
			out = [][]float32{dx}
		})
		return
	}
	// Derivative checks: 2x2/2, odd sizes (floor drops the last row and
	// column), 1 channel at batch 1, overlapping 3x3/2 and 2x2/1 windows
	// (the gathering backward), strides beyond the window, non-square
	// windows.
	for _, sh := range []kernels.PoolShape{
		kernels.MaxPool2x2(1, 1, 4, 4),
		kernels.MaxPool2x2(1, 1, 7, 9),
		kernels.MaxPool2x2(2, 3, 7, 9),
		kernels.MaxPool2x2(1, 2, 16, 16),
		{N: 2, C: 2, H: 7, W: 9, KH: 3, KW: 3, SH: 2, SW: 2},
		{N: 1, C: 2, H: 5, W: 6, KH: 2, KW: 2, SH: 1, SW: 1},
		{N: 2, C: 1, H: 8, W: 7, KH: 2, KW: 2, SH: 3, SW: 3}, // gaps between windows
		{N: 1, C: 3, H: 6 + rng.IntN(5), W: 7 + rng.IntN(5), KH: 2, KW: 3, SH: 2, SW: 1},
	} {
		cases = append(cases, Case{
			Op:    "maxpool2d",
			Shape: sh.String(),
			In:    []Input{{Len: sh.InLen(), Values: poolDistinct(rng, sh.InLen())}},
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				err = guard(func() { y, arg := mp(b, sh, in[0]); out = [][]float32{y, poolArgF(arg)} })
				return
			},
			VJP: func(b kernels.Backend, in, g [][]float32) ([][]float32, error) {
				return mpBackward(b, sh, in[0], g[0])
			},
			JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
				err = guard(func() {
					_, arg := mp(b, sh, in[0])
					ty, err := poolBackend(b).MaxPool2DTangent(sh, arg, t[0])
					if err != nil {
						panic(err)
					}
					out = [][]float32{ty, make([]float32, len(arg))}
				})
				return
			},
			// The tangent of the backward: the argmax is locally constant,
			// so it is the backward of tg.
			HVP: func(b kernels.Backend, in, g, t, tg [][]float32) ([][]float32, error) {
				return mpBackward(b, sh, in[0], tg[0])
			},
			Symmetric: true,
			Tol:       Exact,
		})
	}
	// Model shapes: forward (exact, with the argmax), backward and tangent.
	for _, sh := range []kernels.PoolShape{
		kernels.MaxPool2x2(2, 32, 64, 64), kernels.MaxPool2x2(2, 64, 32, 32),
		kernels.MaxPool2x2(8, 32, 64, 64), kernels.MaxPool2x2(8, 64, 32, 32),
		kernels.MaxPool2x2(8, 256, 8, 8),
	} {
		cases = append(cases, Case{
			Op:    "maxpool2d",
			Shape: sh.String() + " forward+derivatives",
			// x, g, tx
			In: []Input{{Len: sh.InLen(), Lo: -2, Hi: 2}, {Len: sh.OutLen(), Lo: -1, Hi: 1, NoDiff: true}, {Len: sh.InLen(), Lo: -1, Hi: 1, NoDiff: true}},
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				err = guard(func() {
					y, arg := mp(b, sh, in[0])
					dx, err := poolBackend(b).MaxPool2DBackward(sh, arg, in[1])
					if err != nil {
						panic(err)
					}
					ty, err := poolBackend(b).MaxPool2DTangent(sh, arg, in[2])
					if err != nil {
						panic(err)
					}
					out = [][]float32{y, poolArgF(arg), dx, ty}
				})
				return
			},
			Tol: Exact,
		})
	}

	// upsample_nearest2d is linear: its tangent is the forward of the
	// tangent, the tangent of its backward the backward of tg.
	up := func(b kernels.Backend, sh kernels.UpsampleShape, x []float32) []float32 {
		y, err := upsampleBackend(b).UpsampleNearest2D(sh, x)
		if err != nil {
			panic(err)
		}
		return y
	}
	upBack := func(b kernels.Backend, sh kernels.UpsampleShape, g []float32) []float32 {
		dx, err := upsampleBackend(b).UpsampleNearest2DBackward(sh, g)
		if err != nil {
			panic(err)
		}
		return dx
	}
	for _, sh := range []kernels.UpsampleShape{
		{N: 1, C: 1, H: 3, W: 4, FH: 2, FW: 2},
		{N: 1, C: 1, H: 7, W: 9, FH: 2, FW: 2},
		{N: 2, C: 3, H: 7, W: 9, FH: 2, FW: 2},
		{N: 1, C: 2, H: 5, W: 5, FH: 3, FW: 3},
		{N: 2, C: 1, H: 2 + rng.IntN(6), W: 3 + rng.IntN(6), FH: 2, FW: 3},
	} {
		cases = append(cases, Case{
			Op:    "upsample_nearest2d",
			Shape: sh.String(),
			In:    []Input{{Len: sh.InLen(), Lo: -2, Hi: 2}},
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{up(b, sh, in[0])} })
				return
			},
			VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{upBack(b, sh, g[0])} })
				return
			},
			JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{up(b, sh, t[0])} })
				return
			},
			HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{upBack(b, sh, tg[0])} })
				return
			},
			Symmetric: true,
		})
	}
	// VGG-64 decoder upsampling (x2 of 512x4x4 ... 128x16x16) and the
	// DCGAN-size maps, forward and backward against the CPU.
	for _, sh := range []kernels.UpsampleShape{
		{N: 2, C: 512, H: 4, W: 4, FH: 2, FW: 2}, {N: 8, C: 256, H: 8, W: 8, FH: 2, FW: 2},
		{N: 2, C: 64, H: 32, W: 32, FH: 2, FW: 2}, {N: 8, C: 128, H: 16, W: 16, FH: 2, FW: 2},
	} {
		cases = append(cases, Case{
			Op:    "upsample_nearest2d",
			Shape: sh.String() + " forward+backward",
			In:    []Input{{Len: sh.InLen(), Lo: -2, Hi: 2}, {Len: sh.OutLen(), Lo: -1, Hi: 1, NoDiff: true}},
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{up(b, sh, in[0]), upBack(b, sh, in[1])} })
				return
			},
		})
	}
	return cases
}
