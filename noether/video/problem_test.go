package video_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/video"
	"github.com/noether-vk/noether-vk/svg"
)

// built is a tiny SVG and its embedding declared in a fresh graph, with
// the problem over its inputs.
type built struct {
	m          *svg.Model
	g          *graph.Graph
	theta, phi []*graph.Node
	ad         svg.Adaptation
	p          *video.Problem
	specs      []nn.ParamSpec // theta's then phi's
}

// smoothEmbedding is g_phi's convolutions and linear layer with tanh for
// ReLU and no pooling: the inner gradient of a ReLU and max-pooling
// network is piecewise constant in its parameters, so the tailored loss
// jumps wherever a unit crosses its kink, and central differences across
// a jump mean nothing. It differs from g_phi only in those layers.
func smoothEmbedding(channels, size, dim int) noether.Model {
	return noether.Model{Scope: video.EmbedScope, Module: nn.Sequential{
		nn.Conv2d{In: 2 * channels, Out: 4, Kernel: 5, Pad: 2}, nn.Tanh{},
		nn.Conv2d{In: 4, Out: 4, Kernel: 5, Pad: 2}, nn.Tanh{},
		nn.Flatten{}, nn.Linear{In: 4 * size * size, Out: dim},
	}}
}

func build(t *testing.T, cfg svg.Config, sites func(*svg.Model) []nn.AdaptSpec, batch int, form noether.Form) built {
	t.Helper()
	return buildWith(t, cfg, video.Embedding(cfg.Channels, cfg.ImageSize, 4), sites, batch, form)
}

func buildWith(t *testing.T, cfg svg.Config, emb noether.Model, sites func(*svg.Model) []nn.AdaptSpec, batch int, form noether.Form) built {
	t.Helper()
	m, err := svg.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := graph.New()
	theta := m.Declare(g)[:len(m.Params())]
	phi := nn.Declare(g, emb.Params())
	ad := svg.Adaptation{Sites: sites(m)}
	p, err := video.NewProblem(m, emb, ad, m.DeclareInputs(g, batch), form, false)
	if err != nil {
		t.Fatal(err)
	}
	return built{m: m, g: g, theta: theta, phi: phi, ad: ad, p: p, specs: append(m.Params(), emb.Params()...)}
}

func cnSites(m *svg.Model) []nn.AdaptSpec     { return m.CNSites() }
func offsetSites(m *svg.Model) []nn.AdaptSpec { return m.OffsetSites() }

// TestMetaGradient: for both adaptations, the meta-gradients of the
// tailored task loss with respect to the model (theta) and the embedding
// (phi), forward over reverse through the whole SVG, the Problem's pair
// embedding and the Noether loss, agree with central differences along a
// random direction in each. The embedding is smoothEmbedding: g_phi's
// layers but for its kinks.
func TestMetaGradient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		family svg.Family
		sites  func(*svg.Model) []nn.AdaptSpec
		lr     float32 // large enough that the step moves the task loss
	}{
		{"cn", svg.DCGAN, cnSites, 2},
		{"offsets", svg.DCGAN, offsetSites, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const batch = 2
			rng := rand.New(rand.NewPCG(3, 5))
			cfg := tinySVG(tc.family)
			b := buildWith(t, cfg, smoothEmbedding(cfg.Channels, cfg.ImageSize, 4), tc.sites, batch, noether.Consecutive)
			loss, dTheta, dPhi, err := noether.Meta(b.g, b.p, b.ad, b.theta, b.phi, batch, noether.Tailoring{Steps: 1, LR: tc.lr})
			if err != nil {
				t.Fatal(err)
			}
			values := wideValues(rng, b.specs)
			feeds := feedsFor(rng, b.m, batch)
			outs := append(append([]*graph.Node{loss}, dTheta...), dPhi...)
			e := onCPU(t, b.g, values, outs...)
			got := graphtest.Run(t, e, feeds)
			grads := got[1:]

			for _, part := range []struct {
				name  string
				specs []nn.ParamSpec
				grads [][]float32
			}{{"theta", b.m.Params(), grads[:len(dTheta)]}, {"phi", b.specs[len(dTheta):], grads[len(dTheta):]}} {
				dirs := map[string][]float32{}
				var dot float64
				for i, s := range part.specs {
					dirs[s.Name] = uniform(rng, graph.Shape(s.Shape).Len(), -1, 1)
					for j, v := range part.grads[i] {
						dot += float64(v) * float64(dirs[s.Name][j])
					}
				}
				// Small: the SVG's LeakyReLUs make the inner gradient
				// piecewise, and a wider step crosses its kinks.
				const h = 1e-3
				at := func(s float32) float64 {
					moved := map[string][]float32{}
					for name, d := range dirs {
						moved[name] = shifted(values[name], d, s)
					}
					graphtest.SetParams(t, e, moved)
					return float64(graphtest.Run(t, e, feeds)[0][0])
				}
				fd := (at(h) - at(-h)) / (2 * h)
				graphtest.SetParams(t, e, values)
				t.Logf("%s: d loss/d %s along a direction %.6g, central difference %.6g; loss %.6g", tc.name, part.name, dot, fd, got[0][0])
				kerneltest.Near(t, tc.name+": meta-gradient with respect to "+part.name, []float32{float32(dot)}, []float32{float32(fd)}, kerneltest.Tol{Name: "directional", Rel: 2e-2})
			}
		})
	}
}

// TestNoiseReused: the passes before and after the inner step read the
// same noise samples. At inner learning rate 0 the tailored task loss is
// exactly the plain teacher-forced loss on the same feeds, though the
// noise matters (other samples give another loss).
func TestNoiseReused(t *testing.T) {
	const batch = 2
	rng := rand.New(rand.NewPCG(7, 7))
	b := build(t, tinySVG(svg.DCGAN), offsetSites, batch, noether.Consecutive)
	tailored, _, _, err := noether.Meta(b.g, b.p, b.ad, b.theta, b.phi, batch, noether.Tailoring{Steps: 1, LR: 0})
	if err != nil {
		t.Fatal(err)
	}
	plain := b.p.Task(b.g, b.theta, nil)
	e := onCPU(t, b.g, wideValues(rng, b.specs), tailored, plain)
	feeds := feedsFor(rng, b.m, batch)
	out := graphtest.Run(t, e, feeds)
	if out[0][0] != out[1][0] {
		t.Errorf("tailored at lr 0: task loss %v, plain pass %v: the passes read different noise", out[0][0], out[1][0])
	}
	redrawn := b.m.Noise(rng, batch)
	for k, v := range redrawn {
		feeds[k] = v
	}
	if other := graphtest.Run(t, e, feeds); other[1][0] == out[1][0] {
		t.Errorf("other noise samples give the same loss %v: the test shows nothing", other[1][0])
	}
}

// TestNoetherLoss: a sequence that does not change (so a prediction equal
// to conserved ground truth) has zero loss in both forms, and on random
// frames the loss is the forms' formulas over the pair embeddings.
func TestNoetherLoss(t *testing.T) {
	const batch, frames, size, dim = 2, 4, 8, 4
	rng := rand.New(rand.NewPCG(1, 9))
	g := graph.New()
	emb := video.Embedding(3, size, dim)
	phi := nn.Declare(g, emb.Params())
	x := g.Input("x", frames, batch, 3, size, size)
	seq := svg.SplitTime(g, x)
	a := video.NoetherLoss(g, emb, phi, seq, noether.FromStart)
	bl := video.NoetherLoss(g, emb, phi, seq, noether.Consecutive)
	embeds := video.EmbedPairs(g, emb, phi, seq)
	e := onCPU(t, g, nn.Init(rng, emb.Params()), append([]*graph.Node{a, bl}, embeds...)...)

	one := uniform(rng, batch*3*size*size, 0, 1)
	var still []float32
	for range frames {
		still = append(still, one...)
	}
	out := graphtest.Run(t, e, map[string][]float32{"x": still})
	for i, form := range []string{"2a", "2b"} {
		for j, v := range out[i] {
			if v != 0 {
				t.Errorf("%s on a still sequence: example %d has loss %v, want 0", form, j, v)
			}
		}
	}

	out = graphtest.Run(t, e, map[string][]float32{"x": uniform(rng, frames*batch*3*size*size, 0, 1)})
	es := out[2:]
	want := [2][]float32{make([]float32, batch), make([]float32, batch)}
	for ex := range batch {
		var sa, sb float64
		for p := 1; p < len(es); p++ {
			var da, db float64
			for k := range dim {
				v := float64(es[p][ex*dim+k])
				da += math.Pow(v-float64(es[0][ex*dim+k]), 2)
				db += math.Pow(v-float64(es[p-1][ex*dim+k]), 2)
			}
			sa, sb = sa+da/dim, sb+db/dim
		}
		want[0][ex], want[1][ex] = float32(sa), float32(sb)
	}
	kerneltest.Near(t, "2a", out[0], want[0], kerneltest.F32)
	kerneltest.Near(t, "2b", out[1], want[1], kerneltest.F32)
	if out[0][0] == 0 || out[1][0] == 0 {
		t.Errorf("random frames: losses %v, %v; want both positive", out[0][0], out[1][0])
	}
}
