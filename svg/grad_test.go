package svg_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
	"github.com/noether-vk/noether-vk/svg"
)

// objective is a tiny model's outer loss with its gradients with respect
// to every parameter and to adapted CN scales, shifts and latent offsets
// declared as graph parameters, with values and feeds to run it.
type objective struct {
	d      declared
	loss   *graph.Node
	frames []*graph.Node // the predicted frames NPast ..
	wrt    []*graph.Node
	grads  []*graph.Node
	values map[string][]float32
	feeds  map[string][]float32
}

// newObjective builds the loss of the teacher-forced pass (or of the
// rollout) of cfg, BatchNorm with batch statistics if train.
func newObjective(t testing.TB, cfg svg.Config, rollout, train bool, seed uint64) objective {
	const batch = 2
	rng := rand.New(rand.NewPCG(seed, 1))
	d := declare(t, cfg, batch)
	sites := append(d.m.CNSites(), d.m.OffsetSites()...)
	adapted := map[string]*graph.Node{}
	o := objective{d: d, wrt: d.params, values: testValues(rng, append(d.m.Params(), d.m.State()...))}
	for _, s := range sites {
		n := d.g.Param(s.Name, append([]int{batch}, s.Shape...)...)
		adapted[s.Name] = n
		o.wrt = append(o.wrt, n)
		lo := -0.5 + float64(s.Start)
		o.values[s.Name] = uniform(rng, n.Shape().Len(), lo, lo+1)
	}
	c := d.m.Context(d.g, nil, adapted)
	c.Train = train
	p := d.predict(t, c, rollout)
	o.frames = p.Frames[cfg.NPast:]
	o.loss = d.loss(t, p)
	o.grads = d.g.Grad(o.loss, o.wrt...)
	o.feeds = testFeeds(rng, d.m, batch)
	return o
}

// TestGradients: the gradients of the outer loss with respect to every
// parameter and adapted tensor agree with central differences on the CPU
// executor, for the rollout (DCGAN, BatchNorm with running statistics)
// and the teacher-forced pass (VGG, GroupNorm). (BatchNorm with the batch
// statistics of two examples makes the 1x1 code nearly a sign function,
// too curved for finite differences; TestVulkanMatchesCPU runs it.)
func TestGradients(t *testing.T) {
	dcgan := tiny(svg.DCGAN)
	dcgan.Norm = svg.BatchNorm
	for _, tc := range []struct {
		name    string
		cfg     svg.Config
		rollout bool
	}{{"dcgan rollout", dcgan, true}, {"vgg teacher-forced", tiny(svg.VGG), false}} {
		o := newObjective(t, tc.cfg, tc.rollout, false, 3)
		grads := graphtest.Run(t, onCPU(t, o.d.g, o.values, o.grads...), o.feeds)
		lossOnCPU := onCPU(t, o.d.g, o.values, o.loss)
		// Directional derivatives per tensor: along a random direction
		// the signal of a tensor's many small partials adds up, where an
		// element's finite difference would be float32 noise. They are
		// judged together, against the largest: the float32 loss cannot
		// resolve the smallest (the offsets' may be 1e-5) to 2%. The step
		// is small because LeakyReLU's and max pooling's kinks bias larger
		// ones (VGG's first layers by 1-2% at 1e-2).
		const h = 1e-3
		rng := rand.New(rand.NewPCG(4, 4))
		got, want := make([]float32, len(o.wrt)), make([]float32, len(o.wrt))
		for i, p := range o.wrt {
			dir := uniform(rng, p.Shape().Len(), -1, 1)
			at := func(s float32) float64 {
				graphtest.SetParams(t, lossOnCPU, map[string][]float32{p.Name(): shifted(o.values[p.Name()], dir, s)})
				return float64(graphtest.Run(t, lossOnCPU, o.feeds)[0][0])
			}
			want[i] = float32((at(h) - at(-h)) / (2 * h))
			graphtest.SetParams(t, lossOnCPU, map[string][]float32{p.Name(): o.values[p.Name()]})
			var dot float64
			for j, gj := range grads[i] {
				dot += float64(gj) * float64(dir[j])
			}
			got[i] = float32(dot)
			t.Logf("%s: %d: %s: %.5g, central difference %.5g", tc.name, i, p.Name(), got[i], want[i])
		}
		kerneltest.Near(t, tc.name+": directional derivatives (the log names them)", got, want, kerneltest.Tol{Name: "directional", Abs: 1e-2, Rel: 2e-2})
	}
}

// TestVulkanMatchesCPU: the loss, the predicted frames and every
// gradient agree between the Vulkan and CPU executors, for both passes
// (VGG, BatchNorm with batch statistics).
func TestVulkanMatchesCPU(t *testing.T) {
	v := kernels.NewVulkan(gputest.Open(t))
	cfg := tiny(svg.VGG)
	cfg.Norm = svg.BatchNorm
	for _, rollout := range []bool{false, true} {
		o := newObjective(t, cfg, rollout, true, 5)
		outs := append(append([]*graph.Node{o.loss}, o.frames...), o.grads...)
		prog := graphtest.Compile(t, o.d.g, outs...)
		vk, err := prog.OnVulkan(v, graph.VulkanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(vk.Close)
		graphtest.SetParams(t, vk, o.values)
		cpu := prog.OnCPU()
		graphtest.SetParams(t, cpu, o.values)
		got, want := graphtest.Run(t, vk, o.feeds), graphtest.Run(t, cpu, o.feeds)
		for i := range 1 + len(o.frames) {
			kerneltest.Near(t, fmt.Sprintf("rollout %v: output %d (the loss, then the frames)", rollout, i), got[i], want[i], kerneltest.F32Reduce)
		}
		// The gradients together, so that those that are zero but for
		// rounding (a convolution's bias before BatchNorm) are judged
		// against the others' size.
		var gotGrads, wantGrads []float32
		for i, p := range o.wrt {
			t.Logf("rollout %v: gradient of %s from element %d", rollout, p.Name(), len(wantGrads))
			gotGrads = append(gotGrads, got[1+len(o.frames)+i]...)
			wantGrads = append(wantGrads, want[1+len(o.frames)+i]...)
		}
		kerneltest.Near(t, fmt.Sprintf("rollout %v: gradients (the log places them)", rollout), gotGrads, wantGrads, kerneltest.F32Reduce)
	}
}

// shifted is v + s*dir.
func shifted(v, dir []float32, s float32) []float32 {
	out := make([]float32, len(v))
	for j := range out {
		out[j] = v[j] + s*dir[j]
	}
	return out
}
