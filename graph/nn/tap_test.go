package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
)

// TestApplyTapped: the output is Apply's, and the tapped node is the
// output of the first modules alone, under the same parameter names.
func TestApplyTapped(t *testing.T) {
	q := Sequential{Linear{In: 3, Out: 4}, Tanh{}, Linear{In: 4, Out: 2}}
	g := graph.New()
	Declare(g, q.Params("m"))
	x := g.Input("x", 5, 3)
	c := &Context{Graph: g}
	out, tap := q.ApplyTapped(c, "m", x, 1)
	want := q.Apply(c, "m", x)
	head := Sequential{Linear{In: 3, Out: 4}, Tanh{}}.Apply(c, "m", x)
	prog, err := g.Compile(graph.CompileOptions{}, out, want, tap, head)
	if err != nil {
		t.Fatal(err)
	}
	e := prog.OnCPU()
	for name, v := range Init(rand.New(rand.NewPCG(1, 1)), q.Params("m")) {
		if err := e.SetParam(name, v); err != nil {
			t.Fatal(err)
		}
	}
	xs := make([]float32, 15)
	for i := range xs {
		xs[i] = float32(i)/7 - 1
	}
	res, err := e.Run(map[string][]float32{"x": xs})
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]int{{0, 1}, {2, 3}} {
		for i := range res[pair[0]] {
			if res[pair[0]][i] != res[pair[1]][i] {
				t.Fatalf("outputs %d and %d differ at %d: %v, %v", pair[0], pair[1], i, res[pair[0]][i], res[pair[1]][i])
			}
		}
	}
	if len(res[2]) != 20 {
		t.Errorf("tapped %d values, want the 5x4 hidden layer", len(res[2]))
	}
}
