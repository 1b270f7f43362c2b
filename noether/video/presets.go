package video

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
