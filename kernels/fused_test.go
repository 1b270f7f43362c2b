package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// randomFused draws a program of up to maxCode instructions over inputs
// of the given shapes, each broadcast to out, using every kind of
// instruction.
func randomFused(rng *rand.Rand, out kernels.Shape, inShapes []kernels.Shape, maxCode int) kernels.Fused {
	var f kernels.Fused
	for _, s := range inShapes {
		st, err := kernels.BroadcastStrides(s, out)
		if err != nil {
			panic(err)
		}
		f.Strides = append(f.Strides, st)
	}
	imms := []float32{0.1, -2, 3.5, 0.25}
	for k := range 1 + rng.IntN(maxCode) {
		regs := len(inShapes) + k
		in := kernels.FusedInstr{A: rng.IntN(regs), B: rng.IntN(regs), Imm: imms[rng.IntN(len(imms))]}
		switch rng.IntN(3) {
		case 0:
			in.Kind, in.Unary, in.Order, in.Scaled = kernels.FusedUnary, kernels.UnaryOps[rng.IntN(len(kernels.UnaryOps))], rng.IntN(3), rng.IntN(2) == 0
		case 1:
			in.Kind, in.Binary = kernels.FusedBinary, kernels.BinaryOps[rng.IntN(len(kernels.BinaryOps))]
		default:
			in.Kind, in.Binary, in.Left = kernels.FusedScalar, kernels.BinaryOps[rng.IntN(len(kernels.BinaryOps))], rng.IntN(2) == 0
		}
		f.Code = append(f.Code, in)
	}
	return f
}

// stepwise evaluates f one op at a time with b's own unary and binary
// kernels, each input first expanded to out by broadcasting.
func stepwise(t *testing.T, b interface {
	kernels.UnaryBackend
	kernels.BinaryBackend
	kernels.ReduceBackend
}, f kernels.Fused, out kernels.Shape, ins [][]float32, inShapes []kernels.Shape) []float32 {
	t.Helper()
	var regs [][]float32
	for k, x := range ins {
		y, err := b.BroadcastTo(x, inShapes[k], out)
		if err != nil {
			t.Fatal(err)
		}
		regs = append(regs, y)
	}
	for _, in := range f.Code {
		var y []float32
		var err error
		switch in.Kind {
		case kernels.FusedUnary:
			var s []float32
			if in.Scaled {
				s = regs[in.B]
			}
			y, err = b.Unary(in.Unary, in.Order, in.Imm, regs[in.A], s)
		case kernels.FusedBinary:
			y, _, err = b.Binary(in.Binary, regs[in.A], out, regs[in.B], out)
		case kernels.FusedScalar:
			y, err = b.BinaryScalar(in.Binary, regs[in.A], in.Imm, in.Left)
		}
		if err != nil {
			t.Fatal(err)
		}
		regs = append(regs, y)
	}
	return regs[len(regs)-1]
}

// sameBits reports the first element whose bits differ (any NaN equals any
// NaN: a NaN's payload is not a result).
func sameBits(got, want []float32) error {
	for i := range want {
		g, w := got[i], want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			return fmt.Errorf("[%d] = %g (%#08x), one op at a time %g (%#08x)", i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
	return nil
}

// TestFusedBitwise: a fused program gives the bits of its ops run one at a
// time, and summed over the leading axis the bits of the reduce kernel, on Vulkan (the fused kernel against the unary and binary kernels)
// and on the CPU (the reference against the ops' references), over every
// input mode of the shader: the output's layout, a scalar, rows and
// columns of a broadcast, and odd sizes that take one element per
// invocation.
func TestFusedBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 3))
	vk := openVulkan(t)
	u := func(op kernels.UnaryOp, order, a, scale int) kernels.FusedInstr {
		return kernels.FusedInstr{Kind: kernels.FusedUnary, Unary: op, Order: order, A: a, B: scale, Scaled: scale >= 0}
	}
	bin := func(op kernels.BinaryOp, a, b int) kernels.FusedInstr {
		return kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: op, A: a, B: b}
	}
	scalar := func(op kernels.BinaryOp, a int, s float32) kernels.FusedInstr {
		return kernels.FusedInstr{Kind: kernels.FusedScalar, Binary: op, A: a, Imm: s}
	}
	// Programs that once gave other bits than their ops, by the shape
	// they ran on: a transcendental of a constant derivative, which the
	// compiler folded; a scaled sigmoid, whose scaling the unary kernel
	// merges into its division; a constant-zero derivative, which the
	// unary kernel's scaling folds to +0.
	regressions := map[int][][]kernels.FusedInstr{
		0: {{u(kernels.Neg, 1, 0, -1), u(kernels.Softplus, 0, 4, -1), u(kernels.Exp, 0, 4, 0)}},
		1: {{u(kernels.Sigmoid, 1, 2, -1), u(kernels.Sin, 2, 4, 1), bin(kernels.Add, 5, 0), bin(kernels.Div, 3, 1), u(kernels.Sqrt, 2, 7, -1), u(kernels.Sigmoid, 0, 4, 8)}},
		2: {{u(kernels.Log, 1, 0, -1), u(kernels.Softplus, 1, 2, 0), bin(kernels.Mul, 1, 4), u(kernels.Softplus, 2, 4, -1), scalar(kernels.Mul, 0, 0.25),
			bin(kernels.Add, 5, 5), scalar(kernels.Div, 7, -2), scalar(kernels.Sub, 2, 3.5), u(kernels.Neg, 2, 9, 0)}},
	}
	for ci, c := range []struct {
		out kernels.Shape
		ins []kernels.Shape
	}{
		{kernels.Shape{64, 32}, []kernels.Shape{{64, 32}, {64, 32}, {32}, {}}},
		{kernels.Shape{6, 5, 8}, []kernels.Shape{{6, 5, 8}, {6, 5, 1}, {5, 8}, {6, 1, 8}}},
		{kernels.Shape{7, 3}, []kernels.Shape{{7, 3}, {3}, {7, 1}}},
		{kernels.Shape{5}, []kernels.Shape{{5}, {1}}},
	} {
		for trial := range 8 + len(regressions[ci]) {
			f := randomFused(rng, c.out, c.ins, kernels.MaxFusedCode)
			if trial < len(regressions[ci]) {
				f.Code = regressions[ci][trial]
			}
			ins := make([][]float32, len(c.ins))
			for k, s := range c.ins {
				ins[k] = make([]float32, s.Len())
				for i := range ins[k] {
					ins[k][i] = float32(0.2 + 1.8*rng.Float64())
				}
			}
			name := fmt.Sprintf("%v from %v, program %d %v", c.out, c.ins, trial, f.Code)
			for _, b := range []interface {
				kernels.Backend
				kernels.FusedBackend
				kernels.UnaryBackend
				kernels.BinaryBackend
				kernels.ReduceBackend
			}{kernels.CPU{}, vk} {
				got, err := b.Fused(f, c.out, ins)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				want := stepwise(t, b, f, c.out, ins, c.ins)
				if err := sameBits(got, want); err != nil {
					t.Errorf("%s on %s: %v", name, b.Name(), err)
				}
				// The same program summed over the leading axis, as the
				// reduce kernel sums it.
				red := f
				red.Reduces, red.Reduce = true, kernels.ReduceOps[trial%len(kernels.ReduceOps)]
				if !kernels.ReducesInOnePass(red.Reduce, c.out, []int{0}) {
					t.Fatalf("%v: the reduce kernel sums %v over axis 0 in parts", red.Reduce, c.out)
				}
				got, err = b.Fused(red, c.out, ins)
				if err != nil {
					t.Fatalf("%s, %v: %v", name, red.Reduce, err)
				}
				want, _, err = b.Reduce(red.Reduce, want, c.out, []int{0}, false)
				if err != nil {
					t.Fatal(err)
				}
				if err := sameBits(got, want); err != nil {
					t.Errorf("%s, %v over axis 0, on %s: %v", name, red.Reduce, b.Name(), err)
				}
			}
		}
	}
}

// TestFusedStrides: inputs read through any strides (a transposed read
// gathers four elements per invocation), and a program without code
// copies its input.
func TestFusedStrides(t *testing.T) {
	vk := openVulkan(t)
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i)
	}
	out := kernels.Shape{4, 8}
	transposed := kernels.Fused{Strides: [][]int{{1, 4}}, Code: []kernels.FusedInstr{{Kind: kernels.FusedScalar, Binary: kernels.Add, Imm: 0.5, A: 0}}}
	copyRow := kernels.Fused{Strides: [][]int{{0, 1}}}
	for _, c := range []struct {
		f    kernels.Fused
		want func(i, j int) float32
	}{
		{transposed, func(i, j int) float32 { return x[j*4+i] + 0.5 }},
		{copyRow, func(i, j int) float32 { return x[j] }},
	} {
		for _, b := range []kernels.FusedBackend{kernels.CPU{}, vk} {
			got, err := b.Fused(c.f, out, [][]float32{x})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				for j := range 8 {
					if got[i*8+j] != c.want(i, j) {
						t.Fatalf("%T %v: [%d,%d] = %g, want %g", b, c.f.Code, i, j, got[i*8+j], c.want(i, j))
					}
				}
			}
		}
	}
}

// TestFusedErrors: programs the kernel cannot run are refused, naming why.
func TestFusedErrors(t *testing.T) {
	ok := kernels.Fused{Strides: [][]int{{1}}}
	many := kernels.Fused{Strides: make([][]int, kernels.MaxFusedInputs+1)}
	for i := range many.Strides {
		many.Strides[i] = []int{1}
	}
	long := kernels.Fused{Strides: [][]int{{1}}}
	for range kernels.MaxFusedCode + 1 {
		long.Code = append(long.Code, kernels.FusedInstr{Kind: kernels.FusedUnary, Unary: kernels.Neg})
	}
	imms := kernels.Fused{Strides: [][]int{{1}}}
	for k := range kernels.MaxFusedImmediates + 1 {
		imms.Code = append(imms.Code, kernels.FusedInstr{Kind: kernels.FusedScalar, Binary: kernels.Add, Imm: float32(k), A: k})
	}
	// Five inputs read by coordinates over six dimensions need 1 + 6 +
	// 30 push-constant words.
	s6 := kernels.Shape{2, 3, 2, 3, 2, 3}
	gathered := kernels.Fused{}
	for _, st := range [][]int{{0, 1, 0, 1, 0, 1}, {1, 0, 1, 0, 1, 0}, {0, 0, 1, 0, 0, 1}, {1, 1, 0, 0, 1, 1}, {0, 1, 1, 0, 1, 0}} {
		gathered.Strides = append(gathered.Strides, st)
	}
	for _, c := range []struct {
		f    kernels.Fused
		out  kernels.Shape
		want string
	}{
		{ok, kernels.Shape{4}, ""},
		{kernels.Fused{}, kernels.Shape{4}, "0 inputs"},
		{many, kernels.Shape{4}, "9 inputs"},
		{long, kernels.Shape{4}, "25 instructions"},
		{imms, kernels.Shape{4}, "9 distinct constants"},
		{kernels.Fused{Strides: [][]int{{1}}, Code: []kernels.FusedInstr{{Kind: kernels.FusedBinary, A: 0, B: 1}}}, kernels.Shape{4}, "instruction 0 (add(r0, r1)) is not valid"},
		{kernels.Fused{Strides: [][]int{{1, 1}}}, kernels.Shape{4}, "input 0 has 2 strides"},
		{gathered, s6, "need 37 push-constant words"},
	} {
		err := c.f.Check(c.out)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Check(%v) = %v, want %q", c.out, err, c.want)
		}
	}
	if _, err := (kernels.CPU{}).Fused(ok, kernels.Shape{4}, [][]float32{{1, 2}}); err == nil || !strings.Contains(err.Error(), "input 0 has 2 elements") {
		t.Errorf("a short input: %v", err)
	}
}
