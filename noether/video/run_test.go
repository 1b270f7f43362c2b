package video_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/metrics"
	"github.com/noether-vk/noether-vk/noether/video"
	"github.com/noether-vk/noether-vk/svg"
)

// tinyRun is a run small enough for a test: 8x8 frames, 2 context and 2
// predicted, one training episode of 8 frames (5 windows) and two test
// episodes, one epoch per phase.
func tinyRun(t *testing.T, b graph.Backend) video.Config {
	t.Helper()
	c, err := video.Preset(video.PixelPendulum, "default")
	if err != nil {
		t.Fatal(err)
	}
	m := tinySVG(svg.DCGAN)
	m.Variant = svg.Deterministic
	c.Model = m
	c.Data.Height, c.Data.Width = m.ImageSize, m.ImageSize
	c.Data.TrainEpisodes, c.Data.TestEpisodes, c.Data.EpisodeLen = 1, 2, 8
	c.Data.History, c.Data.Horizon, c.Data.Stride = m.NPast, m.NFuture, 1
	c.Batch, c.EvalBatch = 2, 2
	c.SVGEpochs, c.MoreEpochs, c.NoetherEpochs = 1, 1, 1
	c.EmbedDim, c.Strips = 4, 1
	c.Backend, c.Dir = b, t.TempDir()
	return c
}

// tinyRamp is the smallest ramp run: 8x8 frames, 2 given and 2
// predicted, 6 training and 3 test clips, SVG-LP trained one epoch by
// svg and by noether from scratch, a 3-step inner-loss curve.
func tinyRamp(t *testing.T, b graph.Backend) video.Config {
	t.Helper()
	c, err := video.Preset(video.Ramp, "default")
	if err != nil {
		t.Fatal(err)
	}
	m := tinySVG(svg.VGG)
	m.Variant, m.ActionDim, m.ZDim, m.PriorLayers, m.PosteriorLayers = svg.LearnedPrior, 0, 2, 1, 1
	c.Model = m
	c.Ramp.Height, c.Ramp.Width, c.Ramp.History, c.Ramp.Horizon = m.ImageSize, m.ImageSize, m.NPast, m.NFuture
	c.Ramp.TrainSequences, c.Ramp.TestSequences, c.Ramp.Objects, c.Ramp.TestObjects, c.Ramp.NovelTestObjects = 6, 3, 5, 3, 1
	c.Phys101.Size, c.Phys101.Frames = m.ImageSize, m.Frames()
	c.Batch, c.EvalBatch = 2, 2
	c.SVGEpochs, c.NoetherEpochs = 1, 1
	c.EmbedDim, c.Strips, c.InnerCurveSteps = 4, 1, 3
	c.Backend, c.Dir = b, t.TempDir()
	return c
}

// TestRampRun trains svg and noether from scratch on the tiny ramp on
// Vulkan: both are scored on every test clip, noether's tailoring
// changes its prediction, the inner-loss curve has every step, and the
// figures redraw from the run folder alone.
func TestRampRun(t *testing.T) {
	c := tinyRamp(t, graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))})
	rs, err := c.Run(video.SVG, video.Noether)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Episodes != 3 || rs[1].Episodes != 3 {
		t.Fatalf("results %+v; want svg and noether on 3 test clips", rs)
	}
	if rs[0].TestMSE == rs[1].TestMSE {
		t.Errorf("noether's MSE %v is svg's: its training and tailoring changed nothing", rs[1].TestMSE)
	}
	if len(rs[0].LossCurve) != 1 || len(rs[1].LossCurve) != 1 {
		t.Errorf("loss curves %v and %v: want one epoch each", rs[0].LossCurve, rs[1].LossCurve)
	}
	for _, name := range c.Outputs(video.SVG, video.Noether) {
		if _, err := os.Stat(filepath.Join(c.Dir, name)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
	back, curve, err := video.ReadResults(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if curve == nil || len(curve.Inner) != 4 || len(curve.Outer) != 4 || curve.Windows != 2 {
		t.Fatalf("inner curve %+v: want 4 points (before each of 3 steps and after) on 2 windows", curve)
	}
	if !(curve.Inner[3] < curve.Inner[0]) {
		t.Errorf("inner loss %v: Adam on it did not lower it in 3 steps", curve.Inner)
	}
	if back[1].TestMSE != rs[1].TestMSE {
		t.Errorf("results.json holds MSE %v, the run gave %v", back[1].TestMSE, rs[1].TestMSE)
	}
	out := t.TempDir()
	if err := video.WriteSeedFigures(out, [][]*video.Result{back, rs}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "psnr.png")); err != nil {
		t.Error(err)
	}
	if err := video.WriteSeedFigures(out, [][]*video.Result{back, rs[:1]}); err == nil || !strings.Contains(err.Error(), "other methods") {
		t.Errorf("seed figures over runs of other methods: %v", err)
	}
}

// TestRunBackends runs every method end to end on the CPU executor and
// on Vulkan: the numbers agree to float32 rounding, and the run folder
// holds the phases, plots and strips.
func TestRunBackends(t *testing.T) {
	cpuCfg := tinyRun(t, graph.CPUBackend{})
	cpu, err := cpuCfg.Run(video.Methods()...)
	if err != nil {
		t.Fatal(err)
	}
	vkCfg := tinyRun(t, graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))})
	vk, err := vkCfg.Run(video.Methods()...)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range cpu {
		if r.Method != video.Methods()[i] || r.Episodes != 2 || len(r.MSEPerStep) != 2 || len(r.LossCurve) != 1 {
			t.Errorf("result %d: %s, %d episodes, %d steps, %d epochs; want %s, 2, 2, 1", i, r.Method, r.Episodes, len(r.MSEPerStep), len(r.LossCurve), video.Methods()[i])
		}
		for _, m := range []struct {
			name    string
			cpu, vk float64
		}{{"MSE", r.TestMSE, vk[i].TestMSE}, {"PSNR", r.TestPSNR, vk[i].TestPSNR}, {"SSIM", r.TestSSIM, vk[i].TestSSIM}} {
			if rel := math.Abs(m.cpu-m.vk) / math.Abs(m.cpu); !(rel < 1e-4) {
				t.Errorf("%s test %s: CPU %.7g, Vulkan %.7g (relative difference %.2g)", r.Method, m.name, m.cpu, m.vk, rel)
			}
		}
	}
	if cpu[0].TestMSE == cpu[2].TestMSE {
		t.Errorf("noether's MSE %v is svg's: tailoring changed nothing", cpu[2].TestMSE)
	}
	for _, name := range cpuCfg.Outputs(video.Methods()...) {
		if _, err := os.Stat(filepath.Join(cpuCfg.Dir, name)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
}

// TestResume: a run stopped after its first step and resumed gives the
// numbers of an uninterrupted run, and rerunning a finished run in its
// folder with Resume trains nothing more and gives them again.
func TestResume(t *testing.T) {
	whole := tinyRun(t, graph.CPUBackend{})
	want, err := whole.Run(video.Methods()...)
	if err != nil {
		t.Fatal(err)
	}

	cut := tinyRun(t, graph.CPUBackend{})
	stop := make(chan struct{})
	cut.Stop = stop
	steps := 0
	cut.Sinks = []noether.Sink{noether.SinkFunc(func(e noether.Event) error {
		if _, ok := e.(noether.StepEvent); ok {
			if steps++; steps == 1 {
				close(stop)
			}
		}
		return nil
	})}
	if _, err := cut.Run(video.Methods()...); err == nil {
		t.Fatal("a stopped run returned no error")
	}
	cut.Stop, cut.Sinks, cut.Resume = nil, nil, true
	for _, c := range []video.Config{cut, cut} { // resumed, then rerun when done
		got, err := c.Run(video.Methods()...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i].TestMSE != want[i].TestMSE || got[i].TestSSIM != want[i].TestSSIM {
				t.Errorf("%s: resumed MSE %v SSIM %v, uninterrupted %v %v", want[i].Method, got[i].TestMSE, got[i].TestSSIM, want[i].TestMSE, want[i].TestSSIM)
			}
		}
	}
}

// TestRampLPIPS scores a 32 px ramp run's predictions by LPIPS with
// weights drawn at random (the published ones are not needed to test the
// wiring): every predicted frame gets a finite, non-negative distance,
// and the run draws the lpips plot.
func TestRampLPIPS(t *testing.T) {
	c := tinyRamp(t, graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))})
	c.Model.ImageSize, c.Ramp.Height, c.Ramp.Width = 32, 32, 32
	c.InnerCurveSteps = 0
	rng := rand.New(rand.NewPCG(3, 4))
	w := nn.Init(rng, metrics.LPIPSParams())
	for name, v := range w {
		if strings.HasPrefix(name, "lin") {
			for i := range v {
				v[i] = float32(math.Abs(float64(v[i])))
			}
		}
	}
	c.LPIPS = filepath.Join(t.TempDir(), "lpips.safetensors")
	if err := nn.Save(c.LPIPS, metrics.LPIPSParams(), w, nil); err != nil {
		t.Fatal(err)
	}
	rs, err := c.Run(video.SVG)
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.TestLPIPS == nil || !(*r.TestLPIPS >= 0) || len(r.LPIPSPerStep) != 2 || len(r.LPIPSStepSEM) != 2 {
		t.Fatalf("LPIPS: mean %v, per step %v (SEM %v); want a finite mean and 2 steps", r.TestLPIPS, r.LPIPSPerStep, r.LPIPSStepSEM)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, video.LPIPSName+".png")); err != nil {
		t.Error(err)
	}
	c.Model.ImageSize, c.Ramp.Height, c.Ramp.Width = 16, 16, 16
	if err := c.Check(video.SVG); err == nil || !strings.Contains(err.Error(), "LPIPS scores frames of at least 31 px") {
		t.Errorf("LPIPS on 16 px frames: %v", err)
	}
}
