package physics

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

// FuzzParseRealPendulum: whatever the file holds, the reader returns an
// error or a dataset that trains: a positive time step, segments of two
// or more points each, finite values within the plausible ranges, and
// no more points than rows.
func FuzzParseRealPendulum(f *testing.F) {
	var b strings.Builder
	b.WriteString("%o v\r\n")
	for i := range 14 {
		fmt.Fprintf(&b, "%d %g %g %g\r\n", i/7, float64(i)/6, math.Sin(float64(i)/6), math.Cos(float64(i)/6))
	}
	f.Add(b.String())
	f.Add("%o v\n0 0 1 1\n0 0.5 1 1\n0 0.5 1 1\n")
	f.Add("%o v\n" + strings.Repeat("0 1e20 1 1\n", 12))
	if raw, err := os.ReadFile(realPath); err == nil {
		f.Add(string(raw[:min(len(raw), 4000)]))
	}
	f.Fuzz(func(t *testing.T, src string) {
		d, err := ParseRealPendulum(strings.NewReader(src), "fuzz.txt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.txt") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		if !(d.DT > 0) || len(d.Train) == 0 || len(d.Test) == 0 {
			t.Fatalf("accepted: dt %v, %d train and %d test segments", d.DT, len(d.Train), len(d.Test))
		}
		points := 0
		for _, part := range [][]Trajectory{d.Train, d.Test} {
			for _, tr := range part {
				points += tr.Len()
				if tr.Len() < 2 || len(tr.X) != tr.Len() || len(tr.DXDT) != tr.Len() || len(tr.True) != tr.Len() {
					t.Fatalf("segment of %d times, %d states, %d targets", tr.Len(), len(tr.X), len(tr.DXDT))
				}
				for i := range tr.X {
					for k := range 2 {
						if math.Abs(tr.X[i][k]) > realColumns[2+k].limit || !finite(tr.DXDT[i][k]) {
							t.Fatalf("state %v, target %v at t = %v", tr.X[i], tr.DXDT[i], tr.T[i])
						}
					}
				}
			}
		}
		if rows := strings.Count(src, "\n") + 1; points > rows {
			t.Fatalf("%d points from %d lines", points, rows)
		}
	})
}
