package gradcam

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
)

// PCA is a principal component analysis of n samples of dimension Dim,
// fitted on the device, as scikit-learn's PCA(n_components=K) with no
// whitening: the components are the leading eigenvectors of the sample
// covariance (divided by n - 1), their signs fixed by svd_flip on the
// scores (see FitPCA).
type PCA struct {
	Dim     int
	Samples int
	// Mean is the samples' mean [Dim].
	Mean []float32
	// Components are the K unit principal axes as rows [K, Dim], by
	// decreasing variance.
	Components []float32
	// Variance is each component's variance (explained_variance_), Ratio
	// its share of the total variance (explained_variance_ratio_), the
	// sum of all Dim eigenvalues.
	Variance, Ratio []float64
}

// K is the number of components.
func (p *PCA) K() int { return len(p.Variance) }

// FitPCA fits k components to the n samples x [n, d] on b, every step a
// device op: the mean, the centred samples, their covariance by a matrix
// product, its eigen-decomposition (Graph.SymEig, n's dimension at most
// kernels.SymEigMaxN), the scores and their signs.
//
// The sign convention is scikit-learn's svd_flip as its PCA applied it
// before release 1.5 (u_based_decision), which the reference's Figure 5
// used: each component is negated where needed so that, among the
// samples, the score of largest magnitude on it is positive (the first
// such sample on ties). A flipped component flips the sign of its score
// and so of its Grad-CAM weights; this convention fixes which map is
// drawn. (scikit-learn 1.5 and later make each component's own entry of
// largest magnitude positive instead: Graph.SymEig's convention, before
// the flip.)
func FitPCA(b graph.Backend, x []float32, n, d, k int) (*PCA, error) {
	switch {
	case n < 2:
		return nil, fmt.Errorf("gradcam: PCA of %d samples: want at least 2", n)
	case d < 1 || d > kernels.SymEigMaxN:
		return nil, fmt.Errorf("gradcam: PCA of %d dimensions: want 1 to %d", d, kernels.SymEigMaxN)
	case k < 1 || k > d:
		return nil, fmt.Errorf("gradcam: %d components of %d dimensions: want 1 to %d", k, d, d)
	case len(x) != n*d:
		return nil, fmt.Errorf("gradcam: PCA: %d values for %d samples of %d", len(x), n, d)
	}
	g := graph.New()
	in := g.Input("x", n, d)
	mean := g.Mean(in, 0)
	centred := g.Sub(in, mean)
	cov := g.Scale(g.MatMulT(centred, centred, true, false), 1/float32(n-1))
	vals, vecs := g.SymEig(cov)
	comps, top := vecs, vals
	if k < d {
		comps = g.Split(vecs, 0, k, d-k)[0]
		top = g.Split(vals, 0, k, d-k)[0]
	}
	// svd_flip on U: the sign of each component's score of largest
	// magnitude, scores as rows [k, n].
	sign := g.SignOfLargest(g.MatMulT(comps, centred, false, true))
	comps = g.Mul(comps, g.Reshape(sign, k, 1))
	ratio := g.Div(top, g.Reshape(g.Sum(vals), 1))
	if err := g.Err(); err != nil {
		return nil, fmt.Errorf("gradcam: PCA program: %w", err)
	}
	prog, err := g.Compile(graph.CompileOptions{}, mean, comps, top, ratio)
	if err != nil {
		return nil, fmt.Errorf("gradcam: PCA program: %w", err)
	}
	exe, err := b.Load(prog)
	if err != nil {
		return nil, fmt.Errorf("gradcam: PCA program on %s: %w", b.Name(), err)
	}
	defer exe.Close()
	out, err := exe.Run(map[string][]float32{"x": x})
	if err != nil {
		return nil, fmt.Errorf("gradcam: PCA on %s: %w", b.Name(), err)
	}
	return &PCA{Dim: d, Samples: n, Mean: out[0], Components: out[1], Variance: float64s(out[2]), Ratio: float64s(out[3])}, nil
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
