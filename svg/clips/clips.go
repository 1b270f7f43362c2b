package clips

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Channels is the number of colour channels of a frame (RGB).
const Channels = 3

// Split names a part of a dataset.
type Split int

// The two splits.
const (
	Train Split = iota
	Test
)

func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// Valid says whether s is Train or Test.
func (s Split) Valid() bool { return s == Train || s == Test }

// Batch is B clips of T frames of H x W pixels, time-major.
type Batch struct {
	T, B, H, W int
	// Frames is [T, B, 3, H, W], RGB in [0, 1].
	Frames []float32
}

// Frame returns frame t of clip b of the batch, [3, H, W]; it shares
// Frames' memory.
func (b *Batch) Frame(t, clip int) []float32 {
	n := Channels * b.H * b.W
	off := (t*b.B + clip) * n
	return b.Frames[off : off+n]
}

// Source is a dataset of clips of equal length and size, numbered per
// split from 0.
type Source interface {
	// Len is the number of clips of a split.
	Len(s Split) int
	// Frames is the number of frames per clip (T of every Batch).
	Frames() int
	// Size is the frames' height and width in pixels.
	Size() (h, w int)
	// Batch returns the clips idx of a split, in that order (repeats
	// allowed).
	Batch(s Split, idx []int) (*Batch, error)
}

// CheckIndices validates the clip indices of a Batch call on a split of n
// clips; call names the caller in the error.
func CheckIndices(call string, s Split, idx []int, n int) error {
	if !s.Valid() {
		return fmt.Errorf("%s: unknown split %v", call, s)
	}
	if len(idx) == 0 {
		return fmt.Errorf("%s: no clips asked for", call)
	}
	for j, i := range idx {
		if i < 0 || i >= n {
			return fmt.Errorf("%s: entry %d asks for clip %d of the %s split, which has %d (want 0 <= i < %d)", call, j, i, s, n, n)
		}
	}
	return nil
}

// RNG draws a generator's random numbers. Its source is a PCG stream
// (math/rand/v2, an algorithm fixed by its specification), and the
// conversion to uniforms is written here rather than taken from rand.Rand,
// so the values a dataset sees depend on this code and the seed alone,
// not on the Go release.
type RNG struct {
	src *rand.PCG
}

// NewRNG gives every (seed, stream) its own sequence: a generator keys
// the stream by what a value belongs to (a split and a clip index, a
// file), so that one clip does not change when another part of the data
// does.
func NewRNG(seed, stream uint64) *RNG {
	return &RNG{src: rand.NewPCG(Mix(seed), Mix(seed^Mix(stream)))}
}

// Mix is SplitMix64's finaliser: nearby keys give unrelated values.
func Mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Uniform is in [lo, hi): 53 random bits scaled to [0, 1).
func (r *RNG) Uniform(lo, hi float64) float64 {
	return lo + (hi-lo)*(float64(r.src.Uint64()>>11)*0x1p-53)
}

// Normal is a standard Gaussian by the Box-Muller transform; u1 is in
// (0, 1] so its logarithm is finite.
func (r *RNG) Normal() float64 {
	u1 := float64(r.src.Uint64()>>11+1) * 0x1p-53
	u2 := float64(r.src.Uint64()>>11) * 0x1p-53
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// Intn is in [0, n), n > 0, without modulo bias (rejection of the top
// partial range).
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic(fmt.Sprintf("clips: RNG.Intn(%d): want n > 0", n))
	}
	un := uint64(n)
	limit := ^uint64(0) - ^uint64(0)%un
	for {
		if v := r.src.Uint64(); v < limit {
			return int(v % un)
		}
	}
}

// Perm is a random permutation of 0..n-1 (Fisher-Yates).
func (r *RNG) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
