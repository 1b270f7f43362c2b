package svg

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// Tailoring adapts per-example tensors at the model's sites, by name
// (nn.AdaptSpec): the CN sites of every encoder and decoder norm layer,
// or the latent offsets on the predictor's hidden state. The prediction
// functions read them from nn.Context.Adapted; a site with no tensor
// there inserts no op.

// CNSites lists the conditional-normalisation sites, encoder first: for
// every norm layer at scope s, s.cn.scale [C] starting at 1 and
// s.cn.shift [C] starting at 0, per example, applied after the norm's
// affine and before the activation. VGG-128 has 27 such layers (14 in
// the encoder, 13 in the decoder), VGG-64 21 (11, 10), DCGAN-64 9 (5, 4).
func (m *Model) CNSites() []nn.AdaptSpec {
	return append(m.enc.Adaptables(EncoderScope), m.dec.Adaptables(DecoderScope)...)
}

// OffsetSites lists the latent offsets: frame_predictor.lstm.l.offset
// [RNNSize] per predictor layer l, starting at 0. At every step, layer l
// reads its hidden state plus the offset (the recurrent input of
// nn.LSTMCell), so one per-example offset shifts the predictor's state
// along the whole sequence: the paper's "latent LSTM activations".
func (m *Model) OffsetSites() []nn.AdaptSpec {
	var sites []nn.AdaptSpec
	for l := range m.cfg.PredictorLayers {
		sites = append(sites, nn.OffsetSpec(m.layerScope(l), m.cfg.RNNSize))
	}
	return sites
}

// layerScope is the scope of the predictor's LSTM layer l, where its cell
// and its offset live.
func (m *Model) layerScope(l int) nn.Scope { return PredictorScope.In("lstm").Index(l) }

// Adaptation tailors the given sites (CNSites, OffsetSites, or any list
// of the model's sites). It implements noether.Adaptation: it stands
// where noether.AdaptSites stands for single-input models, whose Apply an
// SVG, with its sequences, does not fit.
type Adaptation struct{ Sites []nn.AdaptSpec }

// Start returns every site's tensor at its start value (the identity),
// [batch, shape...], in the order of Sites.
func (a Adaptation) Start(g *graph.Graph, _ []*graph.Node, batch int) []*graph.Node {
	start := nn.Start(g, a.Sites, batch)
	out := make([]*graph.Node, len(a.Sites))
	for i, s := range a.Sites {
		out[i] = start[s.Name]
	}
	return out
}

// Fold returns nil: the start does not depend on the model's parameters.
func (Adaptation) Fold(*graph.Graph, []*graph.Node, []*graph.Node) []*graph.Node { return nil }

// Bind names the adapted tensors (in the order of Sites) for
// nn.Context.Adapted.
func (a Adaptation) Bind(adapted []*graph.Node) map[string]*graph.Node {
	if len(adapted) != len(a.Sites) {
		panic(fmt.Sprintf("svg: Adaptation.Bind: %d tensors for %d sites", len(adapted), len(a.Sites)))
	}
	out := make(map[string]*graph.Node, len(a.Sites))
	for i, s := range a.Sites {
		out[s.Name] = adapted[i]
	}
	return out
}

// Context returns the context to build predictions with: theta, in the
// order of Params, replaces the graph's parameters (nil: the graph's own,
// declared with Declare), and adapted holds the tailored sites by name
// (Adaptation.Bind; nil: none).
func (m *Model) Context(g *graph.Graph, theta []*graph.Node, adapted map[string]*graph.Node) *nn.Context {
	c := &nn.Context{Graph: g, Adapted: adapted}
	if theta == nil {
		return c
	}
	specs := m.Params()
	if len(theta) != len(specs) {
		panic(fmt.Sprintf("svg: Model.Context: %d parameters for the model's %d", len(theta), len(specs)))
	}
	c.Params = make(map[string]*graph.Node, len(specs))
	for i, s := range specs {
		c.Params[s.Name] = theta[i]
	}
	return c
}
