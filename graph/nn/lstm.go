package nn

import (
	"math"

	"github.com/noether-vk/noether-vk/graph"
)

// LSTMCell is torch.nn.LSTMCell(In, Hidden), one time step:
//
//	z  = x weight_ih + bias_ih + h weight_hh + bias_hh   [B, 4H]
//	i, f, g, o = the four H-wide blocks of z, in that order (PyTorch's)
//	c' = sigmoid(f) c + sigmoid(i) tanh(g),  h' = sigmoid(o) tanh(c')
//
// Parameters: weight_ih [In, 4H] and weight_hh [H, 4H] (PyTorch's
// transposed, as Linear's), bias_ih [4H] and bias_hh [4H], all
// U(+-1/sqrt(H)), PyTorch's default.
type LSTMCell struct{ In, Hidden int }

// Params declares the cell's parameters.
func (l LSTMCell) Params(s Scope) []ParamSpec {
	u := Uniform{Bound: 1 / math.Sqrt(float64(l.Hidden))}
	return []ParamSpec{
		{Name: s.Name("weight_ih"), Shape: []int{l.In, 4 * l.Hidden}, Init: u},
		{Name: s.Name("weight_hh"), Shape: []int{l.Hidden, 4 * l.Hidden}, Init: u},
		{Name: s.Name("bias_ih"), Shape: []int{4 * l.Hidden}, Init: u},
		{Name: s.Name("bias_hh"), Shape: []int{4 * l.Hidden}, Init: u},
	}
}

// Step advances the cell from (h, cell) [B, H] on x [B, In].
func (l LSTMCell) Step(c *Context, s Scope, x, h, cell *graph.Node) (hNext, cellNext *graph.Node) {
	g := c.Graph
	z := g.Add(affine(g, x, c.Param(s.Name("weight_ih")), c.Param(s.Name("bias_ih"))),
		affine(g, h, c.Param(s.Name("weight_hh")), c.Param(s.Name("bias_hh"))))
	return g.LSTMCell(z, cell)
}

// LSTMState is what stacked cells carry from one time step to the next:
// h and c of every layer, [B, Hidden].
type LSTMState struct{ H, C []*graph.Node }

// cells is the core SVG's recurrent networks share: a linear embedding
// (s.embed) then Layers stacked cells Hidden -> Hidden (s.lstm.0, ...).
type cells struct {
	In, Hidden, Layers int
	Init               Inits
}

func (m cells) embed() Linear { return Linear{In: m.In, Out: m.Hidden, Init: m.Init} }

func (m cells) cell() LSTMCell { return LSTMCell{In: m.Hidden, Hidden: m.Hidden} }

func (m cells) params(s Scope) []ParamSpec {
	ps := m.embed().Params(s.In("embed"))
	for i := range m.Layers {
		ps = append(ps, m.cell().Params(s.In("lstm").Index(i))...)
	}
	return ps
}

func (m cells) zero(g *graph.Graph, batch int) LSTMState {
	var st LSTMState
	for range m.Layers {
		st.H = append(st.H, g.Fill(0, batch, m.Hidden))
		st.C = append(st.C, g.Fill(0, batch, m.Hidden))
	}
	return st
}

// step returns the last layer's h and the new state.
func (m cells) step(c *Context, s Scope, x *graph.Node, st LSTMState) (*graph.Node, LSTMState) {
	h := m.embed().Apply(c, s.In("embed"), x)
	next := LSTMState{H: make([]*graph.Node, m.Layers), C: make([]*graph.Node, m.Layers)}
	for i := range m.Layers {
		next.H[i], next.C[i] = m.cell().Step(c, s.In("lstm").Index(i), h, st.H[i], st.C[i])
		h = next.H[i]
	}
	return h, next
}

// LSTM is SVG's deterministic recurrent network (lstm_models.lstm): a
// linear embedding In -> Hidden (s.embed), Layers stacked LSTMCells
// (s.lstm.0, ...), then a linear read-out Hidden -> Out (s.output.0)
// and tanh. Init applies to the two linear layers; the cells keep
// U(+-1/sqrt(Hidden)).
type LSTM struct {
	In, Hidden, Out, Layers int
	Init                    Inits
}

func (l LSTM) cells() cells { return cells{l.In, l.Hidden, l.Layers, l.Init} }

func (l LSTM) output() Linear { return Linear{In: l.Hidden, Out: l.Out, Init: l.Init} }

// Params declares the network's parameters.
func (l LSTM) Params(s Scope) []ParamSpec {
	return append(l.cells().params(s), l.output().Params(s.In("output").Index(0))...)
}

// ZeroState is the state at the start of a sequence: zeros.
func (l LSTM) ZeroState(g *graph.Graph, batch int) LSTMState { return l.cells().zero(g, batch) }

// Step maps x [B, In] to y [B, Out] and advances the state.
func (l LSTM) Step(c *Context, s Scope, x *graph.Node, st LSTMState) (*graph.Node, LSTMState) {
	h, next := l.cells().step(c, s, x, st)
	return c.Graph.Tanh(l.output().Apply(c, s.In("output").Index(0), h)), next
}

// GaussianLSTM is SVG's posterior and prior (lstm_models.gaussian_lstm):
// the embedding and cells of LSTM, then two linear layers Hidden -> Out to
// mu (s.mu_net) and logvar (s.logvar_net), and the reparameterised sample
// z = mu + exp(logvar/2) eps from the noise eps [B, Out] the caller
// supplies (so a run can reuse or record it).
type GaussianLSTM struct {
	In, Hidden, Out, Layers int
	Init                    Inits
}

func (l GaussianLSTM) cells() cells { return cells{l.In, l.Hidden, l.Layers, l.Init} }

func (l GaussianLSTM) head() Linear { return Linear{In: l.Hidden, Out: l.Out, Init: l.Init} }

// Params declares the network's parameters.
func (l GaussianLSTM) Params(s Scope) []ParamSpec {
	ps := l.cells().params(s)
	ps = append(ps, l.head().Params(s.In("mu_net"))...)
	return append(ps, l.head().Params(s.In("logvar_net"))...)
}

// ZeroState is the state at the start of a sequence: zeros.
func (l GaussianLSTM) ZeroState(g *graph.Graph, batch int) LSTMState {
	return l.cells().zero(g, batch)
}

// Step maps x [B, In] and eps [B, Out] to the sample z, mu and logvar
// [B, Out], and advances the state.
func (l GaussianLSTM) Step(c *Context, s Scope, x, eps *graph.Node, st LSTMState) (z, mu, logvar *graph.Node, next LSTMState) {
	h, next := l.cells().step(c, s, x, st)
	mu = l.head().Apply(c, s.In("mu_net"), h)
	logvar = l.head().Apply(c, s.In("logvar_net"), h)
	g := c.Graph
	z = g.Add(mu, g.Mul(g.Exp(g.Scale(logvar, 0.5)), eps))
	return z, mu, logvar, next
}
