package video

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
	"github.com/noether-vk/noether-vk/noether/metrics"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/svg/clips"
)

// The figures WriteFigures draws (PNG and SVG each), besides the inner
// curve's (InnerCurveName).
var plotNames = []string{"mse", "psnr", "ssim", "loss"}

// Files of a run folder besides the figures.
const (
	// ResultsName holds the methods' Results as JSON, from which
	// WriteFigures redraws the figures (noether-vk plot).
	ResultsName = "results.json"
	// InnerCurveName is the inner-loss curve (Figure 6): NAME.json with
	// the numbers, NAME.png and NAME.svg.
	InnerCurveName = "inner_curve"
	// LPIPSName is the LPIPS plot, drawn when the results have LPIPS.
	LPIPSName = "lpips"
)

// StripName is the strip of test window i.
func StripName(i int) string { return fmt.Sprintf("strip_episode%03d.png", i) }

// Outputs are the entries Run writes into a run folder when running
// methods: the phases' folders, the results, the plots (PNG and SVG),
// the inner-loss curve (when drawn) and the strips.
func (c Config) Outputs(methods ...Method) []string {
	var out []string
	for _, p := range c.Phases(methods...) {
		out = append(out, p.Label)
	}
	out = append(out, ResultsName)
	names := plotNames
	if c.LPIPS != "" {
		names = append(slices.Clone(names), LPIPSName)
	}
	if c.InnerCurveSteps > 0 {
		names = append(slices.Clone(names), InnerCurveName)
		out = append(out, InnerCurveName+".json")
	}
	for _, p := range names {
		out = append(out, p+".png", p+".svg")
	}
	for i := range c.Strips {
		out = append(out, StripName(i))
	}
	return out
}

// writeOutputs writes the results (ResultsName, and the inner curve's
// numbers when there is one), their figures (WriteFigures) and the strips
// of the first Strips test windows.
func (e *experiment) writeOutputs(results []*Result, curve *InnerCurve) error {
	if len(results) == 0 {
		return nil
	}
	dir := e.cfg.Dir
	if err := writeJSON(filepath.Join(dir, ResultsName), results); err != nil {
		return err
	}
	if curve != nil {
		if err := writeJSON(filepath.Join(dir, InnerCurveName+".json"), curve); err != nil {
			return err
		}
	}
	if err := WriteFigures(dir, results, curve); err != nil {
		return err
	}
	return e.writeStrips(results)
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// ReadResults reads a run folder's results and its inner-loss curve (nil
// when the run drew none), as Run wrote them.
func ReadResults(dir string) ([]*Result, *InnerCurve, error) {
	var results []*Result
	if err := readJSON(filepath.Join(dir, ResultsName), &results); err != nil {
		return nil, nil, err
	}
	if len(results) == 0 {
		return nil, nil, fmt.Errorf("video: %s: no results", filepath.Join(dir, ResultsName))
	}
	var curve *InnerCurve
	path := filepath.Join(dir, InnerCurveName+".json")
	if _, err := os.Stat(path); err == nil {
		curve = new(InnerCurve)
		if err := readJSON(path, curve); err != nil {
			return nil, nil, err
		}
	}
	return results, curve, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("video: %w (is this the run folder of a finished video run?)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("video: %s: %w (a damaged file: run the training again with --resume to rewrite it)", path, err)
	}
	return nil
}

// metricPlot is one metric's per-step curve of a Result.
type metricPlot struct {
	file, name string
	mean, sem  func(*Result) []float64
}

// metricPlots are the metrics drawn against the predicted frame; LPIPS
// is drawn only for results that have it.
var metricPlots = []metricPlot{
	{"mse", "MSE", func(r *Result) []float64 { return r.MSEPerStep }, func(r *Result) []float64 { return r.MSEStepSEM }},
	{"psnr", "PSNR (dB)", func(r *Result) []float64 { return r.PSNRPerStep }, func(r *Result) []float64 { return r.PSNRStepSEM }},
	{"ssim", "SSIM", func(r *Result) []float64 { return r.SSIMPerStep }, func(r *Result) []float64 { return r.SSIMStepSEM }},
	{LPIPSName, "LPIPS", func(r *Result) []float64 { return r.LPIPSPerStep }, func(r *Result) []float64 { return r.LPIPSStepSEM }},
}

// WriteFigures draws a run's figures into dir: each metric against the
// predicted frame, a line per method with its SEM band across test
// windows (mse, psnr, ssim and, when scored, lpips: the Figure 3 and 4
// analogs), the training loss per epoch of each method's phase (loss),
// and the inner-loss curve when there is one (InnerCurveName: Figure 6).
func WriteFigures(dir string, results []*Result, curve *InnerCurve) error {
	for _, m := range metricPlots {
		var bands []rundir.Band
		for _, r := range results {
			if len(m.mean(r)) > 0 {
				bands = append(bands, rundir.Band{Name: string(r.Method), Mean: m.mean(r), SEM: m.sem(r)})
			}
		}
		if len(bands) == 0 {
			continue
		}
		if err := rundir.PlotBands(filepath.Join(dir, m.file), "Test "+m.name+" per predicted frame (band: SEM over test windows)", "predicted frame", m.name, bands); err != nil {
			return err
		}
	}
	var losses []rundir.Series
	for _, r := range results {
		if len(r.LossCurve) > 0 {
			losses = append(losses, rundir.Series{Name: string(r.Method) + " (its phase)", X: count(len(r.LossCurve), 1), Y: r.LossCurve})
		}
	}
	if len(losses) > 0 {
		if err := rundir.PlotLossCurves(filepath.Join(dir, "loss"), losses, true); err != nil {
			return err
		}
	}
	if curve != nil {
		return curve.plot(filepath.Join(dir, InnerCurveName))
	}
	return nil
}

// count is from, from+1, ... (n values).
func count(n, from int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(from + i)
	}
	return x
}

// WriteSeedFigures draws the Figure 4 analog over several runs (seeds)
// into dir: for each metric, each method's per-step mean over the runs
// with a band of ± its SEM across the runs (the paper's bands: training
// runs, not test windows). Every run must hold the same methods with the
// same number of predicted frames; it needs at least two runs.
func WriteSeedFigures(dir string, runs [][]*Result) error {
	if len(runs) < 2 {
		return fmt.Errorf("video: WriteSeedFigures: %d runs: the SEM over seeds needs at least 2", len(runs))
	}
	for _, m := range metricPlots {
		var bands []rundir.Band
		for j, r := range runs[0] {
			steps := len(m.mean(r))
			if steps == 0 {
				continue
			}
			var curve metrics.Curve
			for i, run := range runs {
				if len(run) != len(runs[0]) || run[j].Method != r.Method {
					return fmt.Errorf("video: WriteSeedFigures: run %d holds other methods than run 1 (%s)", i+1, methodList(runs[0]))
				}
				if err := curve.Add(m.mean(run[j])); err != nil {
					return fmt.Errorf("video: WriteSeedFigures: run %d, %s %s: %w", i+1, r.Method, m.name, err)
				}
			}
			b := rundir.Band{Name: string(r.Method)}
			for _, st := range curve.PerStep() {
				b.Mean, b.SEM = append(b.Mean, st.Mean), append(b.SEM, st.SEM)
			}
			bands = append(bands, b)
		}
		if len(bands) == 0 {
			continue
		}
		title := fmt.Sprintf("Test %s per predicted frame, mean over %d seeds (band: SEM over seeds)", m.name, len(runs))
		if err := rundir.PlotBands(filepath.Join(dir, m.file), title, "predicted frame", m.name, bands); err != nil {
			return err
		}
	}
	return nil
}

// methodList names the methods of a run's results.
func methodList(rs []*Result) string {
	var names []string
	for _, r := range rs {
		names = append(names, string(r.Method))
	}
	return strings.Join(names, ", ")
}

// writeStrips draws the strips of the first test windows: the true
// predicted frames on top, then each method's prediction.
func (e *experiment) writeStrips(results []*Result) error {
	c := e.cfg
	idx := e.data.test
	n := min(c.Strips, len(idx))
	for _, r := range results {
		n = min(n, len(r.Samples))
	}
	if n == 0 {
		return nil
	}
	truth, err := e.data.render(clips.Test, idx[:n], c.Model.Frames())
	if err != nil {
		return err
	}
	size := c.Model.ImageSize
	frame := clips.Channels * size * size
	for i := range n {
		var future [][]float32
		for t := c.Model.NPast; t < c.Model.Frames(); t++ {
			future = append(future, truth.frames[i*truth.frameW+t*frame:][:frame])
		}
		rows := [][][]float32{future}
		for _, r := range results {
			rows = append(rows, r.Samples[i])
		}
		img, err := clips.Grid(rows, size, size)
		if err != nil {
			return err
		}
		if err := clips.WritePNG(filepath.Join(c.Dir, StripName(i)), img); err != nil {
			return err
		}
	}
	return nil
}
