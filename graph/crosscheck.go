package graph

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/kernels"
)

// Mismatch is a node whose Vulkan value differs from the CPU executor's.
type Mismatch struct {
	Node     string
	Index    int     // first element out of tolerance
	Got      float32 // Vulkan
	Want     float32 // CPU reference
	MaxError float64 // max |got - want| / max |want| over the node
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s: [%d] = %g, CPU %g (max relative error %.3g)", m.Node, m.Index, m.Got, m.Want, m.MaxError)
}

// CrossCheck runs the program on v and on the CPU with the same parameters
// and inputs and compares every node, in execution order, so the first
// mismatch names the op at fault. The program must be compiled with
// CompileOptions.KeepAll (otherwise intermediates are overwritten). A node
// fails when max |got - want| exceeds rel times max |want| of that node.
func (p *Program) CrossCheck(v *kernels.Vulkan, params, feeds map[string][]float32, rel float64) ([]Mismatch, error) {
	if len(p.slots) > 0 && !p.keepAll {
		return nil, fmt.Errorf("graph: CrossCheck needs a program compiled with KeepAll")
	}
	cpu := p.OnCPU()
	e, err := p.OnVulkan(v, VulkanOptions{})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	for name, val := range params {
		if err := cpu.SetParam(name, val); err != nil {
			return nil, err
		}
		if err := e.SetParam(name, val); err != nil {
			return nil, err
		}
	}
	want, err := cpu.values(feeds)
	if err != nil {
		return nil, err
	}
	if _, err := e.Run(feeds); err != nil {
		return nil, err
	}
	var out []Mismatch
	for _, n := range p.order {
		// Values live in single-output ops and in the outputs of multi-output ones.
		if !(n.kind == kindOp && !n.multi()) && n.kind != kindOutput {
			continue
		}
		got, err := e.Value(n)
		if err != nil {
			return nil, err
		}
		w := want[n]
		var d, scale float64
		first := -1
		for i := range w {
			scale = math.Max(scale, math.Abs(float64(w[i])))
		}
		for i := range w {
			di := math.Abs(float64(got[i]) - float64(w[i]))
			if (di > rel*scale || math.IsNaN(float64(got[i]))) && first < 0 {
				first = i
			}
			d = math.Max(d, di)
		}
		if first >= 0 {
			m := Mismatch{Node: n.String(), Index: first, Got: got[first], Want: w[first]}
			if scale > 0 {
				m.MaxError = d / scale
			}
			out = append(out, m)
		}
	}
	return out, nil
}
