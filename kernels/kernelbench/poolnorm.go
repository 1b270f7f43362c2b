package kernelbench

import (
	"math"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// Max pooling, nearest upsampling, concatenation and the normalizations at
// the paper's model shapes: the Noether embedding's pools ([B,32,64,64],
// [B,64,32,32]), VGG-64/DCGAN-64 decoder maps and skip concatenations,
// and GroupNorm(1, C) / BatchNorm after DCGAN-64 layers, at batch 2 and 8.
// Bytes are the minimal traffic (each input read once, each output
// written once), so multi-pass kernels (the normalizations' statistics and
// sums) show below the copy ceiling by design.

// pnCase is a case with given inputs (some derived on the CPU, such as an
// argmax or the normalization statistics). The first `checked` outputs are
// compared with ref's; the others are scratch.
type pnCase struct {
	op, shape    string
	flops, bytes float64
	in           func(rng *rand.Rand) [][]float32
	outs         []int
	checked      int
	record       func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error
	ref          func(in [][]float32) [][]float32
}

func (c pnCase) register() {
	Register(Case{Op: c.op, Shape: c.shape, Flops: c.flops, Bytes: c.bytes, Setup: func(v *kernels.Vulkan) (*Prepared, error) {
		in := c.in(rand.New(rand.NewPCG(7, 8)))
		data := append([][]float32{}, in...)
		for _, n := range c.outs {
			data = append(data, make([]float32, n))
		}
		bufs, err := allocAll(v, data...)
		if err != nil {
			return nil, err
		}
		inBufs, outBufs := bufs[:len(in)], bufs[len(in):]
		return &Prepared{
			Record: func(r *gpu.Recorder) error { return c.record(v, r, inBufs, outBufs) },
			Check: func() (float64, error) {
				want := c.ref(in)
				worst := 0.0
				for i := range c.checked {
					got := make([]float32, c.outs[i])
					if err := outBufs[i].ReadFloat32(0, got); err != nil {
						return 0, err
					}
					worst = max(worst, MaxRelErr(got, want[i]))
				}
				return worst, nil
			},
			CPU:     func() { c.ref(in) },
			CPUName: "go reference",
			Free:    func() { freeAll(bufs) },
		}, nil
	}})
}

func pnUniform(rng *rand.Rand, n int, lo, hi float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return x
}

// pnStats returns the normalization statistics (mean, biased variance)
// the derivative kernels read: per (sample, group) with groups > 0, per
// channel with groups = 0.
func pnStats(sh kernels.NormShape, groups int, x []float32) (mean, variance []float32) {
	k, set := sh.C, func(i int) int { return i / sh.S % sh.C }
	if groups > 0 {
		k = sh.N * groups
		set = func(i int) int { return i/(sh.C*sh.S)*groups + i/sh.S%sh.C/(sh.C/groups) }
	}
	s, q, cnt := make([]float64, k), make([]float64, k), make([]float64, k)
	for i, v := range x {
		s[set(i)] += float64(v)
		cnt[set(i)]++
	}
	for i, v := range x {
		d := float64(v) - s[set(i)]/cnt[set(i)]
		q[set(i)] += d * d
	}
	mean, variance = make([]float32, k), make([]float32, k)
	for j := range k {
		mean[j], variance[j] = float32(s[j]/cnt[j]), float32(q[j]/cnt[j])
	}
	return mean, variance
}

func pnArgBits(arg []int32) []float32 {
	out := make([]float32, len(arg))
	for i, a := range arg {
		out[i] = math.Float32frombits(uint32(a))
	}
	return out
}

func init() {
	var cpu kernels.CPU
	for _, sh := range []kernels.PoolShape{kernels.MaxPool2x2(2, 32, 64, 64), kernels.MaxPool2x2(8, 32, 64, 64), kernels.MaxPool2x2(8, 64, 32, 32)} {
		in, out := float64(sh.InLen()), float64(sh.OutLen())
		pnCase{op: "maxpool2d", shape: sh.String(), flops: 3 * out, bytes: 4*in + 8*out,
			in:   func(rng *rand.Rand) [][]float32 { return [][]float32{pnUniform(rng, sh.InLen(), -2, 2)} },
			outs: []int{sh.OutLen(), sh.OutLen()}, checked: 1,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordMaxPool2D(r, sh, in[0], out[0], out[1])
			},
			ref: func(in [][]float32) [][]float32 {
				y, _, err := cpu.MaxPool2D(sh, in[0])
				return [][]float32{must(y, err)}
			}}.register()
		// Backward from a CPU argmax: a gather over the windows of each input.
		pnCase{op: "maxpool2d_backward", shape: sh.String(), flops: out, bytes: 4*in + 8*out,
			in: func(rng *rand.Rand) [][]float32 {
				_, arg, err := cpu.MaxPool2D(sh, pnUniform(rng, sh.InLen(), -2, 2))
				must(arg, err)
				return [][]float32{pnArgBits(arg), pnUniform(rng, sh.OutLen(), -1, 1)}
			},
			outs: []int{sh.InLen()}, checked: 1,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordMaxPool2DBackward(r, sh, in[0], in[1], out[0])
			},
			ref: func(in [][]float32) [][]float32 {
				arg := make([]int32, len(in[0]))
				for i, f := range in[0] {
					arg[i] = int32(math.Float32bits(f))
				}
				return [][]float32{must(cpu.MaxPool2DBackward(sh, arg, in[1]))}
			}}.register()
	}

	for _, sh := range []kernels.UpsampleShape{{N: 2, C: 64, H: 32, W: 32, FH: 2, FW: 2}, {N: 8, C: 256, H: 8, W: 8, FH: 2, FW: 2}} {
		in, out := float64(sh.InLen()), float64(sh.OutLen())
		pnCase{op: "upsample_nearest2d", shape: sh.String(), bytes: 4 * (in + out),
			in:   func(rng *rand.Rand) [][]float32 { return [][]float32{pnUniform(rng, sh.InLen(), -1, 1)} },
			outs: []int{sh.OutLen()}, checked: 1,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordUpsampleNearest2D(r, sh, in[0], out[0])
			},
			ref: func(in [][]float32) [][]float32 { return [][]float32{must(cpu.UpsampleNearest2D(sh, in[0]))} },
		}.register()
		pnCase{op: "upsample_nearest2d_backward", shape: sh.String(), flops: out, bytes: 4 * (in + out),
			in:   func(rng *rand.Rand) [][]float32 { return [][]float32{pnUniform(rng, sh.OutLen(), -1, 1)} },
			outs: []int{sh.InLen()}, checked: 1,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordUpsampleNearest2DBackward(r, sh, in[0], out[0])
			},
			ref: func(in [][]float32) [][]float32 { return [][]float32{must(cpu.UpsampleNearest2DBackward(sh, in[0]))} },
		}.register()
	}

	// Decoder skip concatenations along channels.
	for _, part := range []kernels.Shape{{2, 64, 32, 32}, {8, 256, 8, 8}} {
		shapes := []kernels.Shape{part, part}
		n := part.Len()
		whole := kernels.Shape{part[0], 2 * part[1], part[2], part[3]}
		pnCase{op: "concat", shape: part.String() + "+" + part.String() + " axis 1", bytes: 16 * float64(n),
			in: func(rng *rand.Rand) [][]float32 {
				return [][]float32{pnUniform(rng, n, -1, 1), pnUniform(rng, n, -1, 1)}
			},
			outs: []int{2 * n}, checked: 1,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordConcat(r, in, shapes, 1, out[0])
			},
			ref: func(in [][]float32) [][]float32 {
				y, _, err := cpu.Concat(in, shapes, 1)
				return [][]float32{must(y, err)}
			}}.register()
		pnCase{op: "split", shape: whole.String() + " axis 1 in halves", bytes: 16 * float64(n),
			in:   func(rng *rand.Rand) [][]float32 { return [][]float32{pnUniform(rng, 2*n, -1, 1)} },
			outs: []int{n, n}, checked: 2,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordSplit(r, in[0], whole, 1, []int{part[1], part[1]}, out)
			},
			ref: func(in [][]float32) [][]float32 { return must(cpu.Split(in[0], whole, 1, []int{part[1], part[1]})) },
		}.register()
	}

	// GroupNorm(1, C) (the paper's BatchNorm replacement) and BatchNorm
	// after DCGAN-64 layers.
	for _, sh := range []kernels.NormShape{{N: 2, C: 64, S: 32 * 32}, {N: 8, C: 256, S: 8 * 8}} {
		n, c := sh.Len(), sh.C
		k := kernels.NormStatsLen(sh, 1)
		fn := float64(n)
		pnCase{op: "group_norm", shape: sh.String() + " G=1", flops: 8 * fn, bytes: 8*fn + 8*float64(c),
			in: func(rng *rand.Rand) [][]float32 {
				return [][]float32{pnUniform(rng, n, -2, 2), pnUniform(rng, c, 0.5, 1.5), pnUniform(rng, c, -1, 1)}
			},
			outs: []int{n, k, k}, checked: 1,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordGroupNorm(r, sh, 1, in[0], in[1], in[2], out[0], out[1], out[2])
			},
			ref: func(in [][]float32) [][]float32 {
				return [][]float32{must(cpu.GroupNorm(sh, 1, in[0], in[1], in[2]))}
			}}.register()
		gnDeriv := func(rng *rand.Rand, elems int) [][]float32 {
			x := pnUniform(rng, n, -2, 2)
			mean, variance := pnStats(sh, 1, x)
			out := [][]float32{x, pnUniform(rng, c, 0.5, 1.5), mean, variance}
			for range elems {
				out = append(out, pnUniform(rng, n, -1, 1))
			}
			return append(out, pnUniform(rng, c, -1, 1))
		}
		pnCase{op: "group_norm_backward", shape: sh.String() + " G=1", flops: 14 * fn, bytes: 12*fn + 12*float64(c),
			in:   func(rng *rand.Rand) [][]float32 { return gnDeriv(rng, 1) },
			outs: []int{n, c, c, kernels.NormScratch(sh, 1)}, checked: 3,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordGroupNormBackward(r, sh, 1, in[0], in[1], in[2], in[3], in[4], out[0], out[1], out[2], out[3])
			},
			ref: func(in [][]float32) [][]float32 {
				dx, dw, db, err := cpu.GroupNormBackward(sh, 1, in[0], in[1], in[4])
				must(dx, err)
				return [][]float32{dx, dw, db}
			}}.register()
		// Forward-over-reverse: x, w, mean, var, g, tx, tg, tw.
		pnCase{op: "group_norm_tangent_backward", shape: sh.String() + " G=1", flops: 40 * fn, bytes: 20*fn + 16*float64(c),
			in:   func(rng *rand.Rand) [][]float32 { return gnDeriv(rng, 3) },
			outs: []int{n, c, c, kernels.NormScratch(sh, 1)}, checked: 3,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordGroupNormTangentBackward(r, sh, 1, in[0], in[1], in[2], in[3], in[4], in[5], in[7], in[6], out[0], out[1], out[2], out[3])
			},
			ref: func(in [][]float32) [][]float32 {
				a, b, d, err := cpu.GroupNormTangentBackward(sh, 1, in[0], in[1], in[4], in[5], in[7], in[6])
				must(a, err)
				return [][]float32{a, b, d}
			}}.register()

		train := kernels.BNConfig{Train: true, Momentum: 0.1}
		// The running statistics are updated in place on every replay,
		// so only y is checked.
		pnCase{op: "batch_norm", shape: sh.String() + " train", flops: 8 * fn, bytes: 8*fn + 16*float64(c),
			in: func(rng *rand.Rand) [][]float32 {
				return [][]float32{pnUniform(rng, n, -2, 2), pnUniform(rng, c, 0.5, 1.5), pnUniform(rng, c, -1, 1),
					make([]float32, c), pnUniform(rng, c, 1, 1)}
			},
			outs: []int{n, c, c}, checked: 1,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordBatchNorm(r, sh, train, in[0], in[1], in[2], out[1], out[2], in[3], in[4], out[0])
			},
			ref: func(in [][]float32) [][]float32 {
				y, _, _, err := cpu.BatchNorm(sh, train, in[0], in[1], in[2], in[3], in[4])
				return [][]float32{must(y, err)}
			}}.register()
		pnCase{op: "batch_norm_backward", shape: sh.String() + " train", flops: 14 * fn, bytes: 12*fn + 12*float64(c),
			in: func(rng *rand.Rand) [][]float32 {
				x := pnUniform(rng, n, -2, 2)
				mean, variance := pnStats(sh, 0, x)
				return [][]float32{x, pnUniform(rng, c, 0.5, 1.5), mean, variance, pnUniform(rng, n, -1, 1)}
			},
			outs: []int{n, c, c, kernels.NormScratch(sh, 0)}, checked: 3,
			record: func(v *kernels.Vulkan, r *gpu.Recorder, in, out []*gpu.Buffer) error {
				return v.RecordBatchNormBackward(r, sh, train, in[0], in[1], in[2], in[3], in[4], out[0], out[1], out[2], out[3])
			},
			ref: func(in [][]float32) [][]float32 {
				zero := make([]float32, c)
				dx, dw, db, err := cpu.BatchNormBackward(sh, train, in[0], in[1], zero, zero, in[4])
				must(dx, err)
				return [][]float32{dx, dw, db}
			}}.register()
	}
}
