package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// RowwiseOp is an op on each row of a [rows, L] tensor that reduces the
// row and writes the row (or one value) from the result: what Grad-CAM
// and PCA need beyond the arithmetic families. None is differentiable.
// The values are the shader's mode codes.
type RowwiseOp uint32

const (
	// RowMinMax maps each row to [0, 1]: (x - min) / (max - min); a
	// constant row (max = min) becomes zeros rather than NaN.
	RowMinMax RowwiseOp = iota
	// RowSign is one value per row: the sign of the row's entry of
	// largest magnitude (the first such entry on ties), +1 for a row of
	// zeros. It is scikit-learn's svd_flip: multiplying each row by its
	// sign makes that entry positive.
	RowSign
	// RowJet blends a heat map onto an image: with x [rows, L] in [0, 1]
	// and f [rows, 3, L] an RGB image per row (planar, in [0, 1]), y[r,
	// c, j] = (jet_c(x[r, j]) + f[r, c, j]) / m_r, m_r the row's largest
	// sum, so the brightest value is 1. jet is the piecewise-linear jet
	// colour map (MATLAB's; OpenCV's COLORMAP_JET samples it at 256
	// levels): channel c is clamp(1.5 - |4v - (3 - c)|, 0, 1), dark blue
	// (0, 0, 0.5) at 0, blue, cyan, yellow, red, dark red (0.5, 0, 0) at
	// 1. pytorch-grad-cam's show_cam_on_image does the same on the map
	// quantised to 256 levels; here it is not quantised.
	RowJet
)

var rowwiseNames = [...]string{"row_minmax", "row_sign", "row_jet"}

// RowwiseOps lists every RowwiseOp.
var RowwiseOps = []RowwiseOp{RowMinMax, RowSign, RowJet}

func (op RowwiseOp) String() string {
	if int(op) < len(rowwiseNames) {
		return rowwiseNames[op]
	}
	return fmt.Sprintf("rowwise(%d)", uint32(op))
}

// OutLen is the element count of op's output for rows of length l.
func (op RowwiseOp) OutLen(rows, l int) int {
	switch op {
	case RowSign:
		return rows
	case RowJet:
		return 3 * rows * l
	}
	return rows * l
}

// rowwiseMaxLen bounds a row's length: RowSign carries the index of its
// winner in a float32, exact up to 2^24.
const rowwiseMaxLen = 1 << 24

// rowwiseLocal is the workgroup size: a power of two for the tree
// reduction.
const rowwiseLocal = 64

// RowwiseBackend runs the rowwise ops.
type RowwiseBackend interface {
	// Rowwise applies op to the rows of x [rows, l]; f is RowJet's image
	// [rows, 3, l] and nil for the others.
	Rowwise(op RowwiseOp, rows, l int, x, f []float32) ([]float32, error)
}

// checkRowwiseShape checks op and the rows' count and length.
func checkRowwiseShape(op RowwiseOp, rows, l int) error {
	switch {
	case int(op) >= len(rowwiseNames):
		return fmt.Errorf("kernels: unknown rowwise op %d", op)
	case rows < 1 || l < 1 || l > rowwiseMaxLen || uint64(rows)*uint64(l)*3 > math.MaxInt32:
		return fmt.Errorf("kernels: %s: %d rows of %d: want at least one row of 1 to 2^24 elements, fewer than 2^31 in all", op, rows, l)
	}
	return nil
}

func checkRowwise(op RowwiseOp, rows, l int, x, f []float32) error {
	if err := checkRowwiseShape(op, rows, l); err != nil {
		return err
	}
	if err := checkLen(op.String(), "x", len(x), rows*l); err != nil {
		return err
	}
	if op == RowJet {
		return checkLen(op.String(), "the image f", len(f), 3*rows*l)
	}
	if f != nil {
		return fmt.Errorf("kernels: %s takes no image f", op)
	}
	return nil
}

// jet is RowJet's colour map, channel c of value v.
func jet(v float64, c int) float64 {
	return math.Min(1, math.Max(0, 1.5-math.Abs(4*v-float64(3-c))))
}

// Rowwise implements RowwiseBackend.
func (CPU) Rowwise(op RowwiseOp, rows, l int, x, f []float32) ([]float32, error) {
	if err := checkRowwise(op, rows, l, x, f); err != nil {
		return nil, err
	}
	y := make([]float32, op.OutLen(rows, l))
	for r := range rows {
		row := x[r*l : (r+1)*l]
		switch op {
		case RowMinMax:
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range row {
				lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
			}
			if hi > lo {
				for j, v := range row {
					y[r*l+j] = float32((float64(v) - lo) / (hi - lo))
				}
			}
		case RowSign:
			best := 0
			for j, v := range row {
				if math.Abs(float64(v)) > math.Abs(float64(row[best])) {
					best = j
				}
			}
			y[r] = 1
			if row[best] < 0 {
				y[r] = -1
			}
		case RowJet:
			img := f[3*r*l : 3*(r+1)*l]
			m := math.Inf(-1)
			for c := range 3 {
				for j, v := range row {
					m = math.Max(m, jet(float64(v), c)+float64(img[c*l+j]))
				}
			}
			for c := range 3 {
				for j, v := range row {
					y[3*r*l+c*l+j] = float32((jet(float64(v), c) + float64(img[c*l+j])) / m)
				}
			}
		}
	}
	return y, nil
}

// RecordRowwise records op on the rows of x [rows, l] into y
// (op.OutLen(rows, l) floats); f is RowJet's image [rows, 3, l], nil for
// the others.
func (v *Vulkan) RecordRowwise(r *gpu.Recorder, op RowwiseOp, rows, l int, x, f, y *gpu.Buffer) error {
	if err := checkRowwiseShape(op, rows, l); err != nil {
		return err
	}
	if err := checkBuf(op.String(), "x", x, rows*l); err != nil {
		return err
	}
	if err := checkBuf(op.String(), "y", y, op.OutLen(rows, l)); err != nil {
		return err
	}
	if op == RowJet {
		if err := checkBuf(op.String(), "the image f", f, 3*rows*l); err != nil {
			return err
		}
	} else {
		f = x
	}
	// Two passes over the row (the reduction, then the writes); wg_reduce
	// of a vec2.
	local, err := v.strideLocal(op.String(), rowwiseLocal, 2, 1, l, 8)
	if err != nil {
		return err
	}
	k, err := v.kernel(v.subgroupVariant("rowwise", local), []gpu.Access{gpu.Write, gpu.Read, gpu.Read}, 4*2, local, 1, 1, uint32(op))
	if err != nil {
		return err
	}
	// One workgroup per row.
	r.Dispatch(k, v.Device.Grid(k, rows*int(local)), gpu.Push{}.U32(uint32(rows)).U32(uint32(l)), y, x, f)
	return nil
}

// Rowwise implements RowwiseBackend.
func (v *Vulkan) Rowwise(op RowwiseOp, rows, l int, x, f []float32) ([]float32, error) {
	if err := checkRowwise(op, rows, l, x, f); err != nil {
		return nil, err
	}
	ins := [][]float32{x}
	if op == RowJet {
		ins = append(ins, f)
	}
	return v.exec1(ins, op.OutLen(rows, l), func(r *gpu.Recorder, in []*gpu.Buffer, out *gpu.Buffer) error {
		var img *gpu.Buffer
		if op == RowJet {
			img = in[1]
		}
		return v.RecordRowwise(r, op, rows, l, in[0], img, out)
	})
}
