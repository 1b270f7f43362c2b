package rundir

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Series is one named curve of a line plot: points (X[i], Y[i]).
type Series struct {
	Name string
	X, Y []float64
}

// glyphMax is the longest series drawn with a marker at every point; longer
// ones are drawn as plain lines to stay readable.
const glyphMax = 40

// PlotLines draws the series as lines in one plot, one colour and dash
// pattern each with a legend, and writes it to path+".png" and
// path+".svg" (each atomically). With logY the y axis is logarithmic and
// every Y must be positive. Empty series, mismatched lengths and
// non-finite values are errors naming the series and the point.
func PlotLines(path, title, xlabel, ylabel string, series []Series, logY bool) error {
	if err := checkSeries(series, logY); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	for i, s := range series {
		xy := make(plotter.XYs, len(s.X))
		for j := range xy {
			xy[j].X, xy[j].Y = s.X[j], s.Y[j]
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("plot %s: series %q: %w", path, s.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		if len(xy) <= glyphMax {
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return fmt.Errorf("plot %s: series %q: %w", path, s.Name, err)
			}
			sc.GlyphStyle.Color = plotutil.Color(i)
			sc.GlyphStyle.Shape = plotutil.Shape(i)
			sc.GlyphStyle.Radius = vg.Points(2.5)
			p.Add(sc)
			p.Legend.Add(s.Name, l, sc)
		} else {
			p.Legend.Add(s.Name, l)
		}
	}
	// gonum widens a range of one value (a single epoch) by ±1, below
	// zero for a loss under 1, where a log axis panics: widen it by a
	// factor of 2 instead.
	if logY && p.Y.Min == p.Y.Max {
		p.Y.Min, p.Y.Max = p.Y.Min/2, p.Y.Max*2
	}
	return savePlot(path, 8*vg.Inch, 5*vg.Inch, func(dc draw.Canvas) { p.Draw(dc) })
}

// Band is a named curve with a band of ± SEM around it, one value per
// step.
type Band struct {
	Name      string
	Mean, SEM []float64
}

// PlotBands draws each band's mean against the step (1-based) with a
// translucent ± SEM band, and writes path+".png" and path+".svg". A
// non-finite SEM (a single episode, an exact frame's PSNR) draws no band
// at that step.
func PlotBands(path, title, xlabel, ylabel string, bands []Band) error {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xlabel, ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	for i, b := range bands {
		if len(b.Mean) == 0 || len(b.SEM) != len(b.Mean) {
			return fmt.Errorf("plot %s: %s: %d means and %d SEMs", path, b.Name, len(b.Mean), len(b.SEM))
		}
		line := make(plotter.XYs, len(b.Mean))
		var upper, lower plotter.XYs
		for t, m := range b.Mean {
			if math.IsNaN(m) || math.IsInf(m, 0) {
				return fmt.Errorf("plot %s: %s: step %d is %v", path, b.Name, t+1, m)
			}
			line[t] = plotter.XY{X: float64(t + 1), Y: m}
			if s := b.SEM[t]; !math.IsNaN(s) && !math.IsInf(s, 0) {
				upper = append(upper, plotter.XY{X: float64(t + 1), Y: m + s})
				lower = append(plotter.XYs{{X: float64(t + 1), Y: m - s}}, lower...)
			}
		}
		c := plotutil.Color(i)
		if len(upper) > 1 {
			poly, err := plotter.NewPolygon(append(upper, lower...))
			if err != nil {
				return fmt.Errorf("plot %s: %s: %w", path, b.Name, err)
			}
			r, g, bl, _ := c.RGBA()
			poly.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(bl >> 8), A: 60}
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		l, err := plotter.NewLine(line)
		if err != nil {
			return fmt.Errorf("plot %s: %s: %w", path, b.Name, err)
		}
		l.Color, l.Dashes, l.Width = c, plotutil.Dashes(i), vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(b.Name, l)
	}
	return savePlot(path, 8*vg.Inch, 5*vg.Inch, func(dc draw.Canvas) { p.Draw(dc) })
}

// PlotLossCurves plots training and validation losses per epoch, one
// series each (see PlotLines); logY is usually wanted for losses.
func PlotLossCurves(path string, series []Series, logY bool) error {
	return PlotLines(path, "Loss per epoch", "epoch", "loss", series, logY)
}

// PlotRolloutRMSE plots the test RMSE against the rollout step, one series
// per method (see PlotLines).
func PlotRolloutRMSE(path string, series []Series, logY bool) error {
	return PlotLines(path, "Test RMSE per rollout step", "rollout step", "RMSE", series, logY)
}

// PlotPhase draws phase portraits: one panel per trajectory in the (q, p)
// plane, with the true trajectory truth[k] dashed in black and, overlaid,
// the rollout preds[method][k] of every method in its own colour (methods
// in name order). Every method must give as many trajectories as truth.
// It writes path+".png" and path+".svg".
func PlotPhase(path, title string, truth [][][2]float64, preds map[string][][][2]float64) error {
	methods := make([]string, 0, len(preds))
	for m := range preds {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	if err := checkPhase(truth, preds, methods); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}

	n := len(truth)
	cols := min(n, 3)
	rows := (n + cols - 1) / cols
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	truthStyle := draw.LineStyle{Color: color.Black, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
	startStyle := draw.GlyphStyle{Color: color.Black, Shape: draw.CircleGlyph{}, Radius: vg.Points(3)}
	methodStyle := func(i int) draw.LineStyle {
		return draw.LineStyle{Color: plotutil.Color(i), Width: vg.Points(1.5)}
	}
	for k := range truth {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("trajectory %d", k)
		p.X.Label.Text = "q"
		p.Y.Label.Text = "p"
		p.Add(plotter.NewGrid())
		for i, m := range methods {
			l, err := plotter.NewLine(phaseXYs(preds[m][k]))
			if err != nil {
				return fmt.Errorf("plot %s: method %q trajectory %d: %w", path, m, k, err)
			}
			l.LineStyle = methodStyle(i)
			p.Add(l)
		}
		l, err := plotter.NewLine(phaseXYs(truth[k]))
		if err != nil {
			return fmt.Errorf("plot %s: truth trajectory %d: %w", path, k, err)
		}
		l.LineStyle = truthStyle
		p.Add(l)
		start, err := plotter.NewScatter(phaseXYs(truth[k][:1]))
		if err != nil {
			return fmt.Errorf("plot %s: truth trajectory %d: %w", path, k, err)
		}
		start.GlyphStyle = startStyle
		p.Add(start)
		plots[k/cols][k%cols] = p
	}

	// The legend is one row under the title, outside the panels, so that
	// it hides no trajectory.
	var legend []legendEntry
	for i, m := range methods {
		legend = append(legend, legendEntry{name: m, line: methodStyle(i)})
	}
	legend = append(legend,
		legendEntry{name: "truth", line: truthStyle},
		legendEntry{name: "start", glyph: &startStyle})

	const tile = 4 * vg.Inch
	const head = 0.65 * vg.Inch
	w, h := vg.Length(cols)*tile, vg.Length(rows)*tile+head
	return savePlot(path, w, h, func(dc draw.Canvas) {
		sty := plot.New().Title.TextStyle
		sty.Font.Size = vg.Points(14)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		dc.FillText(sty, vg.Point{X: dc.Center().X, Y: dc.Max.Y - vg.Points(6)}, title)
		drawLegendRow(dc, dc.Max.Y-vg.Points(32), legend)
		body := draw.Crop(dc, 0, 0, 0, -head)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(12), PadY: vg.Points(12),
			PadTop: vg.Points(4), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(10)}
		canvases := plot.Align(plots, tiles, body)
		for r := range plots {
			for c, p := range plots[r] {
				if p != nil {
					p.Draw(canvases[r][c])
				}
			}
		}
	})
}

// legendEntry is one item of a legend row: a line sample, or a glyph when
// glyph is set.
type legendEntry struct {
	name  string
	line  draw.LineStyle
	glyph *draw.GlyphStyle
}

// drawLegendRow draws entries side by side, centred horizontally on dc,
// with their vertical centre at y.
func drawLegendRow(dc draw.Canvas, y vg.Length, entries []legendEntry) {
	sty := plot.New().Legend.TextStyle
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	const sample, gap, sep = 28, 4, 18 // points
	var total vg.Length
	for i, e := range entries {
		total += vg.Points(sample+gap) + sty.Width(e.name)
		if i > 0 {
			total += vg.Points(sep)
		}
	}
	x := dc.Center().X - total/2
	for _, e := range entries {
		if e.glyph != nil {
			dc.DrawGlyph(*e.glyph, vg.Point{X: x + vg.Points(sample/2), Y: y})
		} else {
			dc.StrokeLine2(e.line, x, y, x+vg.Points(sample), y)
		}
		x += vg.Points(sample + gap)
		dc.FillText(sty, vg.Point{X: x, Y: y}, e.name)
		x += sty.Width(e.name) + vg.Points(sep)
	}
}

// phaseXYs converts (q, p) pairs to plotter points.
func phaseXYs(pts [][2]float64) plotter.XYs {
	xy := make(plotter.XYs, len(pts))
	for i, qp := range pts {
		xy[i].X, xy[i].Y = qp[0], qp[1]
	}
	return xy
}

// checkSeries reports the first problem that would make series unplottable.
func checkSeries(series []Series, logY bool) error {
	if len(series) == 0 {
		return errors.New("no series to plot")
	}
	for _, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("series %q has %d X values but %d Y values", s.Name, len(s.X), len(s.Y))
		}
		if len(s.X) == 0 {
			return fmt.Errorf("series %q is empty", s.Name)
		}
		for i := range s.X {
			if !finite(s.X[i]) || !finite(s.Y[i]) {
				return fmt.Errorf("series %q point %d is (%v, %v); NaN and infinite values cannot be plotted (did training diverge?)", s.Name, i, s.X[i], s.Y[i])
			}
			if logY && s.Y[i] <= 0 {
				return fmt.Errorf("series %q point %d has Y = %v, which a log-scale axis cannot show; plot with logY false", s.Name, i, s.Y[i])
			}
		}
	}
	return nil
}

// checkPhase reports the first problem that would make a phase portrait
// unplottable.
func checkPhase(truth [][][2]float64, preds map[string][][][2]float64, methods []string) error {
	if len(truth) == 0 {
		return errors.New("no trajectories to plot")
	}
	check := func(what string, k int, traj [][2]float64) error {
		if len(traj) == 0 {
			return fmt.Errorf("%s trajectory %d is empty", what, k)
		}
		for i, qp := range traj {
			if !finite(qp[0]) || !finite(qp[1]) {
				return fmt.Errorf("%s trajectory %d point %d is (%v, %v); NaN and infinite values cannot be plotted (did the rollout diverge?)", what, k, i, qp[0], qp[1])
			}
		}
		return nil
	}
	for k, traj := range truth {
		if err := check("truth", k, traj); err != nil {
			return err
		}
	}
	for _, m := range methods {
		if len(preds[m]) != len(truth) {
			return fmt.Errorf("method %q has %d trajectories but truth has %d", m, len(preds[m]), len(truth))
		}
		for k, traj := range preds[m] {
			if err := check(fmt.Sprintf("method %q", m), k, traj); err != nil {
				return err
			}
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// savePlot renders draw once into a PNG canvas and once into an SVG
// canvas of size w×h, and writes path+".png" and path+".svg" atomically.
func savePlot(path string, w, h vg.Length, render func(draw.Canvas)) error {
	img := vgimg.New(w, h)
	render(draw.New(img))
	if err := atomicfile.Write(path+".png", func(out io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(out)
		return err
	}); err != nil {
		return err
	}
	svg := vgsvg.New(w, h)
	render(draw.New(svg))
	return atomicfile.Write(path+".svg", func(out io.Writer) error {
		_, err := svg.WriteTo(out)
		return err
	})
}
