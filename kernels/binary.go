package kernels

import (
	"fmt"

	"github.com/noether-vk/noether-vk/gpu"
)

// BinaryOp is an elementwise arithmetic operation of two tensors. The
// values are the shader's op codes.
type BinaryOp uint32

// The binary ops.
const (
	Add BinaryOp = iota
	Sub
	Mul
	Div
)

// opFirst is the shader's op code for y = a broadcast (RecordBroadcast).
const opFirst = 4

var binaryNames = [...]string{"add", "sub", "mul", "div"}

// BinaryOps lists every binary op.
var BinaryOps = []BinaryOp{Add, Sub, Mul, Div}

func (op BinaryOp) String() string {
	if int(op) < len(binaryNames) {
		return binaryNames[op]
	}
	return fmt.Sprintf("binary(%d)", uint32(op))
}

// BinaryBackend computes elementwise arithmetic with NumPy broadcasting.
//
// Derivatives are built from these ops and reductions: the VJP of a
// broadcast input sums the output cotangent over the axes it was broadcast
// along (SumAxes, then ReduceBackend.Reduce with keep).
type BinaryBackend interface {
	// Binary returns a op b over the shape that ashape and bshape
	// broadcast to, and that shape.
	Binary(op BinaryOp, a []float32, ashape Shape, b []float32, bshape Shape) ([]float32, Shape, error)
	// BinaryScalar returns x op s elementwise, or s op x with scalarLeft.
	BinaryScalar(op BinaryOp, x []float32, s float32, scalarLeft bool) ([]float32, error)
}

func checkBinaryOp(op BinaryOp) error {
	if int(op) >= len(binaryNames) {
		return fmt.Errorf("kernels: unknown binary op %d", op)
	}
	return nil
}

// binaryShape checks the operands and returns the output shape.
func binaryShape(op BinaryOp, a []float32, ashape Shape, b []float32, bshape Shape) (Shape, error) {
	if err := checkBinaryOp(op); err != nil {
		return nil, err
	}
	out, err := Broadcast(ashape, bshape)
	if err != nil {
		return nil, fmt.Errorf("kernels: %s: %v", op, err)
	}
	if err := checkLen(op.String(), "a of shape "+ashape.String(), len(a), ashape.Len()); err != nil {
		return nil, err
	}
	return out, checkLen(op.String(), "b of shape "+bshape.String(), len(b), bshape.Len())
}

func binaryRef(op BinaryOp, a, b float64) float64 {
	switch op {
	case Add:
		return a + b
	case Sub:
		return a - b
	case Mul:
		return a * b
	case Div:
		return a / b
	}
	panic(fmt.Sprintf("kernels: unknown binary op %d", op))
}

// broadcastIndex returns, for flat output index i of shape out, the flat
// indices into tensors read with the given strides.
func broadcastIndex(out Shape, i int, strides ...[]int) []int {
	idx := make([]int, len(strides))
	for d := len(out) - 1; d >= 0; d-- {
		c := i % out[d]
		i /= out[d]
		for k, st := range strides {
			idx[k] += c * st[d]
		}
	}
	return idx
}

// Binary implements BinaryBackend.
func (CPU) Binary(op BinaryOp, a []float32, ashape Shape, b []float32, bshape Shape) ([]float32, Shape, error) {
	out, err := binaryShape(op, a, ashape, b, bshape)
	if err != nil {
		return nil, nil, err
	}
	sa, _ := BroadcastStrides(ashape, out)
	sb, _ := BroadcastStrides(bshape, out)
	y := make([]float32, out.Len())
	for i := range y {
		idx := broadcastIndex(out, i, sa, sb)
		y[i] = float32(binaryRef(op, float64(a[idx[0]]), float64(b[idx[1]])))
	}
	return y, out, nil
}

// BinaryScalar implements BinaryBackend.
func (CPU) BinaryScalar(op BinaryOp, x []float32, s float32, scalarLeft bool) ([]float32, error) {
	if err := checkBinaryOp(op); err != nil {
		return nil, err
	}
	y := make([]float32, len(x))
	for i, v := range x {
		if scalarLeft {
			y[i] = float32(binaryRef(op, float64(s), float64(v)))
		} else {
			y[i] = float32(binaryRef(op, float64(v), float64(s)))
		}
	}
	return y, nil
}

// collapse merges the dimensions of out that every operand walks with
// one stride (adjacent dimensions i, i+1 with stride[i] = stride[i+1] *
// out[i+1], broadcast ones included) and drops dimensions of size 1, so
// that same-shape operands become one flat dimension and the shader does
// as few divisions as possible. It returns at least one dimension.
func collapse(out Shape, strides ...[]int) (Shape, [][]int) {
	var dims Shape
	st := make([][]int, len(strides))
	for d, n := range out {
		if n == 1 {
			continue
		}
		if k := len(dims) - 1; k >= 0 {
			merge := true
			for j, s := range strides {
				merge = merge && st[j][k] == s[d]*n
			}
			if merge {
				dims[k] *= n
				for j, s := range strides {
					st[j][k] = s[d]
				}
				continue
			}
		}
		dims = append(dims, n)
		for j, s := range strides {
			st[j] = append(st[j], s[d])
		}
	}
	if len(dims) == 0 {
		dims = Shape{1}
		for j := range st {
			st[j] = []int{0}
		}
	}
	return dims, st
}

// checkBuf returns an error naming op when buffer b cannot hold n floats.
func checkBuf(op, what string, b *gpu.Buffer, n int) error {
	if b == nil {
		return fmt.Errorf("kernels: %s: %s buffer is nil", op, what)
	}
	if b.Size() < int64(4*n) {
		return fmt.Errorf("kernels: %s: %s buffer holds %d bytes, need %d", op, what, b.Size(), 4*n)
	}
	return nil
}

// recordBroadcast dispatches the binary shader over out with operands
// read through the given broadcast strides (len(out) of each). b is
// ignored (and should be a) for opFirst and scalar modes.
func (v *Vulkan) recordBroadcast(r *gpu.Recorder, op uint32, scalar uint32, s float32, a, b, y *gpu.Buffer, out Shape, sa, sb []int) error {
	dims, st := collapse(out, sa, sb)
	k, err := v.kernel("binary", []gpu.Access{gpu.Read, gpu.Read, gpu.Write}, 4*(2+3*MaxDims+divisorWords(MaxDims)), v.Local, 1, 1, op, uint32(len(dims)), scalar)
	if err != nil {
		return err
	}
	n := out.Len()
	if n >= 1<<31 {
		return fmt.Errorf("kernels: binary op over %v: %d elements (at most 2^31 - 1 a dispatch)", out, n)
	}
	push := gpu.Push{}.U32(uint32(n)).F32(s)
	for _, arr := range [][]int{dims, st[0], st[1]} {
		for d := range MaxDims {
			if d < len(arr) {
				push = push.U32(uint32(arr[d]))
			} else {
				push = push.U32(0)
			}
		}
	}
	r.Dispatch(k, v.Device.Grid(k, n), pushDivisors(push, dims, MaxDims), a, b, y)
	return nil
}

// RecordBinary records y = a op b, where a has shape ashape, b has shape
// bshape and y the shape they broadcast to.
func (v *Vulkan) RecordBinary(r *gpu.Recorder, op BinaryOp, a *gpu.Buffer, ashape Shape, b *gpu.Buffer, bshape Shape, y *gpu.Buffer) error {
	if err := checkBinaryOp(op); err != nil {
		return err
	}
	out, err := Broadcast(ashape, bshape)
	if err != nil {
		return fmt.Errorf("kernels: %s: %v", op, err)
	}
	for _, c := range []struct {
		what string
		b    *gpu.Buffer
		n    int
	}{{"a", a, ashape.Len()}, {"b", b, bshape.Len()}, {"y", y, out.Len()}} {
		if err := checkBuf(op.String(), c.what, c.b, c.n); err != nil {
			return err
		}
	}
	sa, _ := BroadcastStrides(ashape, out)
	sb, _ := BroadcastStrides(bshape, out)
	return v.recordBroadcast(r, uint32(op), 0, 0, a, b, y, out, sa, sb)
}

// RecordBinaryScalar records y = x op s over n elements, or y = s op x
// with scalarLeft; s travels as a push constant.
func (v *Vulkan) RecordBinaryScalar(r *gpu.Recorder, op BinaryOp, x *gpu.Buffer, s float32, scalarLeft bool, y *gpu.Buffer, n int) error {
	if err := checkBinaryOp(op); err != nil {
		return err
	}
	if err := checkBuf(op.String(), "x", x, n); err != nil {
		return err
	}
	if err := checkBuf(op.String(), "y", y, n); err != nil {
		return err
	}
	mode := uint32(1)
	if scalarLeft {
		mode = 2
	}
	return v.recordBroadcast(r, uint32(op), mode, s, x, x, y, Shape{n}, []int{1}, []int{0})
}

// Binary implements BinaryBackend.
func (v *Vulkan) Binary(op BinaryOp, a []float32, ashape Shape, b []float32, bshape Shape) ([]float32, Shape, error) {
	out, err := binaryShape(op, a, ashape, b, bshape)
	if err != nil {
		return nil, nil, err
	}
	res, err := v.exec([][]float32{a, b}, []int{out.Len()}, func(r *gpu.Recorder, in, o []*gpu.Buffer) error {
		return v.RecordBinary(r, op, in[0], ashape, in[1], bshape, o[0])
	})
	if err != nil {
		return nil, nil, err
	}
	return res[0], out, nil
}

// BinaryScalar implements BinaryBackend.
func (v *Vulkan) BinaryScalar(op BinaryOp, x []float32, s float32, scalarLeft bool) ([]float32, error) {
	if err := checkBinaryOp(op); err != nil {
		return nil, err
	}
	res, err := v.exec([][]float32{x}, []int{len(x)}, func(r *gpu.Recorder, in, o []*gpu.Buffer) error {
		return v.RecordBinaryScalar(r, op, in[0], s, scalarLeft, o[0], len(x))
	})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}
