package window

import (
	"fmt"

	"github.com/go-gl/glfw/v3.3/glfw"
)

// Presentation says whether a Vulkan window can be opened.
type Presentation struct {
	Available bool `json:"available"`
	// Reason explains an unavailable window and what to do about it.
	Reason string `json:"reason,omitempty"`
	// GLFW is the GLFW version string.
	GLFW string `json:"glfw"`
	// InstanceExtensions are the Vulkan instance extensions a window surface needs.
	InstanceExtensions []string `json:"instance_extensions,omitempty"`
}

// Probe initialises GLFW, asks whether it can create Vulkan surfaces, and
// terminates it again.
func Probe() Presentation {
	p := Presentation{GLFW: glfw.GetVersionString()}
	// Without a display glfw.Init logs an error yet returns nil, and the
	// next call panics; so look for a display first.
	if err := haveDisplay(); err != nil {
		p.Reason = err.Error()
		return p
	}
	if err := glfw.Init(); err != nil {
		p.Reason = fmt.Sprintf("GLFW could not initialise: %v", err)
		return p
	}
	defer glfw.Terminate()
	if !glfw.VulkanSupported() {
		p.Reason = "GLFW found no Vulkan loader able to present: install libvulkan1 and a driver"
		return p
	}
	// A method in the binding, but it queries GLFW globally; no window is needed.
	var none *glfw.Window
	p.InstanceExtensions = none.GetRequiredInstanceExtensions()
	p.Available = len(p.InstanceExtensions) > 0
	if !p.Available {
		p.Reason = "the Vulkan loader offers no window-surface extension for this display"
	}
	return p
}
