package svg_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/svg"
)

// TestVariants: the predictor's input is [h, z, action] with the parts
// the variant has; the deterministic variant has no prior, posterior,
// noise or KL, and its loss is the frames' alone.
func TestVariants(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(*svg.Config)
		embedIn  int // GDim 3, ZDim 2, ActionDim 1
		gaussian bool
	}{
		{"learned prior with actions", func(*svg.Config) {}, 6, true},
		{"learned prior", func(c *svg.Config) { c.ActionDim = 0 }, 5, true},
		{"deterministic with actions", func(c *svg.Config) { c.Variant = svg.Deterministic }, 4, false},
		{"deterministic", func(c *svg.Config) { c.Variant, c.ActionDim = svg.Deterministic, 0 }, 3, false},
	}
	for _, tc := range cases {
		cfg := tiny(svg.DCGAN)
		tc.edit(&cfg)
		d := declare(t, cfg, 2)
		var gaussian bool
		for _, p := range d.m.Params() {
			if p.Name == "frame_predictor.embed.weight" && !slices.Equal(p.Shape, []int{tc.embedIn, cfg.RNNSize}) {
				t.Errorf("%s: predictor embedding %v, want [%d %d]", tc.name, p.Shape, tc.embedIn, cfg.RNNSize)
			}
			gaussian = gaussian || strings.HasPrefix(p.Name, "prior.") || strings.HasPrefix(p.Name, "posterior.")
		}
		if gaussian != tc.gaussian {
			t.Errorf("%s: prior and posterior parameters: %v, want %v", tc.name, gaussian, tc.gaussian)
		}
		if got := len(d.m.Noise(rand.New(rand.NewPCG(1, 1)), 2)) > 0; got != tc.gaussian || (d.in.PosteriorEps != nil) != tc.gaussian {
			t.Errorf("%s: noise inputs %v, want %v", tc.name, got, tc.gaussian)
		}
		if (d.in.Actions != nil) != (cfg.ActionDim > 0) {
			t.Errorf("%s: action inputs %v", tc.name, d.in.Actions != nil)
		}
		for _, rollout := range []bool{false, true} {
			p := d.predict(t, d.m.Context(d.g, nil, nil), rollout)
			if (p.KL != nil) != tc.gaussian || (p.Mu != nil) != tc.gaussian {
				t.Errorf("%s (rollout %v): KL %v, posterior %d steps", tc.name, rollout, p.KL, len(p.Mu))
			}
			d.loss(t, p)
		}
	}
}

// TestNoise: teacher forcing takes z from the posterior and ignores the
// prior's noise; the rollout takes z from the posterior on the context
// steps only and from the prior afterwards, so the posterior's noise of
// later steps changes nothing, and a rollout from the context frames
// alone predicts the same frames.
func TestNoise(t *testing.T) {
	cfg := tiny(svg.VGG)
	const batch = 2
	rng := rand.New(rand.NewPCG(7, 7))
	d := declare(t, cfg, batch)
	values := testValues(rng, append(d.m.Params(), d.m.State()...))
	teacher := d.predict(t, d.m.Context(d.g, nil, nil), false)
	rollout := d.predict(t, d.m.Context(d.g, nil, nil), true)
	contextOnly := d.in
	contextOnly.Frames = d.in.Frames[:cfg.NPast]
	generated, err := d.m.Rollout(d.m.Context(d.g, nil, nil), contextOnly)
	if err != nil {
		t.Fatal(err)
	}
	if generated.KL != nil || len(generated.Mu) != cfg.NPast-1 {
		t.Errorf("rollout from the context alone: KL %v, posterior on %d steps, want none and %d", generated.KL, len(generated.Mu), cfg.NPast-1)
	}
	future := func(p *svg.Prediction) []*graph.Node { return p.Frames[cfg.NPast:] }
	outs := append(append(future(teacher), future(rollout)...), future(generated)...)
	e := onCPU(t, d.g, values, outs...)
	base := testFeeds(rng, d.m, batch)
	predict := func(feeds map[string][]float32) (teacher, rollout, generated [][]float32) {
		out := graphtest.Run(t, e, feeds)
		n := cfg.NFuture
		return out[:n], out[n : 2*n], out[2*n:]
	}
	t0, r0, g0 := predict(base)
	if !equalFrames(r0, g0) {
		t.Errorf("the rollout from the context alone differs from the rollout with every frame")
	}
	// changed returns the feeds with the noise of step i (index i-1) of
	// one kind redrawn.
	changed := func(name string, step int) map[string][]float32 {
		feeds := map[string][]float32{}
		for k, v := range base {
			feeds[k] = v
		}
		v := slices.Clone(base[name])
		per := batch * cfg.ZDim
		copy(v[(step-1)*per:step*per], uniform(rng, per, -2, 2))
		feeds[name] = v
		return feeds
	}
	for _, tc := range []struct {
		name              string
		step              int
		teacher, rollout2 bool // whether the teacher-forced and the rollout frames change
	}{
		{svg.PriorEpsInput, 1, false, false},        // a context step: z from the posterior
		{svg.PriorEpsInput, cfg.NPast, false, true}, // the first generated step: z from the prior
		{svg.PosteriorEpsInput, 1, true, true},
		{svg.PosteriorEpsInput, cfg.NPast, true, false},
	} {
		t1, r1, _ := predict(changed(tc.name, tc.step))
		if got := !equalFrames(t0, t1); got != tc.teacher {
			t.Errorf("%s of step %d: teacher-forced frames change: %v, want %v", tc.name, tc.step, got, tc.teacher)
		}
		if got := !equalFrames(r0, r1); got != tc.rollout2 {
			t.Errorf("%s of step %d: rollout frames change: %v, want %v", tc.name, tc.step, got, tc.rollout2)
		}
	}
}

// TestActions: action t enters step t+1, so it changes the predictions
// of frames t+1 on and none before.
func TestActions(t *testing.T) {
	cfg := tiny(svg.DCGAN)
	cfg.Variant, cfg.NFuture = svg.Deterministic, 3
	const batch = 2
	rng := rand.New(rand.NewPCG(8, 8))
	d := declare(t, cfg, batch)
	values := testValues(rng, d.m.Params())
	p := d.predict(t, d.m.Context(d.g, nil, nil), false)
	e := onCPU(t, d.g, values, p.Frames[cfg.NPast:]...)
	base := testFeeds(rng, d.m, batch)
	before := graphtest.Run(t, e, base)
	for a := cfg.NPast - 1; a < cfg.Frames()-1; a++ {
		actions := slices.Clone(base[svg.ActionsInput])
		for b := range batch {
			actions[a*batch+b] += 1
		}
		after := graphtest.Run(t, e, map[string][]float32{svg.FramesInput: base[svg.FramesInput], svg.ActionsInput: actions})
		for f := cfg.NPast; f < cfg.Frames(); f++ {
			got := !equalFrames(before[f-cfg.NPast:f-cfg.NPast+1], after[f-cfg.NPast:f-cfg.NPast+1])
			if want := f > a; got != want {
				t.Errorf("action %d changes frame %d: %v, want %v", a, f, got, want)
			}
		}
	}
}

// TestAdaptedSites: the identity adaptation (every site at its start)
// predicts exactly what the plain model does; a latent offset or a CN
// shift changes the predictions.
func TestAdaptedSites(t *testing.T) {
	cfg := tiny(svg.VGG)
	const batch = 2
	rng := rand.New(rand.NewPCG(9, 9))
	d := declare(t, cfg, batch)
	values := testValues(rng, d.m.Params())
	sites := map[string][]nn.AdaptSpec{"cn": d.m.CNSites(), "offsets": d.m.OffsetSites()}
	plain := d.predict(t, d.m.Context(d.g, nil, nil), true)
	outs := plain.Frames[cfg.NPast:]
	for _, name := range []string{"cn", "offsets"} {
		ad := svg.Adaptation{Sites: sites[name]}
		identity := d.predict(t, d.m.Context(d.g, nil, ad.Bind(ad.Start(d.g, nil, batch))), true)
		moved := ad.Start(d.g, nil, batch)
		last := len(moved) - 1 // a shift or an offset: the identity is 0
		moved[last] = d.g.AddScalar(moved[last], 0.5)
		shifted := d.predict(t, d.m.Context(d.g, nil, ad.Bind(moved)), true)
		outs = append(append(outs, identity.Frames[cfg.NPast:]...), shifted.Frames[cfg.NPast:]...)
	}
	out := graphtest.Run(t, onCPU(t, d.g, values, outs...), testFeeds(rng, d.m, batch))
	n := cfg.NFuture
	for i, name := range []string{"cn", "offsets"} {
		identity, shifted := out[n*(1+2*i):n*(2+2*i)], out[n*(2+2*i):n*(3+2*i)]
		if !equalFrames(out[:n], identity) {
			t.Errorf("%s at the identity: the frames differ from the plain model's", name)
		}
		if equalFrames(out[:n], shifted) {
			t.Errorf("%s: moving %s changes no frame", name, sites[name][len(sites[name])-1].Name)
		}
	}
}

func equalFrames(a, b [][]float32) bool {
	if len(a) != len(b) {
		panic(fmt.Sprintf("comparing %d frames with %d", len(a), len(b)))
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
