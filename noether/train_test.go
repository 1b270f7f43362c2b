package noether

import (
	"errors"
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
		Config: TrainConfig{Epochs: epochs, BatchSize: 4, Seed: 7, Label: "fit", Settings: map[string]string{"lr": "0.05"}},
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
	other.Config.Settings = map[string]string{"lr": "0.01"}
	other.Config.Resume = ck.State
	if _, err := other.Run(); err == nil || !strings.Contains(err.Error(), "other settings: lr 0.05 (now 0.01)") {
		t.Errorf("resuming under other settings: %v", err)
	}
}

// TestTrainerResumeShorter: a checkpoint beyond the run's epochs is
// refused (its model would be reported as the shorter run's), and a
// changeable setting may differ, reported by StartEvent.
func TestTrainerResumeShorter(t *testing.T) {
	var ck CheckpointEvent
	keep := SinkFunc(func(e Event) error {
		if c, ok := e.(CheckpointEvent); ok {
			ck = c
		}
		return nil
	})
	if _, err := linearTrainer(t, 3, keep).Run(); err != nil {
		t.Fatal(err)
	}
	short := linearTrainer(t, 2)
	short.Config.Resume = ck.State
	if _, err := short.Run(); err == nil || !strings.Contains(err.Error(), "beyond this run's 2") {
		t.Errorf("resuming a 3-epoch checkpoint for 2 epochs: %v", err)
	}
	var start StartEvent
	lower := linearTrainer(t, 4, SinkFunc(func(e Event) error {
		if s, ok := e.(StartEvent); ok {
			start = s
		}
		return nil
	}))
	lower.Config.Settings = map[string]string{"lr": "0.01"}
	lower.Config.Changeable = []string{"lr"}
	lower.Config.Resume = ck.State
	if _, err := lower.Run(); err != nil {
		t.Fatal(err)
	}
	if want := []Change{{"lr", "0.05", "0.01"}}; start.Resumed != 3 || !slices.Equal(start.Changes, want) {
		t.Errorf("start event %+v, want resumed after 3 with changes %v", start, want)
	}
}

// TestTrainerStop stops runs through TrainConfig.Stop after each step of
// an epoch (mid-epoch and at its end) and resumes them from the
// checkpoint emitted then: the result is an uninterrupted run's, bit for
// bit, and the last events are the checkpoint and the stop.
func TestTrainerStop(t *testing.T) {
	whole := linearTrainer(t, 3)
	if _, err := whole.Run(); err != nil {
		t.Fatal(err)
	}
	want, _ := whole.Exec.Param("w")
	for after := 1; after <= 3; after++ { // steps 4, 5, 6: the second epoch's
		var ck CheckpointEvent
		var kinds []string
		stop := make(chan struct{})
		tr := linearTrainer(t, 3, SinkFunc(func(e Event) error {
			kinds = append(kinds, strings.TrimSuffix(reflect.TypeOf(e).Name(), "Event"))
			switch ev := e.(type) {
			case StepEvent:
				if ev.Step == 3+after {
					close(stop)
				}
			case CheckpointEvent:
				ck = ev
			}
			return nil
		}))
		tr.Config.Stop = stop
		if _, err := tr.Run(); !errors.Is(err, ErrStopped) {
			t.Fatalf("stopped after step %d: error %v, want ErrStopped", 3+after, err)
		}
		if n := len(kinds); n < 2 || kinds[n-2] != "Checkpoint" || kinds[n-1] != "Stop" || ck.Step != 3+after {
			t.Fatalf("stopped after step %d: events end %v, checkpoint at step %d", 3+after, kinds[max(0, n-3):], ck.Step)
		}
		rest := linearTrainer(t, 3)
		rest.Config.Resume = ck.State
		if _, err := rest.Run(); err != nil {
			t.Fatal(err)
		}
		if got, _ := rest.Exec.Param("w"); !slices.Equal(got, want) {
			t.Errorf("stopped after step %d and resumed: w %v, uninterrupted %v", 3+after, got, want)
		}
	}
}

// noisyTrainer is linearTrainer with a per-step input n, [4, 1], added to
// the prediction and drawn by Trainer.Noise from the step's number; it
// records the steps it was asked for.
func noisyTrainer(t *testing.T, epochs int, asked *[]int, sinks ...Sink) *Trainer {
	t.Helper()
	g := graph.New()
	x, y, n := g.Input("x", 4, 2), g.Input("y", 4, 1), g.Input("n", 4, 1)
	w := g.Param("w", 2, 1)
	loss := g.MSE(g.Add(g.MatMul(x, w), n), y)
	adam := kernels.AdamConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	prog, err := g.Compile(graph.CompileOptions{Updates: []graph.Update{{Params: []*graph.Node{w}, Grads: g.Grad(loss, w), Adam: adam}}}, loss)
	if err != nil {
		t.Fatal(err)
	}
	tr := linearTrainer(t, epochs, sinks...)
	tr.Exec = prog.OnCPU()
	tr.Noise = func(step int) map[string][]float32 {
		*asked = append(*asked, step)
		s := float32(step)
		return map[string][]float32{"n": {0.1 * s, -0.2 * s, 0.05 * s, 0.3}}
	}
	return tr
}

// TestTrainerNoise: every step gets the noise of its own number, counted
// over epochs, and a resumed run draws exactly what an uninterrupted one
// does, so it ends with the same weights bit for bit.
func TestTrainerNoise(t *testing.T) {
	var whole, first, rest []int
	w := noisyTrainer(t, 4, &whole)
	if _, err := w.Run(); err != nil {
		t.Fatal(err)
	}
	want, _ := w.Exec.Param("w")
	if !slices.Equal(whole, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) {
		t.Errorf("noise asked for steps %v, want 1..12", whole)
	}
	var ck CheckpointEvent
	keep := SinkFunc(func(e Event) error {
		if c, ok := e.(CheckpointEvent); ok {
			ck = c
		}
		return nil
	})
	if _, err := noisyTrainer(t, 2, &first, keep).Run(); err != nil {
		t.Fatal(err)
	}
	r := noisyTrainer(t, 4, &rest)
	r.Config.Resume = ck.State
	if _, err := r.Run(); err != nil {
		t.Fatal(err)
	}
	got, _ := r.Exec.Param("w")
	if !slices.Equal(rest, []int{7, 8, 9, 10, 11, 12}) || !slices.Equal(got, want) {
		t.Errorf("resumed: noise for steps %v, w %v; want 7..12 and the uninterrupted %v", rest, got, want)
	}
}
