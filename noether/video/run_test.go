package video_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/video"
	"github.com/noether-vk/noether-vk/svg"
)

// tinyRun is a run small enough for a test: 8x8 frames, 2 context and 2
// predicted, one training episode of 8 frames (5 windows) and two test
// episodes, one epoch per phase.
func tinyRun(t *testing.T, b graph.Backend) video.Config {
	t.Helper()
	c, err := video.Preset("default")
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
	for _, name := range video.Outputs(cpuCfg.Strips) {
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
