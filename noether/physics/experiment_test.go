package physics

import (
	"math"
	"testing"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
)

// TestExperimentConsistency runs every method on a short schedule and
// checks relations that hold whatever the numbers are: tailoring at inner
// learning rate 0 is the baseline exactly; meta-training for 0 epochs is
// tailoring; the projected field conserves the formula; every RMSE is
// finite and the per-step curve ends where the longest trajectory does.
func TestExperimentConsistency(t *testing.T) {
	d, err := Spring().Generate(GenOptions{Trajectories: 6, Train: 3})
	if err != nil {
		t.Fatal(err)
	}
	v := kernels.NewVulkan(gputest.Open(t))
	cfg := Config{Loss: formulas.MustParse("q^2 + c*p^2"), LossParams: map[string]float64{"c": 1},
		Inner: noether.Tailoring{Steps: 1, LR: 0.2}, BaselineSteps: 15, BaselineLR: 1e-3, WeightDecay: 1e-4,
		MetaEpochs: 2, MetaBatch: 32, MetaLR: 1e-3, EmbedLR: 1e-3, EmbedClip: 1000, Dir: t.TempDir(), Seed: 4, Backend: graph.VulkanBackend{Kernels: v}}
	res, err := cfg.Run(d, Methods()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if math.IsNaN(r.TestRMSE) || math.IsNaN(r.TrainRMSE) || r.TestRMSE <= 0 {
			t.Errorf("%s: test %v train %v", r.Method, r.TestRMSE, r.TrainRMSE)
		}
		if len(r.StepRMSE) != d.Test[0].Len() || r.StepRMSE[0] != 0 {
			t.Errorf("%s: %d steps starting at %v, want %d starting at 0 (rollouts start on the true state)", r.Method, len(r.StepRMSE), r.StepRMSE[0], d.Test[0].Len())
		}
		if r.BaselineTest != res[0].TestRMSE {
			t.Errorf("%s: baseline %v, vanilla row %v", r.Method, r.BaselineTest, res[0].TestRMSE)
		}
	}
	if res[2].TestRMSE == res[0].TestRMSE {
		t.Error("tailoring changed nothing")
	}
	// project's rollouts keep q^2 + p^2 up to the integrator's error; the
	// baseline's drift.
	drift := func(r *Result) float64 {
		worst := 0.0
		for _, traj := range r.TestRollouts {
			h0 := traj[0][0]*traj[0][0] + traj[0][1]*traj[0][1]
			for _, x := range traj {
				worst = max(worst, math.Abs(x[0]*x[0]+x[1]*x[1]-h0)/h0)
			}
		}
		return worst
	}
	if res[5].Method != Project {
		t.Fatalf("row 5 is %s, want project", res[5].Method)
	}
	if p, v := drift(res[5]), drift(res[0]); p > 1e-3 || p > v/10 {
		t.Errorf("relative energy drift along rollouts: project %.2g, vanilla %.2g; want project under 1e-3 and a tenth of vanilla's", p, v)
	}

	// Meta-tailoring may train the formula's parameters.
	learn := cfg
	learn.Dir, learn.TrainLossParams = t.TempDir(), true
	lr, err := learn.Run(d, MetaTailor)
	if err != nil {
		t.Fatal(err)
	}
	if c := lr[0].LossParams["c"]; c == 1 || math.IsNaN(c) {
		t.Errorf("trained formula parameter c = %v, want it moved from 1", c)
	}
	if res[3].LossParams["c"] != 1 {
		t.Errorf("frozen formula parameter c = %v, want 1", res[3].LossParams["c"])
	}

	zero := cfg
	zero.Dir, zero.Inner.LR = t.TempDir(), 0 // zero means zero, not a default
	zero.MetaEpochs = 0
	z, err := zero.Run(d, Vanilla, Tailor, MetaTailor)
	if err != nil {
		t.Fatal(err)
	}
	if z[1].TestRMSE != z[0].TestRMSE {
		t.Errorf("tailoring at lr 0: %v, baseline %v", z[1].TestRMSE, z[0].TestRMSE)
	}
	if z[2].TestRMSE != z[1].TestRMSE {
		t.Errorf("meta-tailoring for 0 epochs: %v, tailoring %v", z[2].TestRMSE, z[1].TestRMSE)
	}
}

// TestExperimentBackends runs a tiny experiment (baseline, tailoring and a
// Noether Network) end to end on the CPU executor and on Vulkan: the two
// must agree to float32 rounding, amplified a little by training.
func TestExperimentBackends(t *testing.T) {
	d, err := Pendulum().Generate(GenOptions{Trajectories: 4, Train: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Loss: formulas.MustParse("p^2 - c*cos(q)"), LossParams: map[string]float64{"c": 3},
		Inner: noether.Tailoring{Steps: 1, LR: 0.1}, BaselineSteps: 5, BaselineLR: 1e-3, WeightDecay: 1e-4,
		MetaEpochs: 1, MetaBatch: 30, MetaLR: 1e-3, EmbedLR: 1e-3, EmbedClip: 1000, EmbedSizes: []int{2, 8, 4}, Seed: 1}
	run := func(b graph.Backend) []*Result {
		c := cfg
		c.Backend, c.Dir = b, t.TempDir()
		res, err := c.Run(d, Vanilla, Tailor, Noether)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	cpu, vk := run(graph.CPUBackend{}), run(graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))})
	for i := range cpu {
		for _, m := range []struct {
			name    string
			cpu, vk float64
		}{{"test", cpu[i].TestRMSE, vk[i].TestRMSE}, {"train", cpu[i].TrainRMSE, vk[i].TrainRMSE}} {
			if rel := math.Abs(m.cpu-m.vk) / m.cpu; !(rel < 1e-4) {
				t.Errorf("%s %s RMSE: CPU %.7g, Vulkan %.7g (relative difference %.2g)", cpu[i].Method, m.name, m.cpu, m.vk, rel)
			}
		}
	}
}
