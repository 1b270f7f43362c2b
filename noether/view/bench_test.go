package view

import (
	"math"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels/compose"
)

// pendulumLike is a run shaped like the one `make run` writes: three
// methods' rollouts of 6 test examples over 45 steps, a baseline of 2000
// epochs and two phases of 50.
func pendulumLike() *Run {
	r := &Run{Task: "pendulum", Dir: "runs/pendulum-seed0"}
	for k, m := range []string{"vanilla", "finetune", "noether"} {
		o := Rollout{Method: m, Shape: []int{2}}
		for i := range 6 {
			var truth, pred [][]float32
			for s := range 45 {
				a := float64(s) / 7
				truth = append(truth, []float32{float32(math.Cos(a)), float32(math.Sin(a))})
				g := 1 + 0.01*float64(k*s)
				pred = append(pred, []float32{float32(g * math.Cos(a+0.01*float64(i))), float32(g * math.Sin(a))})
				if i == 0 {
					o.StepRMSE = append(o.StepRMSE, 0.001*float64((k+1)*s))
				}
			}
			o.Truth, o.Pred = append(o.Truth, truth), append(o.Pred, pred)
		}
		r.Rollouts = append(r.Rollouts, o)
	}
	for _, p := range []struct {
		name string
		n    int
	}{{"baseline", 2000}, {"finetune", 50}, {"noether", 50}} {
		ph := Phase{Name: p.name, Epochs: p.n, Epoch: p.n}
		for e := range p.n {
			ph.Losses = append(ph.Losses, 6/float64(e+1))
		}
		r.Phases = append(r.Phases, ph)
	}
	return r
}

// BenchmarkComposePendulum960x600 lays out and composes one frame of a
// pendulum run on the device, as the viewer does for every frame.
func BenchmarkComposePendulum960x600(b *testing.B) {
	// Not gputest.Open: the validation layer would be timed too.
	d, err := gpu.Open(gpu.OptionsFromEnv())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	c, err := compose.NewComposer(d)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := pendulumLike()
	var st State
	for i := 0; b.Loop(); i++ {
		st.Step = i % 45
		if _, err := c.Compose(Scene(r, &st, 960, 600)); err != nil {
			b.Fatal(err)
		}
	}
}
