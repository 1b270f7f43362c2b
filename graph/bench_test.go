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

// BenchmarkPlanLSTM reports the planner's arena for the LSTM step graph of
// TestLSTM (loss, gradients and HVPs) against the sum of its tensor sizes.
func BenchmarkPlanLSTM(b *testing.B) {
	for b.Loop() {
		g := New()
		loss, ps := lstmModel(g, 2, 3, 64, 10)
		grads := g.Grad(loss, ps...)
		prog, err := g.Compile(CompileOptions{}, append([]*Node{loss}, grads...)...)
		if err != nil {
			b.Fatal(err)
		}
		st := prog.Stats()
		b.ReportMetric(float64(st.PeakBytes), "peak-bytes")
		b.ReportMetric(float64(st.TotalBytes), "total-bytes")
	}
}

// dcganEncoder is the DCGAN-64 encoder: four 4x4 stride 2 pad 1
// convolutions (3 -> 64 -> 128 -> 256 -> 512, 64x64 -> 4x4), each but the
// first followed by group_norm (1 group, in place of batch norm at batch
// 2), with leaky ReLU 0.2, then a 4x4 convolution to dim channels at 1x1
// and tanh.
func dcganEncoder(g *Graph, x *Node, dim int) (*Node, []*Node) {
	var ps []*Node
	h := x
	chans := []int{3, 64, 128, 256, 512}
	for i := 1; i < len(chans); i++ {
		w, b := g.Param(fmt.Sprint("ew", i), chans[i], chans[i-1], 4, 4), g.Param(fmt.Sprint("eb", i), chans[i])
		ps = append(ps, w, b)
		h = g.Conv2d(h, w, b, 2, 1)
		if i > 1 {
			gw, gb := g.Param(fmt.Sprint("egw", i), chans[i]), g.Param(fmt.Sprint("egb", i), chans[i])
			ps = append(ps, gw, gb)
			h = g.GroupNorm(h, gw, gb, 1)
		}
		h = g.LeakyRelu(h, 0.2)
	}
	w, b := g.Param("ew5", dim, 512, 4, 4), g.Param("eb5", dim)
	ps = append(ps, w, b)
	return g.Tanh(g.Conv2d(h, w, b, 1, 0)), ps
}

// dcganDecoder mirrors the encoder with transposed convolutions: dim at
// 1x1 -> 512 at 4x4 -> 256 -> 128 -> 64 -> 3 at 64x64 (4x4 stride 2 pad
// 1), group_norm and ReLU between, sigmoid at the end.
func dcganDecoder(g *Graph, z *Node, dim int) (*Node, []*Node) {
	var ps []*Node
	chans := []int{dim, 512, 256, 128, 64, 3}
	h := z
	for i := 1; i < len(chans); i++ {
		w, b := g.Param(fmt.Sprint("dw", i), chans[i-1], chans[i], 4, 4), g.Param(fmt.Sprint("db", i), chans[i])
		ps = append(ps, w, b)
		if i == 1 {
			h = g.ConvTranspose2d(h, w, b, 1, 0)
		} else {
			h = g.ConvTranspose2d(h, w, b, 2, 1)
		}
		if i == len(chans)-1 {
			return g.Sigmoid(h), ps
		}
		gw, gb := g.Param(fmt.Sprint("dgw", i), chans[i]), g.Param(fmt.Sprint("dgb", i), chans[i])
		ps = append(ps, gw, gb)
		h = g.Relu(g.GroupNorm(h, gw, gb, 1))
	}
	return h, ps
}

// BenchmarkPlanConv reports the planner's arena against the sum of tensor
// sizes for the DCGAN-64 encoder at batch 2 (loss = mean square of the
// 128-d code, with its gradient), and for the encoder-decoder with a
// reconstruction loss and its gradient.
func BenchmarkPlanConv(b *testing.B) {
	for _, dec := range []bool{false, true} {
		name := "encoder"
		if dec {
			name = "autoencoder"
		}
		b.Run(name, func(b *testing.B) {
			var st PlanStats
			var gradBytes int64 // the gradients: outputs, live to the end
			for b.Loop() {
				g := New()
				x := g.Input("x", 2, 3, 64, 64)
				code, ps := dcganEncoder(g, x, 128)
				loss := g.Mean(g.Square(code))
				if dec {
					y, dps := dcganDecoder(g, code, 128)
					ps = append(ps, dps...)
					loss = g.Mean(g.Square(g.Sub(y, x)))
				}
				grads := g.Grad(loss, ps...)
				prog, err := g.Compile(CompileOptions{}, append([]*Node{loss}, grads...)...)
				if err != nil {
					b.Fatal(err)
				}
				st = prog.Stats()
				gradBytes = 0
				for _, gr := range grads {
					gradBytes += 4 * int64(gr.Shape().Len())
				}
			}
			b.ReportMetric(float64(st.PeakBytes), "peak-bytes")
			b.ReportMetric(float64(st.TotalBytes), "total-bytes")
			b.ReportMetric(float64(gradBytes), "grad-bytes")
			mib := func(n int64) float64 { return float64(n) / (1 << 20) }
			b.Logf("%s: %d ops, arena %.2f MiB, %.2f MiB without reuse (%.1f%%); of both, %.2f MiB are the gradients (outputs)",
				name, st.Ops, mib(st.PeakBytes), mib(st.TotalBytes), 100*float64(st.PeakBytes)/float64(st.TotalBytes), mib(gradBytes))
		})
	}
}
