package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kernelbench"
	"github.com/noether-vk/noether-vk/kernels/tune"
)

// TestBenchDefaultAgainstTuned: with a cache entry for one benchmarked
// product, bench-kernels times that row's tuned program beside the
// default (both checked against the CPU reference) and marks the other
// rows as running the default; with --no-tune no row is tuned; a corrupt
// cache leaves every row on the default.
func TestBenchDefaultAgainstTuned(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	path, err := tune.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	info := selectedDevice(t)
	p := kernels.MatMulParams{Batch: 1, M: 256, N: 256, K: 256}
	tiled := kernels.MatMulVariant{MatMulTile: kernels.MatMulTile{Rows: 4, Cols: 4, X: 8, Y: 8}, SharedK: 16}
	if err := saveTuning(path, info, map[string]tune.Choice{p.TuneKey(): {Variant: tiled}}, nil); err != nil {
		t.Fatal(err)
	}
	rows := func(args ...string) map[string]kernelbench.Result {
		t.Helper()
		out := filepath.Join(t.TempDir(), "bench.json")
		if text, err := runApp(t, append([]string{"bench-kernels", "--ops", "matmul", "--quick", "--json", out}, args...)...); err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		rep := mustReadJSON[benchReport](t, out)
		m := map[string]kernelbench.Result{}
		for _, r := range rep.Results {
			m[r.Shape] = r
		}
		return m
	}
	for shape, r := range rows() {
		want := kernelbench.TunedNone
		if shape == "256x256x256" {
			want = kernelbench.TunedVariant
		}
		if r.Tuned != want || r.TunedGPUMsMedian <= 0 || r.TunedGPUMsMin > r.TunedGPUMsMedian || r.Error != "" {
			t.Errorf("%s: tuned %q (want %q), %.3f ms (%.3f-%.3f), error %q", shape, r.Tuned, want, r.TunedGPUMsMedian, r.TunedGPUMsMin, r.TunedGPUMsMax, r.Error)
		}
	}
	for shape, r := range rows("--no-tune") {
		if r.Tuned != "" {
			t.Errorf("--no-tune: %s tuned %q", shape, r.Tuned)
		}
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for shape, r := range rows() {
		if r.Tuned != kernelbench.TunedNone {
			t.Errorf("corrupt cache: %s tuned %q", shape, r.Tuned)
		}
	}
}

// selectedDevice is the facts of the device the commands open.
func selectedDevice(t *testing.T) gpu.Info {
	t.Helper()
	d, err := gpu.Open(gpu.OptionsFromEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return d.Info
}

func TestTuneRefusesUnknownShapes(t *testing.T) {
	if _, err := runApp(t, "tune", "--shapes", "train,nope"); err == nil || !strings.Contains(err.Error(), "--shapes") || exitCode(err) != 2 {
		t.Errorf("err = %v (exit %d)", err, exitCode(err))
	}
}

// TestTuneVideoShapes: --shapes video learns the products of the pixel
// pendulum's noether step (its GEMM convolutions among them: batched
// products) and its conv passes, and tunes every one into the cache, every
// form of every pass agreeing with the default's result.
func TestTuneVideoShapes(t *testing.T) {
	dir := t.TempDir()
	cache, out := filepath.Join(dir, "tuning.json"), filepath.Join(dir, "tune.json")
	if text, err := runApp(t, "tune", "--shapes", "video", "--quick", "--cache", cache, "--json", out); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	rep := mustReadJSON[tuneReport](t, out)
	batched := 0
	for _, p := range rep.Products {
		if p.Error != "" {
			t.Errorf("%s: %s", p.Key, p.Error)
		}
		if !strings.HasPrefix(p.Key, "1x") {
			batched++
		}
	}
	if len(rep.Products) < 5 || batched == 0 {
		t.Errorf("%d products, %d of them batched: want the video step's products", len(rep.Products), batched)
	}
	passes := map[string]bool{}
	for _, c := range rep.Convs {
		if c.Error != "" || len(c.Rejected) > 0 {
			t.Errorf("conv %s: %s %v", c.Key, c.Error, c.Rejected)
		}
		passes[strings.Fields(c.Key)[0]] = true
	}
	if len(passes) != 3 {
		t.Errorf("conv passes tuned: %v; want forwards, input and weight gradients", passes)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("the cache was not written: %v", err)
	}
}

// TestTuneKilledKeepsFinished: tune saves each choice as it is made, so a
// tune killed part-way (as a time limit does) leaves the products it
// finished in the cache.
func TestTuneKilledKeepsFinished(t *testing.T) {
	bin := processBinary(t, "builds the binary")
	cache := filepath.Join(t.TempDir(), "tuning.json")
	cmd := exec.Command(bin, "tune", "--shapes", "video", "--cache", cache)
	stderr := &watch{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// "tune: [4/N] ..." comes once three products are decided.
	began := stderr.await("tune: [4/", 2*time.Minute)
	cmd.Process.Kill()
	cmd.Wait()
	if !began {
		t.Fatalf("tune never began its fourth product:\n%s", stderr.String())
	}
	f, err := tune.Read(cache)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Devices {
		n += len(d.MatMul)
	}
	if n < 3 {
		t.Errorf("the killed tune left %d choices in the cache, want the 3 it finished", n)
	}
}
