package video

import (
	"fmt"
	"maps"
	"math"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/metrics"
	"github.com/noether-vk/noether-vk/svg/clips"
)

// Result is one method's scores on the test windows (the pixel
// pendulum's: the first window of each test episode; the clip tasks':
// every test clip), NPast frames given, NFuture predicted
// autoregressively. Per predicted frame: MSE, PSNR (data range 1, each
// channel's capped at PSNRCap), SSIM (data range 1, scikit-image's
// window; metrics.Options{}) and, with weights, LPIPS. "Episodes" are
// the test windows. The means are over frames and episodes,
// their SEMs across episodes' means; the per-step SEMs are across
// episodes.
type Result struct {
	Method      Method    `json:"method"`
	TestMSE     float64   `json:"test_mse"`
	TestPSNR    float64   `json:"test_psnr"`
	TestSSIM    float64   `json:"test_ssim"`
	TestMSESEM  float64   `json:"test_mse_sem"`
	TestPSNRSEM float64   `json:"test_psnr_sem"`
	TestSSIMSEM float64   `json:"test_ssim_sem"`
	MSEPerStep  []float64 `json:"mse_per_step"`
	PSNRPerStep []float64 `json:"psnr_per_step"`
	SSIMPerStep []float64 `json:"ssim_per_step"`
	MSEStepSEM  []float64 `json:"mse_per_step_sem"`
	PSNRStepSEM []float64 `json:"psnr_per_step_sem"`
	SSIMStepSEM []float64 `json:"ssim_per_step_sem"`
	// The LPIPS scores, when Config.LPIPS names weights.
	TestLPIPS    *float64  `json:"test_lpips,omitempty"`
	TestLPIPSSEM *float64  `json:"test_lpips_sem,omitempty"`
	LPIPSPerStep []float64 `json:"lpips_per_step,omitempty"`
	LPIPSStepSEM []float64 `json:"lpips_per_step_sem,omitempty"`
	Episodes     int       `json:"episodes"`
	LossCurve    []float64 `json:"loss_curve"` // its phase's mean training loss per epoch (svg's for svg)
	// Seconds are its own training and evaluation: svg's include the svg
	// phase, which svg-more-steps and the pendulum's noether start from;
	// theirs do not.
	Seconds float64 `json:"seconds"`
	// Samples are the predicted frames of the first test episodes (as
	// many as Config.Strips), [episode][step] each [3, H, W].
	Samples [][][]float32 `json:"-"`
}

// PSNRCap is the most decibels a colour channel of a predicted frame
// scores: 100 dB, the PSNR of a channel whose MSE is 1e-10. A channel
// predicted exactly has MSE 0 and an infinite PSNR (metrics.PSNR, as
// scikit-image); JSON has no infinity, and one such frame would make
// every mean it enters infinite and its SEM NaN. The cap is per channel,
// before the average over channels, so a frame with one exact channel
// is still scored by the others. It changes no score a model reaches in
// practice: an MSE of 1e-10 is a root-mean-square error of 1e-5, far
// below the 8-bit step (1/255) of any displayed frame.
const PSNRCap = 100

// cappedPSNR is the PSNR of prediction y against truth x with each
// channel's capped at PSNRCap before the average over channels.
func cappedPSNR(x, y []float32, s metrics.Shape) (float64, error) {
	plane := metrics.Shape{C: 1, H: s.H, W: s.W}
	n := plane.Len()
	if len(x) != s.Len() || len(y) != s.Len() {
		return 0, fmt.Errorf("video: PSNR of frames of %d and %d values, want %d", len(x), len(y), s.Len())
	}
	var sum float64
	for c := range s.C {
		v, err := metrics.PSNR(x[c*n:][:n], y[c*n:][:n], plane)
		if err != nil {
			return 0, err
		}
		sum += min(v, PSNRCap)
	}
	return sum / float64(s.C), nil
}

// evaluate fills res's scores: the current parameters roll out every
// test window from its context frames (tailored at prediction time for
// noether), scored against the ground truth frame by frame.
func (e *experiment) evaluate(res *Result) error {
	c := e.cfg
	cfg := c.Model
	b := c.EvalBatch
	g := graph.New()
	theta := e.model.Declare(g)[:len(e.model.Params())]
	in := declareInputs(g, cfg, b, cfg.NPast)
	ctx := e.model.Context(g, nil, nil)
	if res.Method == Noether {
		phi := nn.Declare(g, e.embed.Params())
		ad := e.adaptation()
		p, err := NewProblem(e.model, e.embed, ad, in, c.Form, true)
		if err != nil {
			return err
		}
		adapted, err := noether.Predict(g, p, ad, theta, phi, b, c.Inner)
		if err != nil {
			return err
		}
		ctx = e.model.Context(g, theta, ad.Bind(adapted))
	}
	pred, err := e.model.Rollout(ctx, in)
	if err != nil {
		return err
	}
	exe, err := e.program("evaluation of "+string(res.Method), g, graph.CompileOptions{}, pred.Frames[cfg.NPast:]...)
	if err != nil {
		return err
	}
	defer exe.Close()

	idx := e.data.test
	shape := metrics.Shape{C: cfg.Channels, H: cfg.ImageSize, W: cfg.ImageSize}
	frame := shape.Len()
	var lpips *metrics.LPIPS
	if c.LPIPS != "" {
		w, err := metrics.LoadLPIPSWeights(c.LPIPS)
		if err != nil {
			return err
		}
		if lpips, err = metrics.NewLPIPS(c.Backend, w, b, shape); err != nil {
			return err
		}
		defer lpips.Close()
	}
	var curves metrics.Curves
	var lpipsCurve metrics.Curve
	for lo := 0; lo < len(idx); lo += b {
		n := min(b, len(idx)-lo)
		part := make([]int, b)
		for i := range part {
			part[i] = idx[lo+min(i, n-1)] // the last run is padded with its last window
		}
		truth, err := e.data.render(clips.Test, part, cfg.Frames())
		if err != nil {
			return err
		}
		context := make([]float32, b*cfg.NPast*frame)
		for j := range b {
			copy(context[j*cfg.NPast*frame:][:cfg.NPast*frame], truth.frames[j*truth.frameW:])
		}
		feeds := noise(e.model, c.Seed, noiseStream(evalNoise)+uint64(lo), b)
		maps.Copy(feeds, truth.feeds())
		feeds[framesInput] = context
		out, err := exe.Run(feeds)
		if err != nil {
			return fmt.Errorf("evaluating test windows %d..%d: %w", lo, lo+n-1, err)
		}
		var perceptual [][]float64 // [clip][step]
		if lpips != nil {
			truthT, predT := make([]float32, cfg.NFuture*b*frame), make([]float32, cfg.NFuture*b*frame)
			for k := range cfg.NFuture {
				copy(predT[k*b*frame:], out[k])
				for j := range b {
					copy(truthT[(k*b+j)*frame:][:frame], truth.frames[j*truth.frameW+(cfg.NPast+k)*frame:][:frame])
				}
			}
			if perceptual, err = lpips.Video(truthT, predT, cfg.NFuture, b); err != nil {
				return fmt.Errorf("evaluating test windows %d..%d: %w", lo, lo+n-1, err)
			}
		}
		for j := range n {
			scores := make([]metrics.Scores, cfg.NFuture)
			var sample [][]float32
			for k := range cfg.NFuture {
				p := out[k][j*frame:][:frame]
				want := truth.frames[j*truth.frameW+(cfg.NPast+k)*frame:][:frame]
				if scores[k], err = metrics.Frame(want, p, shape, metrics.Options{}); err != nil {
					return err
				}
				if scores[k].PSNR, err = cappedPSNR(want, p, shape); err != nil {
					return err
				}
				if s := scores[k]; math.IsNaN(s.MSE+s.PSNR+s.SSIM) || math.IsInf(s.MSE+s.PSNR+s.SSIM, 0) {
					return fmt.Errorf("test episode %d, predicted frame %d: MSE %v, PSNR %v, SSIM %v: %w", lo+j, k+1, s.MSE, s.PSNR, s.SSIM, noether.ErrDiverged)
				}
				sample = append(sample, append([]float32(nil), p...))
			}
			if err := curves.Add(scores); err != nil {
				return err
			}
			if perceptual != nil {
				if err := lpipsCurve.Add(perceptual[j]); err != nil {
					return err
				}
			}
			if len(res.Samples) < c.Strips {
				res.Samples = append(res.Samples, sample)
			}
		}
	}
	res.Episodes = curves.MSE.Episodes()
	fill := func(cv *metrics.Curve, mean, sem *float64, steps, stepSEM *[]float64) {
		m := cv.Mean()
		*mean, *sem = m.Mean, m.SEM
		for _, s := range cv.PerStep() {
			*steps = append(*steps, s.Mean)
			*stepSEM = append(*stepSEM, s.SEM)
		}
	}
	fill(&curves.MSE, &res.TestMSE, &res.TestMSESEM, &res.MSEPerStep, &res.MSEStepSEM)
	fill(&curves.PSNR, &res.TestPSNR, &res.TestPSNRSEM, &res.PSNRPerStep, &res.PSNRStepSEM)
	fill(&curves.SSIM, &res.TestSSIM, &res.TestSSIMSEM, &res.SSIMPerStep, &res.SSIMStepSEM)
	if lpips != nil {
		res.TestLPIPS, res.TestLPIPSSEM = new(float64), new(float64)
		fill(&lpipsCurve, res.TestLPIPS, res.TestLPIPSSEM, &res.LPIPSPerStep, &res.LPIPSStepSEM)
	}
	return nil
}
