package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// openVulkan is the backend on the validated test device (see gputest).
func openVulkan(t testing.TB) *kernels.Vulkan { return kernels.NewVulkan(gputest.Open(t)) }

// TestVulkan runs the conformance suite on the selected Vulkan device.
func TestVulkan(t *testing.T) { kerneltest.Test(t, openVulkan(t)) }

// TestVulkanMatMulVariants checks every variant the tuner may pick for
// the shapes there against the default, forced onto products of every
// layout: their bits must match, since tuning must change no result.
// Bits that match the default's, which passes the suite, say everything
// the suite would about a variant's products; so the suite itself (the
// products with all their derivatives, and the convolutions in the GEMM
// and implicit GEMM forms, whose products go through the variant) runs
// over one variant per load path, the path's smallest tile: the one the
// conv shapes' edges exercise most, and the quickest to compile per
// geometry. make test runs the bits at lavapipe's other vector widths
// too.
func TestVulkanMatMulVariants(t *testing.T) {
	v := openVulkan(t)
	// Candidates for a wide and a thin product cover every tile the tuner
	// lists; a shared tile of uneven rows and workgroup covers the
	// clamping.
	variants := append(v.MatMulCandidates(kernels.MatMulParams{Batch: 1, M: 64, N: 64, K: 64}),
		v.MatMulCandidates(kernels.MatMulParams{Batch: 1, M: 3, N: 2, K: 64})...)
	variants = append(variants, kernels.MatMulVariant{MatMulTile: kernels.MatMulTile{Rows: 3, Cols: 8, X: 3, Y: 5}, SharedK: 4})
	suiteOn := map[bool]kernels.MatMulVariant{}
	for _, mv := range variants {
		// The default's tile reading its operands the other way is a
		// register tile like the rest; its bits say it all.
		if mv.SharedK == 0 && mv.Texels != v.Texels {
			continue
		}
		if cur, ok := suiteOn[mv.SharedK > 0]; !ok || mv.Rows*mv.Cols < cur.Rows*cur.Cols {
			suiteOn[mv.SharedK > 0] = mv
		}
	}
	seen := map[kernels.MatMulVariant]bool{}
	for _, mv := range variants {
		if seen[mv] {
			continue
		}
		seen[mv] = true
		t.Run(mv.String(), func(t *testing.T) {
			t.Run("bits", func(t *testing.T) {
				for _, p := range variantShapes {
					if err := variantBits(v, mv, p); err != nil {
						t.Error(err)
					}
				}
			})
			if suiteOn[mv.SharedK > 0] != mv {
				return
			}
			t.Run("suite", func(t *testing.T) {
				v.Tuning = &kernels.Tuning{MatMulOthers: &mv}
				defer func() { v.Tuning = nil }()
				for _, r := range kerneltest.Run(v, kerneltest.Options{Seed: 1, Ops: []string{"matmul", "conv2d", "conv_transpose2d"}, MaxInputs: 8000,
					// The direct shader uses no matmul variant.
					ConvPaths: []kernels.ConvPath{kernels.ConvGemm, kernels.ConvImplicit}}) {
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
	if len(suiteOn) != 2 {
		t.Errorf("the suite ran over %d load paths, want 2 (registers, shared)", len(suiteOn))
	}
}

// variantShapes cover every layout, batching, a k with a tail beyond
// the multiples of 4 and of the shared stages, k below every shared
// stage (4, 8 and 16: padding beyond K), the MLP's wide layer and a k
// that lavapipe splits into dispatches differently for each variant.
var variantShapes = []kernels.MatMulParams{
	{Batch: 1, M: 7, N: 6, K: 3},
	{Batch: 2, M: 6, N: 5, K: 7, TransA: true, BatchA: true, BatchB: true},
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

// TestVulkanLongWorkgroupReductions: normalizations whose sets are more
// blocks than llvmpipe lets one invocation of the reduction kernels loop
// over at their usual width (a batch_norm over 600 images of 64x64 came
// out off by 2.5 before they widened; see strideLocal), and a rowwise op
// and cn_affine's backward over a row as long, match the CPU reference,
// derivatives included; and
// a set of too many short blocks is an error, not a wrong result.
func TestVulkanLongWorkgroupReductions(t *testing.T) {
	v := openVulkan(t)
	if v.Device.Info.Type != gpu.TypeCPU {
		t.Skip("the loop limit is llvmpipe's")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	type normCase struct {
		name   string
		sh     kernels.NormShape
		groups int // 0: batch_norm in training
	}
	for _, c := range []normCase{
		{"batch_norm [600,2,4096]", kernels.NormShape{N: 600, C: 2, S: 4096}, 0},
		{"group_norm [1,1200,4096] 1 group", kernels.NormShape{N: 1, C: 1200, S: 4096}, 1},
	} {
		n := c.sh.Len()
		x, g, tx, tg := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
		for i := range x {
			x[i] += 2 // a mean far from 0 shows a lost block
		}
		w, b, tw, tb := randSlice(rng, c.sh.C), randSlice(rng, c.sh.C), randSlice(rng, c.sh.C), randSlice(rng, c.sh.C)
		rm, rv := make([]float32, c.sh.C), make([]float32, c.sh.C)
		bn := kernels.BNConfig{Train: true, Momentum: 0.1}
		run := func(be interface {
			kernels.BatchNormBackend
			kernels.GroupNormBackend
		}) ([][]float32, error) {
			if c.groups == 0 {
				y, _, _, err := be.BatchNorm(c.sh, bn, x, w, b, rm, rv)
				if err != nil {
					return nil, err
				}
				dx, dw, db, err := be.BatchNormBackward(c.sh, bn, x, w, rm, rv, g)
				if err != nil {
					return nil, err
				}
				ty, err := be.BatchNormTangent(c.sh, bn, x, w, rm, rv, tx, tw, tb)
				if err != nil {
					return nil, err
				}
				tdx, tdw, tdb, err := be.BatchNormTangentBackward(c.sh, bn, x, w, rm, rv, g, tx, tw, tg)
				return [][]float32{y, dx, dw, db, ty, tdx, tdw, tdb}, err
			}
			y, err := be.GroupNorm(c.sh, c.groups, x, w, b)
			if err != nil {
				return nil, err
			}
			dx, dw, db, err := be.GroupNormBackward(c.sh, c.groups, x, w, g)
			if err != nil {
				return nil, err
			}
			ty, err := be.GroupNormTangent(c.sh, c.groups, x, w, tx, tw, tb)
			if err != nil {
				return nil, err
			}
			tdx, tdw, tdb, err := be.GroupNormTangentBackward(c.sh, c.groups, x, w, g, tx, tw, tg)
			return [][]float32{y, dx, dw, db, ty, tdx, tdw, tdb}, err
		}
		want, err := run(kernels.CPU{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := run(v)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for i, name := range []string{"y", "dx", "dweight", "dbias", "ty", "tdx", "tdweight", "tdbias"} {
			kerneltest.Near(t, c.name+" "+name, got[i], want[i], kerneltest.F32Reduce)
		}
	}

	const l = 1 << 22
	x := randSlice(rng, l)
	want, err := kernels.CPU{}.Rowwise(kernels.RowMinMax, 1, l, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Rowwise(kernels.RowMinMax, 1, l, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	kerneltest.Near(t, "minmax of a row of 2^22", got, want, kerneltest.F32)
	cs := kernels.CNShape{N: 1, C: 1, S: 1 << 22}
	gamma, g := randSlice(rng, 1), randSlice(rng, cs.S)
	_, wantG, wantB, err := kernels.CPU{}.CNAffineBackward(cs, x, gamma, g)
	if err != nil {
		t.Fatal(err)
	}
	_, gotG, gotB, err := v.CNAffineBackward(cs, x, gamma, g)
	if err != nil {
		t.Fatal(err)
	}
	kerneltest.Near(t, "cn_affine dgamma over a row of 2^22", gotG, wantG, kerneltest.F32Reduce)
	kerneltest.Near(t, "cn_affine dbeta over a row of 2^22", gotB, wantB, kerneltest.F32Reduce)

	sh := kernels.NormShape{N: 40000, C: 1, S: 1}
	_, _, _, err = v.BatchNorm(sh, kernels.BNConfig{Train: true}, randSlice(rng, sh.Len()), []float32{1}, []float32{0}, []float32{0}, []float32{1})
	if err == nil || !strings.Contains(err.Error(), "loop iterations") {
		t.Errorf("batch_norm over 40000 blocks of 1: err %v, want the loop limit named", err)
	}
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
