package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(fusedCases) }

// fusedCases run fused elementwise programs against the CPU reference, over
// the shader's input modes (the output's layout, broadcast rows and
// columns, a scalar) and both widths (four elements per invocation, and
// one for odd sizes). A fused program has no derivative rules of its own:
// the graph compiler fuses ops after differentiating them, so only the
// forward is checked; each op's derivatives are checked as that op.
func fusedCases(_ *rand.Rand) []Case {
	u := func(op kernels.UnaryOp, order, a int) kernels.FusedInstr {
		return kernels.FusedInstr{Kind: kernels.FusedUnary, Unary: op, Order: order, A: a}
	}
	scaled := func(op kernels.UnaryOp, order, a, s int) kernels.FusedInstr {
		in := u(op, order, a)
		in.Scaled, in.B = true, s
		return in
	}
	bin := func(op kernels.BinaryOp, a, b int) kernels.FusedInstr {
		return kernels.FusedInstr{Kind: kernels.FusedBinary, Binary: op, A: a, B: b}
	}
	scalar := func(op kernels.BinaryOp, a int, s float32, left bool) kernels.FusedInstr {
		return kernels.FusedInstr{Kind: kernels.FusedScalar, Binary: op, A: a, Imm: s, Left: left}
	}
	leaky := u(kernels.LeakyRelu, 0, 0)
	leaky.Imm = 0.2
	var cases []Case
	for _, c := range []struct {
		out  kernels.Shape
		ins  []kernels.Shape
		code []kernels.FusedInstr
	}{
		// tanh''(a) b + sigmoid'(a) - 0.5 c: a meta-gradient's tangent.
		{kernels.Shape{64, 32}, []kernels.Shape{{64, 32}, {32}, {}},
			[]kernels.FusedInstr{scaled(kernels.Tanh, 2, 0, 1), u(kernels.Sigmoid, 1, 0), bin(kernels.Add, 3, 4), scalar(kernels.Mul, 2, 0.5, false), bin(kernels.Sub, 5, 6)}},
		// sqrt(a^2 + 1) / (2.5 - b) + leaky_relu(a) log(b + 3).
		{kernels.Shape{6, 5, 8}, []kernels.Shape{{6, 5, 1}, {5, 8}},
			[]kernels.FusedInstr{u(kernels.Square, 0, 0), scalar(kernels.Add, 2, 1, false), u(kernels.Sqrt, 0, 3), scalar(kernels.Sub, 1, 2.5, true),
				bin(kernels.Div, 4, 5), scalar(kernels.Add, 1, 3, false), scaled(kernels.Log, 0, 7, 0), leaky, bin(kernels.Mul, 8, 9), bin(kernels.Add, 6, 10)}},
		// exp(-a) cos(b) + softplus(a) - sin'(b), odd sizes.
		{kernels.Shape{7, 3}, []kernels.Shape{{7, 3}, {7, 1}},
			[]kernels.FusedInstr{u(kernels.Neg, 0, 0), u(kernels.Exp, 0, 2), scaled(kernels.Cos, 0, 1, 3), u(kernels.Softplus, 0, 0), bin(kernels.Add, 4, 5), u(kernels.Sin, 1, 1), bin(kernels.Sub, 6, 7)}},
	} {
		var f kernels.Fused
		var in []Input
		for _, s := range c.ins {
			st, err := kernels.BroadcastStrides(s, c.out)
			if err != nil {
				panic(err)
			}
			f.Strides = append(f.Strides, st)
			in = append(in, Input{Len: s.Len(), Lo: -2, Hi: 2})
		}
		f.Code = c.code
		cases = append(cases, Case{
			Op:    "fused",
			Shape: fmt.Sprintf("%v from %v", c.out, c.ins),
			In:    in,
			Forward: func(b kernels.Backend, in [][]float32) ([][]float32, error) {
				y, err := backendAs[kernels.FusedBackend](b, "fused kernels").Fused(f, c.out, in)
				return [][]float32{y}, err
			},
		})
	}
	return cases
}
