package graph

import "github.com/noether-vk/noether-vk/kernels"

// Executor runs a compiled program: *VulkanExec, or *CPUExec for
// reference runs. Code that trains or evaluates takes an Executor so that
// the same loop runs on either.
type Executor interface {
	// Run feeds the inputs, computes the outputs and then applies the
	// program's updates (CompileOptions.Updates): one training step.
	Run(feeds map[string][]float32) ([][]float32, error)
	// SetParam sets a parameter; a parameter of the graph that the program
	// does not use is accepted and ignored, so one set of parameters can
	// feed every program compiled from a graph.
	SetParam(name string, v []float32) error
	// Param returns a parameter's current value.
	Param(name string) ([]float32, error)
	// OptimState returns the optimiser steps taken and the Adam moments,
	// for checkpoints; SetOptimState restores them.
	OptimState() (int, map[string][]float32, error)
	SetOptimState(step int, m map[string][]float32) error
	// Memory is the memory the executor holds, for logs.
	Memory() MemoryPlan
	// Close frees what the executor holds; it must not be used after.
	Close()
}

// A Backend makes executors from programs:
//
//	exe, err := backend.Load(prog)
type Backend interface {
	Load(p *Program) (Executor, error)
	// Name says where programs run, for logs.
	Name() string
}

// VulkanBackend runs programs on a Vulkan device (Program.OnVulkan).
type VulkanBackend struct {
	Kernels *kernels.Vulkan
	Options VulkanOptions
}

// Load implements Backend.
func (b VulkanBackend) Load(p *Program) (Executor, error) { return p.OnVulkan(b.Kernels, b.Options) }

// Name implements Backend.
func (b VulkanBackend) Name() string { return b.Kernels.Name() }

// CPUBackend runs programs with the kernels' CPU references
// (Program.OnCPU): slow, for tests and cross-checks.
type CPUBackend struct{}

// Load implements Backend.
func (CPUBackend) Load(p *Program) (Executor, error) { return p.OnCPU(), nil }

// Name implements Backend.
func (CPUBackend) Name() string { return kernels.CPU{}.Name() }

var (
	_ Executor = (*VulkanExec)(nil)
	_ Executor = (*CPUExec)(nil)
)
