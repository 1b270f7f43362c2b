// Package gputest opens the Vulkan device for tests: the device that
// NOETHER_VK_DEVICE selects, with the validation layer on, closed when the
// test ends, and the test failed on any validation message (including the
// leaks the layer reports when the device is destroyed).
package gputest

import (
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
)

// Open returns the test device.
func Open(t testing.TB) *gpu.Device {
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
	return d
}
