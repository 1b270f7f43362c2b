package graph

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestBackends: one training program loaded through each Backend runs the
// same steps through the Executor interface alone: parameters in, Adam
// steps, parameters and optimiser state out, memory reported, closed.
func TestBackends(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 8))
	prog, ps := trainGraph(t, 0.5)
	feeds := map[string][]float32{"x": randVec(rng, 14, -1, 1), "y": randVec(rng, 14, -1, 1)}
	params := map[string][]float32{}
	for _, p := range ps {
		params[p.Name()] = randVec(rng, p.Shape().Len(), -0.8, 0.8)
	}
	type result struct {
		losses []float32
		params map[string][]float32
		step   int
		state  map[string][]float32
	}
	run := func(b Backend) result {
		exe, err := b.Load(prog)
		if err != nil {
			t.Fatalf("%s: Load: %v", b.Name(), err)
		}
		defer exe.Close()
		setParams(t, exe, params)
		var r result
		for range 4 {
			r.losses = append(r.losses, mustRun(t, exe, feeds)[0][0])
		}
		r.params = map[string][]float32{}
		for _, p := range ps {
			if r.params[p.Name()], err = exe.Param(p.Name()); err != nil {
				t.Fatal(err)
			}
		}
		if r.step, r.state, err = exe.OptimState(); err != nil {
			t.Fatal(err)
		}
		m := exe.Memory()
		if m.Total() <= 0 || (b.Name() == "cpu") != (m.Device == 0) {
			t.Errorf("%s: Memory() = %+v", b.Name(), m)
		}
		t.Logf("%s: %v", b.Name(), m)
		return r
	}
	vk := openVulkan(t)
	got, want := run(VulkanBackend{Kernels: vk}), run(CPUBackend{})
	closeTo(t, "losses, vulkan vs cpu", got.losses, want.losses, 1e-5, 1e-4)
	for _, p := range ps {
		closeTo(t, "updated "+p.Name(), got.params[p.Name()], want.params[p.Name()], 1e-4, 1e-3)
		for _, k := range []string{".adam_m", ".adam_v"} {
			closeTo(t, p.Name()+k, got.state[p.Name()+k], want.state[p.Name()+k], 1e-4, 1e-3)
		}
	}
	if got.step != 4 || want.step != 4 {
		t.Errorf("optimiser steps: vulkan %d, cpu %d, want 4", got.step, want.step)
	}
	if name := (VulkanBackend{Kernels: vk}).Name(); !strings.HasPrefix(name, "vulkan: ") {
		t.Errorf("VulkanBackend.Name() = %q", name)
	}
}
