package physics

import (
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether"
)

// Executor is a loaded program: what the runner and the trainer call.
type Executor interface {
	noether.Executor
	Close()
}

// Backend loads compiled programs onto a device.
type Backend interface {
	Load(p *graph.Program) (Executor, error)
}

// Vulkan runs programs on v's device.
func Vulkan(v *kernels.Vulkan) Backend { return vulkanBackend{v} }

type vulkanBackend struct{ v *kernels.Vulkan }

func (b vulkanBackend) Load(p *graph.Program) (Executor, error) {
	return p.OnVulkan(b.v, graph.VulkanOptions{})
}

// CPU runs programs on the CPU executor (the kernels' Go references).
func CPU() Backend { return cpuBackend{} }

type cpuBackend struct{}

func (cpuBackend) Load(p *graph.Program) (Executor, error) { return cpuExec{p.OnCPU()}, nil }

type cpuExec struct{ *graph.CPUExec }

func (cpuExec) Close() {}
