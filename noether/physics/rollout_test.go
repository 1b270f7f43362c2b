package physics

import (
	"fmt"
	"math"
	"testing"
)

func TestRK4Order(t *testing.T) {
	// With the true dynamics the rollout error is RK4's own, falling as
	// (dt/substeps)^4.
	sys := Spring()
	d, err := sys.Generate(GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := Batch(sys.Dynamics)
	var prev float64
	for _, c := range []struct {
		substeps int
		max      float64
	}{{1, 1e-3}, {2, 1e-4}, {4, 1e-5}, {8, 1e-6}} {
		e, err := d.RolloutRMSE(f, c.substeps)
		if err != nil {
			t.Fatal(err)
		}
		if e > c.max {
			t.Fatalf("substeps %d: RMSE %g > %g", c.substeps, e, c.max)
		}
		if prev != 0 && (prev/e < 12 || prev/e > 20) {
			t.Fatalf("substeps %d: error ratio %g, want about 16", c.substeps, prev/e)
		}
		prev = e
	}
}

func TestRK4Batch(t *testing.T) {
	calls, maxBatch := 0, 0
	f := func(x [][2]float64) [][2]float64 {
		calls++
		maxBatch = max(maxBatch, len(x))
		out := make([][2]float64, len(x))
		for i := range x {
			out[i] = [2]float64{-x[i][0], 0} // dq/dt = -q
		}
		return out
	}
	out := RK4(f, [][2]float64{{1, 5}, {2, 6}, {3, 7}}, 0.1, 10, 3)
	if calls != 4*10*3 || maxBatch != 3 {
		t.Fatalf("%d calls on batches of %d, want 120 of 3", calls, maxBatch)
	}
	for b, tr := range out {
		if len(tr) != 11 {
			t.Fatalf("trajectory %d has %d points", b, len(tr))
		}
		want := float64(b+1) * math.Exp(-1)
		if math.Abs(tr[10][0]-want) > 1e-7 || tr[10][1] != float64(b+5) {
			t.Fatalf("trajectory %d ends at %v, want (%g, %d)", b, tr[10], want, b+5)
		}
	}
}

func TestRolloutLengthsAndRMSE(t *testing.T) {
	trajs := []Trajectory{
		{T: []float64{0, 1, 2}, True: [][2]float64{{1, 0}, {1, 0}, {1, 0}}},
		{T: []float64{0, 1}, True: [][2]float64{{0, 2}, {0, 2}}},
	}
	zero := func(x [][2]float64) [][2]float64 { return make([][2]float64, len(x)) }
	pred := Rollout(zero, trajs, 1, 1)
	if len(pred[0]) != 3 || len(pred[1]) != 2 {
		t.Fatalf("lengths %d %d", len(pred[0]), len(pred[1]))
	}
	if e, err := RMSE(pred, trajs); err != nil || e != 0 {
		t.Fatalf("RMSE of an exact rollout %g, %v", e, err)
	}
	pred[0][2] = [2]float64{1 + 3, 0 - 4} // error 3, -4 on one of 10 values
	if e, _ := RMSE(pred, trajs); math.Abs(e-math.Sqrt(25.0/10)) > 1e-15 {
		t.Fatalf("RMSE %g, want sqrt(2.5)", e)
	}
	if _, err := RMSE(pred[:1], trajs); err == nil {
		t.Fatal("RMSE accepted mismatched trajectory counts")
	}
	pred[1] = pred[1][:1]
	if _, err := RMSE(pred, trajs); err == nil {
		t.Fatal("RMSE accepted mismatched lengths")
	}
}

func TestRolloutRealPendulum(t *testing.T) {
	d := loadReal(t)
	// dq/dt = p, dp/dt = -k sin q with k fit by least squares to the
	// training targets (the energy p²/2 - k cos q; k comes out near 1.29)
	// must beat standing still by far over the 18.5 s test segment.
	var sxy, sxx float64
	dx := d.TrainDXDT()
	for i, x := range d.TrainX() {
		sxy += math.Sin(x[0]) * dx[i][1]
		sxx += math.Sin(x[0]) * math.Sin(x[0])
	}
	k := -sxy / sxx
	model := Batch(func(x [2]float64) [2]float64 { return [2]float64{x[1], -k * math.Sin(x[0])} })
	still := func(x [][2]float64) [][2]float64 { return make([][2]float64, len(x)) }
	em, err := d.RolloutRMSE(model, 4)
	if err != nil {
		t.Fatal(err)
	}
	es, _ := d.RolloutRMSE(still, 1)
	if !(em < es/2) {
		t.Fatalf("fitted model (k=%g) RMSE %g not below half of standing still's %g", k, em, es)
	}
}

func ExampleRollout() {
	sys := Pendulum()
	d, err := sys.Generate(GenOptions{})
	if err != nil {
		panic(err)
	}
	// A model that knows the true dynamics scores RK4's own error.
	pred := Rollout(Batch(sys.Dynamics), d.Test, d.DT, 1)
	e, err := RMSE(pred, d.Test)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d trajectories of %d points, RMSE below 1e-3: %v\n", len(pred), len(pred[0]), e < 1e-3)
	// Output: 25 trajectories of 45 points, RMSE below 1e-3: true
}
