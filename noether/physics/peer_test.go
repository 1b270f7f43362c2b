package physics

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/graph/safetensors"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
)

var writePeerInput = flag.Bool("write-peer-input", false, "rewrite testdata/peer_metagrad_*.safetensors (then rerun tools/peer/metagrad.py)")

// The peer problem: a 2-6-2 model, a 2-5-3 embedding, batch 4.
const (
	peerBatch  = 4
	peerDT     = 0.3
	peerInner  = 0.5
	peerHidden = 6
)

func peerModels() (noether.Model, noether.Model) {
	return NewMLP("f", []int{2, peerHidden, 2}, false), NewMLP("g", []int{2, 5, 3}, true)
}

// TestPeerMetaGradient compares the forward-over-reverse meta-gradient of
// one inner SGD step (every weight per example, and per-example CN) with
// PyTorch's reverse over reverse in float64, computed by
// tools/peer/metagrad.py from the weights this test wrote (committed with
// its output in testdata), on the CPU executor and on Vulkan.
func TestPeerMetaGradient(t *testing.T) {
	for _, adapt := range []string{"all", "cn"} {
		t.Run(adapt, func(t *testing.T) {
			in := "testdata/peer_metagrad_" + adapt + ".safetensors"
			if *writePeerInput {
				writePeerFile(t, in, adapt)
			}
			ck, err := safetensors.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile("testdata/peer_metagrad_" + adapt + ".json")
			if err != nil {
				t.Fatalf("%v: run python3 tools/peer/metagrad.py %s > that file", err, in)
			}
			var want struct {
				Loss  float64
				Grads map[string][]float64
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			model, emb := peerModels()
			g := graph.New()
			x, y := g.Input("x", peerBatch, 2), g.Input("y", peerBatch, 2)
			var ad noether.ModelAdaptation = noether.AdaptAll{Model: model}
			if adapt == "cn" {
				ad = noether.AdaptSites{Model: model}
			}
			theta, phi := nn.Declare(g, model.Params()), nn.Declare(g, emb.Params())
			p := &StepProblem{Adapt: ad, Embed: emb, DT: peerDT, Scheme: ForwardStep, X: x, Y: y} // the script's step
			loss, dth, dph, err := noether.Meta(g, p, ad, theta, phi, peerBatch, noether.Tailoring{Steps: 1, LR: peerInner})
			if err != nil {
				t.Fatal(err)
			}
			outs := append(append([]*graph.Node{loss}, dth...), dph...)
			prog, err := g.Compile(graph.CompileOptions{}, outs...)
			if err != nil {
				t.Fatal(err)
			}
			vk, err := prog.OnVulkan(kernels.NewVulkan(gputest.Open(t)), graph.VulkanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer vk.Close()
			for _, exe := range []graph.Executor{prog.OnCPU(), vk} {
				for _, n := range append(append([]*graph.Node(nil), theta...), phi...) {
					if err := exe.SetParam(n.Name(), ck.Tensors[n.Name()].Data); err != nil {
						t.Fatal(err)
					}
				}
				got, err := exe.Run(map[string][]float32{"x": ck.Tensors["x"].Data, "y": ck.Tensors["y"].Data})
				if err != nil {
					t.Fatal(err)
				}
				if d := math.Abs(float64(got[0][0]) - want.Loss); d > 1e-5*math.Abs(want.Loss)+1e-7 {
					t.Errorf("%T: loss %v, PyTorch %v", exe, got[0][0], want.Loss)
				}
				for i, n := range append(append([]*graph.Node(nil), theta...), phi...) {
					w := want.Grads[n.Name()]
					scale := 0.0
					for _, v := range w {
						scale = max(scale, math.Abs(v))
					}
					for j, v := range w {
						if d := math.Abs(float64(got[1+i][j]) - v); d > 1e-4*scale+1e-7 {
							t.Errorf("%T: d loss / d %s[%d] = %v, PyTorch %v", exe, n.Name(), j, got[1+i][j], v)
							break
						}
					}
				}
			}
		})
	}
}

// writePeerFile writes random weights and data for the peer script.
func writePeerFile(t *testing.T, path, adapt string) {
	rng := rand.New(rand.NewPCG(11, 5))
	model, emb := peerModels()
	ck := &safetensors.File{Tensors: map[string]safetensors.Tensor{}, Meta: map[string]string{
		"dt": strconv.FormatFloat(peerDT, 'g', -1, 32), "inner_lr": strconv.FormatFloat(peerInner, 'g', -1, 32), "adapt": adapt,
	}}
	for _, m := range []noether.Model{model, emb} {
		vals := nn.Init(rng, m.Params())
		for _, s := range m.Params() {
			ck.Tensors[s.Name] = safetensors.Tensor{Shape: s.Shape, Data: vals[s.Name]}
		}
	}
	for _, name := range []string{"x", "y"} {
		v := make([]float32, 2*peerBatch)
		for i := range v {
			v[i] = float32(2*rng.Float64() - 1)
		}
		ck.Tensors[name] = safetensors.Tensor{Shape: []int{peerBatch, 2}, Data: v}
	}
	if err := safetensors.WriteFile(path, ck); err != nil {
		t.Fatal(err)
	}
}
