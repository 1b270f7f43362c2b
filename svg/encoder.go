package svg

import (
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// encoder is SVG's frame encoder: one block per level (c1 .. cL), whose
// outputs are the decoder's skips, then c{L+1}: a 4x4 valid convolution
// to GDim, the norm and tanh.
type encoder struct {
	blocks nn.Sequential // Named c1 .. c{L+1}
	pool   nn.Module     // VGG: 2x2 max pooling before every block but the first; DCGAN: nil
}

func newEncoder(c Config) encoder {
	levels := c.levels()
	var e encoder
	in := c.Channels
	for k := range levels {
		out := c.channels(k)
		var blk nn.Module
		if c.Family == VGG {
			layers := nn.Sequential{c.vggLayer(in, out)}
			for range vggLayers(k) - 1 {
				layers = append(layers, c.vggLayer(out, out))
			}
			blk = layers
		} else {
			blk = c.dcganLayer(conv(in, out, 4, 2, 1), out)
		}
		e.blocks = append(e.blocks, nn.Named{Name: blockName("c", k), Module: blk})
		in = out
	}
	code := c.block(conv(in, c.GDim, 4, 1, 0), c.GDim, nn.Tanh{})
	e.blocks = append(e.blocks, nn.Named{Name: blockName("c", levels), Module: code})
	if c.Family == VGG {
		e.pool = nn.MaxPool2d{Kernel: 2, Stride: 2}
	}
	return e
}

// Params, State and Adaptables are the blocks' (the pooling has none).
func (e encoder) Params(s nn.Scope) []nn.ParamSpec     { return e.blocks.Params(s) }
func (e encoder) State(s nn.Scope) []nn.ParamSpec      { return e.blocks.State(s) }
func (e encoder) Adaptables(s nn.Scope) []nn.AdaptSpec { return e.blocks.Adaptables(s) }

// encode maps frames x [B, C, S, S] to their encoding h [B, GDim] and the
// skips, the outputs of c1 .. cL (before pooling), finest first.
func (e encoder) encode(c *nn.Context, s nn.Scope, x *graph.Node) (h *graph.Node, skips []*graph.Node) {
	for i, blk := range e.blocks {
		if i > 0 && e.pool != nil {
			x = e.pool.Apply(c, s, x)
		}
		x = blk.Apply(c, s, x)
		if i < len(e.blocks)-1 {
			skips = append(skips, x)
		}
	}
	return nn.Flatten{}.Apply(c, s, x), skips
}
