package noether

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
)

// linearTrainer fits y = x w on 12 examples in batches of 4 with Adam, on
// the CPU executor.
func linearTrainer(t *testing.T, epochs int, sinks ...Sink) *Trainer {
	t.Helper()
	g := graph.New()
	x, y := g.Input("x", 4, 2), g.Input("y", 4, 1)
	w := g.Param("w", 2, 1)
	loss := g.MSE(g.MatMul(x, w), y)
	adam := kernels.AdamConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	prog, err := g.Compile(graph.CompileOptions{Updates: []graph.Update{{Params: []*graph.Node{w}, Grads: g.Grad(loss, w), Adam: adam}}}, loss)
	if err != nil {
		t.Fatal(err)
	}
	var xs, ys []float32
	for i := range 12 {
		a, b := float32(i%4)-1.5, float32(i/4)-1
		xs, ys = append(xs, a, b), append(ys, 2*a-b)
	}
	return &Trainer{
		Config: TrainConfig{Epochs: epochs, BatchSize: 4, Seed: 7, Label: "fit", Settings: "linear"},
		Exec:   prog.OnCPU(), Params: map[string][]int{"w": {2, 1}},
		Data: map[string][]float32{"x": xs, "y": ys}, Width: map[string]int{"x": 2, "y": 1},
		Sinks: sinks,
	}
}

// TestTrainerEvents checks the order and content of the events of a run.
func TestTrainerEvents(t *testing.T) {
	var kinds []string
	var steps []int
	var last CheckpointEvent
	rec := SinkFunc(func(e Event) error {
		if e.PhaseName() != "fit" {
			t.Errorf("event %T of phase %q", e, e.PhaseName())
		}
		name := strings.TrimSuffix(reflect.TypeOf(e).Name(), "Event")
		if len(kinds) == 0 || kinds[len(kinds)-1] != name {
			kinds = append(kinds, name)
		}
		switch ev := e.(type) {
		case StepEvent:
			steps = append(steps, ev.Step)
		case CheckpointEvent:
			last = ev
		}
		return nil
	})
	tr := linearTrainer(t, 2, rec)
	res, err := tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	// Checkpoints are bounded by wall time (10 s), so only the last
	// epoch's is certain here.
	want := []string{"Start", "Step", "Epoch", "Step", "Epoch", "Checkpoint", "Done"}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
	if !slices.Equal(steps, []int{1, 2, 3, 4, 5, 6}) || res.Steps != 6 {
		t.Errorf("steps %v (result %d), want 1..6", steps, res.Steps)
	}
	if last.Epoch != 2 || last.State.Meta["epoch"] != "2" || len(last.State.Tensors["w"].Data) != 2 {
		t.Errorf("last checkpoint: epoch %d, meta %v, tensors %v", last.Epoch, last.State.Meta, last.State.Tensors)
	}
}

// TestTrainerResume checks that resuming from a checkpoint gives what an
// uninterrupted run gives, bit for bit, and that a checkpoint of other
// settings is refused.
func TestTrainerResume(t *testing.T) {
	var ck CheckpointEvent
	keep := SinkFunc(func(e Event) error {
		if c, ok := e.(CheckpointEvent); ok {
			ck = c
		}
		return nil
	})
	whole := linearTrainer(t, 5)
	if _, err := whole.Run(); err != nil {
		t.Fatal(err)
	}
	want, _ := whole.Exec.Param("w")

	if _, err := linearTrainer(t, 3, keep).Run(); err != nil {
		t.Fatal(err)
	}
	rest := linearTrainer(t, 5)
	rest.Config.Resume = ck.State
	res, err := rest.Run()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := rest.Exec.Param("w")
	if res.Resumed != 3 || res.Steps != 6 || !slices.Equal(got, want) {
		t.Errorf("resumed after %d with %d steps: w %v, uninterrupted %v", res.Resumed, res.Steps, got, want)
	}

	other := linearTrainer(t, 5)
	other.Config.Settings = "other"
	other.Config.Resume = ck.State
	if _, err := other.Run(); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("resuming under other settings: %v", err)
	}
}
