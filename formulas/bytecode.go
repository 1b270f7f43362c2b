package formulas

import (
	"fmt"
	"math"
	"slices"

	"github.com/noether-vk/noether-vk/kernels"
)

// Compile translates e into the postfix bytecode that kernels.FitFormulas
// runs (see kernels.FormulaOp): code of kernels.FormulaCodeLen words, the
// constants its OpConst instructions read (at most
// kernels.FormulaMaxConsts) and the parameter names in the order of the
// bytecode's parameter indices, which is e.Params()'s: sorted by name.
//
// Subtrees without q, p or parameters are folded in float64 and rounded
// to float32 once (2*3 becomes the constant 6), equal constants share a
// slot, and the operands of + and * go deeper one first, which leaves
// every value bit for bit the same (IEEE addition and multiplication
// commute) and keeps the stack shallow, which the shader runs faster. It
// fails when e needs more than FormulaCodeLen instructions, more than
// FormulaMaxParams parameters or more than FormulaMaxConsts distinct
// constants.
func Compile(e *Expr) (code []uint32, consts []float32, params []string, err error) {
	params = e.Params()
	if len(params) > kernels.FormulaMaxParams {
		return nil, nil, nil, fmt.Errorf("formulas: Compile %s: %d parameters, the bytecode takes at most %d", e, len(params), kernels.FormulaMaxParams)
	}
	c := compiler{params: params}
	c.emit(fold(e))
	switch {
	case len(c.code) > kernels.FormulaCodeLen:
		return nil, nil, nil, fmt.Errorf("formulas: Compile %s: %d instructions, the bytecode takes at most %d", e, len(c.code), kernels.FormulaCodeLen)
	case len(c.consts) > kernels.FormulaMaxConsts:
		return nil, nil, nil, fmt.Errorf("formulas: Compile %s: %d distinct constants, the bytecode takes at most %d", e, len(c.consts), kernels.FormulaMaxConsts)
	}
	code = make([]uint32, kernels.FormulaCodeLen)
	copy(code, c.code)
	if err := kernels.CheckFormula(code, len(params)); err != nil {
		return nil, nil, nil, fmt.Errorf("formulas: Compile %s: bad bytecode (a bug): %w", e, err)
	}
	return code, c.consts, params, nil
}

// fold replaces every subtree without q, p or parameters by its value,
// rounded to float32 (the precision the bytecode keeps constants in).
func fold(e *Expr) *Expr {
	if constant(e) {
		v, _, _ := e.EvalGrad(0, 0, nil)
		return &Expr{Kind: Num, Value: float64(float32(v))}
	}
	out := *e
	if e.X != nil {
		out.X = fold(e.X)
	}
	if e.Y != nil {
		out.Y = fold(e.Y)
	}
	return &out
}

// constant reports whether e has no q, p or parameter.
func constant(e *Expr) bool {
	switch e.Kind {
	case Num:
		return true
	case VarQ, VarP, Param:
		return false
	}
	return constant(e.X) && (e.Y == nil || constant(e.Y))
}

// need is the stack depth evaluating e takes, with the deeper operand of a
// commutative operation first (Sethi and Ullman's numbering).
func need(e *Expr) int {
	switch e.Kind {
	case Num, VarQ, VarP, Param:
		return 1
	case Neg, Square, Sin, Cos:
		return need(e.X)
	}
	x, y := need(e.X), need(e.Y)
	if (e.Kind == Add || e.Kind == Mul) && y > x {
		x, y = y, x
	}
	return max(x, y+1)
}

type compiler struct {
	params []string
	code   []uint32
	consts []float32
}

var binaryOps = map[Kind]kernels.FormulaOp{Add: kernels.OpAdd, Sub: kernels.OpSub, Mul: kernels.OpMul, Div: kernels.OpDiv}
var unaryOps = map[Kind]kernels.FormulaOp{Neg: kernels.OpNeg, Square: kernels.OpSquare, Sin: kernels.OpSin, Cos: kernels.OpCos}

func (c *compiler) emit(e *Expr) {
	switch e.Kind {
	case Num:
		v := float32(e.Value)
		i := slices.IndexFunc(c.consts, func(x float32) bool { return math.Float32bits(x) == math.Float32bits(v) })
		if i < 0 {
			i = len(c.consts)
			c.consts = append(c.consts, v)
		}
		c.code = append(c.code, kernels.FormulaInstr(kernels.OpConst, i))
	case VarQ:
		c.code = append(c.code, kernels.FormulaInstr(kernels.OpQ, 0))
	case VarP:
		c.code = append(c.code, kernels.FormulaInstr(kernels.OpP, 0))
	case Param:
		c.code = append(c.code, kernels.FormulaInstr(kernels.OpParam, slices.Index(c.params, e.Name)))
	case Neg, Square, Sin, Cos:
		c.emit(e.X)
		c.code = append(c.code, kernels.FormulaInstr(unaryOps[e.Kind], 0))
	default:
		x, y := e.X, e.Y
		if (e.Kind == Add || e.Kind == Mul) && need(y) > need(x) {
			x, y = y, x
		}
		c.emit(x)
		c.emit(y)
		c.code = append(c.code, kernels.FormulaInstr(binaryOps[e.Kind], 0))
	}
}
