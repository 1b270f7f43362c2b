package kernels

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestBroadcast(t *testing.T) {
	for _, tc := range []struct {
		a, b, want Shape
		err        string
	}{
		{Shape{3, 5}, Shape{3, 5}, Shape{3, 5}, ""},
		{Shape{3, 1, 5}, Shape{4, 1}, Shape{3, 4, 5}, ""},
		{Shape{}, Shape{2, 3}, Shape{2, 3}, ""},
		{Shape{1}, Shape{7}, Shape{7}, ""},
		{Shape{3, 5}, Shape{4, 1}, nil, "do not broadcast"},
		{Shape{2, 0}, Shape{2}, nil, "dimension < 1"},
		{Shape{1, 1, 1, 1, 1, 1, 1}, Shape{1}, nil, "at most 6"},
	} {
		got, err := Broadcast(tc.a, tc.b)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Broadcast(%v, %v) err = %v, want %q", tc.a, tc.b, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("Broadcast(%v, %v) = %v, %v; want %v", tc.a, tc.b, got, err, tc.want)
		}
	}
}

func TestBroadcastStrides(t *testing.T) {
	for _, tc := range []struct {
		s, out Shape
		want   []int
		ok     bool
	}{
		{Shape{3, 1}, Shape{3, 4}, []int{1, 0}, true},
		{Shape{4}, Shape{2, 3, 4}, []int{0, 0, 1}, true},
		{Shape{2, 3}, Shape{2, 3}, []int{3, 1}, true},
		{Shape{3}, Shape{4}, nil, false},
		{Shape{2, 3}, Shape{3}, nil, false},
	} {
		got, err := BroadcastStrides(tc.s, tc.out)
		if (err == nil) != tc.ok || (tc.ok && !slices.Equal(got, tc.want)) {
			t.Errorf("BroadcastStrides(%v, %v) = %v, %v; want %v (ok %v)", tc.s, tc.out, got, err, tc.want, tc.ok)
		}
	}
}

func TestSumAxesAndReduced(t *testing.T) {
	for _, tc := range []struct {
		s, out Shape
		want   []int
	}{
		{Shape{3, 5}, Shape{3, 5}, nil},
		{Shape{5}, Shape{3, 5}, []int{0}},
		{Shape{3, 1}, Shape{3, 4}, []int{1}},
		{Shape{1, 4, 1}, Shape{2, 3, 4, 5}, []int{0, 1, 3}},
	} {
		axes := SumAxes(tc.s, tc.out)
		if !slices.Equal(axes, tc.want) {
			t.Errorf("SumAxes(%v, %v) = %v, want %v", tc.s, tc.out, axes, tc.want)
		}
		// Summing over those axes with keep leaves s's element count.
		r, err := Reduced(tc.out, axes, true)
		if err != nil || r.Len() != tc.s.Len() {
			t.Errorf("Reduced(%v, %v, keep) = %v, %v; want %d elements", tc.out, axes, r, err, tc.s.Len())
		}
	}
	for _, tc := range []struct {
		s    Shape
		axes []int
		keep bool
		want Shape
		err  bool
	}{
		{Shape{2, 3, 4}, []int{1}, false, Shape{2, 4}, false},
		{Shape{2, 3, 4}, []int{-1, 0}, true, Shape{1, 3, 1}, false},
		{Shape{2, 3}, []int{0, 1}, false, nil, false},
		{Shape{2, 3}, nil, false, Shape{2, 3}, false},
		{Shape{2, 3}, []int{2}, false, nil, true},
		{Shape{2, 3}, []int{1, -1}, false, nil, true},
	} {
		got, err := Reduced(tc.s, tc.axes, tc.keep)
		if (err != nil) != tc.err || (!tc.err && !got.Equal(tc.want)) {
			t.Errorf("Reduced(%v, %v, %v) = %v, %v; want %v (error %v)", tc.s, tc.axes, tc.keep, got, err, tc.want, tc.err)
		}
	}
}

// TestLengthErrors: every family rejects wrong lengths with an error that
// names the op.
func TestLengthErrors(t *testing.T) {
	var c CPU
	check := func(op string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), op) {
			t.Errorf("%s: err = %v, want an error naming it", op, err)
		}
	}
	_, err := c.Unary(Tanh, 0, 0, []float32{1, 2}, []float32{1})
	check("tanh", err)
	_, _, err = c.Binary(Mul, []float32{1, 2, 3}, Shape{3}, []float32{1, 2}, Shape{2})
	check("mul", err)
	_, _, err = c.Reduce(Sum, []float32{1, 2}, Shape{3}, nil, false)
	check("sum", err)
	_, err = c.CNAffine(CNShape{N: 2, C: 3, S: 4}, make([]float32, 24), make([]float32, 5), make([]float32, 6))
	check("cn_affine", err)
	_, _, err = c.LSTMCell(LSTMShape{B: 2, H: 3}, make([]float32, 23), make([]float32, 6))
	check("lstm_cell", err)
}

// TestDivMagic: fast_div's arithmetic, done here in Go, divides exactly
// for every dividend below 2^31, at divisors from 1 to 2^31 (edges and
// random ones), for dividends at the edges and random ones.
func TestDivMagic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	ds := []uint32{1, 2, 3, 5, 7, 8, 200, 1125, 4095, 1 << 30, 1<<31 - 1, 1 << 31}
	for range 300 {
		ds = append(ds, uint32(rng.IntN(1<<31))+1)
	}
	for _, d := range ds {
		m, l := divMagic(d)
		ns := []uint32{0, 1, d - 1, d, d + 1, 2*d - 1, 1<<31 - 1}
		for range 2000 {
			ns = append(ns, uint32(rng.IntN(1<<31)))
		}
		for _, n := range ns {
			if n >= 1<<31 {
				continue
			}
			hi, _ := bits.Mul32(n, m)
			if q := (hi + n) >> l; q != n/d {
				t.Fatalf("divMagic(%d) = (%d, %d): %d / %d gives %d, want %d", d, m, l, n, d, q, n/d)
			}
		}
	}
}
