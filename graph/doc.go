// Package graph builds static dataflow graphs of tensor ops, differentiates
// them (reverse mode, forward mode, and forward-over-reverse for
// Hessian-vector products), plans their memory and runs them: on Vulkan by
// recording the whole graph into one command buffer that every Run replays,
// or on the CPU with the kernels' references, for cross-checks.
//
//	g := graph.New()
//	x := g.Input("x", 25, 2)
//	w := g.Param("w", 2, 200)
//	y := g.Tanh(g.MatMul(x, w))
//	loss := g.Mean(g.Square(y))
//	grads := g.Grad(loss, w)                 // reverse mode
//	hv := g.JVP(grads, map[*graph.Node]*graph.Node{w: v}) // forward-over-reverse
//	prog, err := g.Compile(graph.CompileOptions{}, loss, grads[0], hv[0])
//	backend := graph.VulkanBackend{Kernels: kernels.NewVulkan(dev)} // or graph.CPUBackend{}
//	exe, err := backend.Load(prog)                                  // a graph.Executor
//	out, err := exe.Run(map[string][]float32{"x": batch})
//
// Every op's VJP and JVP rules are written as graph ops, so any derivative
// can be differentiated again. The fused ops (cn_affine, lstm_cell, the
// losses, group_norm, batch_norm) have kernels up to the tangent of the
// backward, enough for forward-over-reverse. Max pooling (its argmax a
// second, non-differentiable output) has derivatives linear given the
// argmax; they, nearest upsampling, bilinear resizing, concat and split
// differentiate to any order. The ops Grad-CAM and PCA finish with
// (NormalizeMinMax, SignOfLargest, JetBlend, SymEig) are not
// differentiable: a derivative through one is a graph error. Convolution
// is a closed bilinear family (conv2d, its input gradient
// conv_transpose2d, its weight gradient), each member's VJP and JVP
// written with the others, so it too differentiates to any order.
// Shapes are static; builder errors stick to the graph (Graph.Err) and
// name the op and the shapes.
//
// Compilation drops nodes the outputs do not need, orders the rest
// topologically, reassociates products whose batched operand is a
// shared matrix plus low-rank per-example terms, as per-example weights
// after a gradient step are (reassoc.go: x (W - c u vᵀ) becomes x W -
// c (x u) vᵀ, so the per-example copies are never written;
// CompileOptions.NoReassoc turns it off, and results move by rounding),
// computes once an op that repeats an earlier one on the same operands
// (cse.go; CompileOptions.NoCSE turns it off, the same bits either way),
// fuses chains and small DAGs of elementwise ops into one
// kernel each (fuse.go; CompileOptions.NoFusion turns it off, and the
// results are the same bits either way), and places every intermediate in
// one arena by liveness
// (first fit), reporting the planned peak next to the sum of all tensor
// sizes. The Vulkan executor cuts the arena into as many buffers as the
// device's buffer limit (gpu.Device.MaxBufferSize) requires, no tensor
// straddling two; a tensor larger than a buffer is split by rows into
// pieces, and the ops on it run a block of rows at a time (shard.go). It
// refuses a program larger than the device's memory before allocating
// anything, naming the planned peak and the largest tensors;
// Executor.Memory reports the plan. It records once; the gpu
// recorder inserts barriers only where a hazard exists, and runs a
// program of more than gpu.Device.MaxOpsPerSubmit operations as several
// bounded submissions.
//
// CompileOptions.Updates appends optimiser steps (Adam, optionally after
// global-norm clipping) that move parameters in place at the end of every
// Run, so a training step is one submit with nothing read back but the
// loss; the executors keep the Adam moments (OptimState, SetOptimState).
// On Vulkan, Adam takes several tensors a dispatch, and the clipping's
// scale is applied as Adam reads each gradient unless the program also
// outputs the gradients.
package graph
