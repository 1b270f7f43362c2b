package video

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/noether-vk/noether-vk/noether/metrics"
)

// TestCappedPSNR: each channel's PSNR is capped at PSNRCap before the
// average, so an exact frame scores the cap (metrics.PSNR: +Inf), a frame
// with one exact channel is scored by the others too, scores below the
// cap are metrics.PSNR's, and the result goes into JSON.
func TestCappedPSNR(t *testing.T) {
	s := metrics.Shape{C: 3, H: 8, W: 8}
	plane := s.H * s.W
	truth := make([]float32, s.Len())
	for i := range truth {
		truth[i] = 0.25
	}
	// off is truth with channel c moved by d[c] (exactly representable
	// steps, so each channel's MSE is d[c]^2 exactly).
	off := func(d [3]float32) []float32 {
		p := append([]float32(nil), truth...)
		for i := range p {
			p[i] += d[i/plane]
		}
		return p
	}
	psnrOf := func(d float64) float64 { return 10 * math.Log10(1/(d*d)) } // 18.06 dB for 1/8
	for _, c := range []struct {
		name string
		pred []float32
		want float64
	}{
		{"exact", off([3]float32{}), PSNRCap},
		{"one exact channel", off([3]float32{0, 0.125, 0.125}), (PSNRCap + 2*psnrOf(0.125)) / 3},
		{"below the cap", off([3]float32{0.125, 0.125, 0.125}), psnrOf(0.125)},
		{"above the cap", off([3]float32{0x1p-20, 0.125, 0.125}), (PSNRCap + 2*psnrOf(0.125)) / 3}, // 120 dB capped
	} {
		got, err := cappedPSNR(truth, c.pred, s)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 1e-9*c.want {
			t.Errorf("%s: PSNR %v, want %v", c.name, got, c.want)
		}
		raw, err := metrics.PSNR(truth, c.pred, s)
		if err != nil {
			t.Fatal(err)
		}
		if c.name == "below the cap" && got != raw {
			t.Errorf("%s: metrics.PSNR's %v changed to %v", c.name, raw, got)
		}
		if _, err := json.Marshal(&Result{TestPSNR: got, PSNRPerStep: []float64{got}}); err != nil {
			t.Errorf("%s: a result scoring %v dB: %v", c.name, got, err)
		}
	}
	if raw, _ := metrics.PSNR(truth, truth, s); !math.IsInf(raw, 1) {
		t.Errorf("metrics.PSNR of an exact frame is %v: the cap's reason has gone", raw)
	}
	if _, err := cappedPSNR(truth, truth[1:], s); err == nil {
		t.Error("frames of different sizes accepted")
	}
}
