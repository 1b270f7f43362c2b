package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// ConcatBackend joins tensors along one axis and splits them apart. Both
// are linear and each is the other's VJP: the VJP of Concat is Split of
// the cotangent with the parts' sizes, the VJP of Split is Concat of the
// parts' cotangents; tangents are the ops applied to tangents. Axes may
// be negative (counted from the end). Along channels of NCHW tensors the
// axis is 1: the decoder's skip concatenation.
type ConcatBackend interface {
	// Concat joins xs[i] of shapes[i], which agree except along axis,
	// and returns the result and its shape.
	Concat(xs [][]float32, shapes []Shape, axis int) ([]float32, Shape, error)
	// Split cuts x of shape xs along axis into parts of sizes[i] (which
	// sum to xs[axis]).
	Split(x []float32, xs Shape, axis int, sizes []int) ([][]float32, error)
}

// concatPlan is a concatenation viewed as rows: every part is outer rows
// of lens[i] floats, which sit at column offs[i] of the whole's rows of
// row floats.
type concatPlan struct {
	outer, row int
	lens, offs []int
	out        Shape
	partShapes []Shape
}

func planConcat(op string, shapes []Shape, axis int) (*concatPlan, error) {
	if len(shapes) == 0 {
		return nil, fmt.Errorf("kernels: %s: no parts", op)
	}
	nd := len(shapes[0])
	ax := axis
	if ax < 0 {
		ax += nd
	}
	if ax < 0 || ax >= nd {
		return nil, fmt.Errorf("kernels: %s: axis %d out of range for shape %v", op, axis, shapes[0])
	}
	p := &concatPlan{outer: 1}
	p.out = append(Shape(nil), shapes[0]...)
	p.out[ax] = 0
	inner := 1
	for d := ax + 1; d < nd; d++ {
		inner *= shapes[0][d]
	}
	for d := 0; d < ax; d++ {
		p.outer *= shapes[0][d]
	}
	for i, s := range shapes {
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("kernels: %s: part %d: %v", op, i, err)
		}
		if len(s) != nd {
			return nil, fmt.Errorf("kernels: %s: part %d has shape %v, part 0 %v: ranks differ", op, i, s, shapes[0])
		}
		for d := range s {
			if d != ax && s[d] != shapes[0][d] {
				return nil, fmt.Errorf("kernels: %s: part %d has shape %v, part 0 %v: they differ off axis %d", op, i, s, shapes[0], axis)
			}
		}
		p.out[ax] += s[ax]
		p.lens = append(p.lens, s[ax]*inner)
		p.offs = append(p.offs, p.row)
		p.row += s[ax] * inner
		p.partShapes = append(p.partShapes, s)
	}
	if uint64(p.outer)*uint64(p.row) > math.MaxInt32 {
		return nil, fmt.Errorf("kernels: %s: shape %v has more than 2^31 elements", op, p.out)
	}
	return p, nil
}

// splitShapes returns the parts' shapes of a split of xs along axis.
func splitShapes(xs Shape, axis int, sizes []int) ([]Shape, error) {
	if err := xs.check(); err != nil {
		return nil, fmt.Errorf("kernels: split: %v", err)
	}
	ax := axis
	if ax < 0 {
		ax += len(xs)
	}
	if ax < 0 || ax >= len(xs) {
		return nil, fmt.Errorf("kernels: split: axis %d out of range for shape %v", axis, xs)
	}
	total := 0
	var out []Shape
	for _, n := range sizes {
		if n < 1 {
			return nil, fmt.Errorf("kernels: split: sizes %v of shape %v along axis %d: a size is < 1", sizes, xs, axis)
		}
		s := append(Shape(nil), xs...)
		s[ax] = n
		out = append(out, s)
		total += n
	}
	if total != xs[ax] {
		return nil, fmt.Errorf("kernels: split: sizes %v sum to %d, shape %v has %d along axis %d", sizes, total, xs, xs[ax], axis)
	}
	return out, nil
}

// Concat implements ConcatBackend.
func (CPU) Concat(xs [][]float32, shapes []Shape, axis int) ([]float32, Shape, error) {
	p, err := checkConcat(xs, shapes, axis)
	if err != nil {
		return nil, nil, err
	}
	y := make([]float32, p.outer*p.row)
	for i, x := range xs {
		for o := range p.outer {
			copy(y[o*p.row+p.offs[i]:o*p.row+p.offs[i]+p.lens[i]], x[o*p.lens[i]:(o+1)*p.lens[i]])
		}
	}
	return y, p.out, nil
}

func checkConcat(xs [][]float32, shapes []Shape, axis int) (*concatPlan, error) {
	if len(xs) != len(shapes) {
		return nil, fmt.Errorf("kernels: concat: %d parts, %d shapes", len(xs), len(shapes))
	}
	p, err := planConcat("concat", shapes, axis)
	if err != nil {
		return nil, err
	}
	for i, x := range xs {
		if err := checkLen("concat", fmt.Sprintf("part %d of shape %v", i, shapes[i]), len(x), shapes[i].Len()); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func checkSplit(x []float32, xs Shape, axis int, sizes []int) (*concatPlan, error) {
	shapes, err := splitShapes(xs, axis, sizes)
	if err != nil {
		return nil, err
	}
	if err := checkLen("split", "x of shape "+xs.String(), len(x), xs.Len()); err != nil {
		return nil, err
	}
	return planConcat("split", shapes, axis)
}

// Split implements ConcatBackend.
func (CPU) Split(x []float32, xs Shape, axis int, sizes []int) ([][]float32, error) {
	p, err := checkSplit(x, xs, axis, sizes)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(sizes))
	for i := range out {
		out[i] = make([]float32, p.outer*p.lens[i])
		for o := range p.outer {
			copy(out[i][o*p.lens[i]:(o+1)*p.lens[i]], x[o*p.row+p.offs[i]:o*p.row+p.offs[i]+p.lens[i]])
		}
	}
	return out, nil
}

// concatElems times Vulkan.Elems is the run of floats one invocation of
// the copy kernel moves (capped at the part's row length).
const concatElems = 4

// concatMode is the shader's MODE.
type concatMode uint32

const (
	concatInsert concatMode = iota
	concatExtract
)

// recordConcatParts dispatches one copy per part between whole and parts.
func (v *Vulkan) recordConcatParts(r *gpu.Recorder, op string, mode concatMode, p *concatPlan, whole *gpu.Buffer, parts []*gpu.Buffer) error {
	if len(parts) != len(p.lens) {
		return fmt.Errorf("kernels: %s: %d part buffers for %d parts", op, len(parts), len(p.lens))
	}
	if err := checkBuf(op, "whole of shape "+p.out.String(), whole, p.outer*p.row); err != nil {
		return err
	}
	for i, b := range parts {
		if err := checkBuf(op, fmt.Sprintf("part %d of shape %v", i, p.partShapes[i]), b, p.outer*p.lens[i]); err != nil {
			return err
		}
	}
	for i, b := range parts {
		// Each invocation copies a run of elems floats of one row.
		elems := min(concatElems*int(v.Elems), p.lens[i])
		k, err := v.kernel("concat", []gpu.Access{gpu.Write, gpu.Read}, 4*4, v.Local, 1, 1, uint32(mode), uint32(elems))
		if err != nil {
			return err
		}
		push := gpu.Push{}.U32(uint32(p.outer)).U32(uint32(p.lens[i])).U32(uint32(p.row)).U32(uint32(p.offs[i]))
		grid := v.Device.Grid(k, p.outer*((p.lens[i]+elems-1)/elems))
		if mode == concatInsert {
			r.Dispatch(k, grid, push, whole, b)
		} else {
			r.Dispatch(k, grid, push, b, whole)
		}
	}
	return nil
}

// RecordConcat records y = the concatenation of xs (shapes) along axis.
func (v *Vulkan) RecordConcat(r *gpu.Recorder, xs []*gpu.Buffer, shapes []Shape, axis int, y *gpu.Buffer) error {
	p, err := planConcat("concat", shapes, axis)
	if err != nil {
		return err
	}
	return v.recordConcatParts(r, "concat", concatInsert, p, y, xs)
}

// RecordSplit records the parts ys of x (shape xs) cut along axis into
// sizes.
func (v *Vulkan) RecordSplit(r *gpu.Recorder, x *gpu.Buffer, xs Shape, axis int, sizes []int, ys []*gpu.Buffer) error {
	shapes, err := splitShapes(xs, axis, sizes)
	if err != nil {
		return err
	}
	p, err := planConcat("split", shapes, axis)
	if err != nil {
		return err
	}
	return v.recordConcatParts(r, "split", concatExtract, p, x, ys)
}

// Concat implements ConcatBackend.
func (v *Vulkan) Concat(xs [][]float32, shapes []Shape, axis int) ([]float32, Shape, error) {
	p, err := checkConcat(xs, shapes, axis)
	if err != nil {
		return nil, nil, err
	}
	out, err := v.exec(xs, []int{p.outer * p.row}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordConcat(r, in, shapes, axis, out[0])
	})
	if err != nil {
		return nil, nil, err
	}
	return out[0], p.out, nil
}

// Split implements ConcatBackend.
func (v *Vulkan) Split(x []float32, xs Shape, axis int, sizes []int) ([][]float32, error) {
	p, err := checkSplit(x, xs, axis, sizes)
	if err != nil {
		return nil, err
	}
	lens := make([]int, len(sizes))
	for i := range lens {
		lens[i] = p.outer * p.lens[i]
	}
	return v.exec([][]float32{x}, lens, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordSplit(r, in[0], xs, axis, sizes, out)
	})
}
