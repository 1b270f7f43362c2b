package nn_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// lookup reads the model's tensors at scope "m" by local name.
type lookup func(local string) *graph.Node

// moduleCase is one module at one input shape, with the plain graph ops
// it must build.
type moduleCase struct {
	name  string
	m     nn.Module
	in    []int
	train bool
	x     func(rng *rand.Rand, n int) []float32 // nil: uniform in [-1, 1)
	plain func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node
}

func awayFromZero(rng *rand.Rand, n int) []float32 { return randVec(rng, n, 0, 1, 0.05) }

func moduleCases() []moduleCase {
	bn := func(train bool) func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node {
		return func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node {
			y, _, _ := g.BatchNorm(x, p("weight"), p("bias"), p("running_mean"), p("running_var"), kernels.BNConfig{Train: train, Momentum: 0.1})
			return y
		}
	}
	return []moduleCase{
		{name: "Linear", m: nn.Linear{In: 3, Out: 4}, in: []int{2, 3},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node { return g.Linear(x, p("weight"), p("bias")) }},
		{name: "Linear/no-bias", m: nn.Linear{In: 3, Out: 4, NoBias: true}, in: []int{2, 3},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node { return g.MatMul(x, p("weight")) }},
		{name: "MLP/tanh", m: nn.MLP{Sizes: []int{2, 5, 4, 3}}, in: []int{3, 2},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node {
				h := g.Tanh(g.Linear(x, p("0.weight"), p("0.bias")))
				h = g.Tanh(g.Linear(h, p("1.weight"), p("1.bias")))
				return g.MatMul(h, p("2.weight"))
			}},
		{name: "MLP/sigmoid-last-bias", m: nn.MLP{Sizes: []int{2, 5, 3}, Act: nn.Sigmoid{}, LastBias: true}, in: []int{3, 2},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node {
				h := g.Sigmoid(g.Linear(x, p("0.weight"), p("0.bias")))
				return g.Linear(h, p("1.weight"), p("1.bias"))
			}},
		{name: "Conv2d/k3s1p1", m: nn.Conv2d{In: 2, Out: 3, Kernel: 3, Pad: 1}, in: []int{2, 2, 5, 5},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node {
				return g.Conv2d(x, p("weight"), p("bias"), 1, 1)
			}},
		{name: "Conv2d/k4s2p1-no-bias", m: nn.Conv2d{In: 2, Out: 3, Kernel: 4, Stride: 2, Pad: 1, NoBias: true}, in: []int{1, 2, 6, 6},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node {
				return g.Conv2d(x, p("weight"), nil, 2, 1)
			}},
		{name: "ConvTranspose2d/k4s2p1", m: nn.ConvTranspose2d{In: 3, Out: 2, Kernel: 4, Stride: 2, Pad: 1}, in: []int{2, 3, 3, 3},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node {
				return g.ConvTranspose2d(x, p("weight"), p("bias"), 2, 1)
			}},
		{name: "GroupNorm", m: nn.GroupNorm{Groups: 2, Channels: 4}, in: []int{2, 4, 3, 3},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node {
				return g.GroupNorm(x, p("weight"), p("bias"), 2)
			}},
		{name: "BatchNorm/train", m: nn.BatchNorm{Channels: 3}, in: []int{3, 3, 2, 2}, train: true, plain: bn(true)},
		{name: "BatchNorm/eval", m: nn.BatchNorm{Channels: 3}, in: []int{3, 3, 2, 2}, plain: bn(false)},
		{name: "MaxPool2d", m: nn.MaxPool2d{Kernel: 2}, in: []int{2, 2, 4, 4}, x: distinct,
			plain: func(g *graph.Graph, x *graph.Node, _ lookup) *graph.Node { return g.MaxPool2d(x, 2, 2) }},
		{name: "Upsample", m: nn.Upsample{Factor: 2}, in: []int{2, 2, 2, 3},
			plain: func(g *graph.Graph, x *graph.Node, _ lookup) *graph.Node { return g.UpsampleNearest2d(x, 2) }},
		{name: "Tanh", m: nn.Tanh{}, in: []int{2, 5},
			plain: func(g *graph.Graph, x *graph.Node, _ lookup) *graph.Node { return g.Tanh(x) }},
		{name: "ReLU", m: nn.ReLU{}, in: []int{2, 5}, x: awayFromZero,
			plain: func(g *graph.Graph, x *graph.Node, _ lookup) *graph.Node { return g.Relu(x) }},
		{name: "LeakyReLU", m: nn.LeakyReLU{Slope: 0.2}, in: []int{2, 5}, x: awayFromZero,
			plain: func(g *graph.Graph, x *graph.Node, _ lookup) *graph.Node { return g.LeakyRelu(x, 0.2) }},
		{name: "Sigmoid", m: nn.Sigmoid{}, in: []int{2, 5},
			plain: func(g *graph.Graph, x *graph.Node, _ lookup) *graph.Node { return g.Sigmoid(x) }},
		{name: "Flatten", m: nn.Flatten{}, in: []int{2, 3, 2, 2},
			plain: func(g *graph.Graph, x *graph.Node, _ lookup) *graph.Node { return g.Reshape(x, 2, 12) }},
		{name: "Reshape", m: nn.Reshape{Shape: []int{3, 1, 1}}, in: []int{2, 3},
			plain: func(g *graph.Graph, x *graph.Node, _ lookup) *graph.Node { return g.Reshape(x, 2, 3, 1, 1) }},
		{name: "Sequential", in: []int{2, 2, 4, 4},
			m: nn.Sequential{
				nn.Conv2d{In: 2, Out: 4, Kernel: 4, Stride: 2, Pad: 1},
				nn.Named{Name: "norm", Module: nn.GroupNorm{Groups: 1, Channels: 4}},
				nn.LeakyReLU{Slope: 0.2},
				nn.Flatten{},
				nn.Named{Name: "head", Module: nn.Linear{In: 16, Out: 3}},
			},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node {
				h := g.Conv2d(x, p("0.weight"), p("0.bias"), 2, 1)
				h = g.LeakyRelu(g.GroupNorm(h, p("norm.weight"), p("norm.bias"), 1), 0.2)
				return g.Linear(g.Reshape(h, 2, 16), p("head.weight"), p("head.bias"))
			}},
		{name: "LatentOffset/none-given", m: nn.LatentOffset{Module: nn.Linear{In: 3, Out: 2}, Shape: []int{2}}, in: []int{2, 3},
			plain: func(g *graph.Graph, x *graph.Node, p lookup) *graph.Node { return g.Linear(x, p("weight"), p("bias")) }},
	}
}

// declareCase declares x (as a parameter, so finite differences can move
// it), the module's parameters and its state at scope "m".
func declareCase(g *graph.Graph, m nn.Module, in []int) (x *graph.Node, ps []*graph.Node) {
	x = g.Param("x", in...)
	ps = nn.Declare(g, m.Params("m"))
	nn.Declare(g, nn.State(m, "m"))
	return x, ps
}

// TestModules checks, for every module: that Apply builds exactly the
// plain graph ops (the same program, so the same numbers; no op where no
// adaptation tensor is given); that the gradients of <r, y> with respect
// to the input and every parameter match finite differences; and that
// the Vulkan executor agrees with the CPU one on the output and gradients.
func TestModules(t *testing.T) {
	v := openVulkan(t)
	for _, tc := range moduleCases() {
		t.Run(tc.name, func(t *testing.T) {
			g := graph.New()
			x, ps := declareCase(g, tc.m, tc.in)
			c := &nn.Context{Graph: g, Train: tc.train}
			y := tc.m.Apply(c, "m", x)

			pg := graph.New()
			px, _ := declareCase(pg, tc.m, tc.in)
			py := tc.plain(pg, px, func(local string) *graph.Node {
				n, ok := pg.Lookup(nn.Scope("m").Name(local))
				if !ok {
					t.Fatalf("no tensor m.%s", local)
				}
				return n
			})
			got, want := graphtest.Compile(t, g, y).Dump(), graphtest.Compile(t, pg, py).Dump()
			if got != want {
				t.Fatalf("Apply built\n%s\nthe plain ops are\n%s", got, want)
			}
			if tc.train != (len(c.NewState) > 0) {
				t.Errorf("NewState %v in training mode %v", c.NewState, tc.train)
			}

			rng := rand.New(rand.NewPCG(3, uint64(len(tc.name))))
			params := caseValues(rng, tc.m, x, ps, tc.x)
			loss := g.Sum(g.Mul(y, g.Const(randVec(rng, y.Shape().Len(), -1, 1, 0), y.Shape()...)))
			wrt := append([]*graph.Node{x}, ps...)
			grads := g.Grad(loss, wrt...)
			es := executors(t, g, v, params, append([]*graph.Node{loss, y}, grads...)...)
			cpu, vk := graphtest.Run(t, es["cpu"], nil), graphtest.Run(t, es["vulkan"], nil)
			for i := range cpu {
				kerneltest.Near(t, fmt.Sprint("vulkan vs cpu, output ", i), vk[i], cpu[i], kerneltest.F32Reduce)
			}
			var names []string
			for _, n := range wrt {
				names = append(names, n.Name())
			}
			checkGrads(t, tc.name, executors(t, g, nil, params, loss)["cpu"], params, nil, names, cpu[2:])
		})
	}
}

// caseValues draws the input x (with draw; nil: uniform in [-1, 1)), the
// parameters ps and m's state, keeping running variances positive.
func caseValues(rng *rand.Rand, m nn.Module, x *graph.Node, ps []*graph.Node, draw func(*rand.Rand, int) []float32) map[string][]float32 {
	if draw == nil {
		draw = func(rng *rand.Rand, n int) []float32 { return randVec(rng, n, -1, 1, 0) }
	}
	params := map[string][]float32{"x": draw(rng, x.Shape().Len())}
	for _, p := range ps {
		params[p.Name()] = randVec(rng, p.Shape().Len(), -1, 1, 0)
	}
	for _, s := range nn.State(m, "m") {
		lo := -1.0
		if strings.HasSuffix(s.Name, "running_var") {
			lo = 0.5
		}
		params[s.Name] = randVec(rng, graph.Shape(s.Shape).Len(), lo, 1.5, 0)
	}
	return params
}

// TestNames checks the names a composite model gives its tensors: torch's
// dotted names, Sequential indices counting parameter-free layers, Named
// blocks, BatchNorm's state and the CN sites of norm layers and of the
// MLP's hidden layers.
func TestNames(t *testing.T) {
	enc := nn.Sequential{
		nn.Named{Name: "c1", Module: nn.Sequential{nn.Conv2d{In: 3, Out: 8, Kernel: 4}, nn.BatchNorm{Channels: 8}, nn.LeakyReLU{Slope: 0.2}}},
		nn.Named{Name: "c2", Module: nn.LatentOffset{Module: nn.Conv2d{In: 8, Out: 4, Kernel: 1, NoBias: true}, Shape: []int{4, 2, 2}}},
	}
	mlp := nn.MLP{Sizes: []int{2, 5, 4, 2}}
	for _, tc := range []struct {
		what string
		got  []string
		want []string
	}{
		{"encoder params", specNames(enc.Params("enc")), []string{"enc.c1.0.weight", "enc.c1.0.bias", "enc.c1.1.weight", "enc.c1.1.bias", "enc.c2.weight"}},
		{"encoder state", specNames(nn.State(enc, "enc")), []string{"enc.c1.1.running_mean", "enc.c1.1.running_var"}},
		{"encoder adaptables", adaptNames(nn.Adaptables(enc, "enc")), []string{"enc.c1.1.cn.scale [8] 1", "enc.c1.1.cn.shift [8] 0", "enc.c2.offset [4 2 2] 0"}},
		{"MLP params", specNames(mlp.Params("f")), []string{"f.0.weight", "f.0.bias", "f.1.weight", "f.1.bias", "f.2.weight"}},
		{"MLP adaptables", adaptNames(nn.Adaptables(mlp, "f")), []string{"f.0.cn.scale [5] 1", "f.0.cn.shift [5] 0", "f.1.cn.scale [4] 1", "f.1.cn.shift [4] 0"}},
		{"LSTM params", specNames(nn.LSTM{In: 3, Hidden: 4, Out: 2, Layers: 2}.Params("")), []string{
			"embed.weight", "embed.bias",
			"lstm.0.weight_ih", "lstm.0.weight_hh", "lstm.0.bias_ih", "lstm.0.bias_hh",
			"lstm.1.weight_ih", "lstm.1.weight_hh", "lstm.1.bias_ih", "lstm.1.bias_hh",
			"output.0.weight", "output.0.bias"}},
		{"Gaussian LSTM params", specNames(nn.GaussianLSTM{In: 3, Hidden: 4, Out: 2, Layers: 1}.Params("posterior")), []string{
			"posterior.embed.weight", "posterior.embed.bias",
			"posterior.lstm.0.weight_ih", "posterior.lstm.0.weight_hh", "posterior.lstm.0.bias_ih", "posterior.lstm.0.bias_hh",
			"posterior.mu_net.weight", "posterior.mu_net.bias", "posterior.logvar_net.weight", "posterior.logvar_net.bias"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.what, tc.got, tc.want)
		}
	}
}

func specNames(specs []nn.ParamSpec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Name)
	}
	return out
}

func adaptNames(specs []nn.AdaptSpec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, fmt.Sprintf("%s %v %g", s.Name, s.Shape, s.Start))
	}
	return out
}

// TestLinearPerExample: Linear with per-example weights [B, in, out] or
// biases ([B, out], [B, 1, out]) given through Context.Params computes
// x[n] w[n] + b[n] for every example n (a host computation).
func TestLinearPerExample(t *testing.T) {
	const batch, in, out = 3, 2, 4
	lin := nn.Linear{In: in, Out: out}
	for _, tc := range []struct {
		name         string
		weight, bias []int // shapes of the tensors given in Context.Params
	}{
		{"weights and biases [B, out]", []int{batch, in, out}, []int{batch, out}},
		{"weights and biases [B, 1, out]", []int{batch, in, out}, []int{batch, 1, out}},
		{"weights and a shared bias", []int{batch, in, out}, []int{out}},
		{"shared weights and biases [B, 1, out]", []int{in, out}, []int{batch, 1, out}},
		{"shared weights and biases [B, out]", []int{in, out}, []int{batch, out}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2, 2))
			g := graph.New()
			x := g.Input("x", batch, in)
			w, b := g.Param("w", tc.weight...), g.Param("b", tc.bias...)
			y := lin.Apply(&nn.Context{Graph: g, Params: map[string]*graph.Node{"l.weight": w, "l.bias": b}}, "l", x)
			params := map[string][]float32{"w": randVec(rng, w.Shape().Len(), -1, 1, 0), "b": randVec(rng, b.Shape().Len(), -1, 1, 0)}
			feeds := map[string][]float32{"x": randVec(rng, batch*in, -1, 1, 0)}
			got := graphtest.Run(t, executors(t, g, nil, params, y)["cpu"], feeds)[0]
			var want []float32
			for n := range batch {
				wn, bn := params["w"], params["b"]
				if len(tc.weight) == 3 {
					wn = wn[n*in*out : (n+1)*in*out]
				}
				if len(tc.bias) > 1 {
					bn = bn[n*out : (n+1)*out]
				}
				want = append(want, f32(hostLinear(f64(feeds["x"][n*in:(n+1)*in]), wn, bn, in, out))...)
			}
			kerneltest.Near(t, "y", got, want, kerneltest.F32)
		})
	}
}
