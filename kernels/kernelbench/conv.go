package kernelbench

import (
	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// conv2d forward, input gradient and weight gradient at the Noether
// embedding's two convolutions (batch 2) and the DCGAN-64 encoder's
// 128->256 4x4 stride-2 layer (batch 8). The CPU baseline is im2col plus
// gonum's Sgemm per image (kernels.Conv2DGemm), measured in the same run.
func init() {
	var cpu kernels.CPU
	for _, p := range []kernels.ConvParams{
		{N: 2, C: 6, H: 64, W: 64, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{N: 2, C: 32, H: 32, W: 32, K: 64, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{N: 8, C: 128, H: 16, W: 16, K: 256, KH: 4, KW: 4, Stride: 2, Pad: 1},
	} {
		flops := p.Flops(false)
		nx, nw, ny := p.InLen(), p.WeightLen(), p.OutLen(false)
		gemm := func() *kernels.Conv2DGemm {
			c, err := kernels.NewConv2DGemm(p)
			return must(c, err)
		}
		spec{op: "conv2d", shape: p.String() + " + bias", flops: flops, bytes: 4 * float64(nx+nw+ny+p.K),
			ins: []int{nx, nw, p.K}, outs: []int{ny},
			scratch: func(v *kernels.Vulkan) (int, error) { return v.ConvScratch(p, false, kernels.ConvPassForward) },
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, scratch *gpu.Buffer) error {
				return v.RecordConv2D(r, p, in[0], in[1], in[2], out[0], scratch)
			},
			ref: func(in [][]float32) [][]float32 { return [][]float32{must(cpu.Conv2D(p, in[0], in[1], in[2]))} },
			baseline: func(in [][]float32) func() {
				c, y := gemm(), make([]float32, ny)
				return func() { must(0, c.Forward(in[0], in[1], in[2], y)) }
			},
			baselineName: "im2col + gonum blas32.Gemm",
		}.register()

		spec{op: "conv2d_input_grad", shape: p.String(), flops: flops, bytes: 4 * float64(nx+nw+ny),
			ins: []int{nw, ny}, outs: []int{nx},
			scratch: func(v *kernels.Vulkan) (int, error) { return v.ConvScratch(p, false, kernels.ConvPassInputGrad) },
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, scratch *gpu.Buffer) error {
				return v.RecordConv2DInputGrad(r, p, in[0], in[1], out[0], scratch)
			},
			ref: func(in [][]float32) [][]float32 {
				dx, _, _, err := cpu.Conv2DBackward(p, make([]float32, nx), in[0], in[1])
				return [][]float32{must(dx, err)}
			},
			baseline: func(in [][]float32) func() {
				c, dx := gemm(), make([]float32, nx)
				return func() { must(0, c.InputGrad(in[0], in[1], dx)) }
			},
			baselineName: "gonum blas32.Gemm + col2im",
		}.register()

		spec{op: "conv2d_weight_grad", shape: p.String(), flops: flops, bytes: 4 * float64(nx+nw+ny),
			ins: []int{nx, ny}, outs: []int{nw},
			scratch: func(v *kernels.Vulkan) (int, error) { return v.ConvScratch(p, false, kernels.ConvPassWeightGrad) },
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, scratch *gpu.Buffer) error {
				return v.RecordConv2DWeightGrad(r, p, in[0], in[1], out[0], scratch)
			},
			ref: func(in [][]float32) [][]float32 {
				_, dw, _, err := cpu.Conv2DBackward(p, in[0], make([]float32, nw), in[1])
				return [][]float32{must(dw, err)}
			},
			baseline: func(in [][]float32) func() {
				c, dw := gemm(), make([]float32, nw)
				return func() { must(0, c.WeightGrad(in[0], in[1], dw)) }
			},
			baselineName: "im2col + gonum blas32.Gemm",
		}.register()
	}
}
