package video

import "fmt"

// MetaStep is the noether method's compiled training step, for
// benchmarks (`noether-vk bench-kernels`, row video_meta_step).
type MetaStep struct {
	// Run takes one step: it uploads the batch, submits, waits, reads
	// back the task loss after the inner step and leaves the embedding
	// updated by Adam.
	Run   func() (float32, error)
	Close func()
	// Shape names the step for reports: preset, adaptation and batch
	// ("default/offsets/b8"), as tools/peer/videostep.py names its own.
	Shape string
	// Dispatches is the kernel dispatches of one step on Vulkan (0 on
	// the CPU executor).
	Dispatches int
}

// NewMetaStep compiles the training step of the noether method as Run
// does (Algorithm 1: the teacher-forced prediction, the Noether loss of
// its frame pairs, the inner step on c.Adapt's sites, the task loss, the
// meta-gradient, clipping and Adam on the embedding) with c.Backend, from
// the freshly initialised SVG and embedding, on the first c.Batch
// training windows. Only the model, data, batch, tailoring and embedding
// settings of c are used.
func NewMetaStep(c Config) (*MetaStep, error) {
	if c.Backend == nil {
		return nil, fmt.Errorf("video: NewMetaStep: no backend: set Config.Backend")
	}
	e, err := c.newExperiment()
	if err != nil {
		return nil, fmt.Errorf("video: NewMetaStep: %w", err)
	}
	if c.Batch > e.train.n {
		return nil, fmt.Errorf("video: NewMetaStep: batch %d is larger than the data: %d training windows", c.Batch, e.train.n)
	}
	exe, err := e.noetherProgram()
	if err != nil {
		return nil, fmt.Errorf("video: NewMetaStep: %w", err)
	}
	feeds := map[string][]float32{
		framesInput:  e.train.frames[:c.Batch*e.train.frameW],
		actionsInput: e.train.actions[:c.Batch*e.train.actW],
	}
	dispatches := 0
	if d, ok := exe.(interface{ Dispatches() int }); ok {
		dispatches = d.Dispatches()
	}
	return &MetaStep{
		Run: func() (float32, error) {
			out, err := exe.Run(feeds)
			if err != nil {
				return 0, err
			}
			return out[0][0], nil
		},
		Close:      exe.Close,
		Shape:      fmt.Sprintf("%s/%s/b%d", c.Preset, c.Adapt, c.Batch),
		Dispatches: dispatches,
	}, nil
}
