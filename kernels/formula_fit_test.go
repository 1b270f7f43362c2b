package kernels

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/gpu/gputest"
)

// postfix assembles a program from space-separated tokens: q, p, t0..t3
// (parameters), c0..c3 (constants), + - * / neg sq sin cos.
func postfix(t testing.TB, src string) []uint32 {
	t.Helper()
	ops := map[string]FormulaOp{"q": OpQ, "p": OpP, "+": OpAdd, "-": OpSub, "*": OpMul, "/": OpDiv,
		"neg": OpNeg, "sq": OpSquare, "sin": OpSin, "cos": OpCos}
	code := make([]uint32, FormulaCodeLen)
	for i, tok := range strings.Fields(src) {
		switch {
		case ops[tok] != OpEnd:
			code[i] = FormulaInstr(ops[tok], 0)
		case len(tok) == 2 && tok[0] == 't':
			code[i] = FormulaInstr(OpParam, int(tok[1]-'0'))
		case len(tok) == 2 && tok[0] == 'c':
			code[i] = FormulaInstr(OpConst, int(tok[1]-'0'))
		default:
			t.Fatalf("postfix %q: unknown token %q", src, tok)
		}
	}
	return code
}

// testSystem returns n trajectories of 45 points 1/15 apart of an ideal
// system (dq/dt = 2p, dp/dt = -k sin q for the pendulum, -2q for the
// spring), integrated with small RK4 steps from seeded starts, laid out as
// a request's points with true sequences and random ones (the same points
// shuffled across sequences).
func testSystem(pendulum bool, n int, seed uint64) (pts []float32, tru, rnd []uint32) {
	rng := rand.New(rand.NewPCG(seed, 1))
	field := func(x [2]float64) [2]float64 {
		if pendulum {
			return [2]float64{2 * x[1], -3 * math.Sin(x[0])}
		}
		return [2]float64{2 * x[1], -2 * x[0]}
	}
	var all [][2]float64
	tru = []uint32{0}
	for range n {
		a := 2 * math.Pi * rng.Float64()
		r := 1.3 + rng.Float64()
		if !pendulum {
			r = 0.1 + 0.9*rng.Float64()
		}
		x := [2]float64{r * math.Cos(a), r * math.Sin(a)}
		for i := range 45 {
			if i > 0 {
				const sub, h = 40, 1.0 / 15 / 40
				for range sub {
					k1 := field(x)
					k2 := field([2]float64{x[0] + h/2*k1[0], x[1] + h/2*k1[1]})
					k3 := field([2]float64{x[0] + h/2*k2[0], x[1] + h/2*k2[1]})
					k4 := field([2]float64{x[0] + h*k3[0], x[1] + h*k3[1]})
					for d := range 2 {
						x[d] += h / 6 * (k1[d] + 2*k2[d] + 2*k3[d] + k4[d])
					}
				}
			}
			all = append(all, x)
		}
		tru = append(tru, uint32(len(all)))
	}
	perm := rng.Perm(len(all))
	for _, x := range all {
		pts = append(pts, float32(x[0]), float32(x[1]))
	}
	for _, j := range perm {
		pts = append(pts, float32(all[j][0]), float32(all[j][1]))
	}
	for _, o := range tru {
		rnd = append(rnd, o+uint32(len(all)))
	}
	return pts, tru, rnd
}

// fitCase is one candidate of the conformance table.
type fitCase struct {
	name     string
	pendulum bool
	code     string
	consts   []float32
	init     []float32
	// want holds the parameters of a conserved quantity, which both
	// backends must find to 1e-4 with a score below 1e-8; otherwise the
	// backends must agree on the score (and, unless free, on the
	// parameters) to 1e-3, or both reject the candidate.
	want      []float64
	conserved bool // the score is below 1e-8 (implied by want)
	free      bool // the parameters are not compared (R does not fix them)
	rejected  bool // the score is +Inf
}

var fitCases = []fitCase{
	{name: "pendulum energy", pendulum: true, code: "p sq t0 q cos * -", init: []float32{1}, want: []float64{3}},
	{name: "pendulum energy from -1", pendulum: true, code: "p sq t0 q cos * -", init: []float32{-1}, want: []float64{3}},
	{name: "pendulum energy, constant", pendulum: true, code: "p sq c0 q cos * -", consts: []float32{3}, want: []float64{}},
	{name: "pendulum, p scaled", pendulum: true, code: "p t0 / sq q cos -", init: []float32{1}, want: []float64{math.Sqrt(3)}},
	{name: "pendulum phase and offset", pendulum: true, code: "p t0 - sq t1 q t2 + cos * -", init: []float32{0.3, 1, 0.2}, want: []float64{0, 3, 0}},
	{name: "pendulum frequency", pendulum: true, code: "p sq t0 q t1 * cos * -", init: []float32{1, 0.3}, want: []float64{3, 1}},
	{name: "pendulum four parameters", pendulum: true, code: "p t0 - sq t1 q t2 + cos * - t3 q * +", init: []float32{0.2, 1, 0.1, 0.1}, want: []float64{0, 3, 0, 0}},
	{name: "pendulum, both terms scaled", pendulum: true, code: "t0 p sq * t1 q cos * -", init: []float32{3, 1}, conserved: true, free: true},
	{name: "pendulum p*q", pendulum: true, code: "p q *"},
	{name: "pendulum, wrong shape", pendulum: true, code: "p sq t0 q sq * -", init: []float32{1}},
	{name: "spring energy", code: "q sq t0 p sq * +", init: []float32{0.3}, want: []float64{1}},
	{name: "spring energy from 3", code: "q sq t0 p sq * +", init: []float32{3}, want: []float64{1}},
	{name: "spring, sines", code: "q sin sq t0 p * sin sq +", init: []float32{3}},
	{name: "spring p*q", code: "p q *"},
	{name: "spring, free offset", code: "q p / t0 +", init: []float32{1}, free: true},
	{name: "division by zero", code: "q q q - /", rejected: true},
	{name: "constant", code: "c0", consts: []float32{2.5}, rejected: true},
	{name: "parameter alone", code: "t0", init: []float32{2}, rejected: true},
}

// fitRequest builds one request holding the cases of one system.
func fitRequest(t testing.TB, pendulum bool, cases []fitCase) FormulaFitRequest {
	pts, tru, rnd := testSystem(pendulum, 25, 7)
	req := FormulaFitRequest{Points: pts, True: tru, Random: rnd, Steps: 40, LR: 0.2, Polish: 8, Chunk: 2}
	for _, c := range cases {
		req.Code = append(req.Code, postfix(t, c.code)...)
		var cs [FormulaMaxConsts]float32
		var in [FormulaMaxParams]float32
		copy(cs[:], c.consts)
		copy(in[:], c.init)
		req.Consts = append(req.Consts, cs[:]...)
		req.Init = append(req.Init, in[:]...)
		req.NParams = append(req.NParams, uint8(len(c.init)))
	}
	return req
}

// TestFitFormulas fits the table on the CPU reference and on the GPU (with
// the validation layer on, see gputest) and compares both with the known
// answers and with each other.
func TestFitFormulas(t *testing.T) {
	v := NewVulkan(gputest.Open(t))
	for _, pendulum := range []bool{true, false} {
		var cases []fitCase
		for _, c := range fitCases {
			if c.pendulum == pendulum {
				cases = append(cases, c)
			}
		}
		req := fitRequest(t, pendulum, cases)
		calls := 0
		req.Progress = func(done, total int) {
			calls++
			if done > total || total != len(cases) {
				t.Errorf("progress %d of %d, want a total of %d", done, total, len(cases))
			}
		}
		cpu, err := CPU{}.FitFormulas(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		gpu, err := v.FitFormulas(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if calls < 2*len(cases)/req.Chunk {
			t.Errorf("%d progress calls for %d candidates in chunks of %d on two backends", calls, len(cases), req.Chunk)
		}
		for i, c := range cases {
			cs, gs := float64(cpu.Score[i]), float64(gpu.Score[i])
			cp := cpu.Params[i*FormulaMaxParams : i*FormulaMaxParams+len(c.init)]
			gp := gpu.Params[i*FormulaMaxParams : i*FormulaMaxParams+len(c.init)]
			t.Logf("%s: cpu R %.3g %v, gpu R %.3g %v", c.name, cs, cp, gs, gp)
			near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol*max(1, math.Abs(b)) }
			switch {
			case c.rejected:
				if !math.IsInf(cs, 1) || !math.IsInf(gs, 1) {
					t.Errorf("%s: scores cpu %v gpu %v, want +Inf", c.name, cs, gs)
				}
			case c.want != nil || c.conserved:
				if cs > 1e-8 || gs > 1e-8 {
					t.Errorf("%s: scores cpu %.3g gpu %.3g, want below 1e-8", c.name, cs, gs)
				}
				for j, w := range c.want {
					if !near(float64(cp[j]), w, 1e-4) || !near(float64(gp[j]), w, 1e-4) {
						t.Errorf("%s: parameter %d: cpu %v gpu %v, want %v", c.name, j, cp[j], gp[j], w)
					}
				}
			default:
				if !near(gs, cs, 1e-3) {
					t.Errorf("%s: scores cpu %.6g gpu %.6g differ", c.name, cs, gs)
				}
				for j := range cp {
					if !c.free && !near(float64(gp[j]), float64(cp[j]), 1e-3) {
						t.Errorf("%s: parameter %d: cpu %v gpu %v differ", c.name, j, cp[j], gp[j])
					}
				}
			}
		}
	}
}

// TestFormulaGradient checks the gradient of log R against central
// differences, in float64 on the CPU.
func TestFormulaGradient(t *testing.T) {
	for _, c := range []struct {
		code  string
		theta []float64
	}{
		{"p sq t0 q cos * -", []float64{1.7}},
		{"p t0 - sq t1 q t2 + cos * - t3 q * +", []float64{0.2, 1.4, 0.3, -0.2}},
		{"q t0 * sin t1 p * / t1 sq +", []float64{0.8, 1.3}},
	} {
		req := fitRequest(t, true, []fitCase{{code: c.code, init: make([]float32, len(c.theta))}})
		_, grad := formulaObjective(&req, 0, c.theta)
		for j := range c.theta {
			const h = 1e-6
			at := func(d float64) float64 {
				th := append([]float64(nil), c.theta...)
				th[j] += d
				r, _ := formulaObjective(&req, 0, th)
				return math.Log(r)
			}
			fd := (at(h) - at(-h)) / (2 * h)
			if math.Abs(fd-grad[j]) > 1e-6*max(1, math.Abs(fd)) {
				t.Errorf("%s at %v: d log R / d t%d = %.9g, central difference %.9g", c.code, c.theta, j, grad[j], fd)
			}
		}
	}
}

// TestCheckFormula lists programs the shader must never see.
func TestCheckFormula(t *testing.T) {
	for _, c := range []struct {
		code    string
		nParams int
		want    string // part of the error, "" for valid
	}{
		{"p sq t0 q cos * -", 1, ""},
		{"q q q q q q q q q q q q q q q q", 0, "leaves 16 values"},
		{"q q q q q q q q + + + + + + + +", 0, "needs 2 operands"},
		{"q t1 +", 1, "param with operand 1"},
		{"t0", 0, "param with operand 0"},
		{"q +", 0, "needs 2 operands"},
		{"q p", 0, "leaves 2 values"},
		{"", 0, "leaves 0 values"},
	} {
		err := CheckFormula(postfix(t, c.code), c.nParams)
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckFormula(%q, %d) = %v, want %q", c.code, c.nParams, err, c.want)
		}
	}
	bad := postfix(t, "q")
	bad[0] = 99
	if err := CheckFormula(bad, 0); err == nil || !strings.Contains(err.Error(), "unknown opcode 99") {
		t.Errorf("CheckFormula with opcode 99 = %v", err)
	}
	bad[0] = FormulaInstr(OpQ, 1)
	if err := CheckFormula(bad, 0); err == nil || !strings.Contains(err.Error(), "takes none") {
		t.Errorf("CheckFormula with q 1 = %v", err)
	}
}

// TestFitFormulasErrors lists requests both backends must refuse.
func TestFitFormulasErrors(t *testing.T) {
	v := NewVulkan(gputest.Open(t))
	good := func() FormulaFitRequest {
		return fitRequest(t, false, []fitCase{{code: "q sq t0 p sq * +", init: []float32{1}}})
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	type errCase struct {
		name string
		ctx  context.Context
		edit func(r *FormulaFitRequest)
		want string
	}
	cases := []errCase{
		{"no candidates", nil, func(r *FormulaFitRequest) { r.NParams = nil }, "no candidates"},
		{"short code", nil, func(r *FormulaFitRequest) { r.Code = r.Code[:8] }, "8 code words"},
		{"bad program", nil, func(r *FormulaFitRequest) { r.Code[1] = FormulaInstr(OpParam, 1) }, "candidate 0: word 1: param with operand 1"},
		{"negative steps", nil, func(r *FormulaFitRequest) { r.Steps = -1 }, "-1 steps"},
		{"empty sequence", nil, func(r *FormulaFitRequest) { r.True[1] = r.True[0] }, "true sequence 0"},
		{"offsets past the points", nil, func(r *FormulaFitRequest) { r.Random[len(r.Random)-1]++ }, "random sequence 24"},
		{"canceled", canceled, func(r *FormulaFitRequest) {}, "context canceled"},
	}
	if v.Device.Info.Type == gpu.TypeCPU {
		// One step over a sequence of 10,000 points runs past the loop
		// iterations lavapipe allows a dispatch.
		cases = append(cases, errCase{"loop limit", nil, func(r *FormulaFitRequest) {
			r.Points = make([]float32, 2*20000)
			r.True, r.Random = []uint32{0, 10000}, []uint32{10000, 20000}
		}, "use fewer or shorter sequences"})
	}
	for _, c := range cases {
		req := good()
		c.edit(&req)
		ctx := c.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		for _, b := range []FormulaFitBackend{CPU{}, v} {
			if c.name == "loop limit" && b == (CPU{}) {
				continue
			}
			_, err := b.FitFormulas(ctx, req)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s on %T: %v, want an error with %q", c.name, b, err, c.want)
			}
		}
	}
}
