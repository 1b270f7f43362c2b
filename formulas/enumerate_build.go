package formulas

import "strings"

// block is a kept sub-formula of Enumerate with what the rules need to
// know about it, so that a candidate is judged from its two operands
// without walking their trees.
type block struct {
	e     *Expr  // parameters all named c
	str   string // e.String(), the key of term order
	size  int
	typ   Type
	input bool // e has q or p
	param bool // e has a parameter
	// pos and neg are the terms (factors) of e's level when e is a + -
	// (* /) node: positive (numerator) and negative (denominator), each in
	// term order.
	pos, neg []*block
	// unoriented counts the factors of e's level that are not signOK,
	// when e is a * or / node.
	unoriented int
	// signOK reports whether e is in canonical form in a place where its
	// sign does not matter (the orientation rule).
	signOK bool
	// absorbs reports whether e's family holds -e for each e: a parameter,
	// a product with such a factor, sin of such, or a sum of such terms.
	absorbs bool
	// For e without parameters: base is e with its squares taken off
	// (printed), and squares how many there were, so e = base^(2^squares).
	base    string
	squares int
	// like is e's part other than a parameter coefficient, printed as a
	// list of factors, when e is a product of a parameter and factors
	// without parameters (coef), or has no parameter itself; else "".
	// Terms of a sum with equal like and a coefficient combine.
	like string
	coef bool
}

// enumerator builds Enumerate's sub-formulas size by size.
type enumerator struct {
	v       Vocabulary
	bySize  [][]*block // bySize[n]: the kept sub-formulas of n nodes
	removed map[string]int
}

// isLevel reports whether kind k continues an additive level (additive)
// or a multiplicative one.
func isLevel(k Kind, additive bool) bool {
	if additive {
		return k == Add || k == Sub
	}
	return k == Mul || k == Div
}

// level returns the terms of b's level of the given sort; a b of another
// kind is a level of one positive term.
func (b *block) level(additive bool) (pos, neg []*block) {
	if isLevel(b.e.Kind, additive) {
		return b.pos, b.neg
	}
	return []*block{b}, nil
}

// before is term order: a lone parameter first, then by printed form.
func before(a, b *block) bool {
	if ap, bp := a.e.Kind == Param, b.e.Kind == Param; ap != bp {
		return ap
	}
	return a.str < b.str
}

// oriented reports whether a sum with terms pos and neg has the kept one
// of its two orientations (see Enumerate's orientation rule). Terms that
// absorb a sign are always positive and do not count.
func oriented(pos, neg []*block) bool {
	var p []*block
	for _, t := range pos {
		if !t.absorbs {
			p = append(p, t)
		}
	}
	if len(p) != len(neg) {
		return len(p) > len(neg)
	}
	for i := range p {
		if p[i].str != neg[i].str {
			return p[i].str < neg[i].str
		}
	}
	return true
}

// repeated reports whether the next term y, which has no parameters, of a
// level with terms pos and neg breaks the repeated-term rule.
func repeated(additive, negative bool, pos, neg []*block, y *block) bool {
	for i, terms := range [2][]*block{pos, neg} {
		opposite := (i == 1) != negative
		for _, t := range terms {
			switch {
			case t.str == y.str:
				return true
			case additive || t.param || t.base != y.base:
			case t.squares > 0 && y.squares > 0: // x^(2a) x^(2b) = (x^a x^b)^2
				return true
			case opposite && t.squares+y.squares == 1: // x^2/x, x/x^2
				return true
			}
		}
	}
	return false
}

// likeTerm reports whether the next term y of a sum with terms pos and
// neg combines with one of them: c*x and x, or c*x and c1*x.
func likeTerm(pos, neg []*block, y *block) bool {
	for _, terms := range [2][]*block{pos, neg} {
		for _, t := range terms {
			if t.like == y.like && (t.coef || y.coef) {
				return true
			}
		}
	}
	return false
}

// with returns a copy of terms with b appended; levels share no arrays,
// since many blocks extend the same one.
func with(terms []*block, b *block) []*block {
	return append(append(make([]*block, 0, len(terms)+1), terms...), b)
}

// drop counts a candidate rejected by rule and returns nil.
func (en *enumerator) drop(rule string) *block {
	en.removed[rule]++
	return nil
}

// build makes the kept sub-formulas of n nodes, appending bySize[n].
func (en *enumerator) build(n int) {
	for len(en.bySize) <= n {
		en.bySize = append(en.bySize, nil)
	}
	var kept []*block
	keep := func(b *block) {
		if b != nil {
			kept = append(kept, b)
		}
	}
	if n == 1 {
		keep(en.leaf(&Expr{Kind: VarQ}, Type{Unit: en.v.Q}))
		keep(en.leaf(&Expr{Kind: VarP}, Type{Unit: en.v.P}))
		keep(en.leaf(&Expr{Kind: Param, Name: "c"}, Type{Free: true}))
	}
	if n >= 2 {
		for _, x := range en.bySize[n-1] {
			for _, k := range []Kind{Square, Sin, Cos} {
				keep(en.unary(k, x))
			}
		}
	}
	for i := 1; i <= n-2; i++ {
		for _, x := range en.bySize[i] {
			for _, y := range en.bySize[n-1-i] {
				for _, k := range []Kind{Add, Sub, Mul, Div} {
					keep(en.binary(k, x, y))
				}
			}
		}
	}
	en.bySize[n] = kept
}

func (en *enumerator) leaf(e *Expr, t Type) *block {
	isParam := e.Kind == Param
	b := &block{e: e, str: e.String(), size: 1, typ: t, input: !isParam, param: isParam, signOK: true, absorbs: isParam}
	b.finish(nil)
	return b
}

// finish sets base, squares, like and coef from the other fields; sq is
// the operand when b is a square.
func (b *block) finish(sq *block) {
	switch {
	case b.param:
	case sq != nil:
		b.base, b.squares = sq.base, sq.squares+1
	default:
		b.base = b.str
	}
	pos, neg := b.level(false)
	if pos[0].e.Kind == Param && len(pos)+len(neg) > 1 {
		b.coef = true
		pos = pos[1:]
	}
	var like strings.Builder
	for i, f := range append(append([]*block(nil), pos...), neg...) {
		if f.param {
			return
		}
		if i == len(pos) {
			like.WriteString("/")
		}
		like.WriteString(f.str)
		like.WriteByte(0)
	}
	b.like = like.String()
}

// unary is the candidate k(x), or nil when a rule rejects it.
func (en *enumerator) unary(k Kind, x *block) *block {
	t, fault := apply(k, x.typ, Type{})
	switch {
	case fault != unitsOK:
		return en.drop(RuleUnits)
	case !x.input:
		return en.drop(RuleConstant)
	case k == Square && isLevel(x.e.Kind, false) && x.pos[0].e.Kind == Param:
		return en.drop(RuleParamSquare)
	case k != Sin && !x.signOK: // square and cos are even
		return en.drop(RuleOrientation)
	}
	e := &Expr{Kind: k, X: x.e}
	b := &block{e: e, str: e.String(), size: x.size + 1, typ: t, input: true, param: x.param,
		// sin is odd: a sign inside comes out, or a parameter takes it
		signOK: k != Sin || x.signOK, absorbs: k == Sin && x.absorbs}
	if k == Square {
		b.finish(x)
	} else {
		b.finish(nil)
	}
	return b
}

// binary is the candidate x k y, or nil when a rule rejects it. Since
// levels are left-deep, x holds the level so far and y is its next term.
func (en *enumerator) binary(k Kind, x, y *block) *block {
	t, fault := apply(k, x.typ, y.typ)
	if fault != unitsOK {
		return en.drop(RuleUnits)
	}
	if !x.input && !y.input {
		return en.drop(RuleConstant)
	}
	additive := k == Add || k == Sub
	if isLevel(y.e.Kind, additive) {
		return en.drop(RuleAssociativity)
	}
	pos, neg := x.level(additive)
	negative := k == Sub || k == Div
	if y.e.Kind == Param && pos[0].e.Kind == Param {
		return en.drop(RuleParamMerge)
	}
	if negative && (y.e.Kind == Param || additive && y.absorbs) {
		return en.drop(RuleParamSign)
	}
	if negative && len(neg) > 0 && before(y, neg[len(neg)-1]) ||
		!negative && (len(neg) > 0 || before(y, pos[len(pos)-1])) {
		return en.drop(RuleCommutativity)
	}
	if !y.param && repeated(additive, negative, pos, neg, y) {
		return en.drop(RuleRepeated)
	}
	if additive && y.like != "" && likeTerm(pos, neg, y) {
		return en.drop(RuleLikeTerms)
	}
	b := &block{size: x.size + y.size + 1, typ: t, input: x.input || y.input, param: x.param || y.param}
	if negative {
		b.pos, b.neg = pos, with(neg, y)
	} else {
		b.pos, b.neg = with(pos, y), neg
	}
	if additive {
		b.signOK = oriented(b.pos, b.neg)
		b.absorbs = x.absorbs && y.absorbs
	} else {
		b.absorbs = x.absorbs || y.absorbs
		b.unoriented = x.unoriented
		if !isLevel(x.e.Kind, false) && !x.signOK {
			b.unoriented = 1
		}
		if !y.signOK {
			b.unoriented++
		}
		// A factor that absorbs a sign takes any; otherwise two factors
		// can be turned together, which leaves one.
		if b.unoriented > 1 || b.unoriented > 0 && b.absorbs {
			return en.drop(RuleOrientation)
		}
		b.signOK = b.unoriented == 0
	}
	b.e = &Expr{Kind: k, X: x.e, Y: y.e}
	b.str = b.e.String()
	b.finish(nil)
	return b
}

// top reports whether kept sub-formula b is a formula of its own, counting
// it under its rule when not.
func (en *enumerator) top(b *block) bool {
	rule := ""
	switch {
	case !b.input:
		rule = RuleNoInput
	case isLevel(b.e.Kind, true) && b.pos[0].e.Kind == Param,
		isLevel(b.e.Kind, false) && b.pos[0].e.Kind == Param && len(b.pos) > 1:
		rule = RuleAffine
	case !b.signOK:
		rule = RuleOrientation
	default:
		return true
	}
	en.removed[rule]++
	return false
}
