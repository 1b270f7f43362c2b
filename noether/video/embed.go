package video

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/noether"
)

// EmbedScope is where the embedding's parameters live:
// embedding.0.weight and .bias (the first convolution), embedding.3.*
// (the second), embedding.7.* (the linear layer), as torch.nn.Sequential
// numbers them.
const EmbedScope nn.Scope = "embedding"

// DefaultEmbedDim is the size of the reference's embeddings.
const DefaultEmbedDim = 64

// Embedding is g_phi of the Noether code's video model: two frames of
// channels colours stacked on channels; a 5x5 convolution to 32 channels
// with padding 2, ReLU, 2x2 max pooling; a 5x5 convolution to 64 channels,
// ReLU, 2x2 max pooling; flattened in (C, H, W) order; a linear layer to
// dim. Every layer keeps PyTorch's default initialisation, as the
// reference does. The frames' side must be a multiple of 4 (CheckEmbedSize).
func Embedding(channels, imageSize, dim int) noether.Model {
	side := imageSize / 4
	return noether.Model{Scope: EmbedScope, Module: nn.Sequential{
		nn.Conv2d{In: 2 * channels, Out: 32, Kernel: 5, Pad: 2}, nn.ReLU{}, nn.MaxPool2d{Kernel: 2},
		nn.Conv2d{In: 32, Out: 64, Kernel: 5, Pad: 2}, nn.ReLU{}, nn.MaxPool2d{Kernel: 2},
		nn.Flatten{}, nn.Linear{In: 64 * side * side, Out: dim},
	}}
}

// CheckEmbedSize reports an image size the embedding cannot take: its
// two 2x2 poolings need a side divisible by 4.
func CheckEmbedSize(imageSize int) error {
	if imageSize < 4 || imageSize%4 != 0 {
		return fmt.Errorf("video: image size %d: the Noether embedding pools twice by 2 and needs a multiple of 4", imageSize)
	}
	return nil
}

// EmbedPairs embeds the consecutive pairs of frames (frames[i],
// frames[i+1]), each [B, C, S, S]: len(frames)-1 embeddings [B, dim], in
// order. All pairs go through the network as one batch, so the
// convolutions run once, not once per pair.
func EmbedPairs(g *graph.Graph, emb noether.Model, phi []*graph.Node, frames []*graph.Node) []*graph.Node {
	pairs := make([]*graph.Node, len(frames)-1)
	for i := range pairs {
		pairs[i] = g.Concat(1, frames[i], frames[i+1])
	}
	b := frames[0].Shape()[0]
	all := emb.Apply(g, phi, g.Concat(0, pairs...))
	sizes := make([]int, len(pairs))
	for i := range sizes {
		sizes[i] = b
	}
	return g.Split(all, 0, sizes...)
}

// NoetherLoss is the Noether loss per example, [B], of a predicted
// sequence: the embeddings of its consecutive frame pairs compared as
// form says (noether.Loss: 2a against the first pair, 2b between
// neighbours), the mean over embedding dimensions summed over pairs.
// frames are the prediction's gen_0 .. gen_{T-1}, the context's ground
// truth first, so the first pair is all ground truth, as in the
// reference.
func NoetherLoss(g *graph.Graph, emb noether.Model, phi []*graph.Node, frames []*graph.Node, form noether.Form) *graph.Node {
	return noether.Loss(g, EmbedPairs(g, emb, phi, frames), form)
}
