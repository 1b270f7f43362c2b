package kernelbench

import (
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
)

// TestQuickRun runs every registered case once in quick mode under the
// validation layer: each must pass its correctness check and report
// positive times and rates.
func TestQuickRun(t *testing.T) {
	peaks, res, err := Run(kernels.NewVulkan(gputest.Open(t)), Options{Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	if peaks.GFLOPS <= 0 || peaks.GBPS <= 0 {
		t.Fatalf("peaks %+v", peaks)
	}
	if len(res) == 0 {
		t.Fatal("no cases")
	}
	for _, r := range res {
		if r.Error != "" {
			t.Errorf("%s %s: %s", r.Op, r.Shape, r.Error)
			continue
		}
		if r.GPUMsMedian <= 0 || r.WallMsMedian <= 0 || r.PeakFraction <= 0 || r.Runs < 3 {
			t.Errorf("%s %s: implausible measurement %+v", r.Op, r.Shape, r)
		}
		if r.CPUBaseline != "" && r.SpeedupVsCPU <= 0 {
			t.Errorf("%s %s: baseline %q without a ratio", r.Op, r.Shape, r.CPUBaseline)
		}
	}
}

func TestMaxRelErr(t *testing.T) {
	for _, tc := range []struct {
		got, want []float32
		rel       float64
	}{
		{[]float32{1, 2}, []float32{1, 2}, 0},
		{[]float32{1, 2.5}, []float32{1, 2}, 0.25},
		{[]float32{0, 0}, []float32{0, 0}, 0},
		{[]float32{1}, []float32{1, 2}, -1},
	} {
		got := MaxRelErr(tc.got, tc.want)
		if tc.rel < 0 {
			if got < 1e300 {
				t.Errorf("length mismatch gave %v", got)
			}
			continue
		}
		if got != tc.rel {
			t.Errorf("MaxRelErr(%v, %v) = %v, want %v", tc.got, tc.want, got, tc.rel)
		}
	}
}
