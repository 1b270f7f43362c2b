package clips

import (
	"slices"
	"strings"
	"testing"
)

func TestRNG(t *testing.T) {
	a, b, c := NewRNG(1, 2), NewRNG(1, 2), NewRNG(1, 3)
	same, other := 0, 0
	for range 100 {
		x, y, z := a.Uniform(-1, 1), b.Uniform(-1, 1), c.Uniform(-1, 1)
		if x < -1 || x >= 1 {
			t.Fatalf("Uniform(-1, 1) = %v", x)
		}
		if x == y {
			same++
		}
		if x == z {
			other++
		}
	}
	if same != 100 || other != 0 {
		t.Errorf("equal keys agreed on %d of 100 draws, other streams on %d: want 100 and 0", same, other)
	}
	counts := make([]int, 5)
	for range 5000 {
		counts[a.Intn(5)]++
	}
	for i, n := range counts {
		if n < 900 || n > 1100 {
			t.Errorf("Intn(5) gave %d %d times in 5000, want about 1000", i, n)
		}
	}
	p := a.Perm(50)
	sorted := slices.Clone(p)
	slices.Sort(sorted)
	for i, v := range sorted {
		if v != i {
			t.Fatalf("Perm(50) = %v is not a permutation", p)
		}
	}
}

func TestCheckIndices(t *testing.T) {
	if err := CheckIndices("x", Test, []int{0, 2, 2}, 3); err != nil {
		t.Errorf("valid indices: %v", err)
	}
	for _, c := range []struct {
		s    Split
		idx  []int
		want string
	}{
		{Train, nil, "no clips"},
		{Train, []int{1, 3}, "entry 1 asks for clip 3 of the train split, which has 3"},
		{Split(2), []int{0}, "unknown split Split(2)"},
	} {
		if err := CheckIndices("x", c.s, c.idx, 3); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckIndices(%v, %v): %v, want %q", c.s, c.idx, err, c.want)
		}
	}
	b := &Batch{T: 2, B: 3, H: 1, W: 2, Frames: make([]float32, 2*3*3*2)}
	b.Frame(1, 2)[0] = 7
	if b.Frames[(1*3+2)*6] != 7 {
		t.Errorf("Frame(1, 2) is not at [1, 2] of [T, B, 3, H, W]")
	}
}
