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
	"github.com/noether-vk/noether-vk/svg"
	"github.com/noether-vk/noether-vk/svg/pendulum"
)

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

// Config sets up a pixel-pendulum run. It is a value: Run takes it as it
// is and changes nothing in it. Preset gives complete ones.
type Config struct {
	// Preset names the configuration the fields came from, for reports.
	Preset string
	// Model is the SVG; it must be deterministic or SVG-LP with GroupNorm
	// (the trainer carries no BatchNorm running statistics), with frames
	// of Data's size.
	Model svg.Config
	// Data is the pixel pendulum. Its Seed is replaced by Seed; its
	// History and Horizon must be the Model's NPast and NFuture. Training
	// takes every window of the training episodes (Data.Stride apart);
	// evaluation the first window of each test episode.
	Data pendulum.Config

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
	if c.Backend == nil {
		bad("no backend: set Config.Backend to a graph.VulkanBackend or graph.CPUBackend")
	}
	if c.Dir == "" {
		bad("no run folder (Config.Dir)")
	}
	return errors.Join(errs...)
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	return []string{"default", "paper"}
}

// Preset returns the named run configuration (see the package
// documentation): every field but Dir, Backend, Progress, Stop, Sinks,
// Resume and CheckpointEvery set.
func Preset(name string) (Config, error) {
	switch name {
	case "default", "paper":
	default:
		return Config{}, fmt.Errorf("video: unknown preset %q (want one of %s)", name, strings.Join(PresetNames(), ", "))
	}
	model, err := svg.Preset(name)
	if err != nil {
		return Config{}, fmt.Errorf("video: preset %s: %w", name, err)
	}
	data := pendulum.DefaultConfig()
	data.Height, data.Width = model.ImageSize, model.ImageSize
	c := Config{
		Preset: name, Model: model, Data: data,
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
