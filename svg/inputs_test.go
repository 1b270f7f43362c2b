package svg_test

import (
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/svg"
)

// TestInputErrors: inputs that do not fit the configuration are refused
// with an error naming the call and the problem.
func TestInputErrors(t *testing.T) {
	cfg := tiny(svg.DCGAN)
	d := declare(t, cfg, 2)
	c := d.m.Context(d.g, nil, nil)
	big := d.g.Input("big", 2, cfg.Channels, 2*cfg.ImageSize, 2*cfg.ImageSize)
	step := func(edit func(*svg.StepInputs)) error {
		in := svg.StepInputs{
			Index: 1, Input: d.in.Frames[0], Target: d.in.Frames[1], Action: d.in.Actions[0],
			PriorEps: d.in.PriorEps[0], PosteriorEps: d.in.PosteriorEps[0],
		}
		edit(&in)
		_, _, err := d.m.Step(c, d.m.Start(d.g, 2), in)
		return err
	}
	sequence := func(rollout bool, edit func(*svg.Inputs)) error {
		in := d.in
		edit(&in)
		build := d.m.TeacherForced
		if rollout {
			build = d.m.Rollout
		}
		_, err := build(c, in)
		return err
	}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"step 0", step(func(in *svg.StepInputs) { in.Index = 0 }), "svg: Step 0: the step index must be at least 1"},
		{"frame size", step(func(in *svg.StepInputs) { in.Input = big }), "svg: Step 1: input frame 2x2x16x16, want Bx2x8x8"},
		{"target size", step(func(in *svg.StepInputs) { in.Target = big }), "target frame 2x2x16x16"},
		{"no action", step(func(in *svg.StepInputs) { in.Action = nil }), "no action (the model is action-conditioned, ActionDim 1)"},
		{"action size", step(func(in *svg.StepInputs) { in.Action = d.in.PriorEps[0] }), "action 2x2, want 2x1"},
		{"no posterior noise", step(func(in *svg.StepInputs) { in.PosteriorEps = nil }), "a target but no posterior noise"},
		{"no target", step(func(in *svg.StepInputs) { in.Target = nil }), "z from the posterior, but no target frame"},
		{"no prior noise", step(func(in *svg.StepInputs) { in.FromPrior, in.PriorEps = true, nil }), "z from the prior, but no prior noise"},
		{"frames", sequence(false, func(in *svg.Inputs) { in.Frames = in.Frames[:3] }), "svg: TeacherForced: 3 frames: want NPast + NFuture = 4"},
		{"rollout frames", sequence(true, func(in *svg.Inputs) { in.Frames = in.Frames[:3] }), "svg: Rollout: 3 frames: want the 2 context frames, or all 4 for the KL"},
		{"actions", sequence(false, func(in *svg.Inputs) { in.Actions = in.Actions[:1] }), "svg: TeacherForced: 1 actions: want one per step, 3"},
		{"prior noise", sequence(true, func(in *svg.Inputs) { in.PriorEps = nil }), "svg: Rollout: 0 prior noise tensors: want one per step, 3"},
		{"posterior noise", sequence(false, func(in *svg.Inputs) { in.PosteriorEps = nil }), "svg: TeacherForced: 0 posterior noise tensors"},
		{"frame in a sequence", sequence(false, func(in *svg.Inputs) {
			in.Frames = append([]*graph.Node{in.Frames[0], big}, in.Frames[2:]...)
		}), "svg: TeacherForced: step 1: target frame 2x2x16x16"},
	}
	for _, tc := range cases {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, tc.err, tc.want)
		}
	}
	p, err := d.m.TeacherForced(c, d.in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.m.Loss(d.g, p, d.in.Frames[:2]); err == nil || !strings.Contains(err.Error(), "svg: Loss: 4 predicted and 2 true frames, want 4") {
		t.Errorf("Loss of too few frames: %v", err)
	}
}
