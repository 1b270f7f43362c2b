package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/video"
	"github.com/noether-vk/noether-vk/svg/phys101"
	"github.com/noether-vk/noether-vk/svg/phys101/phys101test"
)

// tinyVideo is the smallest pixel-pendulum train: 8x8 frames, 2 given
// and 2 predicted, one epoch of each phase (about 8 s on 2 shared cores).
var tinyVideo = []string{"train", "--task", "pixel-pendulum", "--image-size", "8", "--history", "2", "--horizon", "2",
	"--svg-epochs", "1", "--epochs", "1", "--checkpoint-every", "1ns"}

// readVideoReport reads a pixel-pendulum --report: the typed report and
// each run as a JSON object, for the names of its fields.
func readVideoReport(t *testing.T, path string) (videoReport, []map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep videoReport
	var loose struct {
		Runs []map[string]any `json:"runs"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &loose); err != nil {
		t.Fatal(err)
	}
	return rep, loose.Runs
}

// TestTrainVideoRefuses: bad input to train --task pixel-pendulum is
// refused with exit status 2 and a message naming the problem, before the
// run folder is made or anything trains; flags of the other kind of task
// are refused both ways.
func TestTrainVideoRefuses(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		args  []string
		words []string
	}{
		{[]string{"--task", "moon"}, []string{`--task "moon"`, "pixel-pendulum"}},
		{[]string{"--preset", "huge"}, []string{"--preset", `unknown preset "huge"`, "default, paper"}},
		{[]string{"--method", "svg,svg-lp"}, []string{`--method "svg,svg-lp"`, `method "svg-lp"`, "svg, svg-more-steps or noether"}},
		{[]string{"--method", "svg,svg"}, []string{"named twice"}},
		{[]string{"--image-size", "12"}, []string{"image size 12", "4·2^k"}},
		{[]string{"--image-size", "8", "--method", "noether", "--history", "2", "--horizon", "2", "--batch", "9999"},
			[]string{"batch 9999 is larger than the data", "training windows"}},
		{[]string{"--history", "180"}, []string{"history 180 + horizon 26 frames is longer than an episode (200 frames)"}},
		{[]string{"--horizon", "197"}, []string{"history 4 + horizon 197 frames is longer than an episode"}},
		{[]string{"--svg-epochs", "-1"}, []string{"svg epochs -1"}},
		{[]string{"--epochs", "-2"}, []string{"svg-more-steps epochs -2", "noether epochs -2"}},
		{[]string{"--inner-steps", "0"}, []string{"inner steps 0"}},
		{[]string{"--inner-lr", "NaN"}, []string{"inner learning rate NaN"}},
		{[]string{"--adapt", "all"}, []string{`--adapt "all"`, "latent", "cn"}},
		{[]string{"--inner-opt", "adam"}, []string{"inner Adam needs the first-order meta-gradient"}},
		{[]string{"--meta-grad", "reverse"}, []string{"reverse-over-reverse"}},
		{[]string{"--inner-opt", "lbfgs"}, []string{`--inner-opt "lbfgs"`}},
		{[]string{"--loss", "p^2", "--baseline-steps", "5"}, []string{"--loss, --baseline-steps: for the physics tasks"}},
		{[]string{"--data", "x.txt"}, []string{"--data: --task pixel-pendulum makes its own data"}},
		{[]string{"--cache", "x"}, []string{"--cache, --clips, --order: for --task physics101 only"}},
		{[]string{"--lpips", "nothing.safetensors"}, []string{"--lpips", "nothing.safetensors", "pth2safetensors"}},
		{[]string{"--task", "physics101"}, []string{"--task physics101 needs --data DIR"}},
		{[]string{"--task", "physics101", "--data", "/nonexistent"}, []string{"--data /nonexistent: not a folder"}},
		{[]string{"--task", "physics101", "--data", ".", "--clips", "3"}, []string{"--clips [3]: want TRAIN,TEST"}},
		{[]string{"--task", "ramp", "--method", "svg-more-steps"}, []string{"compare svg and noether"}},
		{[]string{"--task", "ramp", "--method", "svg", "--inner-curve-steps", "5"}, []string{"needs the noether method"}},
		{[]string{"--resume", "--overwrite"}, []string{"give one"}},
		{[]string{"--change-rates"}, []string{"add --resume"}},
		{[]string{"--task", "pendulum", "--preset", "paper"}, []string{"--preset: for the video tasks (pixel-pendulum, ramp, physics101) only, not --task pendulum"}},
		{[]string{"--task", "spring", "--svg-epochs", "3", "--image-size", "16"}, []string{"--svg-epochs, --image-size: for the video tasks"}},
	} {
		dir := filepath.Join(root, "run")
		args := append([]string{"train", "--task", "pixel-pendulum", "--out", dir}, c.args...)
		_, err := runApp(t, args...)
		wantRefused(t, fmt.Sprint(c.args), err, exitUsage, c.words...)
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v: the refused command made its run folder: %v", c.args, err)
		}
	}
}

// TestTrainVideo runs the smallest pixel-pendulum train: the report has
// every method with the numbers under their names, all finite; the run
// folder holds the plots and strips; --resume refuses a checkpoint of
// another model configuration or seed, and continues a longer run.
func TestTrainVideo(t *testing.T) {
	root := t.TempDir()
	dir, report := filepath.Join(root, "run"), filepath.Join(root, "r.json")
	out, err := runApp(t, append(tinyVideo, "--out", dir, "--report", report)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range video.Methods() {
		if !strings.Contains(out, string(m)+" ") {
			t.Errorf("the table lacks %s:\n%s", m, out)
		}
	}
	rep, runs := readVideoReport(t, report)
	if rep.Task != pixelPendulum || rep.Preset != "default" || rep.PSNRCap != video.PSNRCap || len(runs) != 3 {
		t.Fatalf("report: task %q preset %q cap %v, %d runs", rep.Task, rep.Preset, rep.PSNRCap, len(runs))
	}
	for i, r := range runs {
		if r["method"] != string(video.Methods()[i]) {
			t.Errorf("run %d is %v, want %s", i, r["method"], video.Methods()[i])
		}
		for _, k := range []string{"test_mse", "test_psnr", "test_ssim", "test_mse_sem", "test_psnr_sem", "test_ssim_sem"} {
			if v, ok := r[k].(float64); !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%v: %s is %v", r["method"], k, r[k])
			}
		}
		for _, k := range []string{"mse_per_step", "psnr_per_step", "ssim_per_step", "mse_per_step_sem", "psnr_per_step_sem", "ssim_per_step_sem"} {
			if v, ok := r[k].([]any); !ok || len(v) != 2 {
				t.Errorf("%v: %s is %v, want one value per predicted frame (2)", r["method"], k, r[k])
			}
		}
	}
	if svg, noether := rep.Runs[0].Result, rep.Runs[2].Result; svg.TestMSE == noether.TestMSE {
		t.Errorf("noether's test MSE is svg's (%v): tailoring changed nothing", svg.TestMSE)
	}
	cfg, err := video.Preset(video.PixelPendulum, "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range cfg.Outputs(video.Methods()...) {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
	m, err := rundir.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res := m.Results["noether"]; res == nil || res.State != rundir.StateDone || res.Numbers["test_mse"] != rep.Runs[2].TestMSE {
		t.Errorf("manifest's noether result %+v, want done with test_mse %v", res, rep.Runs[2].TestMSE)
	}

	for _, c := range []struct {
		flags []string
		words []string
	}{
		{[]string{"--image-size", "16"}, []string{"model {ImageSize:8", "(now {ImageSize:16", "--overwrite"}},
		{[]string{"--history", "3"}, []string{"NPast:2", "(now {", "NPast:3"}},
		{[]string{"--seed", "1"}, []string{"--seed is 0, not 1"}},
		{[]string{"--svg-epochs", "0"}, []string{"at epoch 1, beyond this run's 0"}},
		{[]string{"--embedding-lr", "0.01"}, []string{"embedding-lr 0.001 (now 0.01)"}},
	} {
		_, err := runApp(t, append(append(tinyVideo, "--out", dir, "--resume"), c.flags...)...)
		wantRefused(t, fmt.Sprint("--resume ", c.flags), err, exitUsage, c.words...)
	}
	// A longer noether phase continues the run; --change-rates lets it do
	// so at another embedding rate.
	if _, err := runApp(t, append(tinyVideo, "--out", dir, "--resume", "--method", "noether", "--epochs", "2", "--change-rates", "--embedding-lr", "0.01")...); err != nil {
		t.Fatal(err)
	}
	if m, err = rundir.ReadManifest(dir); err != nil {
		t.Fatal(err)
	}
	want := []rundir.SettingChange{{Epoch: 1, Name: "embedding-lr", From: "0.001", To: "0.01"}}
	if p := m.Phases["noether"]; p == nil || p.CheckpointEpoch != 2 || fmt.Sprint(p.Changes) != fmt.Sprint(want) {
		t.Errorf("manifest's noether phase %+v, want epoch 2 and the change %v", p, want)
	}
}

// TestTrainVideoPartialResults: a method whose training diverges does
// not lose the ones before it: the report has their numbers and its
// error, the figures are drawn, the manifest marks it failed, and the
// exit status says that something failed.
func TestTrainVideoPartialResults(t *testing.T) {
	root := t.TempDir()
	dir, report := filepath.Join(root, "run"), filepath.Join(root, "r.json")
	_, err := runApp(t, append(tinyVideo, "--embedding-lr", "1e38", "--out", dir, "--report", report)...)
	wantRefused(t, "a diverging noether phase", err, exitError, "2 of 3 methods ran", "training diverged", "--embedding-lr")
	rep, runs := readVideoReport(t, report)
	if len(rep.Runs) != 3 || rep.Runs[0].Result == nil || rep.Runs[1].Result == nil || rep.Runs[2].Result != nil ||
		!strings.Contains(rep.Runs[2].Error, "diverged") || runs[2]["test_mse"] != nil {
		t.Errorf("report runs: %v", runs)
	}
	for _, name := range []string{"mse.png", "ssim.svg", "strip_episode000.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
	m, err := rundir.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Results["noether"]; r == nil || r.State != rundir.StateFailed || m.Results["svg"].State != rundir.StateDone {
		t.Errorf("manifest results: noether %+v, svg %+v", r, m.Results["svg"])
	}
}

// TestTrainVideoInterruptResume stops a pixel-pendulum train with SIGINT
// after the first step of its noether phase: exit status 4, the way to
// resume printed, the phase stopped mid-epoch with a checkpoint; resumed,
// it reports the numbers of an uninterrupted run.
func TestTrainVideoInterruptResume(t *testing.T) {
	bin := processBinary(t, "builds the binary and trains three times")
	dir := t.TempDir()
	run := func(name string, extra ...string) *exec.Cmd {
		args := append(append([]string{}, tinyVideo...), "--method", "noether", "--epochs", "2", "--out", filepath.Join(dir, name), "--report", filepath.Join(dir, name+".json"))
		return exec.Command(bin, append(args, extra...)...)
	}
	if out, err := run("whole").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	want, _ := readVideoReport(t, filepath.Join(dir, "whole.json"))

	cmd := run("cut")
	stderr := &watch{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The progress line of the noether phase's first step (of 50): the
	// stop comes mid-epoch, after svg is done.
	if !stderr.await("noether 1/", time.Minute) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the run never began its noether phase:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitStopped || !strings.Contains(stderr.String(), "--resume") {
		t.Fatalf("stopped run: exit status %d, want %d, and the way to resume in:\n%s", code, exitStopped, stderr.String())
	}
	m, err := rundir.ReadManifest(filepath.Join(dir, "cut"))
	if err != nil || m.Commands[0].State != rundir.StateStopped {
		t.Fatalf("manifest of the stopped run: %v, %+v", err, m)
	}
	if p := m.Phases["noether"]; p.State != rundir.StateStopped || p.CheckpointEpoch != 0 || p.CheckpointStep == 0 {
		t.Errorf("the stopped noether phase: %+v; want stopped with a checkpoint within its first epoch", p)
	}
	if out, err := run("cut", "--resume").CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	got, _ := readVideoReport(t, filepath.Join(dir, "cut.json"))
	for i, w := range want.Runs {
		g := got.Runs[i]
		if g.TestMSE != w.TestMSE || g.TestPSNR != w.TestPSNR || g.TestSSIM != w.TestSSIM || fmt.Sprint(g.MSEPerStep) != fmt.Sprint(w.MSEPerStep) {
			t.Errorf("%s resumed: MSE %v PSNR %v SSIM %v; uninterrupted: %v %v %v", w.Method, g.TestMSE, g.TestPSNR, g.TestSSIM, w.TestMSE, w.TestPSNR, w.TestSSIM)
		}
	}
}

// watch records what is written to it and tells when a text appears.
type watch struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *watch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// await reports whether text appears within limit.
func (w *watch) await(text string, limit time.Duration) bool {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(w.String(), text) {
			return true
		}
	}
	return false
}

// fakePhys101 lays out a fake Physics 101 in the real layout: clips
// 20-degree clips of 12 frames (6 after taking every 2nd), 32x18 pixels,
// a grey square moving right; and returns its folder.
func fakePhys101(t *testing.T, clips int) string {
	t.Helper()
	if why := phys101test.HaveFFmpeg(); why != "" {
		t.Skipf("%s: no clip can be encoded for this test (apt-get install ffmpeg)", why)
	}
	root := t.TempDir()
	const w, h = 32, 18
	for i := range clips {
		rel := filepath.Join("phys101", "scenarios", "ramp", fmt.Sprintf("obj_%c", 'a'+i), "20_01", "01", phys101.Camera)
		err := phys101test.Encode(filepath.Join(root, rel), 12, w, h, func(k int) []byte {
			f := make([]byte, w*h*3)
			for y := range h {
				for x := range w {
					v := byte(30 + 10*i)
					if x >= 8+k && x < 14+k && y >= 6 && y < 12 {
						v = 220
					}
					copy(f[(y*w+x)*3:], []byte{v, v, byte(255 - int(v))})
				}
			}
			return f
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestTrainPhysics101 trains on a fake Physics 101 tree: the clips are
// found, decoded by ffmpeg, cut and resized, cached, split, and svg and
// noether train one step each and are scored; a second run reads every
// clip from the cache (ffmpeg gone from PATH) and gives the same numbers.
// plot then redraws the figures, and draws them over both runs.
func TestTrainPhysics101(t *testing.T) {
	data, root := fakePhys101(t, 5), t.TempDir()
	cache := filepath.Join(root, "cache")
	args := func(run string) []string {
		return []string{"train", "--task", "physics101", "--data", data, "--cache", cache, "--clips", "2,2", "--out", filepath.Join(root, run),
			"--image-size", "8", "--history", "2", "--horizon", "2", "--batch", "2", "--svg-epochs", "1", "--epochs", "1",
			"--inner-curve-steps", "2", "--report", filepath.Join(root, run+".json")}
	}
	if _, err := runApp(t, args("first")...); err != nil {
		t.Fatal(err)
	}
	cached, err := os.ReadDir(cache)
	if err != nil || len(cached) == 0 {
		t.Fatalf("cache folder %s: %v entries, %v", cache, len(cached), err)
	}
	t.Setenv("PATH", t.TempDir()) // no ffmpeg: every clip must come from the cache
	if _, err := runApp(t, args("second")...); err != nil {
		t.Fatalf("second run, from the cache alone: %v", err)
	}
	first, _ := readVideoReport(t, filepath.Join(root, "first.json"))
	second, _ := readVideoReport(t, filepath.Join(root, "second.json"))
	if first.Task != "physics101" || len(first.Runs) != 2 || first.Runs[0].Method != "svg" || first.Runs[1].Method != "noether" {
		t.Fatalf("report: task %q, runs %+v", first.Task, first.Runs)
	}
	for i, r := range first.Runs {
		if r.Result == nil || r.Episodes != 2 {
			t.Fatalf("%s: %+v; want scores on the 2 test clips", r.Method, r.Result)
		}
		if s := second.Runs[i]; s.Result == nil || s.TestMSE != r.TestMSE {
			t.Errorf("%s: test MSE %v from the cache, %v decoded", r.Method, s.Result, r.TestMSE)
		}
	}
	out, err := runApp(t, "plot", filepath.Join(root, "first"))
	if err != nil || !strings.Contains(out, "redrew the figures") {
		t.Fatalf("plot: %v\n%s", err, out)
	}
	seeds := filepath.Join(root, "seeds")
	if _, err := runApp(t, "plot", "--out", seeds, filepath.Join(root, "first"), filepath.Join(root, "second")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mse.png", "psnr.svg", "ssim.png"} {
		if _, err := os.Stat(filepath.Join(seeds, name)); err != nil {
			t.Error(err)
		}
	}
	_, err = runApp(t, "plot", filepath.Join(root, "first"), filepath.Join(root, "second"))
	wantRefused(t, "plot without --out", err, exitUsage, "give --out")
	_, err = runApp(t, "plot", root)
	wantRefused(t, "plot of a folder without results", err, exitUsage, "results.json")
}

// TestTrainRampSVGAlone: --method svg on ramp drops the preset's
// inner-loss curve (it is noether's) instead of refusing the command; the
// batch too large for the data is the only complaint.
func TestTrainRampSVGAlone(t *testing.T) {
	_, err := runApp(t, "train", "--task", "ramp", "--method", "svg", "--batch", "9999", "--out", filepath.Join(t.TempDir(), "run"))
	wantRefused(t, "ramp svg alone", err, exitUsage, "batch 9999 is larger than the data: 311 training clips")
	if err != nil && strings.Contains(err.Error(), "inner-loss curve") {
		t.Errorf("--method svg was refused for the preset's inner-loss curve: %v", err)
	}
}
