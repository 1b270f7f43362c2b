package kernels

import (
	"fmt"

	"github.com/noether-vk/noether-vk/gpu"
)

// ReduceOp is a reduction over a set of axes. The values are the
// shader's op codes.
type ReduceOp uint32

// The reductions.
const (
	Sum   ReduceOp = iota
	Mean           // the sum divided by the number of reduced elements
	SumSq          // the sum of squares
)

var reduceNames = [...]string{"sum", "mean", "sumsq"}

// ReduceOps lists every reduction.
var ReduceOps = []ReduceOp{Sum, Mean, SumSq}

func (op ReduceOp) String() string {
	if int(op) < len(reduceNames) {
		return reduceNames[op]
	}
	return fmt.Sprintf("reduce(%d)", uint32(op))
}

// ReduceBackend reduces tensors over axes and broadcasts them back.
//
// With xs the input shape and ks = Reduced(xs, axes, true): the VJP of sum
// is BroadcastTo(g, ks, xs), of mean the same divided by the count, of
// sumsq 2 x ⊙ g broadcast (BinaryBackend.Binary broadcasts g itself).
// BroadcastTo's VJP is a sum over SumAxes.
type ReduceBackend interface {
	// Reduce reduces x of shape xs over axes (negative ones count from
	// the end; none: a copy, or the squares for sumsq), keeping them as
	// dimensions of size 1 with keep, and returns the result's shape.
	Reduce(op ReduceOp, x []float32, xs Shape, axes []int, keep bool) ([]float32, Shape, error)
	// BroadcastTo expands x of shape xs to shape to, which xs must
	// broadcast to.
	BroadcastTo(x []float32, xs, to Shape) ([]float32, error)
}

// reducePlan is a reduction with the input's dimensions grouped into
// runs: adjacent kept dimensions merge, as do adjacent reduced ones, and
// dimensions of size 1 vanish. Output element o and reduced element r (both
// row-major over their runs) read x at Σ o_k kstr_k + Σ r_j rstr_j.
type reducePlan struct {
	m, rlen    int // outputs; reduced elements per output
	kdim, kstr []int
	rdim, rstr []int
	out        Shape // with keep
}

func planReduce(op ReduceOp, xs Shape, axes []int) (*reducePlan, error) {
	if int(op) >= len(reduceNames) {
		return nil, fmt.Errorf("kernels: unknown reduction %d", op)
	}
	mask, err := axisMask(xs, axes)
	if err != nil {
		return nil, fmt.Errorf("kernels: %s: %v", op, err)
	}
	p := &reducePlan{m: 1, rlen: 1}
	p.out, _ = Reduced(xs, axes, true)
	stride := 1
	prevKind := -1 // of the run met last: 0 kept, 1 reduced
	for d := len(xs) - 1; d >= 0; d-- {
		n := xs[d]
		if n == 1 {
			continue
		}
		kind, dims, strs := 0, &p.kdim, &p.kstr
		if mask[d] {
			kind, dims, strs = 1, &p.rdim, &p.rstr
			p.rlen *= n
		} else {
			p.m *= n
		}
		if kind == prevKind {
			(*dims)[0] *= n
		} else {
			// Runs are collected innermost first; prepend.
			*dims = append([]int{n}, *dims...)
			*strs = append([]int{stride}, *strs...)
		}
		prevKind = kind
		stride *= n
	}
	return p, nil
}

// parts is how many partial sums pass 1 computes per output: enough
// threads to fill a device, each summing at least minChunk elements,
// with few enough partials that pass 2 sums them in one thread.
func (p *reducePlan) parts() int {
	const minChunk, targetThreads, maxParts = 64, 65536, 1024
	return max(1, min((p.rlen+minChunk-1)/minChunk, (targetThreads+p.m-1)/p.m, maxParts))
}

// Reduce implements ReduceBackend.
func (CPU) Reduce(op ReduceOp, x []float32, xs Shape, axes []int, keep bool) ([]float32, Shape, error) {
	p, err := planReduce(op, xs, axes)
	if err != nil {
		return nil, nil, err
	}
	if err := checkLen(op.String(), "x of shape "+xs.String(), len(x), xs.Len()); err != nil {
		return nil, nil, err
	}
	out, _ := Reduced(xs, axes, keep)
	// Accumulate x into its output slot: x read through the kept shape's
	// broadcast strides maps every element to the output it belongs to.
	st, _ := BroadcastStrides(p.out, xs)
	acc := make([]float64, p.m)
	for i, v := range x {
		f := float64(v)
		if op == SumSq {
			f *= f
		}
		acc[broadcastIndex(xs, i, st)[0]] += f
	}
	y := make([]float32, p.m)
	for i, s := range acc {
		if op == Mean {
			s /= float64(p.rlen)
		}
		y[i] = float32(s)
	}
	return y, out, nil
}

func checkBroadcastTo(x []float32, xs, to Shape) error {
	if _, err := BroadcastStrides(xs, to); err != nil {
		return fmt.Errorf("kernels: broadcast: %v", err)
	}
	if err := to.check(); err != nil {
		return fmt.Errorf("kernels: broadcast: %v", err)
	}
	return checkLen("broadcast", "x of shape "+xs.String(), len(x), xs.Len())
}

// BroadcastTo implements ReduceBackend.
func (CPU) BroadcastTo(x []float32, xs, to Shape) ([]float32, error) {
	if err := checkBroadcastTo(x, xs, to); err != nil {
		return nil, err
	}
	st, _ := BroadcastStrides(xs, to)
	y := make([]float32, to.Len())
	for i := range y {
		y[i] = x[broadcastIndex(to, i, st)[0]]
	}
	return y, nil
}

// ReduceScratch is the number of floats of scratch memory RecordReduce
// needs for this reduction (0: none).
func (v *Vulkan) ReduceScratch(op ReduceOp, xs Shape, axes []int) (int, error) {
	p, err := planReduce(op, xs, axes)
	if err != nil {
		return 0, err
	}
	if k := p.parts(); k > 1 {
		return p.m * k, nil
	}
	return 0, nil
}

// RecordReduce records y = op of x (shape xs) over axes; y holds the
// Reduced(xs, axes, keep) elements, which are the same for either keep.
// scratch must hold ReduceScratch floats (nil when that is 0).
//
// Long reductions run in two passes: pass 1 computes parts interleaved
// partial sums per output, each thread with Kahan compensation, and pass 2
// sums them. Nothing is shared between threads, so there are no barriers
// and no subgroup operations (barriers are slow on lavapipe), and the
// error stays near one rounding regardless of the axis length.
func (v *Vulkan) RecordReduce(r *gpu.Recorder, op ReduceOp, x *gpu.Buffer, xs Shape, axes []int, y, scratch *gpu.Buffer) error {
	p, err := planReduce(op, xs, axes)
	if err != nil {
		return err
	}
	if err := checkBuf(op.String(), "x", x, xs.Len()); err != nil {
		return err
	}
	if err := checkBuf(op.String(), "y", y, p.m); err != nil {
		return err
	}
	scale := float32(1)
	if op == Mean {
		scale = float32(1 / float64(p.rlen))
	}
	parts := p.parts()
	if parts == 1 {
		return v.reducePass(r, x, y, p, 1, op == SumSq, scale)
	}
	if err := checkBuf(op.String(), "scratch", scratch, p.m*parts); err != nil {
		return err
	}
	if err := v.reducePass(r, x, scratch, p, parts, op == SumSq, 1); err != nil {
		return err
	}
	pass2 := &reducePlan{m: p.m, rlen: parts, kdim: []int{p.m}, kstr: []int{parts}, rdim: []int{parts}, rstr: []int{1}}
	return v.reducePass(r, scratch, y, pass2, 1, false, scale)
}

// reducePass dispatches one pass: parts partial sums for each of p.m
// outputs, written to y[o*parts + part].
func (v *Vulkan) reducePass(r *gpu.Recorder, x, y *gpu.Buffer, p *reducePlan, parts int, square bool, scale float32) error {
	sq := uint32(0)
	if square {
		sq = 1
	}
	if p.rlen >= 1<<31 {
		return fmt.Errorf("kernels: reduction of %d elements per output (at most 2^31 - 1)", p.rlen)
	}
	k, err := v.kernel("reduce", []gpu.Access{gpu.Read, gpu.Write}, 4*(17+divisorWords(3)), v.Local, 1, 1, uint32(len(p.kdim)), uint32(len(p.rdim)), sq)
	if err != nil {
		return err
	}
	// Adjacent threads take adjacent parts when the innermost input
	// dimension is reduced (interleaved parts then read adjacent
	// elements), adjacent outputs otherwise.
	partsFast := uint32(0)
	if len(p.rstr) > 0 && p.rstr[len(p.rstr)-1] == 1 {
		partsFast = 1
	}
	push := gpu.Push{}.U32(uint32(p.m)).U32(uint32(p.rlen)).U32(uint32(parts)).U32(partsFast).F32(scale)
	for _, arr := range [][]int{p.kdim, p.kstr, p.rdim, p.rstr} {
		for d := range 3 {
			if d < len(arr) {
				push = push.U32(uint32(arr[d]))
			} else {
				push = push.U32(0)
			}
		}
	}
	r.Dispatch(k, v.Device.Grid(k, p.m*parts), pushDivisors(push, p.rdim, 3), x, y)
	return nil
}

// Reduce implements ReduceBackend.
func (v *Vulkan) Reduce(op ReduceOp, x []float32, xs Shape, axes []int, keep bool) ([]float32, Shape, error) {
	n, err := v.ReduceScratch(op, xs, axes)
	if err != nil {
		return nil, nil, err
	}
	if err := checkLen(op.String(), "x of shape "+xs.String(), len(x), xs.Len()); err != nil {
		return nil, nil, err
	}
	out, _ := Reduced(xs, axes, keep)
	lens := []int{out.Len()}
	if n > 0 {
		lens = append(lens, n)
	}
	res, err := v.exec([][]float32{x}, lens, func(r *gpu.Recorder, in, o []*gpu.Buffer) error {
		var scratch *gpu.Buffer
		if n > 0 {
			scratch = o[1]
		}
		return v.RecordReduce(r, op, in[0], xs, axes, o[0], scratch)
	})
	if err != nil {
		return nil, nil, err
	}
	return res[0], out, nil
}

// RecordBroadcast records y = x (shape xs) expanded to shape to.
func (v *Vulkan) RecordBroadcast(r *gpu.Recorder, x *gpu.Buffer, xs, to Shape, y *gpu.Buffer) error {
	st, err := BroadcastStrides(xs, to)
	if err != nil {
		return fmt.Errorf("kernels: broadcast: %v", err)
	}
	if err := to.check(); err != nil {
		return fmt.Errorf("kernels: broadcast: %v", err)
	}
	if err := checkBuf("broadcast", "x", x, xs.Len()); err != nil {
		return err
	}
	if err := checkBuf("broadcast", "y", y, to.Len()); err != nil {
		return err
	}
	return v.recordBroadcast(r, opFirst, 0, 0, x, x, y, to, st, make([]int, len(to)))
}

// BroadcastTo implements ReduceBackend.
func (v *Vulkan) BroadcastTo(x []float32, xs, to Shape) ([]float32, error) {
	if err := checkBroadcastTo(x, xs, to); err != nil {
		return nil, err
	}
	res, err := v.exec([][]float32{x}, []int{to.Len()}, func(r *gpu.Recorder, in, o []*gpu.Buffer) error {
		return v.RecordBroadcast(r, in[0], xs, to, o[0])
	})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}
