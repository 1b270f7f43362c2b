package physics

import "math"

// The legacy Gaussian takes log(r2) from the C library, whose log is
// correctly rounded in all but vanishingly rare cases; Go's math.Log is
// off by one ulp now and then, which shows up in NumPy comparisons. logCR
// computes log in double-double arithmetic (about 100 bits) and rounds
// once.

type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func ddAdd(a, b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func ddMul(a, b dd) dd {
	p := twoProd(a.hi, b.hi)
	p.lo += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p.hi, p.lo)
}

func ddDiv(a, b dd) dd {
	q1 := a.hi / b.hi
	r := ddAdd(a, ddMul(dd{-q1, 0}, b))
	q2 := r.hi / b.hi
	r = ddAdd(r, ddMul(dd{-q2, 0}, b))
	q3 := r.hi / b.hi
	q := quickTwoSum(q1, q2)
	return ddAdd(q, dd{q3, 0})
}

var ln2DD = dd{0.6931471805599453, 2.3190468138462996e-17}

// logCR is the natural logarithm of a positive finite x, correctly rounded
// except in cases closer to a rounding boundary than about 2^-100.
func logCR(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Log(x)
	}
	m, e := math.Frexp(x) // x = m * 2^e, m in [0.5, 1)
	if m < math.Sqrt2/2 {
		m *= 2
		e--
	}
	if m == 1 {
		return float64(e) * math.Ln2
	}
	// log m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172; m-1 is exact.
	s := ddDiv(dd{m - 1, 0}, twoSum(m, 1))
	s2 := ddMul(s, s)
	sum, term := s, s
	for k := 1; k < 40; k++ {
		term = ddMul(term, s2)
		t := ddDiv(term, dd{float64(2*k + 1), 0})
		sum = ddAdd(sum, t)
		if math.Abs(t.hi) < 1e-34*math.Abs(sum.hi) {
			break
		}
	}
	r := ddAdd(ddMul(dd{float64(e), 0}, ln2DD), ddMul(dd{2, 0}, sum))
	return r.hi + r.lo
}
