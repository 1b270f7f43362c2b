package svg

import (
	"fmt"
	"slices"
	"strings"
)

// presets are the named configurations (see the package documentation
// for their sizes).
var presets = map[string]Config{
	// The pixel pendulum on 2 CPU cores: the paper's setting
	// (deterministic, action-conditioned, 4 context and 26 predicted
	// frames) with the cheaper DCGAN encoder on 32x32 frames and an eighth
	// of the channels; GroupNorm keeps each example's prediction, and so
	// its tailoring, independent of the rest of its batch.
	"default": {
		ImageSize: 32, Channels: 3, Family: DCGAN, Width: 8,
		GDim: 32, RNNSize: 64, PredictorLayers: 2,
		NPast: 4, NFuture: 26, Norm: GroupNorm, Variant: Deterministic,
		ActionDim: 1, ForgetBias: true, KLWeight: 1e-4,
	},
	// The pixel pendulum at the paper's sizes, which it does not state:
	// the Noether code's 64 px model (VGG-64, g_dim 128, rnn_size 256, two
	// predictor layers) made deterministic and action-conditioned as the
	// paper describes.
	"paper": {
		ImageSize: 64, Channels: 3, Family: VGG, Width: 64,
		GDim: 128, RNNSize: 256, PredictorLayers: 2,
		NPast: 4, NFuture: 26, Norm: BatchNorm, Variant: Deterministic,
		ActionDim: 1, ForgetBias: true, KLWeight: 1e-4,
	},
	// The Noether code's Physics 101 run: VGG-128, SVG-LP with z_dim 64,
	// GroupNorm(1, C) for batch 2, 2 context and 20 predicted frames.
	"phys101": {
		ImageSize: 128, Channels: 3, Family: VGG, Width: 64,
		GDim: 128, ZDim: 64, RNNSize: 256, PredictorLayers: 2, PriorLayers: 1, PosteriorLayers: 1,
		NPast: 2, NFuture: 20, Norm: GroupNorm, Variant: LearnedPrior,
		ForgetBias: true, KLWeight: 1e-4,
	},
}

// PresetNames lists the presets' names, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Preset returns the named configuration.
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("svg: unknown preset %q (want one of %s)", name, strings.Join(PresetNames(), ", "))
	}
	return c, nil
}
