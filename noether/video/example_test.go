package video_test

import (
	"fmt"
	"log"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/noether/video"
)

// The default preset's embedding g_phi, and a configuration refused
// before anything runs.
func Example() {
	c, err := video.Preset(video.PixelPendulum, "default")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %dx%d frames, %d given, %d predicted; batch %d; epochs %d + %d, %d\n", c.Preset, c.Model.ImageSize, c.Model.ImageSize,
		c.Model.NPast, c.Model.NFuture, c.Batch, c.SVGEpochs, c.MoreEpochs, c.NoetherEpochs)
	for _, p := range video.Embedding(c.Model.Channels, c.Model.ImageSize, c.EmbedDim).Params() {
		fmt.Println(p.Name, p.Shape)
	}

	c.Backend, c.Dir = graph.CPUBackend{}, "run"
	c.Batch = 1000
	fmt.Println(c.Check(video.SVG, video.Noether))
	// Output:
	// default: 32x32 frames, 4 given, 26 predicted; batch 8; epochs 10 + 4, 4
	// embedding.0.weight [32 6 5 5]
	// embedding.0.bias [32]
	// embedding.3.weight [64 32 5 5]
	// embedding.3.bias [64]
	// embedding.7.weight [4096 64]
	// embedding.7.bias [64]
	// video: batch 1000 is larger than the data: 175 training windows (5 episodes, stride 5)
}
