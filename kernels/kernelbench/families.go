package kernelbench

import (
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// spec describes a case whose inputs are random and whose outputs are
// compared with the CPU reference, which is also the CPU baseline.
type spec struct {
	op, shape    string
	flops, bytes float64
	ins          []int // input lengths (uniform in [-1, 1), or [lo, hi) below)
	lo, hi       float64
	outs         []int // output lengths
	scratch      func(v *kernels.Vulkan) (int, error)
	record       func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, scratch *gpu.Buffer) error
	ref          func(in [][]float32) [][]float32
	// baseline prepares the timed CPU baseline (nil: ref itself, named
	// "go reference"); baselineName names it.
	baseline     func(in [][]float32) func()
	baselineName string
}

func (s spec) register() {
	Register(Case{Op: s.op, Shape: s.shape, Flops: s.flops, Bytes: s.bytes, Setup: s.setup})
}

func (s spec) setup(v *kernels.Vulkan) (*Prepared, error) {
	rng := rand.New(rand.NewPCG(3, 4))
	lo, hi := s.lo, s.hi
	if lo == hi {
		lo, hi = -1, 1
	}
	in := make([][]float32, len(s.ins))
	for i, n := range s.ins {
		in[i] = make([]float32, n)
		for j := range in[i] {
			in[i][j] = float32(lo + (hi-lo)*rng.Float64())
		}
	}
	data := append([][]float32{}, in...)
	for _, n := range s.outs {
		data = append(data, make([]float32, n))
	}
	bufs, err := allocAll(v, data...)
	if err != nil {
		return nil, err
	}
	var scratch *gpu.Buffer
	if s.scratch != nil {
		n, err := s.scratch(v)
		if err != nil {
			freeAll(bufs)
			return nil, err
		}
		if n > 0 {
			if scratch, err = v.Device.Alloc(int64(4 * n)); err != nil {
				freeAll(bufs)
				return nil, err
			}
			bufs = append(bufs, scratch)
		}
	}
	inBufs, outBufs := bufs[:len(in)], bufs[len(in):len(in)+len(s.outs)]
	cpu, cpuName := func() { s.ref(in) }, "go reference"
	if s.baseline != nil {
		cpu, cpuName = s.baseline(in), s.baselineName
	}
	return &Prepared{
		Record: func(r *gpu.Recorder) error { return s.record(v, r, inBufs, outBufs, scratch) },
		Check: func() (float64, error) {
			want := s.ref(in)
			worst := 0.0
			for i, b := range outBufs {
				got := make([]float32, s.outs[i])
				if err := b.ReadFloat32(0, got); err != nil {
					return 0, err
				}
				worst = max(worst, MaxRelErr(got, want[i]))
			}
			return worst, nil
		},
		CPU:     cpu,
		CPUName: cpuName,
		Free:    func() { freeAll(bufs) },
	}, nil
}

// must unwraps a CPU reference result; the references fail only on
// malformed arguments, which these fixed cases do not have.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func init() {
	var cpu kernels.CPU
	n := mlpRows * mlpHidden
	rows := kernels.Shape{mlpRows, mlpHidden}
	bias := kernels.Shape{mlpHidden}

	spec{op: "add", shape: "1125x200+200", flops: float64(n), bytes: 8*float64(n) + 4*mlpHidden,
		ins: []int{n, mlpHidden}, outs: []int{n},
		record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, _ *gpu.Buffer) error {
			return v.RecordBinary(r, kernels.Add, in[0], rows, in[1], bias, out[0])
		},
		ref: func(in [][]float32) [][]float32 {
			y, _, err := cpu.Binary(kernels.Add, in[0], rows, in[1], bias)
			return [][]float32{must(y, err)}
		}}.register()

	spec{op: "mul", shape: "1125x200", flops: float64(n), bytes: 12 * float64(n),
		ins: []int{n, n}, outs: []int{n},
		record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, _ *gpu.Buffer) error {
			return v.RecordBinary(r, kernels.Mul, in[0], rows, in[1], rows, out[0])
		},
		ref: func(in [][]float32) [][]float32 {
			y, _, err := cpu.Binary(kernels.Mul, in[0], rows, in[1], rows)
			return [][]float32{must(y, err)}
		}}.register()

	spec{op: "sum", shape: "1125x200 over rows", flops: float64(n), bytes: 4*float64(n) + 4*mlpHidden,
		ins: []int{n}, outs: []int{mlpHidden},
		scratch: func(v *kernels.Vulkan) (int, error) { return v.ReduceScratch(kernels.Sum, rows, []int{0}) },
		record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, scratch *gpu.Buffer) error {
			return v.RecordReduce(r, kernels.Sum, in[0], rows, []int{0}, out[0], scratch)
		},
		ref: func(in [][]float32) [][]float32 {
			y, _, err := cpu.Reduce(kernels.Sum, in[0], rows, []int{0}, false)
			return [][]float32{must(y, err)}
		}}.register()

	// The backward of per-example conditional normalization (a row sum
	// per example and channel).
	cnBackward := func(sh kernels.CNShape) {
		m, rows := sh.N*sh.C*sh.S, sh.N*sh.C
		spec{op: "cn_affine_backward", shape: sh.String(), flops: 3 * float64(m), bytes: 4 * float64(3*m+3*rows),
			ins: []int{m, rows, m}, outs: []int{m, rows, rows},
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, _ *gpu.Buffer) error {
				return v.RecordCNAffineBackward(r, sh, in[0], in[1], in[2], out[0], out[1], out[2])
			},
			ref: func(in [][]float32) [][]float32 {
				dx, dg, db, err := cpu.CNAffineBackward(sh, in[0], in[1], in[2])
				must(dx, err)
				return [][]float32{dx, dg, db}
			}}.register()
	}

	// Conditional normalization after a DCGAN-64 layer (64 channels at
	// 32x32), and its backward (a workgroup per row).
	for _, batch := range []int{2, 8} {
		sh := kernels.CNShape{N: batch, C: 64, S: 32 * 32}
		m := sh.N * sh.C * sh.S
		spec{op: "cn_affine", shape: sh.String(), flops: 2 * float64(m), bytes: 8 * float64(m),
			ins: []int{m, sh.N * sh.C, sh.N * sh.C}, outs: []int{m},
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, _ *gpu.Buffer) error {
				return v.RecordCNAffine(r, sh, in[0], in[1], in[2], out[0])
			},
			ref: func(in [][]float32) [][]float32 { return [][]float32{must(cpu.CNAffine(sh, in[0], in[1], in[2]))} },
		}.register()
		cnBackward(sh)
	}

	// The backward on the MLP's hidden layer at full batch (rows of one
	// element, summed one invocation a row), as the meta-gradient of the
	// physics tasks runs it.
	cnBackward(kernels.CNShape{N: mlpRows, C: mlpHidden, S: 1})

	// Grad-CAM's rowwise ops on a batch of 8 heat maps of 64x64 (the
	// pixel pendulum's frames): min-max, the jet blend, and the sign of
	// the largest entry on the same rows.
	for _, op := range kernels.RowwiseOps {
		rows, l := 8, 64*64
		ins := []int{rows * l}
		if op == kernels.RowJet {
			ins = append(ins, 3*rows*l)
		}
		spec{op: op.String(), shape: kernels.Shape{rows, l}.String(), flops: 4 * float64(rows*l), bytes: 4 * float64(len(ins)*rows*l+op.OutLen(rows, l)),
			ins: ins, lo: 0, hi: 1, outs: []int{op.OutLen(rows, l)},
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, _ *gpu.Buffer) error {
				f := in[0]
				if op == kernels.RowJet {
					f = in[1]
				}
				return v.RecordRowwise(r, op, rows, l, in[0], f, out[0])
			},
			ref: func(in [][]float32) [][]float32 {
				var f []float32
				if op == kernels.RowJet {
					f = in[1]
				}
				return [][]float32{must(cpu.Rowwise(op, rows, l, in[0], f))}
			}}.register()
	}

	// The SVG predictor's LSTM: 256 hidden units, batch 2 (Physics 101) and 100 (SVG's default).
	for _, batch := range []int{2, 100} {
		sh := kernels.LSTMShape{B: batch, H: 256}
		cells := float64(sh.B * sh.H)
		spec{op: "lstm_cell", shape: sh.String(), flops: 12 * cells, bytes: 4 * 7 * cells,
			ins: []int{4 * sh.B * sh.H, sh.B * sh.H}, outs: []int{sh.B * sh.H, sh.B * sh.H},
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, _ *gpu.Buffer) error {
				return v.RecordLSTMCell(r, sh, in[0], in[1], out[0], out[1])
			},
			ref: func(in [][]float32) [][]float32 {
				h, c, err := cpu.LSTMCell(sh, in[0], in[1])
				must(h, err)
				return [][]float32{h, c}
			}}.register()
	}

	// The loss: the MLP's MSE on dx/dt over 25 trajectories x 45 steps.
	mse := kernels.LossShape{B: 1, K: mlpRows * 2}
	ins, outs := kernels.MSE.Lens(mse)
	spec{op: kernels.MSE.String(), shape: kernels.Shape{mse.B, mse.K}.String(), flops: 3 * float64(2*mse.K), bytes: 4 * float64(2*mse.K),
		ins: ins, outs: outs,
		scratch: func(v *kernels.Vulkan) (int, error) { return kernels.LossScratch(kernels.MSE, mse), nil },
		record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer, scratch *gpu.Buffer) error {
			return v.RecordLoss(r, kernels.MSE, mse, false, in, nil, out, scratch)
		},
		ref: func(in [][]float32) [][]float32 { return must(cpu.Loss(kernels.MSE, mse, in)) },
	}.register()

	Register(Case{Op: "adam", Shape: "41200 (MLP 2-200-200-2)", Flops: 16 * mlpParams, Bytes: 7 * 4 * mlpParams, Setup: adamSetup})
}

// Adam over the MLP baseline's parameters (2-200-200-2, no last bias).
const mlpParams = 2*200 + 200 + 200*200 + 200 + 200*2

var adamConfig = kernels.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-4}

// adamSetup updates in place, so replays keep stepping; the check reads
// the parameters right after the first run, which is step 1 from the
// initial values.
func adamSetup(v *kernels.Vulkan) (*Prepared, error) {
	rng := rand.New(rand.NewPCG(5, 6))
	state := make([][]float32, 4) // p, g, m, v
	for i := range state {
		state[i] = make([]float32, mlpParams)
		for j := range state[i] {
			state[i][j] = float32(rng.Float64())
		}
	}
	bufs, err := allocAll(v, append(state, adamConfig.Schedule(1))...)
	if err != nil {
		return nil, err
	}
	var cpu kernels.CPU
	return &Prepared{
		Record: func(r *gpu.Recorder) error {
			return v.RecordAdam(r, adamConfig, bufs[4], []kernels.AdamTensor{{P: bufs[0], G: bufs[1], M: bufs[2], V: bufs[3], N: mlpParams}}, nil)
		},
		Check: func() (float64, error) {
			want, _, _, err := cpu.Adam(state[0], state[1], state[2], state[3], adamConfig, 1)
			if err != nil {
				return 0, err
			}
			got := make([]float32, mlpParams)
			if err := bufs[0].ReadFloat32(0, got); err != nil {
				return 0, err
			}
			return MaxRelErr(got, want), nil
		},
		CPU:     func() { cpu.Adam(state[0], state[1], state[2], state[3], adamConfig, 1) },
		CPUName: "go reference",
		Free:    func() { freeAll(bufs) },
	}, nil
}
