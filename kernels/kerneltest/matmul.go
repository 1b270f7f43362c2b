package kerneltest

import (
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(matmulCases) }

// matmul runs p on backend b, panicking on error (guard turns it back).
func matmul(b kernels.Backend, p kernels.MatMulParams, x, y, bias []float32) []float32 {
	mb := backendAs[kernels.MatMulBackend](b, "matmul kernel")
	c, err := mb.MatMul(p, x, y, bias)
	if err != nil {
		panic(err)
	}
	return c
}

// sumBatch adds the n equal-length slices of x (a [n, len/n] tensor).
func sumBatch(x []float32, n int) []float32 {
	m := len(x) / n
	out := make([]float32, m)
	for i, v := range x {
		out[i%m] += v
	}
	return out
}

func add(x, y []float32) []float32 {
	for i := range x {
		x[i] += y[i]
	}
	return x
}

// matmulVJP returns the cotangents (dA, dB, dbias) of C = op(A) op(B) + bias
// for the output cotangent g, each a product through b. It is linear in g
// and, for dA and dB, in B and A, which the HVP uses.
func matmulVJP(b kernels.Backend, p kernels.MatMulParams, x, y, g []float32) (da, db, dbias []float32) {
	// dop(A) = G op(B)ᵀ, stored transposed (op(B) Gᵀ) when A is.
	pa := kernels.MatMulParams{Batch: p.Batch, M: p.M, N: p.K, K: p.N, TransB: !p.TransB, BatchA: true, BatchB: p.BatchB}
	l, r := g, y
	if p.TransA {
		pa = kernels.MatMulParams{Batch: p.Batch, M: p.K, N: p.M, K: p.N, TransA: p.TransB, TransB: true, BatchA: p.BatchB, BatchB: true}
		l, r = y, g
	}
	da = matmul(b, pa, l, r, nil)
	if !p.BatchA {
		da = sumBatch(da, p.Batch)
	}

	// dop(B) = op(A)ᵀ G, stored transposed (Gᵀ op(A)) when B is.
	pb := kernels.MatMulParams{Batch: p.Batch, M: p.K, N: p.N, K: p.M, TransA: !p.TransA, BatchA: p.BatchA, BatchB: true}
	l, r = x, g
	if p.TransB {
		pb = kernels.MatMulParams{Batch: p.Batch, M: p.N, N: p.K, K: p.M, TransA: true, TransB: p.TransA, BatchA: true, BatchB: p.BatchA}
		l, r = g, x
	}
	switch {
	case p.BatchB:
		db = matmul(b, pb, l, r, nil)
	case p.BatchA && !p.TransA:
		// Shared B, stacked A [Batch*M, K]: the batch sum is one product
		// contracting over all Batch*M rows.
		pb.K, pb.Batch, pb.BatchA, pb.BatchB = p.Batch*p.M, 1, false, false
		db = matmul(b, pb, l, r, nil)
	default:
		db = sumBatch(matmul(b, pb, l, r, nil), p.Batch)
	}

	// dbias = 1ᵀ G over all Batch*M rows.
	ones := make([]float32, p.Batch*p.M)
	for i := range ones {
		ones[i] = 1
	}
	dbias = matmul(b, kernels.MatMulParams{Batch: 1, M: 1, N: p.N, K: p.Batch * p.M}, ones, g, nil)
	return da, db, dbias
}

// matmulCase builds the case for p; with bias the op takes a third input.
// derivs false keeps a large shape to the forward check.
func matmulCase(p kernels.MatMulParams, bias, derivs bool, tol Tol) Case {
	in, shape, biasOf := biasOperands(p.String(), bias, p.ALen(), p.BLen(), p.N)
	c := Case{
		Op:    "matmul",
		Shape: shape,
		In:    in,
		Tol:   tol,
		Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{matmul(b, p, in[0], in[1], biasOf(in))} })
			return
		},
	}
	if !derivs {
		return c
	}
	vjp := func(b kernels.Backend, x, y, g []float32) [][]float32 {
		da, db, dbias := matmulVJP(b, p, x, y, g)
		if bias {
			return [][]float32{da, db, dbias}
		}
		return [][]float32{da, db}
	}
	c.VJP = func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
		err = guard(func() { out = vjp(b, in[0], in[1], g[0]) })
		return
	}
	c.JVP = func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
		err = guard(func() {
			out = [][]float32{add(matmul(b, p, t[0], in[1], biasOf(t)), matmul(b, p, in[0], t[1], nil))}
		})
		return
	}
	// The VJP is bilinear: (A, B) enter dB and dA linearly, G all three.
	// Its tangent is vjp(A, B, tG) + vjp(tA, tB, G) without the second
	// dbias (which depends on G alone).
	c.HVP = func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
		err = guard(func() {
			out = vjp(b, in[0], in[1], tg[0])
			da, db, _ := matmulVJP(b, p, t[0], t[1], g[0])
			add(out[0], da)
			add(out[1], db)
		})
		return
	}
	c.Symmetric = true
	return c
}

func matmulCases(rng *rand.Rand) []Case {
	type mp = kernels.MatMulParams
	var cases []Case
	// Sizes 1, odd sizes below and above the 8x8 tile, and sizes whose
	// contiguous axes are multiples of 4 (the vec4 paths), each under
	// every transpose combination.
	odd := func() int { return 2*rng.IntN(8) + 9 }
	shapes := [][3]int{{1, 1, 1}, {7, 9, 5}, {odd(), 12, 8}, {12, odd(), 16}}
	for i, s := range shapes {
		for tr := range 4 {
			p := mp{Batch: 1, M: s[0], N: s[1], K: s[2], TransA: tr&1 != 0, TransB: tr&2 != 0}
			cases = append(cases, matmulCase(p, (i+tr)%2 == 1, true, F32))
		}
	}
	// Batch broadcast on either side, both or neither, with transposes.
	for i, bb := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
		p := mp{Batch: 2 + rng.IntN(3), M: 1 + rng.IntN(10), N: 1 + rng.IntN(10), K: 1 + rng.IntN(10),
			TransA: i == 1, TransB: i == 2, BatchA: bb[0], BatchB: bb[1]}
		cases = append(cases, matmulCase(p, i%2 == 0, true, F32))
	}
	// Shared weights on batched activations through the folded path,
	// untransposed and transposed (vec4 in both), then per-example weights.
	cases = append(cases,
		matmulCase(mp{Batch: 3, M: 5, N: 8, K: 4, BatchA: true}, true, true, F32),
		matmulCase(mp{Batch: 3, M: 5, N: 8, K: 4, BatchA: true, TransB: true}, false, true, F32),
		matmulCase(mp{Batch: 5, M: 4, N: 12, K: 8, BatchA: true, BatchB: true, TransA: true}, true, true, F32),
	)
	// More batches than the 65535 workgroups of a grid dimension (forward
	// only: every run of it dispatches 65535 workgroups).
	cases = append(cases, matmulCase(mp{Batch: 70000, M: 1, N: 1, K: 2, BatchA: true, BatchB: true}, false, false, F32))
	// A long reduction; one beyond the loop iterations llvmpipe lets an
	// invocation run (65535 in all: lavapipe runs it in several dispatches
	// along k), forward only, with the bias the last of them adds.
	cases = append(cases, matmulCase(mp{Batch: 1, M: 3, N: 5, K: 700 + rng.IntN(100)}, true, true, F32Reduce),
		matmulCase(mp{Batch: 1, M: 16, N: 150, K: 73728}, true, false, F32Reduce))
	// The physics MLP (2-200-200-2, tanh) at the batch of 25 trajectories x
	// 45 points: first layer with derivatives, the wide ones (forward, and the
	// backward's G Wᵀ and Xᵀ G) forward only.
	cases = append(cases,
		matmulCase(mp{Batch: 1, M: 1125, N: 200, K: 2}, true, true, F32),
		matmulCase(mp{Batch: 1, M: 1125, N: 200, K: 200}, true, false, F32Reduce),
		matmulCase(mp{Batch: 1, M: 1125, N: 2, K: 200}, false, false, F32Reduce),
		matmulCase(mp{Batch: 1, M: 1125, N: 200, K: 200, TransB: true}, false, false, F32Reduce),
		matmulCase(mp{Batch: 1, M: 200, N: 200, K: 1125, TransA: true}, false, false, F32Reduce),
	)
	return cases
}
