package noether

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
)

// Form chooses between the two forms of the paper's equation 2.
type Form int

const (
	// FromStart is 2(a): sum over t of |g(x_0) - g(x~_t)|^2, distance to
	// the ground-truth start.
	FromStart Form = iota
	// Consecutive is 2(b): sum over t of |g(x~_{t-1}) - g(x~_t)|^2.
	Consecutive
)

func (f Form) String() string {
	if f == FromStart {
		return "2a"
	}
	return "2b"
}

// ParseForm reads "2a" or "2b".
func ParseForm(s string) (Form, error) {
	switch s {
	case "2a", "a", "start":
		return FromStart, nil
	case "2b", "b", "consecutive":
		return Consecutive, nil
	}
	return 0, fmt.Errorf("noether: loss form %q: want 2a (from the start) or 2b (consecutive)", s)
}

// Loss is the Noether loss per example, [B], over embeddings e_0 .. e_T
// (each [B, K]; e_0 of the ground-truth input): the sum over t of the mean
// over the K embedding dimensions of the squared difference, as the
// authors' code computes it.
func Loss(g *graph.Graph, embeds []*graph.Node, form Form) *graph.Node {
	if len(embeds) < 2 {
		panic("noether: Loss needs at least two embeddings")
	}
	var total *graph.Node
	for t := 1; t < len(embeds); t++ {
		ref := embeds[0]
		if form == Consecutive {
			ref = embeds[t-1]
		}
		// Generic ops, not the fused loss kernel, so that every
		// meta-gradient mode (reverse over reverse included) applies.
		term := g.Mean(g.Square(g.Sub(embeds[t], ref)), 1)
		if total == nil {
			total = term
		} else {
			total = g.Add(total, term)
		}
	}
	return total
}
