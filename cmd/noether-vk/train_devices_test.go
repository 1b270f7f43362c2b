package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/noether/rundir"
)

// TestTrainDevicesErrors: lists that name no device, an unknown device, a
// batch smaller than the device count and the video task are refused,
// each with the exit status of its kind and a message naming the cause.
func TestTrainDevicesErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--devices", ""}, `--devices "": entry 1 is empty`, exitUsage},
		{[]string{"--devices", "0,,0"}, `--devices "0,,0": entry 2 is empty`, exitUsage},
		{[]string{"--method", "vanilla", "--devices", "0,no-such-device"}, `--devices entry 2 ("no-such-device"): gpu: no usable device matches`, exitNoDevice},
		{[]string{"--method", "vanilla,finetune", "--batch", "1", "--devices", "0,0"}, "the finetune phase's batch of 1 examples cannot be split over 2 devices", exitUsage},
		{[]string{"--task", pixelPendulum, "--devices", "0,0"}, "--devices is for the physics tasks", exitUsage},
	} {
		args := append([]string{"train", "--task", "spring", "--baseline-steps", "1", "--out", out}, c.args...)
		_, err := runApp(t, args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || exitCode(err) != c.code {
			t.Errorf("%v: error %v (exit status %d), want one containing %q and exit status %d", c.args, err, exitCode(err), c.want, c.code)
		}
	}
}

// TestTrainDevicesResume trains on two logical devices (--devices 0,0):
// the RMSEs equal one device's within the tolerance that
// noether/physics's TestDataParallelTraining states (1e-5 relative); a
// run of fewer epochs continued with --resume --devices 0,0 gives the
// uninterrupted numbers exactly; continued on one device (another device
// count is allowed) within the tolerance. The manifest records the
// devices of every command.
func TestTrainDevicesResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains five times")
	}
	dir := t.TempDir()
	train := func(name string, epochs string, extra ...string) methodReport {
		t.Helper()
		args := append([]string{"train", "--task", "spring", "--method", "noether", "--baseline-steps", "10", "--batch", "256", "--seed", "1",
			"--epochs", epochs, "--out", filepath.Join(dir, name), "--report", filepath.Join(dir, name+".json")}, extra...)
		if _, err := runApp(t, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return readReport(t, filepath.Join(dir, name+".json"))
	}
	const tolerance = 1e-5
	near := func(what string, got, want methodReport, tol float64) {
		t.Helper()
		for _, m := range []struct {
			name      string
			got, want float64
		}{{"test", *got.TestRMSE, *want.TestRMSE}, {"train", *got.TrainRMSE, *want.TrainRMSE}} {
			if rel := math.Abs(m.got-m.want) / m.want; m.got != m.want && !(rel <= tol) {
				t.Errorf("%s: %s RMSE %.9g, want %.9g (relative difference %.2g, tolerance %.2g)", what, m.name, m.got, m.want, rel, tol)
			}
		}
	}
	one := train("one", "2")
	whole := train("whole", "2", "--devices", "0,0")
	near("--devices 0,0 against one device", whole, one, tolerance)

	train("cut", "1", "--devices", "0,0")
	if err := os.CopyFS(filepath.Join(dir, "cut-copy"), os.DirFS(filepath.Join(dir, "cut"))); err != nil {
		t.Fatal(err)
	}
	near("resumed with --devices 0,0", train("cut", "2", "--resume", "--devices", "0,0"), whole, 0)
	near("resumed on one device", train("cut-copy", "2", "--resume"), whole, tolerance)

	m, err := rundir.ReadManifest(filepath.Join(dir, "cut"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Commands) != 2 {
		t.Fatalf("the resumed run's manifest records %d commands, want 2", len(m.Commands))
	}
	for i, c := range m.Commands {
		if len(c.Devices) != 2 || c.Devices[0] != c.Devices[1] || !strings.HasPrefix(c.Devices[0], "0: ") {
			t.Errorf("command %d's devices: %q, want device 0 twice", i, c.Devices)
		}
	}
}
