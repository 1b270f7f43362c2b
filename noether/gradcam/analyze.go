package gradcam

import (
	"fmt"
	"io"
	"slices"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/svg/clips"
	"github.com/noether-vk/noether-vk/svg/pendulum"
	"github.com/noether-vk/noether-vk/svg/ramp"
)

// DroppedPairs is how many leading pairs of each sequence the PCA leaves
// out, as the reference does: (0, 1) and (1, 2).
const DroppedPairs = 2

// DefaultComponents is the paper's number of components.
const DefaultComponents = 6

// Options choose what Analyze maps.
type Options struct {
	// Sequences are the test sequences mapped (indices of test episodes;
	// default 0, 1, 2).
	Sequences []int
	// Steps are the pairs (by the index of their first frame) drawn in
	// the figure (default: three spread over the sequence, from the first
	// pair the PCA fits on); maps are computed for every pair.
	Steps []int
	// Components is K (default DefaultComponents).
	Components int
	Backend    graph.Backend
	// Progress receives a line per stage (nil: none).
	Progress io.Writer
}

// Result is a run's Grad-CAM + PCA: the PCA fitted on the test set, and
// the maps of every pair of the chosen sequences.
type Result struct {
	PCA *PCA
	// Sequences, Steps: as asked (or defaulted); Pairs is T, the pairs
	// per sequence, and Size the frames' side.
	Sequences, Steps []int
	Pairs, Size      int
	// FitSequences is how many test sequences the PCA was fitted on
	// (every one), with Pairs - DroppedPairs pairs each.
	FitSequences int
	// Frames is [N, T, 3, Size, Size]: the first frame of each pair.
	Frames []float32
	// Maps holds the N*T pairs in sequence-major order.
	Maps *Maps
}

// testSet is a run's test sequences as video's evaluation scores them:
// the first window of each test episode of the pendulum, each test clip
// of the ramp.
type testSet struct {
	count, frames, size int
	// render draws sequence i's frames into dst, [frames, 3, size, size].
	render func(i int, dst []float32) error
}

// sequences are the run's counts of test sequences and their frames,
// from its settings alone.
func (r *Run) sequences() (count, frames int) {
	if r.Task == RampTask {
		return r.Ramp.TestSequences, r.Ramp.Frames()
	}
	return r.Data.TestEpisodes, r.Data.Window()
}

// openTest makes the run's data and returns its test sequences.
func (r *Run) openTest() (*testSet, error) {
	count, frames := r.sequences()
	if r.Task == RampTask {
		d, err := ramp.New(r.Ramp)
		if err != nil {
			return nil, fmt.Errorf("gradcam: the run's data: %w", err)
		}
		return &testSet{count: count, frames: frames, size: r.Ramp.Height, render: func(i int, dst []float32) error {
			b, err := d.Batch(clips.Test, []int{i})
			if err != nil {
				return err
			}
			copy(dst, b.Frames) // [T, 1, 3, H, W] is the clip's frames in order
			return nil
		}}, nil
	}
	d, err := pendulum.New(r.Data)
	if err != nil {
		return nil, fmt.Errorf("gradcam: the run's data: %w", err)
	}
	cfg := d.Config()
	all := d.Episodes(pendulum.Test)
	frame := clips.Channels * cfg.Height * cfg.Width
	return &testSet{count: count, frames: frames, size: cfg.Height, render: func(i int, dst []float32) error {
		for t := range frames {
			if err := pendulum.RenderInto(dst[t*frame:(t+1)*frame], all[i].Scene(t), cfg.Height, cfg.Width); err != nil {
				return err
			}
		}
		return nil
	}}, nil
}

// testPairs draws the given test sequences and returns their pairs of
// consecutive frames from pair index from on, stacked on channels:
// [len(seqs) * (T - 1 - from), 6, S, S].
func testPairs(d *testSet, seqs []int, from int) ([]float32, error) {
	frame := clips.Channels * d.size * d.size
	seq := make([]float32, d.frames*frame)
	var out []float32
	for _, i := range seqs {
		if err := d.render(i, seq); err != nil {
			return nil, fmt.Errorf("gradcam: %w", err)
		}
		for t := from; t+1 < d.frames; t++ {
			out = append(out, seq[t*frame:(t+2)*frame]...)
		}
	}
	return out, nil
}

// fitChunk is how many test sequences are rendered and embedded at once.
const fitChunk = 16

// fitEmbeddings embeds the pairs the PCA is fitted on: from DroppedPairs
// on, of every test sequence, [sequences * (T - DroppedPairs), dim].
func fitEmbeddings(a *Analyzer, d *testSet) (emb []float32, dim int, err error) {
	e, err := a.Embedder()
	if err != nil {
		return nil, 0, err
	}
	defer e.Close()
	per := d.frames - 1 - DroppedPairs
	for lo := 0; lo < d.count; lo += fitChunk {
		eps := make([]int, min(fitChunk, d.count-lo))
		for i := range eps {
			eps[i] = lo + i
		}
		p, err := testPairs(d, eps, DroppedPairs)
		if err != nil {
			return nil, 0, err
		}
		part, err := e.Embed(p, len(eps)*per)
		if err != nil {
			return nil, 0, err
		}
		emb = append(emb, part...)
	}
	return emb, e.Dim(), nil
}

// resolve fills o's defaults for r and checks the sequences, steps and
// components against r's data.
func (r *Run) resolve(o Options) (Options, error) {
	seqs, frames := r.sequences()
	pairs := frames - 1
	if pairs <= DroppedPairs {
		return o, fmt.Errorf("gradcam: sequences of %d frames leave no pair after the first %d", pairs+1, DroppedPairs)
	}
	if o.Sequences == nil {
		o.Sequences = []int{0, 1, 2}[:min(3, seqs)]
	}
	if o.Steps == nil {
		o.Steps = slices.Compact([]int{DroppedPairs, (DroppedPairs + pairs - 1) / 2, pairs - 1})
	}
	if o.Components == 0 {
		o.Components = DefaultComponents
	}
	switch {
	case len(o.Sequences) == 0 || len(o.Steps) == 0:
		return o, fmt.Errorf("gradcam: %d sequences and %d steps to map: want at least one of each", len(o.Sequences), len(o.Steps))
	case o.Components < 1:
		return o, fmt.Errorf("gradcam: %d components: want at least 1", o.Components)
	}
	for _, q := range o.Sequences {
		if q < 0 || q >= seqs {
			return o, fmt.Errorf("gradcam: test sequence %d: the run has %d (0 to %d)", q, seqs, seqs-1)
		}
	}
	for _, s := range o.Steps {
		if s < 0 || s >= pairs {
			return o, fmt.Errorf("gradcam: step %d: the sequences have pairs 0 to %d", s, pairs-1)
		}
	}
	return o, nil
}

// Check reports what Analyze would refuse in o, before any device work.
func (r *Run) Check(o Options) error {
	_, err := r.resolve(o)
	return err
}

// Analyze fits the PCA on the embeddings of the ground-truth pairs of
// every test sequence (the first window of each test episode, as video's
// evaluation uses), pairs DroppedPairs on, and computes the Grad-CAM
// maps of every pair of the chosen sequences, all on o.Backend.
func (r *Run) Analyze(o Options) (*Result, error) {
	o, err := r.resolve(o)
	if err != nil {
		return nil, err
	}
	d, err := r.openTest()
	if err != nil {
		return nil, err
	}
	pairs := d.frames - 1
	res := &Result{Sequences: o.Sequences, Steps: o.Steps, Pairs: pairs, Size: d.size, FitSequences: d.count}
	k := o.Components
	a := &Analyzer{Embedding: r.Embedding, Target: TargetLayer, Params: r.Params, Channels: clips.Channels, Size: d.size, Backend: o.Backend}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "gradcam: "+format+"\n", args...)
		}
	}
	progress("embedding pairs %d to %d of %d test sequences on %s", DroppedPairs, pairs-1, d.count, o.Backend.Name())
	emb, dim, err := fitEmbeddings(a, d)
	if err != nil {
		return nil, err
	}
	n := len(emb) / dim
	progress("PCA of %d embeddings of %d dimensions, %d components", n, dim, k)
	if res.PCA, err = FitPCA(o.Backend, emb, n, dim, k); err != nil {
		return nil, err
	}
	progress("Grad-CAM of the %d pairs of test sequences %v", pairs, res.Sequences)
	p, err := testPairs(d, res.Sequences, 0)
	if err != nil {
		return nil, err
	}
	np := len(res.Sequences) * pairs
	if res.Maps, err = a.Maps(res.PCA, p, np); err != nil {
		return nil, err
	}
	frame := clips.Channels * d.size * d.size
	pl := 2 * frame
	res.Frames = make([]float32, np*frame)
	for i := range np {
		copy(res.Frames[i*frame:(i+1)*frame], p[i*pl:])
	}
	return res, nil
}
