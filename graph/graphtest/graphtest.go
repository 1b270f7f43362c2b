package graphtest

import (
	"math"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
)

// Compile compiles g's outputs with default options.
func Compile(t testing.TB, g *graph.Graph, outs ...*graph.Node) *graph.Program {
	t.Helper()
	prog, err := g.Compile(graph.CompileOptions{}, outs...)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// SetParams sets every named value on e.
func SetParams(t testing.TB, e graph.Executor, values map[string][]float32) {
	t.Helper()
	for name, v := range values {
		if err := e.SetParam(name, v); err != nil {
			t.Fatal(err)
		}
	}
}

// Run runs e once on feeds.
func Run(t testing.TB, e graph.Executor, feeds map[string][]float32) [][]float32 {
	t.Helper()
	out, err := e.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SameBits reports whether a and b hold the same float32 values bit for
// bit (NaNs of equal payload match, 0 and -0 do not): what a determinism
// test wants, where slices.Equal compares values.
func SameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
