package svg_test

import (
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/svg"
)

// TestValidate: every bad configuration is refused with an error naming
// the problem, and a good one is accepted.
func TestValidate(t *testing.T) {
	if err := tiny(svg.VGG).Validate(); err != nil {
		t.Fatalf("the tiny configuration: %v", err)
	}
	cases := []struct {
		name string
		edit func(*svg.Config)
		want string
	}{
		{"size not 4·2^k", func(c *svg.Config) { c.ImageSize = 100 }, "image size 100: the vgg encoder takes square frames of 4·2^k pixels"},
		{"size 4", func(c *svg.Config) { c.ImageSize = 4 }, "image size 4"},
		{"odd size", func(c *svg.Config) { c.Family, c.ImageSize = svg.DCGAN, 48 }, "image size 48: the dcgan encoder"},
		{"family", func(c *svg.Config) { c.Family = 7 }, "unknown encoder family"},
		{"norm", func(c *svg.Config) { c.Norm = 7 }, "unknown norm"},
		{"variant", func(c *svg.Config) { c.Variant = 7 }, "unknown variant"},
		{"skips", func(c *svg.Config) { c.Skips = 7 }, "unknown skip mode"},
		{"channels", func(c *svg.Config) { c.Channels = 0 }, "Channels 0"},
		{"width", func(c *svg.Config) { c.Width = -1 }, "Width -1"},
		{"g_dim", func(c *svg.Config) { c.GDim = 0 }, "GDim 0"},
		{"z_dim", func(c *svg.Config) { c.ZDim = 0 }, "ZDim 0"},
		{"rnn size", func(c *svg.Config) { c.RNNSize = 0 }, "RNNSize 0"},
		{"predictor layers", func(c *svg.Config) { c.PredictorLayers = 0 }, "PredictorLayers 0"},
		{"prior layers", func(c *svg.Config) { c.PriorLayers = 0 }, "PriorLayers 0"},
		{"posterior layers", func(c *svg.Config) { c.PosteriorLayers = 0 }, "PosteriorLayers 0"},
		{"no future", func(c *svg.Config) { c.NFuture = 0 }, "NFuture 0"},
		{"no past", func(c *svg.Config) { c.NPast = 0 }, "NPast 0"},
		{"one past frame, context skips", func(c *svg.Config) { c.NPast = 1 }, "NPast 1 with context skips"},
		{"actions", func(c *svg.Config) { c.ActionDim = -1 }, "ActionDim -1"},
		{"kl weight", func(c *svg.Config) { c.KLWeight = -1 }, "KLWeight -1"},
	}
	for _, tc := range cases {
		c := tiny(svg.VGG)
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
		if _, err := svg.New(c); err == nil {
			t.Errorf("%s: New accepted the configuration", tc.name)
		}
	}

	// Every problem is reported at once.
	c := tiny(svg.VGG)
	c.ImageSize, c.GDim = 100, 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "image size") || !strings.Contains(err.Error(), "GDim") {
		t.Errorf("two problems: got %v", err)
	}

	// What a variant does not use is not checked; one context frame is
	// enough when every step takes its own skips.
	c = tiny(svg.DCGAN)
	c.Variant, c.ZDim, c.PriorLayers, c.PosteriorLayers = svg.Deterministic, 0, 0, 0
	c.NPast, c.Skips = 1, svg.EveryStepSkips
	if err := c.Validate(); err != nil {
		t.Errorf("deterministic, every-step skips, one context frame: %v", err)
	}
}

// TestPresets: every preset is valid and has its documented sizes.
func TestPresets(t *testing.T) {
	type sizes struct {
		family        svg.Family
		size, frames  int
		variant       svg.Variant
		params, sites int
	}
	want := map[string]sizes{
		"default": {svg.DCGAN, 32, 30, svg.Deterministic, 135891, 7},
		"paper":   {svg.VGG, 64, 30, svg.Deterministic, 21631107, 21},
		"phys101": {svg.VGG, 128, 22, svg.LearnedPrior, 39356035, 27},
	}
	names := svg.PresetNames()
	if len(names) != len(want) {
		t.Errorf("presets %v, want %d", names, len(want))
	}
	for _, name := range names {
		cfg, err := svg.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		m := newModel(t, cfg)
		params := 0
		for _, p := range m.Params() {
			n := 1
			for _, d := range p.Shape {
				n *= d
			}
			params += n
		}
		got := sizes{cfg.Family, cfg.ImageSize, cfg.Frames(), cfg.Variant, params, len(m.CNSites()) / 2}
		if got != want[name] {
			t.Errorf("preset %s: %+v, want %+v", name, got, want[name])
		}
	}
	if _, err := svg.Preset("huge"); err == nil || !strings.Contains(err.Error(), `unknown preset "huge" (want one of default, paper, phys101)`) {
		t.Errorf("unknown preset: %v", err)
	}
}
