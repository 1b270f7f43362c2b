package video

import "github.com/noether-vk/noether-vk/svg"

// The default preset's schedule, sized on lavapipe with 2 CPU cores:
// 10.6 minutes end to end, measured (see the package documentation).
const (
	defaultStride = 5 // 35 windows per training episode, 175 in all: 21 steps an epoch
	defaultBatch  = 8
	// defaultEvalBatch divides the 195 test episodes; with the noether
	// method's 29 frame pairs per window its embedding convolutions stay
	// within one buffer of lavapipe.
	defaultEvalBatch = 13
	// presetInnerLR is the inner rate per example on the latent offsets.
	presetInnerLR = 1e5
)

// defaultEpochs are the default preset's epochs of svg, svg-more-steps
// and noether.
var defaultEpochs = [3]int{10, 4, 4}

// The clip tasks' default preset (ramp, physics101), sized on lavapipe
// with 2 CPU cores (see the package documentation).
var clipDefaultModel = svg.Config{
	ImageSize: 32, Channels: 3, Family: svg.VGG, Width: 4,
	GDim: 32, ZDim: 8, RNNSize: 64, PredictorLayers: 1, PriorLayers: 1, PosteriorLayers: 1,
	NPast: 2, NFuture: 20, Norm: svg.GroupNorm, Variant: svg.LearnedPrior,
	ForgetBias: true, KLWeight: 1e-4,
}

const (
	clipDefaultBatch      = 8
	clipDefaultEvalBatch  = 13 // divides the 78 test clips
	clipDefaultEpochs     = 2
	clipDefaultLR         = 2e-3
	clipDefaultEmbedLR    = 1e-3
	clipDefaultCurveSteps = 100
)
