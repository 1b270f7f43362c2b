package physics

import (
	"math"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// springField is the ideal spring's true field, dx/dt = (2p, -2q), as a
// fixed model (nothing adapts).
type springField struct{}

func (springField) Start(*graph.Graph, []*graph.Node, int) []*graph.Node          { return nil }
func (springField) Fold(*graph.Graph, []*graph.Node, []*graph.Node) []*graph.Node { return nil }
func (springField) Apply(g *graph.Graph, _, _ []*graph.Node, x *graph.Node) *graph.Node {
	return g.MatMul(x, g.Const([]float32{0, -2, 2, 0}, 2, 2))
}

// springEnergy is H = q^2 + p^2 as a one-dimensional embedding.
type springEnergy struct{}

func (springEnergy) Params() []nn.ParamSpec { return nil }
func (springEnergy) Apply(g *graph.Graph, _ []*graph.Node, x *graph.Node) *graph.Node {
	return g.Reshape(g.Sum(g.Square(x), 1), x.Shape()[0], 1)
}

// TestStepSchemeTrueField: for the spring's true field and energy the
// central step's Noether loss is zero, while the paper's forward step
// gives (dt^2 |f|^2)^2 = 16 dt^4 H^2, the bias that makes tailoring damp.
func TestStepSchemeTrueField(t *testing.T) {
	states := []float32{0.3, -0.8, 1, 0.5, -0.2, 0.1}
	const dt = 0.1
	for _, scheme := range []StepScheme{CentralStep, ForwardStep} {
		t.Run(scheme.String(), func(t *testing.T) {
			g := graph.New()
			x := g.Input("x", 3, 2)
			p := &StepProblem{Adapt: springField{}, Embed: springEnergy{}, DT: dt, Scheme: scheme, X: x}
			prog, err := g.Compile(graph.CompileOptions{}, p.Inner(g, nil, nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			out, err := prog.OnCPU().Run(map[string][]float32{"x": states})
			if err != nil {
				t.Fatal(err)
			}
			for i, got := range out[0] {
				h := float64(states[2*i]*states[2*i] + states[2*i+1]*states[2*i+1])
				want := 0.0
				if scheme == ForwardStep {
					want = 16 * math.Pow(dt, 4) * h * h
				}
				if math.Abs(float64(got)-want) > 1e-6*(1+want) {
					t.Errorf("example %d: loss %.3g, want %.3g", i, got, want)
				}
			}
		})
	}
}

func TestParseStepScheme(t *testing.T) {
	for in, want := range map[string]StepScheme{"central": CentralStep, "forward": ForwardStep, "euler": ForwardStep} {
		if got, err := ParseStepScheme(in); err != nil || got != want {
			t.Errorf("ParseStepScheme(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseStepScheme("backward"); err == nil {
		t.Error("ParseStepScheme(backward): no error")
	}
}
