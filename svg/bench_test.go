package svg_test

import (
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/svg"
)

// BenchmarkTrainStep times one training step of the default preset on
// Vulkan: the teacher-forced outer loss of a batch of 8 sequences (4
// context and 26 predicted 32x32 frames) and its gradients.
func BenchmarkTrainStep(b *testing.B) {
	cfg, err := svg.Preset("default")
	if err != nil {
		b.Fatal(err)
	}
	const batch = 8
	d := declare(b, cfg, batch)
	loss := d.loss(b, d.predict(b, d.m.Context(d.g, nil, nil), false))
	grads := d.g.Grad(loss, d.params...)
	prog := graphtest.Compile(b, d.g, append([]*graph.Node{loss}, grads...)...)
	st := prog.Stats()
	b.ReportMetric(float64(st.PeakBytes), "peak-bytes")
	e, err := prog.OnVulkan(kernels.NewVulkan(gputest.Open(b)), graph.VulkanOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	rng := rand.New(rand.NewPCG(1, 1))
	graphtest.SetParams(b, e, d.m.Init(rng))
	feeds := testFeeds(rng, d.m, batch)
	for b.Loop() {
		graphtest.Run(b, e, feeds)
	}
}
