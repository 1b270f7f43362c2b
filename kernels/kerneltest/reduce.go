package kerneltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

func init() { Register(reduceCases) }

type reduction struct {
	shape kernels.Shape
	axes  []int
	keep  bool
}

// reductions are the reductions checked: over the first, last, middle,
// several and all axes, six dimensions with alternating kept and reduced
// ones, size 1, and long axes that take the two-pass path.
func reductions(rng *rand.Rand) []reduction {
	d := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	return []reduction{
		{kernels.Shape{1}, []int{0}, false},
		{kernels.Shape{7, 9}, []int{0}, true},
		{kernels.Shape{7, 9}, []int{-1}, false},
		{kernels.Shape{d(2, 5), d(2, 5), 1, d(2, 5)}, []int{1, 2}, true},
		{kernels.Shape{2, 3, 4, 5}, []int{0, 2}, false},
		{kernels.Shape{d(2, 6), d(2, 6), d(2, 6)}, []int{0, 1, 2}, false},
		{kernels.Shape{2, 3, 2, 3, 2, 3}, []int{1, 3, 5}, true},
		{kernels.Shape{2, 3, 2, 3, 2, 3}, []int{0, 2, 4}, false},
		{kernels.Shape{3, 1000 + rng.IntN(20000)}, []int{1}, true},
		{kernels.Shape{1000 + rng.IntN(20000), 3}, []int{0}, false},
		{kernels.Shape{100000 + rng.IntN(1000)}, []int{0}, false},
	}
}

func reduceCases(rng *rand.Rand) []Case {
	var cases []Case
	rs := reductions(rng)
	for _, op := range kernels.ReduceOps {
		for _, r := range rs {
			cases = append(cases, reduceCase(op, r))
		}
	}
	for _, sh := range [][2]kernels.Shape{{{1}, {5}}, {{}, {7, 9}}, {{3, 1}, {3, 4}}, {{4}, {2, 3, 4}}, {{1, 5, 1}, {3, 5, 2}}} {
		cases = append(cases, broadcastCase(sh[0], sh[1]))
	}
	return cases
}

func reduceCase(op kernels.ReduceOp, r reduction) Case {
	ks, _ := kernels.Reduced(r.shape, r.axes, true)
	count := float32(r.shape.Len() / ks.Len())
	x := func(in [][]float32) tensor { return tensor{in[0], r.shape} }
	// dual maps a cotangent g of the output to the input: the broadcast
	// g, divided by the count for mean, times 2x for sumsq.
	dual := func(o ops, x tensor, g []float32) tensor {
		gk := tensor{g, ks}
		switch op {
		case kernels.Mean:
			return o.broadcast(o.scale(gk, 1/count), r.shape)
		case kernels.SumSq:
			return o.scale(o.mul(x, gk), 2)
		}
		return o.broadcast(gk, r.shape)
	}
	keep := "drop"
	if r.keep {
		keep = "keep"
	}
	return Case{
		Op:    op.String(),
		Shape: fmt.Sprintf("%v axes %v %s", r.shape, r.axes, keep),
		In:    []Input{{Len: r.shape.Len(), Lo: -1, Hi: 1}},
		Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{ops{b}.reduce(op, x(in), r.axes, r.keep).x} })
			return
		},
		VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{dual(ops{b}, x(in), g[0]).x} })
			return
		},
		JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
			err = guard(func() {
				o, tt := ops{b}, tensor{t[0], r.shape}
				if op == kernels.SumSq { // 2 Σ x t
					out = [][]float32{o.scale(o.reduce(kernels.Sum, o.mul(x(in), tt), r.axes, r.keep), 2).x}
					return
				}
				out = [][]float32{o.reduce(op, tt, r.axes, r.keep).x}
			})
			return
		},
		HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
			err = guard(func() {
				o := ops{b}
				res := dual(o, x(in), tg[0])
				if op == kernels.SumSq { // + 2 t g
					res = o.add(res, dual(o, tensor{t[0], r.shape}, g[0]))
				}
				out = [][]float32{res.x}
			})
			return
		},
		Symmetric: true,
	}
}

func broadcastCase(from, to kernels.Shape) Case {
	return Case{
		Op:    "broadcast",
		Shape: from.String() + " to " + to.String(),
		In:    []Input{{Len: from.Len(), Lo: -1, Hi: 1}},
		Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{ops{b}.broadcast(tensor{in[0], from}, to).x} })
			return
		},
		VJP: func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{ops{b}.sumTo(tensor{g[0], to}, from)} })
			return
		},
		JVP: func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{ops{b}.broadcast(tensor{t[0], from}, to).x} })
			return
		},
		// Linear: the tangent of the VJP is the VJP of tg.
		HVP: func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
			err = guard(func() { out = [][]float32{ops{b}.sumTo(tensor{tg[0], to}, from)} })
			return
		},
		Symmetric: true,
	}
}
