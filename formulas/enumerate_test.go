package formulas

import (
	"strings"
	"testing"
)

// size is the number of nodes of e.
func size(e *Expr) int {
	if e == nil {
		return 0
	}
	return 1 + size(e.X) + size(e.Y)
}

// anon copies e with every parameter named c, as Enumerate builds it.
func anon(e *Expr) *Expr {
	c := *e
	if e.Kind == Param {
		c.Name = "c"
	}
	if e.X != nil {
		c.X = anon(e.X)
	}
	if e.Y != nil {
		c.Y = anon(e.Y)
	}
	return &c
}

// canonical is the form in which Enumerate lists the family of src.
func canonical(src string) string {
	k := 0
	return renamed(normalise(anon(MustParse(src)), whole), &k).String()
}

// tree is a formula of the brute-force enumeration with its printed form.
type tree struct {
	e *Expr
	s string
}

// allTrees returns, by size, every tree over q, p and a parameter c with
// at most n nodes that is valid in v's units, with no rule applied; with
// commutative, a + b and a*b only where a prints before or as b. It is the
// brute-force counterpart of Enumerate.
func allTrees(v Vocabulary, n int, commutative bool) [][]tree {
	out := make([][]tree, n+1)
	add := func(e *Expr) {
		if _, bad, _ := typeOf(e, v); bad == nil {
			out[size(e)] = append(out[size(e)], tree{e, e.String()})
		}
	}
	add(&Expr{Kind: VarQ})
	add(&Expr{Kind: VarP})
	add(param())
	for s := 2; s <= n; s++ {
		for _, x := range out[s-1] {
			for _, k := range []Kind{Square, Sin, Cos} {
				add(&Expr{Kind: k, X: x.e})
			}
		}
		for i := 1; i <= s-2; i++ {
			for _, x := range out[i] {
				for _, y := range out[s-1-i] {
					for _, k := range []Kind{Add, Sub, Mul, Div} {
						if !commutative || k == Sub || k == Div || x.s <= y.s {
							add(&Expr{Kind: k, X: x.e, Y: y.e})
						}
					}
				}
			}
		}
	}
	return out
}

func vocabulary(t testing.TB, system string) Vocabulary {
	v, err := VocabularyFor(system)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEnumerateMatchesNormaliser checks Enumerate against the brute force:
// every valid tree normalises to a formula Enumerate lists, no larger than
// the tree, and every listed formula is its own normal form.
func TestEnumerateMatchesNormaliser(t *testing.T) {
	for _, c := range []struct {
		system string
		depth  int
	}{{"pendulum", 7}, {"spring", 7}, {"real-pendulum", 6}} {
		t.Run(c.system, func(t *testing.T) {
			v := vocabulary(t, c.system)
			fs, _, err := Enumerate(v, c.depth, nil)
			if err != nil {
				t.Fatal(err)
			}
			kept := map[string]bool{}
			for _, f := range fs {
				a := anon(f)
				kept[a.String()] = true
				if n := normalise(a, whole); n.String() != a.String() {
					t.Errorf("Enumerate keeps %s, which normalises to %s", a, n)
				}
			}
			trees, bad := 0, 0
			for _, ts := range allTrees(v, c.depth, false) {
				for _, tr := range ts {
					trees++
					n := normalise(tr.e, whole)
					switch {
					case !hasInput(n):
					case size(n) > size(tr.e):
						t.Errorf("%s normalises to the larger %s", tr.s, n)
						bad++
					case !kept[n.String()]:
						t.Errorf("%s normalises to %s, which Enumerate does not list", tr.s, n)
						bad++
					}
					if bad > 10 {
						t.Fatal("too many errors")
					}
				}
			}
			t.Logf("%d valid trees of at most %d nodes, %d formulas", trees, c.depth, len(fs))
		})
	}
}

func TestEnumerateListing(t *testing.T) {
	for _, system := range []string{"pendulum", "spring", "real-pendulum"} {
		t.Run(system, func(t *testing.T) {
			v := vocabulary(t, system)
			var calls []int
			fs, st, err := Enumerate(v, 7, func(done, total int) {
				if total != 7 {
					t.Errorf("progress total %d, want 7", total)
				}
				calls = append(calls, done)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != 7 || calls[6] != 7 {
				t.Errorf("progress calls %v, want 1..7", calls)
			}
			byDepth := make([]int, 8)
			prev := ""
			for i, f := range fs {
				s := f.String()
				n := size(f)
				byDepth[n]++
				if i > 0 && (n < size(fs[i-1]) || n == size(fs[i-1]) && s <= prev) {
					t.Fatalf("%s listed after %s: not by size, then printed form", s, prev)
				}
				prev = s
				back, err := Parse(s)
				if err != nil || !back.Equal(f) {
					t.Fatalf("%s does not read back as the same tree: %v", s, err)
				}
				if _, err := TypeOf(f, v); err != nil {
					t.Fatal(err)
				}
				// Parameters are c0, c1, ... in the order they print.
				var names []string
				for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return !isLetter(byte(r)) && !isDigit(byte(r)) }) {
					if tok[0] == 'c' && tok != "cos" {
						names = append(names, tok)
					}
				}
				for k, name := range names {
					if name != "c"+string(rune('0'+k)) {
						t.Fatalf("%s: parameters %v, want c0, c1, ... in order", s, names)
					}
				}
			}
			if st.Total != len(fs) || len(st.ByDepth) != 8 {
				t.Fatalf("stats %+v for %d formulas", st, len(fs))
			}
			for n := range byDepth {
				if byDepth[n] != st.ByDepth[n] {
					t.Fatalf("ByDepth %v, counted %v", st.ByDepth, byDepth)
				}
			}
			again, _, _ := Enumerate(v, 6, nil)
			for i, f := range again {
				if !f.Equal(fs[i]) {
					t.Fatalf("depth 6 lists %s at %d, depth 7 %s", f, i, fs[i])
				}
			}
		})
	}
}

func TestEnumerateDepthRange(t *testing.T) {
	v := vocabulary(t, "spring")
	for _, d := range []int{0, MaxEnumDepth + 1} {
		if _, _, err := Enumerate(v, d, nil); err == nil || !strings.Contains(err.Error(), "formulas: Enumerate: depth") {
			t.Errorf("Enumerate depth %d: error %v", d, err)
		}
	}
}

// TestEnumerateTargets checks that the known conserved quantities are
// among the depth-7 formulas, in the form listed.
func TestEnumerateTargets(t *testing.T) {
	cases := []struct{ system, src, want string }{
		{"pendulum", "p^2 - c*cos(q)", "c0*cos(q) + p^2"},
		{"pendulum", "q^2 + c*p^2", "c0*p^2 + q^2"},
		{"real-pendulum", "p^2 - c*cos(q)", "c0*cos(q) + p^2"},
		{"spring", "q^2 + c*p^2", "c0*p^2 + q^2"},
		{"spring", "p^2 + c*q^2", "c0*q^2 + p^2"},
	}
	lists := map[string]map[string]bool{}
	for _, c := range cases {
		if lists[c.system] == nil {
			fs, _, err := Enumerate(vocabulary(t, c.system), 7, nil)
			if err != nil {
				t.Fatal(err)
			}
			lists[c.system] = map[string]bool{}
			for _, f := range fs {
				lists[c.system][f.String()] = true
			}
		}
		if got := canonical(c.src); got != c.want {
			t.Errorf("%s is listed as %s, want %s", c.src, got, c.want)
		}
		if !lists[c.system][c.want] {
			t.Errorf("%s: %s is not among the depth-7 formulas", c.system, c.want)
		}
	}
}

// TestEnumerateRules checks each rule on a formula it removes and on the
// representative it keeps, in the pendulum's depth-7 list.
func TestEnumerateRules(t *testing.T) {
	cases := []struct{ rule, removed, kept string }{
		{RuleUnits, "q + p", "p*q"},
		{RuleConstant, "sin(c0^2*q)", "sin(c0*q)"},
		{RuleConstant, "(c0 + c1)/q", "c0/q"},
		{RuleAssociativity, "p*(q*sin(q))", "p*q*sin(q)"},
		{RuleAssociativity, "p/(q/sin(q))", "p*sin(q)/q"},
		{RuleParamMerge, "sin(c0*q*c1)", "sin(c0*q)"},
		{RuleParamSign, "cos(q - c0)", "cos(c0 + q)"},
		{RuleParamSign, "sin(q/c0)", "sin(c0*q)"},
		{RuleParamSign, "p^2 - c0*cos(q)", "c0*cos(q) + p^2"},
		{RuleParamSign, "cos(q) - sin(c0*p)", "cos(q) + sin(c0*p)"},
		{RuleCommutativity, "q*p", "p*q"},
		{RuleCommutativity, "sin(q)*p", "p*sin(q)"},
		{RuleCommutativity, "sin(q) + cos(q)", "cos(q) + sin(q)"},
		{RuleRepeated, "sin(q + q)", "sin(c0*q)"},
		{RuleRepeated, "cos(q - q)*p", "p"},
		{RuleRepeated, "p*p", "p^2"},
		{RuleRepeated, "p^2/p", "p"},
		{RuleRepeated, "q/q^2", "c0/q"},
		{RuleRepeated, "q^2*q^2^2", "(q*q^2)^2"},
		{RuleRepeated, "q/p/q", "c0/p"},
		{RuleLikeTerms, "cos(c0*q + q)", "cos(c0*q)"},
		{RuleLikeTerms, "c0*p^2 + p^2", "p^2"},
		{RuleLikeTerms, "c0/q + c1/q", "c0/q"},
		{RuleParamSquare, "(c0*p)^2", "p^2"},
		{RuleParamSquare, "(c0/q)^2 + p", "c0/q^2 + p"},
		{RuleOrientation, "(sin(q) - cos(q))^2", "(cos(q) - sin(q))^2"},
		{RuleOrientation, "(c0 - p)^2", "(c0 + p)^2"},
		{RuleOrientation, "sin(q) - cos(q)", "cos(q) - sin(q)"},
		{RuleOrientation, "c0/(sin(q) - cos(q))", "c0/(cos(q) - sin(q))"},
		{RuleOrientation, "sin(sin(q) - cos(q))", "sin(cos(q) - sin(q))"},
		{RuleOrientation, "(c0 - q)*(c1 - p)", "(c0 + p)*(c1 + q)"},
		{RuleNoInput, "c0", "q"},
		{RuleAffine, "c0*q^2", "q^2"},
		{RuleAffine, "c0 + q^2", "q^2"},
		{RuleAffine, "c0 - q", "q"},
		{RuleAffine, "p/c0", "p"},
		{RuleAffine, "c0/q", "c0/q"}, // c/g is no affine map of g: kept
	}
	v := vocabulary(t, "pendulum")
	fs, st, err := Enumerate(v, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, f := range fs {
		listed[f.String()] = true
	}
	for _, c := range cases {
		e := MustParse(c.removed)
		_, err := TypeOf(e, v)
		switch {
		case (err == nil) != (c.rule != RuleUnits) || size(e) > 7:
			t.Errorf("%s: %s is no valid formula of at most 7 nodes to remove: %v", c.rule, c.removed, err)
		case c.removed != c.kept && listed[c.removed]:
			t.Errorf("%s: %s is listed", c.rule, c.removed)
		case !listed[c.kept]:
			t.Errorf("%s: %s is not listed", c.rule, c.kept)
		}
	}
	for _, rule := range []string{RuleUnits, RuleConstant, RuleAssociativity, RuleParamMerge, RuleParamSign, RuleCommutativity,
		RuleRepeated, RuleLikeTerms, RuleParamSquare, RuleOrientation, RuleNoInput, RuleAffine} {
		if st.Removed[rule] == 0 {
			t.Errorf("rule %s removed nothing", rule)
		}
	}
	if len(st.Removed) != 12 {
		t.Errorf("Removed has rules %v", st.Removed)
	}
}

// TestEnumeratePaperCount logs the count under the paper's rules (units,
// then duplicates under commutativity) next to Enumerate's, at depth 7.
func TestEnumeratePaperCount(t *testing.T) {
	if testing.Short() {
		t.Skip("brute force of depth 7")
	}
	for _, system := range []string{"pendulum", "spring"} {
		v := vocabulary(t, system)
		paper := 0
		for _, ts := range allTrees(v, 7, true) {
			paper += len(ts)
		}
		_, st, err := Enumerate(v, 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total > paper {
			t.Errorf("%s: Enumerate lists %d, more than the %d valid trees", system, st.Total, paper)
		}
		t.Logf("%s, depth 7: %d valid trees without commutative duplicates; Enumerate lists %d", system, paper, st.Total)
	}
}

// TestEnumerateBlocks checks rules that act only inside formulas too large
// for the brute force, on the sub-formulas Enumerate keeps to build with.
func TestEnumerateBlocks(t *testing.T) {
	cases := []struct {
		size          int
		dropped, kept string
		why           string
	}{
		{7, "(c - p)*(c - q)", "(c + p)*(c + q)", "two factors turn together"},
		{7, "(c + q)*(c - p)", "(c + q)*(c - p)", "one factor may stay unturned"},
		{9, "(c + c*q)*(c - q)", "(c + c*q)*(c + q)", "a sum of parameter terms takes the sign"},
		{8, "(c - q)*sin(c*q)", "(c + q)*sin(c*q)", "sin of a parameter product takes the sign"},
	}
	en := &enumerator{v: vocabulary(t, "pendulum"), removed: map[string]int{}}
	kept := map[string]bool{}
	for n := 1; n <= 9; n++ {
		en.build(n)
		for _, b := range en.bySize[n] {
			kept[b.str] = true
		}
	}
	for _, c := range cases {
		if size(MustParse(c.dropped)) != c.size || size(MustParse(c.kept)) != c.size {
			t.Errorf("%s: the case's sizes are not %d", c.why, c.size)
		}
		if c.dropped != c.kept && kept[c.dropped] || !kept[c.kept] {
			t.Errorf("%s: %s kept %v, %s kept %v", c.why, c.dropped, kept[c.dropped], c.kept, kept[c.kept])
		}
	}
}
