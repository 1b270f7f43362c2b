package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/formulas/search"
	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether/physics"
	"github.com/noether-vk/noether-vk/noether/rundir"
)

func formulasCommand() *cli.Command {
	system := &cli.StringFlag{Name: "system", Value: "pendulum", Usage: "spring, pendulum or real-pendulum"}
	depth := &cli.IntFlag{Name: "depth", Value: 7, Usage: "largest formula size, in nodes of the expression tree (p^2 - c*cos(q) has 7)"}
	data := &cli.StringFlag{Name: "data", Usage: "the real pendulum's data file (the published real_pend_h_1.txt format)"}
	jsonOut := &cli.StringFlag{Name: "json", Usage: "write the result as JSON here (- for stdout)"}
	fitFlags := func(more ...cli.Flag) []cli.Flag {
		flags := append([]cli.Flag{system, depth, data, jsonOut}, shardFlags()...)
		return append(append(flags,
			&cli.Float64Flag{Name: "accept-ratio", Value: 100, Usage: "a formula is a candidate when its variance within true sequences is this many times below that within random ones"},
			&cli.IntFlag{Name: "fit-steps", Usage: "Adam steps per formula fit (default: " + fmt.Sprint(formulas.DefaultFitOptions().Steps) + ")"},
			&cli.BoolFlag{Name: "noisy", Usage: "fit on the noisy states the models see (the ideal systems' default is their noise-free states, see the README)"},
		), more...)
	}
	return &cli.Command{
		Name:  "formulas",
		Usage: "discover conservation laws: enumerate units-typed formulas, fit them on the GPU, tailor and meta-tailor the best",
		Description: `The paper's formula search (section 5.1): every formula of the DSL up to --depth nodes is
enumerated (units must agree), its parameters fitted on the GPU to make it conserved along the
training sequences, the ones 100x more conserved on true than on random sequences kept; each is
tried as a tailoring loss at inner rates 10^-3 ... 10^1, the best 20 meta-tailored from the
baseline, and the one with the best long-term training RMSE reported with its test RMSE.`,
		Subcommands: []*cli.Command{
			{
				Name:   "enumerate",
				Usage:  "count (and list) every valid formula up to --depth",
				Flags:  []cli.Flag{system, depth, jsonOut, &cli.BoolFlag{Name: "list", Usage: "print every formula"}},
				Action: runEnumerate,
			},
			{
				Name:   "fit",
				Usage:  "enumerate and fit every formula (or one shard's share); print the most conserved",
				Flags:  fitFlags(&cli.Uint64Flag{Name: "seed", Value: 0, Usage: "seed of the data and of the random sequences"}),
				Action: runFit,
			},
			{
				Name:  "search",
				Usage: "the whole pipeline: enumerate, fit, tailor, meta-tailor, select; compare with the oracle",
				Flags: fitFlags(append([]cli.Flag{
					&cli.StringFlag{Name: "fits", Usage: "start from this merged `formulas fit` output instead of fitting"},
					&cli.IntFlag{Name: "top", Value: 20, Usage: "candidates meta-tailored"},
					&cli.StringFlag{Name: "adapt", Value: "cn", Usage: "what tailoring adapts per example: cn or all"},
				}, experimentFlags(100)...)...),
				Action: runSearch,
			},
			{
				Name:      "merge",
				Usage:     "combine the --json outputs of every shard of a fit or search",
				ArgsUsage: "PART.json ...",
				Flags:     []cli.Flag{jsonOut},
				Action:    runMerge,
			},
		},
	}
}

// searchConfig reads the flags common to fit and search.
func searchConfig(c *cli.Context) (search.Config, error) {
	cfg := search.Config{System: c.String("system"), Depth: c.Int("depth"), AcceptRatio: c.Float64("accept-ratio"),
		Fit: formulas.DefaultFitOptions(), Progress: os.Stderr}
	if n := c.Int("fit-steps"); n > 0 {
		cfg.Fit.Steps = n
	}
	cfg.Noisy = c.Bool("noisy")
	if cfg.Depth < 1 {
		return cfg, fmt.Errorf("--depth %d: want at least 1", cfg.Depth)
	}
	if !(cfg.AcceptRatio >= 1) {
		return cfg, fmt.Errorf("--accept-ratio %g: want at least 1", cfg.AcceptRatio)
	}
	sh, err := shardOf(c)
	if err != nil {
		return cfg, err
	}
	cfg.Shard, cfg.Shards = sh.Index, sh.Count
	cfg.Experiment.Seed = c.Uint64("seed")
	return cfg, nil
}

// openTask is the start of formulas fit: it loads the task's data (the
// real pendulum's from --data), then opens the device the global flags
// choose. The caller closes the device.
func openTask(c *cli.Context, command, task string, seed uint64) (*physics.Dataset, *gpu.Device, *kernels.Vulkan, error) {
	data, err := physics.LoadTask(task, c.String("data"), seed)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", command, err)
	}
	d, err := openDevice(c, command)
	if err != nil {
		return nil, nil, nil, err
	}
	return data, d, kernels.NewVulkan(d), nil
}

// enumerateReport is the --json of formulas enumerate.
type enumerateReport struct {
	System   string         `json:"system"`
	Depth    int            `json:"depth"`
	Total    int            `json:"total"`
	ByDepth  []int          `json:"by_depth"`
	Removed  map[string]int `json:"removed"`
	Seconds  float64        `json:"seconds"`
	Formulas []string       `json:"formulas,omitempty"`
}

func runEnumerate(c *cli.Context) error {
	voc, err := formulas.VocabularyFor(c.String("system"))
	if err != nil {
		return err
	}
	began := time.Now()
	exprs, st, err := formulas.Enumerate(voc, c.Int("depth"), nil)
	if err != nil {
		return err
	}
	rep := enumerateReport{System: voc.System, Depth: c.Int("depth"), Total: len(exprs), ByDepth: st.ByDepth, Removed: st.Removed,
		Seconds: time.Since(began).Seconds()}
	out := c.App.Writer
	if c.Bool("list") {
		for _, e := range exprs {
			fmt.Fprintln(out, e)
			rep.Formulas = append(rep.Formulas, e.String())
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s: q [%v], p [%v]\n", voc.System, voc.Q, voc.P)
	fmt.Fprintln(tw, "nodes\tformulas")
	for n, k := range st.ByDepth {
		if k > 0 {
			fmt.Fprintf(tw, "%d\t%d\n", n, k)
		}
	}
	fmt.Fprintf(tw, "total\t%d\t(%.2f s)\n", len(exprs), rep.Seconds)
	tw.Flush()
	for rule, k := range st.Removed {
		fmt.Fprintf(out, "removed by %s: %d\n", rule, k)
	}
	if p := c.String("json"); p != "" {
		return writeJSON(p, rep)
	}
	return nil
}

func runFit(c *cli.Context) error {
	cfg, err := searchConfig(c)
	if err != nil {
		return usageError{err}
	}
	data, dev, v, err := openTask(c, "formulas fit", cfg.System, cfg.Experiment.Seed)
	if err != nil {
		return err
	}
	defer dev.Close()
	fmt.Fprintf(c.App.Writer, "formulas fit: %s, depth %d, shard %d/%d, on %s\n", cfg.System, cfg.Depth, cfg.Shard, cfg.Shards, dev.Info.Name)
	rep, err := cfg.FitStage(v, data)
	if err != nil {
		return fmt.Errorf("formulas fit: %w", err)
	}
	printFits(c.App.Writer, rep, 20)
	if p := c.String("json"); p != "" {
		return writeJSON(p, rep)
	}
	return nil
}

func printFits(w io.Writer, rep *search.FitReport, n int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "formula\tparameters\tscore\taccepted")
	for _, r := range rep.Records[:min(n, len(rep.Records))] {
		fmt.Fprintf(tw, "%s\t%s\t%.3g\t%v\n", r.Formula, params(r.Params), r.Score, r.Accepted)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d formulas enumerated, %d fitted, %d accepted;", rep.Enumerated, rep.Fitted, rep.Accepted)
	for _, s := range rep.Stages {
		fmt.Fprintf(w, " %s %.1f s", s.Name, s.Seconds)
	}
	fmt.Fprintln(w)
}

// params prints parameter values in name order.
func params(p map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, fmt.Sprintf("%s=%.5g", k, p[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func runSearch(c *cli.Context) error {
	cfg, err := searchConfig(c)
	if err != nil {
		return usageError{err}
	}
	cfg.Top = c.Int("top")
	if cfg.Experiment, err = experimentConfig(c, cfg.System); err != nil {
		return err
	}
	cfg.Experiment.Adapt = c.String("adapt")
	cfg.Experiment.Progress = os.Stderr
	if err := cfg.Experiment.Check(cfg.System, physics.Vanilla); err != nil {
		return usageError{fmt.Errorf("formulas search: %w", err)}
	}
	if c.String("out") == "" {
		cfg.Experiment.Dir = filepath.Join("runs", fmt.Sprintf("search-%s-seed%d", cfg.System, cfg.Experiment.Seed))
	}
	data, err := physics.LoadTask(cfg.System, c.String("data"), cfg.Experiment.Seed)
	if err != nil {
		return fmt.Errorf("formulas search: %w", err)
	}
	// One search per folder at a time; what a killed one left half
	// written goes.
	run, err := rundir.Open(cfg.Experiment.Dir, rundir.Resume, []string{"fits.json", physics.PhaseName, "candidate-*", "oracle"})
	if err != nil {
		return fmt.Errorf("formulas search: %w", err)
	}
	defer run.Close()
	if _, err := run.Begin(); err != nil {
		return fmt.Errorf("formulas search: %w", err)
	}
	dev, err := openDevice(c, "formulas search")
	if err != nil {
		return err
	}
	defer dev.Close()
	v := kernels.NewVulkan(dev)
	fmt.Fprintf(c.App.Writer, "formulas search: %s, depth %d, shard %d/%d, on %s; run folder %s\n", cfg.System, cfg.Depth, cfg.Shard, cfg.Shards,
		dev.Info.Name, cfg.Experiment.Dir)
	fits, err := searchFits(c, cfg, v, data)
	if err != nil {
		return fmt.Errorf("formulas search: %w", err)
	}
	cfg.Experiment.Backend = graph.VulkanBackend{Kernels: v}
	rep, err := cfg.Search(data, fits)
	if err != nil {
		return fmt.Errorf("formulas search: %w", err)
	}
	printSearch(c.App.Writer, rep)
	if p := c.String("json"); p != "" {
		return writeJSON(p, rep)
	}
	return nil
}

// searchFits returns every formula's fit: from --fits, from the run
// folder when resuming, or fitted now (all shards' shares: the fit is
// the cheap stage) and saved in the run folder.
func searchFits(c *cli.Context, cfg search.Config, v *kernels.Vulkan, data *physics.Dataset) (*search.FitReport, error) {
	path := c.String("fits")
	saved := filepath.Join(cfg.Experiment.Dir, "fits.json")
	if path == "" && cfg.Experiment.Resume {
		if _, err := os.Stat(saved); err == nil {
			path = saved
		}
	}
	if path != "" {
		var rep search.FitReport
		if err := readJSON(path, &rep); err != nil {
			return nil, err
		}
		if rep.Kind != "fit" || rep.System != cfg.System || rep.Depth != cfg.Depth {
			return nil, fmt.Errorf("%s holds a %s of %s at depth %d, not a fit of %s at depth %d", path, rep.Kind, rep.System, rep.Depth, cfg.System, cfg.Depth)
		}
		if want := cfg.FitSettings(); rep.Settings != want {
			return nil, fmt.Errorf("%s was fitted with %q; this search fits with %q: give the same fit flags, or start without the saved fits", path, rep.Settings, want)
		}
		fmt.Fprintf(c.App.Writer, "fits: %s (%d formulas, %d accepted)\n", path, rep.Fitted, rep.Accepted)
		return &rep, nil
	}
	whole := cfg
	whole.Shard, whole.Shards = 0, 1
	rep, err := whole.FitStage(v, data)
	if err != nil {
		return nil, err
	}
	printFits(c.App.Writer, rep, 10)
	return rep, writeJSON(saved, rep)
}

func printSearch(w io.Writer, rep *search.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tformula\tparameters\tscore\ttailor lr\ttailored train RMSE\tmeta lr\ttrain RMSE\ttest RMSE\tfamily c (residual)")
	row := func(name string, r search.CandidateResult) {
		rmse := func(x *float64) string {
			if x == nil {
				if r.Diverged {
					return "diverged"
				}
				return "-"
			}
			return fmt.Sprintf("%.4f", *x)
		}
		fam := "-"
		if q := r.Equivalence; q != nil {
			fam = fmt.Sprintf("%.4g (%.1e)", q.C, q.Residual)
		}
		score := fmt.Sprintf("%.3g", r.Score)
		if r.Rank < 0 {
			score = "-" // the oracle is given, not fitted
		}
		meta := "-"
		if r.TrainRMSE != nil {
			meta = fmt.Sprintf("%.3g", r.InnerLR)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.3g\t%.4g\t%s\t%s\t%s\t%s\n", name, r.Formula, params(r.Params), score, r.TailorLR, r.TailorRMSE,
			meta, rmse(r.TrainRMSE), rmse(r.TestRMSE), fam)
	}
	for _, r := range rep.Top {
		row(fmt.Sprint(r.Rank+1), r)
	}
	if rep.Oracle != nil {
		row("oracle", *rep.Oracle)
	}
	tw.Flush()
	if rep.Formula == "" {
		fmt.Fprintf(w, "shard %s done; merge every shard's --json with `noether-vk formulas merge`\n", rep.Shard)
		return
	}
	fmt.Fprintf(w, "selected: %s with %s: test RMSE %.4f (oracle %.4f, %+.1f%%; baseline %.4f)\n", rep.Formula, params(rep.Params),
		rep.TestRMSE, rep.OracleTestRMSE, 100*(rep.TestRMSE/rep.OracleTestRMSE-1), rep.BaselineTestRMSE)
	if q := rep.Equivalence; q != nil {
		fmt.Fprintf(w, "as %s: c = %.4g (relative residual %.1e)\n", q.Family, q.C, q.Residual)
	}
	fmt.Fprintf(w, "%d formulas enumerated, %d accepted;", rep.CandidatesEnumerated, rep.CandidatesAccepted)
	for _, s := range rep.Stages {
		fmt.Fprintf(w, " %s %.0f s", s.Name, s.Seconds)
	}
	fmt.Fprintf(w, "; total %.0f s\n", rep.Seconds)
}

func runMerge(c *cli.Context) error {
	paths := positional(c)
	if len(paths) == 0 {
		return usagef("formulas merge: name the --json outputs of every shard")
	}
	var parts []search.Part
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("formulas merge: %w", err)
		}
		p, err := search.DecodePart(path, b)
		if err != nil {
			return fmt.Errorf("formulas merge: %w", err)
		}
		parts = append(parts, p)
	}
	fits, searches, err := search.Merge(parts)
	if err != nil {
		return fmt.Errorf("formulas merge: %w", err)
	}
	var out any = searches
	if fits != nil {
		printFits(c.App.Writer, fits, 20)
		out = fits
	} else {
		printSearch(c.App.Writer, searches)
	}
	if p := c.String("json"); p != "" {
		return writeJSON(p, out)
	}
	return nil
}

// readJSON decodes a file, naming it in errors.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: not valid JSON: %w", path, err)
	}
	return nil
}
