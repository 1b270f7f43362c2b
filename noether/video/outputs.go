package video

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/svg/pendulum"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The files WriteOutputs writes, besides the strips (StripName).
var plotNames = []string{"mse", "psnr", "ssim", "loss"}

// StripName is the strip of test episode i.
func StripName(i int) string { return fmt.Sprintf("strip_episode%03d.png", i) }

// Outputs are the entries Run may write into a run folder: the phases'
// folders, the plots (PNG and SVG) and the strips of the first strips
// test episodes.
func Outputs(strips int) []string {
	var out []string
	for _, m := range Methods() {
		out = append(out, string(m))
	}
	for _, p := range plotNames {
		out = append(out, p+".png", p+".svg")
	}
	for i := range strips {
		out = append(out, StripName(i))
	}
	return out
}

// WriteOutputs draws a run's figures into dir: each metric against the
// prediction step, a line per method with its SEM band across episodes
// (mse, psnr, ssim: the Figure 3 analog), the training loss per epoch of
// each method's phase (loss), and for the first strips test episodes a
// strip (StripName): the true predicted frames on top, then each
// method's prediction, in the order of results.
func WriteOutputs(dir string, d *pendulum.Dataset, strips int, results []*Result) error {
	if len(results) == 0 {
		return nil
	}
	for _, m := range []struct {
		file, name string
		mean, sem  func(*Result) []float64
	}{
		{"mse", "MSE", func(r *Result) []float64 { return r.MSEPerStep }, func(r *Result) []float64 { return r.MSEStepSEM }},
		{"psnr", "PSNR (dB)", func(r *Result) []float64 { return r.PSNRPerStep }, func(r *Result) []float64 { return r.PSNRStepSEM }},
		{"ssim", "SSIM", func(r *Result) []float64 { return r.SSIMPerStep }, func(r *Result) []float64 { return r.SSIMStepSEM }},
	} {
		var bands []band
		for _, r := range results {
			bands = append(bands, band{name: string(r.Method), mean: m.mean(r), sem: m.sem(r)})
		}
		if err := plotBands(filepath.Join(dir, m.file), "Test "+m.name+" per predicted frame (band: SEM over episodes)", "predicted frame", m.name, bands); err != nil {
			return err
		}
	}
	var losses []rundir.Series
	for _, r := range results {
		if len(r.LossCurve) > 0 {
			x := make([]float64, len(r.LossCurve))
			for i := range x {
				x[i] = float64(i + 1)
			}
			losses = append(losses, rundir.Series{Name: string(r.Method) + " (its phase)", X: x, Y: r.LossCurve})
		}
	}
	if len(losses) > 0 {
		if err := rundir.PlotLossCurves(filepath.Join(dir, "loss"), losses, true); err != nil {
			return err
		}
	}
	return writeStrips(dir, d, strips, results)
}

// writeStrips draws the strips of the first test episodes.
func writeStrips(dir string, d *pendulum.Dataset, strips int, results []*Result) error {
	cfg := d.Config()
	idx := testWindows(d)
	n := min(strips, len(idx))
	for _, r := range results {
		n = min(n, len(r.Samples))
	}
	if n == 0 {
		return nil
	}
	truth, err := render(d, pendulum.Test, idx[:n], cfg.Window())
	if err != nil {
		return err
	}
	frame := pendulum.Channels * cfg.Height * cfg.Width
	for i := range n {
		var future [][]float32
		for t := cfg.History; t < cfg.Window(); t++ {
			future = append(future, truth.frames[i*truth.frameW+t*frame:][:frame])
		}
		rows := [][][]float32{future}
		for _, r := range results {
			rows = append(rows, r.Samples[i])
		}
		img, err := pendulum.Grid(rows, cfg.Height, cfg.Width)
		if err != nil {
			return err
		}
		if err := pendulum.WritePNG(filepath.Join(dir, StripName(i)), img); err != nil {
			return err
		}
	}
	return nil
}

// band is a curve with a band of ± sem around it.
type band struct {
	name      string
	mean, sem []float64
}

// plotBands draws each band's mean against the step (1-based) with a
// translucent ± SEM band, and writes path+".png" and path+".svg". A
// non-finite SEM (a single episode, an exact frame's PSNR) draws no band
// at that step.
func plotBands(path, title, xlabel, ylabel string, bands []band) error {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xlabel, ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	for i, b := range bands {
		if len(b.mean) == 0 || len(b.sem) != len(b.mean) {
			return fmt.Errorf("plot %s: %s: %d means and %d SEMs", path, b.name, len(b.mean), len(b.sem))
		}
		line := make(plotter.XYs, len(b.mean))
		var upper, lower plotter.XYs
		for t, m := range b.mean {
			if math.IsNaN(m) || math.IsInf(m, 0) {
				return fmt.Errorf("plot %s: %s: step %d is %v", path, b.name, t+1, m)
			}
			line[t] = plotter.XY{X: float64(t + 1), Y: m}
			if s := b.sem[t]; !math.IsNaN(s) && !math.IsInf(s, 0) {
				upper = append(upper, plotter.XY{X: float64(t + 1), Y: m + s})
				lower = append(plotter.XYs{{X: float64(t + 1), Y: m - s}}, lower...)
			}
		}
		c := plotutil.Color(i)
		if len(upper) > 1 {
			poly, err := plotter.NewPolygon(append(upper, lower...))
			if err != nil {
				return fmt.Errorf("plot %s: %s: %w", path, b.name, err)
			}
			r, g, bl, _ := c.RGBA()
			poly.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(bl >> 8), A: 60}
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		l, err := plotter.NewLine(line)
		if err != nil {
			return fmt.Errorf("plot %s: %s: %w", path, b.name, err)
		}
		l.Color, l.Dashes, l.Width = c, plotutil.Dashes(i), vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(b.name, l)
	}
	const w, h = 8 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(w, h)
	p.Draw(draw.New(img))
	if err := atomicfile.Write(path+".png", func(out io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(out)
		return err
	}); err != nil {
		return err
	}
	s := vgsvg.New(w, h)
	p.Draw(draw.New(s))
	return atomicfile.Write(path+".svg", func(out io.Writer) error {
		_, err := s.WriteTo(out)
		return err
	})
}
