package gpu_test

import (
	"fmt"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
)

// lavapipeThreads are the settings compared: the driver's default (one
// worker per CPU) and 0 (dispatches run on the submitting thread).
var lavapipeThreads = []struct {
	name string
	set  bool
	n    int
}{{"lp=default", false, 0}, {"lp=0", true, 0}}

func openBench(b *testing.B, set bool, n int) *gpu.Device {
	b.Helper()
	o := gpu.OptionsFromEnv()
	o.Validate = false
	o.SetLavapipeThreads, o.LavapipeThreads = set, n
	d, err := gpu.Open(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// tinyProgram records count saxpy dispatches of 64 elements each. With
// chained, every dispatch updates the same slice (a barrier between each
// pair); otherwise each writes its own slice of one buffer (no barrier).
type tinyProgram struct {
	d     *gpu.Device
	saxpy *gpu.Kernel
	x     *gpu.Buffer
	ys    []*gpu.Buffer
}

func newTinyProgram(b *testing.B, d *gpu.Device, count int, chained bool) *tinyProgram {
	_, _, saxpy := kernels(b, d)
	const n = 64
	align := int(d.MemoryStats().Alignment)
	stride := (4*n + align - 1) / align * align
	t := &tinyProgram{d: d, saxpy: saxpy, x: alloc(b, d, n)}
	y := alloc(b, d, stride/4*count)
	for i := range count {
		off := int64(i * stride)
		if chained {
			off = 0
		}
		v, err := y.View(off, 4*n)
		if err != nil {
			b.Fatal(err)
		}
		t.ys = append(t.ys, v)
	}
	return t
}

func (t *tinyProgram) record() *gpu.Recorder {
	r := t.d.NewRecorder()
	push := gpu.Push{}.U32(64).F32(1)
	for _, y := range t.ys {
		r.Dispatch(t.saxpy, [3]uint32{1, 1, 1}, push, t.x, y)
	}
	return r
}

// BenchmarkReplay measures the cost of one dispatch inside a replayed
// command buffer of 1000 tiny dispatches: submit + wait per run, divided
// by the dispatch count (ns/dispatch).
func BenchmarkReplay(b *testing.B) {
	for _, lp := range lavapipeThreads {
		for _, chained := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/chained=%v", lp.name, chained), func(b *testing.B) {
				d := openBench(b, lp.set, lp.n)
				p, err := newTinyProgram(b, d, 1000, chained).record().Finish()
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				if err := p.Run(); err != nil { // JIT-compile the pipeline outside the timing
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if err := p.Run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/dispatch")
			})
		}
	}
}

// BenchmarkRecord measures the Go-side cost of recording: collecting 1000
// dispatches and encoding them into a command buffer (ns/dispatch).
func BenchmarkRecord(b *testing.B) {
	for _, lp := range lavapipeThreads {
		b.Run(lp.name, func(b *testing.B) {
			d := openBench(b, lp.set, lp.n)
			tp := newTinyProgram(b, d, 1000, false)
			for b.Loop() {
				p, err := tp.record().Finish()
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				p.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/dispatch")
		})
	}
}

// BenchmarkEmptySubmit is the floor under every Run: one submit of an
// empty program and the fence wait.
func BenchmarkEmptySubmit(b *testing.B) {
	for _, lp := range lavapipeThreads {
		b.Run(lp.name, func(b *testing.B) {
			d := openBench(b, lp.set, lp.n)
			p, err := d.NewRecorder().Finish()
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			for b.Loop() {
				if err := p.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
