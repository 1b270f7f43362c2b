package kerneltest

import (
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

// Bilinear resizing, which is linear: its tangent is the forward of the
// tangent, the tangent of its backward the backward of tg. Shapes cover
// upsampling by integer and fractional factors, downsampling, one-pixel
// planes and outputs, non-square planes, both align_corners settings,
// and Grad-CAM's 8x8 -> 32x32 and 16x16 -> 64x64 maps (the embedding's
// target activation at the default and paper presets).
func init() { Register(resizeCases) }

func resizeBackend(b kernels.Backend) kernels.ResizeBackend {
	return backendAs[kernels.ResizeBackend](b, "resize_bilinear2d kernels")
}

func resizeCases(rng *rand.Rand) []Case {
	fwd := func(b kernels.Backend, sh kernels.ResizeShape, x []float32) []float32 {
		y, err := resizeBackend(b).ResizeBilinear2D(sh, x)
		if err != nil {
			panic(err)
		}
		return y
	}
	back := func(b kernels.Backend, sh kernels.ResizeShape, g []float32) []float32 {
		dx, err := resizeBackend(b).ResizeBilinear2DBackward(sh, g)
		if err != nil {
			panic(err)
		}
		return dx
	}
	var cases []Case
	for _, ac := range []bool{false, true} {
		for _, sh := range []kernels.ResizeShape{
			{N: 1, C: 1, H: 2, W: 2, OH: 4, OW: 4},
			{N: 1, C: 2, H: 3, W: 4, OH: 7, OW: 5},
			{N: 2, C: 1, H: 6, W: 5, OH: 3, OW: 2},
			{N: 1, C: 1, H: 1, W: 3, OH: 4, OW: 1},
			{N: 1, C: 1, H: 4, W: 1, OH: 1, OW: 3},
			{N: 1, C: 1, H: 2 + rng.IntN(4), W: 2 + rng.IntN(4), OH: 1 + rng.IntN(9), OW: 1 + rng.IntN(9)},
		} {
			sh.AlignCorners = ac
			cases = append(cases, Case{
				Op:    "resize_bilinear2d",
				Shape: sh.String(),
				In:    []Input{{Len: sh.InLen(), Lo: -2, Hi: 2}},
				Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
					err = guard(func() { out = [][]float32{fwd(b, sh, in[0])} })
					return
				},
				VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
					err = guard(func() { out = [][]float32{back(b, sh, g[0])} })
					return
				},
				JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
					err = guard(func() { out = [][]float32{fwd(b, sh, t[0])} })
					return
				},
				HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
					err = guard(func() { out = [][]float32{back(b, sh, tg[0])} })
					return
				},
				Symmetric: true,
			})
		}
	}
	// Grad-CAM's maps: forward and backward against the CPU.
	for _, sh := range []kernels.ResizeShape{
		{N: 16, C: 1, H: 8, W: 8, OH: 32, OW: 32}, {N: 4, C: 1, H: 16, W: 16, OH: 64, OW: 64},
		{N: 2, C: 3, H: 64, W: 64, OH: 17, OW: 23},
	} {
		cases = append(cases, Case{
			Op:    "resize_bilinear2d",
			Shape: sh.String() + " forward+backward",
			In:    []Input{{Len: sh.InLen(), Lo: -2, Hi: 2}, {Len: sh.OutLen(), Lo: -1, Hi: 1, NoDiff: true}},
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{fwd(b, sh, in[0]), back(b, sh, in[1])} })
				return
			},
		})
	}
	return cases
}
