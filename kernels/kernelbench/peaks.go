package kernelbench

import (
	"fmt"
	"time"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/shaders"
)

const (
	peakLocal = 64
	fmaIters  = 256 // loop iterations per invocation; 64 flops each
	minPeakMs = 5   // grow the problem until one run takes this long
)

// MeasurePeaks runs the FMA-throughput and copy-bandwidth kernels
// (shaders/peak.comp), growing each problem until a run takes at least
// 5 ms of GPU time, and returns the best rate over the repetitions.
func MeasurePeaks(v *kernels.Vulkan, o Options) (Peaks, error) {
	var p Peaks
	var err error
	// FMA: n invocations x fmaIters x 8 vec4 FMAs x 2 flops x 4 lanes.
	p.GFLOPS, err = peakRate(v, o, 0, 1<<14, 1<<22, func(n int) float64 { return float64(n) * fmaIters * 64 })
	if err != nil {
		return p, fmt.Errorf("bench-kernels: FMA peak: %w", err)
	}
	// Copy: n vec4 read and written.
	maxVec4 := int(min(v.Device.Info.MaxStorageBufferRange, 256<<20) / 16)
	p.GBPS, err = peakRate(v, o, 1, 1<<20, maxVec4, func(n int) float64 { return float64(n) * 32 })
	if err != nil {
		return p, fmt.Errorf("bench-kernels: copy peak: %w", err)
	}
	return p, nil
}

// peakRate returns work(n) / best time, in units of 1e9 per second.
func peakRate(v *kernels.Vulkan, o Options, mode uint32, n, maxN int, work func(n int) float64) (float64, error) {
	k, err := v.Device.Kernel(gpu.KernelSpec{Name: "peak", SPIRV: shaders.SPIRV("peak"),
		Bindings: []gpu.Access{gpu.Read, gpu.Write}, PushBytes: 8, Spec: []uint32{peakLocal, 1, 1, mode, fmaIters}})
	if err != nil {
		return 0, err
	}
	for {
		best, err := peakRun(v, k, mode, n, o)
		if err != nil {
			return 0, err
		}
		if best >= minPeakMs*time.Millisecond || n*2 > maxN {
			return work(n) / best.Seconds() / 1e9, nil
		}
		n *= 2
		if best < time.Millisecond/2 {
			n = min(n*4, maxN)
		}
	}
}

func peakRun(v *kernels.Vulkan, k *gpu.Kernel, mode uint32, n int, o Options) (time.Duration, error) {
	inLen, outLen := n, n
	if mode == 0 {
		inLen = 1
	}
	x, err := v.Device.Alloc(int64(16 * inLen))
	if err != nil {
		return 0, err
	}
	defer x.Free()
	y, err := v.Device.Alloc(int64(16 * outLen))
	if err != nil {
		return 0, err
	}
	defer y.Free()
	r := v.Device.NewRecorder().Profile()
	r.Dispatch(k, v.Device.Grid(k, n), gpu.Push{}.U32(uint32(n)).F32(1e-7), x, y)
	p, err := r.Finish()
	if err != nil {
		return 0, err
	}
	defer p.Close()
	reps, _ := o.reps()
	best := time.Duration(1<<63 - 1)
	for i := 0; i <= min(reps, 5); i++ { // run 0 compiles the pipeline
		if err := p.Run(); err != nil {
			return 0, err
		}
		times, err := p.Profile()
		if err != nil {
			return 0, err
		}
		if i > 0 && times[0].Time > 0 {
			best = min(best, times[0].Time)
		}
	}
	return best, nil
}
