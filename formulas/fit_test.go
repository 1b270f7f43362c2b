package formulas

import (
	"math"
	"slices"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
)

// TestNewFitData checks the layout: thinning, cutting, the kept
// sequences, and random sequences that permute the true states.
func TestNewFitData(t *testing.T) {
	d, err := Pendulum().Generate(GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o    FitDataOptions
		lens []int // of the true sequences; one entry: all equal
	}{
		{FitDataOptions{}, []int{45}},
		{FitDataOptions{Stride: 3}, []int{15}},
		{FitDataOptions{Stride: 2, MaxLen: 10}, []int{7, 8, 8}},
		{FitDataOptions{MaxLen: 20, MaxSeqs: 10}, []int{15}},
	} {
		fd, err := NewFitData(d, c.o)
		if err != nil {
			t.Fatal(err)
		}
		var lens []int
		for j := 1; j < len(fd.True); j++ {
			lens = append(lens, int(fd.True[j]-fd.True[j-1]))
			if r := fd.Random[j] - fd.Random[j-1]; int(r) != lens[j-1] {
				t.Errorf("%+v: random sequence %d has %d states, true one %d", c.o, j-1, r, lens[j-1])
			}
		}
		want := c.lens
		if len(want) == 1 {
			want = slices.Repeat(want, len(lens))
		} else {
			want = slices.Repeat(want, len(lens)/len(want))
		}
		if !slices.Equal(lens, want) {
			t.Errorf("%+v: sequence lengths %v, want %v", c.o, lens, want)
		}
		if c.o.MaxSeqs > 0 && len(lens) != c.o.MaxSeqs {
			t.Errorf("%+v: %d sequences", c.o, len(lens))
		}
		n := int(fd.True[len(fd.True)-1])
		if fd.Random[0] != uint32(n) || len(fd.Points) != 4*n {
			t.Fatalf("%+v: %d true states, random ones from %d, %d coordinates", c.o, n, fd.Random[0], len(fd.Points))
		}
		tru, rnd := pairs(fd.Points[:2*n]), pairs(fd.Points[2*n:])
		if slices.Equal(tru, rnd) {
			t.Errorf("%+v: random sequences are not shuffled", c.o)
		}
		slices.SortFunc(tru, cmpPair)
		slices.SortFunc(rnd, cmpPair)
		if !slices.Equal(tru, rnd) {
			t.Errorf("%+v: random states are not a permutation of the true ones", c.o)
		}
	}
	if _, err := NewFitData(d, FitDataOptions{Stride: -1}); err == nil {
		t.Error("NewFitData with stride -1: no error")
	}
}

func pairs(v []float32) [][2]float32 {
	out := make([][2]float32, len(v)/2)
	for i := range out {
		out[i] = [2]float32{v[2*i], v[2*i+1]}
	}
	return out
}

func cmpPair(a, b [2]float32) int {
	if a[0] != b[0] {
		if a[0] < b[0] {
			return -1
		}
		return 1
	}
	if a[1] < b[1] {
		return -1
	}
	if a[1] > b[1] {
		return 1
	}
	return 0
}

// TestFitBatch fits known conserved quantities, in several forms, and
// quantities that are not conserved, on the noise-free training states
// with the default options and data.
func TestFitBatch(t *testing.T) {
	v := kernels.NewVulkan(gputest.Open(t))
	type fitCase struct {
		src   string
		param string
		want  float64 // the parameter; 0: any; NaN: not conserved
	}
	for _, c := range []struct {
		sys   System
		cases []fitCase
	}{
		{Pendulum(), []fitCase{
			{"p^2 - c*cos(q)", "c", 3},
			{"p^2 + c*cos(q)", "c", -3},
			{"(p/c)^2 - cos(q)", "c", math.Sqrt(3)},
			{"c*sin(q/2)^2 + p^2", "c", 6},
			{"p^2 - a*cos(q + b)", "a", 3},
			{"a*p^2 - b*cos(q)", "", 0},
			{"p^2/a + cos(q)*b", "", 0},
			{"p^2 + a*sin(q*b)^2", "a", 6},
			{"sin(p^2 - a*cos(q))", "a", 3},
			{"1/(p^2 + a - 3*cos(q))", "", 0},
			{"p*q", "", math.NaN()},
			{"p^2 + c*q^2", "", math.NaN()},
		}},
		{Spring(), []fitCase{
			{"q^2 + c*p^2", "c", 1},
			{"(q + a)^2 + (p*b)^2", "b", 1},
			{"p*q", "", math.NaN()},
		}},
	} {
		d, err := c.sys.Generate(GenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fd, err := NewFitData(d, DefaultFitDataOptions(NoiseFree))
		if err != nil {
			t.Fatal(err)
		}
		var exprs []*Expr
		for _, fc := range c.cases {
			exprs = append(exprs, MustParse(fc.src))
		}
		res, err := FitBatch(v, exprs, fd, FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, fc := range c.cases {
			r := res[i]
			t.Logf("%s %s: R %.3g %v", c.sys.Name, fc.src, r.Score, r.Params)
			switch got := r.Params[fc.param]; {
			case math.IsNaN(fc.want):
				if !(r.Score > 1e-2) {
					t.Errorf("%s %s: score %.3g, want above 1/100", c.sys.Name, fc.src, r.Score)
				}
			case !(r.Score < 1e-6):
				t.Errorf("%s %s: score %.3g, want below 1e-6", c.sys.Name, fc.src, r.Score)
			case fc.want != 0 && math.Abs(math.Abs(got/fc.want)-1) > 1e-4:
				t.Errorf("%s %s: %s = %v, want %v within 1e-4", c.sys.Name, fc.src, fc.param, got, fc.want)
			}
		}
	}
}
