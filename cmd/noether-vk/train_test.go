package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallTrain is a short noether run: a few baseline steps and meta epochs.
var smallTrain = []string{"train", "--method", "noether", "--baseline-steps", "30", "--epochs", "4", "--batch", "256",
	"--seed", "3", "--checkpoint-every", "1ns"}

func readReport(t *testing.T, path string) methodReport {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r trainReport
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Runs) != 1 {
		t.Fatalf("%s: %d runs", path, len(r.Runs))
	}
	return r.Runs[0]
}

// TestTrainKillResume kills a training run with SIGKILL at a random
// moment, resumes it, and requires the same final numbers as an
// uninterrupted run with the same seed.
func TestTrainKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains three times")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "noether-vk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(out string, extra ...string) *exec.Cmd {
		args := append(append([]string{}, smallTrain...), "--out", filepath.Join(dir, out), "--report", filepath.Join(dir, out+".json"))
		return exec.Command(bin, append(args, extra...)...)
	}
	began := time.Now()
	if out, err := run("whole").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	whole := time.Since(began)
	want := readReport(t, filepath.Join(dir, "whole.json"))

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	killed := false
	for try := 0; try < 3 && !killed; try++ {
		os.RemoveAll(filepath.Join(dir, "cut"))
		os.Remove(filepath.Join(dir, "cut.json"))
		cmd := run("cut")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Somewhere between the first checkpoint and the end.
		delay := time.Duration((0.3 + 0.6*rng.Float64()) * float64(whole))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
			t.Logf("try %d: the run ended before the kill at %v", try, delay)
		case <-time.After(delay):
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-done
			killed = true
			t.Logf("killed after %v of an uninterrupted %v", delay, whole)
		}
	}
	if !killed {
		t.Fatal("could not kill the run before it ended")
	}
	if _, err := os.Stat(filepath.Join(dir, "cut.json")); err == nil {
		t.Fatal("the killed run wrote its report")
	}
	if out, err := run("cut", "--resume").CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	got := readReport(t, filepath.Join(dir, "cut.json"))
	if got.TestRMSE != want.TestRMSE || got.TrainRMSE != want.TrainRMSE {
		t.Errorf("resumed: test %v train %v; uninterrupted: test %v train %v", got.TestRMSE, got.TrainRMSE, want.TestRMSE, want.TrainRMSE)
	}
	// The metrics file holds each epoch once.
	raw, err := os.ReadFile(filepath.Join(dir, "cut", "noether", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n != 4 {
		t.Errorf("noether events.jsonl has %d lines after resuming, want 4:\n%s", n, raw)
	}
}

// TestTrainErrors: bad flags and data give errors that say what to do.
func TestTrainErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--task", "moon"}, "want spring, pendulum or real-pendulum"},
		{[]string{"train", "--task", "real-pendulum"}, "--data PATH"},
		{[]string{"train", "--task", "real-pendulum", "--data", "/nonexistent/real_pend_h_1.txt"}, "not found"},
		{[]string{"train", "--method", "magic"}, "want vanilla, finetune, tailor, meta-tailor, noether or project"},
		{[]string{"train", "--loss", "p^3"}, "--loss"},
		{[]string{"train", "--inner-opt", "lbfgs"}, "want sgd or adam"},
		{[]string{"train", "--loss-param", "c"}, "want name=value"},
	} {
		_, err := runApp(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}
