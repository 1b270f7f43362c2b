package video

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/metrics"
	"github.com/noether-vk/noether-vk/svg"
	"github.com/noether-vk/noether-vk/svg/clips"
	"github.com/noether-vk/noether-vk/svg/pendulum"
	"github.com/noether-vk/noether-vk/svg/phys101"
	"github.com/noether-vk/noether-vk/svg/ramp"
)

// Task is a video prediction task.
type Task string

const (
	// PixelPendulum is the paper's Figure 3: the action-conditioned
	// pendulum of package svg/pendulum.
	PixelPendulum Task = "pixel-pendulum"
	// Ramp is the built-in Physics 101-style ramp scenes of package
	// svg/ramp, the Figure 4 analog that runs anywhere.
	Ramp Task = "ramp"
	// Physics101 is Physics 101's 20-degree ramp clips (package
	// svg/phys101), which the user supplies: the paper's Figure 4.
	Physics101 Task = "physics101"
)

// Tasks lists every Task.
func Tasks() []Task { return []Task{PixelPendulum, Ramp, Physics101} }

// ParseTask reads a Task.
func ParseTask(s string) (Task, error) {
	for _, t := range Tasks() {
		if Task(s) == t {
			return t, nil
		}
	}
	return "", fmt.Errorf("video: task %q: want pixel-pendulum, ramp or physics101", s)
}

// Method is a curve of the paper's Figure 3.
type Method string

const (
	// SVG is the base model: SVG trained with teacher forcing.
	SVG Method = "svg"
	// SVGMoreSteps is the control: SVG trained on for MoreEpochs epochs,
	// as many as the Noether Network's meta-training takes.
	SVGMoreSteps Method = "svg-more-steps"
	// Noether is Algorithm 1 from the trained SVG, whose weights stay
	// fixed: only the embedding g_phi trains, through the inner step; the
	// prediction is tailored at test time.
	Noether Method = "noether"
)

// Methods lists every Method.
func Methods() []Method { return []Method{SVG, SVGMoreSteps, Noether} }

// ParseMethod reads a Method.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods() {
		if Method(s) == m {
			return m, nil
		}
	}
	return "", fmt.Errorf("video: method %q: want svg, svg-more-steps or noether", s)
}

// The tailored sites (Config.Adapt).
const (
	AdaptOffsets = "offsets" // svg.Model.OffsetSites: the paper's choice for the pendulum
	AdaptCN      = "cn"      // svg.Model.CNSites
)

// Config sets up a video run. It is a value: Run takes it as it is and
// changes nothing in it. Preset gives complete ones.
type Config struct {
	// Task chooses the data: Data, Ramp or Phys101.
	Task Task
	// Preset names the configuration the fields came from, for reports.
	Preset string
	// Model is the SVG; it must be deterministic or SVG-LP with GroupNorm
	// (the trainer carries no BatchNorm running statistics), with frames
	// of the data's size and its NPast and NFuture the data's history and
	// horizon.
	Model svg.Config
	// Data is the pixel pendulum (Task PixelPendulum). Its Seed is
	// replaced by Seed. Training takes every window of the training
	// episodes (Data.Stride apart); evaluation the first window of each
	// test episode.
	Data pendulum.Config
	// Ramp is the built-in ramp scenes (Task Ramp); its Seed is kept (the
	// data stays the same across seeds of the model, as Physics 101's).
	// Every training clip trains, every test clip is scored.
	Ramp ramp.Config
	// Phys101 is Physics 101 (Task Physics101): its Root must be set.
	// Every training clip trains, every test clip is scored.
	Phys101 phys101.Config
	// NoetherFromScratch makes the noether method train the SVG and the
	// embedding together from the SVG's initial parameters, as the Noether
	// code's Physics 101 run (the outer Adam over everything but the
	// tailored sites, Figure 4): svg is then the same training without the
	// inner step. Unset, noether starts from the trained svg and trains
	// the embedding alone (the pixel pendulum, Figure 3).
	NoetherFromScratch bool
	// LPIPS, when set, is a weight file (metrics.LoadLPIPSWeights) with
	// which every predicted frame is also scored by LPIPS.
	LPIPS string
	// InnerCurveSteps and InnerCurveLR set the Figure 6 analog: from the
	// trained noether model, the inner loss is minimised with Adam at rate
	// InnerCurveLR for InnerCurveSteps steps on the first EvalBatch test
	// windows, and the inner and outer losses are recorded at every step
	// (0: not drawn).
	InnerCurveSteps int
	InnerCurveLR    float32

	Batch         int     // training windows per step
	EvalBatch     int     // windows per evaluation run (the last run is padded)
	SVGEpochs     int     // the base's epochs (the paper's 50)
	MoreEpochs    int     // svg-more-steps' epochs on top (20)
	NoetherEpochs int     // Algorithm 1's epochs (20)
	LR            float32 // Adam on the SVG, in svg and svg-more-steps
	EmbedLR       float32 // Adam on the embedding
	EmbedClip     float32 // gradient-norm clip on the embedding (1000)
	EmbedDim      int     // the embedding's size (64)

	// Adapt is AdaptOffsets or AdaptCN.
	Adapt string
	// Inner is the tailoring: steps, rate (per example: the reference's
	// rate on its batch mean is this times the batch), optimiser and
	// meta-gradient.
	Inner noether.Tailoring
	Form  noether.Form // the Noether loss, 2a or 2b (the reference's)

	// Strips is the number of test episodes drawn as strips.
	Strips int

	Seed            uint64
	CheckpointEvery time.Duration // wall time between checkpoints (0: 10 s)
	Dir             string        // the run folder
	Resume          bool          // continue each phase from its checkpoint
	// ChangeRates lets a resumed phase continue under other learning
	// rates than its checkpoint's (Phases lists them as Changeable): lr in
	// svg and svg-more-steps, embedding-lr and inner-lr in noether; the
	// SVG's rate stays fixed for the noether phase, which starts from it.
	ChangeRates bool
	// Stop, when closed, ends the run after the current training step
	// with a checkpoint to resume from (noether.TrainConfig.Stop).
	Stop     <-chan struct{}
	Progress io.Writer // progress bars and memory plans (nil: none)
	// Sinks receive every training event besides the run folder's own.
	Sinks []noether.Sink
	// Backend loads the programs: graph.VulkanBackend or graph.CPUBackend.
	Backend graph.Backend
}

// Check tells whether c can run methods, naming the first problem
// found in each part: the methods, the model, the data, the schedule.
func (c Config) Check(methods ...Method) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("video: "+format, args...)) }
	if len(methods) == 0 {
		bad("no method to run")
	}
	seen := map[Method]bool{}
	for _, m := range methods {
		if _, err := ParseMethod(string(m)); err != nil {
			errs = append(errs, err)
		} else if seen[m] {
			bad("method %s is named twice", m)
		}
		seen[m] = true
	}
	if err := c.Model.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("video: model: %w", err))
	}
	if c.Model.Norm != svg.GroupNorm {
		bad("model norm %v: the trainer carries no BatchNorm running statistics; use groupnorm", c.Model.Norm)
	}
	if err := CheckEmbedSize(c.Model.ImageSize); err != nil && seen[Noether] {
		errs = append(errs, err)
	}
	switch c.Task {
	case PixelPendulum:
		errs = append(errs, c.checkPendulum()...)
	case Ramp, Physics101:
		errs = append(errs, c.checkClips(seen)...)
	default:
		_, err := ParseTask(string(c.Task))
		errs = append(errs, err)
	}
	counts := []struct {
		name   string
		v, min int
	}{{"batch", c.Batch, 1}, {"evaluation batch", c.EvalBatch, 1}, {"svg epochs", c.SVGEpochs, 0},
		{"svg-more-steps epochs", c.MoreEpochs, 0}, {"noether epochs", c.NoetherEpochs, 0}, {"strips", c.Strips, 0}}
	if seen[Noether] {
		counts = append(counts, struct {
			name   string
			v, min int
		}{"embedding size", c.EmbedDim, 1}, struct {
			name   string
			v, min int
		}{"inner steps", c.Inner.Steps, 1})
	}
	for _, n := range counts {
		if n.v < n.min {
			bad("%s %d: want at least %d", n.name, n.v, n.min)
		}
	}
	for _, r := range []struct {
		name string
		v    float32
	}{{"learning rate", c.LR}, {"embedding learning rate", c.EmbedLR}, {"embedding clip", c.EmbedClip}, {"inner learning rate", c.Inner.LR}} {
		if v := float64(r.v); math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			bad("%s %v: want a finite value, 0 or more", r.name, v)
		}
	}
	if c.Adapt != AdaptOffsets && c.Adapt != AdaptCN {
		bad("adaptation %q: want %s (the predictor's latent offsets) or %s (the CN sites)", c.Adapt, AdaptOffsets, AdaptCN)
	}
	if c.Inner.Opt == noether.InnerAdam && c.Inner.MetaGrad == noether.ForwardOverReverse && seen[Noether] {
		bad("inner Adam needs the first-order meta-gradient: forward over reverse is for SGD inner steps (and reverse over reverse is not available for the SVG's kernels)")
	}
	if c.Inner.MetaGrad == noether.Reverse && seen[Noether] {
		bad("the reverse-over-reverse meta-gradient is not available for the SVG's norm and LSTM kernels: use forward-over-reverse or first-order")
	}
	if c.Form != noether.FromStart && c.Form != noether.Consecutive {
		bad("Noether loss form %v: want 2a or 2b", c.Form)
	}
	if c.LPIPS != "" && c.Model.ImageSize < metrics.LPIPSMinSize {
		bad("LPIPS scores frames of at least %d px (AlexNet's second pooling), not %d", metrics.LPIPSMinSize, c.Model.ImageSize)
	}
	if c.InnerCurveSteps < 0 {
		bad("inner-curve steps %d: want 0 (none) or more", c.InnerCurveSteps)
	}
	if v := float64(c.InnerCurveLR); c.InnerCurveSteps > 0 && (math.IsNaN(v) || math.IsInf(v, 0) || v <= 0) {
		bad("inner-curve learning rate %v: want a finite rate above 0", v)
	}
	if c.InnerCurveSteps > 0 && !seen[Noether] {
		bad("the inner-loss curve (Figure 6) needs the noether method")
	}
	if c.Backend == nil {
		bad("no backend: set Config.Backend to a graph.VulkanBackend or graph.CPUBackend")
	}
	if c.Dir == "" {
		bad("no run folder (Config.Dir)")
	}
	return errors.Join(errs...)
}

// checkPendulum checks the pixel pendulum's data against the model and
// the batch.
func (c Config) checkPendulum() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("video: "+format, args...)) }
	d := c.Data
	switch {
	case d.Height != c.Model.ImageSize || d.Width != c.Model.ImageSize:
		bad("frames of %dx%d for a model of %dx%d", d.Height, d.Width, c.Model.ImageSize, c.Model.ImageSize)
	case c.Model.Channels != pendulum.Channels:
		bad("a model of %d channels for RGB frames", c.Model.Channels)
	case d.History != c.Model.NPast || d.Horizon != c.Model.NFuture:
		bad("windows of %d history and %d predicted frames for a model of %d and %d", d.History, d.Horizon, c.Model.NPast, c.Model.NFuture)
	case c.Model.ActionDim != 1:
		bad("action size %d: the pendulum's actions are one torque", c.Model.ActionDim)
	case d.History+d.Horizon > d.EpisodeLen:
		bad("history %d + horizon %d frames is longer than an episode (%d frames)", d.History, d.Horizon, d.EpisodeLen)
	}
	if d.EpisodeLen >= 1 && d.Stride >= 1 && d.History+d.Horizon <= d.EpisodeLen {
		windows := d.TrainEpisodes * ((d.EpisodeLen-d.History-d.Horizon)/d.Stride + 1)
		if c.Batch > windows {
			bad("batch %d is larger than the data: %d training windows (%d episodes, stride %d)", c.Batch, windows, d.TrainEpisodes, d.Stride)
		}
	}
	return errs
}

// checkClips checks a clip task's data settings against the model, the
// batch and the methods. The data itself is read by Run.
func (c Config) checkClips(seen map[Method]bool) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("video: "+format, args...)) }
	if c.Model.ActionDim != 0 {
		bad("action size %d: the %s clips have no actions (want 0)", c.Model.ActionDim, c.Task)
	}
	if c.Model.Channels != clips.Channels {
		bad("a model of %d channels for RGB frames", c.Model.Channels)
	}
	if seen[SVGMoreSteps] && c.NoetherFromScratch {
		bad("svg-more-steps continues the svg that noether starts from; with noether trained from scratch (the %s setting) compare svg and noether", c.Task)
	}
	var size, frames, train int
	switch c.Task {
	case Ramp:
		r := c.Ramp
		if r.Height != r.Width {
			bad("ramp frames of %dx%d: the SVG takes square frames", r.Height, r.Width)
		}
		size, frames, train = r.Height, r.Frames(), r.TrainSequences
		if r.History != c.Model.NPast || r.Horizon != c.Model.NFuture {
			bad("ramp clips of %d given and %d predicted frames for a model of %d and %d", r.History, r.Horizon, c.Model.NPast, c.Model.NFuture)
		}
	case Physics101:
		p := c.Phys101
		if p.Root == "" {
			bad("no Physics 101 folder (Phys101.Root; --data DIR): the folder Physics 101 was extracted into")
		}
		size, frames, train = p.Size, p.Frames, p.TrainClips
	}
	if size != c.Model.ImageSize {
		bad("%s frames of %d px for a model of %d px", c.Task, size, c.Model.ImageSize)
	}
	if frames != c.Model.Frames() {
		bad("%s clips of %d frames for a model of %d given + %d predicted", c.Task, frames, c.Model.NPast, c.Model.NFuture)
	}
	if train > 0 && c.Batch > train {
		bad("batch %d is larger than the data: %d training clips", c.Batch, train)
	}
	return errs
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	return []string{"default", "paper"}
}

// Preset returns the named run configuration of a task (see the package
// documentation): every field but Dir, Backend, Progress, Stop, Sinks,
// Resume, CheckpointEvery and LPIPS set, and for Physics101 the data's
// Root.
func Preset(t Task, name string) (Config, error) {
	switch name {
	case "default", "paper":
	default:
		return Config{}, fmt.Errorf("video: unknown preset %q (want one of %s)", name, strings.Join(PresetNames(), ", "))
	}
	switch t {
	case PixelPendulum:
		return pendulumPreset(name)
	case Ramp, Physics101:
		return clipPreset(t, name)
	}
	_, err := ParseTask(string(t))
	return Config{}, err
}

// pendulumPreset is the pixel pendulum's preset name.
func pendulumPreset(name string) (Config, error) {
	model, err := svg.Preset(name)
	if err != nil {
		return Config{}, fmt.Errorf("video: preset %s: %w", name, err)
	}
	data := pendulum.DefaultConfig()
	data.Height, data.Width = model.ImageSize, model.ImageSize
	c := Config{
		Task: PixelPendulum, Preset: name, Model: model, Data: data,
		Batch: 16, EvalBatch: 32, SVGEpochs: 50, MoreEpochs: 20, NoetherEpochs: 20,
		LR: 2e-3, EmbedLR: 1e-4, EmbedClip: 1000, EmbedDim: DefaultEmbedDim,
		Adapt: AdaptOffsets, Inner: noether.Tailoring{Steps: 1, LR: presetInnerLR}, Form: noether.Consecutive,
		Strips: 4, Seed: 1,
	}
	if name == "paper" {
		// The trainer carries no running statistics: GroupNorm(1, C), as
		// the Noether code's Physics 101 run, in place of BatchNorm.
		c.Model.Norm = svg.GroupNorm
		return c, nil
	}
	c.Data.Stride = defaultStride
	c.Batch, c.EvalBatch = defaultBatch, defaultEvalBatch
	c.SVGEpochs, c.MoreEpochs, c.NoetherEpochs = defaultEpochs[0], defaultEpochs[1], defaultEpochs[2]
	c.EmbedLR = 1e-3
	return c, nil
}

// clipPreset is the ramp's or Physics 101's preset name: paper is the
// Noether code's Physics 101 run; default the same training at 64 px
// with a narrow SVG and a short schedule (see presets.go).
func clipPreset(t Task, name string) (Config, error) {
	model, err := svg.Preset("phys101")
	if err != nil {
		return Config{}, fmt.Errorf("video: preset %s: %w", name, err)
	}
	c := Config{
		Task: t, Preset: name, Model: model, NoetherFromScratch: true,
		Batch: 2, EvalBatch: 6, SVGEpochs: 400, NoetherEpochs: 400,
		LR: 1e-4, EmbedLR: 1e-4, EmbedClip: 1000, EmbedDim: DefaultEmbedDim,
		// The reference's SGD step of 1e-4 on the batch mean is 1e-4/B per
		// example at its batch of 2.
		Adapt: AdaptCN, Inner: noether.Tailoring{Steps: 1, LR: 1e-4 / 2}, Form: noether.Consecutive,
		InnerCurveSteps: 500, InnerCurveLR: 1e-4,
		Strips: 4, Seed: 1,
	}
	if name == "default" {
		c.Model = clipDefaultModel
		c.Batch, c.EvalBatch = clipDefaultBatch, clipDefaultEvalBatch
		c.SVGEpochs, c.NoetherEpochs = clipDefaultEpochs, clipDefaultEpochs
		c.LR, c.EmbedLR = clipDefaultLR, clipDefaultEmbedLR
		c.InnerCurveSteps = clipDefaultCurveSteps
	}
	c.Ramp = ramp.DefaultConfig()
	c.Ramp.Height, c.Ramp.Width = c.Model.ImageSize, c.Model.ImageSize
	c.Phys101 = phys101.DefaultConfig("")
	// The shorter side: 1080, the reference's crop, on the Kinect's
	// 1920x1080 frames, and a clip of any other size is cropped alike.
	c.Phys101.Crop = 0
	c.Phys101.Size, c.Phys101.Frames = c.Model.ImageSize, c.Model.Frames()
	return c, nil
}
