package physics

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
)

// Method is a row of the paper's Tables 1 and 2.
type Method string

const (
	Vanilla    Method = "vanilla"     // the MLP baseline
	Tailor     Method = "tailor"      // the baseline tailored with a formula at prediction time
	MetaTailor Method = "meta-tailor" // fine-tuned with a formula through the inner step
	Noether    Method = "noether"     // fine-tuned with a meta-learned neural embedding
	// FineTune is the control for the meta-trained rows: the baseline
	// fine-tuned exactly as they are (same epochs, batches, optimiser),
	// with no tailoring.
	FineTune Method = "finetune"
	// Project is the other reference: the baseline's field with its
	// component along the formula's gradient removed, so the formula is
	// conserved exactly along every rollout (up to the integrator). What
	// exact conservation alone can give, with no learning.
	Project Method = "project"
)

// Methods lists every Method.
func Methods() []Method { return []Method{Vanilla, FineTune, Tailor, MetaTailor, Noether, Project} }

// DefaultInnerLR is the inner learning rate of a method, adapting adapt,
// when Config.DefaultInnerLR asks for it: the Noether loss of a freshly
// initialised neural embedding is about 1e-3 of a formula's on the
// pendulum, so its steps on the CN sites need a larger rate. A step on
// every weight moves the prediction far more: at 100 the default run's
// noether row tested at 0.241 against the baseline's 0.112, at 10 0.100,
// at 1 to 1e-3 0.093-0.095 (seed 0, 2026-12-03), so it takes 1.
func DefaultInnerLR(m Method, adapt string) float32 {
	switch {
	case m == Noether && adapt == "all":
		return 1
	case m == Noether:
		return 100
	}
	return 0.1
}

// ParseMethod reads a Method.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods() {
		if Method(s) == m {
			return m, nil
		}
	}
	return "", fmt.Errorf("physics: method %q: want vanilla, finetune, tailor, meta-tailor, noether or project", s)
}

// Config sets up one row of the tables. It is a value: every run takes
// it as it is and changes nothing in it.
type Config struct {
	Method Method
	// Loss is the conservation formula of tailor and meta-tailor.
	Loss *formulas.Expr
	// LossParams are the starting values of Loss's parameters;
	// TrainLossParams lets meta-tailoring move them.
	LossParams      map[string]float64
	TrainLossParams bool
	EmbedSizes      []int // the neural embedding of noether: 2, 64, 64, 8 by default
	Adapt           string
	Inner           noether.Tailoring // Inner.LR is used as it is: 0 means no movement
	// DefaultInnerLR replaces Inner.LR by each method's DefaultInnerLR
	// (for runs of several methods whose rates differ).
	DefaultInnerLR bool
	Scheme         StepScheme // the Noether loss's finite-difference step

	BaselineSteps int     // full-batch Adam steps of the MLP baseline (2000)
	BaselineLR    float32 // 1e-3
	WeightDecay   float32 // 1e-4 (1e-5 on the real pendulum)
	MetaEpochs    int     // epochs of meta-training from the baseline
	MetaBatch     int     // 0: full batch
	MetaLR        float32 // outer Adam on the model
	EmbedLR       float32 // outer Adam on the embedding
	EmbedClip     float32 // gradient-norm clip on the embedding (1000)
	Substeps      int     // RK4 substeps per data step in rollouts

	Seed            uint64
	CheckpointEvery time.Duration // wall time between checkpoints (0: 10 s)
	Dir             string
	Resume          bool
	// ChangeRates lets a resumed phase continue under other learning rates
	// than its checkpoint's (Phases lists them as Changeable): how a
	// diverged run continues from its last good checkpoint. Every other
	// setting must still agree.
	ChangeRates bool
	// Stop, when closed, ends the run after the current training step
	// with a checkpoint to resume from (see noether.TrainConfig.Stop).
	Stop     <-chan struct{}
	Progress io.Writer // progress bars and the programs' memory plans (nil: none)
	// Sinks receive every training event besides the run folder's own
	// (the live viewer, ...).
	Sinks []noether.Sink
	// Backend loads the programs: graph.VulkanBackend or graph.CPUBackend.
	Backend graph.Backend
	// DataParallel, when it holds two or more backends, trains on all of
	// them at once (noether.DataParallel): each replays the training step
	// on its slice of every batch, and each applies the same update from
	// the summed gradient. Backend still evaluates; it is usually the
	// first of them. The numbers equal one backend's up to the rounding
	// of the gradient's sum.
	DataParallel []graph.Backend
}

// Result is one measured row.
type Result struct {
	Method        Method
	TrainRMSE     float64
	TestRMSE      float64
	BaselineTest  float64   // the vanilla baseline's test RMSE in the same run
	StepRMSE      []float64 // test RMSE per rollout step
	TestRollouts  [][][2]float64
	LossParams    map[string]float64 // the (possibly meta-trained) formula parameters
	BaselineCurve []float64
	MetaCurve     []float64
	Seconds       float64
	// Err is why the method failed (Config.Run only): its training
	// diverged or failed, or its rollouts did (a non-finite RMSE). The
	// fields above are then what was measured before, if anything.
	Err error
}

const (
	stateDim   = 2
	modelWidth = 200
	portraits  = 6 // test rollouts drawn in phase portraits and sent to sinks
)

// defaultEmbedSizes are the layer widths of the noether method's g_phi.
var defaultEmbedSizes = []int{stateDim, 64, 64, 8}

// Baseline is a trained MLP baseline, the start of every method.
type Baseline struct {
	Params   map[string][]float32 // by name
	Curve    []float64            // training loss per step (full batch: one step an epoch)
	TestRMSE float64              // long-term prediction RMSE on the test trajectories
	Seconds  float64
}

// experiment is one method's run: a private copy of the parameters it
// moves, the configuration and data it reads.
type experiment struct {
	cfg   Config
	data  *Dataset
	x, dx []float32 // the training examples, row-major N x 2
	model noether.Model
	emb   Embedding
	// params holds the current values of every parameter by name.
	params map[string][]float32
	inner  noether.Tailoring // the method's tailoring (no steps: none)
	// quiet leaves the programs' memory plans out of the progress output
	// (Evaluate, which the formula search calls hundreds of times).
	quiet bool
}

// Run checks the configuration (Check, CheckDevices), trains the baseline once, then
// runs each method from it, and evaluates long-term prediction: one result
// per method, in order. A method that fails, or whose rollouts diverge (a
// non-finite RMSE), has its error in its Result's Err, and the methods
// after it still run; the error returned then joins every failed
// method's. A stop (Config.Stop) ends the run at once: Run returns the
// results so far and an error wrapping noether.ErrStopped.
func (c Config) Run(d *Dataset, methods ...Method) ([]*Result, error) {
	if err := c.Check(d.Name, methods...); err != nil {
		return nil, err
	}
	if err := c.CheckDevices(d, len(c.DataParallel), methods...); err != nil {
		return nil, err
	}
	base, err := c.TrainBaseline(d)
	if err != nil {
		return nil, err
	}
	var out []*Result
	var failed []error
	for _, m := range methods {
		if noether.Stopped(c.Stop) {
			return out, fmt.Errorf("physics: %w before %s", noether.ErrStopped, m)
		}
		mc := c
		mc.Method = m
		res, err := mc.RunMethod(d, base)
		switch {
		case errors.Is(err, noether.ErrStopped):
			return out, fmt.Errorf("%s: %w", m, err)
		case err != nil:
			res = &Result{Method: m, BaselineCurve: base.Curve, BaselineTest: base.TestRMSE, Err: fmt.Errorf("%s: %w", m, err)}
		case !finite(res.TestRMSE) || !finite(res.TrainRMSE):
			res.Err = fmt.Errorf("%s: the long-term prediction RMSE is %v on the test and %v on the training trajectories: its rollouts diverged", m, res.TestRMSE, res.TrainRMSE)
		}
		res.Seconds += base.Seconds
		if res.Err != nil {
			failed = append(failed, res.Err)
		}
		out = append(out, res)
	}
	return out, errors.Join(failed...)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Check tells whether the configuration can run methods on the task
// before anything is trained: counts and rates in range, every method
// known (and none twice), a formula for the methods that need one, with a
// value for each of its parameters and no value for a parameter it does
// not have, and, where the task's data have units (the pendulums, whose q
// is an angle), formula units that agree, numbers in it standing for
// constants of any unit.
func (c Config) Check(task string, methods ...Method) error {
	if len(methods) == 0 {
		return errors.New("physics: no method to run")
	}
	seen := map[Method]bool{}
	tailors, formula := false, false
	for _, m := range methods {
		if _, err := ParseMethod(string(m)); err != nil {
			return err
		}
		if seen[m] {
			return fmt.Errorf("physics: method %s is named twice", m)
		}
		seen[m] = true
		tailors = tailors || m == Tailor || m == MetaTailor || m == Noether
		formula = formula || m == Tailor || m == MetaTailor || m == Project
	}
	for _, n := range []struct {
		name string
		v    int
		min  int
	}{{"--baseline-steps", c.BaselineSteps, 1}, {"--epochs", c.MetaEpochs, 0}, {"--batch", c.MetaBatch, 0}, {"--substeps", c.Substeps, 0}} {
		if n.v < n.min {
			return fmt.Errorf("physics: %s %d: want at least %d", n.name, n.v, n.min)
		}
	}
	rates := []struct {
		name string
		v    float32
	}{{"--lr", c.BaselineLR}, {"--meta-lr", c.MetaLR}, {"--embedding-lr", c.EmbedLR}, {"--weight-decay", c.WeightDecay}, {"the embedding's gradient clip", c.EmbedClip}}
	if !c.DefaultInnerLR {
		rates = append(rates, struct {
			name string
			v    float32
		}{"--inner-lr", c.Inner.LR})
	}
	for _, r := range rates {
		if v := float64(r.v); !finite(v) || v < 0 {
			return fmt.Errorf("physics: %s %v: want a finite value, 0 or more", r.name, v)
		}
	}
	if tailors {
		if c.Inner.Steps < 1 {
			return fmt.Errorf("physics: --inner-steps %d: tailoring takes at least one inner step (--method vanilla is the model without it)", c.Inner.Steps)
		}
		if c.Inner.Opt == noether.InnerAdam && c.Inner.MetaGrad == noether.ForwardOverReverse {
			return errors.New("physics: --inner-opt adam needs --meta-grad reverse or first-order: the forward-over-reverse meta-gradient is for SGD inner steps")
		}
	}
	if len(c.EmbedSizes) > 0 && (c.EmbedSizes[0] != stateDim || slices.Min(c.EmbedSizes) < 1) {
		return fmt.Errorf("physics: --embedding-sizes %v: want positive widths starting with the state's, %d", c.EmbedSizes, stateDim)
	}
	switch c.Adapt {
	case "", "cn", "all":
	default:
		return fmt.Errorf("physics: --adapt %q: want cn (per-example scale and shift) or all (per-example copies of every weight)", c.Adapt)
	}
	if formula && c.Loss == nil {
		return fmt.Errorf("physics: %s needs a conservation formula (--loss)", strings.Join(methodsNeedingLoss(methods), " and "))
	}
	return c.checkLoss(task)
}

// methodsNeedingLoss are those of methods that tailor or project with a
// formula.
func methodsNeedingLoss(methods []Method) []string {
	var out []string
	for _, m := range methods {
		if m == Tailor || m == MetaTailor || m == Project {
			out = append(out, string(m))
		}
	}
	return out
}

// checkLoss checks the formula's parameters and units (see Check).
func (c Config) checkLoss(task string) error {
	if c.Loss == nil {
		if len(c.LossParams) > 0 {
			return fmt.Errorf("physics: formula parameters %v given without a formula (--loss)", slices.Sorted(maps.Keys(c.LossParams)))
		}
		return nil
	}
	params := c.Loss.Params()
	for _, name := range params {
		if v, ok := c.LossParams[name]; !ok {
			return fmt.Errorf("physics: --loss %q: %s is neither q nor p, so it is a parameter, and it has no value: give one with --loss-param %s=VALUE", c.Loss, name, name)
		} else if !finite(v) {
			return fmt.Errorf("physics: --loss-param %s=%v: want a finite value", name, v)
		}
	}
	for name := range c.LossParams {
		if !slices.Contains(params, name) {
			return fmt.Errorf("physics: --loss-param %s: the formula %q has no parameter %s (its parameters: %v)", name, c.Loss, name, params)
		}
	}
	if task != "pendulum" && task != "real-pendulum" {
		// The spring is simulated with m = k = 1, where q^2 + p^2 is its
		// energy: formulas over it carry no units to check.
		return nil
	}
	v, err := formulas.VocabularyFor(task)
	if err != nil {
		return fmt.Errorf("physics: %w", err)
	}
	if _, err := formulas.TypeOf(numbersAsConstants(c.Loss), v); err != nil {
		return fmt.Errorf("physics: --loss %q does not agree in units on the %s (q [%v], p [%v]; a number stands for a constant of any unit): %w", c.Loss, task, v.Q, v.P, err)
	}
	return nil
}

// numbersAsConstants is a copy of e with every number a parameter named
// by its value, so that typing gives it whatever unit the formula needs,
// as the simulation's constants (m g l, 1/2 m l^2) have.
func numbersAsConstants(e *formulas.Expr) *formulas.Expr {
	if e == nil {
		return nil
	}
	out := *e
	if e.Kind == formulas.Num {
		out = formulas.Expr{Kind: formulas.Param, Name: strconv.FormatFloat(e.Value, 'g', -1, 64)}
	}
	out.X, out.Y = numbersAsConstants(e.X), numbersAsConstants(e.Y)
	return &out
}

// RunMethod runs c.Method from a trained baseline.
func (c Config) RunMethod(d *Dataset, base *Baseline) (*Result, error) {
	began := time.Now()
	e, err := c.newExperiment(d, base.Params)
	if err != nil {
		return nil, err
	}
	res := &Result{Method: c.Method, BaselineCurve: base.Curve, BaselineTest: base.TestRMSE}
	if c.Method.Trained() {
		if res.MetaCurve, err = e.metaTrain(); err != nil {
			return nil, err
		}
	}
	if res.TestRMSE, res.StepRMSE, res.TestRollouts, err = e.evaluate(d.Test, e.inner); err != nil {
		return nil, err
	}
	if res.TrainRMSE, _, _, err = e.evaluate(d.Train, e.inner); err != nil {
		return nil, err
	}
	if c.Method == Tailor || c.Method == MetaTailor || c.Method == Project {
		res.LossParams = map[string]float64{}
		for _, name := range c.Loss.Params() {
			res.LossParams[name] = float64(e.params["g."+name][0])
		}
	}
	if err := c.emitRollouts(d, res); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(began).Seconds()
	return res, nil
}

// Evaluate is the long-term prediction RMSE on trajs of c.Method from the
// baseline, without meta-training: the baseline itself, or tailored with
// c.Loss at c.Inner (the formula search's tailoring stage).
func (c Config) Evaluate(d *Dataset, base *Baseline, trajs []Trajectory) (float64, error) {
	e, err := c.newExperiment(d, base.Params)
	if err != nil {
		return 0, err
	}
	e.quiet = true
	rmse, _, _, err := e.evaluate(trajs, e.inner)
	return rmse, err
}

// emitRollouts sends the first test rollouts of a result to the sinks.
func (c Config) emitRollouts(d *Dataset, res *Result) error {
	if len(c.Sinks) == 0 {
		return nil
	}
	n := min(portraits, len(d.Test))
	ev := noether.RolloutEvent{Phase: string(res.Method), Epoch: c.MetaEpochs, StateShape: []int{stateDim}, StepRMSE: res.StepRMSE,
		Truth: make([][][]float32, n), Pred: make([][][]float32, n)}
	for i := range n {
		ev.Truth[i], ev.Pred[i] = states32(d.Test[i].True), states32(res.TestRollouts[i])
	}
	return noether.Emit(c.Sinks, ev)
}

func states32(xs [][2]float64) [][]float32 {
	out := make([][]float32, len(xs))
	for i, x := range xs {
		out[i] = []float32{float32(x[0]), float32(x[1])}
	}
	return out
}

// newExperiment sets up c.Method's run from the parameters start.
func (c Config) newExperiment(d *Dataset, start map[string][]float32) (*experiment, error) {
	if c.Backend == nil {
		return nil, fmt.Errorf("physics: no backend: set Config.Backend to a graph.VulkanBackend or graph.CPUBackend")
	}
	e := &experiment{cfg: c, data: d, params: maps.Clone(start),
		x: Float32(d.TrainX()), dx: Float32(d.TrainDXDT()),
		model: NewMLP("f", []int{stateDim, modelWidth, modelWidth, stateDim}, false)}
	switch c.Method {
	case Vanilla, FineTune:
	case Tailor, MetaTailor, Project:
		if c.Loss == nil {
			return nil, fmt.Errorf("physics: %s needs a conservation formula (--loss)", c.Method)
		}
		e.emb = &formulaEmbedding{expr: c.Loss}
		for _, name := range c.Loss.Params() {
			val, ok := c.LossParams[name]
			if !ok {
				return nil, fmt.Errorf("physics: the formula's parameter %q has no value (--loss-param %s=VALUE)", name, name)
			}
			e.params["g."+name] = []float32{float32(val)}
		}
	case Noether:
		e.neuralEmbedding()
	default:
		return nil, fmt.Errorf("physics: method %q: want one of %v", c.Method, Methods())
	}
	e.inner = c.tailoring()
	return e, nil
}

// tailoring is c.Method's tailoring: none for the methods that do not
// tailor, and c.Inner, at the method's default rate when asked, for those
// that do.
func (c Config) tailoring() noether.Tailoring {
	if c.Method != Tailor && c.Method != MetaTailor && c.Method != Noether {
		return noether.Tailoring{}
	}
	inner := c.Inner
	if inner.Steps > 0 && c.DefaultInnerLR {
		inner.LR = DefaultInnerLR(c.Method, c.Adapt)
	}
	return inner
}

// neuralEmbedding sets up the noether method's embedding g_phi with its
// initial parameters.
func (e *experiment) neuralEmbedding() {
	sizes := e.cfg.EmbedSizes
	if len(sizes) == 0 {
		sizes = defaultEmbedSizes
	}
	m := NewMLP("g", sizes, true)
	for k, val := range nn.Init(rand.New(rand.NewPCG(e.cfg.Seed, 2)), m.Params()) {
		e.params[k] = val
	}
	e.emb = m
}

// program compiles a graph's outputs on the configured backend, reports
// its memory plan and loads the current value of every parameter it has.
func (e *experiment) program(label string, g *graph.Graph, o graph.CompileOptions, outs ...*graph.Node) (graph.Executor, error) {
	prog, err := g.Compile(o, outs...)
	if err != nil {
		return nil, err
	}
	exe, err := e.cfg.Backend.Load(prog)
	if err != nil {
		return nil, fmt.Errorf("physics: %s program: %w", label, err)
	}
	return e.ready(label+" program", exe)
}

// ready reports a loaded program's memory plan under label and loads the
// current value of every parameter it has.
func (e *experiment) ready(label string, exe graph.Executor) (graph.Executor, error) {
	if e.cfg.Progress != nil && !e.quiet {
		fmt.Fprintf(e.cfg.Progress, "%s: %v\n", label, exe.Memory())
	}
	for k, v := range e.params {
		if err := exe.SetParam(k, v); err != nil {
			exe.Close()
			return nil, err
		}
	}
	return exe, nil
}

// store takes back the parameters a program trained.
func (e *experiment) store(exe graph.Executor, specs map[string][]int) error {
	for name := range specs {
		v, err := exe.Param(name)
		if err != nil {
			return err
		}
		e.params[name] = v
	}
	return nil
}

// train runs a phase's trainer, configured by tc, in its folder under
// the run folder, resuming from its checkpoint when asked, and returns
// the loss curve of every epoch (resumed ones included).
func (e *experiment) train(tc noether.TrainConfig, exe graph.Executor, specs map[string][]int) ([]float64, error) {
	c := e.cfg
	tr := &noether.Trainer{
		Config: tc, Exec: exe, Params: specs, Sinks: c.Sinks,
		Data: map[string][]float32{"x": e.x, "y": e.dx}, Width: map[string]int{"x": stateDim, "y": stateDim},
	}
	curve, err := rundir.TrainPhase(c.Dir, c.Resume, c.Progress, tr)
	if err != nil {
		return nil, err
	}
	if err := e.store(exe, specs); err != nil {
		return nil, err
	}
	return curve, nil
}

// Phases are the training phases that running methods goes through,
// configured as they will run: the baseline's, then each meta-trained
// method's (finetune, meta-tailor, noether), each with the settings its
// checkpoints must agree with (see noether.TrainConfig.Check) and the
// learning rates among them as Changeable when c.ChangeRates is set.
// The phase of a label lives in the run folder's subfolder of that name.
func (c Config) Phases(d *Dataset, methods ...Method) []noether.TrainConfig {
	out := []noether.TrainConfig{c.phase(d, Vanilla)}
	for _, m := range methods {
		if m.Trained() {
			out = append(out, c.phase(d, m))
		}
	}
	return out
}

// PhaseName is the phase that trains the baseline (and that every method
// starts from).
const PhaseName = "baseline"

// Trained reports whether method m has a training phase of its own
// (meta-training from the baseline), named as the method.
func (m Method) Trained() bool { return m == MetaTailor || m == Noether || m == FineTune }

// Outputs are the entries Run and WritePlots may write into a run
// folder: the phases' folders and the plots.
func Outputs() []string {
	out := []string{PhaseName}
	for _, m := range Methods() {
		if m.Trained() {
			out = append(out, string(m))
		}
	}
	return append(out, plotNames...)
}

// Settings are the settings method m's numbers depend on, by the
// command line's flag names: the data (its checksum), the baseline's, and
// those of m's training and tailoring.
func (c Config) Settings(d *Dataset, m Method) map[string]string {
	c.Method = m
	f := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	set := map[string]string{"task": d.Name, "data": DataChecksum(d), "lr": f(c.BaselineLR), "weight-decay": f(c.WeightDecay),
		"baseline-steps": strconv.Itoa(c.BaselineSteps), "substeps": strconv.Itoa(max(1, c.Substeps))}
	if m.Trained() {
		set["epochs"] = strconv.Itoa(c.MetaEpochs)
		set["batch"] = strconv.Itoa(c.metaBatch(d))
		set["meta-lr"] = f(c.MetaLR)
	}
	if inner := c.tailoring(); inner.Steps > 0 {
		set["adapt"] = cmp.Or(c.Adapt, "cn")
		set["inner-steps"] = strconv.Itoa(inner.Steps)
		set["inner-lr"] = f(inner.LR)
		set["inner-opt"] = map[noether.InnerOpt]string{noether.InnerSGD: "sgd", noether.InnerAdam: "adam"}[inner.Opt]
		set["noether-step"] = c.Scheme.String()
		if m.Trained() {
			set["meta-grad"] = inner.MetaGrad.String()
		}
	}
	switch m {
	case Tailor, MetaTailor, Project:
		set["loss"] = c.Loss.String()
		var ps []string
		for _, name := range c.Loss.Params() {
			ps = append(ps, name+"="+strconv.FormatFloat(c.LossParams[name], 'g', -1, 64))
		}
		set["loss-param"] = strings.Join(ps, ",")
		if m == MetaTailor {
			set["train-loss-params"] = strconv.FormatBool(c.TrainLossParams)
			if c.TrainLossParams {
				set["embedding-lr"] = f(c.EmbedLR)
			}
		}
	case Noether:
		sizes := c.EmbedSizes
		if len(sizes) == 0 {
			sizes = defaultEmbedSizes
		}
		var ws []string
		for _, w := range sizes {
			ws = append(ws, strconv.Itoa(w))
		}
		set["embedding-sizes"] = strings.Join(ws, ",")
		set["embedding-lr"] = f(c.EmbedLR)
		set["embedding-clip"] = f(c.EmbedClip)
	}
	return set
}

// metaBatch is the batch size of meta-training.
func (c Config) metaBatch(d *Dataset) int {
	n := len(d.TrainX())
	if c.MetaBatch > 0 {
		return min(c.MetaBatch, n)
	}
	return n
}

// phase configures the training phase of method m: the baseline's for
// Vanilla, m's meta-training otherwise. Its settings are m's but for its
// epochs, which may grow on resuming, and the rollouts' substeps, which
// training does not see.
func (c Config) phase(d *Dataset, m Method) noether.TrainConfig {
	c.Method = m
	set := c.Settings(d, m)
	delete(set, "substeps")
	delete(set, "batch") // the trainer checks its batch size itself
	tc := noether.TrainConfig{Label: PhaseName, Epochs: c.BaselineSteps, BatchSize: len(d.TrainX()), Seed: c.Seed, Settings: set,
		CheckpointEvery: c.CheckpointEvery, Stop: c.Stop}
	rates := []string{"lr"}
	if m == Vanilla {
		delete(set, "baseline-steps")
	} else {
		delete(set, "epochs")
		tc.Label, tc.Epochs, tc.BatchSize = string(m), c.MetaEpochs, c.metaBatch(d)
		// The baseline's rate is fixed for the phases that start from it.
		rates = []string{"meta-lr", "inner-lr", "embedding-lr"}
	}
	if c.ChangeRates {
		tc.Changeable = rates
	}
	return tc
}

// DataChecksum is the hex SHA-256 of a dataset's contents: its name, time
// step and every number of every trajectory, in order. Two datasets with
// the same checksum train and evaluate alike, however their files were
// formatted.
func DataChecksum(d *Dataset) string {
	h := sha256.New()
	h.Write([]byte(d.Name))
	b := binary.LittleEndian.AppendUint64(nil, math.Float64bits(d.DT))
	for _, part := range [][]Trajectory{d.Train, d.Test} {
		b = binary.LittleEndian.AppendUint64(b, uint64(len(part)))
		for _, t := range part {
			b = binary.LittleEndian.AppendUint64(b, uint64(t.Len()))
			for i := range t.T {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(t.T[i]))
				for _, x := range [][2]float64{t.X[i], t.True[i], t.DXDT[i]} {
					b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x[0]))
					b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x[1]))
				}
			}
			h.Write(b)
			b = b[:0]
		}
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// TrainBaseline trains the MLP on dx/dt with full-batch Adam, as the
// paper's source does, or resumes it from its run folder, and measures its
// long-term prediction on the test trajectories.
func (c Config) TrainBaseline(d *Dataset) (*Baseline, error) {
	began := time.Now()
	c.Method = Vanilla
	e, err := c.newExperiment(d, nil)
	if err != nil {
		return nil, err
	}
	adam := kernels.AdamConfig{LR: c.BaselineLR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: c.WeightDecay}
	step := func(g *graph.Graph, n int) (*graph.Node, []graph.Update, error) {
		x, y := g.Input("x", n, stateDim), g.Input("y", n, stateDim)
		theta := nn.Declare(g, e.model.Params())
		loss := g.MSE(e.model.Apply(g, theta, x), y)
		return loss, []graph.Update{{Params: theta, Grads: g.Grad(loss, theta...), Adam: adam}}, nil
	}
	e.params = nn.Init(rand.New(rand.NewPCG(c.Seed, 1)), e.model.Params())
	exe, err := e.trainProgram("baseline", len(e.x)/stateDim, step)
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	curve, err := e.train(c.phase(d, Vanilla), exe, specMap(e.model.Params()))
	if err != nil {
		return nil, err
	}
	base := &Baseline{Params: e.params, Curve: curve}
	if base.TestRMSE, _, _, err = e.evaluate(d.Test, noether.Tailoring{}); err != nil {
		return nil, err
	}
	base.Seconds = time.Since(began).Seconds()
	return base, nil
}

// specMap is specs by name.
func specMap(specs []nn.ParamSpec) map[string][]int {
	out := make(map[string][]int, len(specs))
	for _, s := range specs {
		out[s.Name] = s.Shape
	}
	return out
}

// adaptation is the configured tailoring target.
func (e *experiment) adaptation() (noether.ModelAdaptation, error) {
	switch e.cfg.Adapt {
	case "", "cn":
		return noether.AdaptSites{Model: e.model}, nil
	case "all":
		return noether.AdaptAll{Model: e.model}, nil
	}
	return nil, fmt.Errorf("physics: --adapt %q: want cn (per-example scale and shift) or all (per-example copies of every weight)", e.cfg.Adapt)
}

// embedParams are the embedding's trainable parameters.
func (e *experiment) embedParams() []nn.ParamSpec {
	if e.emb == nil || e.cfg.Method == MetaTailor && !e.cfg.TrainLossParams {
		return nil
	}
	return e.emb.Params()
}

// metaProgram compiles one meta-training step on batches of b examples,
// with Adam updates of the model (and the embedding, when it trains), and
// loads the current parameters.
func (e *experiment) metaProgram(ad noether.ModelAdaptation, b int) (graph.Executor, []nn.ParamSpec, error) {
	c := e.cfg
	trainsEmbedding := len(e.embedParams()) > 0
	step := func(g *graph.Graph, b int) (*graph.Node, []graph.Update, error) {
		x, y := g.Input("x", b, stateDim), g.Input("y", b, stateDim)
		theta := nn.Declare(g, e.model.Params())
		var phi []*graph.Node
		if e.emb != nil {
			phi = nn.Declare(g, e.emb.Params())
		}
		p := &StepProblem{Adapt: ad, Embed: e.emb, DT: float32(e.data.DT), Scheme: c.Scheme, X: x, Y: y}
		loss, dth, dph, err := noether.Meta(g, p, ad, theta, phi, b, e.inner)
		if err != nil {
			return nil, nil, err
		}
		updates := []graph.Update{{Params: theta, Grads: dth,
			Adam: kernels.AdamConfig{LR: c.MetaLR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: c.WeightDecay}}}
		if trainsEmbedding {
			updates = append(updates, graph.Update{Params: phi, Grads: dph, ClipNorm: c.EmbedClip,
				Adam: kernels.AdamConfig{LR: c.EmbedLR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}})
		}
		return loss, updates, nil
	}
	specs := e.model.Params()
	if trainsEmbedding {
		specs = append(specs, e.emb.Params()...)
	}
	exe, err := e.trainProgram(string(c.Method), b, step)
	return exe, specs, err
}

// metaTrain fine-tunes the baseline (and the embedding) through the inner
// step, Algorithm 1 of the paper.
func (e *experiment) metaTrain() ([]float64, error) {
	c := e.cfg
	ad, err := e.adaptation()
	if err != nil {
		return nil, err
	}
	if c.Method == FineTune {
		// The control adapts nothing: the identity CN start costs two
		// elementwise ops, per-example weight copies would cost gigabytes.
		ad = noether.AdaptSites{Model: e.model}
	}
	tc := c.phase(e.data, c.Method)
	exe, specs, err := e.metaProgram(ad, tc.BatchSize)
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	return e.train(tc, exe, specMap(specs))
}

// evaluate rolls out every trajectory with the (tailored) model as the
// vector field, as Rollout's protocol says, and returns the RMSE over all
// states and coordinates, the RMSE at each step and the rollouts.
func (e *experiment) evaluate(trajs []Trajectory, inner noether.Tailoring) (float64, []float64, [][][2]float64, error) {
	ad, err := e.adaptation()
	if err != nil {
		return 0, nil, nil, err
	}
	b := len(trajs)
	g := graph.New()
	x := g.Input("x", b, stateDim)
	theta := nn.Declare(g, e.model.Params())
	var out *graph.Node
	switch {
	case e.cfg.Method == Project:
		phi := nn.Declare(g, e.emb.Params())
		out = projectOut(g, e.model.Apply(g, theta, x), e.emb.Apply(g, phi, x), x)
	case inner.Steps == 0 || e.emb == nil:
		out = e.model.Apply(g, theta, x)
	default:
		phi := nn.Declare(g, e.emb.Params())
		p := &StepProblem{Adapt: ad, Embed: e.emb, DT: float32(e.data.DT), Scheme: e.cfg.Scheme, X: x}
		adapted, err := noether.Predict(g, p, ad, theta, phi, b, inner)
		if err != nil {
			return 0, nil, nil, err
		}
		out = ad.Apply(g, theta, adapted, x)
	}
	exe, err := e.program("evaluation", g, graph.CompileOptions{}, out)
	if err != nil {
		return 0, nil, nil, err
	}
	defer exe.Close()
	var runErr error
	in := make([]float32, 2*b)
	field := func(states [][2]float64) [][2]float64 {
		d := make([][2]float64, len(states))
		if runErr != nil {
			return d
		}
		for i, s := range states {
			in[2*i], in[2*i+1] = float32(s[0]), float32(s[1])
		}
		res, err := exe.Run(map[string][]float32{"x": in})
		if err != nil {
			runErr = err
			return d
		}
		for i := range d {
			d[i] = [2]float64{float64(res[0][2*i]), float64(res[0][2*i+1])}
		}
		return d
	}
	pred := Rollout(field, trajs, e.data.DT, max(1, e.cfg.Substeps))
	if runErr != nil {
		return 0, nil, nil, runErr
	}
	rmse, err := RMSE(pred, trajs)
	if err != nil {
		return 0, nil, nil, err
	}
	return rmse, stepRMSE(pred, trajs), pred, nil
}

// stepRMSE is the RMSE at each rollout step over the trajectories that
// reach it.
func stepRMSE(pred [][][2]float64, trajs []Trajectory) []float64 {
	var out []float64
	for s := 0; ; s++ {
		var sse, n float64
		for i, t := range trajs {
			if s < t.Len() {
				for k := range 2 {
					d := pred[i][s][k] - t.True[s][k]
					sse += d * d
					n++
				}
			}
		}
		if n == 0 {
			return out
		}
		out = append(out, math.Sqrt(sse/n))
	}
}

// projectOut removes from the field f [B, 2] its component along the
// gradient of h [B, 1] at the states x: f - (grad h . f) grad h / |grad h|^2,
// under which h is constant along the flow. Where grad h vanishes (an
// equilibrium of h) f is left almost unchanged.
func projectOut(g *graph.Graph, f, h, x *graph.Node) *graph.Node {
	grad := g.Grad(g.Sum(h), x)[0]
	b := x.Shape()[0]
	along := g.Reshape(g.Sum(g.Mul(grad, f), 1), b, 1)
	norm := g.AddScalar(g.Reshape(g.Sum(g.Square(grad), 1), b, 1), 1e-12)
	return g.Sub(f, g.Mul(g.Div(along, norm), grad))
}

// formulaEmbedding is a conservation formula as an Embedding: the state's
// columns are q and p; the formula's parameters are named "g.<name>".
type formulaEmbedding struct{ expr *formulas.Expr }

func (f *formulaEmbedding) Params() []nn.ParamSpec {
	var ps []nn.ParamSpec
	for _, name := range f.expr.Params() {
		ps = append(ps, nn.ParamSpec{Name: "g." + name, Shape: []int{1}})
	}
	return ps
}

func (f *formulaEmbedding) Apply(g *graph.Graph, phi []*graph.Node, x *graph.Node) *graph.Node {
	q := g.MatMul(x, g.Const([]float32{1, 0}, stateDim, 1))
	p := g.MatMul(x, g.Const([]float32{0, 1}, stateDim, 1))
	params := map[string]*graph.Node{}
	for i, name := range f.expr.Params() {
		params[name] = phi[i]
	}
	out, err := f.expr.Build(g, q, p, params)
	if err != nil {
		panic(fmt.Sprintf("physics: building %v: %v", f.expr, err)) // Params and Build disagree: a bug
	}
	return out
}

// LoadTask returns a task's data: the ideal systems generated from seed,
// the real pendulum read from path.
func LoadTask(task, path string, seed uint64) (*Dataset, error) {
	switch task {
	case "spring", "pendulum":
		if path != "" {
			return nil, fmt.Errorf("physics: --data is for the real pendulum; %s is generated from --seed", task)
		}
		if seed > math.MaxUint32 {
			return nil, fmt.Errorf("physics: seed %d: the data generator takes a 32-bit seed", seed)
		}
		sys := Pendulum()
		if task == "spring" {
			sys = Spring()
		}
		return sys.Generate(GenOptions{Seed: uint32(seed)})
	case "real-pendulum":
		if path == "" {
			return nil, fmt.Errorf("physics: the real pendulum needs its data file: pass --data PATH to %s (the project's shared/data folder has it)", RealPendulumFile)
		}
		return LoadRealPendulum(path)
	}
	return nil, fmt.Errorf("physics: task %q: want spring, pendulum or real-pendulum", task)
}

// WritePlots draws a run's figures into dir, each as PNG and SVG: the
// training loss per epoch, the test RMSE per rollout step, and phase
// portraits of the first test trajectories against the truth. Values that
// are not finite (a diverged loss or rollout) are left out: each curve
// stops before its first one, and a method with nothing left (one whose
// training failed) is not drawn.
func WritePlots(dir string, d *Dataset, results []*Result) error {
	var losses, steps []rundir.Series
	preds := map[string][][][2]float64{}
	n := min(portraits, len(d.Test))
	truth := make([][][2]float64, n)
	for i := range truth {
		truth[i] = d.Test[i].True
	}
	add := func(to *[]rundir.Series, name string, x, y []float64) {
		k := slices.IndexFunc(y, func(v float64) bool { return !finite(v) })
		if k < 0 {
			k = len(y)
		}
		if k > 0 {
			*to = append(*to, rundir.Series{Name: name, X: x[:k], Y: y[:k]})
		}
	}
	for i, r := range results {
		if i == 0 {
			add(&losses, "baseline (MSE of dx/dt)", epochs(len(r.BaselineCurve)), r.BaselineCurve)
		}
		// The meta-trained phases continue from the baseline's last step.
		x := epochs(len(r.MetaCurve))
		for j := range x {
			x[j] += float64(len(r.BaselineCurve))
		}
		add(&losses, string(r.Method)+" (task loss after tailoring)", x, r.MetaCurve)
		at := make([]float64, len(r.StepRMSE))
		for s := range at {
			at[s] = float64(s)
		}
		add(&steps, string(r.Method), at, r.StepRMSE)
		if len(r.TestRollouts) < n {
			continue
		}
		var kept [][][2]float64
		for _, traj := range r.TestRollouts[:n] {
			k := slices.IndexFunc(traj, func(x [2]float64) bool { return !finite(x[0]) || !finite(x[1]) })
			if k < 0 {
				k = len(traj)
			}
			kept = append(kept, traj[:max(k, 1)])
		}
		preds[string(r.Method)] = kept
	}
	if len(losses) > 0 {
		if err := rundir.PlotLossCurves(filepath.Join(dir, "loss"), losses, true); err != nil {
			return err
		}
	}
	if len(steps) > 0 {
		if err := rundir.PlotRolloutRMSE(filepath.Join(dir, "rollout_rmse"), steps, false); err != nil {
			return err
		}
	}
	if len(preds) == 0 {
		return nil
	}
	return rundir.PlotPhase(filepath.Join(dir, "phase"), d.Name+": test rollouts against the truth", truth, preds)
}

// plotNames are the files WritePlots writes into a run folder.
var plotNames = []string{"loss.png", "loss.svg", "rollout_rmse.png", "rollout_rmse.svg", "phase.png", "phase.svg"}

// epochs is 1..n as float64s.
func epochs(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i + 1)
	}
	return x
}
