package view

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/noether-vk/noether-vk/kernels/compose"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
)

// rollout is a method's rollout event over examples of the given lengths.
func rollout(method string, lengths ...int) noether.RolloutEvent {
	ev := noether.RolloutEvent{Phase: method, StateShape: []int{2}}
	for i, n := range lengths {
		var truth, pred [][]float32
		for s := range n {
			truth = append(truth, []float32{float32(i), float32(s)})
			pred = append(pred, []float32{float32(i) + 0.5, float32(s)})
		}
		ev.Truth, ev.Pred = append(ev.Truth, truth), append(ev.Pred, pred)
	}
	for s := range slices.Max(lengths) {
		ev.StepRMSE = append(ev.StepRMSE, float64(s))
	}
	return ev
}

func TestRolloutsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRollouts(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadRollouts of an empty folder: %v", err)
	}
	w, err := NewRolloutWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []noether.Event{rollout("vanilla", 5, 3), noether.EpochEvent{Phase: "x"}, rollout("noether", 4), rollout("vanilla", 2)} {
		if err := w.Handle(ev); err != nil {
			t.Fatal(err)
		}
	}
	// A resumed run's writer keeps what the folder holds.
	w2, err := NewRolloutWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Handle(rollout("tailor", 1)); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRollouts(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Method)
	}
	if !slices.Equal(names, []string{"vanilla", "noether", "tailor"}) {
		t.Fatalf("methods %v, want vanilla (replaced), noether, tailor in order", names)
	}
	v := got[0]
	if len(v.Truth) != 1 || len(v.Truth[0]) != 2 || v.Pred[0][1][0] != 0.5 || v.Pred[0][1][1] != 1 || !slices.Equal(v.Shape, []int{2}) {
		t.Errorf("vanilla read back as %+v, want the second event's one example of 2 steps", v)
	}
	n := got[1]
	if n.Steps() != 4 || !slices.Equal(n.StepRMSE, []float64{0, 1, 2, 3}) {
		t.Errorf("noether: %d steps, RMSE %v", n.Steps(), n.StepRMSE)
	}
}

// writeRun writes a run folder's manifest and a phase's event log of the
// given losses.
func writeRun(t *testing.T, dir, phase string, losses ...float64) {
	t.Helper()
	m := rundir.NewManifest()
	m.Settings = map[string]string{"task": "spring"}
	m.Phases[phase] = &rundir.PhaseState{State: rundir.StateRunning, Epochs: 10}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, phase), 0o755); err != nil {
		t.Fatal(err)
	}
	log, err := rundir.OpenEventLog(filepath.Join(dir, phase, rundir.EventLogName), "epoch", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	for i, l := range losses {
		if err := log.Write(map[string]any{"phase": phase, "epoch": i + 1, "loss": l}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFolderFollowsARunBeingWritten(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, "baseline", 3, 2)
	f, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Run()
	if r.Task != "spring" || len(r.Phases) != 1 || !slices.Equal(r.Phases[0].Losses, []float64{3, 2}) || r.Now.Epoch != 2 || r.Now.Epochs != 10 {
		t.Fatalf("first read: %+v", r)
	}
	if changed, err := f.Refresh(); changed || err != nil {
		t.Errorf("Refresh with nothing new: changed %v, %v", changed, err)
	}
	// The run goes on: an epoch, then a second phase, then rollouts.
	time.Sleep(10 * time.Millisecond)
	writeRun(t, dir, "baseline", 3, 2, 1)
	if err := os.MkdirAll(filepath.Join(dir, "noether"), 0o755); err != nil {
		t.Fatal(err)
	}
	log, err := rundir.OpenEventLog(filepath.Join(dir, "noether", rundir.EventLogName), "epoch", -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Write(map[string]any{"phase": "noether", "epoch": 1, "loss": "NaN"}); err != nil {
		t.Fatal(err)
	}
	log.Close()
	w, err := NewRolloutWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(rollout("noether", 6)); err != nil {
		t.Fatal(err)
	}
	if changed, err := f.Refresh(); !changed || err != nil {
		t.Fatalf("Refresh after new epochs: changed %v, %v", changed, err)
	}
	r = f.Run()
	if len(r.Phases) != 2 || r.Phases[0].Name != "baseline" || len(r.Phases[0].Losses) != 3 || r.Phases[1].Name != "noether" || !math.IsNaN(r.Phases[1].Losses[0]) {
		t.Errorf("phases after the run went on: %+v", r.Phases)
	}
	if r.Now.Phase != "noether" || len(r.Rollouts) != 1 || r.Steps(0) != 6 || r.Video() {
		t.Errorf("after the run went on: now %+v, %d rollouts of %d steps", r.Now, len(r.Rollouts), r.Steps(0))
	}
	// A damaged file is named, and what was read before is kept.
	if err := os.WriteFile(filepath.Join(dir, RolloutsName), []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Refresh(); err != nil {
		t.Fatal(err)
	}
	if f.Run().Note == "" {
		t.Error("a damaged rollouts file is not noted")
	}
}

func TestOpenFolderRefusesWhatIsNoRun(t *testing.T) {
	if _, err := OpenFolder(t.TempDir()); err == nil {
		t.Error("an empty folder opened as a run")
	}
	file := filepath.Join(t.TempDir(), "x")
	os.WriteFile(file, nil, 0o644)
	if _, err := OpenFolder(file); err == nil {
		t.Error("a file opened as a run")
	}
}

// gradcamRun is a video run of Grad-CAM maps only: n sequences of steps
// frames, k components, each component's heat a constant k/(k+1).
func gradcamRun(n, steps, k int) *Run {
	const side = 4
	g := &GradCAM{N: n, T: steps, H: side, W: side, K: k, Frames: make([]float32, n*steps*3*side*side), Explained: make([]float32, k)}
	for c := range k {
		for range n * steps * side * side {
			g.Heat = append(g.Heat, float32(c)/float32(k))
		}
	}
	return &Run{GradCAM: g}
}

// heatMaps lists the heat values of the scene's images (nil for an
// image without one).
func heatMaps(s *compose.Scene) [][]uint8 {
	var out [][]uint8
	for _, im := range s.Images {
		out = append(out, im.Heat)
	}
	return out
}

func TestKeysDriveTheState(t *testing.T) {
	r := gradcamRun(3, 5, 4)
	var st State
	for _, c := range []struct {
		key  string
		want State
		act  Action
	}{
		{"space", State{Paused: true}, None},
		{"n", State{Paused: true, Example: 1}, None},
		{"left", State{Paused: true}, None},
		{"p", State{Paused: true, Example: 2}, None}, // wraps around
		{"right", State{Paused: true}, None},
		{"4", State{Paused: true, Component: 3}, None},
		{"6", State{Paused: true, Component: 3}, None}, // only 4 components
		{"1", State{Paused: true}, None},
		{"h", State{Paused: true, NoHeat: true}, None},
		{"space", State{NoHeat: true}, None},
		{"x", State{NoHeat: true}, None},
		{"s", State{NoHeat: true}, Screenshot},
		{"q", State{NoHeat: true}, Quit},
		{"escape", State{NoHeat: true}, Quit},
	} {
		if act := st.Key(c.key, r); act != c.act || st != c.want {
			t.Errorf("key %s: state %+v, action %v; want %+v, %v", c.key, st, act, c.want, c.act)
		}
	}
	st = State{Step: 3}
	if !st.Advance(r) || st.Step != 4 || !st.Advance(r) || st.Step != 0 {
		t.Errorf("Advance from step 3 of 5 twice: step %d, want 0", st.Step)
	}
	st.Paused = true
	if st.Advance(r) || st.Step != 0 {
		t.Error("Advance moved a paused animation")
	}
}

func TestSceneShowsTheChosenHeatMaps(t *testing.T) {
	r := gradcamRun(2, 3, 3)
	st := State{Component: 2}
	maps := heatMaps(Scene(r, &st, 640, 400))
	if len(maps) != 3 {
		t.Fatalf("%d images, want the sequence's 3 frames", len(maps))
	}
	for _, h := range maps {
		// Component 3 of 3: heat 2/3, 170 of 255.
		if len(h) != 16 || h[0] != 170 {
			t.Fatalf("heat maps %v, want component 3's (170)", maps)
		}
	}
	st.Key("h", r)
	for _, h := range heatMaps(Scene(r, &st, 640, 400)) {
		if h != nil {
			t.Fatal("h did not hide the heat maps")
		}
	}
}

func TestSceneDrawsThePortraitUpToTheStep(t *testing.T) {
	r := &Run{Rollouts: []Rollout{{Method: "vanilla", Shape: []int{2}}}}
	ev := rollout("vanilla", 30)
	r.Rollouts[0].Truth, r.Rollouts[0].Pred, r.Rollouts[0].StepRMSE = ev.Truth, ev.Pred, ev.StepRMSE
	lines := func(step int) int {
		st := State{Step: step}
		return len(Scene(r, &st, 960, 600).Lines)
	}
	if a, b := lines(2), lines(20); b <= a {
		t.Errorf("%d segments at step 3, %d at step 21: the rollouts should be drawn up to the step", a, b)
	}
	st := State{}
	if s := Scene(r, &st, 960, 600); s.Check() != nil || s.Marks() == 0 {
		t.Errorf("scene %v, %d marks", s.Check(), s.Marks())
	}
}

func TestLiveNeverBlocks(t *testing.T) {
	l := NewLive("pendulum", "runs/x")
	start := time.Now()
	// Nobody drains the queue: the sink must drop, not wait.
	for e := 1; e <= liveQueue+100; e++ {
		if err := l.Handle(noether.EpochEvent{Phase: "baseline", Epoch: e, Loss: 1 / float64(e)}); err != nil {
			t.Fatal(err)
		}
		l.Handle(noether.StepEvent{Phase: "baseline", Step: e})
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("%d events took %v", liveQueue+100, d)
	}
	if l.Dropped() != 100 {
		t.Errorf("dropped %d events, want 100", l.Dropped())
	}
	if !l.Update() {
		t.Fatal("Update found nothing")
	}
	r := l.Run()
	if len(r.Phases) != 1 || len(r.Phases[0].Losses) != liveQueue || r.Now.Epoch != liveQueue || r.Note == "" {
		t.Errorf("after the queue: %d phases, now %+v, note %q", len(r.Phases), r.Now, r.Note)
	}
	l.Handle(rollout("noether", 7))
	l.Handle(noether.DoneEvent{Phase: "baseline"})
	l.Update()
	if len(r.Rollouts) != 1 || r.Steps(0) != 7 || r.Phases[0].State != "done" {
		t.Errorf("rollouts %d, state %q", len(r.Rollouts), r.Phases[0].State)
	}
	l.Close()
	l.Handle(noether.EpochEvent{Phase: "late", Epoch: 1})
	if l.Update() {
		t.Error("an event after Close reached the run")
	}
}
