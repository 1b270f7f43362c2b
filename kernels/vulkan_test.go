package kernels_test

import (
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// openVulkan opens the test device with the validation layer on; any
// validation message fails the test.
func openVulkan(t testing.TB) *kernels.Vulkan {
	t.Helper()
	o := gpu.OptionsFromEnv()
	o.Validate = true
	d, err := gpu.Open(o)
	if err != nil {
		t.Fatalf("gpu.Open: %v", err)
	}
	t.Cleanup(func() {
		d.Close()
		for _, m := range d.Messages() {
			t.Errorf("validation: %s", m)
		}
	})
	return kernels.NewVulkan(d)
}

// TestVulkan runs the conformance suite on the selected Vulkan device.
func TestVulkan(t *testing.T) { kerneltest.Test(t, openVulkan(t)) }
