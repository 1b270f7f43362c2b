package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// RNGDist is the distribution of generated numbers.
type RNGDist uint32

// The distributions; the values are rng.comp's codes.
const (
	// Uniform in [0, 1): the top 24 bits of a Philox word times 2^-24,
	// bit-identical on every device.
	Uniform RNGDist = iota
	// Normal N(0, 1) by Box-Muller (see rng.comp), equal across devices
	// up to the ulps of their log, sin and cos.
	Normal
)

func (d RNGDist) String() string {
	switch d {
	case Uniform:
		return "rng_uniform"
	case Normal:
		return "rng_normal"
	}
	return fmt.Sprintf("rng(%d)", uint32(d))
}

// RNGBackend generates counter-based random numbers: elements offset ..
// offset+n-1 of the stream of seed, so any slice of a stream can be
// generated independently of the rest.
type RNGBackend interface {
	RNG(dist RNGDist, seed, offset uint64, n int) ([]float32, error)
}

// Philox4x32-10 constants (Salmon et al. 2011, Random123): round
// multipliers and the Weyl increments of the key.
const (
	philoxM0, philoxM1 = 0xD2511F53, 0xCD9E8D57
	philoxW0, philoxW1 = 0x9E3779B9, 0xBB67AE85
)

// Philox is the Philox4x32-10 block function of counter c under key k.
func Philox(c [4]uint32, k [2]uint32) [4]uint32 {
	for r := range 10 {
		if r > 0 {
			k[0] += philoxW0
			k[1] += philoxW1
		}
		p0 := uint64(philoxM0) * uint64(c[0])
		p1 := uint64(philoxM1) * uint64(c[2])
		c = [4]uint32{uint32(p1>>32) ^ c[1] ^ k[0], uint32(p1), uint32(p0>>32) ^ c[3] ^ k[1], uint32(p0)}
	}
	return c
}

// RNGState is the 4-word state RecordRNG reads: seed and element offset,
// low words first.
func RNGState(seed, offset uint64) []uint32 {
	return []uint32{uint32(seed), uint32(seed >> 32), uint32(offset), uint32(offset >> 32)}
}

func checkRNG(dist RNGDist, n int) error {
	if dist != Uniform && dist != Normal {
		return fmt.Errorf("kernels: unknown distribution %d", dist)
	}
	if n < 0 {
		return fmt.Errorf("kernels: %s: %d elements", dist, n)
	}
	return nil
}

// RNG implements RNGBackend.
func (CPU) RNG(dist RNGDist, seed, offset uint64, n int) ([]float32, error) {
	if err := checkRNG(dist, n); err != nil {
		return nil, err
	}
	key := [2]uint32{uint32(seed), uint32(seed >> 32)}
	out := make([]float32, n)
	for i := range out {
		j := offset + uint64(i)
		b := j / 4
		x := Philox([4]uint32{uint32(b), uint32(b >> 32), 0, 0}, key)
		w := j % 4
		if dist == Uniform {
			out[i] = float32(x[w]>>8) * 0x1p-24
			continue
		}
		// The pair (x[w&^1], x[w|1]) gives z = -r cos(a) (even w) or -r sin(a).
		u1 := (float64(x[w&^1]>>8) + 1) * 0x1p-24
		a := float64(x[w|1]>>8)*0x1p-24*2*math.Pi - math.Pi
		r := math.Sqrt(-2 * math.Log(u1))
		if w%2 == 0 {
			out[i] = float32(-r * math.Cos(a))
		} else {
			out[i] = float32(-r * math.Sin(a))
		}
	}
	return out, nil
}

// RecordRNG records n numbers of dist into out, from the seed and offset
// in state (the 4 words of RNGState). Rewriting state between runs of a
// program draws fresh numbers without recording it again.
func (v *Vulkan) RecordRNG(r *gpu.Recorder, dist RNGDist, state, out *gpu.Buffer, n int) error {
	if err := checkRNG(dist, n); err != nil {
		return err
	}
	k, err := v.kernel("rng", []gpu.Access{gpu.Read, gpu.Write}, 4, v.Local, 1, 1, uint32(dist))
	if err != nil {
		return err
	}
	// One invocation per Philox block: n elements starting anywhere in a
	// block span at most ceil((n+3)/4) blocks.
	r.Dispatch(k, v.Device.Grid(k, (n+6)/4), gpu.Push{}.U32(uint32(n)), state, out)
	return nil
}

// RNG implements RNGBackend.
func (v *Vulkan) RNG(dist RNGDist, seed, offset uint64, n int) ([]float32, error) {
	if err := checkRNG(dist, n); err != nil {
		return nil, err
	}
	// exec moves float32 slices as raw bytes, so the state words travel
	// bit for bit.
	st := RNGState(seed, offset)
	words := make([]float32, len(st))
	for i, w := range st {
		words[i] = math.Float32frombits(w)
	}
	out, err := v.exec([][]float32{words}, []int{n}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordRNG(r, dist, in[0], out[0], n)
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}
