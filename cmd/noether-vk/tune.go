package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/atomicfile"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kernelbench"
	"github.com/noether-vk/noether-vk/kernels/tune"
	"github.com/noether-vk/noether-vk/noether/physics"
	"github.com/noether-vk/noether-vk/noether/video"
)

// noTune names the flag of train and bench-kernels that runs the default
// kernels whatever the tuning cache holds.
const noTune = "no-tune"

func noTuneFlag() cli.Flag {
	return &cli.BoolFlag{Name: noTune, Usage: "run the default kernel variants, ignoring what noether-vk tune chose for this device"}
}

// tuneShapeSets are the sets of products tune can time.
var tuneShapeSets = []string{"train", "bench", "video"}

func tuneCommand() *cli.Command {
	return &cli.Command{
		Name:  "tune",
		Usage: "time the kernel variants at the shapes a model uses on this device, and keep the fastest for train and bench-kernels",
		Description: `Learns the matrix products (those of the convolutions in GEMM form included) and the
convolution passes that the programs of --shapes record: train (train's default run: the pendulum, the MLP baseline, the control and a
Noether Network, each compiled and run for one step in a temporary folder), bench
(bench-kernels' kernels and meta-training steps) and video (the pixel pendulum's noether training
step at the default preset, as bench-kernels' video_meta_step times it). For each product it times the candidate variants
(register tiles and shared-memory tiles) interleaved, after checking that each gives the default's
bits, and keeps the fastest only if it beats the default by 3% in a final interleaved comparison.
Each convolution pass is tuned the same way among its forms (direct, GEMM with im2col, implicit
GEMM), checked against the default form within 1e-4 of the result's largest magnitude: the forms
add in different orders, so a tuned form changes results by rounding.
The choices go to --cache (default: noether-vk/tuning.json in the user's cache directory), each as
soon as it is made (a tune stopped part-way keeps the products it finished), keyed by
the device's name, its driver and the product's shape; train and bench-kernels use them unless given
--no-tune. Tuned products change no result: every matmul variant adds in the same order.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "shapes", Value: "train", Usage: "comma-separated sets of products to tune: " + strings.Join(tuneShapeSets, ", ")},
			&cli.StringFlag{Name: "cache", Usage: "the tuning cache `FILE` (default: noether-vk/tuning.json in the user's cache directory)"},
			&cli.BoolFlag{Name: "quick", Usage: "fewer timed runs (for a smoke test)"},
			&cli.StringFlag{Name: "json", Usage: "also write each product's result as JSON to `FILE` (- for standard output)"},
		},
		Action: runTune,
	}
}

// tuneReport is tune's --json.
type tuneReport struct {
	Device   string       `json:"device"`
	Driver   string       `json:"driver"`
	Cache    string       `json:"cache"`
	Seconds  float64      `json:"seconds"`
	Products []tuneResult `json:"products"`
	Convs    []tuneConv   `json:"convs"`
}

type tuneConv struct {
	Key        string          `json:"key"`
	Choice     tune.ConvChoice `json:"choice"`
	Candidates int             `json:"candidates"`
	Rejected   []string        `json:"rejected,omitempty"`
	Error      string          `json:"error,omitempty"`
}

type tuneResult struct {
	Key        string      `json:"key"`
	Choice     tune.Choice `json:"choice"`
	Candidates int         `json:"candidates"`
	Rejected   []string    `json:"rejected,omitempty"`
	Error      string      `json:"error,omitempty"`
}

func runTune(c *cli.Context) error {
	var sets []string
	for _, s := range strings.Split(c.String("shapes"), ",") {
		if s = strings.TrimSpace(s); !slices.Contains(tuneShapeSets, s) {
			return usagef("tune: --shapes %q: want a comma-separated list of %s", c.String("shapes"), strings.Join(tuneShapeSets, ", "))
		}
		sets = append(sets, s)
	}
	path, err := tuneCachePath(c)
	if err != nil {
		return err
	}
	if err := probeWritable(path); err != nil {
		return fmt.Errorf("tune: --cache: %w", err)
	}
	d, err := openDevice(c, "tune")
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	v := kernels.NewVulkan(d)
	products, convs, err := tuneShapes(c, v, sets)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "tune: %d products and %d conv passes on %s (%.0f s)\n", len(products), len(convs), d.Info.Name, time.Since(start).Seconds())
	o := tune.Options{Progress: func(i, n int, what string) {
		fmt.Fprintf(os.Stderr, "tune: [%d/%d] %s (%.0f s)\n", i+1, n, what, time.Since(start).Seconds())
	}}
	if c.Bool("quick") {
		o.Rounds, o.Confirm = 2, 3
	}
	// Each choice is saved as it is made: a tune stopped part-way (a time
	// limit, a kill) keeps the products it finished.
	var saveErr error
	o.Done = func(r tune.Result) {
		if r.Err == nil && saveErr == nil {
			saveErr = saveTuning(path, d.Info, map[string]tune.Choice{r.Key: r.Choice}, nil)
		}
	}
	results := tune.Run(v, products, o)
	convResults := tune.RunConvs(v, convs, o, func(r tune.ConvResult) {
		if r.Err == nil && saveErr == nil {
			saveErr = saveTuning(path, d.Info, nil, map[string]tune.ConvChoice{r.Key: r.Choice})
		}
	})
	if saveErr != nil {
		return fmt.Errorf("tune: %w", saveErr)
	}
	rep := tuneReport{Device: d.Info.Name, Driver: tune.DriverKey(d.Info), Cache: path}
	var failed []string
	for _, r := range results {
		tr := tuneResult{Key: r.Key, Choice: r.Choice, Candidates: r.Candidates, Rejected: r.Rejected}
		if r.Err != nil {
			tr.Error = r.Err.Error()
			failed = append(failed, r.Err.Error())
		}
		rep.Products = append(rep.Products, tr)
	}
	for _, r := range convResults {
		tc := tuneConv{Key: r.Key, Choice: r.Choice, Candidates: r.Candidates, Rejected: r.Rejected}
		if r.Err != nil {
			tc.Error = r.Err.Error()
			failed = append(failed, r.Err.Error())
		}
		rep.Convs = append(rep.Convs, tc)
	}
	rep.Seconds = time.Since(start).Seconds()
	printTune(c.App.Writer, rep)
	if p := c.String("json"); p != "" {
		if err := writeJSON(p, rep); err != nil {
			return fmt.Errorf("tune: --json: %w", err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("tune: %d of %d products and conv passes could not be tuned (they run the default): %s", len(failed), len(results)+len(convResults), strings.Join(failed, "; "))
	}
	return nil
}

// tuneCachePath is --cache, or the default cache file.
func tuneCachePath(c *cli.Context) (string, error) {
	if p := c.String("cache"); p != "" {
		return p, nil
	}
	return tune.DefaultPath()
}

// tuneShapes compiles the programs of the shape sets on v with an empty
// tuning and returns the products and conv passes they recorded.
func tuneShapes(c *cli.Context, v *kernels.Vulkan, sets []string) ([]kernels.MatMulParams, []kernels.ConvPrim, error) {
	v.Tuning = &kernels.Tuning{}
	defer func() { v.Tuning = nil }()
	for _, set := range sets {
		var err error
		switch set {
		case "train":
			err = runTrainDefaultBriefly(c, v)
		case "video":
			err = recordVideoMetaStep(v)
		case "bench":
			err = kernelbench.Record(v, kernelbench.Options{})
			for _, s := range benchedMetaSteps {
				if err != nil {
					break
				}
				var step *physics.MetaStep
				if step, err = physics.NewMetaStep(v, s.adapt, s.batch); err == nil {
					step.Close()
				}
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("tune: learning the products of --shapes %s: %w", set, err)
		}
	}
	return v.Tuning.Missed(), v.Tuning.MissedConvs(), nil
}

// recordVideoMetaStep compiles the pixel pendulum's noether training step
// at the default preset on v (what bench-kernels' video_meta_step times),
// which records its products.
func recordVideoMetaStep(v *kernels.Vulkan) error {
	cfg, err := video.Preset(video.PixelPendulum, "default")
	if err != nil {
		return err
	}
	cfg.Backend = graph.VulkanBackend{Kernels: v}
	step, err := video.NewMetaStep(cfg)
	if err != nil {
		return err
	}
	step.Close()
	return nil
}

// runTrainDefaultBriefly runs train's default (every flag at its default
// but one baseline step and one epoch) on v in a temporary run folder:
// every program of the run compiled and run once.
func runTrainDefaultBriefly(c *cli.Context, v *kernels.Vulkan) error {
	dir, err := os.MkdirTemp("", "noether-vk-tune-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	set := flag.NewFlagSet("train", flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range trainCommand().Flags {
		if err := f.Apply(set); err != nil {
			return err
		}
	}
	if err := set.Parse([]string{"--baseline-steps", "1", "--epochs", "1", "--out", dir}); err != nil {
		return err
	}
	cfg, methods, err := trainConfig(cli.NewContext(c.App, set, nil))
	if err != nil {
		return err
	}
	data, err := physics.LoadTask("pendulum", "", cfg.Seed)
	if err != nil {
		return err
	}
	cfg.Backend = graph.VulkanBackend{Kernels: v}
	results, err := cfg.Run(data, methods...)
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.Err != nil {
			return fmt.Errorf("%s: %w", r.Method, r.Err)
		}
	}
	return nil
}

func printTune(w io.Writer, rep tuneReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "product\tcandidates\tdefault ms\ttuned ms\tkept")
	for _, r := range rep.Products {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\tdefault (%s)\n", r.Key, r.Candidates, r.Error)
			continue
		}
		kept := "default"
		if !r.Choice.Default {
			kept = r.Choice.Variant.String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%s\n", r.Key, r.Candidates, r.Choice.DefaultMs, r.Choice.TunedMs, kept)
	}
	for _, r := range rep.Convs {
		if r.Error != "" {
			fmt.Fprintf(tw, "conv2d %s\t%d\t-\t-\tdefault (%s)\n", r.Key, r.Candidates, r.Error)
			continue
		}
		kept := "default (" + r.Choice.Form.String() + ")"
		if !r.Choice.Default {
			kept = r.Choice.Form.String()
		}
		fmt.Fprintf(tw, "conv2d %s\t%d\t%.3f\t%.3f\t%s\n", r.Key, r.Candidates, r.Choice.DefaultMs, r.Choice.TunedMs, kept)
	}
	tw.Flush()
	fmt.Fprintf(w, "%s (%s): %d products and %d conv passes tuned in %.1f s, saved to %s\n", rep.Device, rep.Driver, len(rep.Products), len(rep.Convs), rep.Seconds, rep.Cache)
}

// loadTuning is the tuning the cache holds for the device (nil: none),
// printing the cache's warning, if any, on standard error, and a line
// saying for how many products it holds a variant other than the default.
func loadTuning(command string, info gpu.Info) *kernels.Tuning {
	path, err := tune.DefaultPath()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v; the kernels run their defaults\n", command, err)
		return nil
	}
	t, warning := tune.Load(path, info)
	if warning != "" {
		fmt.Fprintln(os.Stderr, warning)
	}
	if t != nil {
		fmt.Fprintf(os.Stderr, "%s: running the kernel variants noether-vk tune chose on %s for %d products and %d conv passes (%s; --no-tune runs the defaults)\n", command, info.Name, len(t.MatMul), len(t.Conv), path)
	}
	return t
}

// useTuning gives each Vulkan backend the tuning its device has, unless
// --no-tune; the cache is read once per kind of device (--devices 0,0
// opens one device twice).
func useTuning(c *cli.Context, command string, backends []graph.Backend) {
	if c.Bool(noTune) {
		return
	}
	loaded := map[string]*kernels.Tuning{}
	for _, b := range backends {
		if vb, ok := b.(graph.VulkanBackend); ok {
			info := vb.Kernels.Device.Info
			key := info.Name + "\x00" + tune.DriverKey(info)
			t, ok := loaded[key]
			if !ok {
				t = loadTuning(command, info)
				loaded[key] = t
			}
			vb.Kernels.Tuning = t
		}
	}
}

// saveTuning merges choices of products and conv passes into the tuning
// cache at path for the device info (tune.Merge) and writes it
// atomically, making its folder.
func saveTuning(path string, info gpu.Info, choices map[string]tune.Choice, convs map[string]tune.ConvChoice) error {
	data, err := tune.Merge(path, info, choices, convs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("saving the tuning cache: %w", err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
