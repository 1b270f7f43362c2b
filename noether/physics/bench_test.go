package physics

import (
	"fmt"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
)

// BenchmarkMetaStep times one meta-training step of the noether method on
// the pendulum model (the same program `bench-kernels` times as
// meta_step): one submit per step.
func BenchmarkMetaStep(b *testing.B) {
	v := kernels.NewVulkan(gputest.Open(b))
	for _, c := range []struct {
		adapt string
		batch int
	}{{"cn", 128}, {"cn", 1125}, {"all", 32}} {
		b.Run(fmt.Sprintf("adapt=%s/batch%d", c.adapt, c.batch), func(b *testing.B) {
			step, err := NewMetaStep(v, c.adapt, c.batch)
			if err != nil {
				b.Fatal(err)
			}
			defer step.Close()
			b.Logf("%d dispatches", step.Dispatches)
			for b.Loop() {
				if err := step.Run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(c.batch)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}
