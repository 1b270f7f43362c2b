package kernels_test

import (
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// TestCPU runs the conformance suite on the reference backend: its
// derivatives must agree with finite differences of its own forward.
func TestCPU(t *testing.T) { kerneltest.Test(t, kernels.CPU{}) }
