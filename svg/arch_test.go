package svg_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/svg"
)

// reference returns the reference's model of a family and frame size
// (Width 64, g_dim 128).
func reference(family svg.Family, size int, norm svg.Norm) svg.Config {
	cfg, _ := svg.Preset("phys101")
	cfg.Family, cfg.ImageSize, cfg.Norm = family, size, norm
	return cfg
}

// TestReferenceLayers: the convolutions of VGG-128, VGG-64 and DCGAN-64
// have the reference's names and shapes, in order (a convolution's weight
// is [out, in, k, k], a transposed one's [in, out, k, k]); VGG-128's
// decoder is video-facts.md's: upc1 4x4 g->512; upc2 [1024->512,
// 512->512, 512->512]; upc3 [1024->512, 512->512, 512->256]; upc4
// [512->256, 256->256, 256->128]; upc5 [256->128, 128->64]; upc6
// [128->64, transposed 64->3].
func TestReferenceLayers(t *testing.T) {
	want := map[string]string{
		"vgg128": `encoder.c1.0.main.0.weight [64 3 3 3]
encoder.c1.1.main.0.weight [64 64 3 3]
encoder.c2.0.main.0.weight [128 64 3 3]
encoder.c2.1.main.0.weight [128 128 3 3]
encoder.c3.0.main.0.weight [256 128 3 3]
encoder.c3.1.main.0.weight [256 256 3 3]
encoder.c3.2.main.0.weight [256 256 3 3]
encoder.c4.0.main.0.weight [512 256 3 3]
encoder.c4.1.main.0.weight [512 512 3 3]
encoder.c4.2.main.0.weight [512 512 3 3]
encoder.c5.0.main.0.weight [512 512 3 3]
encoder.c5.1.main.0.weight [512 512 3 3]
encoder.c5.2.main.0.weight [512 512 3 3]
encoder.c6.0.weight [128 512 4 4]
decoder.upc1.0.weight [128 512 4 4]
decoder.upc2.0.main.0.weight [512 1024 3 3]
decoder.upc2.1.main.0.weight [512 512 3 3]
decoder.upc2.2.main.0.weight [512 512 3 3]
decoder.upc3.0.main.0.weight [512 1024 3 3]
decoder.upc3.1.main.0.weight [512 512 3 3]
decoder.upc3.2.main.0.weight [256 512 3 3]
decoder.upc4.0.main.0.weight [256 512 3 3]
decoder.upc4.1.main.0.weight [256 256 3 3]
decoder.upc4.2.main.0.weight [128 256 3 3]
decoder.upc5.0.main.0.weight [128 256 3 3]
decoder.upc5.1.main.0.weight [64 128 3 3]
decoder.upc6.0.main.0.weight [64 128 3 3]
decoder.upc6.1.weight [64 3 3 3]`,
		"vgg64": `encoder.c1.0.main.0.weight [64 3 3 3]
encoder.c1.1.main.0.weight [64 64 3 3]
encoder.c2.0.main.0.weight [128 64 3 3]
encoder.c2.1.main.0.weight [128 128 3 3]
encoder.c3.0.main.0.weight [256 128 3 3]
encoder.c3.1.main.0.weight [256 256 3 3]
encoder.c3.2.main.0.weight [256 256 3 3]
encoder.c4.0.main.0.weight [512 256 3 3]
encoder.c4.1.main.0.weight [512 512 3 3]
encoder.c4.2.main.0.weight [512 512 3 3]
encoder.c5.0.weight [128 512 4 4]
decoder.upc1.0.weight [128 512 4 4]
decoder.upc2.0.main.0.weight [512 1024 3 3]
decoder.upc2.1.main.0.weight [512 512 3 3]
decoder.upc2.2.main.0.weight [256 512 3 3]
decoder.upc3.0.main.0.weight [256 512 3 3]
decoder.upc3.1.main.0.weight [256 256 3 3]
decoder.upc3.2.main.0.weight [128 256 3 3]
decoder.upc4.0.main.0.weight [128 256 3 3]
decoder.upc4.1.main.0.weight [64 128 3 3]
decoder.upc5.0.main.0.weight [64 128 3 3]
decoder.upc5.1.weight [64 3 3 3]`,
		"dcgan64": `encoder.c1.main.0.weight [64 3 4 4]
encoder.c2.main.0.weight [128 64 4 4]
encoder.c3.main.0.weight [256 128 4 4]
encoder.c4.main.0.weight [512 256 4 4]
encoder.c5.0.weight [128 512 4 4]
decoder.upc1.0.weight [128 512 4 4]
decoder.upc2.main.0.weight [1024 256 4 4]
decoder.upc3.main.0.weight [512 128 4 4]
decoder.upc4.main.0.weight [256 64 4 4]
decoder.upc5.0.weight [128 3 4 4]`,
	}
	models := map[string]svg.Config{
		"vgg128":  reference(svg.VGG, 128, svg.BatchNorm),
		"vgg64":   reference(svg.VGG, 64, svg.BatchNorm),
		"dcgan64": reference(svg.DCGAN, 64, svg.BatchNorm),
	}
	for name, cfg := range models {
		var got []string
		for _, p := range newModel(t, cfg).Params() {
			if len(p.Shape) == 4 {
				got = append(got, fmt.Sprintf("%s %v", p.Name, p.Shape))
			}
		}
		if g := strings.Join(got, "\n"); g != want[name] {
			t.Errorf("%s convolutions:\n%s\nwant\n%s", name, g, want[name])
		}
	}
}

// TestCNSites: a CN site follows every norm layer, none elsewhere: 27 in
// VGG-128 (14 in the encoder, 13 in the decoder, as video-facts.md
// counts), 21 in VGG-64, 9 in DCGAN-64 (its first block has a norm), with
// either norm; and one latent offset per predictor layer.
func TestCNSites(t *testing.T) {
	cases := []struct {
		family             svg.Family
		size, encoder, dec int
	}{{svg.VGG, 128, 14, 13}, {svg.VGG, 64, 11, 10}, {svg.DCGAN, 64, 5, 4}}
	for _, tc := range cases {
		for _, norm := range []svg.Norm{svg.BatchNorm, svg.GroupNorm} {
			cfg := reference(tc.family, tc.size, norm)
			m := newModel(t, cfg)
			what := fmt.Sprintf("%v-%d with %v", tc.family, tc.size, norm)
			params := map[string][]int{}
			for _, p := range m.Params() {
				params[p.Name] = p.Shape
			}
			count := map[string]int{}
			for _, s := range m.CNSites() {
				norm, ok := strings.CutSuffix(s.Name, ".cn.scale")
				if !ok {
					continue
				}
				count[strings.SplitN(s.Name, ".", 2)[0]]++
				if w, ok := params[norm+".weight"]; !ok || !slices.Equal(w, s.Shape) || s.Start != 1 {
					t.Errorf("%s: site %s %v (start %v) is not on a norm layer's output (weight %v)", what, s.Name, s.Shape, s.Start, w)
				}
			}
			if count["encoder"] != tc.encoder || count["decoder"] != tc.dec || len(m.CNSites()) != 2*(tc.encoder+tc.dec) {
				t.Errorf("%s: %d encoder and %d decoder CN sites (%d tensors), want %d and %d", what, count["encoder"], count["decoder"], len(m.CNSites()), tc.encoder, tc.dec)
			}
			var offsets []string
			for _, s := range m.OffsetSites() {
				offsets = append(offsets, fmt.Sprintf("%s %v %v", s.Name, s.Shape, s.Start))
			}
			if got, want := strings.Join(offsets, ", "), "frame_predictor.lstm.0.offset [256] 0, frame_predictor.lstm.1.offset [256] 0"; got != want {
				t.Errorf("%s: offsets %s, want %s", what, got, want)
			}
		}
	}
}

// TestShapes: for both families at every size from 8 to 128 px, one step
// maps a batch of frames to frames of the same shape, with a skip per
// level (VGG's before pooling, at S/2^k; DCGAN's after each stride-2
// block, at S/2^(k+1)); and both sequence passes give T frames and a KL.
func TestShapes(t *testing.T) {
	const batch = 2
	for _, family := range []svg.Family{svg.DCGAN, svg.VGG} {
		for _, size := range []int{8, 16, 32, 64, 128} {
			cfg := tiny(family)
			cfg.ImageSize = size
			if size >= 64 {
				cfg = reference(family, size, svg.BatchNorm)
			}
			what := fmt.Sprintf("%v-%d", family, size)
			d := declare(t, cfg, batch)
			out, carry, err := d.m.Step(d.m.Context(d.g, nil, nil), d.m.Start(d.g, batch), svg.StepInputs{
				Index: 1, Input: d.in.Frames[0], Target: d.in.Frames[1], Action: actionAt(d.in, 0),
				PriorEps: d.in.PriorEps[0], PosteriorEps: d.in.PosteriorEps[0],
			})
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			frame := []int{batch, cfg.Channels, size, size}
			if !slices.Equal(out.Frame.Shape(), frame) {
				t.Errorf("%s: frame %v, want %v", what, out.Frame.Shape(), frame)
			}
			var skips, want []string
			for k, s := range carry.Skips {
				skips = append(skips, fmt.Sprint(s.Shape()))
				side := size >> k
				if family == svg.DCGAN {
					side /= 2
				}
				want = append(want, fmt.Sprint(graph.Shape{batch, min(cfg.Width<<k, 8*cfg.Width), side, side}))
			}
			if len(skips) == 0 || !slices.Equal(skips, want) {
				t.Errorf("%s: skips %v, want %v", what, skips, want)
			}
			for _, s := range []struct {
				name string
				n    *graph.Node
			}{{"mu", out.Mu}, {"logvar", out.LogVar}, {"prior mu", out.PriorMu}, {"prior logvar", out.PriorLogVar}} {
				if !slices.Equal(s.n.Shape(), []int{batch, cfg.ZDim}) {
					t.Errorf("%s: %s %v, want [%d %d]", what, s.name, s.n.Shape(), batch, cfg.ZDim)
				}
			}
			if size > 32 {
				continue // the sequences of the large models only cost time
			}
			for _, rollout := range []bool{false, true} {
				p := d.predict(t, d.m.Context(d.g, nil, nil), rollout)
				if len(p.Frames) != cfg.Frames() || p.KL == nil || len(p.PriorMu) != cfg.Frames()-1 {
					t.Errorf("%s (rollout %v): %d frames, KL %v, %d prior steps", what, rollout, len(p.Frames), p.KL, len(p.PriorMu))
				}
				for i, f := range p.Frames {
					if !slices.Equal(f.Shape(), frame) {
						t.Errorf("%s (rollout %v): frame %d %v", what, rollout, i, f.Shape())
					}
				}
			}
		}
	}
}

// actionAt is the action of step index i, or nil for a model without
// actions.
func actionAt(in svg.Inputs, i int) *graph.Node {
	if in.Actions == nil {
		return nil
	}
	return in.Actions[i]
}
