package graph

import (
	"fmt"
	"testing"
	"time"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// BenchmarkRun measures one Run of a recorded graph of n small nodes (a
// chain of elementwise ops on 64 floats). host-us/run excludes the wait for
// the device: it must stay flat in n, since nothing is recorded again.
func BenchmarkRun(b *testing.B) {
	o := gpu.OptionsFromEnv()
	d, err := gpu.Open(o)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	v := kernels.NewVulkan(d)
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprint(n, "-nodes"), func(b *testing.B) {
			g := New()
			x := g.Input("x", 64)
			y := x
			for i := range n {
				if i%2 == 0 {
					y = g.Tanh(y)
				} else {
					y = g.Scale(y, 1.5)
				}
			}
			prog, err := g.Compile(CompileOptions{}, y)
			if err != nil {
				b.Fatal(err)
			}
			e, err := prog.OnVulkan(v, VulkanOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			feeds := map[string][]float32{"x": make([]float32, 64)}
			if _, err := e.Run(feeds); err != nil {
				b.Fatal(err)
			}
			var host time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if _, err := e.Run(feeds); err != nil {
					b.Fatal(err)
				}
				host += time.Since(start) - e.LastWait()
			}
			b.ReportMetric(float64(host.Microseconds())/float64(b.N), "host-us/run")
		})
	}
}
