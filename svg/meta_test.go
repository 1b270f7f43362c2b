package svg_test

import (
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/svg"
)

var _ noether.Adaptation = svg.Adaptation{}

// videoProblem is a Noether problem on an SVG: the inner loss is the 2b
// Noether loss of a linear embedding of each predicted frame's channel
// means, the task loss the outer loss; both on the teacher-forced pass.
type videoProblem struct {
	m  *svg.Model
	in svg.Inputs
	ad svg.Adaptation
}

func (p videoProblem) predict(g *graph.Graph, theta, adapted []*graph.Node) *svg.Prediction {
	pred, err := p.m.TeacherForced(p.m.Context(g, theta, p.ad.Bind(adapted)), p.in)
	if err != nil {
		panic(err)
	}
	return pred
}

func (p videoProblem) Inner(g *graph.Graph, theta, adapted, phi []*graph.Node) *graph.Node {
	var embeds []*graph.Node
	for _, f := range p.predict(g, theta, adapted).Frames {
		embeds = append(embeds, g.MatMul(g.Mean(f, 2, 3), phi[0]))
	}
	return noether.Loss(g, embeds, noether.Consecutive)
}

func (p videoProblem) Task(g *graph.Graph, theta, adapted []*graph.Node) *graph.Node {
	loss, err := p.m.Loss(g, p.predict(g, theta, adapted), p.in.Frames)
	if err != nil {
		panic(err)
	}
	return loss
}

// TestMetaGradient: noether.Meta tailors the CN sites (VGG) or the
// latent offsets (DCGAN) of an SVG with one SGD step on the inner loss,
// and the meta-gradient with respect to the embedding (forward over
// reverse through the whole model) agrees with central differences of
// the tailored task loss.
func TestMetaGradient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		family svg.Family
		sites  func(*svg.Model) svg.Adaptation
		lr     float32 // large enough that the step moves the task loss
	}{
		{"cn", svg.VGG, func(m *svg.Model) svg.Adaptation { return svg.Adaptation{Sites: m.CNSites()} }, 2},
		{"offsets", svg.DCGAN, func(m *svg.Model) svg.Adaptation { return svg.Adaptation{Sites: m.OffsetSites()} }, 1000},
	} {
		const batch = 2
		rng := rand.New(rand.NewPCG(11, 11))
		d := declare(t, tiny(tc.family), batch)
		phi := d.g.Param("phi", d.m.Config().Channels, 2)
		ad := tc.sites(d.m)
		p := videoProblem{m: d.m, in: d.in, ad: ad}
		loss, dTheta, dPhi, err := noether.Meta(d.g, p, ad, d.params, []*graph.Node{phi}, batch, noether.Tailoring{Steps: 1, LR: tc.lr, MetaGrad: noether.ForwardOverReverse})
		if err != nil {
			t.Fatal(err)
		}
		values := testValues(rng, append(d.m.Params(), d.m.State()...))
		values["phi"] = uniform(rng, phi.Shape().Len(), -3, 3)
		feeds := testFeeds(rng, d.m, batch)
		e := onCPU(t, d.g, values, append([]*graph.Node{loss, dPhi[0]}, dTheta...)...)
		out := graphtest.Run(t, e, feeds)

		dir := uniform(rng, phi.Shape().Len(), -1, 1)
		const h = 1e-2
		at := func(s float32) float64 {
			graphtest.SetParams(t, e, map[string][]float32{"phi": shifted(values["phi"], dir, s)})
			return float64(graphtest.Run(t, e, feeds)[0][0])
		}
		fd := (at(h) - at(-h)) / (2 * h)
		var dot float64
		for j, g := range out[1] {
			dot += float64(g) * float64(dir[j])
		}
		t.Logf("%s: d loss/d phi along a direction %.6g, central difference %.6g; loss %.6g", tc.name, dot, fd, out[0][0])
		kerneltest.Near(t, tc.name+": meta-gradient with respect to phi, along a direction", []float32{float32(dot)}, []float32{float32(fd)}, kerneltest.Tol{Name: "directional", Rel: 2e-2})
	}
}
