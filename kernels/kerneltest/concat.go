package kerneltest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/noether-vk/noether-vk/kernels"
)

// concat and split, each the other's VJP; both are linear, so tangents
// are the ops applied to tangents. Finite-difference checks run on small
// and odd shapes along every axis; the decoder's skip concatenations
// (DCGAN-64 and VGG-64 maps at batch 2 and 8) are forward-only cases,
// which keeps the suite's runtime on lavapipe small.
func init() { Register(concatCases) }

func concatBackend(b kernels.Backend) kernels.ConcatBackend {
	return backendAs[kernels.ConcatBackend](b, "concat kernels")
}

func concatShapesString(shapes []kernels.Shape, axis int) string {
	s := make([]string, len(shapes))
	for i, sh := range shapes {
		s[i] = sh.String()
	}
	return fmt.Sprintf("%s axis %d", strings.Join(s, "+"), axis)
}

func concatCases(rng *rand.Rand) []Case {
	type spec struct {
		shapes []kernels.Shape
		axis   int
		fd     bool
	}
	S := func(d ...int) kernels.Shape { return kernels.Shape(d) }
	specs := []spec{
		{[]kernels.Shape{S(1, 1, 7, 9), S(1, 2, 7, 9)}, 1, true},                // channels, odd image
		{[]kernels.Shape{S(2, 3, 4, 4), S(2, 1, 4, 4), S(2, 2, 4, 4)}, 1, true}, // three parts
		{[]kernels.Shape{S(1, 2, 3), S(2, 2, 3)}, 0, true},                      // batch axis
		{[]kernels.Shape{S(2, 2, 3, 5), S(2, 2, 4, 5)}, 2, true},                // rows
		{[]kernels.Shape{S(2, 3, 5, 2), S(2, 3, 5, 1+rng.IntN(4))}, -1, true},
		{[]kernels.Shape{S(7), S(1), S(3)}, 0, true}, // vectors
		// Decoder skip concatenations: DCGAN-64 (512 at 4x4, 256 at 8x8,
		// 64 at 32x32) and VGG-64 (128 at 16x16).
		{[]kernels.Shape{S(2, 512, 4, 4), S(2, 512, 4, 4)}, 1, false},
		{[]kernels.Shape{S(8, 256, 8, 8), S(8, 256, 8, 8)}, 1, false},
		{[]kernels.Shape{S(2, 64, 32, 32), S(2, 64, 32, 32)}, 1, false},
		{[]kernels.Shape{S(8, 128, 16, 16), S(8, 128, 16, 16)}, 1, false},
	}
	var cases []Case
	for _, sp := range specs {
		ax := sp.axis
		if ax < 0 {
			ax += len(sp.shapes[0])
		}
		whole := append(kernels.Shape(nil), sp.shapes[0]...)
		whole[ax] = 0
		var sizes []int
		for _, s := range sp.shapes {
			whole[ax] += s[ax]
			sizes = append(sizes, s[ax])
		}
		cat := func(b kernels.Backend, parts [][]float32) []float32 {
			y, _, err := concatBackend(b).Concat(parts, sp.shapes, sp.axis)
			if err != nil {
				panic(err)
			}
			return y
		}
		split := func(b kernels.Backend, x []float32) [][]float32 {
			ys, err := concatBackend(b).Split(x, whole, sp.axis, sizes)
			if err != nil {
				panic(err)
			}
			return ys
		}
		shape := concatShapesString(sp.shapes, sp.axis)
		var in []Input
		for _, s := range sp.shapes {
			in = append(in, Input{Len: s.Len(), Lo: -2, Hi: 2})
		}
		c := Case{
			Op: "concat", Shape: shape, In: in, Tol: Exact,
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{cat(b, in)} })
				return
			},
		}
		s := Case{
			Op: "split", Shape: fmt.Sprintf("%v into %v axis %d", whole, sizes, sp.axis), In: []Input{{Len: whole.Len(), Lo: -2, Hi: 2}}, Tol: Exact,
			Forward: func(b kernels.Backend, in [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = split(b, in[0]) })
				return
			},
		}
		if sp.fd {
			c.VJP = func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = split(b, g[0]) })
				return
			}
			c.JVP = func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{cat(b, t)} })
				return
			}
			c.HVP = func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = split(b, tg[0]) })
				return
			}
			s.VJP = func(b kernels.Backend, in, g [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{cat(b, g)} })
				return
			}
			s.JVP = func(b kernels.Backend, in, t [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = split(b, t[0]) })
				return
			}
			s.HVP = func(b kernels.Backend, in, g, t, tg [][]float32) (out [][]float32, err error) {
				err = guard(func() { out = [][]float32{cat(b, tg)} })
				return
			}
			c.Symmetric, s.Symmetric = true, true
		}
		cases = append(cases, c, s)
	}
	return cases
}
