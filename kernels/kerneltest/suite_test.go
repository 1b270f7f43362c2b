package kerneltest

import (
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// broken wraps the CPU backend and corrupts one thing, to prove each check
// can fail.
type broken struct {
	kernels.CPU
	order  int     // derivative order to corrupt (-1: none)
	mutate bool    // scribble on the input
	bias   float32 // added to the corrupted order's output
}

func (b broken) Unary(op kernels.UnaryOp, order int, alpha float32, x, s []float32) ([]float32, error) {
	y, err := b.CPU.Unary(op, order, alpha, x, s)
	if order == b.order {
		for i := range y {
			y[i] += b.bias
		}
	}
	if b.mutate && len(x) > 0 {
		x[0]++
	}
	return y, err
}

func TestSuiteCatchesBrokenKernels(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     broken
		check string
	}{
		{"wrong forward", broken{order: 0, bias: 1e-2}, "forward"},
		{"mutated input", broken{order: -1, mutate: true}, "forward"},
		{"wrong first derivative", broken{order: 1, bias: 0.05}, "vjp"},
		{"wrong second derivative", broken{order: 2, bias: 0.05}, "hvp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(tc.b, Options{Seed: 1, Ops: []string{"tanh"}})
			caught := false
			for _, r := range res {
				if r.Check == tc.check && !r.Pass {
					caught = true
				}
			}
			if !caught {
				t.Errorf("no failed %s check: %+v", tc.check, res)
			}
		})
	}
	res := Run(kernels.CPU{}, Options{Seed: 1, Ops: []string{"tanh"}})
	checks := map[string]int{}
	for _, r := range res {
		checks[r.Check]++
		if !r.Pass {
			t.Errorf("reference failed: %+v", r)
		}
	}
	for _, c := range []string{"forward", "vjp", "jvp", "hvp", "hvp-symmetry"} {
		if checks[c] == 0 {
			t.Errorf("no %s check ran for tanh: %v", c, checks)
		}
	}
}
