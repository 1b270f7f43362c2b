package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
)

func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	err := app.Run(append([]string{"noether-vk"}, args...))
	return out.String(), err
}

func TestDevices(t *testing.T) {
	out, err := runApp(t, "devices")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "* 0:") || !strings.Contains(out, "subgroup size") || !strings.Contains(out, "live viewer:") {
		t.Errorf("devices output lacks the selected device or its facts:\n%s", out)
	}
}

func TestDevicesJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devices.json")
	if _, err := runApp(t, "devices", "--json", path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Devices []map[string]any `json:"devices"`
		Window  map[string]any   `json:"window"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Devices) == 0 || doc.Window == nil {
		t.Fatalf("devices JSON = %s", data)
	}
	for _, key := range []string{"name", "type", "driver_name", "api_version", "heaps", "subgroup_size", "max_workgroup_size",
		"max_workgroup_count", "shared_memory_bytes", "float32_atomic_add", "shader_float16", "selected"} {
		if _, ok := doc.Devices[0][key]; !ok {
			t.Errorf("device JSON lacks %q", key)
		}
	}
}

func TestUnknownDevice(t *testing.T) {
	out, err := runApp(t, "--device", "no-such-gpu", "devices")
	if !errors.Is(err, gpu.ErrNoDevice) || exitCode(err) != 3 {
		t.Fatalf("err = %v (exit %d), want ErrNoDevice and exit 3", err, exitCode(err))
	}
	if !strings.Contains(out, "0:") {
		t.Errorf("an unmatched --device should still list the devices:\n%s", out)
	}
}

func TestBadValidateFlag(t *testing.T) {
	if _, err := runApp(t, "--validate", "maybe", "devices"); err == nil || !strings.Contains(err.Error(), "--validate") {
		t.Errorf("err = %v", err)
	}
}

func TestSelftest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "selftest.json")
	out, err := runApp(t, "--validate", "on", "selftest", "--ops", "tanh,relu", "--json", path)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "0 failed") || !strings.Contains(out, "0 validation messages") {
		t.Errorf("selftest output:\n%s", out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Device  string           `json:"device"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Device == "" || len(doc.Results) != 10 { // 2 ops x (forward, vjp, jvp, hvp, hvp-symmetry)
		t.Fatalf("selftest JSON: device %q, %d results", doc.Device, len(doc.Results))
	}
	for _, r := range doc.Results {
		if len(r) != 6 {
			t.Errorf("result keys %v, want exactly op, check, pass, max_abs_err, max_rel_err, tol", r)
		}
		if r["pass"] != true {
			t.Errorf("failed: %v", r)
		}
	}
	if _, err := runApp(t, "selftest", "--ops", "no_such_op"); err == nil || !strings.Contains(err.Error(), "unknown op") {
		t.Errorf("unknown op: err = %v", err)
	}
}
