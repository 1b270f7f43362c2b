package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph/safetensors"
)

type expected struct {
	Tensors map[string]struct {
		Shape  []int     `json:"shape"`
		Values []float64 `json:"values"`
	} `json:"tensors"`
	Skipped []string `json:"skipped"`
}

// TestReadsBothFormats reads the state dict testdata/gen.py saved with
// PyTorch in its zip and legacy formats and compares every tensor with the
// values PyTorch printed (float32 exactly: float64 and float16 values were
// converted by PyTorch the same way).
func TestReadsBothFormats(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want expected
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"state.zip.pth", "state.legacy.pth"} {
		got, skipped, err := readPth(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(skipped, want.Skipped) {
			t.Errorf("%s: skipped %v, want %v", file, skipped, want.Skipped)
		}
		if len(got) != len(want.Tensors) {
			t.Errorf("%s: %d tensors, want %d", file, len(got), len(want.Tensors))
		}
		for name, w := range want.Tensors {
			g, ok := got[name]
			if !ok {
				t.Errorf("%s: %s missing", file, name)
				continue
			}
			if !slices.Equal(g.Shape, w.Shape) {
				t.Errorf("%s: %s has shape %v, want %v", file, name, g.Shape, w.Shape)
				continue
			}
			for i, v := range w.Values {
				if g.Data[i] != float32(v) && !(math.IsNaN(v) && math.IsNaN(float64(g.Data[i]))) {
					t.Errorf("%s: %s[%d] = %v, want %v", file, name, i, g.Data[i], v)
					break
				}
			}
		}
	}
}

// TestConvert merges two files into a safetensors file, keeping what
// -include matches, and refuses a name found in both.
func TestConvert(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.safetensors")
	zipped, legacy := filepath.Join("testdata", "state.zip.pth"), filepath.Join("testdata", "state.legacy.pth")
	if err := run(out, `^(features|lin[0-4])\.`, []string{zipped}); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range f.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"features.0.bias", "features.0.weight", "lin0.model.1.weight"}; !slices.Equal(names, want) {
		t.Errorf("tensors %v, want %v", names, want)
	}
	if _, _, err := convert([]string{zipped, legacy}, regexp.MustCompile("^view")); err == nil || !strings.Contains(err.Error(), "in both") {
		t.Errorf("a name in two files: error %v, want one saying so", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pth")
	if err := os.WriteFile(bad, []byte("not a pickle at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readPth(bad); err == nil || !strings.Contains(err.Error(), "bad.pth") {
		t.Errorf("a file that is not PyTorch's: error %v, want one naming it", err)
	}
}
