package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckDetectsStaleSPIRV: check passes on the committed shaders and
// fails once a .comp is edited without regenerating.
func TestCheckDetectsStaleSPIRV(t *testing.T) {
	if _, err := exec.LookPath("glslc"); err != nil {
		t.Fatal("glslc not installed: run make deps")
	}
	dir := t.TempDir()
	files, err := filepath.Glob("../../shaders/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".comp") || strings.HasSuffix(f, ".glsl") || strings.HasSuffix(f, ".spv") {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := run(dir, "glslc", true); err != nil {
		t.Fatalf("committed shaders reported stale: %v", err)
	}
	src := filepath.Join(dir, "saxpy.comp")
	data, _ := os.ReadFile(src)
	edited := strings.Replace(string(data), "fma(p.alpha, x[i], y[i])", "p.alpha * x[i] - y[i]", 1)
	if edited == string(data) {
		t.Fatal("test edit did not apply")
	}
	if err := os.WriteFile(src, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(dir, "glslc", true)
	if err == nil || !strings.Contains(err.Error(), "saxpy.spv") {
		t.Fatalf("edited saxpy.comp: check returned %v, want a stale saxpy.spv", err)
	}
	// Regenerating makes it pass again.
	if err := run(dir, "glslc", false); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, "glslc", true); err != nil {
		t.Fatalf("after regenerating: %v", err)
	}
}
