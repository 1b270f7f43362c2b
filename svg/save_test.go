package svg_test

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/svg"
)

// TestSaveLoad: a model's parameters and state go through a safetensors
// file by name (nn.Save, nn.Load), and a file of another configuration is
// refused, naming the tensors that differ.
func TestSaveLoad(t *testing.T) {
	cfg := tiny(svg.VGG)
	cfg.Norm = svg.BatchNorm
	m := newModel(t, cfg)
	specs := append(m.Params(), m.State()...)
	values := m.Init(rand.New(rand.NewPCG(2, 2)))
	path := filepath.Join(t.TempDir(), "svg.safetensors")
	if err := nn.Save(path, specs, values, map[string]string{"family": cfg.Family.String()}); err != nil {
		t.Fatal(err)
	}
	loaded, meta, err := nn.Load(path, specs)
	if err != nil {
		t.Fatal(err)
	}
	if meta["family"] != "vgg" || len(loaded) != len(specs) {
		t.Errorf("loaded %d tensors and metadata %v", len(loaded), meta)
	}
	for _, s := range specs {
		if !equalFrames([][]float32{loaded[s.Name]}, [][]float32{values[s.Name]}) {
			t.Errorf("%s changed in the round trip", s.Name)
		}
	}

	wider := cfg
	wider.Width = 4
	other := newModel(t, wider)
	_, _, err = nn.Load(path, append(other.Params(), other.State()...))
	if err == nil || !strings.Contains(err.Error(), "encoder.c1.0.main.0.weight") {
		t.Errorf("loading a narrower model's file: %v, want an error naming encoder.c1.0.main.0.weight", err)
	}
}
