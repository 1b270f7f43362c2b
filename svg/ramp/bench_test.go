package ramp

import (
	"testing"

	"github.com/noether-vk/noether-vk/svg/clips"
)

// BenchmarkBatch renders one clip of 22 frames.
func BenchmarkBatch(b *testing.B) {
	for _, size := range []int{64, 128} {
		b.Run(map[int]string{64: "64px", 128: "128px"}[size], func(b *testing.B) {
			c := DefaultConfig()
			c.Height, c.Width = size, size
			d := mustNew(b, c)
			b.ResetTimer()
			for i := range b.N {
				mustBatch(b, d, clips.Train, i%d.Len(clips.Train))
			}
		})
	}
}
