package video

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/svg"
	"github.com/noether-vk/noether-vk/svg/clips"
	"github.com/noether-vk/noether-vk/svg/pendulum"
)

// The programs' inputs. They are batch-major, [B, T, ...], unlike
// svg.DeclareInputs's time-major ones, because the trainer feeds each
// example as one contiguous row.
const (
	framesInput  = "frames"              // [B, frames, C, S, S]
	actionsInput = "actions"             // [B, T-1, ActionDim]; ActionDim > 0
	priorEps     = svg.PriorEpsInput     // [B, T-1, ZDim]; SVG-LP (svg.Model.Noise draws it)
	posteriorEps = svg.PosteriorEpsInput // [B, T-1, ZDim]; SVG-LP
)

// declareInputs adds a batch of b sequences of the given number of frames
// (all of them, or the context for a rollout) with what else the model
// takes per step (the T-1 actions, SVG-LP's noise) and returns them split
// into steps.
func declareInputs(g *graph.Graph, cfg svg.Config, b, frames int) svg.Inputs {
	x := g.Input(framesInput, b, frames, cfg.Channels, cfg.ImageSize, cfg.ImageSize)
	in := svg.Inputs{Frames: splitSteps(g, x)}
	steps := cfg.Frames() - 1
	if cfg.ActionDim > 0 {
		in.Actions = splitSteps(g, g.Input(actionsInput, b, steps, cfg.ActionDim))
	}
	if cfg.Variant == svg.LearnedPrior {
		in.PriorEps = splitSteps(g, g.Input(priorEps, b, steps, cfg.ZDim))
		in.PosteriorEps = splitSteps(g, g.Input(posteriorEps, b, steps, cfg.ZDim))
	}
	return in
}

// noiseStream is the first PCG stream of the noise of a purpose: 0, 1
// and 2 are the phases of Methods() (a stream per step), evalNoise the
// evaluation (per batch), curveNoise the inner-loss curve. Streams 1 and
// 2 draw the initial parameters.
func noiseStream(purpose int) uint64 { return uint64(purpose+1) << 32 }

// The noise purposes besides the phases.
const (
	evalNoise  = 3
	curveNoise = 4
)

// noise draws the SVG-LP noise of a batch of b sequences from the stream
// (seed, stream): nothing for a deterministic model.
func noise(m *svg.Model, seed, stream uint64, b int) map[string][]float32 {
	return m.Noise(rand.New(rand.NewPCG(seed, stream)), b)
}

// splitSteps splits [B, T, ...] into T nodes [B, ...].
func splitSteps(g *graph.Graph, x *graph.Node) []*graph.Node {
	s := x.Shape()
	ones := make([]int, s[1])
	for i := range ones {
		ones[i] = 1
	}
	parts := g.Split(x, 1, ones...)
	rest := append([]int{s[0]}, s[2:]...)
	for i, p := range parts {
		parts[i] = g.Reshape(p, rest...)
	}
	return parts
}

// source is a task's data as the runs see it: numbered training windows,
// the test windows scored, and a way to draw any of them time-major with
// their actions (none for the clip datasets).
type source struct {
	frames, size int   // frames per window, frame side
	actions      bool  // whether windows carry actions (the pendulum)
	train        int   // training windows, numbered from 0
	test         []int // the test windows evaluated, in order
	batch        func(s clips.Split, idx []int) (frames, actions []float32, err error)
}

// pendulumSource is the pixel pendulum: every window of the training
// episodes trains, the first window of each test episode is scored.
func pendulumSource(d *pendulum.Dataset) *source {
	cfg := d.Config()
	test := make([]int, len(d.Episodes(pendulum.Test)))
	for i := range test {
		test[i] = i * d.WindowsPerEpisode()
	}
	return &source{frames: cfg.Window(), size: cfg.Height, actions: true, train: d.NumWindows(pendulum.Train), test: test,
		batch: func(s clips.Split, idx []int) ([]float32, []float32, error) {
			b, err := d.Batch(s, idx)
			if err != nil {
				return nil, nil, err
			}
			return b.Frames, b.Actions, nil
		}}
}

// clipSource is a dataset of clips (the ramp, Physics 101): every
// training clip trains, every test clip is scored.
func clipSource(d clips.Source) *source {
	h, _ := d.Size()
	test := make([]int, d.Len(clips.Test))
	for i := range test {
		test[i] = i
	}
	return &source{frames: d.Frames(), size: h, train: d.Len(clips.Train), test: test,
		batch: func(s clips.Split, idx []int) ([]float32, []float32, error) {
			b, err := d.Batch(s, idx)
			if err != nil {
				return nil, nil, err
			}
			return b.Frames, nil, nil
		}}
}

// windows are sequences batch-major, as the programs take them.
type windows struct {
	n            int
	frames       []float32 // [n, framesPerWindow, C, S, S]
	actions      []float32 // [n, T-1, 1]; nil without actions
	frameW, actW int       // floats per window
}

// renderChunk bounds the windows drawn at once, so that the time-major
// buffer a batch makes stays small beside the result.
const renderChunk = 64

// render draws the windows idx of a split, keeping the first frames of
// each (all T, or the context) and, with actions, the T-1 the model takes.
func (src *source) render(s clips.Split, idx []int, frames int) (*windows, error) {
	if frames > src.frames {
		return nil, fmt.Errorf("video: %d frames asked of windows of %d", frames, src.frames)
	}
	T := src.frames
	frame := clips.Channels * src.size * src.size
	w := &windows{n: len(idx), frameW: frames * frame}
	w.frames = make([]float32, w.n*w.frameW)
	if src.actions {
		w.actW = T - 1
		w.actions = make([]float32, w.n*w.actW)
	}
	for lo := 0; lo < len(idx); lo += renderChunk {
		part := idx[lo:min(lo+renderChunk, len(idx))]
		fr, act, err := src.batch(s, part)
		if err != nil {
			return nil, err
		}
		B := len(part)
		for j := range part {
			row := lo + j
			for t := range frames {
				copy(w.frames[row*w.frameW+t*frame:][:frame], fr[(t*B+j)*frame:][:frame])
			}
			for t := range w.actW {
				w.actions[row*w.actW+t] = act[t*B+j]
			}
		}
	}
	return w, nil
}

// feeds are the windows' inputs by name.
func (w *windows) feeds() map[string][]float32 {
	f := map[string][]float32{framesInput: w.frames}
	if w.actions != nil {
		f[actionsInput] = w.actions
	}
	return f
}

// widths are the floats per window of each input of feeds.
func (w *windows) widths() map[string]int {
	f := map[string]int{framesInput: w.frameW}
	if w.actions != nil {
		f[actionsInput] = w.actW
	}
	return f
}
