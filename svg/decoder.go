package svg

import (
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// decoder is SVG's frame decoder: upc1, a 4x4 transposed convolution of
// the code to 4x4, the norm and LeakyReLU; then one block per level,
// coarsest first, each on its input concatenated (on channels, input
// first) with the encoder's skip of that level; the last block ends in
// sigmoid, with no norm.
type decoder struct {
	blocks   nn.Sequential // Named upc1 .. upc{L+1}
	upsample nn.Module     // VGG: nearest x2 before every concatenation; DCGAN: nil
	gdim     int
}

func newDecoder(c Config) decoder {
	levels := c.levels()
	top := c.channels(levels - 1)
	d := decoder{gdim: c.GDim, blocks: nn.Sequential{
		nn.Named{Name: blockName("upc", 0), Module: c.block(convT(c.GDim, top, 4, 1, 0), top, nn.LeakyReLU{Slope: slope})},
	}}
	// Level k's block takes its input and the skip (2·channels(k)) to
	// the channels of level k-1.
	for k := levels - 1; k >= 1; k-- {
		ch, out := c.channels(k), c.channels(k-1)
		var blk nn.Module
		if c.Family == VGG {
			layers := nn.Sequential{c.vggLayer(2*ch, ch)}
			for range vggLayers(k) - 2 {
				layers = append(layers, c.vggLayer(ch, ch))
			}
			blk = append(layers, c.vggLayer(ch, out))
		} else {
			blk = c.dcganLayer(convT(2*ch, out, 4, 2, 1), out)
		}
		d.blocks = append(d.blocks, nn.Named{Name: blockName("upc", len(d.blocks)), Module: blk})
	}
	// Level 0 maps to the frame: VGG's one 3x3 layer then a 3x3 transposed
	// convolution, DCGAN's stride-2 transposed convolution; then sigmoid.
	ch := c.channels(0)
	var last nn.Sequential
	if c.Family == VGG {
		last = nn.Sequential{c.vggLayer(2*ch, ch), convT(ch, c.Channels, 3, 1, 1), nn.Sigmoid{}}
		d.upsample = nn.Upsample{Factor: 2}
	} else {
		last = nn.Sequential{convT(2*ch, c.Channels, 4, 2, 1), nn.Sigmoid{}}
	}
	d.blocks = append(d.blocks, nn.Named{Name: blockName("upc", len(d.blocks)), Module: last})
	return d
}

// Params, State and Adaptables are the blocks'.
func (d decoder) Params(s nn.Scope) []nn.ParamSpec     { return d.blocks.Params(s) }
func (d decoder) State(s nn.Scope) []nn.ParamSpec      { return d.blocks.State(s) }
func (d decoder) Adaptables(s nn.Scope) []nn.AdaptSpec { return d.blocks.Adaptables(s) }

// decode maps the code h [B, GDim] and the encoder's skips (finest first)
// to frames [B, C, S, S].
func (d decoder) decode(c *nn.Context, s nn.Scope, h *graph.Node, skips []*graph.Node) *graph.Node {
	x := d.blocks[0].Apply(c, s, nn.Reshape{Shape: []int{d.gdim, 1, 1}}.Apply(c, s, h))
	for i, blk := range d.blocks[1:] {
		if d.upsample != nil {
			x = d.upsample.Apply(c, s, x)
		}
		x = blk.Apply(c, s, c.Graph.Concat(1, x, skips[len(skips)-1-i]))
	}
	return x
}
