package kernels_test

import (
	"math"
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// TestPhiloxKnownAnswers checks the block function against Random123's
// known-answer vectors (tests/kat_vectors, "philox4x32 10").
func TestPhiloxKnownAnswers(t *testing.T) {
	for _, c := range []struct {
		ctr  [4]uint32
		key  [2]uint32
		want [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0}, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0)}, [2]uint32{^uint32(0), ^uint32(0)}, [4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0}, [4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	} {
		if got := kernels.Philox(c.ctr, c.key); got != c.want {
			t.Errorf("Philox(%08x, %08x) = %08x, want %08x", c.ctr, c.key, got, c.want)
		}
	}
}

// rngSamples is the sample size of the statistical checks; their bounds
// are 5 standard errors at this size, so a correct generator fails them
// with probability below 1e-6 each (and never, with the fixed seeds).
const rngSamples = 200000

func rngMoments(x []float32) (mean, variance float64) {
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	for _, v := range x {
		variance += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, variance / float64(len(x)-1)
}

func rngDraw(t *testing.T, b kernels.RNGBackend, dist kernels.RNGDist, seed, offset uint64, n int) []float32 {
	t.Helper()
	x, err := b.RNG(dist, seed, offset, n)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestVulkanRNGUniformStatistics checks the device's uniforms: range, mean
// 1/2, variance 1/12 and a chi-square test on 10 equal bins.
func TestVulkanRNGUniformStatistics(t *testing.T) {
	v := openVulkan(t)
	x := rngDraw(t, v, kernels.Uniform, 0x5eed, 12345, rngSamples)
	var bins [10]int
	for _, u := range x {
		if !(u >= 0 && u < 1) {
			t.Fatalf("uniform %v outside [0, 1)", u)
		}
		bins[int(u*10)]++
	}
	mean, variance := rngMoments(x)
	n := float64(rngSamples)
	if se := math.Sqrt(1.0 / 12 / n); math.Abs(mean-0.5) > 5*se {
		t.Errorf("mean %.5f, want 0.5 +- %.5f", mean, 5*se)
	}
	// The variance of (u - 1/2)^2 is 1/80 - 1/144.
	if se := math.Sqrt((1.0/80 - 1.0/144) / n); math.Abs(variance-1.0/12) > 5*se {
		t.Errorf("variance %.5f, want %.5f +- %.5f", variance, 1.0/12, 5*se)
	}
	chi2 := 0.0
	for _, c := range bins {
		d := float64(c) - n/10
		chi2 += d * d / (n / 10)
	}
	// 27.88 is the 99.9th percentile of chi-square with 9 degrees of freedom.
	if chi2 > 27.88 {
		t.Errorf("chi-square over 10 bins %.2f > 27.88 (bins %v)", chi2, bins)
	}
}

// TestVulkanRNGNormalStatistics checks the device's normals: mean 0,
// variance 1 and the fraction within one standard deviation.
func TestVulkanRNGNormalStatistics(t *testing.T) {
	v := openVulkan(t)
	x := rngDraw(t, v, kernels.Normal, 0x5eed, 7, rngSamples)
	n := float64(rngSamples)
	mean, variance := rngMoments(x)
	if se := 1 / math.Sqrt(n); math.Abs(mean) > 5*se {
		t.Errorf("mean %.5f, want 0 +- %.5f", mean, 5*se)
	}
	if se := math.Sqrt(2 / n); math.Abs(variance-1) > 5*se {
		t.Errorf("variance %.5f, want 1 +- %.5f", variance, 5*se)
	}
	within := 0
	for _, z := range x {
		if math.IsNaN(float64(z)) || math.IsInf(float64(z), 0) {
			t.Fatalf("normal %v", z)
		}
		if math.Abs(float64(z)) < 1 {
			within++
		}
	}
	p := math.Erf(1 / math.Sqrt2) // 0.6827
	if f, se := float64(within)/n, math.Sqrt(p*(1-p)/n); math.Abs(f-p) > 5*se {
		t.Errorf("fraction within 1 sigma %.5f, want %.5f +- %.5f", f, p, 5*se)
	}
}

// TestVulkanRNGStreams checks that the stream is addressed by counter (a
// slice at an offset equals that part of a longer draw) and that other
// seeds and other offsets give other numbers.
func TestVulkanRNGStreams(t *testing.T) {
	v := openVulkan(t)
	const n = 1000
	for _, dist := range []kernels.RNGDist{kernels.Uniform, kernels.Normal} {
		whole := rngDraw(t, v, dist, 42, 0, 2*n+3)
		part := rngDraw(t, v, dist, 42, n+3, n)
		for i := range part {
			if part[i] != whole[n+3+i] {
				t.Fatalf("%s: element %d at offset %d is %v, but %v in a draw from 0", dist, i, n+3, part[i], whole[n+3+i])
			}
		}
		same := func(a, b []float32) int {
			k := 0
			for i := range a {
				if a[i] == b[i] {
					k++
				}
			}
			return k
		}
		// Two independent draws of 24-bit values agree in a slot with
		// probability about 2^-24: a handful of matches means shared streams.
		if k := same(whole[:n], rngDraw(t, v, dist, 43, 0, n)); k > 2 {
			t.Errorf("%s: seeds 42 and 43 agree in %d of %d elements", dist, k, n)
		}
		if k := same(whole[:n], whole[n:2*n]); k > 2 {
			t.Errorf("%s: offsets 0 and %d agree in %d of %d elements", dist, n, k, n)
		}
		if k := same(whole[:n], rngDraw(t, v, dist, 42<<32, 0, n)); k > 2 {
			t.Errorf("%s: seeds 42 and 42<<32 agree in %d of %d elements", dist, k, n)
		}
	}
}
