package formulas

import (
	"fmt"
	"sort"
	"strings"
)

// This file is a second, independent statement of Enumerate's rules, for
// its tests: a normaliser that rewrites any formula, step by step, into the
// representative Enumerate keeps for it. Each step keeps the family of
// functions or widens it and never adds nodes. It works on whole trees
// (flattening levels afresh each time) where Enumerate judges one node from
// summaries of its operands. Parameters are all named c here.

// place is where a sub-formula sits, for the normaliser.
type place int

const (
	plain    place = iota // its sign matters
	signFree              // a sign flip of it is absorbed (orientation rule)
	whole                 // it is the whole formula: affine maps are absorbed
)

// term is a term of a sum (neg: subtracted) or a factor of a product
// (neg: in the denominator).
type term struct {
	e   *Expr
	neg bool
}

func param() *Expr { return &Expr{Kind: Param, Name: "c"} }

func hasKind(e *Expr, ks ...Kind) bool {
	if e == nil {
		return false
	}
	for _, k := range ks {
		if e.Kind == k {
			return true
		}
	}
	return hasKind(e.X, ks...) || hasKind(e.Y, ks...)
}

func hasInput(e *Expr) bool { return hasKind(e, VarQ, VarP) }
func hasParam(e *Expr) bool { return hasKind(e, Param) }

// levelTerms returns the terms of e's level (additive or multiplicative);
// neg flips them all.
func levelTerms(e *Expr, additive, neg bool) []term {
	if !isLevel(e.Kind, additive) {
		return []term{{e, neg}}
	}
	return append(levelTerms(e.X, additive, neg), levelTerms(e.Y, additive, neg != (e.Kind == Sub || e.Kind == Div))...)
}

// reflatten expands terms that are levels themselves.
func reflatten(ts []term, additive bool) []term {
	var out []term
	for _, t := range ts {
		out = append(out, levelTerms(t.e, additive, t.neg)...)
	}
	return out
}

// termLess is term order: a lone parameter first, then by printed form.
func termLess(a, b *Expr) bool {
	if (a.Kind == Param) != (b.Kind == Param) {
		return a.Kind == Param
	}
	return a.String() < b.String()
}

// split returns the positive and the negative terms, each sorted.
func split(ts []term) (pos, neg []*Expr) {
	for _, t := range ts {
		if t.neg {
			neg = append(neg, t.e)
		} else {
			pos = append(pos, t.e)
		}
	}
	sort.SliceStable(pos, func(i, j int) bool { return termLess(pos[i], pos[j]) })
	sort.SliceStable(neg, func(i, j int) bool { return termLess(neg[i], neg[j]) })
	return pos, neg
}

// build makes the canonical left-deep level of ts, which has a positive
// term.
func build(ts []term, additive bool) *Expr {
	pos, neg := split(ts)
	if len(pos) == 0 {
		panic(fmt.Sprintf("build of a level without a positive term: %v", ts))
	}
	plus, minus := Add, Sub
	if !additive {
		plus, minus = Mul, Div
	}
	e := pos[0]
	for _, x := range pos[1:] {
		e = &Expr{Kind: plus, X: e, Y: x}
	}
	for _, x := range neg {
		e = &Expr{Kind: minus, X: e, Y: x}
	}
	return e
}

// absorbs reports whether -e is in e's family.
func absorbs(e *Expr) bool {
	switch e.Kind {
	case Param:
		return true
	case Sin:
		return absorbs(e.X)
	case Mul, Div:
		for _, f := range levelTerms(e, false, false) {
			if absorbs(f.e) {
				return true
			}
		}
	case Add, Sub:
		for _, f := range levelTerms(e, true, false) {
			if !absorbs(f.e) {
				return false
			}
		}
		return true
	}
	return false
}

// isOriented is the orientation rule on a sum's terms.
func isOriented(ts []term) bool {
	var p, n []string
	for _, t := range ts {
		switch {
		case absorbs(t.e):
		case t.neg:
			n = append(n, t.e.String())
		default:
			p = append(p, t.e.String())
		}
	}
	if len(p) != len(n) {
		return len(p) > len(n)
	}
	sort.Strings(p)
	sort.Strings(n)
	return strings.Join(p, "\x00") <= strings.Join(n, "\x00")
}

// signCanonical reports whether e needs no flip where its sign is free.
func signCanonical(e *Expr) bool {
	switch e.Kind {
	case Add, Sub:
		return isOriented(levelTerms(e, true, false))
	case Mul, Div:
		for _, f := range levelTerms(e, false, false) {
			if !signCanonical(f.e) {
				return false
			}
		}
	case Sin:
		return signCanonical(e.X)
	}
	return true
}

// normalise returns the representative of e's family at place at.
func normalise(e *Expr, at place) *Expr {
	for i := 0; ; i++ {
		if i == 100 {
			panic(fmt.Sprintf("normalise %s does not settle", e))
		}
		r := normStep(e, at)
		if r.String() == e.String() {
			return r
		}
		e = r
	}
}

// normStep normalises e's operands and applies at most one rule to e.
func normStep(e *Expr, at place) *Expr {
	if !hasInput(e) {
		return param() // constant
	}
	switch e.Kind {
	case Sin:
		if at != plain {
			at = signFree
		}
		return &Expr{Kind: Sin, X: normalise(e.X, at)}
	case Cos:
		return &Expr{Kind: Cos, X: normalise(e.X, signFree)}
	case Square:
		x := normalise(e.X, signFree)
		if fs := levelTerms(x, false, false); isLevel(x.Kind, false) && fs[0].e.Kind == Param {
			// parameter-square: (c*N/D)^2 -> c*(N/D)^2, (c/D)^2 -> c/D^2
			rest := fs[1:]
			if pos, _ := split(rest); len(pos) > 0 {
				return &Expr{Kind: Mul, X: param(), Y: &Expr{Kind: Square, X: build(rest, false)}}
			}
			for i := range rest {
				rest[i].neg = false
			}
			return &Expr{Kind: Div, X: param(), Y: &Expr{Kind: Square, X: build(rest, false)}}
		}
		return &Expr{Kind: Square, X: x}
	case Add, Sub:
		return normSum(e, at)
	case Mul, Div:
		return normProduct(e, at)
	}
	return e
}

// mergeParams replaces the lone parameters among ts by one positive one.
func mergeParams(ts []term) ([]term, bool) {
	var out []term
	for _, t := range ts {
		if t.e.Kind != Param {
			out = append(out, t)
		}
	}
	if len(out) == len(ts) {
		return ts, false
	}
	return append([]term{{param(), false}}, out...), true
}

// without returns ts less the terms at i and j.
func without(ts []term, i, j int) []term {
	var out []term
	for k, t := range ts {
		if k != i && k != j {
			out = append(out, t)
		}
	}
	return out
}

func normSum(e *Expr, at place) *Expr {
	ts := levelTerms(e, true, false)
	for i := range ts {
		ts[i].e = normalise(ts[i].e, plain)
	}
	ts, _ = mergeParams(reflatten(ts, true))
	if len(ts) == 1 && !ts[0].neg {
		return ts[0].e
	}
	for i := range ts {
		for j := i + 1; j < len(ts); j++ {
			a, b := ts[i], ts[j]
			if hasParam(a.e) || a.e.String() != b.e.String() {
				continue
			}
			rest := without(ts, i, j)
			if a.neg == b.neg { // x + x = 2x, of c*x
				return build(append(rest, term{&Expr{Kind: Mul, X: param(), Y: a.e}, a.neg}), true)
			}
			// x - x: cancel; a negation left over goes into c*(...)
			if len(rest) == 0 {
				return param()
			}
			if pos, _ := split(rest); len(pos) == 0 {
				for k := range rest {
					rest[k].neg = false
				}
				return &Expr{Kind: Mul, X: param(), Y: build(rest, true)}
			}
			return build(rest, true)
		}
	}
	for i := range ts {
		for j := i + 1; j < len(ts); j++ {
			ka, ca, ra := likeKey(ts[i].e)
			kb, cb, _ := likeKey(ts[j].e)
			if ka != "" && ka == kb && (ca || cb) { // c*x + x, c*x + c'*x
				rest := without(ts, i, j)
				combined := append([]term{{param(), false}}, ra...)
				return build(append(rest, term{build(combined, false), ts[i].neg}), true)
			}
		}
	}
	for i := range ts {
		if ts[i].neg && absorbs(ts[i].e) { // x - c*y = x + c'*y
			ts[i].neg = false
			return build(ts, true)
		}
	}
	if at != plain && !isOriented(ts) {
		for i := range ts {
			ts[i].neg = !absorbs(ts[i].e) && !ts[i].neg
		}
	}
	if at == whole && ts[0].e.Kind == Param { // affine: g + c
		ts = ts[1:]
		if pos, _ := split(ts); len(pos) == 0 {
			for i := range ts {
				ts[i].neg = false
			}
		}
	}
	return build(ts, true)
}

// likeKey returns e's factors other than a parameter coefficient, printed,
// whether there was such a coefficient, and the factors; "" when a factor
// left has a parameter.
func likeKey(e *Expr) (string, bool, []term) {
	fs := levelTerms(e, false, false)
	pos, neg := split(fs)
	coef := pos[0].Kind == Param && len(fs) > 1
	if coef {
		pos = pos[1:]
	}
	var b strings.Builder
	var rest []term
	for i, f := range append(append([]*Expr(nil), pos...), neg...) {
		if hasParam(f) {
			return "", false, nil
		}
		rest = append(rest, term{f, i >= len(pos)})
		fmt.Fprintf(&b, "%v:%s;", i >= len(pos), f)
	}
	return b.String(), coef, rest
}

// squares returns e's base and how many squares were taken off it.
func squares(e *Expr) (string, int) {
	n := 0
	for ; e.Kind == Square; e = e.X {
		n++
	}
	return e.String(), n
}

func normProduct(e *Expr, at place) *Expr {
	fs := levelTerms(e, false, false)
	for i := range fs {
		fs[i].e = normalise(fs[i].e, plain)
	}
	fs, withParam := mergeParams(reflatten(fs, false))
	if len(fs) == 1 && !fs[0].neg {
		return fs[0].e
	}
	// reciprocal keeps a level with no numerator expressible: 1/D is c/D.
	reciprocal := func(rest []term) *Expr {
		if len(rest) == 0 {
			return param()
		}
		if pos, _ := split(rest); len(pos) == 0 {
			rest = append(rest, term{param(), false})
		}
		return build(rest, false)
	}
	for i := range fs {
		for j := i + 1; j < len(fs); j++ {
			a, b := fs[i], fs[j]
			if hasParam(a.e) || hasParam(b.e) {
				continue
			}
			ba, na := squares(a.e)
			bb, nb := squares(b.e)
			rest := without(fs, i, j)
			switch {
			case a.e.String() == b.e.String() && a.neg == b.neg: // x*x = x^2
				return build(append(rest, term{&Expr{Kind: Square, X: a.e}, a.neg}), false)
			case a.e.String() == b.e.String(): // x/x = 1
				return reciprocal(rest)
			case ba != bb:
			case na > 0 && nb > 0: // x^(2m) x^(2n) = (x^m x^n)^2
				if a.neg {
					a, b = b, a
				}
				inner := []term{{a.e.X, false}, {b.e.X, a.neg != b.neg}}
				return build(append(rest, term{&Expr{Kind: Square, X: build(inner, false)}, a.neg && b.neg}), false)
			case a.neg != b.neg && na+nb == 1: // x^2/x = x, x/x^2 = 1/x
				sq := a
				if nb == 1 {
					sq = b
				}
				return reciprocal(append(rest, term{sq.e.X, sq.neg}))
			}
		}
	}
	anyAbsorbs := false
	for _, f := range fs {
		anyAbsorbs = anyAbsorbs || absorbs(f.e)
	}
	if anyAbsorbs || at != plain {
		for i := range fs {
			fs[i].e = normalise(fs[i].e, signFree)
		}
	} else {
		// Turn the factors that need it two at a time.
		var turn []int
		for i, f := range fs {
			if !signCanonical(f.e) {
				turn = append(turn, i)
			}
		}
		for k := 0; k+1 < len(turn); k += 2 {
			fs[turn[k]].e = normalise(fs[turn[k]].e, signFree)
			fs[turn[k+1]].e = normalise(fs[turn[k+1]].e, signFree)
		}
	}
	if pos, _ := split(fs); at == whole && withParam && len(pos) > 1 { // affine: c*g
		fs = fs[1:]
	}
	return build(fs, false)
}
