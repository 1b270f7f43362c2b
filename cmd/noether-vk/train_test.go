package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/noether-vk/noether-vk/noether/rundir"
)

// smallTrain is a short noether run: a few baseline steps and meta epochs.
var smallTrain = []string{"train", "--method", "noether", "--baseline-steps", "30", "--epochs", "4", "--batch", "256",
	"--seed", "3", "--checkpoint-every", "1ns"}

// mustReadJSON decodes the JSON file at path as a T (readJSON), failing
// the test on an error.
func mustReadJSON[T any](t *testing.T, path string) T {
	t.Helper()
	var v T
	if err := readJSON(path, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func readReport(t *testing.T, path string) methodReport {
	t.Helper()
	r := mustReadJSON[trainReport](t, path)
	if len(r.Runs) != 1 {
		t.Fatalf("%s: %d runs", path, len(r.Runs))
	}
	return r.Runs[0]
}

// binary builds the command once for the tests that run it as a process.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "noether-vk-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "noether-vk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// processBinary returns the built command for a test that runs it as a
// process, skipping the test under -short (why: what it costs).
func processBinary(t *testing.T, why string) string {
	t.Helper()
	if testing.Short() {
		t.Skip(why)
	}
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestMain(m *testing.M) {
	if os.Getenv(signalHelper) != "" {
		signalHelperMain()
	}
	code := m.Run()
	if bin, err := binary(); err == nil && strings.HasPrefix(bin, os.TempDir()) {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// TestTrainInterruptResume interrupts a training run at a random moment,
// once with SIGKILL and once with SIGINT (a graceful stop: exit status 4,
// a checkpoint, the way to resume printed), resumes each, and requires the
// same final numbers as an uninterrupted run with the same seed. The
// resumed runs also remove the temporary file a write killed mid-way
// would leave.
func TestTrainInterruptResume(t *testing.T) {
	bin := processBinary(t, "builds the binary and trains five times")
	dir := t.TempDir()
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
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cut := "cut-" + strconv.Itoa(int(sig))
			var stderr bytes.Buffer
			interrupted := false
			for try := 0; try < 3 && !interrupted; try++ {
				os.RemoveAll(filepath.Join(dir, cut))
				os.Remove(filepath.Join(dir, cut+".json"))
				stderr.Reset()
				cmd := run(cut)
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// Somewhere between the first checkpoint and the end.
				delay := time.Duration((0.25 + 0.5*rng.Float64()) * float64(whole))
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				select {
				case <-done:
					t.Logf("try %d: the run ended before the signal at %v", try, delay)
					continue
				case <-time.After(delay):
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				err := <-done
				if sig == syscall.SIGINT && cmd.ProcessState.ExitCode() == 0 {
					t.Logf("try %d: the run ended as the signal came", try)
					continue
				}
				// The report is the run's last write: a signal after it
				// only cut the process's exit short.
				if _, err := os.Stat(filepath.Join(dir, cut+".json")); err == nil {
					t.Logf("try %d: the run had written its report when the signal came at %v", try, delay)
					continue
				}
				interrupted = true
				t.Logf("%v after %v of an uninterrupted %v: %v", sig, delay, whole, err)
				if sig == syscall.SIGINT {
					if code := cmd.ProcessState.ExitCode(); code != exitStopped || !strings.Contains(stderr.String(), "--resume") {
						t.Errorf("stopped run: exit status %d, want %d, and the way to resume in:\n%s", code, exitStopped, stderr.String())
					}
					m, err := rundir.ReadManifest(filepath.Join(dir, cut))
					if err != nil || m.Commands[0].State != rundir.StateStopped {
						t.Errorf("manifest of the stopped run: %v, %+v", err, m)
					}
				}
			}
			if !interrupted {
				t.Fatal("could not interrupt the run before it ended")
			}
			if _, err := os.Stat(filepath.Join(dir, cut+".json")); err == nil {
				t.Fatal("the interrupted run wrote its report")
			}
			stale := filepath.Join(dir, cut, "noether", ".checkpoint.safetensors.tmp-123")
			if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(stale, []byte("half a checkpo"), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := run(cut, "--resume").CombinedOutput(); err != nil {
				t.Fatalf("resumed run: %v\n%s", err, out)
			}
			if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the stale temporary file is still there: %v", err)
			}
			got := readReport(t, filepath.Join(dir, cut+".json"))
			if *got.TestRMSE != *want.TestRMSE || *got.TrainRMSE != *want.TrainRMSE {
				t.Errorf("resumed: test %v train %v; uninterrupted: test %v train %v", *got.TestRMSE, *got.TrainRMSE, *want.TestRMSE, *want.TrainRMSE)
			}
			// The event log holds each epoch once.
			raw, err := os.ReadFile(filepath.Join(dir, cut, "noether", "events.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(raw), "\n"); n != 4 {
				t.Errorf("noether events.jsonl has %d lines after resuming, want 4:\n%s", n, raw)
			}
		})
	}
}

// signalHelper makes the test binary a process that waits for signals
// as train does (TestSecondSignalStopsAtOnce).
const signalHelper = "NOETHER_VK_TEST_SIGNAL_HELPER"

func signalHelperMain() {
	stop, _ := stopOnSignal()
	fmt.Println("ready")
	<-stop
	fmt.Println("stopping")
	time.Sleep(time.Minute) // a step that takes long: only a second signal ends this early
	os.Exit(0)
}

// TestSecondSignalStopsAtOnce: the first SIGINT asks for a graceful stop,
// the second ends the process at once, by the signal.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), signalHelper+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	expect := func(want string) {
		if !lines.Scan() || lines.Text() != want {
			t.Fatalf("helper said %q, want %q", lines.Text(), want)
		}
	}
	expect("ready")
	cmd.Process.Signal(syscall.SIGINT)
	expect("stopping")
	began := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGINT || time.Since(began) > 10*time.Second {
		t.Errorf("after the second SIGINT: %v after %v; want death by SIGINT at once", cmd.ProcessState, time.Since(began))
	}
}

// TestTrainErrors: bad flags and data give errors that say what to do.
func TestTrainErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--task", "moon"}, "want spring, pendulum, real-pendulum, pixel-pendulum, ramp or physics101"},
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
