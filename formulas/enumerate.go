package formulas

import (
	"fmt"
	"sort"
)

// The rules of Enumerate, as the keys of EnumStats.Removed.
const (
	RuleUnits         = "units"
	RuleConstant      = "constant"
	RuleAssociativity = "associativity"
	RuleParamMerge    = "parameter-merge"
	RuleParamSign     = "parameter-sign"
	RuleCommutativity = "commutativity"
	RuleRepeated      = "repeated-term"
	RuleLikeTerms     = "like-terms"
	RuleParamSquare   = "parameter-square"
	RuleOrientation   = "orientation"
	RuleNoInput       = "no-input"
	RuleAffine        = "affine"
)

// EnumStats describes a run of Enumerate.
type EnumStats struct {
	// Total is the number of formulas returned; ByDepth[n] how many of
	// them have n nodes (ByDepth[0] is 0).
	Total   int
	ByDepth []int
	// Blocks[n] is the number of sub-formulas of n nodes kept to build
	// larger ones; it includes those that are no formula on their own,
	// such as c*q.
	Blocks []int
	// Removed counts the candidates each rule rejected, by rule name
	// (RuleUnits ...). A candidate is counted under the first rule it
	// breaks, in the order of Enumerate's list; a rejected sub-formula is
	// never combined further, so what would have been built from it is not
	// counted anywhere.
	Removed map[string]int
}

// Enumerate returns every formula over q, p and parameters, with the
// operations + - * / sin cos and square, that has at most depth nodes, is
// valid in v's units (TypeOf) and survives the rules below.
//
// Depth is the number of nodes of the expression tree, that is the number
// of symbols of its prefix form: each input, parameter and operation counts
// one, parentheses none. p^2 - c*cos(q) is Sub Square p Mul c Cos q, 7
// nodes; q^2 + c*p^2 is 7 too. The vocabulary has no numbers and no
// negation (parameters stand for constants).
//
// Formulas are built bottom up by size: the sub-formulas of n nodes are
// every leaf (n = 1), every unary operation on a kept sub-formula of n-1
// nodes, and every binary operation on kept sub-formulas of i and n-1-i
// nodes. A sub-formula that breaks a rule is not kept, so nothing is built
// from it; each rule is monotone (a formula with a broken sub-formula
// breaks it too), and each keeps, for every formula it drops, another one
// of at most the same size whose family of functions (over all parameter
// values) contains the dropped one's, so no family is lost.
//
// Rules speak of levels: the additive level of a + or - node is the
// largest tree of + and - nodes around it, and its terms, each positive or
// negative, are the sub-formulas hanging off it (a - (b - c) has terms +a,
// -b, +c); the multiplicative level of a * or / node likewise has factors
// in the numerator or the denominator. Terms are ordered by their printed
// form with every parameter printed as c, except that a lone parameter
// comes first. Parameters are independent: c*q + c*p has two. A term
// absorbs a sign when its family holds its negation: a parameter, a
// product with such a factor (c*x), sin of such (sin(c*x)) and a sum of
// such. The rules, in the order a candidate is checked (no-input and
// affine apply to the whole formula only, the others to every node):
//
//   - units: TypeOf fails.
//   - constant: a sub-formula without q and p must be a single parameter:
//     c + c, c*c, c/c, sin(c), c^2 take values a parameter takes, and a
//     parameter fits wherever they fit (it is Free).
//   - associativity: levels are left-deep, so the right operand of + or - is
//     no sum or difference, and that of * or / no product or quotient.
//     (a + b) + c and a + (b + c) are equal; a - (b - c) is a - b + c.
//   - parameter-merge: a level has at most one lone parameter among its
//     terms or factors: c + c1 + x is c2 + x, c*c1*x is c2*x, and
//     c/(c1*x) is c2/x.
//   - parameter-sign: a lone parameter is a numerator factor, and a term
//     that absorbs a sign is positive: x/c is c1*x with c1 = 1/c (c*x
//     adds c = 0); x - c, x - c*y and x - sin(c*y) are x + c1, x + c1*y
//     and x + sin(c1*y) with c1 = -c. So p^2 - c*cos(q) is listed as
//     c*cos(q) + p^2.
//   - commutativity: a level lists its positive terms (numerator factors)
//     first, then the negative ones (denominator), each group in order, so
//     a + b and b + a, a*b and b*a, a - b - c and a - c - b have one form.
//   - repeated-term: a term without parameters appears at most once in its
//     level, whatever the signs: x + x is 2x, of the family of c*x; x*x is
//     x^2 and x/y/y is x/y^2, both smaller; x - x and x/x cancel, leaving
//     the other terms, or 0 or 1 (a parameter covers those), or a
//     negation or reciprocal of the rest (c*y covers -y, c/y covers 1/y).
//     Powers of one base count too where the result is smaller: x^2/x is
//     x, x/x^2 is of c/x, and two squares, x^2*x^2^2 or x^2/x^2^2, are a
//     square, (x*x^2)^2 or (x/x^2)^2; x*x^2, a cube, is kept. A term with
//     parameters is kept: sin(c*q) - sin(c*q) is not zero.
//   - like-terms: no two terms of a sum are c*x and x, or c*x and c1*x,
//     with x a product without parameters (one factor or more, in the
//     numerator or not, so c/q and c1/q too): they are (c + 1)*x or
//     (c + c1)*x, one parameter's family.
//   - parameter-square: no square of a product with a parameter factor:
//     (c*x)^2 is c^2*x^2, of the family of c*x^2, which has as many nodes
//     ((c/x)^2 likewise of c/x^2).
//   - no-input: the whole formula has q or p in it (with the constant rule
//     only a lone parameter has not).
//   - affine: the whole formula is not a sum with a parameter term, nor a
//     product with a parameter factor and another numerator factor. The
//     formula is scored by its variance along trajectories against that on
//     random ones, which is the same for a*f + b as for f, so g + c,
//     g - c, c - g, c*g, g*c and g/c are g; c/g is not of that form and
//     is kept.
//   - orientation: where a sub-formula's sign does not matter, a sum in it
//     has one orientation of the two, a - b or b - a. The sign does not
//     matter in the whole formula (see affine), in the argument of square
//     and cos (even functions), in a factor of a product with a factor
//     that absorbs a sign, and, passed on, in the argument of sin (odd)
//     and in the factors of a product placed where the sign does not
//     matter. Two factors of a product can be turned together,
//     (a - b)*(c - d) = (b - a)*(d - c), so a product has at most one
//     factor not so oriented. Terms that absorb a sign stay positive and
//     are left out of the comparison; of the two orientations the one with
//     more positive terms is kept, and with as many, the one whose
//     positive terms, compared in order with its negative ones by printed
//     form, come first: cos(q) - sin(q), not sin(q) - cos(q).
//
// The rules do not look for identities of sin and cos (sin(x)^2 is
// 1 - cos(x)^2), nor for factors common to the terms of a sum.
//
// The formulas come sorted by size, then by their printed form, with the
// parameters renamed c0, c1, ... in the order they appear when printed
// (left to right). progress, if not nil, is called after each size is
// built with the sizes done and depth. Enumerate allows depths up to
// MaxEnumDepth.
func Enumerate(v Vocabulary, depth int, progress func(done, total int)) ([]*Expr, EnumStats, error) {
	if depth < 1 || depth > MaxEnumDepth {
		return nil, EnumStats{}, fmt.Errorf("formulas: Enumerate: depth %d is outside 1..%d", depth, MaxEnumDepth)
	}
	en := &enumerator{v: v, removed: map[string]int{}}
	st := EnumStats{ByDepth: make([]int, depth+1), Blocks: make([]int, depth+1), Removed: en.removed}
	type out struct {
		e    *Expr
		str  string
		size int
	}
	var all []out
	for n := 1; n <= depth; n++ {
		en.build(n)
		st.Blocks[n] = len(en.bySize[n])
		for _, b := range en.bySize[n] {
			if en.top(b) {
				k := 0
				e := renamed(b.e, &k)
				all = append(all, out{e, e.String(), n})
				st.ByDepth[n]++
			}
		}
		if progress != nil {
			progress(n, depth)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].size != all[j].size {
			return all[i].size < all[j].size
		}
		return all[i].str < all[j].str
	})
	exprs := make([]*Expr, len(all))
	for i, o := range all {
		exprs[i] = o.e
	}
	st.Total = len(exprs)
	return exprs, st, nil
}

// MaxEnumDepth is the largest depth Enumerate accepts: at 9 it lists
// about 137,000 pendulum formulas in about a second and 120 MB, and each
// node more multiplies that by about five.
const MaxEnumDepth = 9

// renamed copies e with its parameters named c0, c1, ... in the order they
// print; *k counts those named so far.
func renamed(e *Expr, k *int) *Expr {
	c := *e
	if e.Kind == Param {
		c.Name = fmt.Sprintf("c%d", *k)
		*k++
	}
	if e.X != nil {
		c.X = renamed(e.X, k)
	}
	if e.Y != nil {
		c.Y = renamed(e.Y, k)
	}
	return &c
}
