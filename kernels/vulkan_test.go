package kernels_test

import (
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// openVulkan is the backend on the validated test device (see gputest).
func openVulkan(t testing.TB) *kernels.Vulkan { return kernels.NewVulkan(gputest.Open(t)) }

// TestVulkan runs the conformance suite on the selected Vulkan device.
func TestVulkan(t *testing.T) { kerneltest.Test(t, openVulkan(t)) }
