package noether_test

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/noether"
)

// Equation 2(a) over three embeddings of two examples: the sum over the
// later steps of the mean squared distance to the first embedding.
func ExampleLoss() {
	g := graph.New()
	e0 := g.Const([]float32{1, 1, 0, 0}, 2, 2)
	e1 := g.Const([]float32{1, 2, 0, 0}, 2, 2)
	e2 := g.Const([]float32{3, 1, 0, 1}, 2, 2)
	loss := noether.Loss(g, []*graph.Node{e0, e1, e2}, noether.FromStart)
	prog, err := g.Compile(graph.CompileOptions{}, loss)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := prog.OnCPU().Run(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out[0])
	// Output: [2.5 0.5]
}
