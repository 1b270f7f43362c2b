package formulas

import (
	"math"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// TestCompile runs compiled formulas with the kernels' CPU interpreter and
// compares them with Expr.Eval, and their parameter derivatives with
// central differences of it.
func TestCompile(t *testing.T) {
	for _, c := range []struct {
		src    string
		consts int // distinct constants after folding
		depth  int // the stack the code needs
	}{
		{"p^2 - c*cos(q)", 0, 3},
		{"q^2 + c*p^2", 0, 2},
		{"3*(1 - cos(q)) + p^2", 2, 2},
		{"q + (p + (q + (p + (q + p))))", 0, 2},
		{"q*(p*(q*(p*(q*p))))", 0, 2},
		{"q - (p - (q - p))", 0, 4},
		{"sin(a*q + b)/(c - p^2) + d", 0, 3},
		{"2*3*q + 6*p", 1, 3},
		{"1/p - 2/q", 2, 3},
		{"2.39*cos(q) + -p", 1, 2},
		{"sin(2)", 1, 1},
	} {
		e := MustParse(c.src)
		code, consts, params, err := Compile(e)
		if err != nil {
			t.Errorf("Compile(%s): %v", c.src, err)
			continue
		}
		if got, want := strings.Join(params, ","), strings.Join(e.Params(), ","); got != want {
			t.Errorf("Compile(%s): params %s, want %s", c.src, got, want)
		}
		if len(consts) != c.consts {
			t.Errorf("Compile(%s): constants %v, want %d", c.src, consts, c.consts)
		}
		if d := stackDepth(code); d != c.depth {
			t.Errorf("Compile(%s): stack depth %d, want %d", c.src, d, c.depth)
		}
		vals := map[string]float64{}
		theta := make([]float64, len(params))
		for i, name := range params {
			theta[i] = 0.4 + 0.3*float64(i)
			vals[name] = theta[i]
		}
		for _, x := range [][2]float64{{0.3, -1.2}, {-2.1, 0.8}, {1.7, 1.1}} {
			got, grad := kernels.EvalFormula(code, consts, theta, x[0], x[1])
			want := e.Eval(x[0], x[1], vals)
			// Constants are float32: 6e-8 relative error each.
			if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("Compile(%s) at %v: %g, Eval %g", c.src, x, got, want)
			}
			for i, name := range params {
				const h = 1e-6
				at := func(d float64) float64 {
					vals[name] = theta[i] + d
					defer func() { vals[name] = theta[i] }()
					return e.Eval(x[0], x[1], vals)
				}
				fd := (at(h) - at(-h)) / (2 * h)
				if math.Abs(grad[i]-fd) > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Errorf("Compile(%s) at %v: d/d%s %g, central difference %g", c.src, x, name, grad[i], fd)
				}
			}
		}
	}
}

// stackDepth is the deepest stack code reaches.
func stackDepth(code []uint32) int {
	depth, deepest := 0, 0
	for _, ins := range code {
		switch op := kernels.FormulaOp(ins & (1<<kernels.FormulaOpBits - 1)); {
		case op == kernels.OpEnd:
			return deepest
		case op <= kernels.OpConst:
			depth++
		case op <= kernels.OpDiv:
			depth--
		}
		deepest = max(deepest, depth)
	}
	return deepest
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"q + p + q + p + q + p + q + p + q", "17 instructions"},
		{"a*q + b*p + c*q^2 + d*p^2 + e", "5 parameters"},
		{"q - 1 - 2 - 3 - 4 - 5", "5 distinct constants"},
	} {
		_, _, _, err := Compile(MustParse(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%s) = %v, want an error with %q", c.src, err, c.want)
		}
	}
}
