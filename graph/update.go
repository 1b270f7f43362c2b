package graph

import (
	"fmt"
	"slices"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// An Update is an optimiser step that a program applies to parameters in
// place at the end of every Run, after all its ops: the gradients are
// computed, optionally clipped by their global norm, and Adam moves the
// parameters. Training then costs one submit per step, with no gradient
// read back. The Adam moments live with the executor (OptimState).
type Update struct {
	Params []*Node // parameters of the graph
	Grads  []*Node // their gradients, same shapes, computed by the program
	Adam   kernels.AdamConfig
	// ClipNorm > 0 first scales the gradients by min(1, ClipNorm/norm),
	// norm being their global L2 norm (PyTorch's clip_grad_norm_).
	// Gradients that are also outputs of the program are read after
	// clipping.
	ClipNorm float32
}

// checkUpdates validates o.Updates against g.
func (g *Graph) checkUpdates(us []Update) error {
	seen := map[*Node]bool{}
	for i, u := range us {
		if len(u.Params) == 0 || len(u.Params) != len(u.Grads) {
			return fmt.Errorf("graph: update %d: %d parameters and %d gradients", i, len(u.Params), len(u.Grads))
		}
		for j, p := range u.Params {
			gr := u.Grads[j]
			if p == nil || p.g != g || p.kind != kindParam {
				return fmt.Errorf("graph: update %d: entry %d is not a parameter of this graph", i, j)
			}
			if gr == nil || gr.g != g {
				return fmt.Errorf("graph: update %d: the gradient of %q is nil or from another graph", i, p.name)
			}
			if !gr.shape.Equal(p.shape) {
				return fmt.Errorf("graph: update %d: gradient of %q has shape %v, parameter %v", i, p.name, gr.shape, p.shape)
			}
			if seen[p] {
				return fmt.Errorf("graph: parameter %q is updated twice", p.name)
			}
			seen[p] = true
		}
		if !(u.ClipNorm >= 0) {
			return fmt.Errorf("graph: update %d: ClipNorm %v (want >= 0)", i, u.ClipNorm)
		}
		if err := u.Adam.Validate(); err != nil {
			return fmt.Errorf("graph: update %d: %w", i, err)
		}
	}
	return nil
}

// OptimState returns the number of optimiser steps taken and the Adam
// moments of every updated parameter, named "<param>.adam_m" and
// "<param>.adam_v", for checkpoints.
func (e *CPUExec) OptimState() (int, map[string][]float32, error) {
	out := map[string][]float32{}
	for _, u := range e.p.updates {
		for _, p := range u.Params {
			out[p.name+".adam_m"] = append([]float32(nil), e.moments[p.name][0]...)
			out[p.name+".adam_v"] = append([]float32(nil), e.moments[p.name][1]...)
		}
	}
	return e.step, out, nil
}

// SetOptimState restores what OptimState returned.
func (e *CPUExec) SetOptimState(step int, m map[string][]float32) error {
	if err := e.p.checkOptimState(step, m); err != nil {
		return err
	}
	for _, u := range e.p.updates {
		for _, p := range u.Params {
			e.moments[p.name] = [2][]float32{append([]float32(nil), m[p.name+".adam_m"]...), append([]float32(nil), m[p.name+".adam_v"]...)}
		}
	}
	e.step = step
	return nil
}

// applyUpdates runs the updates on the CPU after a run.
func (e *CPUExec) applyUpdates(vals map[*Node][]float32) error {
	if len(e.p.updates) == 0 {
		return nil
	}
	e.step++
	var cpu kernels.CPU
	for _, u := range e.p.updates {
		grads := make([][]float32, len(u.Grads))
		for i, gr := range u.Grads {
			grads[i] = vals[gr]
		}
		if u.ClipNorm > 0 {
			clipped, _, err := cpu.ClipGradNorm(grads, u.ClipNorm)
			if err != nil {
				return err
			}
			for i, gr := range u.Grads {
				copy(vals[gr], clipped[i])
			}
			grads = clipped
		}
		for i, p := range u.Params {
			mv := e.moments[p.name]
			np, nm, nv, err := cpu.Adam(e.params[p.name], grads[i], mv[0], mv[1], u.Adam, e.step)
			if err != nil {
				return fmt.Errorf("graph: update of %q: %w", p.name, err)
			}
			e.params[p.name], e.moments[p.name] = np, [2][]float32{nm, nv}
		}
	}
	return nil
}

// checkOptimState validates a restored optimiser state.
func (p *Program) checkOptimState(step int, m map[string][]float32) error {
	if step < 0 {
		return fmt.Errorf("graph: SetOptimState: step %d", step)
	}
	for _, u := range p.updates {
		for _, n := range u.Params {
			for _, k := range []string{n.name + ".adam_m", n.name + ".adam_v"} {
				if len(m[k]) != n.shape.Len() {
					return fmt.Errorf("graph: SetOptimState: %q has %d values, want %d", k, len(m[k]), n.shape.Len())
				}
			}
		}
	}
	return nil
}

// vkUpdate is an Update's device state in a VulkanExec.
type vkUpdate struct {
	u       Update
	sched   *gpu.Buffer   // Adam's step-dependent scalars, rewritten per Run
	m, v    []*gpu.Buffer // moments per parameter
	norm    *gpu.Buffer
	scratch *gpu.Buffer
}

// stateLens are the float32 lengths of an update's device state besides
// the moments (one m and one v per parameter): Adam's schedule and, with
// clipping, the global norm and the clipping's scratch (else 0).
func (u Update) stateLens() (sched, norm, scratch int) {
	sched = len(u.Adam.Schedule(1))
	if u.ClipNorm > 0 {
		lens := make([]int, len(u.Grads))
		for i, gr := range u.Grads {
			lens[i] = gr.shape.Len()
		}
		norm, scratch = 1, kernels.ClipScratch(lens)
	}
	return sched, norm, scratch
}

// gradsRead reports whether anything besides the optimiser reads u's
// gradients after a run: program outputs, or every value with KeepAll.
// Those must hold the clipped gradients, as the CPU executor's do. u is
// one of p.updates, whose gradients, like p.outputs, are already the nodes
// that compute them.
func (p *Program) gradsRead(u Update) bool {
	if p.keepAll {
		return true
	}
	for _, gr := range u.Grads {
		if slices.Contains(p.outputs, gr) {
			return true
		}
	}
	return false
}

// recordUpdates records the updates after the program's ops.
func (e *VulkanExec) recordUpdates(r *gpu.Recorder) error {
	for _, u := range e.p.updates {
		vu := &vkUpdate{u: u}
		sched, norm, scratch := u.stateLens()
		var err error
		if vu.sched, err = e.alloc(sched); err != nil {
			return err
		}
		grads := make([]*gpu.Buffer, len(u.Grads))
		lens := make([]int, len(u.Grads))
		for i, gr := range u.Grads {
			grads[i], lens[i] = e.bufs[gr], gr.shape.Len()
		}
		var clip *kernels.Clip
		if u.ClipNorm > 0 {
			if vu.norm, err = e.alloc(norm); err != nil {
				return err
			}
			if vu.scratch, err = e.alloc(scratch); err != nil {
				return err
			}
			if e.p.gradsRead(u) {
				err = e.v.RecordClipGradNorm(r, grads, lens, u.ClipNorm, vu.norm, vu.scratch)
			} else {
				// Only Adam reads these gradients: it scales them as it
				// reads, saving a pass over each.
				err = e.v.RecordGradNorm(r, grads, lens, vu.norm, vu.scratch)
				clip = &kernels.Clip{Norm: vu.norm, MaxNorm: u.ClipNorm}
			}
			if err != nil {
				return fmt.Errorf("graph: update: %w", err)
			}
		}
		ts := make([]kernels.AdamTensor, len(u.Params))
		for i, p := range u.Params {
			m, err := e.alloc(lens[i])
			if err != nil {
				return err
			}
			v, err := e.alloc(lens[i])
			if err != nil {
				return err
			}
			vu.m, vu.v = append(vu.m, m), append(vu.v, v)
			ts[i] = kernels.AdamTensor{P: e.bufs[p], G: grads[i], M: m, V: v, N: lens[i]}
		}
		if err := e.v.RecordAdam(r, u.Adam, vu.sched, ts, clip); err != nil {
			return fmt.Errorf("graph: update of %d parameters from %q: %w", len(ts), u.Params[0].name, err)
		}
		e.updates = append(e.updates, vu)
	}
	return nil
}

// beginUpdates writes the schedule of the step about to run.
func (e *VulkanExec) beginUpdates() error {
	if len(e.updates) == 0 {
		return nil
	}
	e.step++
	for _, vu := range e.updates {
		if err := vu.sched.WriteFloat32(0, vu.u.Adam.Schedule(e.step)); err != nil {
			return err
		}
	}
	return nil
}

// OptimState returns the number of optimiser steps taken and the Adam
// moments of every updated parameter, named "<param>.adam_m" and
// "<param>.adam_v", for checkpoints.
func (e *VulkanExec) OptimState() (int, map[string][]float32, error) {
	out := map[string][]float32{}
	for _, vu := range e.updates {
		for i, p := range vu.u.Params {
			for k, b := range map[string]*gpu.Buffer{".adam_m": vu.m[i], ".adam_v": vu.v[i]} {
				x := make([]float32, p.shape.Len())
				if err := b.ReadFloat32(0, x); err != nil {
					return 0, nil, err
				}
				out[p.name+k] = x
			}
		}
	}
	return e.step, out, nil
}

// SetOptimState restores what OptimState returned.
func (e *VulkanExec) SetOptimState(step int, m map[string][]float32) error {
	if err := e.p.checkOptimState(step, m); err != nil {
		return err
	}
	for _, vu := range e.updates {
		for i, p := range vu.u.Params {
			if err := vu.m[i].WriteFloat32(0, m[p.name+".adam_m"]); err != nil {
				return err
			}
			if err := vu.v[i].WriteFloat32(0, m[p.name+".adam_v"]); err != nil {
				return err
			}
		}
	}
	e.step = step
	return nil
}
