package gpu

import (
	"math/rand/v2"
	"testing"
)

// TestHazardsRandom compares the interval tracker with a brute-force scan
// over every range touched since the last barrier, on random programs.
func TestHazardsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	blocks := []*block{{id: 0}, {id: 1}, {id: 2}}
	for trial := range 200 {
		h := hazards{reads: intervals{}, writes: intervals{}}
		var reads, writes []*Buffer
		for step := range 60 {
			o := op{}
			for range 1 + rng.IntN(3) {
				lo := uint64(rng.IntN(64)) * 16
				b := &Buffer{blk: blocks[rng.IntN(len(blocks))], off: lo, cap: uint64(1+rng.IntN(8)) * 16}
				o.binds = append(o.binds, binding{b, Access(1 + rng.IntN(3))})
			}
			want := false
			for _, b := range o.binds {
				for _, w := range writes {
					want = want || overlap(b.buf, w)
				}
				if b.access&Write != 0 {
					for _, r := range reads {
						want = want || overlap(b.buf, r)
					}
				}
			}
			if got := h.needs(&o); got != want {
				t.Fatalf("trial %d step %d: needs = %v, brute force %v", trial, step, got, want)
			}
			if want {
				h.reset()
				reads, writes = reads[:0], writes[:0]
			}
			h.add(&o)
			for _, b := range o.binds {
				if b.access&Read != 0 {
					reads = append(reads, b.buf)
				}
				if b.access&Write != 0 {
					writes = append(writes, b.buf)
				}
			}
		}
	}
}

func overlap(a, b *Buffer) bool {
	return a.blk == b.blk && a.off < b.off+b.cap && b.off < a.off+a.cap
}
