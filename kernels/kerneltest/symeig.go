package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/noether-vk/noether-vk/kernels"
)

// The symmetric eigen-decomposition, forward only (it is not
// differentiable). Each matrix is Q diag(λ) Q^T with Q a random
// orthogonal matrix and distinct λ, so the eigenvectors are unique up to
// the sign the op fixes, and their float32 error is bounded by the
// spectrum's gaps: sizes 1 to 64, odd and even (the round-robin schedule
// pads odd sizes), a diagonal matrix (nothing to rotate), a batch, and a
// PCA-like spectrum decaying by 0.55 per component whose first eight
// vectors are compared (the later ones' gaps are below float32's reach).
func init() { Register(symEigCases) }

func symEigBackend(b kernels.Backend) kernels.SymEigBackend {
	return backendAs[kernels.SymEigBackend](b, "symeig kernels")
}

// RandomOrthogonal is an n x n orthogonal matrix: the Q of the QR
// factorisation of a matrix of standard Gaussian entries.
func RandomOrthogonal(rng *rand.Rand, n int) *mat.Dense {
	g := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// spectral returns Q diag(lambda) Q^T for a random orthogonal Q.
func spectral(rng *rand.Rand, lambda []float64) []float32 {
	n := len(lambda)
	q := RandomOrthogonal(rng, n)
	out := make([]float32, n*n)
	for i := range n {
		for j := range n {
			s := 0.0
			for k := range n {
				s += q.At(i, k) * lambda[k] * q.At(j, k)
			}
			out[i*n+j] = float32(s)
		}
	}
	// Exactly symmetric in float32.
	for i := range n {
		for j := range i {
			out[i*n+j] = out[j*n+i]
		}
	}
	return out
}

func symEigCases(rng *rand.Rand) []Case {
	var cases []Case
	add := func(shape string, batch, n, keep int, a []float32) {
		cases = append(cases, Case{
			Op:    "symeig",
			Shape: fmt.Sprintf("%dx[%d,%d]%s", batch, n, n, shape),
			In:    []Input{{Len: len(a), Values: a, NoDiff: true}},
			Forward: func(b kernels.Backend, in [][]float32) ([][]float32, error) {
				vals, vecs, err := symEigBackend(b).SymEig(batch, n, in[0])
				if err != nil {
					return nil, err
				}
				var top []float32
				for m := range batch {
					top = append(top, vecs[m*n*n:m*n*n+keep*n]...)
				}
				return [][]float32{vals, top}, nil
			},
			Tol: F32Reduce,
		})
	}
	linear := func(n int) []float64 {
		l := make([]float64, n)
		for i := range l {
			l[i] = float64(i+1) - float64(n)/3 // negative eigenvalues too
		}
		rng.Shuffle(n, func(i, j int) { l[i], l[j] = l[j], l[i] })
		return l
	}
	// 128 and 256 run past the loop iterations llvmpipe lets one
	// invocation run: lavapipe gets them in several dispatches.
	for _, n := range []int{1, 2, 3, 7, 16, 33, 64, 128} {
		add("", 1, n, n, spectral(rng, linear(n)))
	}
	diag := make([]float32, 36)
	for i, v := range []float32{3, -1, 4, 1.5, 9, 2.5} {
		diag[i*6+i] = v
	}
	add(" diagonal", 1, 6, 6, diag)
	var batch []float32
	for range 3 {
		batch = append(batch, spectral(rng, linear(5))...)
	}
	add("", 3, 5, 5, batch)
	for _, n := range []int{64, 256} {
		decay := make([]float64, n)
		for i := range decay {
			decay[i] = 10 * math.Pow(0.55, float64(i))
		}
		add(" PCA-like, first 8 vectors", 1, n, 8, spectral(rng, decay))
	}
	return cases
}
