package formulas

import (
	"fmt"
	"strings"
)

// Unit is a physical unit as exponents of the base dimensions, in the
// order mass M, length L, time T and angle A: Unit{1, 2, -1, 0} is
// M L^2 T^-1. Angles get a dimension of their own (although the radian is
// dimensionless in SI) so that the typing can tell the pendulum's angle q
// from a plain number and still let sin and cos take it.
type Unit [4]int8

// dimNames are the symbols of Unit's base dimensions, in its order.
var dimNames = [4]string{"M", "L", "T", "A"}

// Dimensionless reports whether every exponent of u is zero.
func (u Unit) Dimensionless() bool { return u == Unit{} }

// String prints u as its non-zero dimensions in the order M L T A, each
// with its exponent unless 1 ("M L^2 T^-1"), or "1" when dimensionless.
func (u Unit) String() string {
	var parts []string
	for i, e := range u {
		switch e {
		case 0:
		case 1:
			parts = append(parts, dimNames[i])
		default:
			parts = append(parts, fmt.Sprintf("%s^%d", dimNames[i], e))
		}
	}
	if len(parts) == 0 {
		return "1"
	}
	return strings.Join(parts, " ")
}

// Type is the unit of a sub-formula: a concrete Unit, or Free. A formula
// with a parameter in it is Free: a parameter is the paper's
// Parameter(u), a trainable scalar carrying units u, with u not written
// down but inferred as whatever makes the formula valid. So c*q can take
// any unit, and c*q + p, sin(c*q) and c*q + c'*p are all valid. The rule
// is per sub-formula, so it is lenient where a square must be halved:
// (c*q)^2 + p is valid, with c's unit (M L^2 T^-1)^(1/2) A^-1 in the
// pendulum, which no Unit can write; c*q^2 + p is the same family anyway.
type Type struct {
	Free bool
	Unit Unit // meaningful only when !Free
}

// String prints t's unit, or "free" when it is Free.
func (t Type) String() string {
	if t.Free {
		return "free"
	}
	return t.Unit.String()
}

// Vocabulary names the units of a system's inputs q and p.
type Vocabulary struct {
	System string
	Q, P   Unit
}

// Units of the vocabularies.
var (
	angle      = Unit{3: 1}
	angularMom = Unit{1, 2, -1, 0}
	angularVel = Unit{2: -1, 3: 1}
	length     = Unit{1: 1}
	momentum   = Unit{1, 1, -1, 0}
)

// vocabularies are the systems of the paper's first experiment. The real
// pendulum's data are the angle and the angular velocity (the columns o
// and v of Schmidt and Lipson's file), not a momentum, so p there is A T^-1.
var vocabularies = []Vocabulary{
	{System: "pendulum", Q: angle, P: angularMom},
	{System: "real-pendulum", Q: angle, P: angularVel},
	{System: "spring", Q: length, P: momentum},
}

// VocabularyFor returns the units of q and p in the named system:
// "pendulum" (q an angle A, p an angular momentum M L^2 T^-1),
// "real-pendulum" (q an angle A, p an angular velocity A T^-1) or
// "spring" (q a length L, p a momentum M L T^-1).
func VocabularyFor(system string) (Vocabulary, error) {
	names := make([]string, len(vocabularies))
	for i, v := range vocabularies {
		if v.System == system {
			return v, nil
		}
		names[i] = v.System
	}
	return Vocabulary{}, fmt.Errorf("formulas: VocabularyFor(%q): unknown system; the systems are %s", system, strings.Join(names, ", "))
}

// unitFault is why an operation's operand units do not allow it.
type unitFault int

const (
	unitsOK       unitFault = iota
	unitsDiffer             // + or - of two different concrete units
	unitsNotAngle           // sin or cos of a unit other than 1 or A
	unitsOverflow           // an exponent beyond int8
)

// apply is the unit rule of one operation of kind k on operands of types x
// and y (y only for binary kinds); TypeOf and Enumerate both type with it.
// A Free operand makes a product, quotient or square Free; it takes the
// other operand's unit in a sum; sin and cos accept it (the parameters
// inside take units that make the argument dimensionless).
func apply(k Kind, x, y Type) (Type, unitFault) {
	switch k {
	case Neg:
		return x, unitsOK
	case Sin, Cos:
		if !x.Free && !x.Unit.Dimensionless() && x.Unit != angle {
			return Type{}, unitsNotAngle
		}
		return Type{}, unitsOK
	case Square:
		return scaleUnits(x, x, 1)
	case Mul:
		return scaleUnits(x, y, 1)
	case Div:
		return scaleUnits(x, y, -1)
	case Add, Sub:
		switch {
		case x.Free:
			return y, unitsOK
		case y.Free, x.Unit == y.Unit:
			return x, unitsOK
		}
		return Type{}, unitsDiffer
	}
	panic(fmt.Sprintf("formulas: apply: kind %d is not an operation", k))
}

// scaleUnits is the type of x*y (sign 1) or x/y (sign -1).
func scaleUnits(x, y Type, sign int) (Type, unitFault) {
	if x.Free || y.Free {
		return Type{Free: true}, unitsOK
	}
	var u Unit
	for i := range u {
		e := int(x.Unit[i]) + sign*int(y.Unit[i])
		if e != int(int8(e)) {
			return Type{}, unitsOverflow
		}
		u[i] = int8(e)
	}
	return Type{Unit: u}, unitsOK
}

// TypeOf returns the unit of e when q and p have v's units, or an error
// naming the first sub-formula (in evaluation order) whose operation the
// units rule out: sums and differences need equal units, sin and cos a
// dimensionless or angle argument. Numbers are dimensionless; parameters
// are Free (see Type). A parameter named twice is typed at each occurrence
// on its own, as if the two were different parameters.
func TypeOf(e *Expr, v Vocabulary) (Type, error) {
	t, bad, fault := typeOf(e, v)
	if bad == nil {
		return t, nil
	}
	x, _, _ := typeOf(bad.X, v)
	var cause string
	switch fault {
	case unitsDiffer:
		y, _, _ := typeOf(bad.Y, v)
		if bad.Kind == Add {
			cause = fmt.Sprintf("adding %s to %s", x, y)
		} else {
			cause = fmt.Sprintf("subtracting %s from %s", y, x)
		}
	case unitsNotAngle:
		name := map[Kind]string{Sin: "sin", Cos: "cos"}[bad.Kind]
		cause = fmt.Sprintf("%s of %s; sin and cos take a dimensionless number or an angle (A)", name, x)
	default:
		cause = "a unit exponent is beyond -128..127"
	}
	where := bad.String()
	if bad != e {
		where += " (in " + e.String() + ")"
	}
	return Type{}, fmt.Errorf("formulas: %s: %s", where, cause)
}

// typeOf is TypeOf without the message: on failure it returns the
// offending node and the fault.
func typeOf(e *Expr, v Vocabulary) (Type, *Expr, unitFault) {
	switch e.Kind {
	case Num:
		return Type{}, nil, unitsOK
	case VarQ:
		return Type{Unit: v.Q}, nil, unitsOK
	case VarP:
		return Type{Unit: v.P}, nil, unitsOK
	case Param:
		return Type{Free: true}, nil, unitsOK
	}
	x, bad, fault := typeOf(e.X, v)
	if bad != nil {
		return Type{}, bad, fault
	}
	var y Type
	if e.Y != nil {
		if y, bad, fault = typeOf(e.Y, v); bad != nil {
			return Type{}, bad, fault
		}
	}
	t, fault := apply(e.Kind, x, y)
	if fault != unitsOK {
		return Type{}, e, fault
	}
	return t, nil, unitsOK
}

// ParseTyped is Parse followed by TypeOf: it returns the formula only if
// it reads and its units are valid in v.
func ParseTyped(src string, v Vocabulary) (*Expr, error) {
	e, err := Parse(src)
	if err != nil {
		return nil, err
	}
	if _, err := TypeOf(e, v); err != nil {
		return nil, err
	}
	return e, nil
}
