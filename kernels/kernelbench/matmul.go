package kernelbench

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

func init() {
	var cpu kernels.CPU
	// The MLP baseline's layers at 25 trajectories x 45 steps, then square GEMMs.
	for _, c := range []struct {
		m, k, n int
		bias    bool
	}{{mlpRows, 2, 200, true}, {mlpRows, 200, 200, true}, {mlpRows, 200, 2, false}, {256, 256, 256, false}, {512, 512, 512, false}, {1024, 1024, 1024, false}} {
		p := kernels.MatMulParams{Batch: 1, M: c.m, K: c.k, N: c.n}
		ins := []int{p.ALen(), p.BLen()}
		if c.bias {
			ins = append(ins, c.n)
		}
		shape := fmt.Sprintf("%dx%dx%d", c.m, c.k, c.n)
		if c.bias {
			shape += "+bias"
		}
		spec{op: "matmul", shape: shape,
			flops: 2 * float64(c.m*c.n*c.k), bytes: 4 * float64(p.ALen()+p.BLen()+p.CLen()),
			ins: ins, outs: []int{p.CLen()},
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, _ *gpu.Buffer) error {
				var bias *gpu.Buffer
				if c.bias {
					bias = in[2]
				}
				return v.RecordMatMul(r, p, in[0], in[1], bias, out[0])
			},
			ref: func(in [][]float32) [][]float32 {
				var bias []float32
				if c.bias {
					bias = in[2]
				}
				return [][]float32{must(cpu.MatMul(p, in[0], in[1], bias))}
			},
			baseline: func(in [][]float32) func() {
				out := make([]float32, p.CLen())
				a := blas32.General{Rows: c.m, Cols: c.k, Stride: c.k, Data: in[0]}
				b := blas32.General{Rows: c.k, Cols: c.n, Stride: c.n, Data: in[1]}
				y := blas32.General{Rows: c.m, Cols: c.n, Stride: c.n, Data: out}
				return func() {
					if c.bias {
						for i := range c.m {
							copy(out[i*c.n:(i+1)*c.n], in[2])
						}
						blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 1, y)
						return
					}
					blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, y)
				}
			},
			baselineName: "gonum blas32.Gemm",
		}.register()
	}
}
