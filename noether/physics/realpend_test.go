package physics

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

// realPath is the shared data file, beside the checkout (three levels
// above this package).
const realPath = "../../../shared/data/" + RealPendulumFile

// loadReal loads the shared data file, skipping (loudly) where the
// checkout has no shared folder beside it.
func loadReal(t *testing.T) *Dataset {
	t.Helper()
	if _, err := os.Stat(realPath); err != nil {
		t.Skipf("the real pendulum data is not at %s (the project's shared/data folder): %v", realPath, err)
	}
	d, err := LoadRealPendulum(realPath)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadRealPendulum(t *testing.T) {
	d := loadReal(t)
	if math.Abs(d.DT-1.0/6) > 1e-9 {
		t.Fatalf("dt %g, want 1/6", d.DT)
	}
	count := func(ts []Trajectory) int {
		n := 0
		for _, tr := range ts {
			n += tr.Len()
		}
		return n
	}
	// 556 rows: 444 train, 112 test; no one-point segments in this file.
	if n, m := count(d.Train), count(d.Test); n != 444 || m != 112 {
		t.Fatalf("%d train and %d test points, want 444 and 112", n, m)
	}
	for _, ts := range [][]Trajectory{d.Train, d.Test} {
		for _, tr := range ts {
			for i := 1; i < tr.Len(); i++ {
				if h := tr.T[i] - tr.T[i-1]; math.Abs(h-d.DT) > 1e-6 {
					t.Fatalf("segment starting at t=%g has a step of %g", tr.T[0], h)
				}
				want := [2]float64{(tr.X[i][0] - tr.X[i-1][0]) / (tr.T[i] - tr.T[i-1]), (tr.X[i][1] - tr.X[i-1][1]) / (tr.T[i] - tr.T[i-1])}
				if tr.DXDT[i-1] != want {
					t.Fatalf("forward difference at t=%g: %v, want %v", tr.T[i-1], tr.DXDT[i-1], want)
				}
			}
			if last := tr.Len() - 1; tr.DXDT[last] != tr.DXDT[last-1] {
				t.Fatal("last point of a segment should take the backward difference")
			}
		}
	}
	first := d.Train[0]
	if first.T[0] != 5 || first.X[0] != [2]float64{1.1383885512243586, 0.9197795905867725} {
		t.Fatalf("first row %g %v", first.T[0], first.X[0])
	}
	// The first gap is after t = 5.6667 (next sample at 6.0).
	if first.Len() != 5 || d.Train[1].T[0] != 6 {
		t.Fatalf("first segment has %d points, next starts at %g", first.Len(), d.Train[1].T[0])
	}
}

func TestParseRealPendulumErrors(t *testing.T) {
	good := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "0 %g %g %g\r\n", float64(i)/6, math.Sin(float64(i)/6), math.Cos(float64(i)/6))
		}
		return b.String()
	}
	cases := []struct {
		name, src, want string
	}{
		{"ok LF", "%o v\n" + strings.ReplaceAll(good(12), "\r", ""), ""},
		{"ok CRLF", "%o v\r\n" + good(12), ""},
		{"empty", "", "empty"},
		{"bad header", "o v\n" + good(12), "in.txt:1: bad header"},
		{"columns", "%o v\r\n0 1 2\r\n" + good(12), "in.txt:2: 3 columns, want 4"},
		{"non-numeric", "%o v\r\n" + good(3) + "0 0.5 abc 1\r\n" + good(9), "in.txt:5: column 3 (o) is \"abc\", not a number"},
		{"nan", "%o v\r\n" + good(3) + "0 0.5 NaN 1\r\n" + good(9), "in.txt:5: column 3 (o) is NaN"},
		{"inf", "%o v\r\n0 0 1 +Inf\r\n" + good(12), "in.txt:2: column 4 (v) is +Inf"},
		{"implausible", "%o v\r\n" + good(3) + "0 0.5 1e20 1\r\n" + good(9), "in.txt:5: value 1e+20 in column 3 (o, the angle in radians) is outside any plausible range"},
		{"too few", "%o v\r\n" + good(5), "5 data rows, want at least 10"},
		{"time back", "%o v\r\n" + good(12) + "0 0 1 1\r\n", "in.txt:14: t = 0 after"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ParseRealPendulum(strings.NewReader(c.src), "in.txt")
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(d.Train) != 1 || len(d.Test) != 1 || d.Train[0].Len() != 9 || d.Test[0].Len() != 3 {
					t.Fatalf("split %d/%d segments", len(d.Train), len(d.Test))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
	_, err := LoadRealPendulum("testdata/no-such-file.txt")
	if err == nil || !strings.Contains(err.Error(), "not found") || !strings.Contains(err.Error(), RealPendulumFile) {
		t.Fatalf("missing file: %v", err)
	}
}
