package kernels

import (
	"fmt"
	"math"
)

// FormulaOp is an opcode of the formula bytecode that FitFormulas runs: a
// formula f(q, p; theta) in postfix form, one uint32 per instruction, the
// opcode in the low FormulaOpBits bits and its operand (a parameter or
// constant index) above them. A program is FormulaCodeLen words; it ends at
// its first OpEnd or after the last word, with exactly one value on the
// stack. FormulaInstr builds instructions; CheckFormula validates a program.
type FormulaOp uint32

// Formula opcodes. The numbers are shared with shaders/formula_fit.comp.
const (
	OpEnd    FormulaOp = iota // end of the program (zero, so zero padding ends it)
	OpQ                       // push q
	OpP                       // push p
	OpParam                   // push parameter theta[operand]
	OpConst                   // push the candidate's constant[operand]
	OpAdd                     // a b -> a + b
	OpSub                     // a b -> a - b
	OpMul                     // a b -> a * b
	OpDiv                     // a b -> a / b
	OpNeg                     // a -> -a
	OpSquare                  // a -> a * a
	OpSin                     // a -> sin(a)
	OpCos                     // a -> cos(a)
	numFormulaOps
)

// Limits of the formula bytecode, fixed by the shader.
const (
	FormulaCodeLen   = 16 // words per program
	FormulaStack     = 16 // deepest stack
	FormulaMaxParams = 4  // parameters per formula
	FormulaMaxConsts = 4  // constants per formula
	FormulaOpBits    = 8  // opcode bits of an instruction
)

var formulaOpNames = [...]string{"end", "q", "p", "param", "const", "add", "sub", "mul", "div", "neg", "square", "sin", "cos"}

func (op FormulaOp) String() string {
	if op < numFormulaOps {
		return formulaOpNames[op]
	}
	return fmt.Sprintf("op%d", uint32(op))
}

// FormulaInstr returns the instruction op with operand arg (0 for opcodes
// without one).
func FormulaInstr(op FormulaOp, arg int) uint32 { return uint32(op) | uint32(arg)<<FormulaOpBits }

// decode splits an instruction into opcode and operand.
func decode(ins uint32) (FormulaOp, int) {
	return FormulaOp(ins & (1<<FormulaOpBits - 1)), int(ins >> FormulaOpBits)
}

// CheckFormula reports why code (FormulaCodeLen words) is not a program
// over nParams parameters: an unknown opcode, an operand out of range, a
// stack that underflows or does not end with one value. (A program of
// FormulaCodeLen words cannot push more than FormulaStack values.) The shader trusts programs that pass, so FitFormulas checks
// every one.
func CheckFormula(code []uint32, nParams int) error {
	if len(code) != FormulaCodeLen {
		return fmt.Errorf("%d words, want %d", len(code), FormulaCodeLen)
	}
	if nParams < 0 || nParams > FormulaMaxParams {
		return fmt.Errorf("%d parameters (0 to %d)", nParams, FormulaMaxParams)
	}
	depth := 0
	for i, ins := range code {
		op, arg := decode(ins)
		if op == OpEnd {
			if ins != 0 {
				return fmt.Errorf("word %d: end with operand %d", i, arg)
			}
			break
		}
		// pop: operands taken; limit: operands are below it (1: only 0).
		pop, limit := 0, 1
		switch op {
		case OpParam:
			limit = nParams
		case OpConst:
			limit = FormulaMaxConsts
		case OpAdd, OpSub, OpMul, OpDiv:
			pop = 2
		case OpNeg, OpSquare, OpSin, OpCos:
			pop = 1
		case OpQ, OpP:
		default:
			return fmt.Errorf("word %d: unknown opcode %d", i, uint32(op))
		}
		if arg >= limit {
			return fmt.Errorf("word %d: %s with operand %d (%s)", i, op, arg, operandRange(op, nParams))
		}
		if depth < pop {
			return fmt.Errorf("word %d: %s needs %d operands, the stack holds %d", i, op, pop, depth)
		}
		if pop == 0 {
			depth++
		} else {
			depth -= pop - 1
		}
	}
	if depth != 1 {
		return fmt.Errorf("the program leaves %d values on the stack, want 1", depth)
	}
	return nil
}

func operandRange(op FormulaOp, nParams int) string {
	switch op {
	case OpParam:
		return fmt.Sprintf("the formula has %d parameters", nParams)
	case OpConst:
		return fmt.Sprintf("constants 0 to %d", FormulaMaxConsts-1)
	}
	return "it takes none"
}

// EvalFormula runs program code at (q, p) in float64, forward mode: it
// returns f and df/dtheta_k for every k < len(theta). The arithmetic is
// the shader's (the quotient rule as (da - f db) / b), so the CPU
// reference follows the GPU closely. code must pass CheckFormula.
func EvalFormula(code []uint32, consts []float32, theta []float64, q, p float64) (float64, []float64) {
	np := len(theta)
	type dual struct {
		v float64
		d [FormulaMaxParams]float64
	}
	var st [FormulaStack]dual
	sp := 0
	for _, ins := range code {
		op, arg := decode(ins)
		if op == OpEnd {
			break
		}
		if op <= OpConst {
			var x dual
			switch op {
			case OpQ:
				x.v = q
			case OpP:
				x.v = p
			case OpParam:
				x.v, x.d[arg] = theta[arg], 1
			case OpConst:
				x.v = float64(consts[arg])
			}
			st[sp] = x
			sp++
			continue
		}
		t := &st[sp-1]
		if op <= OpDiv {
			sp--
			a, b := &st[sp-1], st[sp]
			for k := range np {
				switch op {
				case OpAdd:
					a.d[k] += b.d[k]
				case OpSub:
					a.d[k] -= b.d[k]
				case OpMul:
					a.d[k] = a.d[k]*b.v + a.v*b.d[k]
				case OpDiv:
					a.d[k] = (a.d[k] - a.v/b.v*b.d[k]) / b.v
				}
			}
			switch op {
			case OpAdd:
				a.v += b.v
			case OpSub:
				a.v -= b.v
			case OpMul:
				a.v *= b.v
			case OpDiv:
				a.v /= b.v
			}
			continue
		}
		var dv float64
		switch op {
		case OpNeg:
			t.v, dv = -t.v, -1
		case OpSquare:
			t.v, dv = t.v*t.v, 2*t.v
		case OpSin:
			t.v, dv = math.Sin(t.v), math.Cos(t.v)
		case OpCos:
			t.v, dv = math.Cos(t.v), -math.Sin(t.v)
		}
		for k := range np {
			t.d[k] *= dv
		}
	}
	return st[0].v, append([]float64(nil), st[0].d[:np]...)
}
