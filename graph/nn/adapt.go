package nn

import "github.com/noether-vk/noether-vk/graph"

// Adaptation (tailoring) changes per-example tensors at sites the model
// declares, not the model's code: every norm layer can scale and shift its
// output per example and channel (conditional normalisation, CN), the MLP
// its hidden pre-activations, and any module output wrapped in
// LatentOffset can take an additive per-example offset. The model lists
// them (Adaptables), the caller makes the tensors (Start gives the
// identity) and hands them to Apply in Context.Adapted by name.

// AdaptSpec is one per-example tensor that tailoring may adapt.
type AdaptSpec struct {
	Name  string
	Shape []int   // per example: the tensor is [B, Shape...]
	Start float32 // its value at the start of every prediction
}

// Adaptive is implemented by modules with adaptation sites.
type Adaptive interface {
	Adaptables(s Scope) []AdaptSpec
}

// Adaptables returns m's adaptation tensors at s (none when m is not
// Adaptive).
func Adaptables(m Module, s Scope) []AdaptSpec {
	if a, ok := m.(Adaptive); ok {
		return a.Adaptables(s)
	}
	return nil
}

// CNSpecs declares the CN site of scope s over channels: the scale
// s.cn.scale (starting at 1) and the shift s.cn.shift (starting at 0),
// both [B, channels].
func CNSpecs(s Scope, channels int) []AdaptSpec {
	return []AdaptSpec{
		{Name: s.Name("cn.scale"), Shape: []int{channels}, Start: 1},
		{Name: s.Name("cn.shift"), Shape: []int{channels}, Start: 0},
	}
}

// OffsetSpec declares the latent offset s.offset of per-example shape
// shape, starting at 0.
func OffsetSpec(s Scope, shape ...int) AdaptSpec {
	return AdaptSpec{Name: s.Name("offset"), Shape: shape, Start: 0}
}

// Start returns, for a batch of batch examples, every spec's tensor at its
// start value, by name: the identity adaptation, ready for
// Context.Adapted.
func Start(g *graph.Graph, specs []AdaptSpec, batch int) map[string]*graph.Node {
	out := make(map[string]*graph.Node, len(specs))
	for _, sp := range specs {
		out[sp.Name] = g.Fill(sp.Start, append([]int{batch}, sp.Shape...)...)
	}
	return out
}

// CN applies the CN site of scope s to x [B,C,...]: x * scale + shift
// with scale and shift [B,C] from c.Adapted (graph.Graph.CNAffine). With
// neither tensor given it returns x itself; a missing half is the
// identity.
func (c *Context) CN(s Scope, x *graph.Node) *graph.Node {
	scale, hasScale := c.Adapted[s.Name("cn.scale")]
	shift, hasShift := c.Adapted[s.Name("cn.shift")]
	if !hasScale && !hasShift {
		return x
	}
	g := c.Graph
	perChannel := x.Shape()[:min(2, len(x.Shape()))]
	if !hasScale {
		scale = g.Fill(1, perChannel...)
	}
	if !hasShift {
		shift = g.Fill(0, perChannel...)
	}
	return g.CNAffine(x, scale, shift)
}

// AddOffset adds the latent offset of scope s from c.Adapted to y; with
// none given it returns y itself.
func (c *Context) AddOffset(s Scope, y *graph.Node) *graph.Node {
	off, ok := c.Adapted[s.Name("offset")]
	if !ok {
		return y
	}
	return c.Graph.Add(y, off)
}

// LatentOffset marks its module's output as an adaptation site: Apply adds
// the per-example offset s.offset [B, Shape...] when Context.Adapted has
// one. The module keeps scope s (its parameters' names do not change).
type LatentOffset struct {
	Module Module
	Shape  []int // the module's output shape per example
}

// Params implements Module.
func (l LatentOffset) Params(s Scope) []ParamSpec { return l.Module.Params(s) }

// State implements Stateful.
func (l LatentOffset) State(s Scope) []ParamSpec { return State(l.Module, s) }

// Adaptables implements Adaptive: the module's own, then the offset.
func (l LatentOffset) Adaptables(s Scope) []AdaptSpec {
	return append(Adaptables(l.Module, s), OffsetSpec(s, l.Shape...))
}

// Apply implements Module.
func (l LatentOffset) Apply(c *Context, s Scope, x *graph.Node) *graph.Node {
	return c.AddOffset(s, l.Module.Apply(c, s, x))
}
