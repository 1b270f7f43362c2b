package kernelbench

import (
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// The MLP baseline's hidden activations: 25 trajectories x 45 steps, 200 units.
const mlpRows, mlpHidden = 25 * 45, 200

func init() {
	for _, op := range []kernels.UnaryOp{kernels.Tanh, kernels.Sigmoid, kernels.Relu, kernels.Exp, kernels.Softplus} {
		n := mlpRows * mlpHidden
		Register(Case{
			Op: op.String(), Shape: "1125x200", Flops: float64(n), Bytes: 8 * float64(n),
			Setup: func(v *kernels.Vulkan) (*Prepared, error) { return unarySetup(v, op, n) },
		})
	}
}

func unarySetup(v *kernels.Vulkan, op kernels.UnaryOp, n int) (*Prepared, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(rng.Float64()*4 - 2)
	}
	bufs, err := allocAll(v, xs, make([]float32, n))
	if err != nil {
		return nil, err
	}
	x, y := bufs[0], bufs[1]
	return &Prepared{
		Record: func(r *gpu.Recorder) error { return v.RecordUnary(r, op, 0, 0.2, x, nil, y, n) },
		Check: func() (float64, error) {
			want, _ := kernels.CPU{}.Unary(op, 0, 0.2, xs, nil)
			got := make([]float32, n)
			if err := y.ReadFloat32(0, got); err != nil {
				return 0, err
			}
			return MaxRelErr(got, want), nil
		},
		CPU:     func() { kernels.CPU{}.Unary(op, 0, 0.2, xs, nil) },
		CPUName: "go reference",
		Free:    func() { freeAll(bufs) },
	}, nil
}

// allocAll uploads each slice into a new buffer.
func allocAll(v *kernels.Vulkan, data ...[]float32) ([]*gpu.Buffer, error) {
	var bufs []*gpu.Buffer
	for _, d := range data {
		b, err := v.Device.Alloc(int64(4 * max(len(d), 1)))
		if err == nil {
			err = b.WriteFloat32(0, d)
		}
		if err != nil {
			freeAll(bufs)
			return nil, err
		}
		bufs = append(bufs, b)
	}
	return bufs, nil
}

func freeAll(bufs []*gpu.Buffer) {
	for _, b := range bufs {
		b.Free()
	}
}
