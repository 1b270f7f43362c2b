package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/sweep"
)

// tinySweep is three short points: two methods of seed 0, which share a
// baseline, and one of seed 1.
const tinySweep = `{
  "numbers": ["test_rmse", "train_rmse"],
  "common": {"baseline-steps": 5},
  "grids": [
    {"task": "pendulum", "seed": 0, "method": "vanilla"},
    {"task": "pendulum", "seed": 0, "method": "tailor", "loss": "p^2 - 3*cos(q)", "inner-lr": 1},
    {"task": "pendulum", "seed": 1, "method": "vanilla"}
  ]
}`

func writeSweep(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "tiny.json")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readTable(t *testing.T, path string) sweep.Table {
	t.Helper()
	return mustReadJSON[sweep.Table](t, path)
}

// TestSweepShardsMerge runs a sweep as a two-task Slurm array (--shard
// auto), merges it, and compares the table with train run directly: the
// same numbers to the last bit. A second run skips every point; a point
// whose run was killed after its baseline is the only one run again, to
// the same numbers.
func TestSweepShardsMerge(t *testing.T) {
	dir := t.TempDir()
	file, out := writeSweep(t, dir, tinySweep), filepath.Join(dir, "runs")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "2")
	t.Setenv("SLURM_ARRAY_TASK_MIN", "0")
	t.Setenv("SLURM_ARRAY_TASK_MAX", "1")
	// Shard 0 runs seed 0's vanilla, shard 1 its tailor (which borrows
	// vanilla's baseline) and seed 1's vanilla.
	for _, id := range []string{"0", "1"} {
		t.Setenv("SLURM_ARRAY_TASK_ID", id)
		if _, err := runApp(t, "sweep", "run", file, "--shard", "auto", "--out", out); err != nil {
			t.Fatal(err)
		}
	}
	got, err := runApp(t, "sweep", "merge", file, "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "| pendulum | tailor | 1 | p^2 - 3*cos(q) | 0 |") {
		t.Errorf("merged table:\n%s", got)
	}
	tab := readTable(t, filepath.Join(out, "table.json"))
	if len(tab.Rows) != 2 || strings.Join(tab.Rows[0].Seeds, ",") != "0,1" {
		t.Fatalf("table rows %+v", tab.Rows)
	}
	lender, err := os.ReadFile(filepath.Join(out, "pendulum", "vanilla", "seed0", "baseline", rundir.CheckpointName))
	if err != nil {
		t.Fatal(err)
	}
	borrower, err := os.ReadFile(filepath.Join(tab.Rows[1].RunFolders[0], "baseline", rundir.CheckpointName))
	if err != nil || string(borrower) != string(lender) {
		t.Errorf("tailor's baseline is not vanilla's (%v)", err)
	}

	report := filepath.Join(dir, "direct.json")
	if _, err := runApp(t, "train", "--method", "vanilla,tailor", "--loss", "p^2 - 3*cos(q)", "--inner-lr", "1", "--baseline-steps", "5",
		"--out", filepath.Join(dir, "direct"), "--report", report); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var direct trainReport
	if err := json.Unmarshal(raw, &direct); err != nil {
		t.Fatal(err)
	}
	for i, r := range direct.Runs {
		st := tab.Rows[i].Stats
		if st["test_rmse"].Values[0] != *r.TestRMSE || st["train_rmse"].Values[0] != *r.TrainRMSE {
			t.Errorf("%s: sweep %v / %v, train %v / %v", r.Method, st["test_rmse"].Values[0], st["train_rmse"].Values[0], *r.TestRMSE, *r.TrainRMSE)
		}
	}

	got, err = runApp(t, "sweep", "run", file, "--out", out)
	if err != nil || !strings.Contains(got, "3 points: 3 complete already, 0 run (0 from another point's baseline), 0 failed") {
		t.Errorf("second run: %v\n%s", err, got)
	}
	// Kill the tailor point after its baseline: its result is gone and
	// its last command never ended.
	killed := tab.Rows[1].RunFolders[0]
	m, err := rundir.ReadManifest(killed)
	if err != nil {
		t.Fatal(err)
	}
	delete(m.Results, "tailor")
	m.Commands[len(m.Commands)-1].State = rundir.StateRunning
	if err := m.Write(killed); err != nil {
		t.Fatal(err)
	}
	got, err = runApp(t, "sweep", "list", file, "--out", out)
	if err != nil || !strings.Contains(got, "no result yet: its last run is running or was killed") || !strings.Contains(got, "2 of 3 complete") {
		t.Errorf("list: %v\n%s", err, got)
	}
	if _, err := runApp(t, "sweep", "merge", file, "--out", out); err == nil || !strings.Contains(err.Error(), "1 of 3 points are not complete") {
		t.Errorf("merge with a killed point: %v", err)
	}
	got, err = runApp(t, "sweep", "run", file, "--out", out)
	if err != nil || !strings.Contains(got, "3 points: 2 complete already, 1 run") {
		t.Errorf("rerun: %v\n%s", err, got)
	}
	if _, err := runApp(t, "sweep", "merge", file, "--out", out); err != nil {
		t.Fatal(err)
	}
	again := readTable(t, filepath.Join(out, "table.json"))
	if a, b := again.Rows[1].Stats["test_rmse"].Values[0], tab.Rows[1].Stats["test_rmse"].Values[0]; a != b {
		t.Errorf("the rerun point's test RMSE is %v, was %v", a, b)
	}
}

// TestSweepRefuses: a wrong sweep or shard is refused before anything
// runs, with exit status 2 and what is wrong; without a device the sweep
// stops at its first point.
func TestSweepRefuses(t *testing.T) {
	dir := t.TempDir()
	good := writeSweep(t, dir, tinySweep)
	badFlag := filepath.Join(dir, "bad-flag.json")
	if err := os.WriteFile(badFlag, []byte(`{"grids": [{"task": "spring", "method": "vanilla", "seed": 0, "speed": 3}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	badMethod := filepath.Join(dir, "bad-method.json")
	if err := os.WriteFile(badMethod, []byte(`{"grids": [{"task": "spring", "method": ["tailor", "vanilla"], "seed": 0}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, unset := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_JOB_ID", "JOB_COMPLETION_INDEX"} {
		if v, ok := os.LookupEnv(unset); ok {
			os.Unsetenv(unset)
			t.Cleanup(func() { os.Setenv(unset, v) })
		}
	}
	for _, tc := range []struct {
		args  []string
		words []string
	}{
		{[]string{"sweep", "run"}, []string{"name one sweep file"}},
		{[]string{"sweep", "run", filepath.Join(dir, "none.json")}, []string{"no such file"}},
		{[]string{"sweep", "run", badFlag}, []string{"point 1", "speed"}},
		{[]string{"sweep", "list", badMethod}, []string{"1 of 2 points are wrong", "method=tailor", "--loss"}},
		{[]string{"sweep", "run", good, "--shard", "auto"}, []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"}},
		{[]string{"sweep", "run", good, "--shard", "2/2"}, []string{"0 <= i < N"}},
	} {
		_, err := runApp(t, tc.args...)
		wantRefused(t, strings.Join(tc.args, " "), err, exitUsage, tc.words...)
	}
	// No device: the first point's error ends the sweep (exit status 3).
	out, err := runApp(t, "--device", "no-such-device", "sweep", "run", good, "--out", filepath.Join(dir, "runs"))
	wantRefused(t, "no device", err, exitNoDevice, "no-such-device")
	if !strings.Contains(out, "1 run (0 from another point's baseline), 1 failed") {
		t.Errorf("no device: not stopped at the first point:\n%s", out)
	}
}
