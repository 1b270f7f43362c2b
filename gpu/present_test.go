package gpu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
)

// TestChoosePresenting: the device asked for presents when it can; a GPU
// that cannot present (NVIDIA under Xvfb) gives way to one that can
// (lavapipe), and the note says so.
func TestChoosePresenting(t *testing.T) {
	infos := gpu.MarkUsable([]gpu.Info{
		{Index: 0, Name: "llvmpipe", Type: gpu.TypeCPU},
		{Index: 1, Name: "NVIDIA H200", Type: gpu.TypeDiscrete},
		{Index: 2, Name: "Intel UHD", Type: gpu.TypeIntegrated},
	})
	for _, c := range []struct {
		name     string
		presents []bool
		sel      string
		want     int
		note     string
	}{
		{"the best presents", []bool{true, true, true}, "", 1, ""},
		{"the one asked for presents", []bool{true, true, true}, "llvm", 0, ""},
		{"the best cannot", []bool{true, false, true}, "", 2, "NVIDIA H200 cannot present to this display; the viewer composes and presents on Intel UHD"},
		{"the one asked for cannot", []bool{true, false, false}, "1", 0, "NVIDIA H200 cannot present to this display; the viewer composes and presents on llvmpipe"},
		{"none can", []bool{false, false, false}, "", -1, ""},
		{"no such device", []bool{true, true, true}, "radeon", -1, ""},
	} {
		got, note, err := gpu.ChoosePresenting(infos, c.presents, c.sel)
		if got != c.want || note != c.note || (c.want < 0) != (err != nil) {
			t.Errorf("%s: %d, %q, %v; want %d, %q", c.name, got, note, err, c.want, c.note)
		}
		if err != nil && (!errors.Is(err, gpu.ErrNoDevice) || c.name == "none can" && !strings.Contains(err.Error(), "--frames")) {
			t.Errorf("%s: the error %v should wrap ErrNoDevice and, when nothing presents, name --frames", c.name, err)
		}
	}
}
