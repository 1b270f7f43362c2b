package formulas

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind is an expression node's kind.
type Kind int

// Expression node kinds.
const (
	Num    Kind = iota // a number (Value)
	VarQ               // the coordinate q
	VarP               // the momentum p
	Param              // a named scalar parameter (Name)
	Add                // X + Y
	Sub                // X - Y
	Mul                // X * Y
	Div                // X / Y
	Neg                // -X
	Square             // X^2
	Sin                // sin(X)
	Cos                // cos(X)
)

// Expr is a parsed conserved-quantity formula over the state (q, p), a
// tree: X and Y are the operands (Y only for binary kinds).
type Expr struct {
	Kind  Kind
	Value float64 // Num
	Name  string  // Param
	X, Y  *Expr
}

// Parse reads a formula. Grammar, loosest first:
//
//	sum     = product { ("+" | "-") product }
//	product = unary { ("*" | "/") unary }
//	unary   = "-" unary | power
//	power   = primary { "^" "2" }
//	primary = number | "q" | "p" | name | ("sin" | "cos") "(" sum ")" | "(" sum ")"
//
// so ^ binds tighter than unary minus (-q^2 is -(q^2)), which binds
// tighter than * and /, then + and -; binary operators group left to
// right. Numbers are decimal with an optional fraction and exponent (3,
// 2.39, .5, 1e-3); a name is a letter or _ then letters, digits or _, other
// than q, p, sin and cos, and is a parameter. The only exponent is 2.
// Errors name the column (1-based, in bytes) and what was expected.
func Parse(src string) (*Expr, error) {
	ps := &parser{src: src}
	ps.next()
	e, err := ps.sum()
	if err != nil {
		return nil, err
	}
	if ps.tok.kind == tBad {
		return nil, ps.err
	}
	if ps.tok.kind != tEOF {
		return nil, ps.errorf("expected an operator or the end, found %s", ps.tok)
	}
	return e, nil
}

// MustParse is Parse for formulas known to be valid; it panics on error.
func MustParse(src string) *Expr {
	e, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return e
}

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tIdent
	tOp // one of + - * / ^ ( )
	tBad
)

type token struct {
	kind tokKind
	text string
	num  float64
	col  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "the end"
	case tNum:
		return "number " + t.text
	case tIdent:
		return "name " + t.text
	}
	return strconv.Quote(t.text)
}

type parser struct {
	src string
	pos int
	tok token
	err error // a lexing error met by next
}

func (ps *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("formula %q: column %d: %s", ps.src, ps.tok.col, fmt.Sprintf(format, args...))
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func (ps *parser) next() {
	s := ps.src
	for ps.pos < len(s) && (s[ps.pos] == ' ' || s[ps.pos] == '\t' || s[ps.pos] == '\n' || s[ps.pos] == '\r') {
		ps.pos++
	}
	start := ps.pos
	ps.tok = token{col: start + 1}
	if start >= len(s) {
		ps.tok.kind = tEOF
		return
	}
	c := s[start]
	switch {
	case isLetter(c):
		for ps.pos < len(s) && (isLetter(s[ps.pos]) || isDigit(s[ps.pos])) {
			ps.pos++
		}
		ps.tok.kind, ps.tok.text = tIdent, s[start:ps.pos]
	case isDigit(c) || c == '.':
		for ps.pos < len(s) && isDigit(s[ps.pos]) {
			ps.pos++
		}
		if ps.pos < len(s) && s[ps.pos] == '.' {
			ps.pos++
			for ps.pos < len(s) && isDigit(s[ps.pos]) {
				ps.pos++
			}
		}
		if ps.pos < len(s) && (s[ps.pos] == 'e' || s[ps.pos] == 'E') {
			j := ps.pos + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && isDigit(s[j]) {
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				ps.pos = j
			}
		}
		ps.tok.text = s[start:ps.pos]
		v, err := strconv.ParseFloat(ps.tok.text, 64)
		if err != nil || math.IsInf(v, 0) {
			ps.tok.kind = tBad
			if ps.tok.text == "." {
				ps.err = fmt.Errorf("formula %q: column %d: expected a digit before or after '.'", s, start+1)
			} else {
				ps.err = fmt.Errorf("formula %q: column %d: number %s is out of range", s, start+1, ps.tok.text)
			}
			return
		}
		ps.tok.kind, ps.tok.num = tNum, v
	case strings.IndexByte("+-*/^()", c) >= 0:
		ps.pos++
		ps.tok.kind, ps.tok.text = tOp, s[start:ps.pos]
	default:
		ps.pos++
		ps.tok.kind, ps.tok.text = tBad, s[start:ps.pos]
		ps.err = fmt.Errorf("formula %q: column %d: unexpected character %q; formulas use numbers, q, p, parameter names, + - * / ^2, sin, cos and parentheses", s, start+1, s[start:ps.pos])
	}
}

func (ps *parser) is(op string) bool { return ps.tok.kind == tOp && ps.tok.text == op }

func (ps *parser) sum() (*Expr, error) {
	x, err := ps.product()
	for err == nil && (ps.is("+") || ps.is("-")) {
		k := Add
		if ps.tok.text == "-" {
			k = Sub
		}
		ps.next()
		var y *Expr
		if y, err = ps.product(); err == nil {
			x = &Expr{Kind: k, X: x, Y: y}
		}
	}
	return x, err
}

func (ps *parser) product() (*Expr, error) {
	x, err := ps.unary()
	for err == nil && (ps.is("*") || ps.is("/")) {
		k := Mul
		if ps.tok.text == "/" {
			k = Div
		}
		ps.next()
		var y *Expr
		if y, err = ps.unary(); err == nil {
			x = &Expr{Kind: k, X: x, Y: y}
		}
	}
	return x, err
}

func (ps *parser) unary() (*Expr, error) {
	if ps.is("-") {
		ps.next()
		x, err := ps.unary()
		if err != nil {
			return nil, err
		}
		return &Expr{Kind: Neg, X: x}, nil
	}
	return ps.power()
}

func (ps *parser) power() (*Expr, error) {
	x, err := ps.primary()
	for err == nil && ps.is("^") {
		ps.next()
		if ps.tok.kind == tBad {
			return nil, ps.err
		}
		if ps.tok.kind != tNum || ps.tok.num != 2 {
			return nil, ps.errorf("expected the exponent 2 after '^' (the only power formulas allow; write x*x*x for a cube), found %s", ps.tok)
		}
		ps.next()
		x = &Expr{Kind: Square, X: x}
	}
	return x, err
}

func (ps *parser) primary() (*Expr, error) {
	t := ps.tok
	switch {
	case t.kind == tBad:
		return nil, ps.err
	case t.kind == tNum:
		ps.next()
		return &Expr{Kind: Num, Value: t.num}, nil
	case t.kind == tIdent:
		ps.next()
		switch t.text {
		case "q":
			return &Expr{Kind: VarQ}, nil
		case "p":
			return &Expr{Kind: VarP}, nil
		case "sin", "cos":
			if !ps.is("(") {
				return nil, ps.errorf("expected '(' after %s, found %s", t.text, ps.tok)
			}
			x, err := ps.paren()
			if err != nil {
				return nil, err
			}
			k := Sin
			if t.text == "cos" {
				k = Cos
			}
			return &Expr{Kind: k, X: x}, nil
		}
		if ps.is("(") {
			return nil, fmt.Errorf("formula %q: column %d: unknown function %s; the functions are sin and cos", ps.src, t.col, t.text)
		}
		return &Expr{Kind: Param, Name: t.text}, nil
	case ps.is("("):
		return ps.paren()
	}
	return nil, ps.errorf("expected a number, q, p, a parameter name, sin, cos, '-' or '(', found %s", t)
}

// paren reads "(" sum ")" with the current token at "(".
func (ps *parser) paren() (*Expr, error) {
	ps.next()
	x, err := ps.sum()
	if err != nil {
		return nil, err
	}
	if !ps.is(")") {
		return nil, ps.errorf("expected ')' or an operator, found %s", ps.tok)
	}
	ps.next()
	return x, nil
}

// prec is how tightly e's printed form binds: 1 sums, 2 products, 3
// negations, 4 squares, 5 atoms and calls.
func (e *Expr) prec() int {
	switch e.Kind {
	case Add, Sub:
		return 1
	case Mul, Div:
		return 2
	case Neg:
		return 3
	case Square:
		return 4
	}
	return 5
}

// String prints e with the fewest parentheses that Parse reads back as the
// same tree; numbers print in Go's shortest exact form (1e-05, 2.39).
func (e *Expr) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *Expr) write(b *strings.Builder) {
	sub := func(x *Expr, min int) {
		if x.prec() < min {
			b.WriteByte('(')
			x.write(b)
			b.WriteByte(')')
			return
		}
		x.write(b)
	}
	switch e.Kind {
	case Num:
		b.WriteString(strconv.FormatFloat(e.Value, 'g', -1, 64))
	case VarQ:
		b.WriteString("q")
	case VarP:
		b.WriteString("p")
	case Param:
		b.WriteString(e.Name)
	case Add, Sub, Mul, Div:
		p := e.prec()
		sub(e.X, p)
		b.WriteString([...]string{Add: " + ", Sub: " - ", Mul: "*", Div: "/"}[e.Kind])
		sub(e.Y, p+1)
	case Neg:
		b.WriteByte('-')
		sub(e.X, 3)
	case Square:
		sub(e.X, 4)
		b.WriteString("^2")
	case Sin, Cos:
		b.WriteString([...]string{Sin: "sin(", Cos: "cos("}[e.Kind])
		e.X.write(b)
		b.WriteByte(')')
	}
}

// Params returns the names of e's parameters, sorted, each once.
func (e *Expr) Params() []string {
	seen := map[string]bool{}
	var walk func(*Expr)
	walk = func(x *Expr) {
		if x == nil {
			return
		}
		if x.Kind == Param {
			seen[x.Name] = true
		}
		walk(x.X)
		walk(x.Y)
	}
	walk(e)
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Eval computes e at (q, p) in float64. A parameter missing from params
// counts as NaN, so a forgotten one cannot pass unnoticed.
func (e *Expr) Eval(q, p float64, params map[string]float64) float64 {
	v, _, _ := e.EvalGrad(q, p, params)
	return v
}

// EvalGrad computes e at (q, p) and its partial derivatives with respect
// to q and to p (forward mode), in float64.
func (e *Expr) EvalGrad(q, p float64, params map[string]float64) (v, dq, dp float64) {
	switch e.Kind {
	case Num:
		return e.Value, 0, 0
	case VarQ:
		return q, 1, 0
	case VarP:
		return p, 0, 1
	case Param:
		if c, ok := params[e.Name]; ok {
			return c, 0, 0
		}
		return math.NaN(), 0, 0
	case Neg:
		a, aq, ap := e.X.EvalGrad(q, p, params)
		return -a, -aq, -ap
	case Square:
		a, aq, ap := e.X.EvalGrad(q, p, params)
		return a * a, 2 * a * aq, 2 * a * ap
	case Sin:
		a, aq, ap := e.X.EvalGrad(q, p, params)
		c := math.Cos(a)
		return math.Sin(a), c * aq, c * ap
	case Cos:
		a, aq, ap := e.X.EvalGrad(q, p, params)
		s := -math.Sin(a)
		return math.Cos(a), s * aq, s * ap
	}
	a, aq, ap := e.X.EvalGrad(q, p, params)
	b, bq, bp := e.Y.EvalGrad(q, p, params)
	switch e.Kind {
	case Add:
		return a + b, aq + bq, ap + bp
	case Sub:
		return a - b, aq - bq, ap - bp
	case Mul:
		return a * b, aq*b + a*bq, ap*b + a*bp
	case Div:
		return a / b, (aq*b - a*bq) / (b * b), (ap*b - a*bp) / (b * b)
	}
	panic(fmt.Sprintf("formulas: unknown expression kind %d", e.Kind))
}

// Equal reports whether e and f are the same tree (numbers compared
// exactly).
func (e *Expr) Equal(f *Expr) bool {
	if e == nil || f == nil {
		return e == f
	}
	return e.Kind == f.Kind && math.Float64bits(e.Value) == math.Float64bits(f.Value) && e.Name == f.Name && e.X.Equal(f.X) && e.Y.Equal(f.Y)
}
