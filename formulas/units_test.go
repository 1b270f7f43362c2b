package formulas

import (
	"strings"
	"testing"
)

func TestUnitString(t *testing.T) {
	cases := []struct {
		u    Unit
		want string
	}{
		{Unit{}, "1"},
		{Unit{1, 2, -1, 0}, "M L^2 T^-1"},
		{Unit{3: 1}, "A"},
		{Unit{2: -1, 3: 1}, "T^-1 A"},
		{Unit{-128, 127, 0, 0}, "M^-128 L^127"},
	}
	for _, c := range cases {
		if got := c.u.String(); got != c.want {
			t.Errorf("%v.String() = %q, want %q", [4]int8(c.u), got, c.want)
		}
	}
}

func TestVocabularyFor(t *testing.T) {
	cases := []struct{ system, q, p string }{
		{"pendulum", "A", "M L^2 T^-1"},
		{"real-pendulum", "A", "T^-1 A"},
		{"spring", "L", "M L T^-1"},
	}
	for _, c := range cases {
		v, err := VocabularyFor(c.system)
		if err != nil || v.System != c.system || v.Q.String() != c.q || v.P.String() != c.p {
			t.Errorf("VocabularyFor(%q) = %+v, %v; want q %s, p %s", c.system, v, err, c.q, c.p)
		}
	}
	_, err := VocabularyFor("double-pendulum")
	want := `formulas: VocabularyFor("double-pendulum"): unknown system; the systems are pendulum, real-pendulum, spring`
	if err == nil || err.Error() != want {
		t.Errorf("VocabularyFor(unknown) error %v, want %s", err, want)
	}
}

func TestTypeOf(t *testing.T) {
	cases := []struct {
		system, src string
		want        string // the type, or the error's text
	}{
		{"pendulum", "q", "A"},
		{"pendulum", "p^2", "M^2 L^4 T^-2"},
		{"pendulum", "p^2 - c*cos(q)", "M^2 L^4 T^-2"},
		{"pendulum", "c*cos(q) + p^2", "M^2 L^4 T^-2"},
		{"pendulum", "3*(1 - cos(q)) + p^2", "formulas: 3*(1 - cos(q)) + p^2: adding 1 to M^2 L^4 T^-2"},
		{"pendulum", "p/q", "M L^2 T^-1 A^-1"},
		{"pendulum", "sin(q) + 2", "1"},
		{"pendulum", "sin(q^2)", "formulas: sin(q^2): sin of A^2; sin and cos take a dimensionless number or an angle (A)"},
		{"pendulum", "sin(q/q)*cos(q*0.5)", "1"},
		{"pendulum", "q + p", "formulas: q + p: adding A to M L^2 T^-1"},
		{"pendulum", "q - p", "formulas: q - p: subtracting M L^2 T^-1 from A"},
		{"pendulum", "cos(q + p)*c", "formulas: q + p (in cos(q + p)*c): adding A to M L^2 T^-1"},
		{"pendulum", "-q", "A"},
		{"pendulum", "c", "free"},
		{"pendulum", "c*q", "free"},
		{"pendulum", "c/c2", "free"},
		{"pendulum", "(c*q)^2", "free"},
		{"pendulum", "c*q + p", "M L^2 T^-1"},
		{"pendulum", "p + c*q", "M L^2 T^-1"},
		{"pendulum", "c*q + c2*p", "free"},
		{"pendulum", "sin(c*p)", "1"},
		{"pendulum", "cos(c + p^2)", "formulas: cos(c + p^2): cos of M^2 L^4 T^-2; sin and cos take a dimensionless number or an angle (A)"},
		{"pendulum", "q^2^2^2^2^2^2^2", "formulas: q^2^2^2^2^2^2^2: a unit exponent is beyond -128..127"},
		{"spring", "q^2 + c*p^2", "L^2"},
		{"spring", "q^2 + p^2", "formulas: q^2 + p^2: adding L^2 to M^2 L^2 T^-2"},
		{"spring", "sin(q)", "formulas: sin(q): sin of L; sin and cos take a dimensionless number or an angle (A)"},
		{"spring", "q*p/q", "M L T^-1"},
		{"real-pendulum", "p^2 - c*cos(q)", "T^-2 A^2"},
		{"real-pendulum", "sin(p)", "formulas: sin(p): sin of T^-1 A; sin and cos take a dimensionless number or an angle (A)"},
		{"real-pendulum", "q*p - p", "formulas: q*p - p: subtracting T^-1 A from T^-1 A^2"},
	}
	for _, c := range cases {
		t.Run(c.system+"/"+c.src, func(t *testing.T) {
			v, err := VocabularyFor(c.system)
			if err != nil {
				t.Fatal(err)
			}
			typ, err := TypeOf(MustParse(c.src), v)
			got := typ.String()
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("TypeOf(%s) = %s, want %s", c.src, got, c.want)
			}
		})
	}
}

func TestParseTyped(t *testing.T) {
	v, _ := VocabularyFor("spring")
	if e, err := ParseTyped("q^2 + c*p^2", v); err != nil || e.String() != "q^2 + c*p^2" {
		t.Errorf("ParseTyped(q^2 + c*p^2) = %v, %v", e, err)
	}
	for src, want := range map[string]string{
		"q^2 + p^2": "formulas: q^2 + p^2: adding L^2 to M^2 L^2 T^-2",
		"q^3":       `formula "q^3": column 3: expected the exponent 2`,
	} {
		if e, err := ParseTyped(src, v); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseTyped(%q) = %v, %v; want error %s", src, e, err, want)
		}
	}
}

func FuzzParseTyped(f *testing.F) {
	for _, c := range exprCases {
		f.Add(c.src, uint8(0))
	}
	for _, s := range []string{"q + p", "sin(p)", "c*q + p", "q^2^2^2^2^2^2^2^2", "cos(c + p^2)", "(c*q)^2 + p", "p/(q-q)"} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, src string, system uint8) {
		v := vocabularies[int(system)%len(vocabularies)]
		e, err := ParseTyped(src, v)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "formula") {
				t.Fatalf("error without the package's prefix: %v", err)
			}
			return
		}
		s := e.String()
		back, err := ParseTyped(s, v)
		if err != nil || !back.Equal(e) {
			t.Fatalf("%q printed as %q reads back as %v, %v", src, s, back, err)
		}
		t1, _ := TypeOf(e, v)
		if t2, _ := TypeOf(back, v); t1 != t2 {
			t.Fatalf("%q typed %v, its print %v", src, t1, t2)
		}
	})
}
