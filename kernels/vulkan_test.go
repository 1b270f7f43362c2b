package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// openVulkan is the backend on the validated test device (see gputest).
func openVulkan(t testing.TB) *kernels.Vulkan { return kernels.NewVulkan(gputest.Open(t)) }

// TestVulkan runs the conformance suite on the selected Vulkan device.
func TestVulkan(t *testing.T) { kerneltest.Test(t, openVulkan(t)) }

// TestVulkanMatMulVariants runs the matmul and convolution cases of the
// suite with every variant the tuner may pick for the shapes there (each
// forced onto every product, the convolutions in GEMM form so that their
// products go through it too; the default's tile read the other way
// only through its bits), and checks each variant's bits against the
// default's: tuning must change no result. The bits are what tuning
// promises; the suite over each variant checks the cases besides. make
// test runs only the bits at lavapipe's other vector widths (the suite
// over one variant costs about 2 s).
func TestVulkanMatMulVariants(t *testing.T) {
	v := openVulkan(t)
	v.Conv = kernels.ConvGemm
	// Candidates for a wide and a thin product cover every tile the tuner
	// lists; a shared tile of uneven rows and workgroup covers the
	// clamping (the suite's products of k below the stages of 8 and 16 of
	// the candidates cover the padding beyond K).
	variants := append(v.MatMulCandidates(kernels.MatMulParams{Batch: 1, M: 64, N: 64, K: 64}),
		v.MatMulCandidates(kernels.MatMulParams{Batch: 1, M: 3, N: 2, K: 64})...)
	variants = append(variants, kernels.MatMulVariant{MatMulTile: kernels.MatMulTile{Rows: 3, Cols: 8, X: 3, Y: 5}, SharedK: 4})
	seen, convsRun := map[kernels.MatMulVariant]bool{}, map[bool]bool{}
	for _, mv := range variants {
		if seen[mv] {
			continue
		}
		seen[mv] = true
		t.Run(mv.String(), func(t *testing.T) {
			v.Tuning = &kernels.Tuning{MatMulOthers: &mv}
			// The convolutions run their products through the variant
			// too; once per path (registers, shared) is enough for them.
			ops := []string{"matmul"}
			if !convsRun[mv.SharedK > 0] {
				convsRun[mv.SharedK > 0] = true
				ops = append(ops, "conv2d", "conv_transpose2d")
			}
			t.Run("bits", func(t *testing.T) {
				for _, p := range variantShapes {
					if err := variantBits(v, mv, p); err != nil {
						t.Error(err)
					}
				}
			})
			if mv.Texels != v.Texels {
				// The default's tile reading its operands the other way:
				// the bits against the default say it all, the suite ran
				// on the tile already.
				return
			}
			t.Run("suite", func(t *testing.T) {
				for _, r := range kerneltest.Run(v, kerneltest.Options{Seed: 1, Ops: ops, MaxInputs: 8000}) {
					if !r.Pass {
						t.Errorf("%s %s [%s]: max abs %.3g, max rel %.3g, tol %s: %s", r.Op, r.Shape, r.Check, r.MaxAbsErr, r.MaxRelErr, r.Tol, r.Detail)
					}
				}
				if v.Tuning.Hits() == 0 {
					t.Fatal("no product ran the forced variant")
				}
			})
		})
	}
}

// variantShapes cover every layout, batching, a k with a tail beyond
// the multiples of 4 and of the shared stages, the MLP's wide layer and a
// k that lavapipe splits into dispatches differently for each variant.
var variantShapes = []kernels.MatMulParams{
	{Batch: 1, M: 16, N: 150, K: 73728},
	{Batch: 1, M: 37, N: 41, K: 45},
	{Batch: 3, M: 12, N: 20, K: 36, TransA: true, BatchA: true, BatchB: true},
	{Batch: 2, M: 9, N: 16, K: 24, TransB: true, BatchB: true},
	{Batch: 2, M: 16, N: 12, K: 33, TransA: true, TransB: true, BatchA: true},
	{Batch: 4, M: 5, N: 8, K: 12, BatchA: true},
	{Batch: 1, M: 150, N: 200, K: 200},
}

// variantBits runs p with mv and with the default variant (v.Tuning off)
// on the same random operands and bias and says where the bits differ.
func variantBits(v *kernels.Vulkan, mv kernels.MatMulVariant, p kernels.MatMulParams) error {
	rng := rand.New(rand.NewPCG(5, 6))
	a, b, bias := randSlice(rng, p.ALen()), randSlice(rng, p.BLen()), randSlice(rng, p.N)
	run := func(tuning *kernels.Tuning) (c []float32, err error) {
		err = v.WithTuning(tuning, func() error {
			c, err = v.MatMul(p, a, b, bias)
			return err
		})
		return c, err
	}
	want, err := run(nil)
	if err != nil {
		return err
	}
	got, err := run(&kernels.Tuning{MatMulOthers: &mv})
	if err != nil {
		return err
	}
	if err := sameBits(got, want); err != nil {
		return fmt.Errorf("%v, %s: c%v, the default's", mv, p, err)
	}
	return nil
}

// TestVulkanLongConvReductions: a weight gradient summing over more
// images and pixels (72 x 32 x 32) than llvmpipe lets an invocation loop
// (see kernels.loopBudget) matches the CPU reference in every form.
func TestVulkanLongConvReductions(t *testing.T) {
	v := openVulkan(t)
	p := kernels.ConvParams{N: 72, C: 6, H: 32, W: 32, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}
	rng := rand.New(rand.NewPCG(1, 2))
	x, w, g := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.OutLen(false))
	_, want, _, err := kernels.CPU{}.Conv2DBackward(p, x, w, g)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []kernels.ConvPath{kernels.ConvDirect, kernels.ConvGemm, kernels.ConvImplicit} {
		v.Conv = path
		_, got, _, err := v.Conv2DBackward(p, x, w, g)
		if err != nil {
			t.Fatal(err)
		}
		kerneltest.Near(t, path.String(), got, want, kerneltest.F32Reduce)
	}
}
