package nn

import (
	"cmp"

	"github.com/noether-vk/noether-vk/graph"
)

// Linear is x w + b, as torch.nn.Linear but with the weight stored as
// [In, Out] (PyTorch's is [Out, In]: transpose when converting), which is
// what graph.Graph.MatMul and Linear take. Parameters: weight [In, Out],
// bias [Out]; both default to U(+-1/sqrt(In)), PyTorch's default.
//
// Per example: when Context.Params holds a weight [B, In, Out] (a copy per
// example, as tailoring every weight needs), x [B, In] is multiplied
// example by example. A per-example bias, [B, Out] or [B, 1, Out], works
// with either weight.
type Linear struct {
	In, Out int
	NoBias  bool
	Init    Inits
}

// Params implements Module.
func (l Linear) Params(s Scope) []ParamSpec {
	var def Initializer = KaimingUniform(l.In)
	ps := []ParamSpec{{Name: s.Name("weight"), Shape: []int{l.In, l.Out}, Init: cmp.Or(l.Init.Weight, def)}}
	if !l.NoBias {
		ps = append(ps, ParamSpec{Name: s.Name("bias"), Shape: []int{l.Out}, Init: cmp.Or(l.Init.Bias, def)})
	}
	return ps
}

// Apply implements Module: x [..., In] to [..., Out].
func (l Linear) Apply(c *Context, s Scope, x *graph.Node) *graph.Node {
	var b *graph.Node
	if !l.NoBias {
		b = c.Param(s.Name("bias"))
	}
	return affine(c.Graph, x, c.Param(s.Name("weight")), b)
}

// affine is x w + b (b nil: none), with shared weights w [In, Out] as one
// fused product, or per-example weights w [B, In, Out] as a batched
// product of x viewed as [B, 1, In].
func affine(g *graph.Graph, x, w, b *graph.Node) *graph.Node {
	ws := w.Shape()
	if len(ws) == 3 {
		batch, out := ws[0], ws[2]
		h := g.MatMul(g.Reshape(x, batch, 1, ws[1]), w)
		if b != nil {
			if len(b.Shape()) == 2 {
				b = g.Reshape(b, batch, 1, out)
			}
			h = g.Add(h, b)
		}
		return g.Reshape(h, batch, out)
	}
	switch {
	case b == nil:
		return g.MatMul(x, w)
	case len(b.Shape()) == 1:
		return g.Linear(x, w, b)
	case len(b.Shape()) == 3: // a per-example bias [B, 1, Out]
		b = g.Reshape(b, b.Shape()[0], ws[1])
	}
	return g.Add(g.MatMul(x, w), b)
}

// MLP is a stack of Linear layers (scopes s.0, s.1, ...) with Act between
// them. Its hidden layers are CN sites: s.i.cn.scale and s.i.cn.shift
// [B, Sizes[i+1]] scale and shift layer i's pre-activation, before Act.
type MLP struct {
	Sizes    []int  // layer widths, input first: 2, 200, 200, 2
	Act      Module // between layers; nil: Tanh
	LastBias bool   // a bias on the output layer (hidden layers always have one)
	// Init chooses each layer's initialisers; one entry applies to every
	// layer, none keeps Linear's defaults.
	Init []Inits
}

// layer returns the i-th Linear layer.
func (m MLP) layer(i int) Linear {
	l := Linear{In: m.Sizes[i], Out: m.Sizes[i+1], NoBias: i == len(m.Sizes)-2 && !m.LastBias}
	switch len(m.Init) {
	case 0:
	case 1:
		l.Init = m.Init[0]
	default:
		l.Init = m.Init[i]
	}
	return l
}

func (m MLP) layers() int { return len(m.Sizes) - 1 }

// Params implements Module: s.i.weight [Sizes[i], Sizes[i+1]] and
// s.i.bias, layer by layer.
func (m MLP) Params(s Scope) []ParamSpec {
	var ps []ParamSpec
	for i := range m.layers() {
		ps = append(ps, m.layer(i).Params(s.Index(i))...)
	}
	return ps
}

// Adaptables implements Adaptive: one CN site per hidden layer.
func (m MLP) Adaptables(s Scope) []AdaptSpec {
	var as []AdaptSpec
	for i := range m.layers() - 1 {
		as = append(as, CNSpecs(s.Index(i), m.Sizes[i+1])...)
	}
	return as
}

// Apply implements Module: x [B, Sizes[0]] to [B, Sizes[last]].
func (m MLP) Apply(c *Context, s Scope, x *graph.Node) *graph.Node {
	act := m.Act
	if act == nil {
		act = Tanh{}
	}
	h := x
	for i := range m.layers() {
		h = m.layer(i).Apply(c, s.Index(i), h)
		if i < m.layers()-1 {
			h = act.Apply(c, s.Index(i), c.CN(s.Index(i), h))
		}
	}
	return h
}
