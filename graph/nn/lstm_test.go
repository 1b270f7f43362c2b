package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// hostLinear is x w + b in float64 on the host, x [batch, in], w [in, out].
func hostLinear(x []float64, w, b []float32, in, out int) []float64 {
	batch := len(x) / in
	y := make([]float64, batch*out)
	for n := range batch {
		for j := range out {
			s := float64(b[j])
			for k := range in {
				s += x[n*in+k] * float64(w[k*out+j])
			}
			y[n*out+j] = s
		}
	}
	return y
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// hostStack steps SVG's embedding and stacked cells on the host, from the
// documented layouts and gate order (i, f, g, o), updating h and c, and
// returns the last layer's h.
func hostStack(p map[string][]float32, x []float64, in, hidden int, h, c [][]float64) []float64 {
	hin := hostLinear(x, p["embed.weight"], p["embed.bias"], in, hidden)
	for l := range h {
		s := fmt.Sprintf("lstm.%d.", l)
		zx := hostLinear(hin, p[s+"weight_ih"], p[s+"bias_ih"], hidden, 4*hidden)
		zh := hostLinear(h[l], p[s+"weight_hh"], p[s+"bias_hh"], hidden, 4*hidden)
		for n := range len(h[l]) / hidden {
			z := func(gate, j int) float64 { k := n*4*hidden + gate*hidden + j; return zx[k] + zh[k] }
			for j := range hidden {
				k := n*hidden + j
				c[l][k] = sigmoid(z(1, j))*c[l][k] + sigmoid(z(0, j))*math.Tanh(z(2, j))
				h[l][k] = sigmoid(z(3, j)) * math.Tanh(c[l][k])
			}
		}
		hin = h[l]
	}
	return hin
}

// TestLSTMStep runs SVG's LSTM and Gaussian LSTM for three steps,
// carrying the state, against the host computation, on both executors,
// and checks the gradients of a loss on every output (y, z, mu, logvar)
// against finite differences.
func TestLSTMStep(t *testing.T) {
	const batch, in, hidden, out, layers, steps = 2, 3, 4, 2, 2, 3
	det := nn.LSTM{In: in, Hidden: hidden, Out: out, Layers: layers}
	gauss := nn.GaussianLSTM{In: in, Hidden: hidden, Out: out, Layers: layers}
	rng := rand.New(rand.NewPCG(11, 11))
	g := graph.New()
	c := &nn.Context{Graph: g}
	ps := append(nn.Declare(g, det.Params("det")), nn.Declare(g, gauss.Params("gauss"))...)
	params := nn.Init(rng, append(det.Params("det"), gauss.Params("gauss")...))
	feeds := map[string][]float32{}
	ds, gs := det.ZeroState(g, batch), gauss.ZeroState(g, batch)
	var outs []*graph.Node
	var loss *graph.Node
	for s := range steps {
		x, eps := g.Input(fmt.Sprint("x", s), batch, in), g.Input(fmt.Sprint("eps", s), batch, out)
		feeds[x.Name()], feeds[eps.Name()] = randVec(rng, batch*in, -1, 1, 0), randVec(rng, batch*out, -1, 1, 0)
		var y, z, mu, logvar *graph.Node
		y, ds = det.Step(c, "det", x, ds)
		z, mu, logvar, gs = gauss.Step(c, "gauss", x, eps, gs)
		outs = append(outs, y, z, mu, logvar)
		for _, o := range []*graph.Node{y, z, mu, logvar} {
			term := g.Sum(g.Mul(o, g.Const(randVec(rng, batch*out, -1, 1, 0), batch, out)))
			if loss == nil {
				loss = term
			} else {
				loss = g.Add(loss, term)
			}
		}
	}

	// The host reference.
	sub := func(prefix string) map[string][]float32 {
		m := map[string][]float32{}
		for k, v := range params {
			if local, ok := strings.CutPrefix(k, prefix); ok {
				m[local] = v
			}
		}
		return m
	}
	zeros := func() [][]float64 {
		st := make([][]float64, layers)
		for l := range st {
			st[l] = make([]float64, batch*hidden)
		}
		return st
	}
	dp, gp := sub("det."), sub("gauss.")
	dh, dc, gh, gc := zeros(), zeros(), zeros(), zeros()
	var want [][]float32
	for s := range steps {
		x, eps := f64(feeds[fmt.Sprint("x", s)]), feeds[fmt.Sprint("eps", s)]
		y := hostLinear(hostStack(dp, x, in, hidden, dh, dc), dp["output.0.weight"], dp["output.0.bias"], hidden, out)
		for i := range y {
			y[i] = math.Tanh(y[i])
		}
		h := hostStack(gp, x, in, hidden, gh, gc)
		mu := hostLinear(h, gp["mu_net.weight"], gp["mu_net.bias"], hidden, out)
		logvar := hostLinear(h, gp["logvar_net.weight"], gp["logvar_net.bias"], hidden, out)
		z := make([]float64, len(mu))
		for i := range z {
			z[i] = mu[i] + math.Exp(logvar[i]/2)*float64(eps[i])
		}
		want = append(want, f32(y), f32(z), f32(mu), f32(logvar))
	}

	grads := g.Grad(loss, ps...)
	es := executors(t, g, openVulkan(t), params, append(append([]*graph.Node{loss}, outs...), grads...)...)
	cpu := graphtest.Run(t, es["cpu"], feeds)
	for name, e := range es {
		got := graphtest.Run(t, e, feeds)
		for i, w := range want {
			kerneltest.Near(t, fmt.Sprintf("%s: step %d output %d", name, i/4, i%4), got[1+i], w, kerneltest.F32)
		}
		for i, p := range ps {
			kerneltest.Near(t, name+" vs cpu: d loss/d "+p.Name(), got[1+len(outs)+i], cpu[1+len(outs)+i], kerneltest.F32Reduce)
		}
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name())
	}
	checkGrads(t, "LSTMs", executors(t, g, nil, params, loss)["cpu"], params, feeds, names, cpu[1+len(outs):])
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
