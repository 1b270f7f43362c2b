package video

import (
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/svg"
	"github.com/noether-vk/noether-vk/svg/pendulum"
)

// The programs' inputs. They are batch-major, [B, T, ...], unlike
// svg.DeclareInputs's time-major ones, because the trainer feeds each
// example as one contiguous row.
const (
	framesInput  = "frames"  // [B, frames, C, S, S]
	actionsInput = "actions" // [B, T-1, ActionDim]
)

// declareInputs adds a batch of b sequences of the given number of frames
// (all of them, or the context for a rollout) with their T-1 actions and
// returns them split into steps.
func declareInputs(g *graph.Graph, cfg svg.Config, b, frames int) svg.Inputs {
	x := g.Input(framesInput, b, frames, cfg.Channels, cfg.ImageSize, cfg.ImageSize)
	a := g.Input(actionsInput, b, cfg.Frames()-1, cfg.ActionDim)
	return svg.Inputs{Frames: splitSteps(g, x), Actions: splitSteps(g, a)}
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

// windows are sequences batch-major, as the programs take them.
type windows struct {
	n               int
	frames          []float32 // [n, framesPerWindow, C, S, S]
	actions         []float32 // [n, T-1, 1]
	frameW, actW    int       // floats per window
	framesPerWindow int
}

// renderChunk bounds the windows rendered at once, so that the
// time-major buffer pendulum.Batch makes stays small beside the result.
const renderChunk = 64

// render draws the windows idx of a split, keeping the first frames of
// each (all T, or the context) and the T-1 actions the model takes.
func render(d *pendulum.Dataset, s pendulum.Split, idx []int, frames int) (*windows, error) {
	cfg := d.Config()
	frame := pendulum.Channels * cfg.Height * cfg.Width
	T := cfg.Window()
	w := &windows{n: len(idx), framesPerWindow: frames, frameW: frames * frame, actW: T - 1}
	w.frames = make([]float32, w.n*w.frameW)
	w.actions = make([]float32, w.n*w.actW)
	for lo := 0; lo < len(idx); lo += renderChunk {
		part := idx[lo:min(lo+renderChunk, len(idx))]
		b, err := d.Batch(s, part)
		if err != nil {
			return nil, err
		}
		for j := range part {
			row := lo + j
			for t := range frames {
				copy(w.frames[row*w.frameW+t*frame:][:frame], b.Frames[(t*b.B+j)*frame:][:frame])
			}
			for t := range T - 1 {
				w.actions[row*w.actW+t] = b.Actions[t*b.B+j]
			}
		}
	}
	return w, nil
}
