package formulas

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
)

var exprCases = []struct {
	src, str string
	f        func(q, p, c float64) float64
}{
	{"p^2 - 3*cos(q)", "p^2 - 3*cos(q)", func(q, p, c float64) float64 { return p*p - 3*math.Cos(q) }},
	{"q^2 + c*p^2", "q^2 + c*p^2", func(q, p, c float64) float64 { return q*q + c*p*p }},
	{"3*(1 - cos(q)) + p^2", "3*(1 - cos(q)) + p^2", func(q, p, c float64) float64 { return 3*(1-math.Cos(q)) + p*p }},
	{"-q^2", "-q^2", func(q, p, c float64) float64 { return -(q * q) }},
	{"(-q)^2", "(-q)^2", func(q, p, c float64) float64 { return q * q }},
	{"q - (p - 1)", "q - (p - 1)", func(q, p, c float64) float64 { return q - (p - 1) }},
	{"(q - p) - 1", "q - p - 1", func(q, p, c float64) float64 { return q - p - 1 }},
	{"q/(p*c)", "q/(p*c)", func(q, p, c float64) float64 { return q / (p * c) }},
	{"q/p*c", "q/p*c", func(q, p, c float64) float64 { return q / p * c }},
	{"2*-q", "2*-q", func(q, p, c float64) float64 { return 2 * -q }},
	{"--p", "--p", func(q, p, c float64) float64 { return p }},
	{"q^2^2", "q^2^2", func(q, p, c float64) float64 { return q * q * q * q }},
	{"1e-3*p + .5 + 2.39E+1", "0.001*p + 0.5 + 23.9", func(q, p, c float64) float64 { return 1e-3*p + .5 + 23.9 }},
	{"sin(q*cos(p))/c", "sin(q*cos(p))/c", func(q, p, c float64) float64 { return math.Sin(q*math.Cos(p)) / c }},
	{" ( ( p ) ) ", "p", func(q, p, c float64) float64 { return p }},
	{"c", "c", func(q, p, c float64) float64 { return c }},
	{"2 - 3", "2 - 3", func(q, p, c float64) float64 { return -1 }},
	{"sin(2)*q", "sin(2)*q", func(q, p, c float64) float64 { return math.Sin(2) * q }},
	{"1/p - 2/q", "1/p - 2/q", func(q, p, c float64) float64 { return 1/p - 2/q }},
}

func TestParseEval(t *testing.T) {
	params := map[string]float64{"c": 0.7}
	for _, c := range exprCases {
		t.Run(c.src, func(t *testing.T) {
			e, err := Parse(c.src)
			if err != nil {
				t.Fatal(err)
			}
			if s := e.String(); s != c.str {
				t.Fatalf("String %q, want %q", s, c.str)
			}
			back, err := Parse(e.String())
			if err != nil || !back.Equal(e) {
				t.Fatalf("String %q does not parse back to the same tree: %v", e.String(), err)
			}
			for _, x := range [][2]float64{{0.3, -1.2}, {-2.1, 0.8}, {1.7, 1.1}} {
				got, want := e.Eval(x[0], x[1], params), c.f(x[0], x[1], 0.7)
				if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
					t.Fatalf("Eval%v = %g, want %g", x, got, want)
				}
				// Gradient against central differences.
				_, dq, dp := e.EvalGrad(x[0], x[1], params)
				const h = 1e-6
				nq := (c.f(x[0]+h, x[1], 0.7) - c.f(x[0]-h, x[1], 0.7)) / (2 * h)
				np := (c.f(x[0], x[1]+h, 0.7) - c.f(x[0], x[1]-h, 0.7)) / (2 * h)
				if math.Abs(dq-nq) > 1e-6*math.Max(1, math.Abs(nq)) || math.Abs(dp-np) > 1e-6*math.Max(1, math.Abs(np)) {
					t.Fatalf("gradient at %v: (%g, %g), differences (%g, %g)", x, dq, dp, nq, np)
				}
			}
		})
	}
}

func TestParams(t *testing.T) {
	e := MustParse("b*q + a*p^2 + b + alpha_2")
	if got := strings.Join(e.Params(), ","); got != "a,alpha_2,b" {
		t.Fatalf("Params %s", got)
	}
	if v := e.Eval(1, 1, map[string]float64{"a": 1}); !math.IsNaN(v) {
		t.Fatalf("missing parameter gave %g, want NaN", v)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"", "column 1: expected a number, q, p, a parameter name, sin, cos, '-' or '(', found the end"},
		{"q^3", "column 3: expected the exponent 2 after '^'"},
		{"q^-2", "column 3: expected the exponent 2"},
		{"q^p", "column 3: expected the exponent 2"},
		{"p^2 -", "column 6: expected a number"},
		{"(q + p", "column 7: expected ')' or an operator, found the end"},
		{"q + p)", "column 6: expected an operator or the end, found \")\""},
		{"sin q", "column 5: expected '(' after sin, found name q"},
		{"exp(q)", "column 1: unknown function exp"},
		{"2q", "column 2: expected an operator or the end, found name q"},
		{"q % p", "column 3: unexpected character \"%\""},
		{"q + .", "column 5: expected a digit"},
		{"1e999*q", "column 1: number 1e999 is out of range"},
		{"q * * p", "column 5: expected a number"},
		{"q^", "column 3: expected the exponent 2 after '^' (the only power formulas allow; write x*x*x for a cube), found the end"},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			_, err := Parse(c.src)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse(%q) error %v, want it to contain %q", c.src, err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range exprCases {
		f.Add(c.src)
	}
	for _, s := range []string{"q^3", "(((", "1e", "-.5e-3", "sin(cos(-q^2))", "p/(q-q)", "a_1 + B2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			if !strings.Contains(err.Error(), "column ") {
				t.Fatalf("error without a column: %v", err)
			}
			return
		}
		s := e.String()
		back, err := Parse(s)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", src, s, err)
		}
		if !back.Equal(e) || back.String() != s {
			t.Fatalf("%q printed as %q parses to a different tree %q", src, s, back.String())
		}
		ps := map[string]float64{}
		for _, n := range e.Params() {
			ps[n] = 0.5
		}
		e.Eval(0.3, -0.2, ps)
	})
}

func TestBuild(t *testing.T) {
	const B = 6
	qs := []float32{0.3, -1.2, 2.1, -0.4, 1.7, 0.9}
	pv := []float32{-1.2, 0.8, 1.1, 0.5, -0.6, 1.4}
	const c = 0.7
	for _, tc := range exprCases {
		for _, shape := range [][]int{{B, 1}, {B}} {
			t.Run(fmt.Sprintf("%s/%v", tc.src, shape), func(t *testing.T) {
				e := MustParse(tc.src)
				g := graph.New()
				q := g.Input("q", shape...)
				p := g.Input("p", shape...)
				cn := g.Param("c", 1)
				out, err := e.Build(g, q, p, map[string]*graph.Node{"c": cn})
				if err != nil {
					t.Fatal(err)
				}
				if !out.Shape().Equal(q.Shape()) {
					t.Fatalf("result shape %v, want %v", out.Shape(), q.Shape())
				}
				grads := g.Grad(g.Sum(out), q, p)
				prog, err := g.Compile(graph.CompileOptions{}, out, grads[0], grads[1])
				if err != nil {
					t.Fatal(err)
				}
				exe := prog.OnCPU()
				if err := exe.SetParam("c", []float32{c}); err != nil {
					t.Fatal(err)
				}
				res, err := exe.Run(map[string][]float32{"q": qs, "p": pv})
				if err != nil {
					t.Fatal(err)
				}
				params := map[string]float64{"c": float64(float32(c))}
				for i := range qs {
					v, dq, dp := e.EvalGrad(float64(qs[i]), float64(pv[i]), params)
					for k, pair := range [][2]float64{{float64(res[0][i]), v}, {float64(res[1][i]), dq}, {float64(res[2][i]), dp}} {
						if math.Abs(pair[0]-pair[1]) > 2e-5*math.Max(1, math.Abs(pair[1])) {
							t.Fatalf("element %d output %d (value, d/dq, d/dp): graph %g, Eval %g", i, k, pair[0], pair[1])
						}
					}
				}
			})
		}
	}
}

func TestBuildErrors(t *testing.T) {
	g := graph.New()
	q := g.Input("q", 4, 1)
	p := g.Input("p", 4, 1)
	if _, err := MustParse("c*q").Build(g, q, p, nil); err == nil || !strings.Contains(err.Error(), "no node for parameter c") {
		t.Fatalf("missing parameter: %v", err)
	}
	if _, err := MustParse("q").Build(g, q, g.Input("p3", 3, 1), nil); err == nil || !strings.Contains(err.Error(), "must be equal") {
		t.Fatalf("shape mismatch: %v", err)
	}
	bad := map[string]*graph.Node{"c": g.Param("c", 2)}
	if _, err := MustParse("c*q").Build(g, q, p, bad); err == nil || !strings.Contains(err.Error(), "does not broadcast") {
		t.Fatalf("bad parameter shape: %v", err)
	}
}

func ExampleParse() {
	e, err := Parse("p^2 - c*cos(q)")
	if err != nil {
		panic(err)
	}
	v, dq, dp := e.EvalGrad(0, 1, map[string]float64{"c": 2.39})
	fmt.Println(e, e.Params())
	fmt.Printf("H(0, 1) = %.2f, dH/dq = %.2f, dH/dp = %.2f\n", v, dq, dp)
	_, err = Parse("q^3")
	fmt.Println(err)
	// Output:
	// p^2 - c*cos(q) [c]
	// H(0, 1) = -1.39, dH/dq = 0.00, dH/dp = 2.00
	// formula "q^3": column 3: expected the exponent 2 after '^' (the only power formulas allow; write x*x*x for a cube), found number 3
}

func ExampleExpr_Build() {
	e := MustParse("q^2 + c*p^2")
	g := graph.New()
	q, p := g.Input("q", 3, 1), g.Input("p", 3, 1)
	c := g.Param("c", 1)
	h, err := e.Build(g, q, p, map[string]*graph.Node{"c": c})
	if err != nil {
		panic(err)
	}
	prog, err := g.Compile(graph.CompileOptions{}, h)
	if err != nil {
		panic(err)
	}
	exe := prog.OnCPU()
	_ = exe.SetParam("c", []float32{2})
	out, _ := exe.Run(map[string][]float32{"q": {1, 2, 3}, "p": {1, 0, -1}})
	fmt.Println(h.Shape(), out[0])
	// Output: 3x1 [3 4 11]
}
