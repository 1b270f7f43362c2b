package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/noether-vk/noether-vk/graph"
)

// Initializer draws the initial value of a tensor.
type Initializer interface {
	// Draw returns the row-major values of a tensor of the given shape,
	// drawn from rng in element order.
	Draw(rng *rand.Rand, shape []int) []float32
}

// Init draws every spec's initial value from one generator, strictly in
// declaration order, so the same seed and model give the same numbers
// whatever else the program does.
func Init(rng *rand.Rand, specs []ParamSpec) map[string][]float32 {
	out := make(map[string][]float32, len(specs))
	for _, s := range specs {
		if s.Init == nil {
			panic(fmt.Sprintf("nn: Init: %s %v has no initializer", s.Name, s.Shape))
		}
		out[s.Name] = s.Init.Draw(rng, s.Shape)
	}
	return out
}

// Inits chooses a layer's initialisers; a nil field keeps the layer's
// PyTorch default.
type Inits struct {
	Weight, Bias Initializer
}

// The reference initialisation of DCGAN and SVG (their init_weights),
// which replaces PyTorch's defaults after construction.
var (
	// DCGAN is for convolutions and linear layers: weights N(0, 0.02),
	// biases 0.
	DCGAN = Inits{Weight: Normal{Std: 0.02}, Bias: Constant(0)}
	// DCGANNorm is for BatchNorm: weight N(1, 0.02), bias 0. (GroupNorm
	// layers that replace BatchNorm after initialisation keep (1, 0).)
	DCGANNorm = Inits{Weight: Normal{Mean: 1, Std: 0.02}, Bias: Constant(0)}
)

// Constant fills a tensor with one value.
type Constant float32

// Draw implements Initializer; it draws nothing from rng.
func (c Constant) Draw(_ *rand.Rand, shape []int) []float32 {
	v := make([]float32, graph.Shape(shape).Len())
	for i := range v {
		v[i] = float32(c)
	}
	return v
}

// Normal draws every element from N(Mean, Std²).
type Normal struct{ Mean, Std float64 }

// Draw implements Initializer.
func (n Normal) Draw(rng *rand.Rand, shape []int) []float32 {
	v := make([]float32, graph.Shape(shape).Len())
	for i := range v {
		v[i] = float32(n.Mean + n.Std*rng.NormFloat64())
	}
	return v
}

// Uniform draws every element from U(-Bound, Bound), one rng.Float64 each.
type Uniform struct{ Bound float64 }

// Draw implements Initializer.
func (u Uniform) Draw(rng *rand.Rand, shape []int) []float32 {
	v := make([]float32, graph.Shape(shape).Len())
	for i := range v {
		v[i] = float32((2*rng.Float64() - 1) * u.Bound)
	}
	return v
}

// KaimingUniform is PyTorch's default for the weights and biases of
// linear and convolution layers: kaiming_uniform_ with a = sqrt(5) gives
// the bound 1/sqrt(fanIn), as does the bias rule.
func KaimingUniform(fanIn int) Uniform { return Uniform{Bound: 1 / math.Sqrt(float64(fanIn))} }

// Orthogonal is torch.nn.init.orthogonal_ (gain 1) for a tensor of rank
// 2 or more read as a matrix of shape[0] rows: the Q of the QR
// decomposition of a Gaussian max(r,c) x min(r,c) matrix (filled row by
// row from rng.NormFloat64) with the signs of R's diagonal folded in, so
// that the result is uniform over orthogonal matrices, transposed when
// there are fewer rows than columns.
type Orthogonal struct{}

// Draw implements Initializer. It panics for a tensor of rank below 2.
func (Orthogonal) Draw(rng *rand.Rand, shape []int) []float32 {
	if len(shape) < 2 {
		panic(fmt.Sprintf("nn: Orthogonal needs a tensor of rank 2 or more, not %v", shape))
	}
	rows := shape[0]
	return orthogonal(rng, rows, graph.Shape(shape).Len()/rows)
}

func orthogonal(rng *rand.Rand, rows, cols int) []float32 {
	r, c := max(rows, cols), min(rows, cols)
	a := mat.NewDense(r, c, nil)
	for i := range r {
		for j := range c {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q, rr mat.Dense
	qr.QTo(&q)
	qr.RTo(&rr)
	out := make([]float32, rows*cols)
	for i := range rows {
		for j := range cols {
			ii, jj := i, j
			if rows < cols {
				ii, jj = j, i // the transpose of a tall orthogonal matrix
			}
			s := 1.0
			if rr.At(jj, jj) < 0 {
				s = -1
			}
			out[i*cols+j] = float32(s * q.At(ii, jj))
		}
	}
	return out
}
