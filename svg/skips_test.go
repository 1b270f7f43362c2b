package svg_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/svg"
)

// TestContextSkips: with the reference's context skips, the steps
// i < NPast each take their own input's skips and every later step keeps
// those of step NPast-1, whose input is frame NPast-2; with every-step
// skips each step takes its own. A sequence started past the context has
// no skips to decode with.
func TestContextSkips(t *testing.T) {
	for _, mode := range []svg.Skips{svg.ContextSkips, svg.EveryStepSkips} {
		cfg := tiny(svg.VGG)
		cfg.NPast, cfg.NFuture, cfg.Skips = 3, 3, mode
		const batch = 2
		d := declare(t, cfg, batch)
		c := d.m.Context(d.g, nil, nil)
		carry := d.m.Start(d.g, batch)
		var taken [][]*graph.Node // per step, the skips it decodes with
		for i := 1; i < cfg.Frames(); i++ {
			_, next, err := d.m.Step(c, carry, svg.StepInputs{
				Index: i, Input: d.in.Frames[i-1], Target: d.in.Frames[i], Action: d.in.Actions[i-1],
				PriorEps: d.in.PriorEps[i-1], PosteriorEps: d.in.PosteriorEps[i-1], FromPrior: i >= cfg.NPast,
			})
			if err != nil {
				t.Fatal(err)
			}
			carry = next
			taken = append(taken, carry.Skips)
		}
		for i := 2; i < cfg.Frames(); i++ {
			same := slices.Equal(taken[i-1], taken[i-2])
			if want := mode == svg.ContextSkips && i >= cfg.NPast; same != want {
				t.Errorf("%v skips: step %d uses step %d's skips: %v, want %v", mode, i, i-1, same, want)
			}
		}
	}

	cfg := tiny(svg.DCGAN)
	d := declare(t, cfg, 1)
	_, _, err := d.m.Step(d.m.Context(d.g, nil, nil), d.m.Start(d.g, 1), svg.StepInputs{
		Index: cfg.NPast, Input: d.in.Frames[0], Action: d.in.Actions[0], PriorEps: d.in.PriorEps[0], FromPrior: true,
	})
	if err == nil || !strings.Contains(err.Error(), "no skips") {
		t.Errorf("a first step at i = NPast: %v, want an error about the missing skips", err)
	}
}
