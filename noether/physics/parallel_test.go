package physics

import (
	"errors"
	"math"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
)

// dataParallelTolerance bounds the relative difference of an RMSE after
// data-parallel training from one device's: only the rounding of the
// gradient's sum over the slices differs (float32 reassociation), and
// training carries it on. Measured: at most 3e-7 on these runs, and on
// --baseline-steps 30 --epochs 2 --batch 256 of the spring.
const dataParallelTolerance = 1e-5

// parallelConfig is a short spring run: 90 training examples, meta
// batches of 31 (two a epoch, 16 + 15 examples on two devices), a neural
// embedding whose update clips.
func parallelConfig(t *testing.T) (Config, *Dataset) {
	t.Helper()
	d, err := Spring().Generate(GenOptions{Trajectories: 6, Train: 3})
	if err != nil {
		t.Fatal(err)
	}
	return Config{Inner: noether.Tailoring{Steps: 1, LR: 10}, BaselineSteps: 20, BaselineLR: 1e-3, WeightDecay: 1e-4,
		MetaEpochs: 3, MetaBatch: 31, MetaLR: 1e-3, EmbedLR: 1e-3, EmbedClip: 1000, EmbedSizes: []int{2, 16, 4}, Seed: 2}, d
}

// twoLogicalDevices opens the test device twice: two logical devices on
// one physical device, as train --devices 0,0 does.
func twoLogicalDevices(t *testing.T) []graph.Backend {
	return []graph.Backend{graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))},
		graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))}}
}

// compareRMSE requires every result's RMSEs to agree with want's within
// tol (0: exactly).
func compareRMSE(t *testing.T, what string, got, want []*Result, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		for _, m := range []struct {
			name      string
			got, want float64
		}{{"test", got[i].TestRMSE, want[i].TestRMSE}, {"train", got[i].TrainRMSE, want[i].TrainRMSE}} {
			rel := math.Abs(m.got-m.want) / m.want
			worst = max(worst, rel)
			if m.got != m.want && !(rel <= tol) {
				t.Errorf("%s: %s %s RMSE %.9g, want %.9g (relative difference %.2g, tolerance %.2g)", what, want[i].Method, m.name, m.got, m.want, rel, tol)
			}
		}
	}
	t.Logf("%s: largest relative difference of an RMSE: %.2g", what, worst)
}

// TestDataParallelTraining trains the baseline and a Noether Network on
// one device and data parallel on two logical devices: the RMSEs agree
// within dataParallelTolerance. A data-parallel run stopped mid-epoch and
// resumed gives the uninterrupted data-parallel run's numbers exactly;
// resumed on one device instead (allowed: the checkpoint does not depend
// on the device count), it gives them within the tolerance.
func TestDataParallelTraining(t *testing.T) {
	cfg, d := parallelConfig(t)
	methods := []Method{Vanilla, Noether}
	run := func(c Config) []*Result {
		t.Helper()
		res, err := c.Run(d, methods...)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	devices := twoLogicalDevices(t)
	one := cfg
	one.Backend, one.Dir = devices[0], t.TempDir()
	single := run(one)

	dp := cfg
	dp.Backend, dp.DataParallel, dp.Dir = devices[0], devices, t.TempDir()
	whole := run(dp)
	compareRMSE(t, "data parallel against one device", whole, single, dataParallelTolerance)

	// Stop after the noether phase's third step: the first of its
	// second epoch.
	stop := make(chan struct{})
	cut := dp
	cut.Dir, cut.Stop = t.TempDir(), stop
	cut.Sinks = []noether.Sink{noether.SinkFunc(func(e noether.Event) error {
		if s, ok := e.(noether.StepEvent); ok && s.Phase == string(Noether) && s.Step == 3 {
			close(stop)
		}
		return nil
	})}
	if _, err := cut.Run(d, methods...); !errors.Is(err, noether.ErrStopped) {
		t.Fatalf("the cut run: %v, want it stopped", err)
	}
	resumed := dp
	resumed.Dir, resumed.Resume = cut.Dir, true
	compareRMSE(t, "data parallel resumed", run(resumed), whole, 0)

	stop = make(chan struct{})
	cut.Dir, cut.Stop = t.TempDir(), stop
	if _, err := cut.Run(d, methods...); !errors.Is(err, noether.ErrStopped) {
		t.Fatalf("the second cut run: %v, want it stopped", err)
	}
	onOne := one
	onOne.Dir, onOne.Resume = cut.Dir, true
	compareRMSE(t, "data parallel resumed on one device", run(onOne), whole, dataParallelTolerance)
}

// TestCheckDevices: a phase whose batch has fewer examples than there are
// devices is refused before anything trains, naming the phase, the batch
// and the device count.
func TestCheckDevices(t *testing.T) {
	cfg, d := parallelConfig(t)
	cfg.MetaBatch = 2
	if err := cfg.CheckDevices(d, 2, Vanilla, Noether); err != nil {
		t.Errorf("batch 2 over 2 devices: %v", err)
	}
	err := cfg.CheckDevices(d, 3, Vanilla, Noether)
	if err == nil || err.Error() != "physics: the noether phase's batch of 2 examples cannot be split over 3 devices (each trains on a slice of every batch, at least one example): give --batch 3 or more, or fewer --devices" {
		t.Errorf("batch 2 over 3 devices: %v", err)
	}
	if err := cfg.CheckDevices(d, 1000, Vanilla); err == nil {
		t.Error("the baseline's batch of 90 over 1000 devices: no error")
	}
}
