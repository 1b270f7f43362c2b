package main

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/noether-vk/noether-vk/gpu/window"
	"github.com/noether-vk/noether-vk/gpu/window/windowtest"
	"github.com/noether-vk/noether-vk/graph/safetensors"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/view"
)

// physicsRunFolder writes a finished physics run's folder as train
// leaves it, small: a manifest, a phase's event log and the rollouts of
// two methods over three test examples.
func physicsRunFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	m := rundir.NewManifest()
	m.Settings = map[string]string{"task": "pendulum", "seed": "0"}
	m.Phases["baseline"] = &rundir.PhaseState{State: rundir.StateDone, Epochs: 6, CheckpointEpoch: 6, CheckpointStep: 6}
	m.Results["vanilla"] = &rundir.Result{State: rundir.StateDone, Numbers: map[string]float64{"test_rmse": 0.1118}}
	m.Results["noether"] = &rundir.Result{State: rundir.StateDone, Numbers: map[string]float64{"test_rmse": 0.0962}}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "baseline"), 0o755); err != nil {
		t.Fatal(err)
	}
	log, err := rundir.OpenEventLog(filepath.Join(dir, "baseline", rundir.EventLogName), "epoch", -1)
	if err == nil {
		for e := 1; e <= 6 && err == nil; e++ {
			err = log.Write(map[string]any{"phase": "baseline", "epoch": e, "loss": 3 / float64(e*e)})
		}
		err = errors.Join(err, log.Close())
	}
	if err != nil {
		t.Fatal(err)
	}
	w, err := view.NewRolloutWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	for k, method := range []string{"vanilla", "noether"} {
		ev := noether.RolloutEvent{Phase: method, StateShape: []int{2}}
		for i := range 3 {
			var truth, pred [][]float32
			for s := range 20 {
				a := float64(s) / 6
				r := 1 + 0.3*float64(i)
				truth = append(truth, []float32{float32(r * math.Cos(a)), float32(r * math.Sin(a))})
				g := 1 + 0.02*float64((k+1)*s)
				pred = append(pred, []float32{float32(g * r * math.Cos(a)), float32(g * r * math.Sin(a))})
				if i == 0 {
					ev.StepRMSE = append(ev.StepRMSE, 0.02*float64((k+1)*s))
				}
			}
			ev.Truth, ev.Pred = append(ev.Truth, truth), append(ev.Pred, pred)
		}
		if err := w.Handle(ev); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readPNGFile(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Bounds(), img, img.Bounds().Min, draw.Src)
	return n
}

// shows reports "" when the screen shows want with its top-left corner at
// (ox, oy), else the first pixel that differs.
func shows(screen, want *image.NRGBA, ox, oy int) string {
	b := want.Bounds()
	for y := range b.Dy() {
		for x := range b.Dx() {
			s, w := screen.NRGBAAt(ox+x, oy+y), want.NRGBAAt(x, y)
			if s.R != w.R || s.G != w.G || s.B != w.B {
				return fmt.Sprintf("pixel (%d, %d) is %v on the screen, %v in the file", x, y, s, w)
			}
		}
	}
	return ""
}

// waitToShow polls the X server until the window shows want.
func waitToShow(t *testing.T, x *windowtest.Xvfb, w *window.Window, want *image.NRGBA) {
	t.Helper()
	ox, oy := w.Position()
	last := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		screen, err := x.Screen()
		if err != nil {
			t.Fatal(err)
		}
		if last = shows(screen, want, ox, oy); last == "" {
			return
		}
	}
	t.Errorf("the window does not show the --frames file: %s", last)
}

// TestViewWindowShowsTheFrames opens the viewer on a physics run folder
// under a private X server, and checks through the X server's own pixels
// that the window shows exactly what --frames writes: the first example
// at step 1, then, after the key n, the second example; the key s saves
// that frame, and q closes the viewer.
func TestViewWindowShowsTheFrames(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	run := physicsRunFolder(t)
	frames := t.TempDir()
	for ex := 1; ex <= 2; ex++ {
		dir := filepath.Join(frames, fmt.Sprint(ex))
		out, err := runApp(t, "view", run, "--frames", dir, "--size", "320x240", "--example", fmt.Sprint(ex))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "20 frames of example") {
			t.Errorf("view --frames printed %q", out)
		}
	}
	want := []*image.NRGBA{
		readPNGFile(t, filepath.Join(frames, "1", "frame_0000.png")),
		readPNGFile(t, filepath.Join(frames, "2", "frame_0000.png")),
	}
	if shows(want[0], want[1], 0, 0) == "" {
		t.Fatal("the two examples' frames are the same picture: the test would prove nothing")
	}
	x := windowtest.StartXvfb(t, 640, 480)
	var seen []int
	viewHook = func(frame int, w *window.Window) []window.Key {
		seen = append(seen, frame)
		switch frame {
		case 1:
			waitToShow(t, x, w, want[0])
			return []window.Key{"n"} // the next example, at its first step
		case 2:
			waitToShow(t, x, w, want[1])
			for _, m := range w.Device().Messages() {
				t.Errorf("validation: %v", m)
			}
			return []window.Key{"s", "q"}
		}
		return nil
	}
	defer func() { viewHook = nil }()
	shots := t.TempDir()
	// Slow enough that the animation stays at its first step.
	if _, err := runApp(t, "view", run, "--size", "320x240", "--fps", "0.001", "--screenshots", shots); err != nil {
		t.Fatalf("view ended with %v, want a clean exit on q", err)
	}
	if len(seen) != 2 {
		t.Errorf("frames shown: %v, want 1 and 2 (q closes the viewer at once)", seen)
	}
	if diff := shows(readPNGFile(t, filepath.Join(shots, "noether-vk-view-001.png")), want[1], 0, 0); diff != "" {
		t.Errorf("the s key's screenshot is not what the window showed: %s", diff)
	}
}

func TestViewWithoutDisplay(t *testing.T) {
	run := physicsRunFolder(t)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	_, err := runApp(t, "view", run)
	if err == nil || !errors.Is(err, window.ErrNoDisplay) || !strings.Contains(err.Error(), "--frames") {
		t.Fatalf("view without a display: %v; want ErrNoDisplay naming --frames", err)
	}
}

func TestViewRefusals(t *testing.T) {
	empty := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"view"}, "one run folder", exitUsage},
		{[]string{"view", empty}, "holds no run", exitError},
		{[]string{"view", filepath.Join(empty, "missing")}, "no such file", exitError},
		{[]string{"view", empty, "--size", "10x10"}, "WIDTHxHEIGHT", exitUsage},
	} {
		_, err := runApp(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || exitCode(err) != c.code {
			t.Errorf("%v: %v (exit %d); want an error naming %q, exit %d", c.args, err, exitCode(err), c.want, c.code)
		}
	}
}

// TestViewVideoFolderFrames writes a video run's Grad-CAM maps and a
// strip, and checks that --frames animates the Grad-CAM sequence and that
// the heat maps show: the frames differ from those with the heat hidden.
func TestViewVideoFolderFrames(t *testing.T) {
	run := t.TempDir()
	const n, steps, side, k = 2, 4, 8, 3
	frames := make([]float32, n*steps*3*side*side)
	for i := range frames {
		frames[i] = float32(i%side) / side
	}
	heat := make([]float32, k*n*steps*side*side)
	for i := range heat {
		heat[i] = float32(i%(side*side)) / (side * side)
	}
	if err := os.MkdirAll(filepath.Join(run, "gradcam"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := safetensors.WriteFile(filepath.Join(run, view.GradCAMName), &safetensors.File{Tensors: map[string]safetensors.Tensor{
		"frames":    {Shape: []int{n, steps, 3, side, side}, Data: frames},
		"heat":      {Shape: []int{k, n, steps, side, side}, Data: heat},
		"explained": {Shape: []int{k}, Data: []float32{0.836, 0.1, 0.05}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := runApp(t, "view", run, "--frames", out, "--size", "320x240"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(out)
	if err != nil || len(entries) != steps {
		t.Fatalf("--frames wrote %d files (%v), want one per Grad-CAM step, %d", len(entries), err, steps)
	}
}

// TestTrainLive trains with the live window, closes the window after its
// second frame, and requires training to go on to the same numbers as a
// run without the window.
func TestTrainLive(t *testing.T) {
	if testing.Short() {
		t.Skip("trains twice")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	windowtest.StartXvfb(t, 1280, 800)
	dir := t.TempDir()
	frames := 0
	viewHook = func(frame int, w *window.Window) []window.Key {
		frames = frame
		if frame == 2 {
			return []window.Key{"escape"}
		}
		return nil
	}
	defer func() { viewHook = nil }()
	live := filepath.Join(dir, "live.json")
	if _, err := runApp(t, append(smallTrain, "--live", "--out", filepath.Join(dir, "live"), "--report", live)...); err != nil {
		t.Fatal(err)
	}
	if frames != 2 {
		t.Errorf("the live window showed %d frames before Escape closed it, want 2", frames)
	}
	plain := filepath.Join(dir, "plain.json")
	if _, err := runApp(t, append(smallTrain, "--out", filepath.Join(dir, "plain"), "--report", plain)...); err != nil {
		t.Fatal(err)
	}
	a, b := readReport(t, live), readReport(t, plain)
	if a.TestRMSE == nil || b.TestRMSE == nil || *a.TestRMSE != *b.TestRMSE || *a.TrainRMSE != *b.TrainRMSE {
		t.Errorf("with --live: %+v; without: %+v; want the same numbers", a, b)
	}
	if _, err := view.ReadRollouts(filepath.Join(dir, "live")); err != nil {
		t.Errorf("the run folder keeps no rollouts for the viewer: %v", err)
	}
}
