package noether

import (
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// Model is a module at its scope, applied with its parameters given as a
// list in the order of Params: the form Meta, Predict and the Adaptations
// pass them in.
type Model struct {
	Module nn.Module
	Scope  nn.Scope
}

// Params lists the model's parameters.
func (m Model) Params() []nn.ParamSpec { return m.Module.Params(m.Scope) }

// Apply runs the model on x with the parameters theta.
func (m Model) Apply(g *graph.Graph, theta []*graph.Node, x *graph.Node) *graph.Node {
	return m.Module.Apply(m.context(g, theta), m.Scope, x)
}

// context binds theta to the parameters' names.
func (m Model) context(g *graph.Graph, theta []*graph.Node) *nn.Context {
	c := &nn.Context{Graph: g, Params: map[string]*graph.Node{}}
	for i, p := range m.Params() {
		c.Params[p.Name] = theta[i]
	}
	return c
}

// ModelAdaptation is an Adaptation that also runs its model with the
// adapted tensors.
type ModelAdaptation interface {
	Adaptation
	Apply(g *graph.Graph, theta, adapted []*graph.Node, x *graph.Node) *graph.Node
}

// AdaptSites tailors the per-example tensors the model declares
// (nn.Adaptables): conditional normalisation (a scale and a shift per
// channel) on its norm layers and on an MLP's hidden pre-activations, and
// additive latent offsets on the outputs it marks, all starting at the
// identity at every prediction. For an MLP this is the paper's CNGrad,
// far cheaper than copying every weight.
type AdaptSites struct{ Model Model }

// Sites lists the adapted tensors, in the order of Start's result.
func (a AdaptSites) Sites() []nn.AdaptSpec { return nn.Adaptables(a.Model.Module, a.Model.Scope) }

// Start implements Adaptation.
func (a AdaptSites) Start(g *graph.Graph, theta []*graph.Node, batch int) []*graph.Node {
	sites := a.Sites()
	start := nn.Start(g, sites, batch)
	out := make([]*graph.Node, len(sites))
	for i, s := range sites {
		out[i] = start[s.Name]
	}
	return out
}

// Fold implements Adaptation: the identity start does not depend on theta.
func (a AdaptSites) Fold(*graph.Graph, []*graph.Node, []*graph.Node) []*graph.Node { return nil }

// Apply implements ModelAdaptation.
func (a AdaptSites) Apply(g *graph.Graph, theta, adapted []*graph.Node, x *graph.Node) *graph.Node {
	c := a.Model.context(g, theta)
	c.Adapted = map[string]*graph.Node{}
	for i, s := range a.Sites() {
		c.Adapted[s.Name] = adapted[i]
	}
	return a.Model.Module.Apply(c, a.Model.Scope, x)
}

// AdaptAll tailors every parameter of the model, as per-example copies:
// exact, and as costly as the model is large.
type AdaptAll struct{ Model Model }

// Start implements Adaptation.
func (a AdaptAll) Start(g *graph.Graph, theta []*graph.Node, batch int) []*graph.Node {
	return PerExample(g, theta, batch)
}

// Fold implements Adaptation: the copies' gradients summed over the batch.
func (a AdaptAll) Fold(g *graph.Graph, theta, u []*graph.Node) []*graph.Node {
	out := make([]*graph.Node, len(theta))
	for i, th := range theta {
		out[i] = g.SumTo(u[i], th.Shape()...)
	}
	return out
}

// Apply implements ModelAdaptation.
func (a AdaptAll) Apply(g *graph.Graph, theta, adapted []*graph.Node, x *graph.Node) *graph.Node {
	return a.Model.Apply(g, adapted, x)
}

// PerExample gives every example of a batch of b its own copy of the
// parameters: a weight [in, out] becomes [b, in, out] and a bias [out]
// becomes [b, 1, out] (nn.Linear runs such copies per example). The
// copies are ordinary tensors, so their gradient is the per-example
// gradient, and graph.SumTo folds it back.
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
