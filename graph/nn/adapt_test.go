package nn_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// cnRef is CN at site on the host: y0 [N, C, ...] * scale[n, c] + shift[n, c].
func cnRef(site string) func(y0 []float32, shape []int, a map[string][]float32) []float32 {
	return func(y0 []float32, shape []int, a map[string][]float32) []float32 {
		scale, shift := a[site+".cn.scale"], a[site+".cn.shift"]
		c := shape[1]
		per := len(y0) / (shape[0] * c) // elements per (example, channel)
		out := make([]float32, len(y0))
		for i, v := range y0 {
			nc := i / per // the (example, channel) index n*C + c
			out[i] = v*scale[nc] + shift[nc]
		}
		return out
	}
}

// offsetRef is a latent offset on the host: y0 + offset.
func offsetRef(site string) func(y0 []float32, _ []int, a map[string][]float32) []float32 {
	return func(y0 []float32, _ []int, a map[string][]float32) []float32 {
		out := slices.Clone(y0)
		for i, o := range a[site+".offset"] {
			out[i] += o
		}
		return out
	}
}

// TestAdaptation checks the adaptation hook on three modules (CN on a
// GroupNorm'd conv feature map and after BatchNorm in training, a latent
// offset on a Linear's output), on the CPU and Vulkan executors: the
// start tensors (nn.Start) leave the output exactly as the plain model's;
// adapted tensors act as CN and the offset do (a host computation); and
// the gradients with respect to the adapted tensors and the input match
// finite differences, the Vulkan executor agreeing with the CPU.
func TestAdaptation(t *testing.T) {
	v := openVulkan(t)
	for _, tc := range []struct {
		name  string
		m     nn.Module
		in    []int
		train bool
		want  func(y0 []float32, shape []int, a map[string][]float32) []float32
	}{
		{"GroupNorm+CN", nn.GroupNorm{Groups: 2, Channels: 4}, []int{2, 4, 3, 3}, false, cnRef("m")},
		{"BatchNorm+CN", nn.BatchNorm{Channels: 3}, []int{2, 3, 2, 2}, true, cnRef("m")},
		{"Linear+offset", nn.LatentOffset{Module: nn.Linear{In: 3, Out: 4}, Shape: []int{4}}, []int{2, 3}, false, offsetRef("m")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, uint64(len(tc.name))))
			g := graph.New()
			x, ps := declareCase(g, tc.m, tc.in)
			params := caseValues(rng, tc.m, x, ps, nil)
			batch := tc.in[0]
			sites := nn.Adaptables(tc.m, "m")
			adapted := map[string]*graph.Node{}
			wrt := []*graph.Node{x}
			for _, s := range sites {
				n := g.Param(s.Name, append([]int{batch}, s.Shape...)...)
				adapted[s.Name], wrt = n, append(wrt, n)
				params[s.Name] = randVec(rng, n.Shape().Len(), float64(s.Start)-0.5, float64(s.Start)+0.5, 0)
			}
			apply := func(a map[string]*graph.Node) *graph.Node {
				return tc.m.Apply(&nn.Context{Graph: g, Train: tc.train, Adapted: a}, "m", x)
			}
			plain, start, y := apply(nil), apply(nn.Start(g, sites, batch)), apply(adapted)
			loss := g.Sum(g.Mul(y, g.Const(randVec(rng, y.Shape().Len(), -1, 1, 0), y.Shape()...)))
			grads := g.Grad(loss, wrt...)
			es := executors(t, g, v, params, append([]*graph.Node{loss, plain, start, y}, grads...)...)
			cpu := graphtest.Run(t, es["cpu"], nil)
			for name, e := range es {
				out := graphtest.Run(t, e, nil)
				if !slices.Equal(out[2], out[1]) {
					t.Errorf("%s: at the start the output is %v, not the plain model's %v", name, out[2], out[1])
				}
				kerneltest.Near(t, name+": adapted output", out[3], tc.want(out[1], y.Shape(), params), kerneltest.F32)
				for i := range grads {
					kerneltest.Near(t, fmt.Sprintf("%s vs cpu: d loss/d %s", name, wrt[i].Name()), out[4+i], cpu[4+i], kerneltest.F32Reduce)
				}
			}
			var names []string
			for _, n := range wrt {
				names = append(names, n.Name())
			}
			checkGrads(t, tc.name, executors(t, g, nil, params, loss)["cpu"], params, nil, names, cpu[4:])
		})
	}
}

// TestMLPOpSequence: the MLP builds the op sequence of the physics MLP it
// replaces: with shared weights g.Linear (g.MatMul without a bias) and CN
// as g.CNAffine on each hidden pre-activation before tanh; with
// per-example weights [B, in, out] (Context.Params) a batched product of
// x viewed as [B, 1, in], giving bit for bit the numbers of that MLP's
// per-example path, on both executors.
func TestMLPOpSequence(t *testing.T) {
	const batch = 3
	m := nn.MLP{Sizes: []int{2, 5, 4, 2}}
	specs := m.Params("f")
	sites := nn.Adaptables(m, "f")

	// Shared weights with CN: the same program as the plain ops.
	g := graph.New()
	x := g.Input("x", batch, 2)
	nn.Declare(g, specs)
	a := nn.Start(g, sites, batch)
	y := m.Apply(&nn.Context{Graph: g, Adapted: a}, "f", x)
	pg := graph.New()
	px := pg.Input("x", batch, 2)
	pp := nn.Declare(pg, specs)
	pa := nn.Start(pg, sites, batch)
	h := pg.Tanh(pg.CNAffine(pg.Linear(px, pp[0], pp[1]), pa["f.0.cn.scale"], pa["f.0.cn.shift"]))
	h = pg.Tanh(pg.CNAffine(pg.Linear(h, pp[2], pp[3]), pa["f.1.cn.scale"], pa["f.1.cn.shift"]))
	py := pg.MatMul(h, pp[4])
	if got, want := graphtest.Compile(t, g, y).Dump(), graphtest.Compile(t, pg, py).Dump(); got != want {
		t.Fatalf("MLP with CN built\n%s\nthe plain ops are\n%s", got, want)
	}

	// Per-example weights: the physics MLP's per-example op sequence
	// (x reshaped once, batched products, bias copies [B, 1, out]).
	g = graph.New()
	x = g.Input("x", batch, 2)
	ps := nn.Declare(g, specs)
	copies := map[string]*graph.Node{}
	var plain []*graph.Node
	for _, p := range ps {
		s := p.Shape()
		if len(s) == 1 {
			s = append([]int{1}, s...)
		}
		copies[p.Name()] = g.BroadcastTo(p, append([]int{batch}, s...)...)
		plain = append(plain, copies[p.Name()])
	}
	y = m.Apply(&nn.Context{Graph: g, Params: copies}, "f", x)
	h = g.Reshape(x, batch, 1, 2)
	h = g.Tanh(g.Add(g.MatMul(h, plain[0]), plain[1]))
	h = g.Tanh(g.Add(g.MatMul(h, plain[2]), plain[3]))
	py = g.Reshape(g.MatMul(h, plain[4]), batch, 2)
	rng := rand.New(rand.NewPCG(9, 9))
	params := nn.Init(rng, specs)
	feeds := map[string][]float32{"x": randVec(rng, batch*2, -1, 1, 0)}
	for name, e := range executors(t, g, openVulkan(t), params, y, py) {
		out := graphtest.Run(t, e, feeds)
		if !slices.Equal(out[0], out[1]) {
			t.Errorf("%s: per-example MLP %v, the physics MLP's sequence %v", name, out[0], out[1])
		}
	}
}
