package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kernelbench"
	"github.com/noether-vk/noether-vk/noether/physics"
	"github.com/noether-vk/noether-vk/noether/video"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench-kernels",
		Usage: "time every kernel at the paper's model shapes against the device's measured ceilings and a CPU baseline",
		Description: "Each kernel is first checked against its CPU reference, then replayed: GPU time from timestamps and wall\n" +
			"time (median, min, max), GFLOP/s, GB/s, the fraction of the roofline given by the device's own FMA and\n" +
			"copy ceilings (measured first, in the same run), and a CPU baseline measured in the same run.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "json", Usage: "also write the results as JSON to `FILE` (- for standard output)"},
			&cli.BoolFlag{Name: "quick", Usage: "fewer repetitions (seconds instead of minutes)"},
			&cli.StringFlag{Name: "ops", Usage: "benchmark only these ops (comma-separated: " + strings.Join(benchOps(), ",") + ")"},
			noTuneFlag(),
			&cli.StringFlag{Name: "video-preset", Value: "default", Usage: "the pixel-pendulum preset whose noether training step " + videoMetaStepOp + " times (" + strings.Join(video.PresetNames(), ", ") + "; paper is sized for a GPU)"},
		},
		Action: runBench,
	}
}

type benchReport struct {
	Device  string               `json:"device"`
	Driver  string               `json:"driver"`
	Peaks   kernelbench.Peaks    `json:"peaks"`
	Results []kernelbench.Result `json:"results"`
}

func runBench(c *cli.Context) error {
	o, err := gpuOptions(c)
	if err != nil {
		return err
	}
	opts := kernelbench.Options{Quick: c.Bool("quick")}
	meta, videoMeta := true, true
	if s := c.String("ops"); s != "" {
		meta, videoMeta = false, false
		for _, op := range strings.Split(s, ",") {
			switch {
			case op == metaStepOp:
				meta = true
			case op == videoMetaStepOp:
				videoMeta = true
			case slices.Contains(kernelbench.Ops(), op):
				opts.Ops = append(opts.Ops, op)
			default:
				return fmt.Errorf("bench-kernels: unknown op %q (known: %s)", op, strings.Join(benchOps(), ", "))
			}
		}
		if len(opts.Ops) == 0 {
			opts.Ops = []string{"none"}
		}
	}
	videoCfg, err := video.Preset(video.PixelPendulum, c.String("video-preset"))
	if err != nil {
		return fmt.Errorf("bench-kernels: --video-preset: %w", err)
	}
	d, err := gpu.Open(o)
	if err != nil {
		return fmt.Errorf("bench-kernels: %w", err)
	}
	defer d.Close()
	start := time.Now()
	opts.Progress = func(i, n int, cs kernelbench.Case) {
		fmt.Fprintf(os.Stderr, "bench-kernels: [%d/%d] %s %s (%.0f s)\n", i+1, n, cs.Op, cs.Shape, time.Since(start).Seconds())
	}
	fmt.Fprintf(os.Stderr, "bench-kernels: measuring the ceilings of %s\n", d.Info.Name)
	v := kernels.NewVulkan(d)
	if !c.Bool(noTune) {
		// Every row then times the tuned program beside the default
		// (the same program where nothing in it is tuned).
		if opts.Tuning = loadTuning("bench-kernels", d.Info); opts.Tuning == nil {
			opts.Tuning = &kernels.Tuning{}
		}
	}
	var peaks kernelbench.Peaks
	var res []kernelbench.Result
	var runErr error
	if len(opts.Ops) != 1 || opts.Ops[0] != "none" {
		peaks, res, runErr = kernelbench.Run(v, opts)
	}
	if meta && runErr == nil {
		res = append(res, benchMetaSteps(v, opts.Quick, opts.Tuning, start)...)
	}
	if videoMeta && runErr == nil {
		videoCfg.Backend = graph.VulkanBackend{Kernels: v}
		res = append(res, benchVideoMetaStep(videoCfg, opts.Quick, start))
	}
	printBench(c.App.Writer, d.Info, peaks, res)
	fmt.Fprintf(c.App.Writer, "\n%d kernels in %.1f s\n", len(res), time.Since(start).Seconds())
	if path := c.String("json"); path != "" {
		driver := strings.TrimSpace(d.Info.DriverName + " " + d.Info.DriverInfo)
		if err := writeJSON(path, benchReport{Device: d.Info.Name, Driver: driver, Peaks: peaks, Results: res}); err != nil {
			return err
		}
	}
	if runErr != nil {
		return runErr
	}
	for _, r := range res {
		if r.Error != "" {
			return cli.Exit(fmt.Sprintf("bench-kernels: %s %s: %s", r.Op, r.Shape, r.Error), 1)
		}
	}
	return nil
}

func printBench(w io.Writer, info gpu.Info, p kernelbench.Peaks, res []kernelbench.Result) {
	fmt.Fprintf(w, "%s: measured ceilings %.1f GFLOP/s (FMA), %.1f GB/s (copy)\n\n", info.Name, p.GFLOPS, p.GBPS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tshape\tgpu ms (min-max)\twall ms\tGFLOP/s\tGB/s\tof roofline\tCPU baseline\tCPU ms\tspeedup\tmax rel err\tdispatches\ttuned ms (min-max)\ttuned/default\t")
	for _, r := range res {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\tERROR: %s\t\t\t\t\t\t\t\t\t\t\t\t\n", r.Op, r.Shape, r.Error)
			continue
		}
		if r.Op == metaStepOp || r.Op == videoMetaStepOp {
			tuned, ratio := tunedColumns(r, r.WallMsMedian, r.TunedWallMsMedian, r.TunedWallMsMin, r.TunedWallMsMax)
			fmt.Fprintf(tw, "%s\t%s\t-\t%.3f (%.3f-%.3f)\t-\t-\t-\t-\t-\t-\t-\t%d\t%s\t%s\t\n", r.Op, r.Shape, r.WallMsMedian, r.WallMsMin, r.WallMsMax, r.Dispatches, tuned, ratio)
			continue
		}
		cpu, cpuMs, speedup := "-", "-", "-"
		if r.CPUBaseline != "" {
			cpu, cpuMs, speedup = r.CPUBaseline, fmt.Sprintf("%.3f", r.CPUBaselineMsMedian), fmt.Sprintf("%.2fx", r.SpeedupVsCPU)
		}
		tuned, ratio := tunedColumns(r, r.GPUMsMedian, r.TunedGPUMsMedian, r.TunedGPUMsMin, r.TunedGPUMsMax)
		fmt.Fprintf(tw, "%s\t%s\t%.3f (%.3f-%.3f)\t%.3f\t%.2f\t%.2f\t%.1f%%\t%s\t%s\t%s\t%.1e\t-\t%s\t%s\t\n",
			r.Op, r.Shape, r.GPUMsMedian, r.GPUMsMin, r.GPUMsMax, r.WallMsMedian, r.GFLOPS, r.GBPS, 100*r.PeakFraction,
			cpu, cpuMs, speedup, r.MaxRelErr, tuned, ratio)
	}
	tw.Flush()
}

// tunedColumns are the tuned time (median and range: GPU time for a
// kernel, wall time for a whole step) and its ratio to the default's
// median; "= default" where nothing is tuned, "-" without tuning.
func tunedColumns(r kernelbench.Result, def, med, lo, hi float64) (tuned, ratio string) {
	switch r.Tuned {
	case kernelbench.TunedVariant:
		return fmt.Sprintf("%.3f (%.3f-%.3f)", med, lo, hi), fmt.Sprintf("%.2fx", med/def)
	case kernelbench.TunedNone:
		return "= default", "1x"
	}
	return "-", "-"
}

// metaStepOp names the whole meta-training step in bench-kernels.
const metaStepOp = "meta_step"

// videoMetaStepOp names the noether method's whole training step on the
// pixel pendulum.
const videoMetaStepOp = "video_meta_step"

func benchOps() []string { return append(kernelbench.Ops(), metaStepOp, videoMetaStepOp) }

// benchedMetaSteps are the meta-training steps bench-kernels times: what
// tailoring adapts and the batch.
var benchedMetaSteps = []struct {
	adapt string
	batch int
}{{"cn", 128}, {"cn", 1125}, {"all", 32}}

// benchMetaSteps times the noether method's whole meta-training step
// (Algorithm 1 with one inner SGD step on the pendulum MLP) as one
// replayed program: wall time per step, upload and read-back included.
// With tuning, the step compiled with it runs too, alternating with the
// default one.
func benchMetaSteps(v *kernels.Vulkan, quick bool, tuning *kernels.Tuning, start time.Time) []kernelbench.Result {
	runs := 20
	if quick {
		runs = 5
	}
	var out []kernelbench.Result
	for _, c := range benchedMetaSteps {
		shape := fmt.Sprintf("%s/b%d", c.adapt, c.batch)
		fmt.Fprintf(os.Stderr, "bench-kernels: %s %s (%.0f s)\n", metaStepOp, shape, time.Since(start).Seconds())
		r := kernelbench.Result{Op: metaStepOp, Shape: shape}
		steps, err := compileMetaSteps(v, c.adapt, c.batch, tuning)
		if err != nil {
			r.Error = err.Error()
			out = append(out, r)
			continue
		}
		r.Dispatches = steps[0].Dispatches
		ms := make([][]float64, len(steps))
		for i := 0; i <= runs && err == nil; i++ {
			for j, step := range steps {
				t0 := time.Now()
				if err = step.Run(); err != nil {
					break
				}
				if i > 0 { // the first run warms up
					ms[j] = append(ms[j], float64(time.Since(t0).Microseconds())/1e3)
				}
			}
		}
		for _, step := range steps {
			step.Close()
		}
		if err != nil {
			r.Error = err.Error()
			out = append(out, r)
			continue
		}
		r.Runs = len(ms[0])
		r.WallMsMedian, r.WallMsMin, r.WallMsMax = kernelbench.Stats(ms[0])
		switch {
		case len(steps) > 1:
			r.Tuned = kernelbench.TunedVariant
			r.TunedWallMsMedian, r.TunedWallMsMin, r.TunedWallMsMax = kernelbench.Stats(ms[1])
		case tuning != nil:
			r.SameAsDefault()
		}
		out = append(out, r)
	}
	return out
}

// compileMetaSteps compiles the meta-training step with the default
// kernels, and a second time with tuning when any tuned variant goes into
// it.
func compileMetaSteps(v *kernels.Vulkan, adapt string, batch int, tuning *kernels.Tuning) ([]*physics.MetaStep, error) {
	compile := func(t *kernels.Tuning) (step *physics.MetaStep, err error) {
		err = v.WithTuning(t, func() error {
			step, err = physics.NewMetaStep(v, adapt, batch)
			return err
		})
		return step, err
	}
	def, err := compile(nil)
	if err != nil {
		return nil, err
	}
	steps := []*physics.MetaStep{def}
	if tuning == nil {
		return steps, nil
	}
	hits := tuning.Hits()
	tuned, err := compile(tuning)
	if err != nil {
		def.Close()
		return nil, err
	}
	if tuning.Hits() == hits {
		tuned.Close()
		return steps, nil
	}
	return append(steps, tuned), nil
}

// benchVideoMetaStep times the noether method's training step on the
// pixel pendulum at a preset's model size and batch (video.NewMetaStep:
// forward, inner step, forward-over-reverse meta-gradient, Adam on the
// embedding) as one replayed program on c.Backend: wall time per step,
// upload and read-back included. Each step takes seconds on lavapipe, so
// it runs fewer times than the physics steps.
func benchVideoMetaStep(c video.Config, quick bool, start time.Time) kernelbench.Result {
	runs := 10
	if quick {
		runs = 3
	}
	r := kernelbench.Result{Op: videoMetaStepOp, Shape: c.Preset}
	fmt.Fprintf(os.Stderr, "bench-kernels: %s %s: compiling (%.0f s)\n", videoMetaStepOp, c.Preset, time.Since(start).Seconds())
	step, err := video.NewMetaStep(c)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer step.Close()
	r.Shape, r.Dispatches = step.Shape, step.Dispatches
	var ms []float64
	for i := 0; i <= runs; i++ {
		what := fmt.Sprintf("run %d of %d", i, runs)
		if i == 0 {
			what = "warm-up run"
		}
		fmt.Fprintf(os.Stderr, "bench-kernels: %s %s: %s (%.0f s)\n", videoMetaStepOp, step.Shape, what, time.Since(start).Seconds())
		t0 := time.Now()
		if _, err := step.Run(); err != nil {
			r.Error = err.Error()
			return r
		}
		if i > 0 { // the first run warms up
			ms = append(ms, float64(time.Since(t0).Microseconds())/1e3)
		}
	}
	r.Runs = len(ms)
	r.WallMsMedian, r.WallMsMin, r.WallMsMax = kernelbench.Stats(ms)
	return r
}
