package search_test

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/formulas/search"
)

// A formula found by the search, rescaled and shifted, is recognised as a
// member of the pendulum's energy family p^2 - c cos(q), with its c.
func ExampleCompare() {
	var states [][2]float64
	for i := range 50 {
		states = append(states, [2]float64{math.Sin(float64(i)), math.Cos(float64(3 * i))})
	}
	f := formulas.MustParse("(a*cos(q) - p^2)/2 + 1")
	q, err := search.Compare(f, map[string]float64{"a": 2.4}, "pendulum", states)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: c = %.3f, equivalent %v\n", q.Family, q.C, q.Equivalent())
	// Output: p^2 - c*cos(q): c = 2.400, equivalent true
}
