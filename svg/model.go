package svg

import (
	"math/rand/v2"
	"strings"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// The scopes of the five networks: the attribute names of the reference's
// SVGModel, so that every tensor has its PyTorch state_dict name.
const (
	EncoderScope   nn.Scope = "encoder"
	DecoderScope   nn.Scope = "decoder"
	PredictorScope nn.Scope = "frame_predictor"
	PriorScope     nn.Scope = "prior"
	PosteriorScope nn.Scope = "posterior"
)

// Model is an SVG model: the configuration and the module values. It
// holds no tensors; they are declared in a graph (Declare) or passed in
// through nn.Context.Params.
type Model struct {
	cfg       Config
	enc       encoder
	dec       decoder
	predictor nn.LSTM
	prior     nn.GaussianLSTM // LearnedPrior only
	posterior nn.GaussianLSTM // LearnedPrior only
}

// New returns the model of cfg, or cfg's validation error.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	in := cfg.GDim + cfg.ActionDim
	if cfg.hasZ() {
		in += cfg.ZDim
	}
	m := &Model{
		cfg: cfg,
		enc: newEncoder(cfg),
		dec: newDecoder(cfg),
		// The reference's init_weights covers the LSTMs' linear layers
		// (embed, output, mu_net, logvar_net), not their cells.
		predictor: nn.LSTM{In: in, Hidden: cfg.RNNSize, Out: cfg.GDim, Layers: cfg.PredictorLayers, Init: nn.DCGAN},
	}
	if cfg.hasZ() {
		m.prior = nn.GaussianLSTM{In: cfg.GDim, Hidden: cfg.RNNSize, Out: cfg.ZDim, Layers: cfg.PriorLayers, Init: nn.DCGAN}
		m.posterior = nn.GaussianLSTM{In: cfg.GDim, Hidden: cfg.RNNSize, Out: cfg.ZDim, Layers: cfg.PosteriorLayers, Init: nn.DCGAN}
	}
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Params lists the trained parameters in the order of the reference's
// state_dict (encoder, frame_predictor, decoder, prior, posterior), which
// is also the order Init draws them in.
func (m *Model) Params() []nn.ParamSpec {
	ps := m.enc.Params(EncoderScope)
	pred := m.predictor.Params(PredictorScope)
	if m.cfg.ForgetBias {
		for i, p := range pred {
			if strings.HasSuffix(p.Name, ".bias_ih") { // every cell's, none else
				pred[i].Init = forgetBiasOne{base: p.Init, hidden: m.cfg.RNNSize}
			}
		}
	}
	ps = append(ps, pred...)
	ps = append(ps, m.dec.Params(DecoderScope)...)
	if m.cfg.hasZ() {
		ps = append(ps, m.prior.Params(PriorScope)...)
		ps = append(ps, m.posterior.Params(PosteriorScope)...)
	}
	return ps
}

// State lists the non-trained state: BatchNorm's running statistics
// (none with GroupNorm).
func (m *Model) State() []nn.ParamSpec {
	return append(m.enc.State(EncoderScope), m.dec.State(DecoderScope)...)
}

// Declare adds every parameter and state tensor to g as a graph
// parameter, by name, and returns them (parameters first).
func (m *Model) Declare(g *graph.Graph) []*graph.Node {
	return nn.Declare(g, append(m.Params(), m.State()...))
}

// Init draws every parameter and state tensor from rng, in declaration
// order (nn.Init).
func (m *Model) Init(rng *rand.Rand) map[string][]float32 {
	return nn.Init(rng, append(m.Params(), m.State()...))
}

// forgetBiasOne draws as base, then sets the forget gate's block [H, 2H)
// to 1, as the Noether code's init_forget_bias_to_one does after the
// default draw (so the other blocks keep their values from the same
// random stream).
type forgetBiasOne struct {
	base   nn.Initializer
	hidden int
}

// Draw implements nn.Initializer.
func (f forgetBiasOne) Draw(rng *rand.Rand, shape []int) []float32 {
	v := f.base.Draw(rng, shape)
	for i := f.hidden; i < 2*f.hidden; i++ {
		v[i] = 1
	}
	return v
}
