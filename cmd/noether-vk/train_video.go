package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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
const pixelPendulum = string(video.PixelPendulum)

// isVideoTask says whether train's --task is one of the video tasks
// (pixel-pendulum, ramp, physics101).
func isVideoTask(task string) bool {
	_, err := video.ParseTask(task)
	return err == nil
}

// Flags of train that only one kind of task reads: given with the other
// kind they are refused rather than ignored. --data is both kinds'
// (the real pendulum's file, Physics 101's folder).
var (
	physicsOnlyFlags = []string{"loss", "loss-param", "train-loss-params", "embedding-sizes", "baseline-steps",
		"meta-lr", "weight-decay", "noether-step", "substeps", "live", noTune}
	videoOnlyFlags = []string{"preset", "svg-epochs", "image-size", "history", "horizon", "lpips", "inner-curve-steps", "cache", "clips", "order"}
)

// videoFlags are train's flags for the video tasks alone.
func videoFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "preset", Value: "default", Usage: "video tasks: default (minutes on a CPU: pixel-pendulum 32 px, a DCGAN SVG of width 8, 10 + 4 + 4 epochs; ramp and physics101 64 px, a VGG SVG of width 4, 4 epochs each) or paper (for a GPU: pixel-pendulum 64 px VGG-64, 50 + 20 + 20 epochs; ramp and physics101 the Noether code's 128 px VGG-128 run, batch 2, 400 epochs each)"},
		&cli.IntFlag{Name: "svg-epochs", Usage: "video tasks: epochs of svg (default: the preset's)"},
		&cli.IntFlag{Name: "image-size", Usage: "video tasks: the frames' side in pixels, 4·2^k (default: the preset's)"},
		&cli.IntFlag{Name: "history", Usage: "video tasks: context frames given (default: pixel-pendulum 4, ramp and physics101 2)"},
		&cli.IntFlag{Name: "horizon", Usage: "video tasks: frames predicted (default: pixel-pendulum 26, ramp and physics101 20)"},
		&cli.StringFlag{Name: "lpips", Usage: "video tasks: LPIPS weights (safetensors, made by tools/pth2safetensors from the two published files): score every predicted frame by LPIPS too (test_lpips)"},
		&cli.IntFlag{Name: "inner-curve-steps", Usage: "video tasks with noether: inner Adam steps of the inner-loss curve (Figure 6) from the trained model, 0 for none (default: the preset's; ramp and physics101 100 or 500)"},
		&cli.StringFlag{Name: "cache", Usage: "physics101: the folder of decoded clips (default: the user's cache folder, noether-vk/phys101)"},
		&cli.StringFlag{Name: "order", Usage: "physics101: the clip order to split by, the reference's data/phys101.py as it is (default: our own fixed shuffle)"},
		&cli.IntSliceFlag{Name: "clips", Usage: "physics101: training and test clips, TRAIN,TEST, the first usable ones in the split order (default 311,78, the reference's; 0,0 splits every usable clip 311:78)"},
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
	case isVideoTask(task):
		return usagef("train: %s: for the physics tasks (spring, pendulum, real-pendulum), not --task %s", strings.Join(given, ", "), task)
	}
	return usagef("train: %s: for the video tasks (pixel-pendulum, ramp, physics101) only, not --task %s", strings.Join(given, ", "), task)
}

// videoConfig turns the flags into a video task's configuration (the
// preset's, with the flags given on top) and the methods to run;
// everything is checked but the device. Every error is a usage error.
func videoConfig(c *cli.Context) (video.Config, []video.Method, error) {
	task := video.Task(c.String("task"))
	if err := refuseFlags(c, string(task), physicsOnlyFlags); err != nil {
		return video.Config{}, nil, err
	}
	if _, err := runMode(c); err != nil {
		return video.Config{}, nil, err
	}
	cfg, err := video.Preset(task, c.String("preset"))
	if err != nil {
		return cfg, nil, usagef("train: --preset: %w", err)
	}
	switch {
	case task == video.Physics101 && c.String("data") == "":
		return cfg, nil, usagef("train: --task physics101 needs --data DIR, the folder Physics 101 was extracted into (holding phys101/scenarios/ramp)")
	case task == video.Physics101:
		if st, err := os.Stat(c.String("data")); err != nil || !st.IsDir() {
			return cfg, nil, usagef("train: --data %s: not a folder (want the folder Physics 101 was extracted into)", c.String("data"))
		}
		cfg.Phys101.Root = c.String("data")
		cfg.Phys101.CacheDir = c.String("cache")
		cfg.Phys101.OrderFile = c.String("order")
		if c.IsSet("clips") {
			n := c.IntSlice("clips")
			if len(n) != 2 || n[0] < 0 || n[1] < 0 || (n[0] == 0) != (n[1] == 0) {
				return cfg, nil, usagef("train: --clips %v: want TRAIN,TEST, both above 0, or 0,0 to split every usable clip", n)
			}
			cfg.Phys101.TrainClips, cfg.Phys101.TestClips = n[0], n[1]
		}
	case c.IsSet("data"):
		return cfg, nil, usagef("train: --data: --task %s makes its own data (--data is for real-pendulum and physics101)", task)
	case c.IsSet("cache") || c.IsSet("clips") || c.IsSet("order"):
		return cfg, nil, usagef("train: --cache, --clips, --order: for --task physics101 only")
	}
	if c.IsSet("lpips") {
		cfg.LPIPS = c.String("lpips")
		if _, err := os.Stat(cfg.LPIPS); err != nil {
			return cfg, nil, usagef("train: --lpips: %w (tools/pth2safetensors converts the two published LPIPS files)", err)
		}
	}
	run, err := experimentConfig(c, string(task))
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
		{"inner-curve-steps", []*int{&cfg.InnerCurveSteps}},
		{"image-size", []*int{&cfg.Model.ImageSize, &cfg.Data.Height, &cfg.Data.Width, &cfg.Ramp.Height, &cfg.Ramp.Width, &cfg.Phys101.Size}},
		{"history", []*int{&cfg.Model.NPast, &cfg.Data.History, &cfg.Ramp.History}},
		{"horizon", []*int{&cfg.Model.NFuture, &cfg.Data.Horizon, &cfg.Ramp.Horizon}},
	} {
		if c.IsSet(f.name) {
			for _, p := range f.to {
				*p = c.Int(f.name)
			}
		}
	}
	cfg.Phys101.Frames = cfg.Model.Frames()
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
			return cfg, nil, usagef("train: --adapt %q: the video tasks adapt latent (the predictor's latent offsets, the pixel pendulum's default) or cn (the encoder's and decoder's CN sites, ramp's and physics101's)", a)
		}
	}
	if cfg.Inner.Opt, cfg.Inner.MetaGrad, err = innerMethod(c); err != nil {
		return cfg, nil, err
	}
	methods := video.Methods()
	if cfg.NoetherFromScratch {
		// svg-more-steps continues svg, which noether does not start from.
		methods = []video.Method{video.SVG, video.Noether}
	}
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
	if !slices.Contains(methods, video.Noether) && !c.IsSet("inner-curve-steps") {
		cfg.InnerCurveSteps = 0 // the preset's curve is noether's
	}
	// Check wants a backend, and the device opens only once the command
	// line is known to be good: the CPU executor stands in for the check.
	checked := cfg
	checked.Backend = graph.CPUBackend{}
	if err := checked.Check(methods...); err != nil {
		return cfg, nil, usagef("train: --task %s: %w", task, err)
	}
	return cfg, methods, nil
}

// videoSettings are the settings every phase and result of a video run
// folder shares.
func videoSettings(cfg video.Config) map[string]string {
	return map[string]string{"task": string(cfg.Task), "preset": cfg.Preset, "seed": strconv.FormatUint(cfg.Seed, 10)}
}

// videoReport is a video task's --report JSON: one entry per method
// asked for.
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

// runTrainVideo is train --task pixel-pendulum, ramp or physics101: it
// checks everything, takes the run folder, trains and evaluates each
// method (video.Config.Run), and writes the table, the report and the
// manifest.
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
	rec, err := openRunRecord(c, cfg.Dir, cfg.Outputs(methods...), videoSettings(cfg), cfg.Phases(methods...), "--svg-epochs or --epochs")
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
	fmt.Fprintf(out, "train: %s, preset %s, seed %d, on %s (%s)\n", cfg.Task, cfg.Preset, cfg.Seed, d.Info.Name, d.Info.DriverName)
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
	rep := videoReport{Device: d.Info.Name, Task: string(cfg.Task), Preset: cfg.Preset, Seed: cfg.Seed, PSNRCap: video.PSNRCap, Command: os.Args}
	epochs := map[video.Method]int{video.SVG: cfg.SVGEpochs, video.SVGMoreSteps: cfg.MoreEpochs, video.Noether: cfg.NoetherEpochs}
	for i, m := range methods {
		mr := videoMethodReport{Task: string(cfg.Task), Method: string(m), Epochs: epochs[m], Device: d.Info.Name}
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
	fmt.Fprintf(out, "run folder: %s (manifest.json, results.json; per phase events.jsonl, checkpoint.safetensors; the plots mse, psnr, ssim, loss%s; the strips)\n", cfg.Dir, extraPlots(cfg))
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
		numbers := map[string]float64{"test_mse": r.TestMSE, "test_psnr": r.TestPSNR, "test_ssim": r.TestSSIM}
		if r.TestLPIPS != nil {
			numbers["test_lpips"] = *r.TestLPIPS
		}
		out = append(out, methodOutcome{method: string(r.Method), settings: cfg.Settings(r.Method), numbers: numbers})
	}
	if runErr != nil && !errors.Is(runErr, noether.ErrStopped) && len(results) < len(methods) {
		m := methods[len(results)]
		out = append(out, methodOutcome{method: string(m), settings: cfg.Settings(m), err: runErr})
	}
	return out
}

// extraPlots names the plots a run draws besides mse, psnr, ssim and loss.
func extraPlots(cfg video.Config) string {
	var s string
	if cfg.LPIPS != "" {
		s += ", " + video.LPIPSName
	}
	if cfg.InnerCurveSteps > 0 {
		s += ", " + video.InnerCurveName + " (Figure 6)"
	}
	return s
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
	fmt.Fprintln(tw, "method\ttest MSE\tPSNR (dB)\tSSIM\tLPIPS\tlast frame: MSE\tPSNR\tSSIM\tepochs\tseconds")
	for _, r := range rep.Runs {
		if r.Result == nil {
			fmt.Fprintf(tw, "%s\tfailed\t-\t-\t-\t-\t-\t-\t%d\t-\n", r.Method, r.Epochs)
			continue
		}
		n := len(r.MSEPerStep) - 1
		lpips := "-"
		if r.TestLPIPS != nil {
			lpips = fmt.Sprintf("%.4f", *r.TestLPIPS)
		}
		fmt.Fprintf(tw, "%s\t%.5f\t%.2f\t%.4f\t%s\t%.5f\t%.2f\t%.4f\t%d\t%.0f\n", r.Method, r.TestMSE, r.TestPSNR, r.TestSSIM, lpips,
			r.MSEPerStep[n], r.PSNRPerStep[n], r.SSIMPerStep[n], r.Epochs, r.Seconds)
	}
	tw.Flush()
	for _, r := range rep.Runs {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Method, r.Error)
		}
	}
	if rep.Task == pixelPendulum {
		fmt.Fprintf(w, "means over %d test episodes' predicted frames; seconds: each method's own phase and evaluation (svg's phase, counted in its row, is the other two's start).\n", episodes(rep))
		fmt.Fprintln(w, "svg-more-steps is the control: svg trained as many more epochs as noether meta-trains.")
		return
	}
	fmt.Fprintf(w, "means over %d test clips' predicted frames; seconds: each method's own training and evaluation (noether trains the SVG and its embedding from svg's start).\n", episodes(rep))
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
