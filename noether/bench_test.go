package noether

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
)

// BenchmarkMetaStep times one meta-training step of the paper's physics
// model (MLP 2-200-200-2, every parameter copied per example, one inner
// SGD step, forward-over-reverse meta-gradient, Adam on model and
// embedding) on the Vulkan device: one submit per step.
func BenchmarkMetaStep(b *testing.B) {
	for _, c := range []struct {
		adapt string
		batch int
	}{{"all", 32}, {"all", 128}, {"cn", 128}, {"cn", 1125}} {
		batch := c.batch
		b.Run(fmt.Sprintf("adapt=%s/batch%d", c.adapt, batch), func(b *testing.B) {
			exe, feeds := physicsMetaProgram(b, c.adapt, batch)
			defer exe.Close()
			b.ResetTimer()
			for range b.N {
				if _, err := exe.Run(feeds); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}

func physicsMetaProgram(b testing.TB, adapt string, batch int) (*graph.VulkanExec, map[string][]float32) {
	g := graph.New()
	model := &MLP{Prefix: "f.", Sizes: []int{2, 200, 200, 2}}
	emb := &MLP{Prefix: "g.", Sizes: []int{2, 64, 64, 8}, LastBias: true}
	x, y := g.Input("x", batch, 2), g.Input("y", batch, 2)
	var ad ModelAdaptation = AdaptAll{model}
	if adapt == "cn" {
		ad = AdaptCN{model}
	}
	theta, phi := Declare(g, model.Params()), Declare(g, emb.Params())
	p := &StepProblem{Adapt: ad, Embed: emb, DT: 0.07, X: x, Y: y}
	loss, dth, dph, err := Meta(g, p, ad, theta, phi, batch, Tailoring{Steps: 1, LR: 1e-2})
	if err != nil {
		b.Fatal(err)
	}
	adam := kernels.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	prog, err := g.Compile(graph.CompileOptions{Updates: []graph.Update{
		{Params: theta, Grads: dth, Adam: adam},
		{Params: phi, Grads: dph, Adam: adam, ClipNorm: 1000},
	}}, loss)
	if err != nil {
		b.Fatal(err)
	}
	exe, err := prog.OnVulkan(kernels.NewVulkan(gputest.Open(b)), graph.VulkanOptions{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range []*MLP{model, emb} {
		for k, v := range m.Init(rng) {
			if err := exe.SetParam(k, v); err != nil {
				b.Fatal(err)
			}
		}
	}
	feeds := map[string][]float32{"x": make([]float32, 2*batch), "y": make([]float32, 2*batch)}
	for _, v := range feeds {
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
	}
	if b, ok := b.(*testing.B); ok {
		st := prog.Stats()
		b.Logf("batch %d: %d ops, %d dispatches, arena %d bytes (%d without reuse)", batch, st.Ops, exe.Dispatches(), st.PeakBytes, st.TotalBytes)
	}
	return exe, feeds
}
