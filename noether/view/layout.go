package view

import (
	"fmt"
	"math"
	"strings"

	"github.com/noether-vk/noether-vk/kernels/compose"
)

// Scene lays out what st shows of r in a frame of width x height pixels:
//
//   - a title line (task and run folder);
//   - for a physics run, the phase portrait (q, p) of the example's test
//     rollout by each method against the truth, drawn up to the current
//     step, the test RMSE against the rollout step with the step marked,
//     and the training loss of every phase;
//   - for a video run, the example's true and predicted frames at the
//     current step, its Grad-CAM maps over the frames of the chosen
//     principal component, its strip (truth on top, then each method),
//     and the training losses;
//   - a legend with each method's test numbers, and status lines: the
//     training in progress, the example and step, the keys.
func Scene(r *Run, st *State, width, height int) *compose.Scene {
	s := &compose.Scene{Width: width, Height: height, Background: background}
	c := &canvas{s: s, scale: 1}
	if width >= 1400 && height >= 800 {
		c.scale = 2
	}
	st.Fit(r)
	lh := c.lineHeight()
	pad := 6
	title := "noether-vk view"
	if r.Task != "" {
		title += "  " + r.Task
	}
	if r.Dir != "" {
		title += "  " + r.Dir
	}
	c.text(pad, pad, ink, c.fit(title, width-2*pad))
	colours, _ := methodColours(r)
	status := statusLines(r, st)
	bottom := height - pad - len(status)*lh
	for i, line := range status {
		col := dim
		if i == 0 {
			col = ink
		}
		if strings.HasPrefix(line, "!") {
			col, line = warning, line[1:]
		}
		c.text(pad, bottom+i*lh, col, c.fit(line, width-2*pad))
	}
	legendY := bottom - lh - 2
	c.legend(pad, legendY, width-2*pad, r)
	main := box{pad, pad + lh + 4, width - 2*pad, legendY - 4 - (pad + lh + 4)}
	if main.w < 40 || main.h < 40 {
		return s
	}
	if r.Video() {
		c.videoPanels(main, r, st, colours)
	} else {
		c.physicsPanels(main, r, st, colours)
	}
	return s
}

// methodColours gives every method and phase a colour, in order of first
// appearance (rollouts, results, phases), and returns that order.
func methodColours(r *Run) (map[string]compose.RGB, []string) {
	out := map[string]compose.RGB{}
	var order []string
	add := func(name string) {
		if _, ok := out[name]; !ok {
			out[name] = palette[len(order)%len(palette)]
			order = append(order, name)
		}
	}
	for _, o := range r.Rollouts {
		add(o.Method)
	}
	for _, res := range r.Results {
		add(res.Method)
	}
	for _, p := range r.Phases {
		add(p.Name)
	}
	return out, order
}

// headline is a result's number to show: the test RMSE, or the video
// metrics.
func headline(res Result) string {
	if res.Error != "" || res.State == "failed" {
		return "failed"
	}
	for _, k := range []string{"test_rmse", "test_mse", "test_psnr", "test_ssim"} {
		if v, ok := res.Numbers[k]; ok {
			return strings.TrimPrefix(k, "test_") + " " + number(v)
		}
	}
	return ""
}

// legend draws the truth's and each method's colour with its number.
func (c *canvas) legend(x, y, w int, r *Run) {
	colours, order := methodColours(r)
	end := x + w
	x = c.text(x, y, truthInk, "-- truth")
	for _, n := range order {
		label := "-- " + n
		for _, res := range r.Results {
			if h := headline(res); res.Method == n && h != "" {
				label += " (" + h + ")"
			}
		}
		if x+compose.TextWidth(label, c.scale) > end {
			return
		}
		x = c.text(x+compose.Advance*c.scale, y, colours[n], label)
	}
}

// statusLines are the training in progress, the view's state and the keys
// ("!" marks a warning line).
func statusLines(r *Run, st *State) []string {
	var out []string
	now := "no training events yet"
	if p := r.Now; p.Phase != "" {
		now = fmt.Sprintf("phase %s  epoch %d", p.Phase, p.Epoch)
		if p.Epochs > 0 {
			now += fmt.Sprintf("/%d", p.Epochs)
		}
		if p.Step > 0 {
			now += fmt.Sprintf("  step %d", p.Step)
		}
		now += "  loss " + number(p.Loss)
		if p.Done {
			now += "  (done)"
		}
	}
	out = append(out, now)
	view := fmt.Sprintf("example %d/%d  step %d/%d", st.Example+1, max(r.Examples(), 1), st.Step+1, r.Steps(st.Example))
	if r.GradCAM != nil {
		view += fmt.Sprintf("  PC%d", st.Component+1)
		if st.NoHeat {
			view += " (heat hidden)"
		}
	}
	if st.Paused {
		view += "  paused"
	}
	out = append(out, view+"  |  keys: "+Keys)
	if r.Note != "" {
		out = append(out, "!"+strings.ReplaceAll(r.Note, "\n", "; "))
	}
	return out
}

// physicsPanels: the phase portrait on the left, the RMSE per step and
// the losses stacked on the right.
func (c *canvas) physicsPanels(b box, r *Run, st *State, colours map[string]compose.RGB) {
	left := box{b.x, b.y, min(b.w/2, b.h+40), b.h}
	right := box{left.x + left.w + 6, b.y, b.w - left.w - 6, b.h}
	top := box{right.x, right.y, right.w, right.h/2 - 3}
	c.portrait(left, r, st, colours)
	c.rmsePanel(top, r, st, colours)
	c.lossPanel(box{right.x, top.y + top.h + 6, right.w, right.h - top.h - 6}, r, colours)
}

// portrait is example st.Example's phase portrait: the truth whole
// (dim) and up to the step (bright), each method's prediction up to the
// step, and a dot at the step.
func (c *canvas) portrait(b box, r *Run, st *State, colours map[string]compose.RGB) {
	in := c.framed(b, fmt.Sprintf("phase portrait, test example %d: q across, p up", st.Example+1))
	area := in.inset(4)
	var truth [][2]float64
	var preds []namedPoints
	for _, o := range r.Rollouts {
		if st.Example >= len(o.Truth) || len(o.Shape) != 1 || o.Shape[0] != 2 {
			continue
		}
		if truth == nil {
			truth = points2(o.Truth[st.Example])
		}
		preds = append(preds, namedPoints{o.Method, points2(o.Pred[st.Example])})
	}
	all := [][][2]float64{truth}
	for _, p := range preds {
		all = append(all, p.pts)
	}
	a, ok := newAxes(area, false, false, all...)
	if !ok {
		c.para(area.x+4, area.y+4, area.w-8, dim, "no rollouts yet: train writes them as it evaluates each method (train --resume adds them to an older run)")
		return
	}
	upTo := func(p [][2]float64) [][2]float64 { return p[:min(st.Step+1, len(p))] }
	c.polyline(a, truth, truthDim, 1)
	c.polyline(a, upTo(truth), truthInk, 1)
	for _, p := range preds {
		c.polyline(a, upTo(p.pts), colours[p.name], 2)
	}
	for _, p := range preds {
		if st.Step < len(p.pts) {
			c.dot(a, p.pts[st.Step], colours[p.name], 6)
		}
	}
	if st.Step < len(truth) {
		c.dot(a, truth[st.Step], truthInk, 6)
	}
	c.ticks(a)
}

type namedPoints struct {
	name string
	pts  [][2]float64
}

// points2 is a phase-space trajectory as points (q, p).
func points2(steps [][]float32) [][2]float64 {
	out := make([][2]float64, len(steps))
	for i, x := range steps {
		out[i] = [2]float64{float64(x[0]), float64(x[1])}
	}
	return out
}

// rmsePanel is each method's test RMSE against the rollout step, with
// the current step marked.
func (c *canvas) rmsePanel(b box, r *Run, st *State, colours map[string]compose.RGB) {
	var series []namedPoints
	for _, o := range r.Rollouts {
		pts := make([][2]float64, len(o.StepRMSE))
		for t, v := range o.StepRMSE {
			pts[t] = [2]float64{float64(t), v}
		}
		series = append(series, namedPoints{o.Method, pts})
	}
	c.plotPanel(b, "test RMSE per rollout step", "no rollouts yet", false, series, colours, 2, func(a axes) {
		x, _ := a.at(float64(st.Step), a.y0)
		c.segment(a.area, x, float64(a.area.y), x, float64(a.area.y+a.area.h-1), border, 1)
	})
}

// lossPanel is each phase's training loss per epoch (log scale); phases
// after the first continue from its last epoch, as they start from it.
func (c *canvas) lossPanel(b box, r *Run, colours map[string]compose.RGB) {
	var series []namedPoints
	offset := 0
	for i, p := range r.Phases {
		pts := make([][2]float64, len(p.Losses))
		for e, v := range p.Losses {
			pts[e] = [2]float64{float64(offset + e + 1), v}
		}
		if i == 0 {
			offset = len(p.Losses)
		}
		series = append(series, namedPoints{p.Name, pts})
	}
	c.plotPanel(b, "training loss per epoch (log scale)", "no epochs yet", true, series, colours, 1, nil)
}

// plotPanel draws a framed plot of the series in their colours, over
// what under draws first (nil: nothing), or the message empty when no
// series has a point to draw. A linear y axis starts at 0.
func (c *canvas) plotPanel(b box, title, empty string, logY bool, series []namedPoints, colours map[string]compose.RGB, width int, under func(axes)) {
	area := c.framed(b, title).inset(4)
	var all [][][2]float64
	for _, s := range series {
		all = append(all, s.pts)
	}
	a, ok := newAxes(area, logY, !logY, all...)
	if !ok {
		c.para(area.x+4, area.y+4, area.w-8, dim, empty)
		return
	}
	if under != nil {
		under(a)
	}
	for _, s := range series {
		c.polyline(a, s.pts, colours[s.name], width)
	}
	c.ticks(a)
}

// videoPanels: on the left, the example's frames at the step (truth and
// each method), its Grad-CAM row and its strip; on the right, the losses.
func (c *canvas) videoPanels(b box, r *Run, st *State, colours map[string]compose.RGB) {
	lossW := b.w / 3
	left := box{b.x, b.y, b.w - lossW - 6, b.h}
	c.lossPanel(box{left.x + left.w + 6, b.y, lossW, b.h}, r, colours)
	var rows []func(box)
	frames := framesAt(r, st)
	if len(frames) > 0 {
		rows = append(rows, func(bx box) { c.frameRow(bx, frames, st) })
	}
	if g := r.GradCAM; g != nil && st.Example < g.N {
		rows = append(rows, func(bx box) { c.gradcamRow(bx, g, st) })
	}
	if st.Example < len(r.Strips) {
		strip := r.Strips[st.Example]
		rows = append(rows, func(bx box) {
			in := c.framed(bx, fmt.Sprintf("strip, test episode %d: truth, then each method", st.Example+1))
			c.image(in.inset(4), strip, nil, 0)
		})
	}
	if len(rows) == 0 {
		in := c.framed(left, "frames")
		c.para(in.x+4, in.y+4, in.w-8, dim, "no frames yet: they come when a method is evaluated")
		return
	}
	h := (left.h - 6*(len(rows)-1)) / len(rows)
	for i, row := range rows {
		row(box{left.x, left.y + i*(h+6), left.w, h})
	}
}

type labelledFrame struct {
	label string
	col   compose.RGB
	img   *compose.Raster
}

// framesAt is the example's true frame and each method's predicted frame
// at the step, from rollouts of frames ([3, H, W] in [0, 1]).
func framesAt(r *Run, st *State) []labelledFrame {
	var out []labelledFrame
	colours, _ := methodColours(r)
	for _, o := range r.Rollouts {
		if len(o.Shape) != 3 || o.Shape[0] != 3 || st.Example >= len(o.Truth) || st.Step >= len(o.Truth[st.Example]) {
			continue
		}
		if out == nil {
			out = append(out, labelledFrame{"truth", truthInk, frameRaster(o.Truth[st.Example][st.Step], o.Shape[1], o.Shape[2])})
		}
		if st.Step < len(o.Pred[st.Example]) {
			out = append(out, labelledFrame{o.Method, colours[o.Method], frameRaster(o.Pred[st.Example][st.Step], o.Shape[1], o.Shape[2])})
		}
	}
	return out
}

// frameRow draws frames side by side, each labelled.
func (c *canvas) frameRow(b box, frames []labelledFrame, st *State) {
	in := c.framed(b, fmt.Sprintf("frame %d: truth and each method's prediction", st.Step+1))
	lh := c.lineHeight()
	w := (in.w - 4*(len(frames)+1)) / len(frames)
	for i, f := range frames {
		cell := box{in.x + 4 + i*(w+4), in.y + 2, w, in.h - lh - 6}
		c.image(cell, f.img, nil, 0)
		c.text(cell.x, cell.y+cell.h+2, f.col, c.fit(f.label, w))
	}
}

// gradcamRow draws the example's frames with the chosen component's heat
// maps over them, the current step outlined.
func (c *canvas) gradcamRow(b box, g *GradCAM, st *State) {
	k := min(st.Component, g.K-1)
	title := fmt.Sprintf("Grad-CAM of PC%d (explains %.1f%% of the variance)", k+1, 100*g.Explained[k])
	if st.NoHeat {
		title += ", heat hidden (h)"
	}
	in := c.framed(b, title)
	side := min((in.w-4*(g.T+1))/g.T, in.h-8)
	if side < 4 {
		return
	}
	for t := range g.T {
		cell := box{in.x + 4 + t*(side+4), in.y + 4, side, side}
		if t == st.Step%g.T {
			c.rect(box{cell.x - 2, cell.y - 2, cell.w + 4, cell.h + 4}, highlight)
		}
		frame := g.Frames[((st.Example*g.T)+t)*3*g.H*g.W:][:3*g.H*g.W]
		var heat []uint8
		if !st.NoHeat {
			heat = heatBytes(g.Heat[((k*g.N+st.Example)*g.T+t)*g.H*g.W:][:g.H*g.W])
		}
		c.image(cell, frameRaster(frame, g.H, g.W), heat, 128)
	}
}

// image draws src scaled to fit b, keeping its aspect, centred.
func (c *canvas) image(b box, src *compose.Raster, heat []uint8, alpha uint8) {
	if b.w <= 0 || b.h <= 0 || src.W == 0 || src.H == 0 {
		return
	}
	w, h := b.w, b.w*src.H/src.W
	if h > b.h {
		w, h = b.h*src.W/src.H, b.h
	}
	if w <= 0 || h <= 0 {
		return
	}
	c.s.Images = append(c.s.Images, compose.Image{X: b.x + (b.w-w)/2, Y: b.y + (b.h-h)/2, W: w, H: h, Src: src, Heat: heat, HeatAlpha: alpha})
}

// frameRaster converts a frame [3, h, w] in [0, 1] to RGB.
func frameRaster(f []float32, h, w int) *compose.Raster {
	r := &compose.Raster{W: w, H: h, Pix: make([]compose.RGB, w*h)}
	for i := range r.Pix {
		r.Pix[i] = compose.RGB(unit(f[i]))<<16 | compose.RGB(unit(f[h*w+i]))<<8 | compose.RGB(unit(f[2*h*w+i]))
	}
	return r
}

// heatBytes converts heat in [0, 1] to 0-255.
func heatBytes(v []float32) []uint8 {
	out := make([]uint8, len(v))
	for i, x := range v {
		out[i] = unit(x)
	}
	return out
}

// unit maps [0, 1] to 0-255, rounding, clamping, and NaN to 0.
func unit(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	return uint8(math.Round(float64(min(v, 1)) * 255))
}
