package kernels_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// BenchmarkConv2D times conv2d forward, input gradient and weight gradient
// at the Noether embedding's two convolutions and the DCGAN-64 encoder's
// 128->256 layer: the Vulkan kernels (recorded once, replayed) and the
// im2col + gonum Sgemm CPU baseline on the same data. vulkan is the
// default choice (kernels.ConvAuto); vulkan_direct, vulkan_gemm and
// vulkan_implicit force one form.
func BenchmarkConv2D(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    kernels.ConvParams
	}{
		{"embed64x64", kernels.ConvParams{N: 2, C: 6, H: 64, W: 64, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}},
		{"embed32x32", kernels.ConvParams{N: 2, C: 32, H: 32, W: 32, K: 64, KH: 5, KW: 5, Stride: 1, Pad: 2}},
		{"dcgan128to256", kernels.ConvParams{N: 8, C: 128, H: 16, W: 16, K: 256, KH: 4, KW: 4, Stride: 2, Pad: 1}},
	} {
		p := bc.p
		rng := rand.New(rand.NewPCG(1, 2))
		x, w, g := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.OutLen(false))
		flops := p.Flops(false)
		for _, mode := range []string{"forward", "input_grad", "weight_grad"} {
			for _, path := range []struct {
				name string
				path kernels.ConvPath
			}{{"vulkan", kernels.ConvAuto}, {"vulkan_direct", kernels.ConvDirect}, {"vulkan_gemm", kernels.ConvGemm}, {"vulkan_implicit", kernels.ConvImplicit}} {
				b.Run(path.name+"/"+bc.name+"/"+mode, func(b *testing.B) {
					d := openBenchDevice(b)
					v := kernels.NewVulkan(d)
					v.Conv = path.path
					pass := map[string]kernels.ConvPass{"forward": kernels.ConvPassForward, "input_grad": kernels.ConvPassInputGrad}[mode]
					if mode == "weight_grad" {
						pass = kernels.ConvPassWeightGrad
					}
					ns, err := v.ConvScratch(p, false, pass)
					if err != nil {
						b.Fatal(err)
					}
					var scratch *gpu.Buffer
					if ns > 0 {
						if scratch, err = d.Alloc(int64(4 * ns)); err != nil {
							b.Fatal(err)
						}
						defer scratch.Free()
					}
					bufs := make([]*gpu.Buffer, 3)
					for i, data := range [][]float32{x, w, g} {
						if bufs[i], err = d.Alloc(int64(4 * len(data))); err != nil {
							b.Fatal(err)
						}
						defer bufs[i].Free()
						if err := bufs[i].WriteFloat32(0, data); err != nil {
							b.Fatal(err)
						}
					}
					r := d.NewRecorder()
					switch mode {
					case "forward":
						err = v.RecordConv2D(r, p, bufs[0], bufs[1], nil, bufs[2], scratch)
					case "input_grad":
						err = v.RecordConv2DInputGrad(r, p, bufs[1], bufs[2], bufs[0], scratch)
					default:
						err = v.RecordConv2DWeightGrad(r, p, bufs[0], bufs[2], bufs[1], scratch)
					}
					if err != nil {
						b.Fatal(err)
					}
					prog, err := r.Finish()
					if err != nil {
						b.Fatal(err)
					}
					defer prog.Close()
					if err := prog.Run(); err != nil { // JIT compile
						b.Fatal(err)
					}
					b.ResetTimer()
					for range b.N {
						if err := prog.Run(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
			b.Run("im2col_gonum/"+bc.name+"/"+mode, func(b *testing.B) {
				c, err := kernels.NewConv2DGemm(p)
				if err != nil {
					b.Fatal(err)
				}
				y, dx, dw := make([]float32, len(g)), make([]float32, len(x)), make([]float32, len(w))
				for range b.N {
					switch mode {
					case "forward":
						err = c.Forward(x, w, nil, y)
					case "input_grad":
						err = c.InputGrad(w, g, dx)
					default:
						err = c.WeightGrad(x, g, dw)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestConv2DBadShapes checks that malformed calls return errors naming
// the op and the shape.
func TestConv2DBadShapes(t *testing.T) {
	var cpu kernels.CPU
	p := kernels.ConvParams{N: 1, C: 2, H: 5, W: 5, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 1}
	if _, err := cpu.Conv2D(p, make([]float32, 7), make([]float32, p.WeightLen()), nil); err == nil || !contains(err.Error(), "conv2d") {
		t.Errorf("short x: %v", err)
	}
	bad := p
	bad.KH = 9
	if _, err := cpu.ConvTranspose2D(bad, make([]float32, bad.InLen()), make([]float32, bad.WeightLen()), nil); err == nil || !contains(err.Error(), "conv_transpose2d") {
		t.Errorf("kernel 9: %v", err)
	}
	v := openVulkan(t)
	if _, _, _, err := v.Conv2DBackward(p, make([]float32, p.InLen()), make([]float32, p.WeightLen()), make([]float32, 3)); err == nil || !contains(err.Error(), "g has 3 elements") {
		t.Errorf("short g: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestConv2DWeightGradSplits checks the direct weight gradient's row
// splits: at the embedding's 6 -> 32 shape the pass asks for scratch (so
// it splits), and the split result, the unsplit one (no scratch) and the
// CPU reference agree.
func TestConv2DWeightGradSplits(t *testing.T) {
	p := kernels.ConvParams{N: 2, C: 6, H: 64, W: 64, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}
	v := openVulkan(t)
	v.Conv = kernels.ConvDirect
	ns, err := v.ConvScratch(p, false, kernels.ConvPassWeightGrad)
	if err != nil {
		t.Fatal(err)
	}
	if ns < 2*p.WeightLen() {
		t.Fatalf("ConvScratch = %d floats: the weight gradient at %v does not split (want at least 2 x %d)", ns, p, p.WeightLen())
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x, g := randSlice(rng, p.InLen()), randSlice(rng, p.OutLen(false))
	_, want, _, err := kernels.CPU{}.Conv2DBackward(p, x, make([]float32, p.WeightLen()), g)
	if err != nil {
		t.Fatal(err)
	}
	d := v.Device
	alloc := func(n int) *gpu.Buffer {
		b, err := d.Alloc(int64(4 * n))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Free)
		return b
	}
	xb, gb, scratch := alloc(len(x)), alloc(len(g)), alloc(ns)
	if err := xb.WriteFloat32(0, x); err != nil {
		t.Fatal(err)
	}
	if err := gb.WriteFloat32(0, g); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		scratch *gpu.Buffer
	}{{"split", scratch}, {"unsplit", nil}} {
		dw := alloc(p.WeightLen())
		runRecorded(t, d, func(r *gpu.Recorder) error {
			return v.RecordConv2DWeightGrad(r, p, xb, gb, dw, tc.scratch)
		})
		got := make([]float32, p.WeightLen())
		if err := dw.ReadFloat32(0, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if diff := math.Abs(float64(got[i] - want[i])); diff > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%s: dw[%d] = %g, CPU reference %g", tc.name, i, got[i], want[i])
			}
		}
	}
}
