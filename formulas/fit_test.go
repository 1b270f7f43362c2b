package formulas

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
)

// TestNewFitData checks the layout: thinning, cutting, the kept
// sequences, and random sequences that permute the true states.
func TestNewFitData(t *testing.T) {
	// 25 trajectories of 45 distinct states, as the ideal pendulum's.
	rng := rand.New(rand.NewPCG(1, 2))
	trajs := make([][][2]float64, 25)
	for i := range trajs {
		for range 45 {
			trajs[i] = append(trajs[i], [2]float64{rng.NormFloat64(), rng.NormFloat64()})
		}
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
		fd, err := NewFitData("test", trajs, c.o)
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
	if _, err := NewFitData("test", trajs, FitDataOptions{Stride: -1}); err == nil {
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
// with the default options and data (pendulumTrajectories and
// springTrajectories).
func TestFitBatch(t *testing.T) {
	v := kernels.NewVulkan(gputest.Open(t))
	type fitCase struct {
		src   string
		param string
		want  float64 // the parameter; 0: any; NaN: not conserved
	}
	for _, c := range []struct {
		name  string
		data  [][][2]float64
		cases []fitCase
	}{
		{"pendulum", pendulumTrajectories(), []fitCase{
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
		{"spring", springTrajectories(), []fitCase{
			{"q^2 + c*p^2", "c", 1},
			{"(q + a)^2 + (p*b)^2", "b", 1},
			{"p*q", "", math.NaN()},
		}},
	} {
		fd, err := NewFitData(c.name, c.data, DefaultFitDataOptions())
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
			t.Logf("%s %s: R %.3g %v", c.name, fc.src, r.Score, r.Params)
			switch got := r.Params[fc.param]; {
			case math.IsNaN(fc.want):
				if !(r.Score > 1e-2) {
					t.Errorf("%s %s: score %.3g, want above 1/100", c.name, fc.src, r.Score)
				}
			case !(r.Score < 1e-6):
				t.Errorf("%s %s: score %.3g, want below 1e-6", c.name, fc.src, r.Score)
			case fc.want != 0 && math.Abs(math.Abs(got/fc.want)-1) > 1e-4:
				t.Errorf("%s %s: %s = %v, want %v within 1e-4", c.name, fc.src, fc.param, got, fc.want)
			}
		}
	}
}

// trajectories integrates the field f from n starts on circles of radius
// in [r0, r1) around the origin (random phase), returning 45 states each
// over t in [0, 3], as the ideal systems' data: classical RK4 with 100
// substeps between samples, whose energy error (about 1e-11) is far below
// what the fit tests resolve.
func trajectories(f func(x [2]float64) [2]float64, r0, r1 float64, seed uint64) [][][2]float64 {
	const n, points, substeps = 25, 45, 100
	rng := rand.New(rand.NewPCG(seed, 3))
	h := 3.0 / (points - 1) / substeps
	out := make([][][2]float64, n)
	for i := range out {
		r, phi := r0+(r1-r0)*rng.Float64(), 2*math.Pi*rng.Float64()
		x := [2]float64{r * math.Cos(phi), r * math.Sin(phi)}
		for range points {
			out[i] = append(out[i], x)
			for range substeps {
				k1 := f(x)
				k2 := f([2]float64{x[0] + h/2*k1[0], x[1] + h/2*k1[1]})
				k3 := f([2]float64{x[0] + h/2*k2[0], x[1] + h/2*k2[1]})
				k4 := f([2]float64{x[0] + h*k3[0], x[1] + h*k3[1]})
				for k := range 2 {
					x[k] += h / 6 * (k1[k] + 2*k2[k] + 2*k3[k] + k4[k])
				}
			}
		}
	}
	return out
}

// pendulumTrajectories follow H = 3(1 - cos q) + p^2 (dq/dt = 2p,
// dp/dt = -3 sin q) from radii in [1.3, 2.3), as the ideal pendulum.
func pendulumTrajectories() [][][2]float64 {
	return trajectories(func(x [2]float64) [2]float64 { return [2]float64{2 * x[1], -3 * math.Sin(x[0])} }, 1.3, 2.3, 1)
}

// springTrajectories follow H = q^2 + p^2 from radii in [0.1, 1).
func springTrajectories() [][][2]float64 {
	return trajectories(func(x [2]float64) [2]float64 { return [2]float64{2 * x[1], -2 * x[0]} }, 0.1, 1, 2)
}
