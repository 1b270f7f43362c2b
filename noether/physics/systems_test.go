package physics

import (
	"fmt"
	"math"
	"testing"
)

func TestSolveRK45Spring(t *testing.T) {
	// dq/dt = 2p, dp/dt = -2q: q = q0 cos 2t + p0 sin 2t, p = p0 cos 2t - q0 sin 2t.
	s := Spring()
	x0 := [2]float64{0.3, -0.7}
	times := Linspace(0, 3, 30)
	got, err := SolveRK45(s.Dynamics, x0, times, 1e-10, 1e-12)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range times {
		c, sn := math.Cos(2*tt), math.Sin(2*tt)
		want := [2]float64{x0[0]*c + x0[1]*sn, x0[1]*c - x0[0]*sn}
		for k := 0; k < 2; k++ {
			if d := math.Abs(got[i][k] - want[k]); d > 1e-9 {
				t.Fatalf("t=%g coord %d: got %.12g, want %.12g", tt, k, got[i][k], want[k])
			}
		}
	}
}

func TestLinspace(t *testing.T) {
	ts := Linspace(0, 3, 45)
	if len(ts) != 45 || ts[0] != 0 || ts[44] != 3 || ts[1] != 3.0/44 {
		t.Fatalf("Linspace(0, 3, 45) = %v", ts)
	}
}

func TestGenerate(t *testing.T) {
	cases := []struct {
		sys      System
		points   int
		lo, hi   float64
		y0First  [2]float64 // NumPy's, testdata/rng_numpy.txt (pendulum only)
		checkY0  bool
		energyTo float64
	}{
		{Pendulum(), 45, 1.3, 2.3, [2]float64{0.4209285189905053, 1.8556205558303185}, true, 1e-8},
		{Spring(), 30, 0.1, 1.0, [2]float64{}, false, 1e-9},
	}
	for _, c := range cases {
		t.Run(c.sys.Name, func(t *testing.T) {
			d, err := c.sys.Generate(GenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Train) != 25 || len(d.Test) != 25 {
				t.Fatalf("split %d/%d, want 25/25", len(d.Train), len(d.Test))
			}
			if want := 3.0 / float64(c.points-1); math.Abs(d.DT-want) > 1e-15 {
				t.Fatalf("DT %g, want %g", d.DT, want)
			}
			if c.checkY0 && d.Train[0].True[0] != c.y0First {
				t.Fatalf("first initial state %v, NumPy's %v", d.Train[0].True[0], c.y0First)
			}
			var sum, sumSq float64
			n := 0
			for _, tr := range append(append([]Trajectory{}, d.Train...), d.Test...) {
				if tr.Len() != c.points || len(tr.X) != c.points || len(tr.True) != c.points || len(tr.DXDT) != c.points {
					t.Fatalf("trajectory lengths %d %d %d %d, want %d", tr.Len(), len(tr.X), len(tr.True), len(tr.DXDT), c.points)
				}
				r := math.Hypot(tr.True[0][0], tr.True[0][1])
				if r < c.lo-1e-12 || r >= c.hi {
					t.Fatalf("radius %g outside [%g, %g)", r, c.lo, c.hi)
				}
				h0 := c.sys.Hamiltonian(tr.True[0][0], tr.True[0][1])
				for i := range tr.T {
					if h := c.sys.Hamiltonian(tr.True[i][0], tr.True[i][1]); math.Abs(h-h0) > c.energyTo {
						t.Fatalf("energy drift %g at point %d", h-h0, i)
					}
					if tr.DXDT[i] != c.sys.Dynamics(tr.True[i]) {
						t.Fatalf("derivative target at point %d is not the true dynamics", i)
					}
					for k := 0; k < 2; k++ {
						e := tr.X[i][k] - tr.True[i][k]
						sum += e
						sumSq += e * e
						n++
					}
				}
			}
			mean := sum / float64(n)
			std := math.Sqrt(sumSq/float64(n) - mean*mean)
			if math.Abs(mean) > 0.01 || math.Abs(std-0.1) > 0.01 {
				t.Fatalf("noise mean %g std %g, want about 0 and 0.1", mean, std)
			}
			again, _ := c.sys.Generate(GenOptions{})
			if fmt.Sprint(again.Test[24].X) != fmt.Sprint(d.Test[24].X) {
				t.Fatal("Generate is not deterministic")
			}
			if x, dx := d.TrainX(), d.TrainDXDT(); len(x) != 25*c.points || len(dx) != len(x) || x[c.points] != d.Train[1].X[0] {
				t.Fatalf("TrainX has %d points", len(x))
			}
			if f := Float32(d.TestX()); len(f) != 2*25*c.points || f[1] != float32(d.Test[0].X[0][1]) {
				t.Fatalf("Float32 layout wrong")
			}
		})
	}
}

func ExampleSystem_Generate() {
	d, err := Pendulum().Generate(GenOptions{Seed: 0})
	if err != nil {
		panic(err)
	}
	x0 := d.Train[0].True[0]
	fmt.Printf("%d train, %d test, %d points, dt %.4f\n", len(d.Train), len(d.Test), d.Train[0].Len(), d.DT)
	fmt.Printf("first initial state (%.6f, %.6f)\n", x0[0], x0[1])
	fmt.Printf("%d training pairs\n", len(d.TrainX()))
	// Output:
	// 25 train, 25 test, 45 points, dt 0.0682
	// first initial state (0.420929, 1.855621)
	// 1125 training pairs
}
