package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph/safetensors"
	"github.com/noether-vk/noether-vk/noether/gradcam"
)

// TestGradCAM maps the run folder of the smallest pixel-pendulum train
// (8x8 frames, 4-frame windows: 3 pairs, the PCA fitting the last of
// each): the variance table is printed and the three files are written
// with the viewer's shapes; folders it cannot use are refused with exit
// status 2, before any device work.
func TestGradCAM(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	if _, err := runApp(t, append(tinyVideo, "--method", "noether", "--out", dir)...); err != nil {
		t.Fatal(err)
	}
	out, err := runApp(t, "gradcam", "--run", dir, "--sequences", "4,0", "--components", "3")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"PCA of 195 embeddings", "PC1", "PC3", "83.6%", "figure5.png"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	f, err := safetensors.ReadFile(filepath.Join(dir, gradcam.Folder, gradcam.MapsName))
	if err != nil {
		t.Fatal(err)
	}
	for name, shape := range map[string][]int{"frames": {2, 3, 3, 8, 8}, "heat": {3, 2, 3, 8, 8}, "explained": {3}, "sequences": {2}} {
		if got := f.Tensors[name].Shape; !slices.Equal(got, shape) {
			t.Errorf("%s: shape %v, want %v", name, got, shape)
		}
	}
	if s := f.Tensors["sequences"].Data; s[0] != 4 || s[1] != 0 {
		t.Errorf("sequences %v, want [4 0]", s)
	}

	other := filepath.Join(root, "elsewhere")
	if _, err := runApp(t, "gradcam", "--run", dir, "--out", other, "--steps", "1,2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(other, gradcam.FigureName)); err != nil {
		t.Errorf("--out: %v", err)
	}

	physics := filepath.Join(root, "physics")
	if _, err := tiny(t, physics); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what  string
		args  []string
		code  int
		words []string
	}{
		{"no --run", []string{"gradcam"}, exitUsage, []string{"no --run", "--task pixel-pendulum"}},
		{"an empty folder", []string{"gradcam", "--run", root}, exitUsage, []string{"not a run folder"}},
		{"a physics run", []string{"gradcam", "--run", physics}, exitUsage, []string{`task "pendulum"`, "--task pixel-pendulum"}},
		{"a step beyond the sequence", []string{"gradcam", "--run", dir, "--steps", "3"}, exitUsage, []string{"step 3", "pairs 0 to 2"}},
		{"a sequence beyond the test set", []string{"gradcam", "--run", dir, "--sequences", "195"}, exitUsage, []string{"test sequence 195", "0 to 194"}},
		{"no components", []string{"gradcam", "--run", dir, "--components", "0"}, exitUsage, []string{"--components 0"}},
	} {
		_, err := runApp(t, c.args...)
		wantRefused(t, c.what, err, c.code, c.words...)
	}
}
