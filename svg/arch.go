package svg

import (
	"strconv"

	"github.com/noether-vk/noether-vk/graph/nn"
)

// The encoders and decoders follow one rule that reproduces the
// reference's models at Width 64: level k (resolution ImageSize/2^k) has
// min(Width·2^k, 8·Width) channels, and a VGG level has two 3x3 layers
// (levels 0 and 1) or three (deeper). At 64 px (4 levels) and 128 px (5)
// this gives vgg_64, vgg_128 and dcgan_64 channel for channel; other
// sizes add or drop levels by the same rule.

// slope is DCGAN's LeakyReLU slope.
const slope = 0.2

// channels returns the channel count of level k.
func (c Config) channels(k int) int { return min(c.Width<<k, 8*c.Width) }

// vggLayers returns the number of 3x3 layers of VGG level k.
func vggLayers(k int) int {
	if k < 2 {
		return 2
	}
	return 3
}

// norm is the configured normalisation over ch channels, initialised as
// the reference does: BatchNorm's weight N(1, 0.02) (init_weights);
// GroupNorm replaces BatchNorm after that initialisation in the Noether
// code, so its affine starts at exactly (1, 0). Either is a CN site.
func (c Config) norm(ch int) nn.Module {
	if c.Norm == GroupNorm {
		return nn.GroupNorm{Groups: 1, Channels: ch}
	}
	return nn.BatchNorm{Channels: ch, Init: nn.DCGANNorm}
}

// conv is a convolution with the reference's initialisation: N(0, 0.02)
// weights, zero bias.
func conv(in, out, kernel, stride, pad int) nn.Conv2d {
	return nn.Conv2d{In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad, Init: nn.DCGAN}
}

// convT is conv's transposed counterpart.
func convT(in, out, kernel, stride, pad int) nn.ConvTranspose2d {
	return nn.ConvTranspose2d{In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad, Init: nn.DCGAN}
}

// block is a convolution, the norm and an activation (the reference's
// nn.Sequential(conv, norm, act): weights at .0, norm at .1).
func (c Config) block(layer nn.Module, out int, act nn.Module) nn.Sequential {
	return nn.Sequential{layer, c.norm(out), act}
}

// vggLayer is the reference's vgg_layer: a 3x3 convolution, the norm and
// LeakyReLU, in the layer's child scope main.
func (c Config) vggLayer(in, out int) nn.Module {
	return mainOf(c.block(conv(in, out, 3, 1, 1), out, nn.LeakyReLU{Slope: slope}))
}

// dcganLayer is the reference's dcgan_conv (down) or dcgan_upconv (up): a
// stride-2 4x4 (transposed) convolution, the norm and LeakyReLU, in the
// layer's child scope main.
func (c Config) dcganLayer(layer nn.Module, out int) nn.Module {
	return mainOf(c.block(layer, out, nn.LeakyReLU{Slope: slope}))
}

// mainOf puts m in the child scope main, as the reference's layer
// modules hold their nn.Sequential in the attribute main. The Sequential
// around the Named keeps the layer's index when it is itself a layer of
// a Sequential (c1.0.main.0.weight), where a bare Named would replace it.
func mainOf(m nn.Module) nn.Module { return nn.Sequential{nn.Named{Name: "main", Module: m}} }

// blockName is the reference's attribute name of the i-th block (c1,
// upc1, ...; i from 0).
func blockName(prefix string, i int) string { return prefix + strconv.Itoa(i+1) }
