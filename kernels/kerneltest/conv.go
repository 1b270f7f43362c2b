package kerneltest

import (
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(convCases) }

// convOps adapts the two conv families to one set of calls.
type convOps struct {
	fwd  func(p kernels.ConvParams, x, w, bias []float32) ([]float32, error)
	bwd  func(p kernels.ConvParams, x, w, g []float32) ([]float32, []float32, []float32, error)
	tan  func(p kernels.ConvParams, x, w, tx, tw, tb []float32) ([]float32, error)
	tbwd func(p kernels.ConvParams, x, w, g, tx, tw, tg []float32) ([]float32, []float32, []float32, error)
}

func convBackend(b kernels.Backend, transposed bool) convOps {
	if transposed {
		cb := backendAs[kernels.ConvTranspose2DBackend](b, "conv_transpose2d kernels")
		return convOps{cb.ConvTranspose2D, cb.ConvTranspose2DBackward, cb.ConvTranspose2DTangent, cb.ConvTranspose2DTangentBackward}
	}
	cb := backendAs[kernels.Conv2DBackend](b, "conv2d kernels")
	return convOps{cb.Conv2D, cb.Conv2DBackward, cb.Conv2DTangent, cb.Conv2DTangentBackward}
}

// convPaths are the forms of the Vulkan conv kernels (direct, GEMM,
// implicit GEMM); every case runs under each (a CPU backend ignores the
// choice).
var convPaths = []struct {
	name string
	path kernels.ConvPath
}{{"direct", kernels.ConvDirect}, {"gemm", kernels.ConvGemm}, {"implicit", kernels.ConvImplicit}}

// withConvPath returns b with its conv form forced to path (a copy, for a
// Vulkan backend; b itself otherwise).
func withConvPath(b kernels.Backend, path kernels.ConvPath) kernels.Backend {
	if v, ok := b.(*kernels.Vulkan); ok {
		c := *v
		c.Conv = path
		return &c
	}
	return b
}

// convCase builds the case of conv2d (transposed false) or
// conv_transpose2d at p under the conv form path; with bias the op takes a
// third input. derivs false keeps the case to the forward check against
// the CPU reference.
func convCase(p kernels.ConvParams, transposed, bias, derivs bool, tol Tol, path kernels.ConvPath, pathName string) Case {
	op := "conv2d"
	if transposed {
		op = "conv_transpose2d"
	}
	in, shape, third := biasOperands(p.String(), bias, p.InLen(), p.WeightLen(), p.K)
	shape += " (" + pathName + ")"
	must := func(y []float32, err error) [][]float32 {
		if err != nil {
			panic(err)
		}
		return [][]float32{y}
	}
	must3 := func(a, b, c []float32, err error) [][]float32 {
		if err != nil {
			panic(err)
		}
		if bias {
			return [][]float32{a, b, c}
		}
		return [][]float32{a, b}
	}
	c := Case{
		Op: op, Shape: shape, In: in, Tol: tol, ConvPath: path,
		Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
			b = withConvPath(b, path)
			err = guard(func() { out = must(convBackend(b, transposed).fwd(p, in[0], in[1], third(in))) })
			return
		},
	}
	if !derivs {
		return c
	}
	c.VJP = func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
		b = withConvPath(b, path)
		err = guard(func() { out = must3(convBackend(b, transposed).bwd(p, in[0], in[1], g[0])) })
		return
	}
	c.JVP = func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
		b = withConvPath(b, path)
		err = guard(func() { out = must(convBackend(b, transposed).tan(p, in[0], in[1], t[0], t[1], third(t))) })
		return
	}
	c.HVP = func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
		b = withConvPath(b, path)
		err = guard(func() { out = must3(convBackend(b, transposed).tbwd(p, in[0], in[1], g[0], t[0], t[1], tg[0])) })
		return
	}
	c.Symmetric = true
	return c
}

// convCases: which shapes get which checks, each under both conv forms
// (direct shader and GEMM; the tangents always run the direct shader).
//
//   - Small and odd shapes (1 channel, batch 1, 7x9 images, every kernel
//     side 1..7, strides 1..3, rectangular kernels) and the shapes of the
//     models at reduced channel counts: forward against the CPU
//     reference, and vjp, jvp, hvp and hvp-symmetry against finite
//     differences.
//   - The Noether embedding's convolutions (6->32 5x5 pad 2 at 64x64,
//     32->64 at 32x32) at batch 2 and every DCGAN-64 encoder and decoder
//     layer at batches 2 and 8: forward against the CPU reference only, to
//     keep the suite's time on lavapipe in bounds. Their geometry (kernel,
//     stride, padding, so the same specialized pipelines) is checked with
//     all derivatives at the small shapes above; the derivative kernels at
//     the full shapes are compared with the CPU reference by
//     `noether-vk bench-kernels` (conv2d_input_grad, conv2d_weight_grad).
func convCases(rng *rand.Rand) []Case {
	type cp = kernels.ConvParams
	var cases []Case
	add := func(p cp, tr, bias, derivs bool) {
		tol := F32
		if p.C*p.KH*p.KW > 256 || p.K*p.KH*p.KW > 256 {
			tol = F32Reduce
		}
		for _, cp := range convPaths {
			// The implicit form's geometry at batch 8 is batch 2's (the
			// batch is a grid axis): left out to save the suite's time.
			if cp.path == kernels.ConvImplicit && p.N == 8 {
				continue
			}
			cases = append(cases, convCase(p, tr, bias, derivs, tol, cp.path, cp.name))
		}
	}
	// conv2d, small and odd.
	add(cp{N: 1, C: 1, H: 7, W: 9, K: 1, KH: 3, KW: 3, Stride: 1, Pad: 1}, false, true, true)
	add(cp{N: 2, C: 3, H: 7, W: 9, K: 5, KH: 4, KW: 4, Stride: 2, Pad: 1}, false, true, true)
	add(cp{N: 1, C: 2, H: 9, W: 7, K: 3, KH: 5, KW: 5, Stride: 1, Pad: 2}, false, false, true)
	add(cp{N: 2, C: 3, H: 5, W: 6, K: 4, KH: 1, KW: 1, Stride: 1, Pad: 0}, false, true, true)
	add(cp{N: 1, C: 2, H: 11, W: 10, K: 3, KH: 7, KW: 7, Stride: 3, Pad: 3}, false, false, true)
	add(cp{N: 1, C: 2, H: 9, W: 11, K: 2, KH: 3, KW: 5, Stride: 2, Pad: 1}, false, true, true)
	add(cp{N: 1, C: 2, H: 4, W: 4, K: 3, KH: 4, KW: 4, Stride: 1, Pad: 0}, false, false, true) // 4x4 valid to 1x1
	add(cp{N: 1 + rng.IntN(2), C: 1 + rng.IntN(4), H: 5 + rng.IntN(8), W: 5 + rng.IntN(8), K: 1 + rng.IntN(20),
		KH: 2 + rng.IntN(2), KW: 2 + rng.IntN(3), Stride: 1 + rng.IntN(2), Pad: 1}, false, true, true)
	// More channels than one 16-channel block, odd.
	add(cp{N: 1, C: 3, H: 6, W: 5, K: 19, KH: 3, KW: 3, Stride: 1, Pad: 1}, false, true, true)

	// conv_transpose2d, small and odd.
	add(cp{N: 1, C: 3, H: 1, W: 1, K: 2, KH: 4, KW: 4, Stride: 1, Pad: 0}, true, true, true) // 1x1 -> 4x4
	add(cp{N: 2, C: 3, H: 4, W: 4, K: 2, KH: 4, KW: 4, Stride: 2, Pad: 1}, true, true, true) // 4x4 -> 8x8
	add(cp{N: 1, C: 2, H: 7, W: 9, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 1}, true, false, true)
	add(cp{N: 1, C: 1, H: 3, W: 5, K: 1, KH: 5, KW: 5, Stride: 3, Pad: 2}, true, true, true)
	add(cp{N: 1, C: 2, H: 4, W: 3, K: 19, KH: 4, KW: 4, Stride: 2, Pad: 1}, true, false, true)
	add(cp{N: 1 + rng.IntN(2), C: 1 + rng.IntN(4), H: 2 + rng.IntN(5), W: 2 + rng.IntN(5), K: 1 + rng.IntN(5),
		KH: 2 + rng.IntN(3), KW: 2 + rng.IntN(3), Stride: 1 + rng.IntN(3), Pad: 1}, true, true, true)

	// The Noether embedding, batch 2, all checks.
	add(cp{N: 2, C: 6, H: 64, W: 64, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}, false, true, false)
	add(cp{N: 2, C: 32, H: 32, W: 32, K: 64, KH: 5, KW: 5, Stride: 1, Pad: 2}, false, true, false)

	// DCGAN-64 encoder and decoder layers.
	for _, n := range []int{2, 8} {
		add(cp{N: n, C: 3, H: 64, W: 64, K: 64, KH: 4, KW: 4, Stride: 2, Pad: 1}, false, true, false)
		add(cp{N: n, C: 64, H: 32, W: 32, K: 128, KH: 4, KW: 4, Stride: 2, Pad: 1}, false, true, false)
		add(cp{N: n, C: 128, H: 16, W: 16, K: 256, KH: 4, KW: 4, Stride: 2, Pad: 1}, false, true, false)
		add(cp{N: n, C: 256, H: 8, W: 8, K: 512, KH: 4, KW: 4, Stride: 2, Pad: 1}, false, true, false)
		add(cp{N: n, C: 512, H: 4, W: 4, K: 128, KH: 4, KW: 4, Stride: 1, Pad: 0}, false, true, false)

		add(cp{N: n, C: 128, H: 1, W: 1, K: 512, KH: 4, KW: 4, Stride: 1, Pad: 0}, true, true, false)
		add(cp{N: n, C: 1024, H: 4, W: 4, K: 256, KH: 4, KW: 4, Stride: 2, Pad: 1}, true, true, false)
		add(cp{N: n, C: 512, H: 8, W: 8, K: 128, KH: 4, KW: 4, Stride: 2, Pad: 1}, true, true, false)
		add(cp{N: n, C: 256, H: 16, W: 16, K: 64, KH: 4, KW: 4, Stride: 2, Pad: 1}, true, true, false)
		add(cp{N: n, C: 128, H: 32, W: 32, K: 3, KH: 4, KW: 4, Stride: 2, Pad: 1}, true, true, false)
	}
	return cases
}
