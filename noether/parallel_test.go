package noether

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/kernels"
)

// parallelRows is the batch of the data-parallel tests: prime, so that no
// device count splits it evenly.
const parallelRows = 13

// twoLayerStep is a regression step on b examples with Adam on both
// layers, weight decay on the first and gradient clipping (which binds)
// on the second, so that every part of an update runs.
func twoLayerStep(g *graph.Graph, b int) (*graph.Node, []graph.Update, error) {
	x, y := g.Input("x", b, 3), g.Input("y", b, 2)
	w1, w2 := g.Param("w1", 3, 5), g.Param("w2", 5, 2)
	loss := g.MSE(g.MatMul(g.Tanh(g.MatMul(x, w1)), w2), y)
	grads := g.Grad(loss, w1, w2)
	return loss, []graph.Update{
		{Params: []*graph.Node{w1}, Grads: grads[:1], Adam: kernels.AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-3}},
		{Params: []*graph.Node{w2}, Grads: grads[1:], ClipNorm: 0.05, Adam: kernels.AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
	}, g.Err()
}

// parallelCase is the data and starting parameters of the tests.
func parallelCase() (feeds, params map[string][]float32) {
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	return map[string][]float32{"x": fill(parallelRows * 3), "y": fill(parallelRows * 2)},
		map[string][]float32{"w1": fill(15), "w2": fill(10)}
}

// oneProgram loads the step with its updates as one program on b: the
// single-device path.
func oneProgram(t *testing.T, b graph.Backend) graph.Executor {
	t.Helper()
	g := graph.New()
	loss, updates, err := twoLayerStep(g, parallelRows)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := g.Compile(graph.CompileOptions{Updates: updates}, loss)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := b.Load(prog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exe.Close)
	return exe
}

// dataParallel loads the step over backends.
func dataParallel(t *testing.T, backends ...graph.Backend) *DataParallel {
	t.Helper()
	dp, err := NewDataParallel(backends, parallelRows, twoLayerStep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Close)
	return dp
}

// trainSteps runs steps steps of the step on exe from the starting
// parameters and returns the losses and the final parameters.
func trainSteps(t *testing.T, exe graph.Executor, steps int) ([]float32, map[string][]float32) {
	t.Helper()
	feeds, params := parallelCase()
	graphtest.SetParams(t, exe, params)
	var losses []float32
	for range steps {
		losses = append(losses, graphtest.Run(t, exe, feeds)[0][0])
	}
	out := map[string][]float32{}
	for name := range params {
		v, err := exe.Param(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	return losses, out
}

// parallelTolerance bounds the relative difference between data-parallel
// and one-program training after parallelSteps steps: the gradient's sum
// over the slices rounds differently from the whole batch's sum (float32
// reassociation, about 1e-7), and Adam carries it on. Measured: at most
// 3e-7 over these steps on the CPU and on lavapipe.
const (
	parallelSteps     = 30
	parallelTolerance = 1e-5
)

// compareTraining requires data-parallel training (got) to match one
// program's (want) within tol; tol 0 means bit for bit.
func compareTraining(t *testing.T, what string, got, want graph.Executor, tol float64) {
	t.Helper()
	gl, gp := trainSteps(t, got, parallelSteps)
	wl, wp := trainSteps(t, want, parallelSteps)
	worst := 0.0
	check := func(name string, i int, a, b float32) {
		d := math.Abs(float64(a) - float64(b))
		rel := d / max(math.Abs(float64(b)), 1e-3)
		worst = max(worst, rel)
		if d != 0 && !(rel <= tol) {
			t.Errorf("%s: %s[%d] = %v, one program: %v (relative difference %.2g, tolerance %.2g)", what, name, i, a, b, rel, tol)
		}
	}
	for i := range wl {
		check("loss", i, gl[i], wl[i])
	}
	for name, w := range wp {
		for i := range w {
			check(name, i, gp[name][i], w[i])
		}
	}
	t.Logf("%s: largest relative difference from one program over %d steps: %.2g", what, parallelSteps, worst)
}

// TestDataParallelOneDevice: over one device, data parallel is the one
// program split in two (gradient, update), fed through the host: bit for
// bit the same training, on the CPU and on Vulkan.
func TestDataParallelOneDevice(t *testing.T) {
	vk := graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))}
	for _, b := range []graph.Backend{graph.CPUBackend{}, vk} {
		compareTraining(t, b.Name(), dataParallel(t, b), oneProgram(t, b), 0)
	}
}

// TestDataParallelMatchesOneProgram splits the batch of 13 over three
// CPU executors (5 + 4 + 4) and over two logical Vulkan devices on one
// physical device (7 + 6): training matches one program's within
// parallelTolerance.
func TestDataParallelMatchesOneProgram(t *testing.T) {
	cpu := graph.CPUBackend{}
	dp := dataParallel(t, cpu, cpu, cpu)
	if got := dp.Shares(); len(got) != 3 || got[0] != 5 || got[1] != 4 || got[2] != 4 {
		t.Errorf("shares %v, want [5 4 4]", got)
	}
	compareTraining(t, "3 CPU executors", dp, oneProgram(t, cpu), parallelTolerance)

	first := graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))}
	second := graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))}
	compareTraining(t, "2 logical Vulkan devices", dataParallel(t, first, second), oneProgram(t, first), parallelTolerance)
}

// TestDataParallelState: the optimiser state and parameters read from a
// data-parallel executor and set on a fresh one continue training exactly
// as the first would have (what checkpoints rely on).
func TestDataParallelState(t *testing.T) {
	cpu := graph.CPUBackend{}
	feeds, _ := parallelCase()
	whole := dataParallel(t, cpu, cpu)
	_, want := trainSteps(t, whole, 6)

	half := dataParallel(t, cpu, cpu)
	_, params := trainSteps(t, half, 3)
	step, moments, err := half.OptimState()
	if err != nil || step != 3 {
		t.Fatalf("optimiser state: step %d, %v; want step 3", step, err)
	}
	resumed := dataParallel(t, cpu, cpu)
	graphtest.SetParams(t, resumed, params)
	if err := resumed.SetOptimState(step, moments); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		graphtest.Run(t, resumed, feeds)
	}
	for name, w := range want {
		got, err := resumed.Param(name)
		if err != nil {
			t.Fatal(err)
		}
		if differing(got, w) != 0 {
			t.Errorf("%s after resuming: %v, uninterrupted: %v", name, got, w)
		}
	}
}

// skewedBackend loads programs whose Param reads the first value one ulp
// off: a device whose update rounds differently from the others'.
type skewedBackend struct{ graph.Backend }

func (b skewedBackend) Load(p *graph.Program) (graph.Executor, error) {
	e, err := b.Backend.Load(p)
	return skewedExec{e}, err
}

type skewedExec struct{ graph.Executor }

func (e skewedExec) Param(name string) ([]float32, error) {
	v, err := e.Executor.Param(name)
	if len(v) > 0 {
		v[0] = math.Nextafter32(v[0], float32(math.Inf(1)))
	}
	return v, err
}

// TestDataParallelErrors: a batch smaller than the device count, feeds
// that are not a batch, and parameter copies that drift apart are
// refused, each with a message naming the cause.
func TestDataParallelErrors(t *testing.T) {
	cpu := graph.CPUBackend{}
	if _, err := NewDataParallel([]graph.Backend{cpu, cpu, cpu}, 2, twoLayerStep); err == nil || !strings.Contains(err.Error(), "a batch of 2 examples cannot be split over 3 devices") {
		t.Errorf("batch 2 over 3 devices: %v", err)
	}
	if _, err := NewDataParallel(nil, 2, twoLayerStep); err == nil || !strings.Contains(err.Error(), "no backend") {
		t.Errorf("no backend: %v", err)
	}
	dp := dataParallel(t, cpu, cpu)
	if _, err := dp.Run(map[string][]float32{"x": make([]float32, 3), "y": make([]float32, 26)}); err == nil || !strings.Contains(err.Error(), `input "x" has 3 values`) {
		t.Errorf("a short feed: %v", err)
	}
	feeds, params := parallelCase()
	skewed := dataParallel(t, cpu, skewedBackend{cpu})
	graphtest.SetParams(t, skewed, params)
	if _, err := skewed.Run(feeds); err == nil || !strings.Contains(err.Error(), "after the update, device 1 (cpu)") || !strings.Contains(err.Error(), "differs from device 0's (cpu) in 1 of 15 values") {
		t.Errorf("copies that differ: %v", err)
	}
}
