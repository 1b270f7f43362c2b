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
	Dispatches int `json:"dispatches,omitempty"`
	// Tuned says how the tuned program was measured (Options.Tuning):
	// "tuned" when it runs a tuned variant, timed interleaved with the
	// default (the fields above), "default" when nothing in it is tuned
	// (the same program: its figures are the default's), empty when no
	// tuning was given.
	Tuned             string  `json:"tuned,omitempty"`
	TunedGPUMsMedian  float64 `json:"tuned_gpu_ms_median,omitempty"`
	TunedGPUMsMin     float64 `json:"tuned_gpu_ms_min,omitempty"`
	TunedGPUMsMax     float64 `json:"tuned_gpu_ms_max,omitempty"`
	TunedWallMsMedian float64 `json:"tuned_wall_ms_median,omitempty"`
	TunedWallMsMin    float64 `json:"tuned_wall_ms_min,omitempty"`
	TunedWallMsMax    float64 `json:"tuned_wall_ms_max,omitempty"`
	Error             string  `json:"error,omitempty"`
}

// Tuned values of Result.Tuned.
const (
	TunedVariant = "tuned"
	TunedNone    = "default"
)

// SameAsDefault fills the tuned figures with the default's: the tuned
// program is the default one.
func (r *Result) SameAsDefault() {
	r.Tuned = TunedNone
	r.TunedGPUMsMedian, r.TunedGPUMsMin, r.TunedGPUMsMax = r.GPUMsMedian, r.GPUMsMin, r.GPUMsMax
	r.TunedWallMsMedian, r.TunedWallMsMin, r.TunedWallMsMax = r.WallMsMedian, r.WallMsMin, r.WallMsMax
}

// Options select and size the run.
type Options struct {
	Quick bool     // fewer repetitions
	Ops   []string // nil: every op
	// Tuning, when set, also times every case as recorded with these
	// tuned variants, interleaved with the default (Result.Tuned).
	Tuning   *kernels.Tuning
	Progress func(i, n int, c Case)
}

// Record sets up and records every selected case without running it,
// then frees it: with an empty kernels.Tuning on v, the products the
// cases record are left in its Missed list for the tuner.
func Record(v *kernels.Vulkan, o Options) error {
	for _, c := range registry {
		if len(o.Ops) > 0 && !slices.Contains(o.Ops, c.Op) {
			continue
		}
		p, err := c.Setup(v)
		if err != nil {
			return fmt.Errorf("%s %s: %w", c.Op, c.Shape, err)
		}
		err = p.Record(v.Device.NewRecorder())
		p.Free()
		if err != nil {
			return fmt.Errorf("%s %s: %w", c.Op, c.Shape, err)
		}
	}
	return nil
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

// record records the case's program with the tuning t on v (nil: the
// defaults) and says whether any tuned variant went into it.
func record(v *kernels.Vulkan, p *Prepared, t *kernels.Tuning) (prog *gpu.Program, tuned bool, err error) {
	hits := t.Hits()
	err = v.WithTuning(t, func() error {
		rec := v.Device.NewRecorder().Profile()
		if err := p.Record(rec); err != nil {
			return err
		}
		prog, err = rec.Finish()
		return err
	})
	return prog, t.Hits() > hits, err
}

// timed is one program's timings.
type timed struct {
	prog          *gpu.Program
	gpuMs, wallMs []float64
}

func (t *timed) run() error {
	t0 := time.Now()
	if err := t.prog.Run(); err != nil {
		return err
	}
	t.wallMs = append(t.wallMs, ms(time.Since(t0)))
	total, err := t.prog.GPUTime()
	if err != nil {
		return err
	}
	t.gpuMs = append(t.gpuMs, ms(total))
	return nil
}

func measure(v *kernels.Vulkan, c Case, o Options, peaks Peaks) (Result, error) {
	r := Result{Op: c.Op, Shape: c.Shape}
	p, err := c.Setup(v)
	if err != nil {
		return r, err
	}
	defer p.Free()
	progs := []*timed{{}}
	var tuned bool
	if progs[0].prog, _, err = record(v, p, nil); err != nil {
		return r, err
	}
	defer progs[0].prog.Close()
	if o.Tuning != nil {
		var prog *gpu.Program
		if prog, tuned, err = record(v, p, o.Tuning); err != nil {
			return r, err
		}
		defer prog.Close()
		if tuned {
			progs = append(progs, &timed{prog: prog})
		}
	}
	// The first run compiles pipelines; it is checked, not timed.
	for _, t := range progs {
		if err := t.prog.Run(); err != nil {
			return r, err
		}
		e, err := p.Check()
		if err != nil {
			return r, err
		}
		if !(e <= CheckTol) {
			return r, fmt.Errorf("result differs from the CPU reference: max rel err %.3g > %.0e; not timed", e, CheckTol)
		}
		r.MaxRelErr = max(r.MaxRelErr, e)
	}
	// Default and tuned alternate, so that a drift in the machine's speed
	// weighs on both alike.
	n, budget := o.reps()
	start := time.Now()
	for len(progs[0].wallMs) < n && (len(progs[0].wallMs) < 3 || time.Since(start) < budget*time.Duration(len(progs))) {
		for _, t := range progs {
			if err := t.run(); err != nil {
				return r, err
			}
		}
	}
	def := progs[0]
	r.Runs = len(def.wallMs)
	r.GPUMsMedian, r.GPUMsMin, r.GPUMsMax = Stats(def.gpuMs)
	r.WallMsMedian, r.WallMsMin, r.WallMsMax = Stats(def.wallMs)
	switch {
	case tuned:
		t := progs[1]
		r.Tuned = TunedVariant
		r.TunedGPUMsMedian, r.TunedGPUMsMin, r.TunedGPUMsMax = Stats(t.gpuMs)
		r.TunedWallMsMedian, r.TunedWallMsMin, r.TunedWallMsMax = Stats(t.wallMs)
	case o.Tuning != nil:
		r.SameAsDefault()
	}
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
		r.CPUBaselineMsMedian, _, _ = Stats(cpuMs)
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

// Stats are the median, minimum and maximum of x (zeros when empty).
func Stats(x []float64) (median, lo, hi float64) {
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
