package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// UnaryOp is an elementwise function. The values are the shader's op codes.
type UnaryOp uint32

// The unary ops.
const (
	Neg UnaryOp = iota
	Square
	Sqrt
	Exp
	Log
	Sin
	Cos
	Tanh
	Sigmoid
	Relu
	LeakyRelu // negative slope alpha
	Softplus
)

var unaryNames = [...]string{"neg", "square", "sqrt", "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu", "softplus"}

// UnaryOps lists every unary op.
var UnaryOps = []UnaryOp{Neg, Square, Sqrt, Exp, Log, Sin, Cos, Tanh, Sigmoid, Relu, LeakyRelu, Softplus}

func (op UnaryOp) String() string {
	if int(op) < len(unaryNames) {
		return unaryNames[op]
	}
	return fmt.Sprintf("unary(%d)", uint32(op))
}

// UnaryBackend computes y = scale ⊙ f^(order)(x) for order 0, 1 or 2
// (the function, its first and its second derivative); a nil scale means 1.
// With them: VJP = Unary(1, g), JVP = Unary(1, t), and the tangent of the
// VJP in direction (t, tg) = Unary(1, tg) + Unary(2, g ⊙ t).
type UnaryBackend interface {
	Unary(op UnaryOp, order int, alpha float32, x, scale []float32) ([]float32, error)
}

func checkUnary(op UnaryOp, order int, x, scale []float32) error {
	if int(op) >= len(unaryNames) {
		return fmt.Errorf("kernels: unknown unary op %d", op)
	}
	if order < 0 || order > 2 {
		return fmt.Errorf("kernels: %s: derivative order %d (want 0, 1 or 2)", op, order)
	}
	if scale != nil {
		return checkLen(op.String(), "scale", len(scale), len(x))
	}
	return nil
}

// Unary implements UnaryBackend.
func (CPU) Unary(op UnaryOp, order int, alpha float32, x, scale []float32) ([]float32, error) {
	if err := checkUnary(op, order, x, scale); err != nil {
		return nil, err
	}
	y := make([]float32, len(x))
	for i, v := range x {
		f := UnaryRef(op, order, float64(alpha), float64(v))
		if scale != nil {
			f *= float64(scale[i])
		}
		y[i] = float32(f)
	}
	return y, nil
}

// UnaryRef is the reference f^(order)(v) of op in float64.
func UnaryRef(op UnaryOp, order int, alpha, v float64) float64 {
	pick := func(f0, f1, f2 float64) float64 { return [3]float64{f0, f1, f2}[order] }
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	switch op {
	case Neg:
		return pick(-v, -1, 0)
	case Square:
		return pick(v*v, 2*v, 2)
	case Sqrt:
		r := math.Sqrt(v)
		return pick(r, 0.5/r, -0.25/(v*r))
	case Exp:
		return math.Exp(v)
	case Log:
		return pick(math.Log(v), 1/v, -1/(v*v))
	case Sin:
		return pick(math.Sin(v), math.Cos(v), -math.Sin(v))
	case Cos:
		return pick(math.Cos(v), -math.Sin(v), -math.Cos(v))
	case Tanh:
		t := math.Tanh(v)
		return pick(t, 1-t*t, -2*t*(1-t*t))
	case Sigmoid:
		g := sig(v)
		return pick(g, g*(1-g), g*(1-g)*(1-2*g))
	case Relu:
		if v > 0 {
			return pick(v, 1, 0)
		}
		return pick(0, 0, 0)
	case LeakyRelu:
		if v > 0 {
			return pick(v, 1, 0)
		}
		return pick(alpha*v, alpha, 0)
	case Softplus:
		g := sig(v)
		return pick(math.Max(v, 0)+math.Log1p(math.Exp(-math.Abs(v))), g, g*(1-g))
	}
	panic(fmt.Sprintf("kernels: unknown unary op %d", op))
}

// RecordUnary records y = scale ⊙ f^(order)(x) over n elements; scale may
// be nil.
func (v *Vulkan) RecordUnary(r *gpu.Recorder, op UnaryOp, order int, alpha float32, x, scale, y *gpu.Buffer, n int) error {
	if int(op) >= len(unaryNames) || order < 0 || order > 2 {
		return fmt.Errorf("kernels: unary op %d order %d", op, order)
	}
	scaled := uint32(1)
	if scale == nil {
		scale, scaled = x, 0
	}
	k, err := v.kernel("unary", []gpu.Access{gpu.Read, gpu.Read, gpu.Write}, 8, v.Local, 1, 1, uint32(op), uint32(order), scaled, v.Elems)
	if err != nil {
		return err
	}
	r.Dispatch(k, v.Device.Grid(k, (n+int(v.Elems)-1)/int(v.Elems)), gpu.Push{}.U32(uint32(n)).F32(alpha), x, scale, y)
	return nil
}

// Unary implements UnaryBackend.
func (v *Vulkan) Unary(op UnaryOp, order int, alpha float32, x, scale []float32) ([]float32, error) {
	if err := checkUnary(op, order, x, scale); err != nil {
		return nil, err
	}
	ins := [][]float32{x}
	if scale != nil {
		ins = append(ins, scale)
	}
	out, err := v.exec(ins, []int{len(x)}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		var s *gpu.Buffer
		if scale != nil {
			s = in[1]
		}
		return v.RecordUnary(r, op, order, alpha, in[0], s, out[0], len(x))
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}
