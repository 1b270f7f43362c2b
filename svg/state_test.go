package svg_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
	"github.com/noether-vk/noether-vk/svg"
)

// TestRunningStatistics: in training, the passes chain BatchNorm's
// running statistics through every application in turn, as PyTorch's
// successive calls update them. With the same frame at every step, each
// encoder layer sees the same batch n = T-1 times, so its running mean
// must be (1 - 0.9^n) times the batch mean b and its running variance
// 0.9^n + (1 - 0.9^n) v, where one step's update gives 0.1 b and
// 0.9 + 0.1 v.
func TestRunningStatistics(t *testing.T) {
	cfg := tiny(svg.VGG)
	cfg.Norm, cfg.Variant = svg.BatchNorm, svg.Deterministic
	const batch = 2
	d := declare(t, cfg, batch)
	sequence := d.m.Context(d.g, nil, nil)
	sequence.Train = true
	d.predict(t, sequence, false)
	if sequence.Params != nil {
		t.Errorf("TeacherForced left %d tensors in the caller's Context.Params", len(sequence.Params))
	}
	step := d.m.Context(d.g, nil, nil)
	step.Train = true
	if _, _, err := d.m.Step(step, d.m.Start(d.g, batch), svg.StepInputs{Index: 1, Input: d.in.Frames[0], Action: d.in.Actions[0]}); err != nil {
		t.Fatal(err)
	}
	var names []string
	var outs []*graph.Node
	for _, s := range d.m.State() {
		if strings.HasPrefix(s.Name, "encoder.") {
			names = append(names, s.Name)
			outs = append(outs, sequence.NewState[s.Name], step.NewState[s.Name])
		}
	}
	if len(sequence.NewState) != len(d.m.State()) {
		t.Errorf("the sequence's new state has %d tensors, want %d", len(sequence.NewState), len(d.m.State()))
	}
	rng := rand.New(rand.NewPCG(6, 6))
	feeds := testFeeds(rng, d.m, batch)
	frame := len(feeds[svg.FramesInput]) / cfg.Frames()
	for f := 1; f < cfg.Frames(); f++ {
		copy(feeds[svg.FramesInput][f*frame:], feeds[svg.FramesInput][:frame])
	}
	out := graphtest.Run(t, onCPU(t, d.g, d.m.Init(rng), outs...), feeds)
	decay := float32(math.Pow(0.9, float64(cfg.Frames()-1)))
	for i, name := range names {
		seq, once := out[2*i], out[2*i+1]
		want := make([]float32, len(once))
		for j, r := range once {
			if strings.HasSuffix(name, "running_var") {
				want[j] = decay + (1-decay)*(r-0.9)/0.1
			} else {
				want[j] = (1 - decay) * r / 0.1
			}
		}
		kerneltest.Near(t, name+" after the sequence", seq, want, kerneltest.F32Reduce)
	}
}
