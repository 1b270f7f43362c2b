package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/physics"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/view"
)

func trainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "train the MLP baseline, the fine-tuning control and a Noether Network (or the methods you name) on a physics task, and report long-term prediction RMSE; or SVG (with the control) and a Noether Network on a video task (--task pixel-pendulum, ramp or physics101), and report MSE, PSNR, SSIM (and LPIPS) per predicted frame",
		Description: `With no flags: the ideal pendulum; the vanilla MLP baseline (2-200-200-2, tanh, 2000 full-batch
Adam steps); the control (the baseline fine-tuned for --epochs without tailoring); then a Noether
Network whose neural embedding g_phi is meta-learned with Algorithm 1 from the baseline; the test
RMSEs side by side. The rollout protocol is in the README.

The run folder (--out) records the run (manifest.json: every setting, the data's checksum, the
code version, each phase's state). A folder that holds a run is continued with --resume, under
the same settings (a longer --epochs or --baseline-steps continues a phase; --change-rates
allows other learning rates), or replaced with --overwrite; anything else is refused. One run
at a time per folder. The first SIGINT or SIGTERM stops after the current step with a checkpoint
(exit status 4; --resume continues); a second one stops at once.

--task pixel-pendulum is the paper's Figure 3: SVG (svg) predicts 26 frames of the pendulum
from 4 and the actions; svg-more-steps trains it --epochs more; noether meta-learns an
embedding g_phi for --epochs from the trained SVG and tailors each prediction's latent
offsets. --preset default runs in minutes on a CPU, --preset paper is the paper's size for a
GPU; the flags --svg-epochs, --epochs, --batch, --lr, --embedding-lr, --inner-lr,
--inner-steps, --inner-opt, --meta-grad, --adapt (latent or cn), --image-size, --history and
--horizon override the preset (the physics flags' defaults do not apply). The run folder holds
the plots mse, psnr, ssim (per predicted frame, SEM bands) and loss, and the strips.

--task ramp (built-in Physics 101-style ramp scenes, 311 training and 78 test clips) and
--task physics101 --data DIR (Physics 101's 20-degree ramp clips, decoded with ffmpeg and
cached under --cache) are the paper's Figure 4: svg and noether, both trained from the same
start for --svg-epochs and --epochs, noether with an SGD inner step on the 27 (VGG-128) CN
layers; 2 frames given, 20 predicted. With noether the run also draws the inner-loss curve
(Figure 6: --inner-curve-steps inner Adam steps from the trained model); --lpips FILE adds
LPIPS. noether-vk plot redraws the figures, and draws the Figure 4 analog over seeds.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "task", Value: "pendulum", Usage: "spring, pendulum, real-pendulum, pixel-pendulum, ramp or physics101"},
			&cli.StringFlag{Name: "data", Usage: "the real pendulum's data file (the published real_pend_h_1.txt format); physics101: the folder Physics 101 was extracted into"},
			&cli.StringFlag{Name: "method", Usage: "comma-separated: vanilla, finetune (the control: fine-tuned like the meta-trained methods, no tailoring), tailor, meta-tailor, noether, project (the reference: the baseline's field projected onto the formula's level sets, exact conservation) (default: vanilla,finetune,noether); pixel-pendulum: svg, svg-more-steps, noether (default: all three); ramp, physics101: svg, noether (default: both)"},
			&cli.StringFlag{Name: "loss", Usage: "conservation formula over p and q for tailor, meta-tailor and project, e.g. 'p^2 - 3*cos(q)'"},
			&cli.StringSliceFlag{Name: "loss-param", Usage: "a formula parameter's starting value, name=value (repeatable)"},
			&cli.BoolFlag{Name: "train-loss-params", Usage: "let meta-tailoring train the formula's parameters"},
			&cli.StringFlag{Name: "embedding-sizes", Value: "2,64,64,8", Usage: "layer widths of the noether method's MLP embedding g_phi"},
			&cli.Float64Flag{Name: "embedding-lr", Value: 1e-3, Usage: "outer Adam learning rate of the noether method's embedding g_phi (0 keeps g_phi at its random initialisation)"},
			&cli.StringFlag{Name: "adapt", Value: "cn", Usage: "what tailoring adapts per example: cn (a scale and shift per hidden unit, CNGrad) or all (every weight); pixel-pendulum: latent (the predictor's latent offsets; its default) or cn"},
			&cli.Float64Flag{Name: "inner-lr", Usage: "inner (tailoring) learning rate (default: 100 for noether, 1 for noether with --adapt all, 0.1 with a formula)"},
			&cli.IntFlag{Name: "inner-steps", Value: 1, Usage: "inner steps"},
			&cli.StringFlag{Name: "inner-opt", Value: "sgd", Usage: "inner optimiser: sgd or adam"},
			&cli.StringFlag{Name: "meta-grad", Value: "forward-over-reverse", Usage: "forward-over-reverse, reverse or first-order"},
			&cli.StringFlag{Name: "report", Usage: "write a JSON report here"},
			&cli.BoolFlag{Name: "overwrite", Usage: "replace the run the run folder holds (its phases, plots and manifest)"},
			&cli.BoolFlag{Name: "live", Usage: "show the training in a window as it goes (noether-vk view's window, fed by the trainer's events): closing it never stops training; needs a display"},
			&cli.BoolFlag{Name: "change-rates", Usage: "with --resume: continue the phases from their checkpoints under the learning rates given now (--lr, --meta-lr, --embedding-lr, --inner-lr; after a divergence, lower ones); the manifest records the change"},
			devicesFlag(),
			noTuneFlag(),
		}, append(experimentFlags(50), videoFlags()...)...),
		Action: runTrain,
	}
}

// trainReport is the --report JSON: one entry per method run.
type trainReport struct {
	Device  string         `json:"device"`
	Task    string         `json:"task"`
	Runs    []methodReport `json:"runs"`
	Command []string       `json:"command"`
}

// methodReport is one method's entry; a failed method has Error and no
// numbers.
type methodReport struct {
	Task       string             `json:"task"`
	Method     string             `json:"method"`
	TestRMSE   *float64           `json:"test_rmse,omitempty"`
	TrainRMSE  *float64           `json:"train_rmse,omitempty"`
	Epochs     int                `json:"epochs"`
	Seconds    float64            `json:"seconds"`
	Device     string             `json:"device"`
	Loss       string             `json:"loss,omitempty"`
	LossParams map[string]float64 `json:"loss_params,omitempty"`
	StepRMSE   []float64          `json:"test_rmse_per_step,omitempty"`
	Error      string             `json:"error,omitempty"`
}

// trainRun is a train command checked and ready: its configuration,
// methods, data, and its run folder, locked.
type trainRun struct {
	*runRecord
	cfg     physics.Config
	methods []physics.Method
	data    *physics.Dataset
}

func runTrain(c *cli.Context) error {
	if isVideoTask(c.String("task")) {
		return runTrainVideo(c)
	}
	tr, err := prepareTrain(c)
	if err != nil {
		return err
	}
	defer tr.run.Close()
	devs, err := openTrainDevices(c, tr)
	if err != nil {
		return err
	}
	defer devs.Close()
	d := devs[0]
	if err := tr.begin(); err != nil {
		return err
	}
	if err := devs.record(tr.runRecord); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	out := c.App.Writer
	task := tr.data.Name
	fmt.Fprintf(out, "train: %s on %s\n", task, devs)
	stop, release := stopOnSignal()
	defer release()
	cfg := tr.cfg
	cfg.Progress, cfg.Stop = os.Stderr, stop
	cfg.DataParallel = devs.backends()
	useTuning(c, "train", cfg.DataParallel)
	cfg.Backend = cfg.DataParallel[0]
	cfg.Sinks = append(cfg.Sinks, tr.run.Sink())
	results, runErr := trainWithViewer(c, cfg, tr.data, tr.methods)
	switch {
	case errors.Is(runErr, noether.ErrStopped):
		if err := tr.finish(rundir.StateStopped, runErr, results); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		return stoppedError(runErr, cfg.Dir)
	case runErr != nil && len(results) == 0:
		return errors.Join(fmt.Errorf("train: %w", runErr), tr.finish(rundir.StateFailed, runErr, nil))
	}
	rep := trainReport{Device: d.Info.Name, Task: task, Command: os.Args}
	for _, res := range results {
		rep.Runs = append(rep.Runs, tr.report(res, d.Info.Name))
	}
	printTrain(out, rep, results)
	var errs []error
	if p := c.String("report"); p != "" {
		if err := writeJSON(p, rep); err != nil {
			errs = append(errs, err)
		}
	}
	if err := physics.WritePlots(cfg.Dir, tr.data, results); err != nil {
		errs = append(errs, fmt.Errorf("plots: %w", err))
	}
	fmt.Fprintf(out, "run folder: %s (manifest.json, events.jsonl, checkpoints, plots)\n", cfg.Dir)
	if runErr != nil {
		failed := 0
		for _, r := range results {
			if r.Err != nil {
				failed++
			}
		}
		others := ""
		if failed < len(results) {
			others = " (the others are reported)"
		}
		errs = append(errs, fmt.Errorf("%d of %d methods failed%s: %w%s", failed, len(results), others, runErr, divergedAdvice(runErr)))
	}
	state := rundir.StateDone
	if len(errs) > 0 {
		state = rundir.StateFailed
	}
	errs = append(errs, tr.finish(state, errors.Join(errs...), results))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// prepareTrain checks everything a train needs before the device opens
// and the first step: the flags, the formula, the data, the report path,
// and the run folder (locked; holding no other run, or, on --resume, the
// same run under the same settings).
func prepareTrain(c *cli.Context) (*trainRun, error) {
	cfg, methods, err := trainConfig(c)
	if err != nil {
		return nil, err
	}
	task := c.String("task")
	if err := cfg.Check(task, methods...); err != nil {
		return nil, usageError{fmt.Errorf("train: %w", err)}
	}
	data, err := physics.LoadTask(task, c.String("data"), cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if p := c.String("report"); p != "" {
		if err := probeWritable(p); err != nil {
			return nil, fmt.Errorf("train: --report: %w", err)
		}
	}
	rec, err := openRunRecord(c, cfg.Dir, append(physics.Outputs(), view.RolloutsName), runSettings(cfg, data), cfg.Phases(data, methods...), "--epochs or --baseline-steps")
	if err != nil {
		return nil, err
	}
	return &trainRun{runRecord: rec, cfg: cfg, methods: methods, data: data}, nil
}

// runSettings are the settings every phase and result of a run folder
// shares.
func runSettings(cfg physics.Config, d *physics.Dataset) map[string]string {
	return map[string]string{"task": d.Name, "data": physics.DataChecksum(d), "seed": strconv.FormatUint(cfg.Seed, 10)}
}

// finish records how the run ended in the manifest (runRecord.finish),
// with each result's numbers.
func (tr *trainRun) finish(state string, err error, results []*physics.Result) error {
	var outcomes []methodOutcome
	for _, r := range results {
		outcomes = append(outcomes, methodOutcome{method: string(r.Method), settings: tr.cfg.Settings(tr.data, r.Method), err: r.Err,
			numbers: map[string]float64{"test_rmse": r.TestRMSE, "train_rmse": r.TrainRMSE, "baseline_test_rmse": r.BaselineTest}})
	}
	return tr.runRecord.finish(state, err, outcomes)
}

// report is a method's entry in the --report JSON.
func (tr *trainRun) report(res *physics.Result, device string) methodReport {
	m := res.Method
	epochs := tr.cfg.BaselineSteps
	if m.Trained() {
		epochs = tr.cfg.MetaEpochs
	}
	mr := methodReport{Task: tr.data.Name, Method: string(m), Epochs: epochs, Seconds: res.Seconds, Device: device}
	if tr.cfg.Loss != nil && (m == physics.Tailor || m == physics.MetaTailor || m == physics.Project) {
		mr.Loss = tr.cfg.Loss.String()
	}
	if res.Err != nil {
		mr.Error = res.Err.Error()
		return mr
	}
	mr.TestRMSE, mr.TrainRMSE, mr.LossParams, mr.StepRMSE = &res.TestRMSE, &res.TrainRMSE, res.LossParams, res.StepRMSE
	return mr
}

// divergedAdvice tells how to continue a diverged training phase.
func divergedAdvice(err error) string {
	if !errors.Is(err, noether.ErrDiverged) {
		return ""
	}
	return "\nto continue a diverged phase from its last checkpoint with lower learning rates, add --resume --change-rates with lower --meta-lr, --embedding-lr or --inner-lr"
}

// stopOnSignal turns the first SIGINT or SIGTERM into a closed stop
// channel (the trainer then checkpoints after its current step) and a
// second one into the signal's default action: the process ends at once.
// release undoes it.
func stopOnSignal() (stop <-chan struct{}, release func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	stopped, done := make(chan struct{}), make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(os.Stderr, "\nnoether-vk: %v: stopping after the current step, with a checkpoint (a second signal stops at once)\n", sig)
			close(stopped)
			select {
			case sig := <-sigs:
				signal.Reset(os.Interrupt, syscall.SIGTERM)
				if p, err := os.FindProcess(os.Getpid()); err == nil && p.Signal(sig) == nil {
					select {} // the default action ends the process
				}
				os.Exit(128 + 2) // where a signal cannot be re-raised: as a shell reports SIGINT
			case <-done:
			}
		case <-done:
		}
	}()
	return stopped, func() {
		signal.Stop(sigs)
		close(done)
	}
}

// resumeCommand is the command line that continues this run.
func resumeCommand() string {
	var args []string
	resume := false
	for _, a := range os.Args {
		switch strings.TrimLeft(a, "-") {
		case "overwrite", "overwrite=true":
			continue
		case "resume", "resume=true":
			resume = true
		}
		args = append(args, shellQuote(a))
	}
	if !resume {
		args = append(args, "--resume")
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell where it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,/:+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// probeWritable checks that a file can be written at path, before hours
// of training depend on it: its folder is created if needed and a
// temporary file made and removed there.
func probeWritable(path string) error {
	if path == "-" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a folder", path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("cannot write into %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// openDevice opens the device the global flags choose.
func openDevice(c *cli.Context, command string) (*gpu.Device, error) {
	o, err := gpuOptions(c)
	if err != nil {
		return nil, err
	}
	d, err := gpu.Open(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	return d, nil
}

func printTrain(w io.Writer, rep trainReport, results []*physics.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\tloss\ttest RMSE\ttrain RMSE\tbaseline test RMSE\tseconds")
	for i, r := range rep.Runs {
		loss := r.Loss
		if loss == "" {
			loss = "-"
		}
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\tfailed\t-\t%.4f\t%.0f\n", r.Method, loss, results[i].BaselineTest, r.Seconds)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.4f\t%.4f\t%.0f\n", r.Method, loss, *r.TestRMSE, *r.TrainRMSE, results[i].BaselineTest, r.Seconds)
	}
	tw.Flush()
	for _, r := range rep.Runs {
		if r.Error != "" {
			fmt.Fprintf(w, "%s failed: %s\n", r.Method, r.Error)
		}
	}
	for _, r := range rep.Runs {
		if r.Method == string(physics.FineTune) {
			fmt.Fprintln(w, "finetune is the control: the baseline trained for as many epochs as the meta-trained rows, without tailoring.")
			break
		}
	}
}

// trainConfig turns the flags into an experiment configuration and the
// methods to run; every error is a usage error.
func trainConfig(c *cli.Context) (physics.Config, []physics.Method, error) {
	task := c.String("task")
	cfg, err := experimentConfig(c, task)
	if err != nil {
		return cfg, nil, err
	}
	bad := func(err error) (physics.Config, []physics.Method, error) { return cfg, nil, usageError{err} }
	switch {
	case task != "spring" && task != "pendulum" && task != "real-pendulum":
		return bad(fmt.Errorf("train: --task %q: want spring, pendulum, real-pendulum, pixel-pendulum, ramp or physics101", task))
	case task == "real-pendulum" && c.String("data") == "":
		return bad(fmt.Errorf("train: the real pendulum needs its data file: pass --data PATH to %s (the project's shared/data folder has it)", physics.RealPendulumFile))
	case task != "real-pendulum" && c.IsSet("data"):
		return bad(fmt.Errorf("train: --data is for the real pendulum; %s is generated from --seed", task))
	}
	if _, err := runMode(c); err != nil {
		return cfg, nil, err
	}
	if err := refuseFlags(c, task, videoOnlyFlags); err != nil {
		return cfg, nil, err
	}
	cfg.ChangeRates = c.Bool("change-rates")
	cfg.Adapt = c.String("adapt")
	cfg.EmbedLR = float32(c.Float64("embedding-lr"))
	cfg.EmbedClip = 1000
	cfg.LossParams = map[string]float64{}
	cfg.Inner = noether.Tailoring{Steps: c.Int("inner-steps"), LR: float32(c.Float64("inner-lr"))}
	cfg.DefaultInnerLR = !c.IsSet("inner-lr")
	if cfg.Inner.Opt, cfg.Inner.MetaGrad, err = innerMethod(c); err != nil {
		return cfg, nil, err
	}
	for _, s := range strings.Split(c.String("embedding-sizes"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return bad(fmt.Errorf("--embedding-sizes %q: want positive widths like 2,64,64,8", c.String("embedding-sizes")))
		}
		cfg.EmbedSizes = append(cfg.EmbedSizes, n)
	}
	if cfg.EmbedSizes[0] != 2 {
		return bad(fmt.Errorf("--embedding-sizes: the first width is the state's, 2"))
	}
	if s := c.String("loss"); s != "" {
		if cfg.Loss, err = formulas.Parse(s); err != nil {
			return bad(fmt.Errorf("--loss: %w", err))
		}
	}
	for _, kv := range c.StringSlice("loss-param") {
		name, val, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(val, 64)
		if !ok || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return bad(fmt.Errorf("--loss-param %q: want name=value, the value a finite number", kv))
		}
		if _, twice := cfg.LossParams[name]; twice {
			return bad(fmt.Errorf("--loss-param %s is given twice", name))
		}
		cfg.LossParams[name] = f
	}
	methods := []physics.Method{physics.Vanilla, physics.FineTune, physics.Noether}
	if c.IsSet("method") {
		methods = nil
		for _, name := range strings.Split(c.String("method"), ",") {
			m, err := physics.ParseMethod(strings.TrimSpace(name))
			if err != nil {
				return bad(fmt.Errorf("--method %q: %w", c.String("method"), err))
			}
			methods = append(methods, m)
		}
	}
	uses := slices.ContainsFunc(methods, func(m physics.Method) bool {
		return m == physics.Tailor || m == physics.MetaTailor || m == physics.Project
	})
	if cfg.Loss != nil && !uses {
		return bad(fmt.Errorf("--loss is for tailor, meta-tailor and project, and --method %s has none of them", methodList(methods)))
	}
	return cfg, methods, nil
}

// methodList prints methods as --method takes them.
func methodList(ms []physics.Method) string {
	var s []string
	for _, m := range ms {
		s = append(s, string(m))
	}
	return strings.Join(s, ",")
}
