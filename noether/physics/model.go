package physics

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/noether-vk/noether-vk/graph"
)

// ParamSpec names a parameter and gives its shape.
type ParamSpec struct {
	Name  string
	Shape []int
}

// MLP is a multilayer perceptron with explicit parameters, so the same
// model runs with shared weights ([in,out]) or per-example weights
// ([B,in,out], see PerExample), as tailoring needs.
type MLP struct {
	Prefix   string // parameter names are Prefix+"w1", Prefix+"b1", ...
	Sizes    []int  // layer widths, input first: 2, 200, 200, 2
	LastBias bool   // a bias on the output layer (the paper's baseline has none)
}

// Params lists the parameters in the order Apply takes them.
func (m *MLP) Params() []ParamSpec {
	var ps []ParamSpec
	for i := 1; i < len(m.Sizes); i++ {
		ps = append(ps, ParamSpec{fmt.Sprintf("%sw%d", m.Prefix, i), []int{m.Sizes[i-1], m.Sizes[i]}})
		if i < len(m.Sizes)-1 || m.LastBias {
			ps = append(ps, ParamSpec{fmt.Sprintf("%sb%d", m.Prefix, i), []int{m.Sizes[i]}})
		}
	}
	return ps
}

// Init draws initial values: orthogonal weights (as the paper's baseline,
// torch.nn.init.orthogonal_) and biases uniform in +-1/sqrt(fan in)
// (PyTorch's default for nn.Linear).
func (m *MLP) Init(rng *rand.Rand) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range m.Params() {
		if len(p.Shape) == 2 {
			out[p.Name] = orthogonal(rng, p.Shape[0], p.Shape[1])
			continue
		}
		fanIn := m.Sizes[0]
		for i := 1; i < len(m.Sizes); i++ {
			if p.Name == fmt.Sprintf("%sb%d", m.Prefix, i) {
				fanIn = m.Sizes[i-1]
			}
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		v := make([]float32, p.Shape[0])
		for i := range v {
			v[i] = float32((2*rng.Float64() - 1) * bound)
		}
		out[p.Name] = v
	}
	return out
}

// orthogonal returns a rows x cols matrix (row-major) with orthonormal
// rows or columns, from the QR decomposition of a Gaussian matrix with the
// signs of R's diagonal folded in (so the distribution is uniform).
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

// Declare adds the model's parameters to g, in Params order.
func Declare(g *graph.Graph, specs []ParamSpec) []*graph.Node {
	ps := make([]*graph.Node, len(specs))
	for i, s := range specs {
		ps[i] = g.Param(s.Name, s.Shape...)
	}
	return ps
}

// PerExample gives every example of a batch of b its own copy of the
// parameters: weights [in,out] become [b,in,out] and biases [out] become
// [b,1,out]. The copies are ordinary tensors, so their gradient is the
// per-example gradient, and graph.SumTo folds it back.
func PerExample(g *graph.Graph, ps []*graph.Node, b int) []*graph.Node {
	out := make([]*graph.Node, len(ps))
	for i, p := range ps {
		s := p.Shape()
		if len(s) == 1 {
			out[i] = g.BroadcastTo(p, b, 1, s[0])
		} else {
			out[i] = g.BroadcastTo(p, append([]int{b}, s...)...)
		}
	}
	return out
}

// Apply runs the model on x [B, Sizes[0]] with tanh between layers and
// returns [B, Sizes[last]]. The parameters are shared (Declare) or per
// example (PerExample).
func (m *MLP) Apply(g *graph.Graph, ps []*graph.Node, x *graph.Node) *graph.Node {
	return m.ApplyCN(g, ps, nil, x)
}

// ApplyCN is Apply with conditional normalisation: when cn is not nil it
// holds a per-example scale and shift [B, width] for every hidden layer
// (gamma1, beta1, gamma2, beta2, ...), applied to the layer's
// pre-activation: z*gamma + beta.
func (m *MLP) ApplyCN(g *graph.Graph, ps, cn []*graph.Node, x *graph.Node) *graph.Node {
	perExample := len(ps) > 0 && len(ps[0].Shape()) == 3
	b := x.Shape()[0]
	h := x
	if perExample {
		h = g.Reshape(x, b, 1, m.Sizes[0])
	}
	k := 0
	for i := 1; i < len(m.Sizes); i++ {
		w := ps[k]
		k++
		var bias *graph.Node
		if i < len(m.Sizes)-1 || m.LastBias {
			bias = ps[k]
			k++
		}
		switch {
		case bias == nil:
			h = g.MatMul(h, w)
		case perExample:
			h = g.Add(g.MatMul(h, w), bias)
		default:
			h = g.Linear(h, w, bias)
		}
		if i < len(m.Sizes)-1 {
			if cn != nil {
				h = g.CNAffine(h, cn[2*(i-1)], cn[2*(i-1)+1])
			}
			h = g.Tanh(h)
		}
	}
	if perExample {
		h = g.Reshape(h, b, m.Sizes[len(m.Sizes)-1])
	}
	return h
}
