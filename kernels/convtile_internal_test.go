package kernels

import (
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
)

// TestConvTileByDevice: CPU devices get the tile tuned on lavapipe, every
// other kind GPUConvTile, NOETHER_VK_CONV_TILE overriding either; and
// GPUConvTile's weight gradient keeps at most 64 accumulators per
// invocation at the models' shapes (NVIDIA's compiler did not build
// CPUConvTile's 320).
func TestConvTileByDevice(t *testing.T) {
	for _, c := range []struct {
		typ  gpu.DeviceType
		env  string
		want ConvTile
	}{
		{gpu.TypeCPU, "", CPUConvTile},
		{gpu.TypeDiscrete, "", GPUConvTile},
		{gpu.TypeIntegrated, "", GPUConvTile},
		{gpu.TypeDiscrete, "cpu", CPUConvTile},
		{gpu.TypeCPU, "gpu", GPUConvTile},
	} {
		t.Setenv("NOETHER_VK_CONV_TILE", c.env)
		if got := NewVulkan(&gpu.Device{Info: gpu.Info{Type: c.typ}}).ConvTile; got != c.want {
			t.Errorf("%v, NOETHER_VK_CONV_TILE=%q: %+v, want %+v", c.typ, c.env, got, c.want)
		}
	}
	for _, p := range []ConvParams{
		{N: 2, C: 6, H: 64, W: 64, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{N: 2, C: 32, H: 32, W: 32, K: 64, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{N: 8, C: 128, H: 16, W: 16, K: 256, KH: 4, KW: 4, Stride: 2, Pad: 1},
	} {
		g, err := p.geom(false)
		if err != nil {
			t.Fatal(err)
		}
		wc, tm, _, _, _ := wgradTile(GPUConvTile, g)
		if n := wc * tm * g.KW; n > 64 {
			t.Errorf("%v: GPUConvTile's weight gradient keeps %d accumulators, want at most 64", p, n)
		}
	}
}
