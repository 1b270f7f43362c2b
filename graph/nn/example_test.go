package nn_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// The physics MLP: declared, initialised, applied with the identity CN
// tailoring starts from, run, and saved.
func Example() {
	mlp := nn.MLP{Sizes: []int{2, 8, 2}, Init: []nn.Inits{{Weight: nn.Orthogonal{}}}}
	specs := mlp.Params("f")
	sites := nn.Adaptables(mlp, "f")
	for _, s := range specs {
		fmt.Println("param", s.Name, s.Shape)
	}
	for _, s := range sites {
		fmt.Println("site", s.Name, s.Shape, "starts at", s.Start)
	}

	g := graph.New()
	x := g.Input("x", 1, 2)
	nn.Declare(g, specs)
	c := &nn.Context{Graph: g, Adapted: nn.Start(g, sites, 1)}
	y := mlp.Apply(c, "f", x)
	prog, err := g.Compile(graph.CompileOptions{}, y)
	if err != nil {
		log.Fatal(err)
	}
	e := prog.OnCPU()
	values := nn.Init(rand.New(rand.NewPCG(1, 2)), specs)
	for name, v := range values {
		if err := e.SetParam(name, v); err != nil {
			log.Fatal(err)
		}
	}
	out, err := e.Run(map[string][]float32{"x": {0.5, -0.5}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("f(0.5, -0.5) = %.4f\n", out[0])

	dir, err := os.MkdirTemp("", "nn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mlp.safetensors")
	if err := nn.Save(path, specs, values, map[string]string{"sizes": "2,8,2"}); err != nil {
		log.Fatal(err)
	}
	loaded, meta, err := nn.Load(path, specs)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded", len(loaded), "tensors of the MLP", meta["sizes"])
	// Output:
	// param f.0.weight [2 8]
	// param f.0.bias [8]
	// param f.1.weight [8 2]
	// site f.0.cn.scale [8] starts at 1
	// site f.0.cn.shift [8] starts at 0
	// f(0.5, -0.5) = [-0.2500 -0.0824]
	// loaded 3 tensors of the MLP 2,8,2
}
