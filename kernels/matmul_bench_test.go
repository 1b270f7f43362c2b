package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

var matmulBenchSizes = []int{256, 512, 1024}

// openBenchDevice opens the selected device without validation (which
// would distort the timings); it is closed when b ends.
func openBenchDevice(b *testing.B) *gpu.Device {
	o := gpu.OptionsFromEnv()
	o.Validate = false
	d, err := gpu.Open(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// runRecorded records one program with rec, runs it once and frees it.
func runRecorded(t testing.TB, d *gpu.Device, rec func(*gpu.Recorder) error) {
	t.Helper()
	r := d.NewRecorder()
	if err := rec(r); err != nil {
		t.Fatal(err)
	}
	prog, err := r.Finish()
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	return x
}

func reportGFLOPS(b *testing.B, n int) {
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMatMul times square n x n x n products: the Vulkan kernel
// (recorded once, replayed: each iteration is one submit and wait) and
// gonum's pure-Go Sgemm on the same data.
func BenchmarkMatMul(b *testing.B) {
	for _, n := range matmulBenchSizes {
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		a, bb := randSlice(rng, n*n), randSlice(rng, n*n)
		b.Run(fmt.Sprintf("vulkan/%d", n), func(b *testing.B) {
			d := openBenchDevice(b)
			v := kernels.NewVulkan(d)
			bufs := make([]*gpu.Buffer, 3)
			for i := range bufs {
				var err error
				if bufs[i], err = d.Alloc(int64(4 * n * n)); err != nil {
					b.Fatal(err)
				}
				defer bufs[i].Free()
			}
			if err := bufs[0].WriteFloat32(0, a); err != nil {
				b.Fatal(err)
			}
			if err := bufs[1].WriteFloat32(0, bb); err != nil {
				b.Fatal(err)
			}
			r := d.NewRecorder()
			if err := v.RecordMatMul(r, kernels.MatMulParams{Batch: 1, M: n, N: n, K: n}, bufs[0], bufs[1], nil, bufs[2]); err != nil {
				b.Fatal(err)
			}
			p, err := r.Finish()
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			// The first run JIT-compiles the pipeline.
			if err := p.Run(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if err := p.Run(); err != nil {
					b.Fatal(err)
				}
			}
			reportGFLOPS(b, n)
		})
		b.Run(fmt.Sprintf("gonum/%d", n), func(b *testing.B) {
			ga := blas32.General{Rows: n, Cols: n, Stride: n, Data: a}
			gb := blas32.General{Rows: n, Cols: n, Stride: n, Data: bb}
			gc := blas32.General{Rows: n, Cols: n, Stride: n, Data: make([]float32, n*n)}
			for range b.N {
				blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, ga, gb, 0, gc)
			}
			reportGFLOPS(b, n)
		})
	}
}

// TestMatMulTiles checks tiles other than the default against the CPU
// reference: the suite runs only the default, which on lavapipe shares A
// over the subgroup, so the plain-load path and uneven workgroups are
// covered here.
func TestMatMulTiles(t *testing.T) {
	v := openVulkan(t)
	rng := rand.New(rand.NewPCG(3, 4))
	tiles := []kernels.MatMulTile{{Rows: 4, Cols: 4, X: 4, Y: 4}, {Rows: 3, Cols: 8, X: 3, Y: 5}, {Rows: 4, Cols: 12, X: 16, Y: 1}}
	shapes := []kernels.MatMulParams{
		{Batch: 2, M: 7, N: 9, K: 5, BatchA: true, BatchB: true},
		{Batch: 3, M: 12, N: 8, K: 16, BatchB: true, TransA: true},
		{Batch: 1, M: 13, N: 20, K: 6, TransB: true},
		{Batch: 2, M: 9, N: 12, K: 8, BatchA: true, TransA: true, TransB: true},
	}
	for _, tile := range tiles {
		for _, p := range shapes {
			a, b, bias := randSlice(rng, p.ALen()), randSlice(rng, p.BLen()), randSlice(rng, p.N)
			want, err := kernels.CPU{}.MatMul(p, a, b, bias)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, p.CLen())
			bufs := make([]*gpu.Buffer, 4)
			for i, x := range [][]float32{a, b, bias, got} {
				if bufs[i], err = v.Device.Alloc(int64(4 * len(x))); err != nil {
					t.Fatal(err)
				}
				defer bufs[i].Free()
				if err := bufs[i].WriteFloat32(0, x); err != nil {
					t.Fatal(err)
				}
			}
			runRecorded(t, v.Device, func(r *gpu.Recorder) error {
				return v.RecordMatMulTile(r, tile, p, bufs[0], bufs[1], bufs[2], bufs[3])
			})
			if err := bufs[3].ReadFloat32(0, got); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if d := got[i] - want[i]; d > 1e-5 || d < -1e-5 {
					t.Errorf("tile %+v, %s: c[%d] = %g, want %g", tile, p, i, got[i], want[i])
					break
				}
			}
		}
	}
}
