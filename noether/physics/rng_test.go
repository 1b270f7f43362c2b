package physics

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMT19937MatchesNumPy replays testdata/rng_numpy.txt, written by
// testdata/gen_rng.py with NumPy's legacy global generator, and requires
// every uniform bit for bit and every Gaussian within one ulp (almost all
// bit for bit).
func TestMT19937MatchesNumPy(t *testing.T) {
	f, err := os.Open("testdata/rng_numpy.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r *MT19937
	sys := Pendulum()
	sc := bufio.NewScanner(f)
	line, checked := 0, 0
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("rng_numpy.txt:%d: %v", line, err)
		}
		return v
	}
	same := func(what string, got, want float64) {
		checked++
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("rng_numpy.txt:%d: %s = %.17g, NumPy %.17g", line, what, got, want)
		}
	}
	// Gaussians may differ by one ulp where the C library's log (NumPy's)
	// rounds differently from ours; see NormFloat64.
	gaussOff, gauss := 0, 0
	near := func(what string, got, want float64) {
		checked++
		gauss++
		if math.Float64bits(got) == math.Float64bits(want) {
			return
		}
		if got != math.Nextafter(want, math.Inf(1)) && got != math.Nextafter(want, math.Inf(-1)) {
			t.Fatalf("rng_numpy.txt:%d: %s = %.17g, NumPy %.17g (more than one ulp)", line, what, got, want)
		}
		gaussOff++
	}
	for sc.Scan() {
		line++
		w := strings.Fields(sc.Text())
		if len(w) == 0 || strings.HasPrefix(w[0], "#") {
			continue
		}
		switch w[0] {
		case "seed":
			if w[1] == "hnn-pendulum" {
				r = NewMT19937(uint32(num(w[2])))
				continue
			}
			r = NewMT19937(uint32(num(w[1])))
		case "rand":
			same("rand", r.Float64(), num(w[1]))
		case "randn":
			near("randn", r.NormFloat64(), num(w[1]))
		case "rand2":
			same("rand(2)[0]", r.Float64(), num(w[1]))
			same("rand(2)[1]", r.Float64(), num(w[2]))
		case "y0":
			// A whole trajectory's draws; the noise line follows.
			d := sys.draw(r, 45)
			same("y0[0]", d.y0[0], num(w[1]))
			same("y0[1]", d.y0[1], num(w[2]))
			if !sc.Scan() {
				t.Fatal("rng_numpy.txt: y0 line without noise line")
			}
			line++
			n := strings.Fields(sc.Text())
			near("noise q[0]", d.noiseQ[0], num(n[1]))
			near("noise q[44]", d.noiseQ[44], num(n[2]))
			near("noise p[0]", d.noiseP[0], num(n[3]))
			near("noise p[44]", d.noiseP[44], num(n[4]))
		default:
			t.Fatalf("rng_numpy.txt:%d: unknown line %q", line, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d values checked; %d of %d Gaussians one ulp off NumPy's", checked, gaussOff, gauss)
	if gaussOff*100 > gauss {
		t.Errorf("%d of %d Gaussians one ulp off: more than 1%%", gaussOff, gauss)
	}
	if checked < 6000 {
		t.Fatalf("checked only %d values", checked)
	}
}

func TestMT19937KnownValues(t *testing.T) {
	// Matsumoto and Nishimura's init_genrand(5489) reference: the first
	// output is 3499211612 and the 10000th is 4123659995.
	r := NewMT19937(5489)
	if got := r.Uint32(); got != 3499211612 {
		t.Fatalf("first output %d, want 3499211612", got)
	}
	for i := 2; i < 10000; i++ {
		r.Uint32()
	}
	if got := r.Uint32(); got != 4123659995 {
		t.Fatalf("10000th output %d, want 4123659995", got)
	}
}
