package graph

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// TestArenaBuffers: a training program (gradients, a Hessian-vector
// product and clipped Adam updates) cut into buffers no larger than its
// largest tensor gives the same bits as the one-buffer arena, step after
// step, and agrees with the CPU executor.
func TestArenaBuffers(t *testing.T) {
	g, loss, ps, grads, hv, params, feeds := mlpProblem(t, rand.New(rand.NewPCG(9, 3)), 64, 24)
	adam := kernels.AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	prog := mustCompile(t, g, CompileOptions{Updates: []Update{{Params: ps, Grads: grads, Adam: adam, ClipNorm: 1}}},
		append([]*Node{loss}, hv...)...)
	var largest int64
	for _, s := range prog.slots {
		largest = max(largest, s[0].size)
	}

	v := openVulkan(t)
	one, err := prog.OnVulkan(v, VulkanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	split, err := prog.OnVulkan(v, VulkanOptions{MaxBufferBytes: largest})
	if err != nil {
		t.Fatal(err)
	}
	defer split.Close()
	m1, ms := one.Memory(), split.Memory()
	if len(m1.Buffers) != 1 || m1.Peak != prog.Stats().PeakBytes || len(ms.Buffers) < 3 {
		t.Fatalf("one buffer: %v (program peak %d); split at %d bytes: %v", m1, prog.Stats().PeakBytes, largest, ms)
	}
	for _, b := range ms.Buffers {
		if b > largest {
			t.Errorf("split buffers %v: one exceeds %d", ms.Buffers, largest)
		}
	}
	if ms.Other != m1.Other || ms.Device == 0 {
		t.Errorf("memory besides the arena: %v vs %v", ms, m1)
	}
	t.Logf("one buffer: %v; split: %v, buffers %v", m1, ms, ms.Buffers)

	cpu := prog.OnCPU()
	for _, e := range []Executor{one, split, cpu} {
		setParams(t, e, params)
	}
	for step := range 5 {
		want, got, ref := mustRun(t, one, feeds), mustRun(t, split, feeds), mustRun(t, cpu, feeds)
		for i := range want {
			for j := range want[i] {
				if math.Float32bits(want[i][j]) != math.Float32bits(got[i][j]) {
					t.Fatalf("step %d: output %d[%d] is %v in %d buffers, %v in one", step, i, j, got[i][j], len(ms.Buffers), want[i][j])
				}
			}
			closeTo(t, "vulkan vs cpu", want[i], ref[i], 1e-5, 1e-4)
		}
	}
	for _, p := range ps {
		a, _ := one.Param(p.Name())
		b, _ := split.Param(p.Name())
		for j := range a {
			if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
				t.Fatalf("%s[%d] after 5 updates: %v in %d buffers, %v in one", p.Name(), j, b[j], len(ms.Buffers), a[j])
			}
		}
	}
}

// TestMemoryErrors: what no buffer or no device can hold is refused before
// anything is allocated, naming the tensor, or the planned peak and the
// largest tensors.
func TestMemoryErrors(t *testing.T) {
	// The messages name the ops as built; fusion would merge some.
	unfusedOptions := CompileOptions{NoFusion: true}
	v := openVulkan(t)
	g := New()
	x := g.Input("x", 1000, 50)
	w := g.Param("w", 50, 200)
	h := g.Tanh(g.MatMul(x, w))
	loss := g.Mean(g.Square(h))
	prog := mustCompile(t, g, unfusedOptions, loss)

	// A tensor larger than a buffer that an op cannot read by rows: the
	// [1000 200] activation (800000 bytes) meets the fused MSE.
	mse := mustCompile(t, g, unfusedOptions, g.MSE(h, g.Input("y", 1000, 200)))
	_, err := mse.OnVulkan(v, VulkanOptions{MaxBufferBytes: 700000})
	if !errors.Is(err, gpu.ErrTooLarge) || !strings.Contains(err.Error(), "%3 = tanh 1000x200 (800000 bytes) is larger than one buffer, and %7 = mse scalar cannot run a block of rows at a time") {
		t.Errorf("tensor over the buffer limit: err = %v", err)
	}
	t.Logf("tensor over the buffer limit: %v", err)
	// A reshape that moves the leading axis cannot copy by rows.
	flat := mustCompile(t, g, unfusedOptions, g.Sum(g.Reshape(h, 200000)))
	_, err = flat.OnVulkan(v, VulkanOptions{MaxBufferBytes: 700000})
	if !errors.Is(err, gpu.ErrTooLarge) || !strings.Contains(err.Error(), "%3 = tanh 1000x200 (800000 bytes) is larger than one buffer, and %8 = reshape200000 200000 cannot run") {
		t.Errorf("a reshape of a split tensor: err = %v", err)
	}
	_, err = prog.OnVulkan(v, VulkanOptions{MaxBufferBytes: 100})
	if err == nil || !strings.Contains(err.Error(), "cannot hold one 256-byte aligned tensor") {
		t.Errorf("a buffer limit below the alignment: err = %v", err)
	}
	// A tensor with one row.
	row := mustCompile(t, g, unfusedOptions, g.Sum(g.Reshape(h, 1, 200000)))
	_, err = row.OnVulkan(v, VulkanOptions{MaxBufferBytes: 700000})
	if !errors.Is(err, gpu.ErrTooLarge) || !strings.Contains(err.Error(), "1x200000 needs 800000 bytes, more than one buffer holds (699904), and has no rows to split it by") {
		t.Errorf("a one-row tensor over the buffer limit: err = %v", err)
	}
	// An input larger than the device's largest buffer.
	big := New()
	n := int(v.Device.MaxBufferSize()/4) + 1
	bp := mustCompile(t, big, unfusedOptions, big.Sum(big.Input("huge", n)))
	_, err = bp.OnVulkan(v, VulkanOptions{})
	if !errors.Is(err, gpu.ErrTooLarge) || !strings.Contains(err.Error(), `input "huge"`) {
		t.Errorf("input over the device's buffer limit: err = %v", err)
	}
	t.Logf("input over the device's buffer limit: %v", err)

	// A program larger than the device's memory: pretend the device has
	// 1 MiB more than is in use.
	inUse := v.Device.MemoryStats().InUse
	heaps := v.Device.Info.Heaps
	v.Device.Info.Heaps = make([]gpu.Heap, len(heaps))
	for i, hp := range heaps {
		v.Device.Info.Heaps[i] = gpu.Heap{Size: inUse + 1<<20, DeviceLocal: hp.DeviceLocal}
	}
	defer func() { v.Device.Info.Heaps = heaps }()
	_, err = prog.OnVulkan(v, VulkanOptions{})
	if !errors.Is(err, gpu.ErrOutOfDeviceMemory) || !strings.Contains(err.Error(), "needs 1.8 MiB (a planned peak of 1.5 MiB in 1 buffer, 238.4 KiB besides)") ||
		!strings.Contains(err.Error(), "largest tensors: %2 = matmul 1000x200 (781.2 KiB), %3 = tanh 1000x200 (781.2 KiB)") {
		t.Errorf("program over the device's memory: err = %v", err)
	}
	t.Logf("program over the device's memory: %v", err)
	if st := v.Device.MemoryStats(); st.InUse != inUse {
		t.Errorf("refused programs left %d bytes allocated", st.InUse-inUse)
	}
}

// TestSplitTensors: a per-example meta step in miniature (per-example
// copies of a weight, one inner gradient step on them, a task loss and its
// gradient, with reductions, a reshape, a copy and a product of the
// adapted copies), in buffers of 64 rows of the [200 8 8] copies, so that
// they split into pieces and their ops run by blocks of rows: the results
// match the unsplit arena and the CPU executor.
func TestSplitTensors(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 9))
	const b, k = 200, 8
	g := New()
	w := g.Param("w", k, k)
	x, y := g.Input("x", b, 1, k), g.Input("y", b, 1, k)
	ws := g.BroadcastTo(w, b, k, k)
	inner := g.Sum(g.Square(g.Sub(g.MatMul(x, ws), y)))
	adapted := g.Sub(ws, g.Scale(g.Grad(inner, ws)[0], 0.1))
	h := g.Tanh(g.MatMul(x, adapted))
	loss := g.Mean(g.Square(g.Sub(h, y)))
	flat := g.Reshape(g.StopGradient(adapted), b, k*k)
	extra := g.Add(g.Sum(g.Mean(adapted, 0)), g.Mean(g.Sum(flat, 1)))
	extra = g.Add(extra, g.Sum(g.MatMul(flat, g.Param("v", k*k, 3))))
	prog := mustCompile(t, g, CompileOptions{}, loss, g.Grad(loss, w)[0], extra, g.SumSq(adapted, 2))
	params := map[string][]float32{"w": randVec(rng, k*k, -0.5, 0.5), "v": randVec(rng, k*k*3, -1, 1)}
	feeds := map[string][]float32{"x": randVec(rng, b*k, -1, 1), "y": randVec(rng, b*k, -1, 1)}

	v := openVulkan(t)
	whole, err := prog.OnVulkan(v, VulkanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	split, err := prog.OnVulkan(v, VulkanOptions{MaxBufferBytes: 64 * k * k * 4})
	if err != nil {
		t.Fatal(err)
	}
	defer split.Close()
	if len(split.pieces) == 0 || len(split.blocks) == 0 {
		t.Fatalf("nothing split: %d split tensors, %d blocked ops", len(split.pieces), len(split.blocks))
	}
	t.Logf("%d tensors split, %d ops by blocks; %v", len(split.pieces), len(split.blocks), split.Memory())
	cpu := prog.OnCPU()
	for _, e := range []Executor{whole, split, cpu} {
		setParams(t, e, params)
	}
	want, got, ref := mustRun(t, whole, feeds), mustRun(t, split, feeds), mustRun(t, cpu, feeds)
	for i := range want {
		closeTo(t, fmt.Sprint("split vs whole, output ", i), got[i], want[i], 1e-6, 1e-5)
		closeTo(t, fmt.Sprint("split vs cpu, output ", i), got[i], ref[i], 1e-5, 1e-4)
	}
}
