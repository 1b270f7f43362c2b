package video

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/svg/clips"
)

// InnerCurve is the Figure 6 analog: from a trained Noether Network, the
// inner (Noether) loss of the autoregressive prediction of a batch of
// test windows is minimised over the tailored sites with Adam for many
// steps, and both losses are recorded before every step and after the
// last. The paper finds the outer loss improving for about 150 steps.
type InnerCurve struct {
	LR      float32 `json:"lr"`
	Windows int     `json:"windows"` // the test windows optimised, the first ones
	// Inner is the Noether loss, summed over the windows; Outer is the
	// summed per-frame MSE of the prediction against the truth (SVG's loss
	// without the KL), averaged over the windows. Index k is after k steps.
	Inner []float64 `json:"inner_loss"`
	Outer []float64 `json:"outer_loss"`
	// BestStep is the step with the lowest outer loss.
	BestStep int `json:"best_step"`
}

// curveScope holds the tailored sites as the inner-loss curve's own
// parameters, one row per window.
const curveScope nn.Scope = "inner_curve"

// innerCurve draws the inner-loss curve of the current parameters (the
// trained noether method's): the sites start at their identity values,
// and every step is one Adam step at InnerCurveLR on the sum over windows
// of their Noether losses, each window's sites seeing only its own loss.
func (e *experiment) innerCurve() (*InnerCurve, error) {
	c := e.cfg
	cfg := c.Model
	b := min(c.EvalBatch, len(e.data.test))
	g := graph.New()
	e.model.Declare(g)
	phi := nn.Declare(g, e.embed.Params())
	ad := e.adaptation()
	specs := make([]nn.ParamSpec, len(ad.Sites))
	for i, s := range ad.Sites {
		specs[i] = nn.ParamSpec{Name: curveScope.Name(s.Name), Shape: append([]int{b}, s.Shape...)}
	}
	sites := nn.Declare(g, specs)
	in := declareInputs(g, cfg, b, cfg.Frames())
	p, err := NewProblem(e.model, e.embed, ad, in, c.Form, true)
	if err != nil {
		return nil, err
	}
	pred := p.Predict(g, nil, sites)
	inner := g.Sum(NoetherLoss(g, e.embed, phi, pred.Frames, c.Form))
	var terms []*graph.Node
	for t := cfg.NPast; t < cfg.Frames(); t++ {
		terms = append(terms, g.MSE(pred.Frames[t], in.Frames[t]))
	}
	outer := terms[0]
	for _, t := range terms[1:] {
		outer = g.Add(outer, t)
	}
	grads := g.Grad(inner, sites...)
	exe, err := e.program("inner-loss curve", g, graph.CompileOptions{Updates: []graph.Update{{Params: sites, Grads: grads, Adam: adam(c.InnerCurveLR)}}}, inner, outer)
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	for i, s := range ad.Sites {
		start := make([]float32, b*graph.Shape(s.Shape).Len())
		for j := range start {
			start[j] = s.Start
		}
		if err := exe.SetParam(specs[i].Name, start); err != nil {
			return nil, err
		}
	}
	truth, err := e.data.render(clips.Test, e.data.test[:b], cfg.Frames())
	if err != nil {
		return nil, err
	}
	feeds := noise(e.model, c.Seed, noiseStream(curveNoise), b)
	maps.Copy(feeds, truth.feeds())
	curve := &InnerCurve{LR: c.InnerCurveLR, Windows: b}
	for step := 0; step <= c.InnerCurveSteps; step++ {
		out, err := exe.Run(feeds)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", step, err)
		}
		in, o := float64(out[0][0]), float64(out[1][0])
		if math.IsNaN(in+o) || math.IsInf(in+o, 0) {
			return nil, fmt.Errorf("step %d: inner loss %v, outer loss %v: lower the rate (InnerCurveLR %v)", step, in, o, c.InnerCurveLR)
		}
		curve.Inner, curve.Outer = append(curve.Inner, in), append(curve.Outer, o)
		if c.Progress != nil && (step%50 == 0 || step == c.InnerCurveSteps) {
			fmt.Fprintf(c.Progress, "inner-loss curve: step %d/%d: inner %.5g, outer %.5g\n", step, c.InnerCurveSteps, in, o)
		}
	}
	curve.BestStep = slices.Index(curve.Outer, slices.Min(curve.Outer))
	return curve, nil
}

// plot draws the curve into path.png and path.svg: the inner and outer
// losses against the step, each divided by its value at step 0, on one
// axis.
func (ic *InnerCurve) plot(path string) error {
	if len(ic.Inner) == 0 || len(ic.Inner) != len(ic.Outer) {
		return fmt.Errorf("video: inner-loss curve with %d inner and %d outer losses", len(ic.Inner), len(ic.Outer))
	}
	x := count(len(ic.Inner), 0)
	rel := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, y := range v {
			out[i] = y / v[0]
		}
		return out
	}
	series := []rundir.Series{
		{Name: fmt.Sprintf("inner (Noether) loss / %.4g", ic.Inner[0]), X: x, Y: rel(ic.Inner)},
		{Name: fmt.Sprintf("outer loss (prediction MSE) / %.4g; lowest at step %d", ic.Outer[0], ic.BestStep), X: x, Y: rel(ic.Outer)},
	}
	title := fmt.Sprintf("Inner Adam steps (lr %g) on %d test windows", ic.LR, ic.Windows)
	return rundir.PlotLines(path, title, "inner step", "loss relative to step 0", series, false)
}
