package physics

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
)

// MetaStep is one compiled meta-training step of the noether method, for
// benchmarks.
type MetaStep struct {
	Run        func() error // one step: upload the batch, submit, wait, read the loss
	Dispatches int
	Close      func()
}

// NewMetaStep compiles the noether method's meta-training step on the
// ideal pendulum's first batch examples: the MLP 2-200-200-2 from its
// initialisation, the default neural embedding, one inner SGD step
// adapting adapt ("cn" or "all"), the forward-over-reverse
// meta-gradient and Adam on the model and the embedding.
func NewMetaStep(v *kernels.Vulkan, adapt string, batch int) (*MetaStep, error) {
	d, err := Pendulum().Generate(GenOptions{})
	if err != nil {
		return nil, err
	}
	c := Config{Method: Noether, Adapt: adapt, Inner: noether.Tailoring{Steps: 1, LR: 0.1},
		MetaLR: 1e-3, EmbedLR: 1e-3, EmbedClip: 1000, WeightDecay: 1e-4}
	c.Backend = graph.VulkanBackend{Kernels: v}
	// newExperiment clones the starting parameters and fills them in, so
	// it needs a map, not nil.
	e, err := c.newExperiment(d, map[string][]float32{})
	if err != nil {
		return nil, err
	}
	if n := len(e.x) / stateDim; batch > n {
		return nil, fmt.Errorf("physics: meta-step batch %d: the pendulum has %d training examples", batch, n)
	}
	for k, val := range nn.Init(rand.New(rand.NewPCG(1, 1)), e.model.Params()) {
		e.params[k] = val
	}
	ad, err := e.adaptation()
	if err != nil {
		return nil, err
	}
	exe, _, err := e.metaProgram(ad, batch)
	if err != nil {
		return nil, err
	}
	feeds := map[string][]float32{"x": e.x[:stateDim*batch], "y": e.dx[:stateDim*batch]}
	return &MetaStep{
		Run: func() error {
			_, err := exe.Run(feeds)
			return err
		},
		Dispatches: exe.(*graph.VulkanExec).Dispatches(),
		Close:      exe.Close,
	}, nil
}
