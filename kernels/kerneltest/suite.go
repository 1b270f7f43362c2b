package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/noether-vk/noether-vk/kernels"
)

// Tol is a named tolerance: an element passes when
// |got - want| <= Abs*scale + Rel*|want|, where scale is the largest |want|
// of the compared tensor (so tiny elements are judged against the tensor's
// size); NMSE bounds sum (got-want)^2 / sum want^2 (0: not checked).
type Tol struct {
	Name           string
	Abs, Rel, NMSE float64
}

// Standard tolerances.
var (
	// Exact: bit-identical, for integer-valued results and RNG bits.
	Exact = Tol{Name: "exact"}
	// F32: float32 kernels against a float64 reference.
	F32 = Tol{Name: "f32", Abs: 1e-5, Rel: 1e-4, NMSE: 1e-9}
	// F32Reduce: float32 reductions and products over long axes.
	F32Reduce = Tol{Name: "f32-reduce", Abs: 1e-4, Rel: 1e-3, NMSE: 1e-7}
	// FD: derivatives against float32 central differences.
	FD = Tol{Name: "fd", Abs: 3e-3, Rel: 2e-2}
)

func (t Tol) String() string {
	if t.NMSE > 0 {
		return fmt.Sprintf("%s(abs %.0e, rel %.0e, nmse %.0e)", t.Name, t.Abs, t.Rel, t.NMSE)
	}
	return fmt.Sprintf("%s(abs %.0e, rel %.0e)", t.Name, t.Abs, t.Rel)
}

// Input describes one input tensor: its length and the interval its
// random values are drawn from. With Gap > 0 values are kept at least Gap
// away from 0 (for kinks such as relu's). NoDiff marks inputs the op is not
// differentiated with respect to (indices, step counts, RNG seeds).
type Input struct {
	Len    int
	Lo, Hi float64
	Gap    float64
	NoDiff bool
	// Values, when set, is used instead of random values.
	Values []float32
}

// Case is one op at one shape.
type Case struct {
	Op    string // the op's name, as in selftest ("tanh", "matmul", ...)
	Shape string // human-readable shape
	In    []Input
	// Forward computes the outputs.
	Forward func(b kernels.Backend, in [][]float32) ([][]float32, error)
	// VJP maps output cotangents g to cotangents of every input (nil
	// entries for NoDiff inputs). nil: no backward.
	VJP func(b kernels.Backend, in, g [][]float32) ([][]float32, error)
	// JVP maps input tangents t to output tangents. nil: no forward mode.
	JVP func(b kernels.Backend, in, t [][]float32) ([][]float32, error)
	// HVP is the tangent of VJP in the direction (t on the inputs, tg on
	// g): it returns the tangents of VJP's outputs. nil: none.
	HVP func(b kernels.Backend, in, g, t, tg [][]float32) ([][]float32, error)
	// Symmetric says that with tg = 0 the HVP is a Hessian-vector product
	// of L = <g, f(x)>, so <w, H v> = <v, H w> is checked.
	Symmetric bool
	// Tol is the forward tolerance (default F32); DerivTol the tolerance
	// of derivative checks (default FD). Step is the finite-difference
	// step (default 1e-2).
	Tol, DerivTol Tol
	Step          float64
	// ConvPath is the conv form the case forces on a Vulkan backend
	// (ConvAuto: the case forces none).
	ConvPath kernels.ConvPath
}

var registry []func(rng *rand.Rand) []Case

// Register adds a family's case generator. Generators draw shapes from rng
// so every run with the same seed checks the same cases.
func Register(gen func(rng *rand.Rand) []Case) { registry = append(registry, gen) }

// Cases returns every registered case, generated with seed.
func Cases(seed uint64) []Case {
	rng := rand.New(rand.NewPCG(seed, 0x6e6f6574686572))
	var out []Case
	for _, gen := range registry {
		out = append(out, gen(rng)...)
	}
	return out
}

// Ops lists the op names of the registered cases, sorted.
func Ops() []string {
	seen := map[string]bool{}
	for _, c := range Cases(1) {
		seen[c.Op] = true
	}
	var out []string
	for op := range seen {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// Result is the outcome of one check of one case.
type Result struct {
	Op        string  `json:"op"`
	Shape     string  `json:"shape"`
	Check     string  `json:"check"` // forward, vjp, jvp, hvp, hvp-symmetry
	Pass      bool    `json:"pass"`
	MaxAbsErr float64 `json:"max_abs_err"`
	MaxRelErr float64 `json:"max_rel_err"`
	Tol       string  `json:"tol"`
	Detail    string  `json:"detail,omitempty"`
}

// Options select what Run checks.
type Options struct {
	Seed uint64
	// Ops restricts the run to these op names (nil: all).
	Ops []string
	// MaxInputs, when positive, skips the cases whose inputs hold more
	// elements than this in all (to run many kernel variants through the
	// suite in reasonable time).
	MaxInputs int
	// ConvPaths, when set, keeps of the cases that force a conv form
	// only those forcing one of these (to spend a matmul variant's run
	// on the forms that go through the matmul kernel).
	ConvPaths []kernels.ConvPath
	// Progress, when set, is called before each case.
	Progress func(i, n int, c Case)
}

// inputs is the number of elements of c's inputs.
func (c Case) inputs() int {
	n := 0
	for _, in := range c.In {
		n += in.Len
	}
	return n
}

// Run checks every selected case on backend b.
func Run(b kernels.Backend, o Options) []Result {
	var cases []Case
	for _, c := range Cases(o.Seed) {
		if (len(o.Ops) == 0 || slices.Contains(o.Ops, c.Op)) && (o.MaxInputs <= 0 || c.inputs() <= o.MaxInputs) &&
			(len(o.ConvPaths) == 0 || c.ConvPath == kernels.ConvAuto || slices.Contains(o.ConvPaths, c.ConvPath)) {
			cases = append(cases, c)
		}
	}
	var out []Result
	for i, c := range cases {
		if o.Progress != nil {
			o.Progress(i, len(cases), c)
		}
		out = append(out, runCase(b, c, o.Seed+uint64(i))...)
	}
	return out
}

// Test runs the suite on b and reports every failed check. The
// environment variable KERNELTEST_OPS (comma-separated op names) restricts
// it while developing one family.
func Test(t *testing.T, b kernels.Backend) {
	t.Helper()
	o := Options{Seed: 1}
	if ops := os.Getenv("KERNELTEST_OPS"); ops != "" {
		o.Ops = strings.Split(ops, ",")
	}
	if paths := os.Getenv("KERNELTEST_CONV_PATHS"); paths != "" {
		for _, name := range strings.Split(paths, ",") {
			var p kernels.ConvPath
			if err := p.UnmarshalText([]byte(name)); err != nil {
				t.Fatalf("KERNELTEST_CONV_PATHS: %v", err)
			}
			o.ConvPaths = append(o.ConvPaths, p)
		}
	}
	res := Run(b, o)
	if len(res) == 0 {
		t.Fatal("no kernel cases registered")
	}
	for _, r := range res {
		if !r.Pass {
			t.Errorf("%s %s [%s]: max abs %.3g, max rel %.3g, tol %s: %s", r.Op, r.Shape, r.Check, r.MaxAbsErr, r.MaxRelErr, r.Tol, r.Detail)
		}
	}
}

func runCase(b kernels.Backend, c Case, seed uint64) []Result {
	if c.Tol.Name == "" {
		c.Tol = F32
	}
	if c.DerivTol.Name == "" {
		c.DerivTol = FD
	}
	if c.Step == 0 {
		c.Step = 1e-2
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	in := make([][]float32, len(c.In))
	for i, spec := range c.In {
		in[i] = draw(rng, spec)
	}
	var out []Result
	res := func(check string) *Result {
		out = append(out, Result{Op: c.Op, Shape: c.Shape, Check: check, Pass: true})
		return &out[len(out)-1]
	}

	// forward
	r := res("forward")
	r.Tol = c.Tol.String()
	orig := clone(in)
	want, err := c.Forward(kernels.CPU{}, clone(in))
	if err != nil {
		return fail(r, out, "cpu reference: %v", err)
	}
	got, err := c.Forward(b, in)
	if err != nil {
		return fail(r, out, "%v", err)
	}
	compareAll(r, got, want, c.Tol)
	if !equalAll(in, orig) {
		r.Pass, r.Detail = false, "an input was mutated"
	}
	if !r.Pass {
		// Derivative checks of a wrong forward would only repeat the failure.
		return out
	}

	diff := func(i int) bool { return !c.In[i].NoDiff }
	g := make([][]float32, len(want))
	for i := range want {
		g[i] = draw(rng, Input{Len: len(want[i]), Lo: -1, Hi: 1})
	}
	tangent := func() [][]float32 {
		t := make([][]float32, len(in))
		for i, spec := range c.In {
			if diff(i) {
				t[i] = draw(rng, Input{Len: spec.Len, Lo: -1, Hi: 1})
			} else {
				t[i] = make([]float32, spec.Len)
			}
		}
		return t
	}
	h := c.Step
	fwd := func(x [][]float32) [][]float32 {
		y, err := c.Forward(b, x)
		if err != nil {
			panic(err)
		}
		return y
	}

	if c.VJP != nil {
		r := res("vjp")
		r.Tol = c.DerivTol.String()
		if err := guard(func() { checkVJP(r, b, c, in, g, fwd, h, diff) }); err != nil {
			fail(r, nil, "%v", err)
		}
	}
	if c.JVP != nil {
		r := res("jvp")
		r.Tol = c.DerivTol.String()
		if err := guard(func() {
			t := tangent()
			jt, err := c.JVP(b, in, t)
			if err != nil {
				panic(err)
			}
			fdv := central(fwd(axpy(in, t, h)), fwd(axpy(in, t, -h)), h)
			compareAll(r, jt, fdv, c.DerivTol)
		}); err != nil {
			fail(r, nil, "%v", err)
		}
	}
	if c.HVP != nil && c.VJP != nil {
		r := res("hvp")
		r.Tol = c.DerivTol.String()
		if err := guard(func() {
			t := tangent()
			tg := make([][]float32, len(g))
			for i := range g {
				tg[i] = draw(rng, Input{Len: len(g[i]), Lo: -1, Hi: 1})
			}
			ht, err := c.HVP(b, in, g, t, tg)
			if err != nil {
				panic(err)
			}
			vjp := func(x, gg [][]float32) [][]float32 {
				v, err := c.VJP(b, x, gg)
				if err != nil {
					panic(err)
				}
				return v
			}
			fdv := central(vjp(axpy(in, t, h), axpy(g, tg, h)), vjp(axpy(in, t, -h), axpy(g, tg, -h)), h)
			compareAll(r, pickDiff(ht, diff), pickDiff(fdv, diff), c.DerivTol)
		}); err != nil {
			fail(r, nil, "%v", err)
		}
		if c.Symmetric {
			r := res("hvp-symmetry")
			r.Tol = c.DerivTol.String()
			if err := guard(func() {
				v, w := tangent(), tangent()
				zero := make([][]float32, len(g))
				for i := range g {
					zero[i] = make([]float32, len(g[i]))
				}
				hv, err := c.HVP(b, in, g, v, zero)
				if err != nil {
					panic(err)
				}
				hw, err := c.HVP(b, in, g, w, zero)
				if err != nil {
					panic(err)
				}
				a, bb := dotAll(pickDiff(w, diff), pickDiff(hv, diff)), dotAll(pickDiff(v, diff), pickDiff(hw, diff))
				compareAll(r, [][]float32{{float32(a)}}, [][]float32{{float32(bb)}}, c.DerivTol)
			}); err != nil {
				fail(r, nil, "%v", err)
			}
		}
	}
	return out
}

// checkVJP compares <VJP(g), v> with the finite-difference derivative of
// L(x) = <g, f(x)>: over every coordinate when the differentiable inputs
// are small (fd.Gradient), along three random directions otherwise.
func checkVJP(r *Result, b kernels.Backend, c Case, in, g [][]float32, fwd func([][]float32) [][]float32, h float64, diff func(int) bool) {
	grad, err := c.VJP(b, in, g)
	if err != nil {
		panic(err)
	}
	n := 0
	for i := range in {
		if diff(i) {
			n += len(in[i])
		}
	}
	loss := func(x [][]float32) float64 { return dotAll(g, fwd(x)) }
	settings := &fd.Settings{Formula: fd.Central, Step: h}
	if n <= 48 {
		// Flatten the differentiable inputs into one vector for fd.Gradient.
		flat := make([]float64, 0, n)
		for i := range in {
			if diff(i) {
				for _, v := range in[i] {
					flat = append(flat, float64(v))
				}
			}
		}
		unflat := func(z []float64) [][]float32 {
			x := clone(in)
			k := 0
			for i := range x {
				if diff(i) {
					for j := range x[i] {
						x[i][j] = float32(z[k])
						k++
					}
				}
			}
			return x
		}
		want := fd.Gradient(nil, func(z []float64) float64 { return loss(unflat(z)) }, flat, settings)
		var gotFlat []float32
		for i := range in {
			if diff(i) {
				if grad[i] == nil || len(grad[i]) != len(in[i]) {
					panic(fmt.Errorf("VJP returned %d values for input %d of length %d", len(grad[i]), i, len(in[i])))
				}
				gotFlat = append(gotFlat, grad[i]...)
			}
		}
		wantF := make([]float32, len(want))
		for i, v := range want {
			wantF[i] = float32(v)
		}
		compareAll(r, [][]float32{gotFlat}, [][]float32{wantF}, c.DerivTol)
		return
	}
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	var gotD, wantD []float32
	for range 3 {
		v := make([][]float32, len(in))
		for i := range in {
			v[i] = make([]float32, len(in[i]))
			if diff(i) {
				v[i] = draw(rng, Input{Len: len(in[i]), Lo: -1, Hi: 1})
			}
		}
		want := fd.Derivative(func(s float64) float64 { return loss(axpy(in, v, s)) }, 0, settings)
		gotD = append(gotD, float32(dotAll(pickDiff(v, diff), pickDiff(grad, diff))))
		wantD = append(wantD, float32(want))
	}
	compareAll(r, [][]float32{gotD}, [][]float32{wantD}, c.DerivTol)
}

// compareAll folds the comparison of every tensor into r.
func compareAll(r *Result, got, want [][]float32, tol Tol) {
	if len(got) != len(want) {
		r.Pass, r.Detail = false, fmt.Sprintf("%d outputs, want %d", len(got), len(want))
		return
	}
	for k := range want {
		if len(got[k]) != len(want[k]) {
			r.Pass, r.Detail = false, fmt.Sprintf("output %d has %d elements, want %d", k, len(got[k]), len(want[k]))
			return
		}
		scale, num, den := 0.0, 0.0, 0.0
		for _, w := range want[k] {
			scale = math.Max(scale, math.Abs(float64(w)))
		}
		for i := range want[k] {
			g, w := float64(got[k][i]), float64(want[k][i])
			d := math.Abs(g - w)
			num += d * d
			den += w * w
			if math.IsNaN(g) || math.IsInf(g, 0) {
				if r.Pass {
					r.Pass, r.Detail = false, fmt.Sprintf("output %d[%d] = %v", k, i, g)
				}
				continue
			}
			r.MaxAbsErr = math.Max(r.MaxAbsErr, d)
			if w != 0 {
				r.MaxRelErr = math.Max(r.MaxRelErr, d/math.Abs(w))
			}
			if d > tol.Abs*scale+tol.Rel*math.Abs(w) && r.Pass {
				r.Pass, r.Detail = false, fmt.Sprintf("output %d[%d] = %.7g, want %.7g", k, i, g, w)
			}
		}
		if tol.NMSE > 0 && den > 0 && num/den > tol.NMSE && r.Pass {
			r.Pass, r.Detail = false, fmt.Sprintf("output %d: normalized MSE %.3g > %.0e", k, num/den, tol.NMSE)
		}
	}
}

func fail(r *Result, out []Result, format string, args ...any) []Result {
	r.Pass = false
	r.Detail = fmt.Sprintf(format, args...)
	return out
}

// guard turns a panic inside a check (an error from the backend) into an error.
func guard(f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	f()
	return nil
}

func draw(rng *rand.Rand, s Input) []float32 {
	if s.Values != nil {
		return slices.Clone(s.Values)
	}
	x := make([]float32, s.Len)
	for i := range x {
		for {
			v := s.Lo + (s.Hi-s.Lo)*rng.Float64()
			if s.Gap == 0 || math.Abs(v) >= s.Gap {
				x[i] = float32(v)
				break
			}
		}
	}
	return x
}

func clone(x [][]float32) [][]float32 {
	out := make([][]float32, len(x))
	for i := range x {
		out[i] = slices.Clone(x[i])
	}
	return out
}

func equalAll(a, b [][]float32) bool {
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// axpy returns x + s*v (v entries may be nil or shorter: treated as 0).
func axpy(x, v [][]float32, s float64) [][]float32 {
	out := clone(x)
	for i := range out {
		if i >= len(v) || v[i] == nil {
			continue
		}
		for j := range out[i] {
			out[i][j] = float32(float64(out[i][j]) + s*float64(v[i][j]))
		}
	}
	return out
}

func central(plus, minus [][]float32, h float64) [][]float32 {
	out := make([][]float32, len(plus))
	for i := range plus {
		if plus[i] == nil {
			continue
		}
		out[i] = make([]float32, len(plus[i]))
		for j := range plus[i] {
			out[i][j] = float32((float64(plus[i][j]) - float64(minus[i][j])) / (2 * h))
		}
	}
	return out
}

func dotAll(a, b [][]float32) float64 {
	s := 0.0
	for i := range a {
		if a[i] == nil || i >= len(b) || b[i] == nil {
			continue
		}
		for j := range a[i] {
			s += float64(a[i][j]) * float64(b[i][j])
		}
	}
	return s
}

// pickDiff keeps the entries of differentiable inputs.
func pickDiff(x [][]float32, diff func(int) bool) [][]float32 {
	var out [][]float32
	for i := range x {
		if diff(i) {
			out = append(out, x[i])
		}
	}
	return out
}

// Summary counts passes and failures.
func Summary(res []Result) (pass, failed int, failedOps []string) {
	seen := map[string]bool{}
	for _, r := range res {
		if r.Pass {
			pass++
			continue
		}
		failed++
		if !seen[r.Op] {
			seen[r.Op] = true
			failedOps = append(failedOps, r.Op)
		}
	}
	return pass, failed, failedOps
}

// Join formats shape dimensions: Join(2, 3) = "2x3".
func Join(dims ...int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "x")
}

// backendAs returns b as the kernels interface T, panicking (guard turns
// it back into an error) when b lacks it: "backend NAME has no what".
func backendAs[T any](b kernels.Backend, what string) T {
	t, ok := b.(T)
	if !ok {
		panic(fmt.Errorf("backend %s has no %s", b.Name(), what))
	}
	return t
}

// biasOperands describes an op on two operands (na and nb elements) and,
// with bias, a third of nbias: the inputs, all drawn in [-1, 1], the
// shape's name (" + bias" appended with bias), and pick, which returns
// the third of an argument list (the bias, its tangent) or nil.
func biasOperands(shape string, bias bool, na, nb, nbias int) (in []Input, name string, pick func([][]float32) []float32) {
	in = []Input{{Len: na, Lo: -1, Hi: 1}, {Len: nb, Lo: -1, Hi: 1}}
	if bias {
		in = append(in, Input{Len: nbias, Lo: -1, Hi: 1})
		shape += " + bias"
	}
	return in, shape, func(args [][]float32) []float32 {
		if bias {
			return args[2]
		}
		return nil
	}
}

// Near fails t unless every |got - want| <= tol.Abs*max|want| +
// tol.Rel*|want| (tol.NMSE is not used), naming what and the first
// element off.
func Near(t testing.TB, what string, got, want []float32, tol Tol) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= tol.Abs*scale+tol.Rel*math.Abs(float64(want[i]))) {
			t.Fatalf("%s[%d] = %.7g, want %.7g (|diff| %.3g, scale %.3g, tolerance abs %g rel %g)", what, i, got[i], want[i], d, scale, tol.Abs, tol.Rel)
		}
	}
}
