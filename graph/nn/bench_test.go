package nn_test

import (
	"fmt"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// BenchmarkPlanLSTM reports the planner's arena for the LSTM step graph of
// TestLSTM (loss and gradients) against the sum of its tensor sizes.
func BenchmarkPlanLSTM(b *testing.B) {
	for b.Loop() {
		g := graph.New()
		loss, ps := lstmModel(g, 2, 3, 64, 10)
		grads := g.Grad(loss, ps...)
		prog, err := g.Compile(graph.CompileOptions{}, append([]*graph.Node{loss}, grads...)...)
		if err != nil {
			b.Fatal(err)
		}
		st := prog.Stats()
		b.ReportMetric(float64(st.PeakBytes), "peak-bytes")
		b.ReportMetric(float64(st.TotalBytes), "total-bytes")
	}
}

// dcganEncoder is SVG's DCGAN-64 encoder (Denton & Fergus 2018, and its reference code): four 4x4
// stride 2 blocks 3 -> 64 -> 128 -> 256 -> 512 (64x64 -> 4x4), each with
// norm (GroupNorm(1, C), as the Physics 101 run uses in place of
// BatchNorm) and LeakyReLU 0.2, then a valid 4x4 convolution to dim, norm
// and tanh.
func dcganEncoder(dim int) nn.Sequential {
	block := func(conv nn.Conv2d, act nn.Module) nn.Module {
		return nn.Sequential{conv, nn.GroupNorm{Groups: 1, Channels: conv.Out}, act}
	}
	var enc nn.Sequential
	chans := []int{3, 64, 128, 256, 512}
	for i := 1; i < len(chans); i++ {
		conv := nn.Conv2d{In: chans[i-1], Out: chans[i], Kernel: 4, Stride: 2, Pad: 1}
		enc = append(enc, nn.Named{Name: fmt.Sprint("c", i), Module: block(conv, nn.LeakyReLU{Slope: 0.2})})
	}
	return append(enc, nn.Named{Name: "c5", Module: block(nn.Conv2d{In: 512, Out: dim, Kernel: 4}, nn.Tanh{})})
}

// dcganDecoder mirrors the encoder with transposed convolutions: dim at
// 1x1 -> 512 at 4x4 -> 256 -> 128 -> 64 -> 3 at 64x64 (4x4 stride 2 pad
// 1), GroupNorm(1, C) and ReLU between, sigmoid at the end.
func dcganDecoder(dim int) nn.Sequential {
	var dec nn.Sequential
	chans := []int{dim, 512, 256, 128, 64, 3}
	for i := 1; i < len(chans); i++ {
		up := nn.ConvTranspose2d{In: chans[i-1], Out: chans[i], Kernel: 4, Stride: 2, Pad: 1}
		if i == 1 {
			up.Stride, up.Pad = 1, 0
		}
		var block nn.Module = nn.Sequential{up, nn.GroupNorm{Groups: 1, Channels: chans[i]}, nn.ReLU{}}
		if i == len(chans)-1 {
			block = nn.Sequential{up, nn.Sigmoid{}}
		}
		dec = append(dec, nn.Named{Name: fmt.Sprint("upc", i), Module: block})
	}
	return dec
}

// BenchmarkPlanConv reports the planner's arena against the sum of tensor
// sizes for the DCGAN-64 encoder at batch 2 (loss = mean square of the
// 128-d code, with its gradient), and for the encoder-decoder with a
// reconstruction loss and its gradient.
func BenchmarkPlanConv(b *testing.B) {
	for _, withDecoder := range []bool{false, true} {
		name := "encoder"
		if withDecoder {
			name = "autoencoder"
		}
		b.Run(name, func(b *testing.B) {
			var st graph.PlanStats
			var gradBytes int64 // the gradients: outputs, live to the end
			for b.Loop() {
				g := graph.New()
				c := &nn.Context{Graph: g}
				x := g.Input("x", 2, 3, 64, 64)
				enc := dcganEncoder(128)
				ps := nn.Declare(g, enc.Params("enc"))
				code := enc.Apply(c, "enc", x)
				loss := g.Mean(g.Square(code))
				if withDecoder {
					dec := dcganDecoder(128)
					ps = append(ps, nn.Declare(g, dec.Params("dec"))...)
					loss = g.Mean(g.Square(g.Sub(dec.Apply(c, "dec", code), x)))
				}
				grads := g.Grad(loss, ps...)
				prog, err := g.Compile(graph.CompileOptions{}, append([]*graph.Node{loss}, grads...)...)
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
