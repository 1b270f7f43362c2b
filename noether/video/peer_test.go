package video_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/graph/safetensors"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/video"
	"github.com/noether-vk/noether-vk/svg"
)

// peerScript is the PyTorch peer of one video meta-training step.
const peerScript = "../../tools/peer/videostep.py"

// Tolerances against the peer, which computes in float64: the loss
// relative to itself, each gradient tensor element-wise relative to the
// largest magnitude in that tensor (gradScale), for float32 through some
// thirty layers and two derivative orders. Measured on 2026-12-03, on
// both executors and at lavapipe vector widths 128, 256 and 512: losses
// within 1.7e-7, gradients within 4e-5 of scale.
const (
	peerLossTol = 1e-6
	peerGradTol = 2e-4
)

// peerPython returns a Python that imports torch, or skips the test.
func peerPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{os.Getenv("PYTHON"), "python3", "/usr/bin/python3"} {
		if py != "" && exec.Command(py, "-c", "import torch").Run() == nil {
			return py
		}
	}
	t.Skip("no PyTorch peer: neither $PYTHON, python3 nor /usr/bin/python3 imports torch (apt-get install python3-torch)")
	return ""
}

// peerConfig is what tools/peer/videostep.py reads from the input's
// metadata: the SVG's configuration and the step's settings.
type peerConfig struct {
	ImageSize       int     `json:"image_size"`
	Channels        int     `json:"channels"`
	Family          string  `json:"family"`
	Width           int     `json:"width"`
	GDim            int     `json:"g_dim"`
	ZDim            int     `json:"z_dim"`
	RNNSize         int     `json:"rnn_size"`
	PredictorLayers int     `json:"predictor_layers"`
	PriorLayers     int     `json:"prior_layers"`
	PosteriorLayers int     `json:"posterior_layers"`
	NPast           int     `json:"n_past"`
	NFuture         int     `json:"n_future"`
	Norm            string  `json:"norm"`
	Variant         string  `json:"variant"`
	ActionDim       int     `json:"action_dim"`
	Skips           string  `json:"skips"`
	KLWeight        float32 `json:"kl_weight"`
	Adapt           string  `json:"adapt"`
	InnerSteps      int     `json:"inner_steps"`
	InnerLR         float32 `json:"inner_lr"`
	Form            string  `json:"form"`
	EmbedDim        int     `json:"embed_dim"`
	Batch           int     `json:"batch"`
	EmbedLR         float32 `json:"embed_lr,omitempty"`
	EmbedClip       float32 `json:"embed_clip,omitempty"`
}

func newPeerConfig(m svg.Config, adapt string, t noether.Tailoring, form noether.Form, embedDim, batch int) peerConfig {
	c := peerConfig{
		ImageSize: m.ImageSize, Channels: m.Channels, Family: m.Family.String(), Width: m.Width, GDim: m.GDim,
		RNNSize: m.RNNSize, PredictorLayers: m.PredictorLayers, NPast: m.NPast, NFuture: m.NFuture,
		Norm: m.Norm.String(), Variant: m.Variant.String(), ActionDim: m.ActionDim, Skips: m.Skips.String(), KLWeight: m.KLWeight,
		Adapt: adapt, InnerSteps: t.Steps, InnerLR: t.LR, Form: form.String(), EmbedDim: embedDim, Batch: batch,
	}
	if m.Variant == svg.LearnedPrior { // the deterministic model has none
		c.ZDim, c.PriorLayers, c.PosteriorLayers = m.ZDim, m.PriorLayers, m.PosteriorLayers
	}
	return c
}

// peerSVG is the peer's deterministic model: 16 px frames, DCGAN of
// width 4 (two levels), 2 context and 3 predicted frames, an action per
// step, GroupNorm, the Noether code's forget bias; the default preset's
// kind of model at a size that runs in seconds on the CPU.
func peerSVG() svg.Config {
	return svg.Config{
		ImageSize: 16, Channels: 3, Family: svg.DCGAN, Width: 4, GDim: 8, RNNSize: 8, PredictorLayers: 2,
		NPast: 2, NFuture: 3, Norm: svg.GroupNorm, Variant: svg.Deterministic, ActionDim: 1,
		ForgetBias: true, KLWeight: 1e-4,
	}
}

// TestPeerVideoStep compares one video meta-training step with PyTorch's
// (tools/peer/videostep.py, reverse over reverse in float64) on the same
// weights, frames, actions and noise, passed through a safetensors file:
// the task loss after the inner steps, the task loss without them, and
// the meta-gradients with respect to every SVG and g_phi parameter, on
// the CPU executor and on Vulkan. The cases tailor the latent offsets
// and the CN sites of the deterministic model with one SGD step, and the
// latent offsets of an SVG-LP (whose noise the passes share) with two.
// The inner rates are large enough that the second-order terms count:
// the first-order meta-gradient (noether.FirstOrder, which drops them)
// must miss PyTorch's gradient for theta by more than ten times the
// tolerance (checked), and g_phi's gradient is all second order.
func TestPeerVideoStep(t *testing.T) {
	py := peerPython(t)
	const batch, embedDim = 2, 8
	v := kernels.NewVulkan(gputest.Open(t))
	for _, tc := range []struct {
		name  string
		cfg   svg.Config
		adapt string
		sites func(*svg.Model) []nn.AdaptSpec
		inner noether.Tailoring
	}{
		{"offsets", peerSVG(), video.AdaptOffsets, offsetSites, noether.Tailoring{Steps: 1, LR: 3e5}},
		{"cn", peerSVG(), video.AdaptCN, cnSites, noether.Tailoring{Steps: 1, LR: 3e3}},
		{"offsets-lp-2steps", tinySVG(svg.DCGAN), video.AdaptOffsets, offsetSites, noether.Tailoring{Steps: 2, LR: 1e6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(16, 6))
			emb := video.Embedding(tc.cfg.Channels, tc.cfg.ImageSize, embedDim)
			b := buildWith(t, tc.cfg, emb, tc.sites, batch, noether.Consecutive)
			loss, dTheta, dPhi, err := noether.Meta(b.g, b.p, b.ad, b.theta, b.phi, batch, tc.inner)
			if err != nil {
				t.Fatal(err)
			}
			untailored := b.p.Task(b.g, b.theta, nil)
			fo := tc.inner
			fo.MetaGrad = noether.FirstOrder
			_, foTheta, _, err := noether.Meta(b.g, b.p, b.ad, b.theta, b.phi, batch, fo)
			if err != nil {
				t.Fatal(err)
			}
			// The SVG's weights are wide (wideValues) so that its frames
			// depend on the tailored tensors; at the reference's N(0,
			// 0.02) the inner step hardly moves the task loss. g_phi keeps
			// PyTorch's default initialisation, as in training.
			values := wideValues(rng, b.m.Params())
			for k, val := range nn.Init(rng, emb.Params()) {
				values[k] = val
			}
			feeds := feedsFor(rng, b.m, batch)
			pc := newPeerConfig(tc.cfg, tc.adapt, tc.inner, noether.Consecutive, embedDim, batch)
			want := runPeer(t, py, b.m, b.specs, values, feeds, pc)
			largest := 0.0
			for _, w := range want.Grads {
				largest = max(largest, maxAbs(w))
			}

			outs := append(append(append([]*graph.Node{loss, untailored}, dTheta...), dPhi...), foTheta...)
			prog := graphtest.Compile(t, b.g, outs...)
			vk, err := prog.OnVulkan(v, graph.VulkanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer vk.Close()
			for _, exe := range []struct {
				name string
				e    graph.Executor
			}{{"cpu", prog.OnCPU()}, {"vulkan", vk}} {
				graphtest.SetParams(t, exe.e, values)
				got := graphtest.Run(t, exe.e, feeds)
				lossErr := 0.0
				for i, w := range []float64{want.Loss, want.LossUntailored} {
					d := math.Abs(float64(got[i][0])/w - 1)
					lossErr = max(lossErr, d)
					if d > peerLossTol {
						t.Errorf("%s: %s: %v, PyTorch %v (relative error %.2g, tolerance %g)", exe.name, []string{"loss", "untailored loss"}[i], got[i][0], w, d, peerLossTol)
					}
				}
				worst, worstName := 0.0, ""
				for i, s := range b.specs {
					w, ok := want.Grads[s.Name]
					if !ok || len(w) != len(got[2+i]) {
						t.Fatalf("%s: PyTorch gives %d values for %s, we %d", exe.name, len(w), s.Name, len(got[2+i]))
					}
					e := maxAbsDiff(got[2+i], w) / gradScale(w, largest)
					if e > worst {
						worst, worstName = e, s.Name
					}
					if e > peerGradTol {
						t.Errorf("%s: d loss / d %s: max error %.2g of the tensor's largest gradient (tolerance %g)", exe.name, s.Name, e, peerGradTol)
					}
				}
				t.Logf("%s: loss %.7g (untailored %.7g), PyTorch %.7g (%.7g): relative error up to %.2g; gradients of %d tensors: max error %.2g of scale, at %s",
					exe.name, got[0][0], got[1][0], want.Loss, want.LossUntailored, lossErr, len(b.specs), worst, worstName)
				secondOrder := 0.0
				for i, s := range b.m.Params() {
					w := want.Grads[s.Name]
					secondOrder = max(secondOrder, maxAbsDiff(got[2+len(b.specs)+i], w)/gradScale(w, largest))
				}
				t.Logf("%s: the first-order meta-gradient misses PyTorch's theta gradient by up to %.2g of scale", exe.name, secondOrder)
				if secondOrder < 10*peerGradTol {
					t.Errorf("%s: the second-order terms change the theta gradient by %.2g of scale only, under ten times the tolerance %g: raise the inner rate, or the test cannot tell them", exe.name, secondOrder, peerGradTol)
				}
			}
		})
	}
}

// peerResult is the peer's output.
type peerResult struct {
	Loss           float64              `json:"loss"`
	LossUntailored float64              `json:"loss_untailored"`
	Grads          map[string][]float64 `json:"grads"`
}

// runPeer writes the weights and inputs (DeclareInputs' time-major
// layouts) with the configuration to a safetensors file and runs the
// peer's check on it.
func runPeer(t *testing.T, py string, m *svg.Model, specs []nn.ParamSpec, values, feeds map[string][]float32, pc peerConfig) peerResult {
	t.Helper()
	raw, err := json.Marshal(pc)
	if err != nil {
		t.Fatal(err)
	}
	f := &safetensors.File{Tensors: map[string]safetensors.Tensor{}, Meta: map[string]string{"config": string(raw)}}
	for _, s := range specs {
		f.Tensors[s.Name] = safetensors.Tensor{Shape: s.Shape, Data: values[s.Name]}
	}
	cfg := m.Config()
	T, B := cfg.Frames(), pc.Batch
	shapes := map[string][]int{
		svg.FramesInput:       {T, B, cfg.Channels, cfg.ImageSize, cfg.ImageSize},
		svg.ActionsInput:      {T - 1, B, cfg.ActionDim},
		svg.PriorEpsInput:     {T - 1, B, cfg.ZDim},
		svg.PosteriorEpsInput: {T - 1, B, cfg.ZDim},
	}
	for name, v := range feeds {
		f.Tensors[name] = safetensors.Tensor{Shape: shapes[name], Data: v}
	}
	path := filepath.Join(t.TempDir(), "step.safetensors")
	if err := safetensors.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	out := runScript(t, py, "check", path)
	var r peerResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("the peer's output: %v", err)
	}
	return r
}

// runScript runs the peer with args and returns its standard output.
func runScript(t *testing.T, py string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(py, append([]string{peerScript}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", py, peerScript, err, stderr.String())
	}
	return out
}

// maxAbs is the largest magnitude of v.
func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

// maxAbsDiff is the largest |got - want|.
func maxAbsDiff(got []float32, want []float64) float64 {
	d := 0.0
	for i, w := range want {
		d = max(d, math.Abs(float64(got[i])-w))
	}
	return d
}

// gradScale is what a gradient tensor's errors are measured against:
// its largest magnitude, or, for a gradient that is zero but for float64
// rounding (g_phi's output bias, which the 2b form's differences cancel),
// the largest gradient of the step, whose float32 rounding it inherits.
func gradScale(want []float64, largest float64) float64 {
	if s := maxAbs(want); s > 1e-9*largest {
		return s
	}
	return largest
}

// TestPeerPreset: the step the peer's bench times is the default
// preset's: the same model, tailoring, embedding and batch, and the same
// tensors with the same shapes.
func TestPeerPreset(t *testing.T) {
	py := peerPython(t)
	var peer struct {
		Config peerConfig       `json:"config"`
		Shapes map[string][]int `json:"shapes"`
	}
	if err := json.Unmarshal(runScript(t, py, "preset"), &peer); err != nil {
		t.Fatalf("the peer's preset: %v", err)
	}
	c, err := video.Preset(video.PixelPendulum, "default")
	if err != nil {
		t.Fatal(err)
	}
	want := newPeerConfig(c.Model, c.Adapt, c.Inner, c.Form, c.EmbedDim, c.Batch)
	want.EmbedLR, want.EmbedClip = c.EmbedLR, c.EmbedClip
	if peer.Config != want {
		t.Errorf("the peer's default preset\n %+v\nvideo.Preset(\"default\")\n %+v", peer.Config, want)
	}
	m, err := svg.New(c.Model)
	if err != nil {
		t.Fatal(err)
	}
	specs := append(m.Params(), video.Embedding(c.Model.Channels, c.Model.ImageSize, c.EmbedDim).Params()...)
	for _, s := range specs {
		if got, ok := peer.Shapes[s.Name]; !ok || !slices.Equal(got, s.Shape) {
			t.Errorf("%s: the peer's shape %v, ours %v", s.Name, got, s.Shape)
		}
	}
	if len(peer.Shapes) != len(specs) {
		t.Errorf("the peer has %d tensors, the model and embedding %d", len(peer.Shapes), len(specs))
	}
}

// TestNewMetaStep: the benchmarked step is the noether method's training
// step: each run trains the embedding, so the next run's tailored loss
// differs, and a batch larger than the data is refused.
func TestNewMetaStep(t *testing.T) {
	c := tinyRun(t, graph.CPUBackend{})
	step, err := video.NewMetaStep(c)
	if err != nil {
		t.Fatal(err)
	}
	defer step.Close()
	if want := "default/offsets/b2"; step.Shape != want {
		t.Errorf("shape %q, want %q", step.Shape, want)
	}
	var losses [2]float32
	for i := range losses {
		if losses[i], err = step.Run(); err != nil {
			t.Fatal(err)
		}
	}
	if math.IsNaN(float64(losses[0])) || losses[0] <= 0 || losses[1] == losses[0] {
		t.Errorf("losses %v: want positive, and changed by the embedding's Adam step", losses)
	}
	c.Batch = 6
	if _, err := video.NewMetaStep(c); err == nil || !strings.Contains(err.Error(), "batch 6 is larger than the data") {
		t.Errorf("batch 6 of 5 windows: error %v, want one naming the batch", err)
	}
}
