package formulas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
)

// randomFormula grows a random formula over q, p, parameters a and b and
// the numbers 1 and 2, at most depth levels deep: a stand-in for the
// paper's enumeration up to depth 7, with its mix of arithmetic, squares
// and trigonometry and up to two parameters.
func randomFormula(rng *rand.Rand, depth int) *Expr {
	r := rng.Float64()
	switch {
	case depth <= 1 || r < 0.3:
		leaves := []*Expr{{Kind: VarQ}, {Kind: VarP}, {Kind: VarQ}, {Kind: VarP}, {Kind: Param, Name: "a"}, {Kind: Param, Name: "b"}, {Kind: Num, Value: 1}, {Kind: Num, Value: 2}}
		return leaves[rng.IntN(len(leaves))]
	case r < 0.5:
		return &Expr{Kind: []Kind{Neg, Square, Sin, Cos}[rng.IntN(4)], X: randomFormula(rng, depth-1)}
	}
	return &Expr{Kind: []Kind{Add, Sub, Mul, Div}[rng.IntN(4)], X: randomFormula(rng, depth-1), Y: randomFormula(rng, depth-1)}
}

// randomFormulas returns n formulas of 7 to 16 instructions that compile
// and depend on q or p, the pendulum's energy with a parameter first.
func randomFormulas(n int, seed uint64) []*Expr {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := []*Expr{MustParse("p^2 - c*cos(q)")}
	for len(out) < n {
		e := randomFormula(rng, 7)
		code, _, _, err := Compile(e)
		if err != nil || constant(e) || code[6] == 0 {
			continue
		}
		out = append(out, e)
	}
	return out
}

// BenchmarkFitFormulas fits 4096 random formulas (3 starts each where they
// have parameters) with the default options on noise-free pendulum
// trajectories (pendulumTrajectories) thinned to every third (the data
// DefaultFitDataOptions gives), and reports candidates per second, the
// projected time for 40,000 formulas, and the relative error of c fitted
// in p^2 - c*cos(q) (the first formula).
func BenchmarkFitFormulas(b *testing.B) {
	benchFit(b, []fitSetting{{DefaultFitDataOptions(), DefaultFitOptions()}})
}

// BenchmarkFitFormulasSweep is BenchmarkFitFormulas over other numbers of
// steps and points. It takes minutes
// on a CPU device, so it runs only with NOETHER_FIT_SWEEP=1.
func BenchmarkFitFormulasSweep(b *testing.B) {
	if os.Getenv("NOETHER_FIT_SWEEP") == "" {
		b.Skip("set NOETHER_FIT_SWEEP=1 to run the sweep")
	}
	var settings []fitSetting
	for _, c := range []struct{ stride, steps, polish int }{
		{1, 20, 6}, {5, 20, 6}, {3, 10, 6}, {3, 30, 6}, {3, 45, 6}, {3, 20, 3}, {3, 20, 10},
	} {
		data := DefaultFitDataOptions()
		data.Stride = c.stride
		opt := DefaultFitOptions()
		opt.Steps, opt.Polish = c.steps, c.polish
		settings = append(settings, fitSetting{data, opt})
	}
	benchFit(b, settings)
}

type fitSetting struct {
	data FitDataOptions
	opt  FitOptions
}

func benchFit(b *testing.B, settings []fitSetting) {
	v := kernels.NewVulkan(gputest.Open(b))
	trajs := pendulumTrajectories()
	exprs := randomFormulas(4096, 1)
	for _, c := range settings {
		fd, err := NewFitData("pendulum", trajs, c.data)
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("stride=%d/points=%d/steps=%d+%d", max(c.data.Stride, 1), len(fd.Points)/4, c.opt.Steps, c.opt.Polish)
		b.Run(name, func(b *testing.B) {
			candidates := 0
			opt := c.opt
			opt.Progress = func(done, total int) { candidates = total }
			var res []FitResult
			for b.Loop() {
				if res, err = FitBatch(v, exprs, fd, opt); err != nil {
					b.Fatal(err)
				}
			}
			rate := float64(candidates) * float64(b.N) / b.Elapsed().Seconds()
			accepted := 0
			for _, r := range res {
				if r.Score <= 0.01 {
					accepted++
				}
			}
			b.ReportMetric(rate, "candidates/s")
			b.ReportMetric(40000*float64(candidates)/float64(len(exprs))/rate, "s/40k-formulas")
			b.ReportMetric(math.Abs(res[0].Params["c"]/3-1), "c-relerr")
			b.ReportMetric(float64(accepted), "accepted")
		})
	}
}
