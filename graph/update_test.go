package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// trainGraph is a small MLP regression with an Adam update on every
// parameter, clipped by global norm.
func trainGraph(t *testing.T, clip float32) (*Program, []*Node) {
	t.Helper()
	g := New()
	x, y := g.Input("x", 7, 2), g.Input("y", 7, 2)
	out, ps := mlp(g, x, 5)
	loss := g.Mean(g.Square(g.Sub(out, y)))
	grads := g.Grad(loss, ps...)
	cfg := kernels.AdamConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-3}
	prog, err := g.Compile(CompileOptions{Updates: []Update{{Params: ps, Grads: grads, Adam: cfg, ClipNorm: clip}}}, loss)
	if err != nil {
		t.Fatal(err)
	}
	return prog, ps
}

// TestUpdates: parameters trained in place by the program on Vulkan follow
// the CPU executor, which follows a host loop of the kernels' reference
// Adam; the loss goes down; OptimState restores a run mid-way exactly.
func TestUpdates(t *testing.T) {
	for _, clip := range []float32{0, 0.05} {
		rng := rand.New(rand.NewPCG(7, 1))
		prog, ps := trainGraph(t, clip)
		feeds := map[string][]float32{"x": randVec(rng, 14, -1, 1), "y": randVec(rng, 14, -1, 1)}
		params := map[string][]float32{}
		for _, p := range ps {
			params[p.Name()] = randVec(rng, p.Shape().Len(), -0.8, 0.8)
		}
		cpu, vk := cpuAndVulkan(t, prog, params)

		// The host loop: gradients from a program without updates.
		ref := prog.g
		var lossNode = prog.outputs[0]
		grads := ref.Grad(lossNode, ps...)
		gp, err := ref.Compile(CompileOptions{}, append([]*Node{lossNode}, grads...)...)
		if err != nil {
			t.Fatal(err)
		}
		host := gp.OnCPU()
		setParams(t, host, params)
		m, v := map[string][]float32{}, map[string][]float32{}
		for _, p := range ps {
			m[p.Name()], v[p.Name()] = make([]float32, p.Shape().Len()), make([]float32, p.Shape().Len())
		}
		cfg := prog.updates[0].Adam
		var first, last float32
		for step := 1; step <= 30; step++ {
			out := mustRun(t, host, feeds)
			gs := out[1:]
			if clip > 0 {
				gs, _, err = kernels.CPU{}.ClipGradNorm(gs, clip)
				if err != nil {
					t.Fatal(err)
				}
			}
			for i, p := range ps {
				cur, _ := host.Param(p.Name())
				np, nm, nv, err := kernels.CPU{}.Adam(cur, gs[i], m[p.Name()], v[p.Name()], cfg, step)
				if err != nil {
					t.Fatal(err)
				}
				m[p.Name()], v[p.Name()] = nm, nv
				if err := host.SetParam(p.Name(), np); err != nil {
					t.Fatal(err)
				}
			}
			lc, lv := mustRun(t, cpu, feeds)[0], mustRun(t, vk, feeds)[0]
			closeTo(t, "loss vulkan vs cpu", lv, lc, 1e-5, 1e-3)
			closeTo(t, "loss cpu vs host loop", lc, out[0], 1e-6, 1e-5)
			if step == 1 {
				first = lc[0]
			}
			last = lc[0]
		}
		if !(last < 0.5*first) {
			t.Errorf("clip %v: loss %v -> %v after 30 Adam steps; want it halved", clip, first, last)
		}
		for _, p := range ps {
			want, _ := host.Param(p.Name())
			got, _ := cpu.Param(p.Name())
			closeTo(t, "cpu update vs host loop "+p.Name(), got, want, 1e-6, 1e-5)
			gv, err := vk.Param(p.Name())
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, "vulkan update vs cpu "+p.Name(), gv, got, 1e-4, 1e-3)
		}

		// Resume: a fresh executor given the parameters and optimiser state
		// continues bit-identically.
		step, state, err := vk.OptimState()
		if err != nil || step != 30 {
			t.Fatalf("OptimState: step %d, %v", step, err)
		}
		saved := map[string][]float32{}
		for _, p := range ps {
			saved[p.Name()], _ = vk.Param(p.Name())
		}
		cont := [][]float32{}
		for range 3 {
			cont = append(cont, mustRun(t, vk, feeds)[0])
		}
		vk2 := onVulkan(t, prog)
		setParams(t, vk2, saved)
		if err := vk2.SetOptimState(step, state); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			got := mustRun(t, vk2, feeds)[0]
			if got[0] != cont[i][0] {
				t.Errorf("resumed step %d: loss %v, uninterrupted %v", i, got[0], cont[i][0])
			}
		}
		cs, cstate, _ := cpu.OptimState()
		if cs != 30 || len(cstate) != 2*len(ps) {
			t.Errorf("CPU OptimState: step %d, %d tensors", cs, len(cstate))
		}
	}
}

func TestUpdateErrors(t *testing.T) {
	g := New()
	x := g.Input("x", 3, 2)
	w := g.Param("w", 2, 2)
	loss := g.Mean(g.Square(g.MatMul(x, w)))
	gw := g.Grad(loss, w)[0]
	ok := kernels.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	for _, c := range []struct {
		u    Update
		want string
	}{
		{Update{Params: []*Node{w}, Adam: ok}, "1 parameters and 0 gradients"},
		{Update{Params: []*Node{x}, Grads: []*Node{gw}, Adam: ok}, "not a parameter"},
		{Update{Params: []*Node{w}, Grads: []*Node{loss}, Adam: ok}, "has shape"},
		{Update{Params: []*Node{w}, Grads: []*Node{gw}, Adam: kernels.AdamConfig{LR: 1e-3, Beta1: 1}}, "betas"},
		{Update{Params: []*Node{w, w}, Grads: []*Node{gw, gw}, Adam: ok}, "updated twice"},
	} {
		_, err := g.Compile(CompileOptions{Updates: []Update{c.u}}, loss)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.u, err, c.want)
		}
	}
}

// TestUpdateManyTensors: an update over eleven tensors, one of them wide
// enough for several partial sums, spans several Adam and sum-of-squares
// dispatches. Where only Adam reads the gradients it scales them as it
// reads (the clip folded in); where they are also outputs they are clipped
// in place first. Both give the same parameters to the bit, and follow the
// CPU executor.
func TestUpdateManyTensors(t *testing.T) {
	const steps = 4
	widths := []int{2, 9, 96, 96, 7, 5, 2}
	build := func(gradsOut bool) (*Program, []*Node) {
		g := New()
		x, y := g.Input("x", 6, 2), g.Input("y", 6, 2)
		a := x
		var ps []*Node
		for i := 1; i < len(widths); i++ {
			w, b := g.Param(fmt.Sprint("w", i), widths[i-1], widths[i]), g.Param(fmt.Sprint("b", i), widths[i])
			a = g.Linear(a, w, b)
			if i < len(widths)-1 {
				a = g.Tanh(a)
			}
			ps = append(ps, w, b)
		}
		ps = ps[:11] // the last bias stays as it is
		loss := g.Mean(g.Square(g.Sub(a, y)))
		grads := g.Grad(loss, ps...)
		outs := []*Node{loss}
		if gradsOut {
			outs = append(outs, grads...)
		}
		cfg := kernels.AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-3}
		prog, err := g.Compile(CompileOptions{Updates: []Update{{Params: ps, Grads: grads, Adam: cfg, ClipNorm: 0.1}}}, outs...)
		if err != nil {
			t.Fatal(err)
		}
		return prog, ps
	}
	rng := rand.New(rand.NewPCG(3, 9))
	folded, ps := build(false)
	inPlace, _ := build(true)
	if folded.gradsRead(folded.updates[0]) || !inPlace.gradsRead(inPlace.updates[0]) {
		t.Fatal("gradsRead does not tell the two programs apart")
	}
	feeds := map[string][]float32{"x": randVec(rng, 12, -1, 1), "y": randVec(rng, 12, -1, 1)}
	params := map[string][]float32{}
	for _, p := range folded.params {
		params[p.Name()] = randVec(rng, p.Shape().Len(), -0.5, 0.5)
	}
	cpu, vk := cpuAndVulkan(t, folded, params)
	vk2 := onVulkan(t, inPlace)
	setParams(t, vk2, params)
	for range steps {
		mustRun(t, cpu, feeds)
		mustRun(t, vk, feeds)
		mustRun(t, vk2, feeds)
	}
	for _, p := range ps {
		want, _ := cpu.Param(p.Name())
		got, err := vk.Param(p.Name())
		if err != nil {
			t.Fatal(err)
		}
		// TestUpdates' tolerance: Adam divides each gradient by its own
		// running size, so float32 rounding in a near-zero gradient moves
		// that element's step by a visible fraction of the rate (3.7e-5 of
		// a 0.01 rate seen here); the folded clip is checked to the bit below.
		closeTo(t, "vulkan update vs cpu "+p.Name(), got, want, 1e-4, 1e-3)
		other, _ := vk2.Param(p.Name())
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(other[i]) {
				t.Errorf("%s[%d]: clip folded into Adam %v, clipped in place %v", p.Name(), i, got[i], other[i])
				break
			}
		}
	}
	if d := vk.Dispatches(); d != vk2.Dispatches()-len(ps) {
		t.Errorf("folded clip: %d dispatches, in place %d; want %d fewer", d, vk2.Dispatches(), len(ps))
	}
}

// TestUpdateSharedGradient: two parameters whose gradients are one node
// (a + b: the sum passes its cotangent to both) share one buffer. Clipped
// in place, because the program also outputs the gradients, that buffer
// is scaled once, not once per parameter; clipped as Adam reads it, it is
// read twice. Either way Vulkan follows the CPU executor.
func TestUpdateSharedGradient(t *testing.T) {
	for _, gradsOut := range []bool{true, false} {
		g := New()
		a, b, y := g.Param("a", 8), g.Param("b", 8), g.Input("y", 8)
		loss := g.Mean(g.Square(g.Sub(g.Add(a, b), y)))
		grads := g.Grad(loss, a, b)
		if grads[0] != grads[1] {
			t.Fatal("the gradients of a + b are not one node: the test no longer tests a shared buffer")
		}
		outs := []*Node{loss}
		if gradsOut {
			outs = append(outs, grads...)
		}
		cfg := kernels.AdamConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
		prog, err := g.Compile(CompileOptions{Updates: []Update{{Params: []*Node{a, b}, Grads: grads, Adam: cfg, ClipNorm: 0.01}}}, outs...)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(4, 4))
		params := map[string][]float32{"a": randVec(rng, 8, -1, 1), "b": randVec(rng, 8, -1, 1)}
		feeds := map[string][]float32{"y": randVec(rng, 8, -1, 1)}
		cpu, vk := cpuAndVulkan(t, prog, params)
		for range 3 {
			want, got := mustRun(t, cpu, feeds), mustRun(t, vk, feeds)
			if gradsOut {
				closeTo(t, "clipped gradient", got[1], want[1], 1e-6, 1e-4)
			}
		}
		for _, p := range []string{"a", "b"} {
			want, _ := cpu.Param(p)
			got, _ := vk.Param(p)
			closeTo(t, fmt.Sprintf("parameter %s (gradients output: %v)", p, gradsOut), got, want, 1e-6, 1e-4)
		}
	}
}
