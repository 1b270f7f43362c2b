package kernels

import (
	"fmt"
	"math"
	"math/bits"

	"gonum.org/v1/gonum/mat"

	"github.com/noether-vk/noether-vk/gpu"
)

// SymEigMaxN is the largest matrix SymEig takes: the shader keeps a
// rotation per pair and a rank per index in shared memory.
const SymEigMaxN = 256

// symEigLocal is the shader's workgroup size: a power of two for its
// tree reductions.
const symEigLocal = 128

// SymEigBackend computes the eigen-decomposition of symmetric matrices,
// the step of PCA after the covariance. It is not differentiable.
//
// For each of batch matrices a [n, n] (symmetric; only its symmetric
// part is meaningful) it returns the eigenvalues in descending order
// [batch, n] and the eigenvectors as rows in the same order [batch, n,
// n], each normalised with its entry of largest magnitude positive (the
// first such entry on ties), so the result is unique wherever the
// eigenvalues are distinct. That is scikit-learn's svd_flip applied to
// the components (its choice from release 1.5 on); PCA's other
// convention, on the scores, is RowSign of the scores.
type SymEigBackend interface {
	SymEig(batch, n int, a []float32) (values, vectors []float32, err error)
}

func checkSymEig(batch, n int) error {
	if batch < 1 || n < 1 || n > SymEigMaxN || uint64(batch)*uint64(n)*uint64(n)*2 > math.MaxInt32 {
		return fmt.Errorf("kernels: symeig: %d matrices of %dx%d: want at least one, of 1 to %d rows", batch, n, n, SymEigMaxN)
	}
	return nil
}

// SymEig implements SymEigBackend with gonum's LAPACK-style solver in
// float64 (mat.EigenSym), an algorithm independent of the shader's.
func (CPU) SymEig(batch, n int, a []float32) (values, vectors []float32, err error) {
	if err := checkSymEig(batch, n); err != nil {
		return nil, nil, err
	}
	if err := checkLen("symeig", "a", len(a), batch*n*n); err != nil {
		return nil, nil, err
	}
	values, vectors = make([]float32, batch*n), make([]float32, batch*n*n)
	for b := range batch {
		sym := mat.NewSymDense(n, nil)
		for i := range n {
			for j := i; j < n; j++ {
				// The symmetric part, as the shader's rotations see it.
				sym.SetSym(i, j, (float64(a[b*n*n+i*n+j])+float64(a[b*n*n+j*n+i]))/2)
			}
		}
		var eig mat.EigenSym
		if !eig.Factorize(sym, true) {
			return nil, nil, fmt.Errorf("kernels: symeig: matrix %d did not converge (does it hold NaN or Inf?)", b)
		}
		vals := eig.Values(nil) // ascending
		var vecs mat.Dense
		eig.VectorsTo(&vecs)
		for k := range n {
			col := n - 1 - k // descending
			values[b*n+k] = float32(vals[col])
			best := 0
			for r := range n {
				if math.Abs(vecs.At(r, col)) > math.Abs(vecs.At(best, col)) {
					best = r
				}
			}
			sign := 1.0
			if vecs.At(best, col) < 0 {
				sign = -1
			}
			for r := range n {
				vectors[b*n*n+k*n+r] = float32(sign * vecs.At(r, col))
			}
		}
	}
	return values, vectors, nil
}

// SymEigScratch is the number of floats of scratch memory RecordSymEig
// needs: a working copy of each matrix and its rotations.
func SymEigScratch(batch, n int) int { return 2*batch*n*n + 2*batch }

// symEigMaxSweeps bounds the Jacobi sweeps; they stop earlier once the
// off-diagonal norm is below 1e-7 of the matrix's.
const symEigMaxSweeps = 40

// RecordSymEig records the eigen-decomposition of the batch matrices in
// a [batch, n, n] into values [batch, n] and vectors [batch, n, n] (see
// SymEigBackend), one workgroup per matrix; scratch holds
// SymEigScratch(batch, n) floats.
func (v *Vulkan) RecordSymEig(r *gpu.Recorder, batch, n int, a, values, vectors, scratch *gpu.Buffer) error {
	if err := checkSymEig(batch, n); err != nil {
		return err
	}
	for _, b := range []struct {
		what string
		buf  *gpu.Buffer
		n    int
	}{{"a", a, batch * n * n}, {"values", values, batch * n}, {"vectors", vectors, batch * n * n}, {"scratch", scratch, SymEigScratch(batch, n)}} {
		if err := checkBuf("symeig", b.what, b.buf, b.n); err != nil {
			return err
		}
	}
	k, err := v.kernel("symeig", []gpu.Access{gpu.Write, gpu.Write, gpu.ReadWrite, gpu.Read}, 4*5, symEigLocal, 1, 1)
	if err != nil {
		return err
	}
	m := n + n&1
	steps := symEigMaxSweeps * (m - 1)
	chunk := steps
	if v.Device.Info.Type == gpu.TypeCPU {
		chunk = symEigChunk(n)
	}
	for t0 := 0; t0 < steps; t0 += chunk {
		t1 := min(t0+chunk, steps)
		flags := uint32(0)
		if t0 == 0 {
			flags |= 1 // INIT
		}
		if t1 == steps {
			flags |= 2 // FINISH
		}
		push := gpu.Push{}.U32(uint32(batch)).U32(uint32(n)).U32(flags).U32(uint32(t0)).U32(uint32(t1))
		r.Dispatch(k, v.Device.Grid(k, batch*symEigLocal), push, values, vectors, scratch, a)
	}
	return nil
}

// symEigChunk is how many Jacobi steps (rounds of n/2 rotations) one
// dispatch may run within the loop iterations llvmpipe lets an invocation
// run (see loopBudget; at n = 128 and 256 a single dispatch stopped part
// way and returned wrong eigenpairs): each step's loops over the pairs and
// the two loops over the rotated rows and columns, a convergence check
// (the off-diagonal loop and the tree sum) per sweep of m - 1 steps, and
// the setup and output loops.
func symEigChunk(n int) int {
	ceil := func(a, b int) int { return (a + b - 1) / b }
	m := n + n&1
	perStep := 1 + ceil(m/2, symEigLocal) + 1 + 2*(ceil(m/2*n, symEigLocal)+1)
	tree := bits.Len(uint(symEigLocal)) + 1
	check := ceil(n*n, symEigLocal) + 1 + tree
	fixed := 2*(ceil(n*n, symEigLocal)+1) + tree + ceil(n, symEigLocal)*(2*n+3)
	return max((loopBudget-fixed-check)*(m-1)/(perStep*(m-1)+check), 1)
}

// SymEig implements SymEigBackend.
func (v *Vulkan) SymEig(batch, n int, a []float32) (values, vectors []float32, err error) {
	if err := checkSymEig(batch, n); err != nil {
		return nil, nil, err
	}
	if err := checkLen("symeig", "a", len(a), batch*n*n); err != nil {
		return nil, nil, err
	}
	out, err := v.exec([][]float32{a}, []int{batch * n, batch * n * n, SymEigScratch(batch, n)}, func(r *gpu.Recorder, in, o []*gpu.Buffer) error {
		return v.RecordSymEig(r, batch, n, in[0], o[0], o[1], o[2])
	})
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}
