package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/video"
)

// pixelPendulum is the video task of the paper's Figure 3: SVG, SVG with
// more steps and a Noether Network predicting the pendulum's frames
// (package noether/video).
const pixelPendulum = "pixel-pendulum"

// Flags of train that only one kind of task reads: given with the other
// kind they are refused rather than ignored.
var (
	physicsOnlyFlags = []string{"data", "loss", "loss-param", "train-loss-params", "embedding-sizes", "baseline-steps",
		"meta-lr", "weight-decay", "noether-step", "substeps", "live"}
	videoOnlyFlags = []string{"preset", "svg-epochs", "image-size", "history", "horizon"}
)

// videoFlags are train's flags for the pixel pendulum alone.
func videoFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "preset", Value: "default", Usage: "pixel-pendulum: default (32 px frames, a DCGAN SVG of width 8, 10 + 4 + 4 epochs: minutes on a CPU) or paper (64 px, VGG-64, 50 + 20 + 20 epochs: for a GPU)"},
		&cli.IntFlag{Name: "svg-epochs", Usage: "pixel-pendulum: epochs of the base SVG (default: the preset's, 10 or 50)"},
		&cli.IntFlag{Name: "image-size", Usage: "pixel-pendulum: the frames' side in pixels, 4·2^k (default: the preset's, 32 or 64)"},
		&cli.IntFlag{Name: "history", Usage: "pixel-pendulum: context frames given (default 4)"},
		&cli.IntFlag{Name: "horizon", Usage: "pixel-pendulum: frames predicted (default 26)"},
	}
}

// refuseFlags refuses those of names given on the command line, which
// the task does not read.
func refuseFlags(c *cli.Context, task string, names []string) error {
	var given []string
	for _, n := range names {
		if c.IsSet(n) {
			given = append(given, "--"+n)
		}
	}
	switch {
	case len(given) == 0:
		return nil
	case task == pixelPendulum:
		return usagef("train: %s: for the physics tasks (spring, pendulum, real-pendulum), not --task %s", strings.Join(given, ", "), task)
	}
	return usagef("train: %s: for --task %s only, not --task %s", strings.Join(given, ", "), pixelPendulum, task)
}

// videoConfig turns the flags into the pixel pendulum's configuration
// (the preset's, with the flags given on top) and the methods to run;
// everything is checked but the device. Every error is a usage error.
func videoConfig(c *cli.Context) (video.Config, []video.Method, error) {
	if err := refuseFlags(c, pixelPendulum, physicsOnlyFlags); err != nil {
		return video.Config{}, nil, err
	}
	if _, err := runMode(c); err != nil {
		return video.Config{}, nil, err
	}
	cfg, err := video.Preset(c.String("preset"))
	if err != nil {
		return cfg, nil, usagef("train: --preset: %w", err)
	}
	run, err := experimentConfig(c, pixelPendulum)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Seed, cfg.Dir, cfg.Resume, cfg.CheckpointEvery = run.Seed, run.Dir, run.Resume, run.CheckpointEvery
	cfg.ChangeRates = c.Bool("change-rates")
	// The preset's value stands unless the flag is given: the shared
	// flags' own defaults are the physics tasks'.
	for _, f := range []struct {
		name string
		to   []*int
	}{
		{"svg-epochs", []*int{&cfg.SVGEpochs}},
		{"epochs", []*int{&cfg.MoreEpochs, &cfg.NoetherEpochs}}, // the control trains as long as Algorithm 1
		{"batch", []*int{&cfg.Batch}},
		{"inner-steps", []*int{&cfg.Inner.Steps}},
		{"image-size", []*int{&cfg.Model.ImageSize, &cfg.Data.Height, &cfg.Data.Width}},
		{"history", []*int{&cfg.Model.NPast, &cfg.Data.History}},
		{"horizon", []*int{&cfg.Model.NFuture, &cfg.Data.Horizon}},
	} {
		if c.IsSet(f.name) {
			for _, p := range f.to {
				*p = c.Int(f.name)
			}
		}
	}
	for _, f := range []struct {
		name string
		to   *float32
	}{{"lr", &cfg.LR}, {"embedding-lr", &cfg.EmbedLR}, {"inner-lr", &cfg.Inner.LR}} {
		if c.IsSet(f.name) {
			*f.to = float32(c.Float64(f.name))
		}
	}
	if c.IsSet("adapt") {
		switch a := c.String("adapt"); a {
		case "latent":
			cfg.Adapt = video.AdaptOffsets
		case "cn":
			cfg.Adapt = video.AdaptCN
		default:
			return cfg, nil, usagef("train: --adapt %q: the pixel pendulum adapts latent (the predictor's latent offsets, the default) or cn (the encoder's and decoder's CN sites)", a)
		}
	}
	if cfg.Inner.Opt, cfg.Inner.MetaGrad, err = innerMethod(c); err != nil {
		return cfg, nil, err
	}
	methods := video.Methods()
	if c.IsSet("method") {
		methods = nil
		for _, name := range strings.Split(c.String("method"), ",") {
			m, err := video.ParseMethod(strings.TrimSpace(name))
			if err != nil {
				return cfg, nil, usagef("train: --method %q: %w", c.String("method"), err)
			}
			methods = append(methods, m)
		}
	}
	// Check wants a backend, and the device opens only once the command
	// line is known to be good: the CPU executor stands in for the check.
	checked := cfg
	checked.Backend = graph.CPUBackend{}
	if err := checked.Check(methods...); err != nil {
		return cfg, nil, usagef("train: --task %s: %w", pixelPendulum, err)
	}
	return cfg, methods, nil
}

// videoSettings are the settings every phase and result of a pixel
// pendulum's run folder shares.
func videoSettings(cfg video.Config) map[string]string {
	return map[string]string{"task": pixelPendulum, "preset": cfg.Preset, "seed": strconv.FormatUint(cfg.Seed, 10)}
}

// videoReport is the pixel pendulum's --report JSON: one entry per
// method asked for.
type videoReport struct {
	Device string `json:"device"`
	Task   string `json:"task"`
	Preset string `json:"preset"`
	Seed   uint64 `json:"seed"`
	// PSNRCap is the most decibels a frame's channel scores
	// (video.PSNRCap): an exact channel's PSNR is infinite.
	PSNRCap float64             `json:"psnr_cap_db"`
	Runs    []videoMethodReport `json:"runs"`
	Command []string            `json:"command"`
}

// videoMethodReport is one method's entry: video.Result's numbers under
// their JSON names (test_mse, test_psnr, test_ssim, mse_per_step, ...),
// or, for a method that failed or did not run, Error and no numbers.
type videoMethodReport struct {
	Task   string `json:"task"`
	Method string `json:"method"`
	*video.Result
	Epochs int    `json:"epochs"` // its own phase's (svg's for svg)
	Device string `json:"device"`
	Error  string `json:"error,omitempty"`
}

// runTrainVideo is train --task pixel-pendulum: it checks everything, takes
// the run folder, trains and evaluates each method (video.Config.Run), and
// writes the table, the report and the manifest.
func runTrainVideo(c *cli.Context) error {
	cfg, methods, err := videoConfig(c)
	if err != nil {
		return err
	}
	if p := c.String("report"); p != "" {
		if err := probeWritable(p); err != nil {
			return fmt.Errorf("train: --report: %w", err)
		}
	}
	rec, err := openRunRecord(c, cfg.Dir, video.Outputs(cfg.Strips), videoSettings(cfg), cfg.Phases(methods...), "--svg-epochs or --epochs")
	if err != nil {
		return err
	}
	defer rec.run.Close()
	d, err := openDevice(c, "train")
	if err != nil {
		return err
	}
	defer d.Close()
	if err := rec.begin(); err != nil {
		return err
	}
	out := c.App.Writer
	fmt.Fprintf(out, "train: %s, preset %s, seed %d, on %s (%s)\n", pixelPendulum, cfg.Preset, cfg.Seed, d.Info.Name, d.Info.DriverName)
	stop, release := stopOnSignal()
	defer release()
	cfg.Progress, cfg.Stop = os.Stderr, stop
	cfg.Backend = graph.VulkanBackend{Kernels: kernels.NewVulkan(d)}
	cfg.Sinks = append(cfg.Sinks, rec.run.Sink())
	results, runErr := cfg.Run(methods...)
	switch {
	case errors.Is(runErr, noether.ErrStopped):
		if err := rec.finish(rundir.StateStopped, runErr, videoOutcomes(cfg, methods, results, runErr)); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		return stoppedError(runErr, cfg.Dir)
	case runErr != nil && len(results) == 0:
		return errors.Join(fmt.Errorf("train: %w", runErr), rec.finish(rundir.StateFailed, runErr, nil))
	}
	rep := videoReport{Device: d.Info.Name, Task: pixelPendulum, Preset: cfg.Preset, Seed: cfg.Seed, PSNRCap: video.PSNRCap, Command: os.Args}
	epochs := map[video.Method]int{video.SVG: cfg.SVGEpochs, video.SVGMoreSteps: cfg.MoreEpochs, video.Noether: cfg.NoetherEpochs}
	for i, m := range methods {
		mr := videoMethodReport{Task: pixelPendulum, Method: string(m), Epochs: epochs[m], Device: d.Info.Name}
		switch {
		case i < len(results):
			mr.Result = results[i]
		case i == len(results):
			mr.Error = runErr.Error()
		default:
			mr.Error = "not run: an earlier method failed"
		}
		rep.Runs = append(rep.Runs, mr)
	}
	printVideo(out, rep)
	var errs []error
	if p := c.String("report"); p != "" {
		if err := writeJSON(p, rep); err != nil {
			errs = append(errs, err)
		}
	}
	fmt.Fprintf(out, "run folder: %s (manifest.json; per phase events.jsonl, checkpoint.safetensors; the plots mse, psnr, ssim and loss; the strips)\n", cfg.Dir)
	if runErr != nil {
		errs = append(errs, fmt.Errorf("%d of %d methods ran (they are reported): %w%s", len(results), len(methods), runErr, videoDivergedAdvice(runErr)))
	}
	state := rundir.StateDone
	if len(errs) > 0 {
		state = rundir.StateFailed
	}
	errs = append(errs, rec.finish(state, errors.Join(errs...), videoOutcomes(cfg, methods, results, runErr)))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// videoOutcomes are the methods' outcomes for the manifest: the numbers
// of those that ran, then the error of the one that failed (none when
// the run was stopped).
func videoOutcomes(cfg video.Config, methods []video.Method, results []*video.Result, runErr error) []methodOutcome {
	var out []methodOutcome
	for _, r := range results {
		out = append(out, methodOutcome{method: string(r.Method), settings: cfg.Settings(r.Method),
			numbers: map[string]float64{"test_mse": r.TestMSE, "test_psnr": r.TestPSNR, "test_ssim": r.TestSSIM}})
	}
	if runErr != nil && !errors.Is(runErr, noether.ErrStopped) && len(results) < len(methods) {
		m := methods[len(results)]
		out = append(out, methodOutcome{method: string(m), settings: cfg.Settings(m), err: runErr})
	}
	return out
}

// videoDivergedAdvice tells how to continue a diverged phase.
func videoDivergedAdvice(err error) string {
	if !errors.Is(err, noether.ErrDiverged) {
		return ""
	}
	return "\nto continue a diverged phase from its last checkpoint with lower learning rates, add --resume --change-rates with a lower --lr (svg, svg-more-steps), or --embedding-lr or --inner-lr (noether)"
}

// printVideo prints the report as a table: each method's means over the
// test frames and its scores at the last predicted frame.
func printVideo(w io.Writer, rep videoReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\ttest MSE\tPSNR (dB)\tSSIM\tlast frame: MSE\tPSNR\tSSIM\tepochs\tseconds")
	for _, r := range rep.Runs {
		if r.Result == nil {
			fmt.Fprintf(tw, "%s\tfailed\t-\t-\t-\t-\t-\t%d\t-\n", r.Method, r.Epochs)
			continue
		}
		n := len(r.MSEPerStep) - 1
		fmt.Fprintf(tw, "%s\t%.5f\t%.2f\t%.4f\t%.5f\t%.2f\t%.4f\t%d\t%.0f\n", r.Method, r.TestMSE, r.TestPSNR, r.TestSSIM,
			r.MSEPerStep[n], r.PSNRPerStep[n], r.SSIMPerStep[n], r.Epochs, r.Seconds)
	}
	tw.Flush()
	for _, r := range rep.Runs {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Method, r.Error)
		}
	}
	fmt.Fprintf(w, "means over %d test episodes' predicted frames; seconds: each method's own phase and evaluation (the base svg's training is all three's start).\n", episodes(rep))
	fmt.Fprintln(w, "svg-more-steps is the control: svg trained as many more epochs as noether meta-trains.")
}

// episodes is the number of test episodes the report's results scored.
func episodes(rep videoReport) int {
	for _, r := range rep.Runs {
		if r.Result != nil {
			return r.Episodes
		}
	}
	return 0
}
