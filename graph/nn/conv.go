package nn

import (
	"cmp"

	"github.com/noether-vk/noether-vk/graph"
)

// Conv2d is torch.nn.Conv2d with square kernels: x [N, In, H, W] to
// [N, Out, OH, OW]. Parameters, in PyTorch's layout: weight
// [Out, In, Kernel, Kernel], bias [Out]; both default to
// U(+-1/sqrt(In*Kernel*Kernel)), PyTorch's default.
type Conv2d struct {
	In, Out, Kernel int
	Stride, Pad     int // Stride 0: 1
	NoBias          bool
	Init            Inits
}

// Params implements Module.
func (l Conv2d) Params(s Scope) []ParamSpec {
	return convParams(s, []int{l.Out, l.In, l.Kernel, l.Kernel}, l.Out, KaimingUniform(l.In*l.Kernel*l.Kernel), l.NoBias, l.Init)
}

// Apply implements Module.
func (l Conv2d) Apply(c *Context, s Scope, x *graph.Node) *graph.Node {
	w, b := convWeights(c, s, l.NoBias)
	return c.Graph.Conv2d(x, w, b, max(l.Stride, 1), l.Pad)
}

// ConvTranspose2d is torch.nn.ConvTranspose2d with square kernels and no
// output padding: x [N, In, H, W] to [N, Out, (H-1)*Stride - 2*Pad +
// Kernel, ...]. Parameters, in PyTorch's layout: weight
// [In, Out, Kernel, Kernel], bias [Out]; both default to
// U(+-1/sqrt(Out*Kernel*Kernel)): PyTorch takes the fan-in of a transposed
// convolution from the weight's second axis.
type ConvTranspose2d struct {
	In, Out, Kernel int
	Stride, Pad     int // Stride 0: 1
	NoBias          bool
	Init            Inits
}

// Params implements Module.
func (l ConvTranspose2d) Params(s Scope) []ParamSpec {
	return convParams(s, []int{l.In, l.Out, l.Kernel, l.Kernel}, l.Out, KaimingUniform(l.Out*l.Kernel*l.Kernel), l.NoBias, l.Init)
}

// Apply implements Module.
func (l ConvTranspose2d) Apply(c *Context, s Scope, x *graph.Node) *graph.Node {
	w, b := convWeights(c, s, l.NoBias)
	return c.Graph.ConvTranspose2d(x, w, b, max(l.Stride, 1), l.Pad)
}

func convParams(s Scope, weight []int, out int, def Initializer, noBias bool, init Inits) []ParamSpec {
	ps := []ParamSpec{{Name: s.Name("weight"), Shape: weight, Init: cmp.Or(init.Weight, def)}}
	if !noBias {
		ps = append(ps, ParamSpec{Name: s.Name("bias"), Shape: []int{out}, Init: cmp.Or(init.Bias, def)})
	}
	return ps
}

func convWeights(c *Context, s Scope, noBias bool) (w, b *graph.Node) {
	if !noBias {
		b = c.Param(s.Name("bias"))
	}
	return c.Param(s.Name("weight")), b
}

// MaxPool2d is torch.nn.MaxPool2d without padding: k x k windows, Stride
// 0 meaning Kernel.
type MaxPool2d struct{ Kernel, Stride int }

// Params implements Module: none.
func (MaxPool2d) Params(Scope) []ParamSpec { return nil }

// Apply implements Module.
func (p MaxPool2d) Apply(c *Context, _ Scope, x *graph.Node) *graph.Node {
	return c.Graph.MaxPool2d(x, p.Kernel, p.Stride)
}

// Upsample is nearest-neighbour upsampling of [N, C, H, W] by an integer
// Factor (torch.nn.Upsample(scale_factor=Factor)).
type Upsample struct{ Factor int }

// Params implements Module: none.
func (Upsample) Params(Scope) []ParamSpec { return nil }

// Apply implements Module.
func (u Upsample) Apply(c *Context, _ Scope, x *graph.Node) *graph.Node {
	return c.Graph.UpsampleNearest2d(x, u.Factor)
}

// Flatten views [N, ...] as [N, rest] in row-major (C, H, W) order.
type Flatten struct{}

// Params implements Module: none.
func (Flatten) Params(Scope) []ParamSpec { return nil }

// Apply implements Module.
func (Flatten) Apply(c *Context, _ Scope, x *graph.Node) *graph.Node {
	s := x.Shape()
	return c.Graph.Reshape(x, s[0], s[1:].Len())
}

// Reshape views [N, ...] as [N, Shape...] (a decoder's code [N, D] as
// [N, D, 1, 1]).
type Reshape struct{ Shape []int }

// Params implements Module: none.
func (Reshape) Params(Scope) []ParamSpec { return nil }

// Apply implements Module.
func (r Reshape) Apply(c *Context, _ Scope, x *graph.Node) *graph.Node {
	return c.Graph.Reshape(x, append([]int{x.Shape()[0]}, r.Shape...)...)
}
