package nn_test

import (
	"maps"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph/nn"
)

// TestSaveLoad: a parameter set and its state round-trip by name with the
// metadata; loading it for another configuration, or saving values that
// do not match the specs, is an error naming every tensor at fault.
func TestSaveLoad(t *testing.T) {
	model := nn.Sequential{nn.Conv2d{In: 1, Out: 2, Kernel: 3}, nn.BatchNorm{Channels: 2}, nn.Flatten{}, nn.Linear{In: 8, Out: 3}}
	specs := append(model.Params("enc"), nn.State(model, "enc")...)
	values := nn.Init(rand.New(rand.NewPCG(1, 1)), specs)
	path := filepath.Join(t.TempDir(), "params.safetensors")
	if err := nn.Save(path, specs, values, map[string]string{"model": "test"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := nn.Load(path, specs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, values) || meta["model"] != "test" {
		t.Errorf("Load gave %v %v, want %v and the metadata", got, meta, values)
	}

	other := nn.Sequential{nn.Conv2d{In: 1, Out: 2, Kernel: 3}, nn.BatchNorm{Channels: 2}, nn.Flatten{}, nn.Linear{In: 8, Out: 4, NoBias: true}}
	_, _, err = nn.Load(path, append(other.Params("enc"), nn.State(other, "enc")...))
	wantErr(t, "Load for another model", err, "extra: enc.3.bias [3]", "mismatched: enc.3.weight has shape [8 3], want [8 4]")
	_, _, err = nn.Load(path, append(specs, nn.ParamSpec{Name: "enc.4.weight", Shape: []int{2}}))
	wantErr(t, "Load with a tensor more", err, "missing: enc.4.weight [2]")

	bad := maps.Clone(values)
	delete(bad, "enc.0.bias")
	bad["enc.3.weight"] = bad["enc.3.weight"][1:]
	bad["stray"] = []float32{1}
	err = nn.Save(path, specs, bad, nil)
	wantErr(t, "Save of values that do not match", err, "enc.0.bias [2] has no value", "enc.3.weight [8 3] has 23 values", "stray is not one of the specs")
	err = nn.Save(path, append(specs, specs[0]), values, nil)
	wantErr(t, "Save with a name twice", err, "enc.0.weight twice")
}

func wantErr(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not mention %q", what, err, p)
		}
	}
}
