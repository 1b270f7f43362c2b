package kernels

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/noether-vk/noether-vk/gpu"
)

// MaxDims is the most dimensions a broadcast or reduced tensor may have.
const MaxDims = 6

// Shape is a tensor's dimensions, outermost first; data are row-major and
// contiguous. The empty shape is a scalar (one element). Every dimension
// is at least 1.
//
// Broadcasting follows NumPy: shapes are aligned at their last dimension,
// missing leading dimensions count as 1, and two dimensions are
// compatible when they are equal or one of them is 1.
type Shape []int

// Len is the number of elements.
func (s Shape) Len() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether two shapes are identical.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

func (s Shape) String() string {
	if len(s) == 0 {
		return "scalar"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "x")
}

// check rejects shapes the kernels cannot index.
func (s Shape) check() error {
	if len(s) > MaxDims {
		return fmt.Errorf("shape %v has %d dimensions (at most %d)", s, len(s), MaxDims)
	}
	for _, d := range s {
		if d < 1 {
			return fmt.Errorf("shape %v has a dimension < 1", []int(s))
		}
	}
	return nil
}

// Broadcast returns the shape that a and b broadcast to.
func Broadcast(a, b Shape) (Shape, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	out := make(Shape, max(len(a), len(b)))
	for i := range out {
		da, db := dimFromEnd(a, len(out)-1-i), dimFromEnd(b, len(out)-1-i)
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast (result dimension %d: %d vs %d)", a, b, i, da, db)
		}
	}
	return out, nil
}

// dimFromEnd is s's k-th dimension counted from the last (k = 0), or 1
// beyond its leading dimension.
func dimFromEnd(s Shape, k int) int {
	if k >= len(s) {
		return 1
	}
	return s[len(s)-1-k]
}

// BroadcastStrides returns the element strides that read a tensor of shape
// s as if it had shape out (s broadcasts to out): 0 along broadcast
// dimensions.
func BroadcastStrides(s, out Shape) ([]int, error) {
	if len(s) > len(out) {
		return nil, fmt.Errorf("shape %v does not broadcast to %v", s, out)
	}
	st := make([]int, len(out))
	step := 1
	for k := range out {
		i := len(out) - 1 - k
		d := dimFromEnd(s, k)
		switch {
		case d == out[i]:
			st[i] = step
		case d == 1:
			st[i] = 0
		default:
			return nil, fmt.Errorf("shape %v does not broadcast to %v", s, out)
		}
		step *= d
	}
	return st, nil
}

// SumAxes returns the axes of out over which a cotangent of shape out is
// summed (keeping dimensions) to give the cotangent of an input of shape s
// that was broadcast to out. The kept-dimension result has s's elements in
// s's order, so it needs no reshaping.
func SumAxes(s, out Shape) []int {
	var axes []int
	for i := range out {
		if k := len(out) - 1 - i; k >= len(s) || (dimFromEnd(s, k) == 1 && out[i] != 1) {
			axes = append(axes, i)
		}
	}
	return axes
}

// Reduced returns the shape of s reduced over axes: the reduced dimensions
// become 1 with keep, and are dropped without it. Axes may be negative
// (counted from the end). An empty list reduces nothing: callers that
// compute axes (SumAxes) must not have "no axes" turn into "every axis".
func Reduced(s Shape, axes []int, keep bool) (Shape, error) {
	mask, err := axisMask(s, axes)
	if err != nil {
		return nil, err
	}
	var out Shape
	for i, d := range s {
		switch {
		case !mask[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out, nil
}

// axisMask marks the reduced axes of s.
func axisMask(s Shape, axes []int) ([]bool, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	mask := make([]bool, len(s))
	for _, a := range axes {
		i := a
		if i < 0 {
			i += len(s)
		}
		if i < 0 || i >= len(s) {
			return nil, fmt.Errorf("axis %d out of range for shape %v", a, s)
		}
		if mask[i] {
			return nil, fmt.Errorf("axis %d repeated in %v", a, axes)
		}
		mask[i] = true
	}
	return mask, nil
}

// AllAxes lists the axes of an n-dimensional tensor: reducing over them
// gives one element.
func AllAxes(n int) []int {
	axes := make([]int, n)
	for i := range axes {
		axes[i] = i
	}
	return axes
}

// divMagic returns the multiplier and shift with which fastdiv.glsl's
// fast_div divides by d (1 <= d <= 2^31) exactly for dividends below 2^31:
// l = ceil(log2 d), m = floor(2^32 (2^l - d) / d) + 1 (Granlund and
// Montgomery's round-up method).
func divMagic(d uint32) (m, l uint32) {
	if d == 0 || d > 1<<31 {
		panic(fmt.Sprintf("kernels: divMagic(%d): divisor out of range", d))
	}
	l = uint32(bits.Len32(d - 1))
	return uint32((((uint64(1) << l) - uint64(d)) << 32 / uint64(d)) + 1), l
}

// divisorWords is the number of push words pushDivisors appends for
// slots divisors.
func divisorWords(slots int) int { return slots + (slots+3)/4 }

// pushDivisors appends the push words with which a shader divides by each
// of dims in slots slots (unused ones divide by 1): the multipliers, then
// the shifts four to a word (see fastdiv.glsl).
func pushDivisors(p gpu.Push, dims []int, slots int) gpu.Push {
	shifts := make([]uint32, (slots+3)/4)
	for d := range slots {
		div := uint32(1)
		if d < len(dims) {
			div = uint32(dims[d])
		}
		m, l := divMagic(div)
		p = p.U32(m)
		shifts[d/4] |= l << (8 * (d % 4))
	}
	for _, s := range shifts {
		p = p.U32(s)
	}
	return p
}
