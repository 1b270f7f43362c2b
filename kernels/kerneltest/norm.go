package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

// group_norm and batch_norm (training and evaluation). Finite-difference
// checks of the VJP, the JVP (in x, weight and bias) and the tangent of
// the VJP run on small and odd shapes (1 channel, batch 1, 7x9 images,
// S = 1, sets longer than the reduction workgroup). The DCGAN-64/VGG-64
// feature maps at batch 2 and 8 are "forward+derivatives" cases: forward,
// backward, tangent and tangent-of-backward kernels on fixed random
// cotangents and tangents against the CPU reference (float64), which
// keeps the suite's runtime on lavapipe small.
func init() { Register(normCases) }

func groupNormBackend(b kernels.Backend) kernels.GroupNormBackend {
	return backendAs[kernels.GroupNormBackend](b, "group_norm kernels")
}

func batchNormBackend(b kernels.Backend) kernels.BatchNormBackend {
	return backendAs[kernels.BatchNormBackend](b, "batch_norm kernels")
}

func normMust(v []float32, err error) []float32 {
	if err != nil {
		panic(err)
	}
	return v
}

func normMust3(a, b, c []float32, err error) [][]float32 {
	if err != nil {
		panic(err)
	}
	return [][]float32{a, b, c}
}

// normOps are one normalization's host-slice entry points over the inputs
// x, w, b, rm, rv (rm, rv unused by group_norm).
type normOps struct {
	fwd  func(b kernels.Backend, in [][]float32) []float32
	bwd  func(b kernels.Backend, in [][]float32, g []float32) [][]float32
	tan  func(b kernels.Backend, in [][]float32, tx, tw, tb []float32) []float32
	tbwd func(b kernels.Backend, in [][]float32, g, tx, tw, tg []float32) [][]float32
}

func groupNormOps(sh kernels.NormShape, groups int) normOps {
	return normOps{
		fwd: func(b kernels.Backend, in [][]float32) []float32 {
			return normMust(groupNormBackend(b).GroupNorm(sh, groups, in[0], in[1], in[2]))
		},
		bwd: func(b kernels.Backend, in [][]float32, g []float32) [][]float32 {
			return normMust3(groupNormBackend(b).GroupNormBackward(sh, groups, in[0], in[1], g))
		},
		tan: func(b kernels.Backend, in [][]float32, tx, tw, tb []float32) []float32 {
			return normMust(groupNormBackend(b).GroupNormTangent(sh, groups, in[0], in[1], tx, tw, tb))
		},
		tbwd: func(b kernels.Backend, in [][]float32, g, tx, tw, tg []float32) [][]float32 {
			return normMust3(groupNormBackend(b).GroupNormTangentBackward(sh, groups, in[0], in[1], g, tx, tw, tg))
		},
	}
}

func batchNormOps(sh kernels.NormShape, bn kernels.BNConfig) normOps {
	return normOps{
		fwd: func(b kernels.Backend, in [][]float32) []float32 {
			y, _, _, err := batchNormBackend(b).BatchNorm(sh, bn, in[0], in[1], in[2], in[3], in[4])
			return normMust(y, err)
		},
		bwd: func(b kernels.Backend, in [][]float32, g []float32) [][]float32 {
			return normMust3(batchNormBackend(b).BatchNormBackward(sh, bn, in[0], in[1], in[3], in[4], g))
		},
		tan: func(b kernels.Backend, in [][]float32, tx, tw, tb []float32) []float32 {
			return normMust(batchNormBackend(b).BatchNormTangent(sh, bn, in[0], in[1], in[3], in[4], tx, tw, tb))
		},
		tbwd: func(b kernels.Backend, in [][]float32, g, tx, tw, tg []float32) [][]float32 {
			return normMust3(batchNormBackend(b).BatchNormTangentBackward(sh, bn, in[0], in[1], in[3], in[4], g, tx, tw, tg))
		},
	}
}

// normInputs are x, weight, bias, running mean and running variance
// (the last two NoDiff: constants of the op, or unused).
func normInputs(sh kernels.NormShape) []Input {
	return []Input{
		{Len: sh.N * sh.C * sh.S, Lo: -2, Hi: 2},
		{Len: sh.C, Lo: -1.5, Hi: 1.5},
		{Len: sh.C, Lo: -1, Hi: 1},
		{Len: sh.C, Lo: -0.5, Hi: 0.5, NoDiff: true},
		{Len: sh.C, Lo: 0.5, Hi: 2, NoDiff: true},
	}
}

// normFDCase checks every derivative against finite differences.
func normFDCase(op, shape string, sh kernels.NormShape, ops normOps) Case {
	return Case{
		Op: op, Shape: shape, In: normInputs(sh),
		Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{ops.fwd(b, in)} })
			return
		},
		VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = append(ops.bwd(b, in, g[0]), nil, nil) })
			return
		},
		JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{ops.tan(b, in, t[0], t[1], t[2])} })
			return
		},
		HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = append(ops.tbwd(b, in, g[0], t[0], t[1], tg[0]), nil, nil) })
			return
		},
		Symmetric: true,
	}
}

// normBigCase compares every kernel with the CPU reference on fixed
// cotangents and tangents (inputs 5..9: g, tx, tw, tb, tg).
func normBigCase(op, shape string, sh kernels.NormShape, ops normOps, extra func(b kernels.Backend, in [][]float32) [][]float32) Case {
	n := sh.N * sh.C * sh.S
	in := normInputs(sh)
	for _, l := range []int{n, n, sh.C, sh.C, n} {
		in = append(in, Input{Len: l, Lo: -1, Hi: 1, NoDiff: true})
	}
	return Case{
		Op: op, Shape: shape + " forward+derivatives", In: in, Tol: F32Reduce,
		Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
			err = guard(func() {
				out = [][]float32{ops.fwd(b, in)}
				out = append(out, ops.bwd(b, in, in[5])...)
				out = append(out, ops.tan(b, in, in[6], in[7], in[8]))
				out = append(out, ops.tbwd(b, in, in[5], in[6], in[7], in[9])...)
				if extra != nil {
					out = append(out, extra(b, in)...)
				}
			})
			return
		},
	}
}

func normCases(rng *rand.Rand) []Case {
	var cases []Case
	type gnSpec struct {
		sh     kernels.NormShape
		groups int
	}
	small := []gnSpec{
		{kernels.NormShape{N: 2, C: 4, S: 3}, 2},     // full finite-difference gradient
		{kernels.NormShape{N: 1, C: 1, S: 7 * 9}, 1}, // batch 1, 1 channel, 7x9
		{kernels.NormShape{N: 2, C: 6, S: 5}, 3},
		{kernels.NormShape{N: 2, C: 3, S: 13 * 11}, 1}, // sets longer than a workgroup
		{kernels.NormShape{N: 3, C: 8, S: 1}, 2},       // S = 1 (sets of 4: tiny sets are ill-conditioned for finite differences)
		{kernels.NormShape{N: 2, C: 8, S: 4 * 4}, 4},
		{kernels.NormShape{N: 1 + rng.IntN(3), C: 2 * (1 + rng.IntN(3)), S: 5 + 2*rng.IntN(40)}, 2},
	}
	for _, p := range small {
		cases = append(cases, normFDCase("group_norm", fmt.Sprintf("%v G=%d", p.sh, p.groups), p.sh, groupNormOps(p.sh, p.groups)))
	}
	for _, p := range []gnSpec{
		{kernels.NormShape{N: 2, C: 64, S: 32 * 32}, 1},
		{kernels.NormShape{N: 8, C: 64, S: 32 * 32}, 1},
		{kernels.NormShape{N: 8, C: 256, S: 8 * 8}, 1},
		{kernels.NormShape{N: 2, C: 128, S: 16 * 16}, 32},
	} {
		cases = append(cases, normBigCase("group_norm", fmt.Sprintf("%v G=%d", p.sh, p.groups), p.sh, groupNormOps(p.sh, p.groups), nil))
	}

	train := kernels.BNConfig{Train: true, Momentum: 0.1}
	eval := kernels.BNConfig{}
	for _, sh := range []kernels.NormShape{
		{N: 2, C: 3, S: 5}, {N: 1, C: 1, S: 7 * 9}, {N: 4, C: 2, S: 1}, {N: 2, C: 3, S: 13 * 11},
		{N: 1 + rng.IntN(4), C: 1 + rng.IntN(4), S: 5 + 2*rng.IntN(20)},
	} {
		cases = append(cases, normFDCase("batch_norm", fmt.Sprintf("%v train", sh), sh, batchNormOps(sh, train)))
	}
	for _, sh := range []kernels.NormShape{{N: 2, C: 3, S: 5}, {N: 1, C: 1, S: 7 * 9}} {
		cases = append(cases, normFDCase("batch_norm", fmt.Sprintf("%v eval", sh), sh, batchNormOps(sh, eval)))
	}
	running := func(sh kernels.NormShape, bn kernels.BNConfig) func(b kernels.Backend, in [][]float32) [][]float32 {
		return func(b kernels.Backend, in [][]float32) [][]float32 {
			_, rm, rv, err := batchNormBackend(b).BatchNorm(sh, bn, in[0], in[1], in[2], in[3], in[4])
			if err != nil {
				panic(err)
			}
			return [][]float32{rm, rv}
		}
	}
	for _, c := range []struct {
		sh kernels.NormShape
		bn kernels.BNConfig
	}{
		{kernels.NormShape{N: 2, C: 3, S: 5}, train}, // running statistics of a small case
		{kernels.NormShape{N: 2, C: 64, S: 32 * 32}, train},
		{kernels.NormShape{N: 8, C: 256, S: 8 * 8}, train},
		{kernels.NormShape{N: 8, C: 256, S: 8 * 8}, eval},
	} {
		mode := "train"
		if !c.bn.Train {
			mode = "eval"
		}
		cases = append(cases, normBigCase("batch_norm", fmt.Sprintf("%v %s", c.sh, mode), c.sh, batchNormOps(c.sh, c.bn), running(c.sh, c.bn)))
	}
	return cases
}
