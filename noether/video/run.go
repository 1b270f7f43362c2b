package video

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/svg"
	"github.com/noether-vk/noether-vk/svg/clips"
	"github.com/noether-vk/noether-vk/svg/pendulum"
	"github.com/noether-vk/noether-vk/svg/phys101"
	"github.com/noether-vk/noether-vk/svg/ramp"
)

// experiment is one run's shared state: the configuration, the model,
// the data, and the current value of every parameter by name.
type experiment struct {
	cfg    Config
	model  *svg.Model
	embed  noether.Model
	data   *source
	train  *windows
	params map[string][]float32
	// svgOptim is the Adam state the svg phase ended with, which
	// svg-more-steps continues.
	svgStep   int
	svgMoment map[string][]float32
	// curves are the phases' mean training losses per epoch.
	curves map[Method][]float64
}

// Run checks the configuration, trains the base SVG (phase svg), then
// each method from it (svg-more-steps and noether have phases of their
// own; with NoetherFromScratch noether starts from svg's initial
// parameters instead, and svg trains only when a method needs it),
// evaluates each on the test windows, draws the inner-loss curve
// (InnerCurveSteps) and writes the plots and strips into the run folder
// (WriteOutputs): one result per method, in order. A stop (Config.Stop) ends the run at once with an error
// wrapping noether.ErrStopped and the results so far; so does a method
// that fails (its training diverged, say), after the figures of the
// methods before it are drawn.
func (c Config) Run(methods ...Method) ([]*Result, error) {
	if err := c.Check(methods...); err != nil {
		return nil, err
	}
	e, err := c.newExperiment()
	if err != nil {
		return nil, err
	}
	initial := maps.Clone(e.params)
	var svgSeconds float64
	if c.needsSVG(methods) {
		began := time.Now()
		if err := e.trainSVG(SVG, c.SVGEpochs); err != nil {
			return nil, fmt.Errorf("video: svg: %w", err)
		}
		svgSeconds = time.Since(began).Seconds()
	}
	svgParams := maps.Clone(e.params)
	var out []*Result
	var curve *InnerCurve
	// A method that fails (diverges) ends the run, but the figures of the
	// methods before it are drawn; a stopped run draws nothing yet.
	failed := func(m Method, err error) ([]*Result, error) {
		err = fmt.Errorf("video: %s: %w", m, err)
		if errors.Is(err, noether.ErrStopped) {
			return out, err
		}
		return out, errors.Join(err, e.writeOutputs(out, curve))
	}
	for _, m := range methods {
		began := time.Now()
		e.params = maps.Clone(svgParams)
		if m == Noether && c.NoetherFromScratch {
			e.params = maps.Clone(initial)
		}
		res := &Result{Method: m}
		switch m {
		case SVGMoreSteps:
			err = e.trainSVG(SVGMoreSteps, c.MoreEpochs)
		case Noether:
			err = e.trainNoether()
		}
		if err != nil {
			return failed(m, err)
		}
		res.LossCurve = e.curves[m]
		if err := e.evaluate(res); err != nil {
			return failed(m, err)
		}
		res.Seconds = time.Since(began).Seconds()
		if m == SVG {
			res.Seconds += svgSeconds
		}
		out = append(out, res)
		if m == Noether && c.InnerCurveSteps > 0 {
			if curve, err = e.innerCurve(); err != nil {
				return failed(m, fmt.Errorf("inner-loss curve: %w", err))
			}
		}
	}
	return out, e.writeOutputs(out, curve)
}

// needsSVG says whether the methods need the svg phase: svg and
// svg-more-steps do, and noether unless it trains from scratch.
func (c Config) needsSVG(methods []Method) bool {
	for _, m := range methods {
		if m != Noether || !c.NoetherFromScratch {
			return true
		}
	}
	return false
}

// newExperiment makes the data and the model and draws the initial
// parameters: the SVG's from (Seed, 1), the embedding's from (Seed, 2).
func (c Config) newExperiment() (*experiment, error) {
	m, err := svg.New(c.Model)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	d, err := c.openData()
	if err != nil {
		return nil, err
	}
	idx := make([]int, d.train)
	for i := range idx {
		idx[i] = i
	}
	train, err := d.render(clips.Train, idx, c.Model.Frames())
	if err != nil {
		return nil, fmt.Errorf("video: training windows: %w", err)
	}
	e := &experiment{cfg: c, model: m, data: d, train: train, curves: map[Method][]float64{},
		embed:  Embedding(c.Model.Channels, c.Model.ImageSize, c.EmbedDim),
		params: m.Init(rand.New(rand.NewPCG(c.Seed, 1)))}
	if c.EmbedDim > 0 && CheckEmbedSize(c.Model.ImageSize) == nil {
		maps.Copy(e.params, nn.Init(rand.New(rand.NewPCG(c.Seed, 2)), e.embed.Params()))
	}
	return e, nil
}

// dataConfig is Data with the run's seed.
func (c Config) dataConfig() pendulum.Config {
	d := c.Data
	d.Seed = c.Seed
	return d
}

// openData makes or reads the task's data.
func (c Config) openData() (*source, error) {
	switch c.Task {
	case Ramp:
		d, err := ramp.New(c.Ramp)
		if err != nil {
			return nil, fmt.Errorf("video: %w", err)
		}
		return clipSource(d), nil
	case Physics101:
		d, err := phys101.New(c.Phys101)
		if err != nil {
			return nil, fmt.Errorf("video: %w", err)
		}
		if c.Progress != nil {
			fmt.Fprintf(c.Progress, "physics101: %v\n", d.Stats())
		}
		return clipSource(d), nil
	}
	d, err := pendulum.New(c.dataConfig())
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	return pendulumSource(d), nil
}

// adaptation is the configured tailoring target.
func (e *experiment) adaptation() svg.Adaptation {
	if e.cfg.Adapt == AdaptCN {
		return svg.Adaptation{Sites: e.model.CNSites()}
	}
	return svg.Adaptation{Sites: e.model.OffsetSites()}
}

// adam is Adam at rate lr with PyTorch's defaults.
func adam(lr float32) kernels.AdamConfig {
	return kernels.AdamConfig{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// trainSVG trains the SVG with teacher forcing for the phase of method m
// (svg, or svg-more-steps continuing svg's Adam state).
func (e *experiment) trainSVG(m Method, epochs int) error {
	c := e.cfg
	g := graph.New()
	theta := e.model.Declare(g)[:len(e.model.Params())]
	in := declareInputs(g, c.Model, c.Batch, c.Model.Frames())
	pred, err := e.model.TeacherForced(e.model.Context(g, nil, nil), in)
	if err != nil {
		return err
	}
	loss, err := e.model.Loss(g, pred, in.Frames)
	if err != nil {
		return err
	}
	grads := g.Grad(loss, theta...)
	exe, err := e.program(string(m), g, graph.CompileOptions{Updates: []graph.Update{{Params: theta, Grads: grads, Adam: adam(c.LR)}}}, loss)
	if err != nil {
		return err
	}
	defer exe.Close()
	if m == SVGMoreSteps {
		// The control is the same training, continued.
		if err := exe.SetOptimState(e.svgStep, e.svgMoment); err != nil {
			return err
		}
	}
	if e.curves[m], err = e.runPhase(c.phase(m, epochs), exe, specMap(e.model.Params())); err != nil {
		return err
	}
	if m == SVG {
		e.svgStep, e.svgMoment, err = exe.OptimState()
	}
	return err
}

// trainNoether runs Algorithm 1 from the trained SVG, whose weights stay
// as they are: the embedding trains with Adam (gradient-norm clip
// EmbedClip) on the task loss after the inner step.
func (e *experiment) trainNoether() error {
	exe, err := e.noetherProgram()
	if err != nil {
		return err
	}
	defer exe.Close()
	specs := specMap(e.embed.Params())
	if e.cfg.NoetherFromScratch {
		maps.Copy(specs, specMap(e.model.Params()))
	}
	e.curves[Noether], err = e.runPhase(e.cfg.phase(Noether, e.cfg.NoetherEpochs), exe, specs)
	return err
}

// noetherProgram compiles Algorithm 1's training step from the current
// parameters: the task loss after the inner step, then Adam on the
// embedding (and, with NoetherFromScratch, Adam at LR on the SVG). The
// benchmark (NewMetaStep) times this same program.
func (e *experiment) noetherProgram() (graph.Executor, error) {
	c := e.cfg
	g := graph.New()
	theta := e.model.Declare(g)[:len(e.model.Params())]
	phi := nn.Declare(g, e.embed.Params())
	ad := e.adaptation()
	p, err := NewProblem(e.model, e.embed, ad, declareInputs(g, c.Model, c.Batch, c.Model.Frames()), c.Form, false)
	if err != nil {
		return nil, err
	}
	loss, dTheta, dPhi, err := noether.Meta(g, p, ad, theta, phi, c.Batch, c.Inner)
	if err != nil {
		return nil, err
	}
	updates := []graph.Update{{Params: phi, Grads: dPhi, Adam: adam(c.EmbedLR), ClipNorm: c.EmbedClip}}
	if c.NoetherFromScratch {
		updates = append(updates, graph.Update{Params: theta, Grads: dTheta, Adam: adam(c.LR)})
	}
	return e.program(string(Noether), g, graph.CompileOptions{Updates: updates}, loss)
}

// program compiles a graph's outputs on the configured backend, reports
// its memory plan and loads the current value of every parameter the
// graph declares.
func (e *experiment) program(label string, g *graph.Graph, o graph.CompileOptions, outs ...*graph.Node) (graph.Executor, error) {
	prog, err := g.Compile(o, outs...)
	if err != nil {
		return nil, fmt.Errorf("video: %s program: %w", label, err)
	}
	exe, err := e.cfg.Backend.Load(prog)
	if err != nil {
		return nil, fmt.Errorf("video: %s program: %w", label, err)
	}
	if e.cfg.Progress != nil {
		fmt.Fprintf(e.cfg.Progress, "%s program: %v\n", label, exe.Memory())
	}
	for k, v := range e.params {
		if _, ok := g.Lookup(k); !ok {
			continue
		}
		if err := exe.SetParam(k, v); err != nil {
			exe.Close()
			return nil, err
		}
	}
	return exe, nil
}

// runPhase runs a phase's trainer in its folder under the run folder,
// resuming from its checkpoint when asked, takes back the parameters it
// trained, and returns the mean training loss of every epoch (resumed
// ones included).
func (e *experiment) runPhase(tc noether.TrainConfig, exe graph.Executor, specs map[string][]int) ([]float64, error) {
	c := e.cfg
	// Every phase draws its own noise (SVG-LP), step by step.
	stream := noiseStream(slices.Index(Methods(), Method(tc.Label)))
	tr := &noether.Trainer{
		Config: tc, Exec: exe, Params: specs, Sinks: c.Sinks,
		Data: e.train.feeds(), Width: e.train.widths(),
		Noise: func(step int) map[string][]float32 { return noise(e.model, c.Seed, stream+uint64(step), c.Batch) },
	}
	curve, err := rundir.TrainPhase(c.Dir, c.Resume, c.Progress, tr)
	if err != nil {
		return nil, err
	}
	for name := range specs {
		v, err := exe.Param(name)
		if err != nil {
			return nil, err
		}
		e.params[name] = v
	}
	return curve, nil
}

// specMap is specs by name.
func specMap(specs []nn.ParamSpec) map[string][]int {
	out := make(map[string][]int, len(specs))
	for _, s := range specs {
		out[s.Name] = s.Shape
	}
	return out
}

// phase configures the training phase of method m. Its settings are
// everything its numbers depend on but its own epochs, which may grow on
// resuming.
func (c Config) phase(m Method, epochs int) noether.TrainConfig {
	tc := noether.TrainConfig{Label: string(m), Epochs: epochs, BatchSize: c.Batch, Seed: c.Seed,
		Settings: c.Settings(m), CheckpointEvery: c.CheckpointEvery, Stop: c.Stop}
	if c.ChangeRates {
		tc.Changeable = []string{"lr"}
		if m == Noether {
			tc.Changeable = []string{"embedding-lr", "inner-lr"}
		}
	}
	return tc
}

// Phases are the training phases running methods goes through (svg
// first, then svg-more-steps and noether as asked), configured as they
// will run; the phase of a label lives in the run folder's subfolder of
// that name.
func (c Config) Phases(methods ...Method) []noether.TrainConfig {
	var out []noether.TrainConfig
	if c.needsSVG(methods) {
		out = append(out, c.phase(SVG, c.SVGEpochs))
	}
	for _, m := range methods {
		switch m {
		case SVGMoreSteps:
			out = append(out, c.phase(m, c.MoreEpochs))
		case Noether:
			out = append(out, c.phase(m, c.NoetherEpochs))
		}
	}
	return out
}

// Settings are the settings method m's numbers depend on, by name: the
// data and model, the SVG's training (svg-epochs for the phases that
// start from it), and m's own training and tailoring.
func (c Config) Settings(m Method) map[string]string {
	f := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	set := map[string]string{
		"preset": c.Preset, "model": fmt.Sprintf("%+v", c.Model), "data": c.dataSettings(),
		"lr": f(c.LR),
	}
	if m != SVG && !(m == Noether && c.NoetherFromScratch) {
		set["svg-epochs"] = strconv.Itoa(c.SVGEpochs)
	}
	if m == Noether {
		set["adapt"] = c.Adapt
		set["inner-steps"] = strconv.Itoa(c.Inner.Steps)
		set["inner-lr"] = f(c.Inner.LR)
		set["inner-opt"] = map[noether.InnerOpt]string{noether.InnerSGD: "sgd", noether.InnerAdam: "adam"}[c.Inner.Opt]
		set["meta-grad"] = c.Inner.MetaGrad.String()
		set["loss-form"] = c.Form.String()
		set["embedding-dim"] = strconv.Itoa(c.EmbedDim)
		set["embedding-lr"] = f(c.EmbedLR)
		set["embedding-clip"] = f(c.EmbedClip)
		if c.NoetherFromScratch {
			set["noether-from-scratch"] = "true"
		}
	}
	if c.Task != PixelPendulum {
		set["task"] = string(c.Task)
	}
	return set
}

// dataSettings describes the data a run's numbers depend on: the
// pendulum's or the ramp's generator settings, or Physics 101's folder
// and preparation (not its cache folder, which changes nothing).
func (c Config) dataSettings() string {
	switch c.Task {
	case Ramp:
		return fmt.Sprintf("%+v", c.Ramp)
	case Physics101:
		p := c.Phys101
		p.CacheDir = ""
		return fmt.Sprintf("%+v", p)
	}
	return fmt.Sprintf("%+v", c.dataConfig())
}
