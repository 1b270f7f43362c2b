package graph

import (
	"fmt"
	"slices"
)

// CPUExec runs a program with the kernels' CPU references: for tests and
// cross-checks, not speed.
type CPUExec struct {
	p       *Program
	params  map[string][]float32
	moments map[string][2][]float32 // Adam's m and v per updated parameter
	step    int
}

// OnCPU returns a CPU executor; parameters start at zero.
func (p *Program) OnCPU() *CPUExec {
	e := &CPUExec{p: p, params: map[string][]float32{}, moments: map[string][2][]float32{}}
	for _, n := range p.params {
		e.params[n.name] = make([]float32, n.shape.Len())
	}
	for _, u := range p.updates {
		for _, n := range u.Params {
			e.moments[n.name] = [2][]float32{make([]float32, n.shape.Len()), make([]float32, n.shape.Len())}
		}
	}
	return e
}

// Memory is the host memory the executor needs: it keeps every
// intermediate of a run (Program.Stats' TotalBytes), besides the
// parameters, inputs, constants and Adam moments.
func (e *CPUExec) Memory() MemoryPlan {
	m := MemoryPlan{Peak: e.p.Stats().TotalBytes}
	for _, n := range e.p.order {
		if n.kind == kindInput || n.kind == kindParam || n.kind == kindConst {
			m.Other += int64(4 * n.shape.Len())
		}
	}
	for _, mv := range e.moments {
		m.Other += int64(4 * (len(mv[0]) + len(mv[1])))
	}
	return m
}

// Close implements Executor; the CPU executor holds only Go memory.
func (e *CPUExec) Close() {}

// SetParam sets a parameter's value. A parameter of the graph that this
// program does not use is accepted and ignored, so one set of parameters
// can feed every program compiled from a graph.
func (e *CPUExec) SetParam(name string, v []float32) error {
	cur, ok := e.params[name]
	if !ok {
		return e.p.unusedParam(name)
	}
	if len(v) != len(cur) {
		return fmt.Errorf("graph: SetParam(%q): %d values, want %d", name, len(v), len(cur))
	}
	e.params[name] = slices.Clone(v)
	return nil
}

// Param returns a parameter's value.
func (e *CPUExec) Param(name string) ([]float32, error) {
	v, ok := e.params[name]
	if !ok {
		return nil, fmt.Errorf("graph: Param: the program has no parameter %q", name)
	}
	return slices.Clone(v), nil
}

// Run computes the outputs, then applies the program's updates.
func (e *CPUExec) Run(feeds map[string][]float32) ([][]float32, error) {
	vals, err := e.values(feeds)
	if err != nil {
		return nil, err
	}
	if err := e.applyUpdates(vals); err != nil {
		return nil, err
	}
	out := make([][]float32, len(e.p.outputs))
	for i, o := range e.p.outputs {
		out[i] = slices.Clone(vals[o])
	}
	return out, nil
}

// values computes every scheduled node.
func (e *CPUExec) values(feeds map[string][]float32) (map[*Node][]float32, error) {
	if err := e.p.checkFeeds(feeds); err != nil {
		return nil, err
	}
	vals := map[*Node][]float32{}
	multi := map[*Node][][]float32{}
	for _, n := range e.p.order {
		switch n.kind {
		case kindInput:
			vals[n] = feeds[n.name]
		case kindParam:
			vals[n] = e.params[n.name]
		case kindConst:
			vals[n] = n.value
		case kindOutput:
			vals[n] = multi[n.in[0]][n.index]
		case kindOp:
			b := e.p.body(n)
			in := make([][]float32, len(b.in))
			for i, x := range b.in {
				in[i] = vals[x]
			}
			outs, err := b.op.CPU(in, b)
			if err != nil {
				return nil, fmt.Errorf("graph: %v: %w", n, err)
			}
			if len(outs) != len(n.outs) {
				return nil, fmt.Errorf("graph: %v: CPU gave %d outputs, want %d", n, len(outs), len(n.outs))
			}
			multi[n] = outs
			if !n.multi() {
				vals[n] = outs[0]
			}
		}
	}
	return vals, nil
}
