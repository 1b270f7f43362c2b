package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/noether/rundir"
)

// tiny trains the baseline for 5 steps into dir: the smallest train.
func tiny(t *testing.T, dir string, extra ...string) (string, error) {
	t.Helper()
	return runApp(t, append([]string{"train", "--method", "vanilla", "--baseline-steps", "5", "--out", dir}, extra...)...)
}

// wantRefused checks that err is a refusal with the exit status and the
// words given.
func wantRefused(t *testing.T, what string, err error, code int, words ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted", what)
		return
	}
	if got := exitCode(err); got != code {
		t.Errorf("%s: exit status %d, want %d (%v)", what, got, code, err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not say %q", what, err, w)
		}
	}
}

// realPendulumFile writes a small file in the real pendulum's format,
// with value v as the angle of its 20th row.
func realPendulumFile(t *testing.T, path string, v float64) {
	t.Helper()
	var b strings.Builder
	b.WriteString("%o v\n")
	for i := range 40 {
		o := math.Sin(float64(i) / 6)
		if i == 19 {
			o = v
		}
		fmt.Fprintf(&b, "0 %g %g %g\n", float64(i)/6, o, math.Cos(float64(i)/6))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTrainRefusesToOverwrite (finding 1 of issue 19): a finished run is
// not replaced unless --overwrite says so, which removes all of it,
// later phases included.
func TestTrainRefusesToOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := tiny(t, dir); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "baseline", rundir.CheckpointName)
	before, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	// What a finetune run into the same folder would have left.
	later := filepath.Join(dir, "finetune", rundir.CheckpointName)
	if err := os.MkdirAll(filepath.Dir(later), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(later, before, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = tiny(t, dir, "--baseline-steps", "6")
	wantRefused(t, "a new run into a finished run's folder", err, exitUsage, "--resume", "--overwrite")
	if after, _ := os.ReadFile(ck); !bytes.Equal(before, after) {
		t.Error("the refused run changed the finished run's checkpoint")
	}
	if _, err := tiny(t, dir, "--baseline-steps", "6", "--overwrite"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(later); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("--overwrite left the old run's later phase: %v", err)
	}
	m, err := rundir.ReadManifest(dir)
	if err != nil || len(m.Commands) != 1 || m.Phases["baseline"].Epochs != 6 {
		t.Errorf("manifest after --overwrite: %v, %+v", err, m)
	}
}

// TestTrainResumeComparesSettings (finding 2): --resume refuses every
// setting that changes results, a shorter target included; a longer one
// continues the run to what an uninterrupted run gives; settings that do
// not change results may differ; --change-rates continues under lower
// rates, recorded in the manifest.
func TestTrainResumeComparesSettings(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	finetune := func(dir string, epochs int, extra ...string) (string, error) {
		return runApp(t, append([]string{"train", "--method", "finetune", "--baseline-steps", "5", "--batch", "512", "--checkpoint-every", "1ns",
			"--epochs", strconv.Itoa(epochs), "--out", dir, "--report", dir + ".json"}, extra...)...)
	}
	if _, err := finetune(dir, 2); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--epochs", "1"}, "at epoch 2, beyond this run's 1"},
		{[]string{"--baseline-steps", "4"}, "at epoch 5, beyond this run's 4"},
		{[]string{"--method", "vanilla", "--baseline-steps", "4"}, "at epoch 5, beyond this run's 4"},
		{[]string{"--meta-lr", "3e-05"}, "meta-lr 0.0001 (now 3e-05)"},
		{[]string{"--lr", "0.002"}, "lr 0.001 (now 0.002)"},
		{[]string{"--weight-decay", "0.001"}, "weight-decay 0.0001 (now 0.001)"},
		{[]string{"--batch", "256"}, "batch size 512 (now 256)"},
		{[]string{"--seed", "1"}, "--seed is 0, not 1"},
	} {
		_, err := runApp(t, append([]string{"train", "--method", "finetune", "--baseline-steps", "5", "--batch", "512", "--epochs", "2",
			"--out", dir, "--resume"}, c.flags...)...)
		wantRefused(t, fmt.Sprint("--resume ", c.flags), err, exitUsage, c.want, "--overwrite")
	}
	// Longer, with another --report and --checkpoint-every.
	if _, err := finetune(dir, 3, "--resume", "--checkpoint-every", "1h"); err != nil {
		t.Fatal(err)
	}
	if _, err := finetune(filepath.Join(root, "whole"), 3); err != nil {
		t.Fatal(err)
	}
	got, want := readReport(t, dir+".json"), readReport(t, filepath.Join(root, "whole.json"))
	if got.Epochs != 3 || *got.TestRMSE != *want.TestRMSE {
		t.Errorf("a 2-epoch run continued to 3: epochs %d, test RMSE %v; a 3-epoch run: %v", got.Epochs, *got.TestRMSE, *want.TestRMSE)
	}
	if _, err := finetune(dir, 4, "--resume", "--change-rates", "--meta-lr", "3e-05"); err != nil {
		t.Fatal(err)
	}
	m, err := rundir.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	want4 := []rundir.SettingChange{{Epoch: 3, Name: "meta-lr", From: "0.0001", To: "3e-05"}}
	if p := m.Phases["finetune"]; p == nil || fmt.Sprint(p.Changes) != fmt.Sprint(want4) || p.CheckpointEpoch != 4 || p.State != rundir.StateDone {
		t.Errorf("manifest's finetune phase %+v, want the rate change %v and epoch 4 done", p, want4)
	}
	if len(m.Commands) != 3 {
		t.Errorf("manifest lists %d commands, want 3", len(m.Commands))
	}
}

// TestTrainResumeChecksData (finding 2): the data's contents are a
// setting: a resumed run on a changed file is refused.
func TestTrainResumeChecksData(t *testing.T) {
	root := t.TempDir()
	data, dir := filepath.Join(root, "real.txt"), filepath.Join(root, "run")
	realPendulumFile(t, data, 0.5)
	args := []string{"train", "--task", "real-pendulum", "--data", data, "--method", "vanilla", "--baseline-steps", "3", "--out", dir}
	if _, err := runApp(t, args...); err != nil {
		t.Fatal(err)
	}
	realPendulumFile(t, data, 0.6)
	_, err := runApp(t, append(args, "--resume")...)
	wantRefused(t, "--resume on changed data", err, exitUsage, "--data is ", "data ")
}

// TestTrainLock (finding 3): one run per folder at a time; a second one
// fails at once, naming the first one's process, and a lock file left by
// a killed run does not hold the folder.
func TestTrainLock(t *testing.T) {
	dir := t.TempDir()
	held, err := rundir.Open(dir, rundir.Fresh, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tiny(t, dir)
	wantRefused(t, "a run into a locked folder", err, exitError, "in use", "process "+strconv.Itoa(os.Getpid()))
	if !errors.Is(err, rundir.ErrInUse) {
		t.Errorf("error %v does not wrap rundir.ErrInUse", err)
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.LockName), []byte("999999999 noether-vk train (killed)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tiny(t, dir); err != nil {
		t.Errorf("a lock file left by a killed run: %v", err)
	}
}

// TestCommandLine (findings 4 and 7): flags after arguments are parsed or
// refused, never ignored; unknown commands are usage errors (2), not the
// status for no device (3).
func TestCommandLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, err := runApp(t, "train", "extra", "--baseline-steps", "5", "--out", dir)
	wantRefused(t, "train with an argument", err, exitUsage, `"extra"`)
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused command made its run folder: %v", err)
	}
	for _, args := range [][]string{{"nosuch"}, {"formulas", "nosuch"}, {"help", "nosuch"}, {"train", "--bogus"}, {"formulas", "merge", "a.json", "--bogus"}} {
		_, err := runApp(t, args...)
		wantRefused(t, fmt.Sprint(args), err, exitUsage)
	}
}

// TestTrainPartialResults (finding 5): a method whose rollouts go NaN
// does not lose the others: the report has them, marks the failed one
// with its error, the plots are drawn, and the exit status says that
// something failed.
func TestTrainPartialResults(t *testing.T) {
	root := t.TempDir()
	report := filepath.Join(root, "r.json")
	_, err := tiny(t, filepath.Join(root, "run"), "--method", "vanilla,tailor", "--loss", "p^2/0", "--report", report)
	wantRefused(t, "a NaN method", err, exitError, "1 of 2 methods failed", "tailor")
	raw, rerr := os.ReadFile(report)
	if rerr != nil {
		t.Fatalf("no report: %v", rerr)
	}
	var rep trainReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || rep.Runs[0].TestRMSE == nil || rep.Runs[0].Error != "" || rep.Runs[1].TestRMSE != nil || !strings.Contains(rep.Runs[1].Error, "diverged") {
		t.Errorf("report:\n%s", raw)
	}
	for _, p := range []string{"loss.png", "rollout_rmse.svg", "phase.png"} {
		if _, err := os.Stat(filepath.Join(root, "run", p)); err != nil {
			t.Error(err)
		}
	}
}

// TestTrainChecksFirst (findings 6, 7 and 8): bad input is refused before
// the device opens or anything trains, with a message naming the flag.
func TestTrainChecksFirst(t *testing.T) {
	root := t.TempDir()
	notADir := filepath.Join(root, "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		code  int
		words []string
	}{
		{[]string{"--method", "tailor"}, exitUsage, []string{"--loss"}},
		{[]string{"--method", "tailor", "--loss", "p^2", "--inner-lr", "-1"}, exitUsage, []string{"--inner-lr -1"}},
		{[]string{"--method", "tailor", "--loss", "x^2 + p^2"}, exitUsage, []string{"x is neither q nor p", "--loss-param x="}},
		{[]string{"--report", filepath.Join(notADir, "r.json")}, exitError, []string{"--report"}},
		{[]string{"--inner-steps", "0", "--method", "noether"}, exitUsage, []string{"--inner-steps 0"}},
		{[]string{"--epochs", "-3"}, exitUsage, []string{"--epochs -3"}},
		{[]string{"--batch", "-5"}, exitUsage, []string{"--batch -5"}},
		{[]string{"--baseline-steps", "-5"}, exitUsage, []string{"--baseline-steps -5"}},
		{[]string{"--method", ""}, exitUsage, []string{`--method ""`}},
		{[]string{"--method", "tailor", "--loss", "q + p"}, exitUsage, []string{"units"}},
		{[]string{"--method", "tailor", "--loss", "p^2 - c*cos(q)", "--loss-param", "c=3", "--loss-param", "k=1"}, exitUsage, []string{"no parameter k"}},
		{[]string{"--method", "vanilla", "--loss", "p^2"}, exitUsage, []string{"--loss is for"}},
		{[]string{"--meta-lr", "NaN"}, exitUsage, []string{"--meta-lr NaN"}},
	} {
		dir := filepath.Join(root, "run")
		_, err := tiny(t, dir, c.args...)
		wantRefused(t, fmt.Sprint(c.args), err, c.code, c.words...)
		if _, err := os.Stat(filepath.Join(dir, "baseline")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v: a baseline was trained before the refusal", c.args)
		}
	}
	data := filepath.Join(root, "real.txt")
	realPendulumFile(t, data, 1e20)
	_, err := tiny(t, filepath.Join(root, "real"), "--task", "real-pendulum", "--data", data)
	wantRefused(t, "a value of 1e20", err, exitError, "real.txt:21: value 1e+20", "outside any plausible range")
}

// TestTrainDamagedCheckpoint (findings 7 and 8): a checkpoint whose header
// was damaged or hand-edited is refused as damaged on --resume.
func TestTrainDamagedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if _, err := tiny(t, dir); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "baseline", rundir.CheckpointName)
	good, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	for _, edit := range [][2]string{{`"F32"`, `"F33"`}, {`"epoch":"5"`, `"epoch":"9"`}} {
		if !bytes.Contains(good, []byte(edit[0])) {
			t.Fatalf("the checkpoint's header lacks %s", edit[0])
		}
		if err := os.WriteFile(ck, bytes.Replace(good, []byte(edit[0]), []byte(edit[1]), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := tiny(t, dir, "--resume")
		wantRefused(t, "resuming from a checkpoint edited "+edit[1], err, exitError, "corrupt checkpoint", "damaged", "--overwrite")
		if err != nil && strings.Contains(err.Error(), "dtype") {
			t.Errorf("damage reported as a dtype problem: %v", err)
		}
	}
}
