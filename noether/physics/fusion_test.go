package physics

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
)

// TestMetaStepFusionBitwise: the noether method's meta-training step on the
// pendulum MLP (one inner step adapting the CN parameters, or every
// weight, the forward-over-reverse meta-gradient, Adam on the model and
// the embedding) gives the same losses and parameters, bit for bit, with
// the graph compiler's elementwise fusion and without it
// (NOETHER_VK_FUSION=off), over three steps, in fewer dispatches.
func TestMetaStepFusionBitwise(t *testing.T) {
	v := kernels.NewVulkan(gputest.Open(t))
	d, err := Pendulum().Generate(GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		losses     []float32
		params     map[string][]float32
		dispatches int
	}
	for _, c := range []struct {
		adapt string
		batch int
	}{{"cn", 32}, {"all", 8}} {
		run := func(fusion string) result {
			t.Setenv("NOETHER_VK_FUSION", fusion)
			cfg := Config{Method: Noether, Adapt: c.adapt, Inner: noether.Tailoring{Steps: 1, LR: 0.1},
				MetaLR: 1e-3, EmbedLR: 1e-3, EmbedClip: 1000, WeightDecay: 1e-4, Backend: graph.VulkanBackend{Kernels: v}}
			e, err := cfg.newExperiment(d, map[string][]float32{})
			if err != nil {
				t.Fatal(err)
			}
			for k, val := range nn.Init(rand.New(rand.NewPCG(1, 1)), e.model.Params()) {
				e.params[k] = val
			}
			ad, err := e.adaptation()
			if err != nil {
				t.Fatal(err)
			}
			exe, specs, err := e.metaProgram(ad, c.batch)
			if err != nil {
				t.Fatal(err)
			}
			defer exe.Close()
			r := result{params: map[string][]float32{}, dispatches: exe.(*graph.VulkanExec).Dispatches()}
			for s := range 3 {
				at := stateDim * c.batch * s
				out, err := exe.Run(map[string][]float32{"x": e.x[at : at+stateDim*c.batch], "y": e.dx[at : at+stateDim*c.batch]})
				if err != nil {
					t.Fatal(err)
				}
				r.losses = append(r.losses, out[0][0])
			}
			for _, sp := range specs {
				if r.params[sp.Name], err = exe.Param(sp.Name); err != nil {
					t.Fatal(err)
				}
			}
			return r
		}
		plain, fused := run("off"), run("")
		t.Logf("%s at batch %d: %d dispatches fused, %d unfused; losses %v", c.adapt, c.batch, fused.dispatches, plain.dispatches, fused.losses)
		if fused.dispatches >= plain.dispatches {
			t.Errorf("%s: %d dispatches fused, %d unfused", c.adapt, fused.dispatches, plain.dispatches)
		}
		for s, l := range plain.losses {
			if math.Float32bits(fused.losses[s]) != math.Float32bits(l) {
				t.Errorf("%s step %d: loss %g fused, %g unfused", c.adapt, s, fused.losses[s], l)
			}
		}
		for name, want := range plain.params {
			got := fused.params[name]
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Errorf("%s: %s[%d] = %g fused, %g unfused", c.adapt, name, i, got[i], want[i])
					break
				}
			}
		}
	}
}
