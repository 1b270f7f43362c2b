package sweep_test

import (
	"fmt"

	"github.com/noether-vk/noether-vk/noether/sweep"
)

// A sweep file's points, with the train flags each runs and its run
// folder: the settings that vary, other than task, method and seed, name
// it (a formula by its hash).
func ExampleFile_Points() {
	f, err := sweep.Decode([]byte(`{
	  "common": {"seed": [0, 1]},
	  "grids": [
	    {"task": "spring", "method": "vanilla"},
	    {"task": "spring", "method": "tailor", "loss": "q^2 + p^2", "inner-lr": [1, 10]}
	  ]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	points, _ := f.Points()
	for _, p := range points[:3] {
		fmt.Println(p.Args(), p.Dir)
	}
	// Output:
	// [--seed 0 --task spring --method vanilla] spring/vanilla/seed0
	// [--seed 0 --task spring --method tailor --loss q^2 + p^2 --inner-lr 1] spring/tailor/inner-lr=1,loss=1516ce13/seed0
	// [--seed 0 --task spring --method tailor --loss q^2 + p^2 --inner-lr 10] spring/tailor/inner-lr=10,loss=1516ce13/seed0
}
