package video_test

import (
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/video"
	"github.com/noether-vk/noether-vk/svg"
)

// TestCheck: bad configurations are refused before anything runs, each
// with an error naming the problem.
func TestCheck(t *testing.T) {
	if _, err := video.Preset(video.PixelPendulum, "huge"); err == nil || !strings.Contains(err.Error(), `unknown preset "huge"`) {
		t.Errorf("Preset(huge): %v", err)
	}
	if _, err := video.Preset("moon", "default"); err == nil || !strings.Contains(err.Error(), `task "moon"`) {
		t.Errorf("Preset(moon): %v", err)
	}
	for _, task := range video.Tasks() {
		for _, name := range video.PresetNames() {
			c, err := video.Preset(task, name)
			if err != nil {
				t.Fatal(err)
			}
			c.Backend, c.Dir, c.Phys101.Root = graph.CPUBackend{}, t.TempDir(), t.TempDir()
			methods := video.Methods()
			if c.NoetherFromScratch {
				methods = []video.Method{video.SVG, video.Noether}
			}
			if err := c.Check(methods...); err != nil {
				t.Errorf("task %s, preset %s: %v", task, name, err)
			}
		}
	}
	for _, tc := range []struct {
		name    string
		change  func(*video.Config)
		methods []video.Method
		want    string
	}{
		{"unknown method", nil, []video.Method{"svg-lp"}, `method "svg-lp"`},
		{"no method", nil, []video.Method{}, "no method"},
		{"method twice", nil, []video.Method{video.SVG, video.SVG}, "named twice"},
		{"batch", func(c *video.Config) { c.Batch = 9 }, nil, "batch 9 is larger than the data: 5 training windows"},
		{"history", func(c *video.Config) { c.Data.History, c.Model.NPast = 7, 7 }, nil, "longer than an episode (8 frames)"},
		{"horizon", func(c *video.Config) { c.Data.Horizon, c.Model.NFuture = 9, 9 }, nil, "longer than an episode"},
		{"image size", func(c *video.Config) { c.Model.ImageSize, c.Data.Height, c.Data.Width = 12, 12, 12 }, nil, "image size 12"},
		{"frames and model", func(c *video.Config) { c.Data.Height = 16 }, nil, "frames of 16x8 for a model of 8x8"},
		{"batchnorm", func(c *video.Config) { c.Model.Norm = svg.BatchNorm }, nil, "use groupnorm"},
		{"adaptation", func(c *video.Config) { c.Adapt = "weights" }, nil, `adaptation "weights"`},
		{"inner steps", func(c *video.Config) { c.Inner.Steps = 0 }, nil, "inner steps 0"},
		{"inner adam", func(c *video.Config) { c.Inner.Opt = noether.InnerAdam }, nil, "inner Adam needs the first-order"},
		{"reverse", func(c *video.Config) { c.Inner.MetaGrad = noether.Reverse }, nil, "reverse-over-reverse"},
		{"rate", func(c *video.Config) { c.EmbedLR = -1 }, nil, "embedding learning rate -1"},
		{"backend", func(c *video.Config) { c.Backend = nil }, nil, "no backend"},
		{"curve without noether", func(c *video.Config) { c.InnerCurveSteps = 3 }, []video.Method{video.SVG}, "needs the noether method"},
		{"curve rate", func(c *video.Config) { c.InnerCurveSteps, c.InnerCurveLR = 3, 0 }, nil, "inner-curve learning rate 0"},
		{"task", func(c *video.Config) { c.Task = "moon" }, nil, `task "moon"`},
	} {
		c := tinyRun(t, graph.CPUBackend{})
		if tc.change != nil {
			tc.change(&c)
		}
		methods := tc.methods
		if methods == nil {
			methods = video.Methods()
		}
		if err := c.Check(methods...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.want)
		}
		if _, err := c.Run(methods...); err == nil {
			t.Errorf("%s: Run accepted it", tc.name)
		}
	}
}

// TestCheckClips: the clip tasks' own refusals.
func TestCheckClips(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(*video.Config)
		methods []video.Method
		want    string
	}{
		{"actions", func(c *video.Config) { c.Model.ActionDim = 1 }, nil, "have no actions"},
		{"more steps", nil, []video.Method{video.SVG, video.SVGMoreSteps}, "compare svg and noether"},
		{"ramp size", func(c *video.Config) { c.Ramp.Height, c.Ramp.Width = 16, 16 }, nil, "ramp frames of 16 px for a model of 8 px"},
		{"ramp frames", func(c *video.Config) { c.Ramp.Horizon = 5 }, nil, "ramp clips of 2 given and 5 predicted frames"},
		{"batch", func(c *video.Config) { c.Batch = 40 }, nil, "batch 40 is larger than the data: 6 training clips"},
		{"no folder", func(c *video.Config) { c.Task = video.Physics101 }, nil, "no Physics 101 folder"},
	} {
		c := tinyRamp(t, graph.CPUBackend{})
		if tc.change != nil {
			tc.change(&c)
		}
		methods := tc.methods
		if methods == nil {
			methods = []video.Method{video.SVG, video.Noether}
		}
		if err := c.Check(methods...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
}
