// Package kernelbench measures kernels at the shapes of the paper's models:
// GPU time from timestamps and wall time over repeated replays, GFLOP/s and
// GB/s, the fraction of the device's own measured ceilings (an FMA
// throughput kernel and a copy-bandwidth kernel, run in the same process),
// and a CPU baseline measured in the same run. Every kernel's result is
// checked against its CPU reference before it is timed.
//
// Families add cases with Register; `noether-vk bench-kernels` runs them.
package kernelbench

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// Case is one kernel at one shape.
type Case struct {
	Op, Shape string
	// Flops and Bytes are the work per run: floating-point operations and
	// the minimal bytes read plus written.
	Flops, Bytes float64
	// Setup allocates and fills the inputs on v.
	Setup func(v *kernels.Vulkan) (*Prepared, error)
}

// Prepared is a case ready to run.
type Prepared struct {
	// Record records the kernel (once; the program is replayed).
	Record func(r *gpu.Recorder) error
	// Check compares the device's outputs after a run with the CPU
	// reference and returns max |got - want| / max |want|.
	Check func() (float64, error)
	// CPU runs the CPU baseline once (nil: none); CPUName names it.
	CPU     func()
	CPUName string
	// Free releases the case's buffers.
	Free func()
}

var registry []Case

// Register adds cases.
func Register(cs ...Case) { registry = append(registry, cs...) }

// Ops lists the op names of the registered cases.
func Ops() []string {
	var out []string
	for _, c := range registry {
		if !slices.Contains(out, c.Op) {
			out = append(out, c.Op)
		}
	}
	sort.Strings(out)
	return out
}

// Peaks are the device's measured ceilings.
type Peaks struct {
	GFLOPS float64 `json:"fma_gflops"`
	GBPS   float64 `json:"copy_gbps"`
}

// Result is the measurement of one case.
type Result struct {
	Op                  string  `json:"op"`
	Shape               string  `json:"shape"`
	GPUMsMedian         float64 `json:"gpu_ms_median"`
	GPUMsMin            float64 `json:"gpu_ms_min"`
	GPUMsMax            float64 `json:"gpu_ms_max"`
	WallMsMedian        float64 `json:"wall_ms_median"`
	WallMsMin           float64 `json:"wall_ms_min"`
	WallMsMax           float64 `json:"wall_ms_max"`
	Runs                int     `json:"runs"`
	GFLOPS              float64 `json:"gflops"`
	GBPS                float64 `json:"gbps"`
	PeakFraction        float64 `json:"peak_fraction"`
	CPUBaseline         string  `json:"cpu_baseline,omitempty"`
	CPUBaselineMsMedian float64 `json:"cpu_baseline_ms_median"`
	SpeedupVsCPU        float64 `json:"speedup_vs_cpu"`
	MaxRelErr           float64 `json:"max_rel_err"`
	// Dispatches is the kernel dispatches of a whole program (the
	// meta-training step); 0 for a single kernel.
	Dispatches int    `json:"dispatches,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Options select and size the run.
type Options struct {
	Quick    bool     // fewer repetitions
	Ops      []string // nil: every op
	Progress func(i, n int, c Case)
}

// CheckTol is the largest max_rel_err accepted before a kernel is timed.
const CheckTol = 1e-3

func (o Options) reps() (n int, budget time.Duration) {
	if o.Quick {
		return 5, 300 * time.Millisecond
	}
	return 25, 2 * time.Second
}

// Run measures the device's ceilings, then every selected case.
func Run(v *kernels.Vulkan, o Options) (Peaks, []Result, error) {
	peaks, err := MeasurePeaks(v, o)
	if err != nil {
		return peaks, nil, err
	}
	var cases []Case
	for _, c := range registry {
		if len(o.Ops) == 0 || slices.Contains(o.Ops, c.Op) {
			cases = append(cases, c)
		}
	}
	var out []Result
	for i, c := range cases {
		if o.Progress != nil {
			o.Progress(i, len(cases), c)
		}
		r, err := measure(v, c, o, peaks)
		if err != nil {
			r.Error = err.Error()
			// A lost device cannot run the remaining cases.
			if errors.Is(err, gpu.ErrDeviceLost) {
				return peaks, append(out, r), fmt.Errorf("bench-kernels: %s %s: %w", c.Op, c.Shape, err)
			}
		}
		out = append(out, r)
	}
	return peaks, out, nil
}

func measure(v *kernels.Vulkan, c Case, o Options, peaks Peaks) (Result, error) {
	r := Result{Op: c.Op, Shape: c.Shape}
	p, err := c.Setup(v)
	if err != nil {
		return r, err
	}
	defer p.Free()
	rec := v.Device.NewRecorder().Profile()
	if err := p.Record(rec); err != nil {
		return r, err
	}
	prog, err := rec.Finish()
	if err != nil {
		return r, err
	}
	defer prog.Close()
	// The first run compiles pipelines; it is checked, not timed.
	if err := prog.Run(); err != nil {
		return r, err
	}
	if r.MaxRelErr, err = p.Check(); err != nil {
		return r, err
	}
	if !(r.MaxRelErr <= CheckTol) {
		return r, fmt.Errorf("result differs from the CPU reference: max rel err %.3g > %.0e; not timed", r.MaxRelErr, CheckTol)
	}
	n, budget := o.reps()
	var gpuMs, wallMs []float64
	start := time.Now()
	for len(wallMs) < n && (len(wallMs) < 3 || time.Since(start) < budget) {
		t0 := time.Now()
		if err := prog.Run(); err != nil {
			return r, err
		}
		wallMs = append(wallMs, ms(time.Since(t0)))
		times, err := prog.Profile()
		if err != nil {
			return r, err
		}
		var total time.Duration
		for _, t := range times {
			total += t.Time
		}
		gpuMs = append(gpuMs, ms(total))
	}
	r.Runs = len(wallMs)
	r.GPUMsMedian, r.GPUMsMin, r.GPUMsMax = stats(gpuMs)
	r.WallMsMedian, r.WallMsMin, r.WallMsMax = stats(wallMs)
	sec := r.GPUMsMedian / 1e3
	if sec > 0 {
		r.GFLOPS = c.Flops / sec / 1e9
		r.GBPS = c.Bytes / sec / 1e9
	}
	r.PeakFraction = roofline(c, r, peaks)
	if p.CPU != nil {
		r.CPUBaseline = p.CPUName
		var cpuMs []float64
		start := time.Now()
		for len(cpuMs) < n && (len(cpuMs) < 3 || time.Since(start) < budget) {
			t0 := time.Now()
			p.CPU()
			cpuMs = append(cpuMs, ms(time.Since(t0)))
		}
		r.CPUBaselineMsMedian, _, _ = stats(cpuMs)
		if r.WallMsMedian > 0 {
			// Against wall time: what a user waits for on each side.
			r.SpeedupVsCPU = r.CPUBaselineMsMedian / r.WallMsMedian
		}
	}
	return r, nil
}

// roofline is the fraction of the attainable rate: GFLOP/s over
// min(FMA peak, arithmetic intensity x copy bandwidth); for kernels that do
// no arithmetic, GB/s over the copy bandwidth.
func roofline(c Case, r Result, p Peaks) float64 {
	if c.Flops == 0 || c.Bytes == 0 {
		if p.GBPS == 0 {
			return 0
		}
		return r.GBPS / p.GBPS
	}
	attainable := math.Min(p.GFLOPS, c.Flops/c.Bytes*p.GBPS)
	if attainable == 0 {
		return 0
	}
	return r.GFLOPS / attainable
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func stats(x []float64) (median, lo, hi float64) {
	if len(x) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(x)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return m, s[0], s[len(s)-1]
}

// MaxRelErr is max |got - want| / max |want| (0 when both are zero).
func MaxRelErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, scale float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	if math.IsNaN(d) {
		return math.Inf(1)
	}
	if scale == 0 {
		return d
	}
	return d / scale
}
