package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(binaryCases) }

// ops wraps a backend's binary and reduction kernels for writing
// derivatives; errors panic and guard turns them back into errors.
type ops struct{ b kernels.Backend }

func (o ops) bin() kernels.BinaryBackend {
	return backendAs[kernels.BinaryBackend](o.b, "binary kernels")
}

func (o ops) red() kernels.ReduceBackend {
	return backendAs[kernels.ReduceBackend](o.b, "reduction kernels")
}

// tensor is data with its shape.
type tensor struct {
	x []float32
	s kernels.Shape
}

func (o ops) op(op kernels.BinaryOp, a, b tensor) tensor {
	y, s, err := o.bin().Binary(op, a.x, a.s, b.x, b.s)
	if err != nil {
		panic(err)
	}
	return tensor{y, s}
}

func (o ops) add(a, b tensor) tensor { return o.op(kernels.Add, a, b) }
func (o ops) sub(a, b tensor) tensor { return o.op(kernels.Sub, a, b) }
func (o ops) mul(a, b tensor) tensor { return o.op(kernels.Mul, a, b) }
func (o ops) div(a, b tensor) tensor { return o.op(kernels.Div, a, b) }

// scalar returns x op s, or s op x with left.
func (o ops) scalar(op kernels.BinaryOp, x tensor, s float32, left bool) tensor {
	y, err := o.bin().BinaryScalar(op, x.x, s, left)
	if err != nil {
		panic(err)
	}
	return tensor{y, x.s}
}

func (o ops) scale(x tensor, s float32) tensor { return o.scalar(kernels.Mul, x, s, false) }

func (o ops) reduce(op kernels.ReduceOp, x tensor, axes []int, keep bool) tensor {
	y, s, err := o.red().Reduce(op, x.x, x.s, axes, keep)
	if err != nil {
		panic(err)
	}
	return tensor{y, s}
}

// sumTo sums a cotangent g over the axes along which an input of shape s
// was broadcast to g's shape.
func (o ops) sumTo(g tensor, s kernels.Shape) []float32 {
	y := o.reduce(kernels.Sum, g, kernels.SumAxes(s, g.s), true)
	if y.s.Len() != s.Len() {
		panic(fmt.Errorf("sum of %v to %v has %v elements", g.s, s, y.s))
	}
	return y.x
}

func (o ops) broadcast(x tensor, to kernels.Shape) tensor {
	y, err := o.red().BroadcastTo(x.x, x.s, to)
	if err != nil {
		panic(err)
	}
	return tensor{y, to}
}

// binaryDomain keeps div's denominator away from 0.
func binaryDomain(op kernels.BinaryOp, n int, denominator bool) Input {
	if op == kernels.Div && denominator {
		return Input{Len: n, Lo: -2, Hi: 2, Gap: 0.5}
	}
	return Input{Len: n, Lo: -2, Hi: 2}
}

// binaryShapes are the broadcast pairs checked: size 1, odd sizes, either
// side broadcast, both sides broadcast, six dimensions and a long vector.
func binaryShapes(rng *rand.Rand) [][2]kernels.Shape {
	d := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	n, m := d(2, 6), d(2, 6)
	return [][2]kernels.Shape{
		{{1}, {1}},
		{{7, 9}, {7, 9}},
		{{n, m}, {m}},
		{{1}, {n, m}},
		{{3, 1, 5}, {4, 1}},
		{{n, 1}, {1, m}},
		{{2, 1, 3, 1, 2, 1}, {1, 2, 1, 2, 1, 2}},
		{{1000 + rng.IntN(4000)}, {1}},
	}
}

func binaryCases(rng *rand.Rand) []Case {
	var cases []Case
	shapes := binaryShapes(rng)
	for _, op := range kernels.BinaryOps {
		for _, sh := range shapes {
			cases = append(cases, binaryCase(op, sh[0], sh[1]))
		}
		for _, sh := range []kernels.Shape{{1}, {4, 5}} {
			for _, left := range []bool{false, true} {
				cases = append(cases, binaryScalarCase(op, sh, left))
			}
		}
	}
	return cases
}

func binaryCase(op kernels.BinaryOp, as, bs kernels.Shape) Case {
	split := func(in [][]float32) (tensor, tensor) { return tensor{in[0], as}, tensor{in[1], bs} }
	return Case{
		Op:    op.String(),
		Shape: as.String() + " op " + bs.String(),
		In:    []Input{binaryDomain(op, as.Len(), false), binaryDomain(op, bs.Len(), true)},
		Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
			err = guard(func() {
				x, y := split(in)
				out = [][]float32{ops{b}.op(op, x, y).x}
			})
			return
		},
		VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
			err = guard(func() {
				o := ops{b}
				x, y := split(in)
				ga, gb := binaryVJP(o, op, x, y, o.op(op, x, y).s, g[0])
				out = [][]float32{o.sumTo(ga, as), o.sumTo(gb, bs)}
			})
			return
		},
		JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
			err = guard(func() {
				o := ops{b}
				x, y := split(in)
				tx, ty := split(t)
				var r tensor
				switch op {
				case kernels.Add, kernels.Sub:
					r = o.op(op, tx, ty)
				case kernels.Mul: // ta b + a tb
					r = o.add(o.mul(tx, y), o.mul(x, ty))
				case kernels.Div: // (ta - (a/b) tb) / b
					r = o.div(o.sub(tx, o.mul(o.div(x, y), ty)), y)
				}
				out = [][]float32{r.x}
			})
			return
		},
		HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
			err = guard(func() {
				o := ops{b}
				x, y := split(in)
				tx, ty := split(t)
				os := o.op(op, x, y).s
				gt, tgt := tensor{g[0], os}, tensor{tg[0], os}
				var da, db tensor
				switch op {
				case kernels.Add, kernels.Sub: // linear: the VJP of tg
					da, db = binaryVJP(o, op, x, y, os, tg[0])
				case kernels.Mul: // d(g b) = tg b + g tb, d(g a) = tg a + g ta
					da = o.add(o.mul(tgt, y), o.mul(gt, ty))
					db = o.add(o.mul(tgt, x), o.mul(gt, tx))
				case kernels.Div:
					// With u = g/b and q = a/b the VJP is (u, -u q);
					// du = (tg - u tb)/b, dq = (ta - q tb)/b.
					u, q := o.div(gt, y), o.div(x, y)
					du := o.div(o.sub(tgt, o.mul(u, ty)), y)
					dq := o.div(o.sub(tx, o.mul(q, ty)), y)
					da = du
					db = o.scale(o.add(o.mul(du, q), o.mul(u, dq)), -1)
				}
				out = [][]float32{o.sumTo(da, as), o.sumTo(db, bs)}
			})
			return
		},
		Symmetric: true,
	}
}

// binaryVJP returns the cotangents of a and b at the output shape os,
// before summing over broadcast axes.
func binaryVJP(o ops, op kernels.BinaryOp, x, y tensor, os kernels.Shape, g []float32) (tensor, tensor) {
	gt := tensor{g, os}
	switch op {
	case kernels.Add:
		return gt, gt
	case kernels.Sub:
		return gt, o.scale(gt, -1)
	case kernels.Mul:
		return o.mul(gt, y), o.mul(gt, x)
	case kernels.Div: // g/b, -(g/b)(a/b)
		u := o.div(gt, y)
		return u, o.scale(o.mul(u, o.div(x, y)), -1)
	}
	panic(fmt.Errorf("unknown binary op %v", op))
}

// binaryScalarCase checks x op s (s op x with left); s is a constant.
func binaryScalarCase(op kernels.BinaryOp, shape kernels.Shape, left bool) Case {
	const s = 1.7
	label := shape.String() + " op scalar"
	if left {
		label = "scalar op " + shape.String()
	}
	f := func(o ops, x tensor) tensor { return o.scalar(op, x, s, left) }
	// d(x op s)/dx times g, and for s/x the pieces of its tangent.
	lin := func(o ops, x, g tensor) tensor {
		switch {
		case op == kernels.Add || (op == kernels.Sub && !left):
			return g
		case op == kernels.Sub:
			return o.scale(g, -1)
		case op == kernels.Mul:
			return o.scale(g, s)
		case !left: // x / s
			return o.scale(g, 1/s)
		}
		// s/x: -g (s/x) / x
		return o.scale(o.div(o.mul(g, f(o, x)), x), -1)
	}
	return Case{
		Op:    op.String(),
		Shape: label,
		In:    []Input{binaryDomain(op, shape.Len(), left)},
		Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{f(ops{b}, tensor{in[0], shape}).x} })
			return
		},
		VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{lin(ops{b}, tensor{in[0], shape}, tensor{g[0], shape}).x} })
			return
		},
		JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{lin(ops{b}, tensor{in[0], shape}, tensor{t[0], shape}).x} })
			return
		},
		HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
			err = guard(func() {
				o := ops{b}
				x, gt, tt, tgt := tensor{in[0], shape}, tensor{g[0], shape}, tensor{t[0], shape}, tensor{tg[0], shape}
				r := lin(o, x, tgt)
				if op == kernels.Div && left {
					// d(-g q/x) with q = s/x adds 2 g t q / x^2.
					q := f(o, x)
					r = o.add(r, o.scale(o.div(o.div(o.mul(o.mul(gt, tt), q), x), x), 2))
				}
				out = [][]float32{r.x}
			})
			return
		},
		Symmetric: true,
	}
}
