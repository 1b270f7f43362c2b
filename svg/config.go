package svg

import (
	"errors"
	"fmt"
)

// Family is the encoder and decoder architecture.
type Family int

const (
	// DCGAN is SVG's dcgan_64 (and dcgan_128): stride-2 4x4 convolutions
	// down, stride-2 transposed convolutions up.
	DCGAN Family = iota
	// VGG is SVG's vgg_64 and vgg_128 as the Noether code uses them: 3x3
	// convolutions and 2x2 max pooling down, nearest upsampling and 3x3
	// convolutions up. The Noether code's choice for both frame sizes.
	VGG
)

func (f Family) String() string {
	switch f {
	case DCGAN:
		return "dcgan"
	case VGG:
		return "vgg"
	}
	return fmt.Sprintf("Family(%d)", int(f))
}

// Norm is the normalisation layer of the encoder and decoder.
type Norm int

const (
	// BatchNorm is SVG's BatchNorm2d.
	BatchNorm Norm = iota
	// GroupNorm is GroupNorm(1, C) in place of every BatchNorm, as the
	// Noether code's Physics 101 run does (batch 2): it normalises each
	// example by itself, so per-example tailoring sees no other example.
	GroupNorm
)

func (n Norm) String() string {
	switch n {
	case BatchNorm:
		return "batchnorm"
	case GroupNorm:
		return "groupnorm"
	}
	return fmt.Sprintf("Norm(%d)", int(n))
}

// Variant chooses how the predictor is driven.
type Variant int

const (
	// LearnedPrior is SVG-LP: a latent z per step from a Gaussian LSTM
	// posterior (on the target frame) in training and from a learned
	// Gaussian LSTM prior (on the previous frame) in generation.
	LearnedPrior Variant = iota
	// Deterministic has no z, no prior and no posterior, as the paper's
	// pixel pendulum model ("remove the prior sampling component since
	// the environment is deterministic"). ZDim, PriorLayers and
	// PosteriorLayers are unused.
	Deterministic
)

func (v Variant) String() string {
	switch v {
	case LearnedPrior:
		return "learned-prior"
	case Deterministic:
		return "deterministic"
	}
	return fmt.Sprintf("Variant(%d)", int(v))
}

// Skips chooses which encoding's skip connections the decoder uses.
type Skips int

const (
	// ContextSkips is the reference's default (--last_frame_skip off):
	// the skips are updated only by the steps i < NPast, so every
	// prediction decodes with the skips of the last context step's input,
	// frame NPast-2 (for Physics 101's NPast = 2, the first frame). SVG
	// and the Noether code both do this and their published numbers used
	// it, so it is the default here.
	ContextSkips Skips = iota
	// EveryStepSkips is the reference's --last_frame_skip: every step
	// decodes with the skips of its own input frame.
	EveryStepSkips
)

func (s Skips) String() string {
	switch s {
	case ContextSkips:
		return "context"
	case EveryStepSkips:
		return "every-step"
	}
	return fmt.Sprintf("Skips(%d)", int(s))
}

// Config is an SVG model and the sequences it predicts.
type Config struct {
	// ImageSize is the frames' height and width: 4·2^k pixels for k >= 1
	// (8, 16, 32, 64, 128, ...). The encoder halves it k times and ends
	// with a 4x4 valid convolution; the reference's models are k = 4
	// (64 px) and k = 5 (128 px).
	ImageSize int
	Channels  int // colour channels of a frame (3 for RGB)
	Family    Family
	// Width is the channel count of the first level (the reference's nf,
	// 64); level k has min(Width·2^k, 8·Width) channels, the reference's
	// 64, 128, 256, 512, 512.
	Width int
	GDim  int // the frame encoding (the reference's g_dim)
	ZDim  int // the latent per step (z_dim); LearnedPrior only
	// RNNSize is the hidden size of the predictor, prior and posterior
	// LSTMs (rnn_size).
	RNNSize         int
	PredictorLayers int
	PriorLayers     int // LearnedPrior only
	PosteriorLayers int // LearnedPrior only
	NPast           int // context frames (n_past)
	NFuture         int // predicted frames (n_future)
	Norm            Norm
	Variant         Variant
	// ActionDim is the size of the action concatenated to each step's
	// frame encoding before the predictor (0: not action-conditioned).
	ActionDim int
	Skips     Skips
	// ForgetBias sets the forget block of the predictor's input-side LSTM
	// biases (bias_ih[H:2H]) to 1 after the default draw: the Noether
	// code's addition (init_forget_bias_to_one), not SVG's. Neither the
	// prior nor the posterior gets it.
	ForgetBias bool
	// KLWeight is the outer loss's beta (svg_loss_kl_weight, 1e-4).
	KLWeight float32
}

// Frames is the length of a sequence: NPast + NFuture.
func (c Config) Frames() int { return c.NPast + c.NFuture }

// levels is k in ImageSize = 4·2^k, or 0 when ImageSize is not of that
// form.
func (c Config) levels() int {
	k := 0
	for s := c.ImageSize; s > 4; s /= 2 {
		if s%2 != 0 {
			return 0
		}
		k++
	}
	if c.ImageSize != 4<<k {
		return 0
	}
	return k
}

// hasZ reports whether the model draws a latent per step.
func (c Config) hasZ() bool { return c.Variant == LearnedPrior }

// Validate reports every problem of c, each naming the field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("svg: config: "+format, args...))
	}
	if c.Family != DCGAN && c.Family != VGG {
		bad("unknown encoder family %v (want dcgan or vgg)", c.Family)
	} else if c.levels() == 0 {
		bad("image size %d: the %v encoder takes square frames of 4·2^k pixels, k >= 1 (8, 16, 32, 64, 128, ...)", c.ImageSize, c.Family)
	}
	if c.Norm != BatchNorm && c.Norm != GroupNorm {
		bad("unknown norm %v (want batchnorm or groupnorm)", c.Norm)
	}
	if c.Variant != LearnedPrior && c.Variant != Deterministic {
		bad("unknown variant %v (want learned-prior or deterministic)", c.Variant)
	}
	if c.Skips != ContextSkips && c.Skips != EveryStepSkips {
		bad("unknown skip mode %v (want context or every-step)", c.Skips)
	}
	type count struct {
		name string
		v    int
	}
	counts := []count{{"Channels", c.Channels}, {"Width", c.Width}, {"GDim", c.GDim}, {"RNNSize", c.RNNSize}, {"PredictorLayers", c.PredictorLayers}, {"NFuture", c.NFuture}}
	if c.hasZ() {
		counts = append(counts, count{"ZDim", c.ZDim}, count{"PriorLayers", c.PriorLayers}, count{"PosteriorLayers", c.PosteriorLayers})
	}
	for _, n := range counts {
		if n.v < 1 {
			bad("%s %d (want at least 1)", n.name, n.v)
		}
	}
	switch {
	case c.NPast < 1:
		bad("NPast %d (want at least 1 context frame)", c.NPast)
	case c.NPast < 2 && c.Skips == ContextSkips:
		bad("NPast %d with context skips: the skips come from the steps before NPast, and with one context frame there are none (use NPast >= 2 or every-step skips)", c.NPast)
	}
	if c.ActionDim < 0 {
		bad("ActionDim %d (want 0 for no actions, or the action size)", c.ActionDim)
	}
	if !(c.KLWeight >= 0) {
		bad("KLWeight %v (want >= 0)", c.KLWeight)
	}
	return errors.Join(errs...)
}
