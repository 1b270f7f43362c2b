package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// PoolShape is a 2-D max pooling of x [N, C, H, W] over KH x KW windows
// with strides (SH, SW), no padding, floor mode as in PyTorch: the output
// is [N, C, OH, OW] with OH = (H - KH)/SH + 1 and OW = (W - KW)/SW + 1;
// trailing rows and columns that do not fill a window are dropped. A zero
// stride means the window size (PyTorch's default).
type PoolShape struct{ N, C, H, W, KH, KW, SH, SW int }

// MaxPool2x2 is the 2x2, stride-2 pooling of x [n, c, h, w].
func MaxPool2x2(n, c, h, w int) PoolShape { return PoolShape{N: n, C: c, H: h, W: w, KH: 2, KW: 2} }

func (s PoolShape) strides() (int, int) {
	sh, sw := s.SH, s.SW
	if sh == 0 {
		sh = s.KH
	}
	if sw == 0 {
		sw = s.KW
	}
	return sh, sw
}

// Out returns the output's spatial size.
func (s PoolShape) Out() (oh, ow int) {
	sh, sw := s.strides()
	return (s.H-s.KH)/sh + 1, (s.W-s.KW)/sw + 1
}

// InLen is the element count of x.
func (s PoolShape) InLen() int { return s.N * s.C * s.H * s.W }

// OutLen is the element count of y (and of the argmax).
func (s PoolShape) OutLen() int { oh, ow := s.Out(); return s.N * s.C * oh * ow }

func (s PoolShape) String() string {
	sh, sw := s.strides()
	return fmt.Sprintf("[%d,%d,%d,%d] k%dx%d s%dx%d", s.N, s.C, s.H, s.W, s.KH, s.KW, sh, sw)
}

func (s PoolShape) check() error {
	sh, sw := s.strides()
	switch {
	case s.N < 1 || s.C < 1 || s.H < 1 || s.W < 1:
		return fmt.Errorf("kernels: maxpool2d: shape %v has an empty dimension", s)
	case s.KH < 1 || s.KW < 1 || sh < 1 || sw < 1:
		return fmt.Errorf("kernels: maxpool2d: shape %v: window and strides must be positive", s)
	case s.KH > s.H || s.KW > s.W:
		return fmt.Errorf("kernels: maxpool2d: shape %v: the window is larger than the input", s)
	case uint64(s.N)*uint64(s.C)*uint64(s.H)*uint64(s.W) > math.MaxInt32:
		return fmt.Errorf("kernels: maxpool2d: shape %v has more than 2^31 elements", s)
	}
	return nil
}

// MaxPoolBackend computes max pooling and its derivatives. The argmax
// (flat indices into x of each window's first maximum in row-major window
// order; a NaN wins, as in PyTorch) is returned by the forward and drives
// the derivatives:
//
//   - MaxPool2DBackward: dx[i] = sum of g[o] over the windows o whose
//     argmax is i.
//   - MaxPool2DTangent: the JVP, ty[o] = tx[arg[o]].
//
// The tangent of the backward is MaxPool2DBackward applied to the
// cotangent's tangent tg: the argmax is locally constant.
type MaxPoolBackend interface {
	MaxPool2D(sh PoolShape, x []float32) (y []float32, arg []int32, err error)
	MaxPool2DBackward(sh PoolShape, arg []int32, g []float32) ([]float32, error)
	MaxPool2DTangent(sh PoolShape, arg []int32, tx []float32) ([]float32, error)
}

// checkPoolArgs validates sh, a buffer argument of n elements (want
// expected) and, when arg is not nil, the argmax.
func checkPoolArgs(sh PoolShape, what string, n, want int, arg []int32) error {
	if err := sh.check(); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("kernels: maxpool2d: %s has %d elements, want %d for shape %v", what, n, want, sh)
	}
	if arg == nil {
		return nil
	}
	if len(arg) != sh.OutLen() {
		return fmt.Errorf("kernels: maxpool2d: argmax has %d elements, want %d for shape %v", len(arg), sh.OutLen(), sh)
	}
	for _, a := range arg {
		if a < 0 || int(a) >= sh.InLen() {
			return fmt.Errorf("kernels: maxpool2d: argmax %d out of range for shape %v", a, sh)
		}
	}
	return nil
}

// MaxPool2D implements MaxPoolBackend.
func (CPU) MaxPool2D(sh PoolShape, x []float32) ([]float32, []int32, error) {
	if err := checkPoolArgs(sh, "x", len(x), sh.InLen(), nil); err != nil {
		return nil, nil, err
	}
	oh, ow := sh.Out()
	sy, sx := sh.strides()
	y, arg := make([]float32, sh.OutLen()), make([]int32, sh.OutLen())
	o := 0
	for pl := range sh.N * sh.C {
		for oy := range oh {
			for ox := range ow {
				best := pl*sh.H*sh.W + oy*sy*sh.W + ox*sx
				for ky := range sh.KH {
					for kx := range sh.KW {
						j := pl*sh.H*sh.W + (oy*sy+ky)*sh.W + ox*sx + kx
						v, b := x[j], x[best]
						if v > b || poolIsNaN32(v) && !poolIsNaN32(b) {
							best = j
						}
					}
				}
				y[o], arg[o] = x[best], int32(best)
				o++
			}
		}
	}
	return y, arg, nil
}

func poolIsNaN32(v float32) bool { return v != v }

// MaxPool2DBackward implements MaxPoolBackend.
func (CPU) MaxPool2DBackward(sh PoolShape, arg []int32, g []float32) ([]float32, error) {
	if err := checkPoolArgs(sh, "g", len(g), sh.OutLen(), arg); err != nil {
		return nil, err
	}
	dx := make([]float64, sh.InLen())
	for o, a := range arg {
		dx[a] += float64(g[o])
	}
	out := make([]float32, len(dx))
	for i, v := range dx {
		out[i] = float32(v)
	}
	return out, nil
}

// MaxPool2DTangent implements MaxPoolBackend.
func (CPU) MaxPool2DTangent(sh PoolShape, arg []int32, tx []float32) ([]float32, error) {
	if err := checkPoolArgs(sh, "tx", len(tx), sh.InLen(), arg); err != nil {
		return nil, err
	}
	ty := make([]float32, len(arg))
	for o, a := range arg {
		ty[o] = tx[a]
	}
	return ty, nil
}

// maxpoolMode is the shader's MODE.
type maxpoolMode uint32

const (
	maxpoolForward maxpoolMode = iota
	maxpoolTangent
	maxpoolBackward
	maxpoolBackwardScatter
)

func (v *Vulkan) recordMaxPool(r *gpu.Recorder, mode maxpoolMode, sh PoolShape, out, arg, in *gpu.Buffer) error {
	if err := sh.check(); err != nil {
		return err
	}
	inLen, outLen := sh.InLen(), sh.OutLen()
	names := [...][3]string{{"y", "argmax", "x"}, {"ty", "argmax", "tx"}, {"dx", "argmax", "g"}}[mode]
	lens := [...][3]int{{outLen, outLen, inLen}, {outLen, outLen, inLen}, {inLen, outLen, outLen}}[mode]
	for i, b := range []*gpu.Buffer{out, arg, in} {
		if err := checkBuf("maxpool2d", names[i]+" of shape "+sh.String(), b, lens[i]); err != nil {
			return err
		}
	}
	access := []gpu.Access{gpu.Write, gpu.Read, gpu.Read}
	if mode == maxpoolForward {
		access[1] = gpu.Write
	}
	oh, ow := sh.Out()
	sy, sx := sh.strides()
	grid := lens[0]
	if mode == maxpoolBackward && sy >= sh.KH && sx >= sh.KW {
		// Windows do not overlap: one invocation per window writes it
		// whole; gaps between windows and the rows and columns the floor
		// drops are cleared first.
		mode, grid = maxpoolBackwardScatter, outLen
		if sy > sh.KH || sx > sh.KW || oh*sy != sh.H || ow*sx != sh.W {
			r.Fill(out, 0)
		}
	}
	k, err := v.kernel("maxpool2d", access, 4*9, v.Local, 1, 1, uint32(mode))
	if err != nil {
		return err
	}
	push := gpu.Push{}
	for _, u := range []int{sh.N * sh.C, sh.H, sh.W, oh, ow, sh.KH, sh.KW, sy, sx} {
		push = push.U32(uint32(u))
	}
	r.Dispatch(k, v.Device.Grid(k, grid), push, out, arg, in)
	return nil
}

// RecordMaxPool2D records y = maxpool(x) and its argmax (OutLen uint32
// flat indices into x).
func (v *Vulkan) RecordMaxPool2D(r *gpu.Recorder, sh PoolShape, x, y, arg *gpu.Buffer) error {
	return v.recordMaxPool(r, maxpoolForward, sh, y, arg, x)
}

// RecordMaxPool2DBackward records dx from the cotangent g of y and the
// forward's argmax. Its tangent is the same kernel applied to tg.
func (v *Vulkan) RecordMaxPool2DBackward(r *gpu.Recorder, sh PoolShape, arg, g, dx *gpu.Buffer) error {
	return v.recordMaxPool(r, maxpoolBackward, sh, dx, arg, g)
}

// RecordMaxPool2DTangent records ty = tx[arg].
func (v *Vulkan) RecordMaxPool2DTangent(r *gpu.Recorder, sh PoolShape, arg, tx, ty *gpu.Buffer) error {
	return v.recordMaxPool(r, maxpoolTangent, sh, ty, arg, tx)
}

func poolInt32Bits(a []int32) []float32 {
	out := make([]float32, len(a))
	for i, v := range a {
		out[i] = math.Float32frombits(uint32(v))
	}
	return out
}

// MaxPool2D implements MaxPoolBackend.
func (v *Vulkan) MaxPool2D(sh PoolShape, x []float32) ([]float32, []int32, error) {
	if err := checkPoolArgs(sh, "x", len(x), sh.InLen(), nil); err != nil {
		return nil, nil, err
	}
	out, err := v.exec([][]float32{x}, []int{sh.OutLen(), sh.OutLen()}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordMaxPool2D(r, sh, in[0], out[0], out[1])
	})
	if err != nil {
		return nil, nil, err
	}
	arg := make([]int32, len(out[1]))
	for i, f := range out[1] {
		arg[i] = int32(math.Float32bits(f))
	}
	return out[0], arg, nil
}

// MaxPool2DBackward implements MaxPoolBackend.
func (v *Vulkan) MaxPool2DBackward(sh PoolShape, arg []int32, g []float32) ([]float32, error) {
	if err := checkPoolArgs(sh, "g", len(g), sh.OutLen(), arg); err != nil {
		return nil, err
	}
	return v.exec1([][]float32{poolInt32Bits(arg), g}, sh.InLen(), func(r *gpu.Recorder, in []*gpu.Buffer, out *gpu.Buffer) error {
		return v.RecordMaxPool2DBackward(r, sh, in[0], in[1], out)
	})
}

// MaxPool2DTangent implements MaxPoolBackend.
func (v *Vulkan) MaxPool2DTangent(sh PoolShape, arg []int32, tx []float32) ([]float32, error) {
	if err := checkPoolArgs(sh, "tx", len(tx), sh.InLen(), arg); err != nil {
		return nil, err
	}
	return v.exec1([][]float32{poolInt32Bits(arg), tx}, sh.OutLen(), func(r *gpu.Recorder, in []*gpu.Buffer, out *gpu.Buffer) error {
		return v.RecordMaxPool2DTangent(r, sh, in[0], in[1], out)
	})
}

// UpsampleShape is nearest-neighbour upsampling of x [N, C, H, W] by
// integer factors (FH, FW) to y [N, C, H*FH, W*FW].
type UpsampleShape struct{ N, C, H, W, FH, FW int }

// InLen is the element count of x.
func (s UpsampleShape) InLen() int { return s.N * s.C * s.H * s.W }

// OutLen is the element count of y.
func (s UpsampleShape) OutLen() int { return s.InLen() * s.FH * s.FW }

func (s UpsampleShape) String() string {
	return fmt.Sprintf("[%d,%d,%d,%d] x%dx%d", s.N, s.C, s.H, s.W, s.FH, s.FW)
}

func (s UpsampleShape) check() error {
	switch {
	case s.N < 1 || s.C < 1 || s.H < 1 || s.W < 1:
		return fmt.Errorf("kernels: upsample_nearest2d: shape %v has an empty dimension", s)
	case s.FH < 1 || s.FW < 1:
		return fmt.Errorf("kernels: upsample_nearest2d: shape %v: factors must be positive", s)
	case uint64(s.InLen())*uint64(s.FH)*uint64(s.FW) > math.MaxInt32:
		return fmt.Errorf("kernels: upsample_nearest2d: shape %v has more than 2^31 output elements", s)
	}
	return nil
}

// UpsampleBackend computes nearest-neighbour upsampling, which is linear:
// its tangent is UpsampleNearest2D of tx, and the tangent of its backward
// is UpsampleNearest2DBackward of tg. The backward sums each FH x FW
// block of g.
type UpsampleBackend interface {
	UpsampleNearest2D(sh UpsampleShape, x []float32) ([]float32, error)
	UpsampleNearest2DBackward(sh UpsampleShape, g []float32) ([]float32, error)
}

func checkUpsample(sh UpsampleShape, what string, n, want int) error {
	if err := sh.check(); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("kernels: upsample_nearest2d: %s has %d elements, want %d for shape %v", what, n, want, sh)
	}
	return nil
}

// UpsampleNearest2D implements UpsampleBackend.
func (CPU) UpsampleNearest2D(sh UpsampleShape, x []float32) ([]float32, error) {
	if err := checkUpsample(sh, "x", len(x), sh.InLen()); err != nil {
		return nil, err
	}
	oh, ow := sh.H*sh.FH, sh.W*sh.FW
	y := make([]float32, sh.OutLen())
	for i := range y {
		pl, r := i/(oh*ow), i%(oh*ow)
		y[i] = x[pl*sh.H*sh.W+(r/ow/sh.FH)*sh.W+(r%ow)/sh.FW]
	}
	return y, nil
}

// UpsampleNearest2DBackward implements UpsampleBackend.
func (CPU) UpsampleNearest2DBackward(sh UpsampleShape, g []float32) ([]float32, error) {
	if err := checkUpsample(sh, "g", len(g), sh.OutLen()); err != nil {
		return nil, err
	}
	oh, ow := sh.H*sh.FH, sh.W*sh.FW
	acc := make([]float64, sh.InLen())
	for i, v := range g {
		pl, r := i/(oh*ow), i%(oh*ow)
		acc[pl*sh.H*sh.W+(r/ow/sh.FH)*sh.W+(r%ow)/sh.FW] += float64(v)
	}
	dx := make([]float32, len(acc))
	for i, v := range acc {
		dx[i] = float32(v)
	}
	return dx, nil
}

// upsampleMode is the shader's MODE.
type upsampleMode uint32

const (
	upsampleForward upsampleMode = iota
	upsampleBackward
)

func (v *Vulkan) recordUpsample(r *gpu.Recorder, mode upsampleMode, sh UpsampleShape, in, out *gpu.Buffer) error {
	if err := sh.check(); err != nil {
		return err
	}
	inName, outName, inLen, outLen := "x", "y", sh.InLen(), sh.OutLen()
	if mode == upsampleBackward {
		inName, outName, inLen, outLen = "g", "dx", outLen, inLen
	}
	if err := checkBuf("upsample_nearest2d", inName+" of shape "+sh.String(), in, inLen); err != nil {
		return err
	}
	if err := checkBuf("upsample_nearest2d", outName+" of shape "+sh.String(), out, outLen); err != nil {
		return err
	}
	k, err := v.kernel("upsample_nearest2d", []gpu.Access{gpu.Write, gpu.Read}, 4*5, v.Local, 1, 1, uint32(mode))
	if err != nil {
		return err
	}
	push := gpu.Push{}.U32(uint32(sh.N * sh.C)).U32(uint32(sh.H)).U32(uint32(sh.W)).U32(uint32(sh.FH)).U32(uint32(sh.FW))
	// One invocation per input element in either direction.
	r.Dispatch(k, v.Device.Grid(k, sh.InLen()), push, out, in)
	return nil
}

// RecordUpsampleNearest2D records y = upsample(x) (also the tangent).
func (v *Vulkan) RecordUpsampleNearest2D(r *gpu.Recorder, sh UpsampleShape, x, y *gpu.Buffer) error {
	return v.recordUpsample(r, upsampleForward, sh, x, y)
}

// RecordUpsampleNearest2DBackward records dx, the block sums of g (also
// the tangent of the backward, applied to tg).
func (v *Vulkan) RecordUpsampleNearest2DBackward(r *gpu.Recorder, sh UpsampleShape, g, dx *gpu.Buffer) error {
	return v.recordUpsample(r, upsampleBackward, sh, g, dx)
}

// UpsampleNearest2D implements UpsampleBackend.
func (v *Vulkan) UpsampleNearest2D(sh UpsampleShape, x []float32) ([]float32, error) {
	if err := checkUpsample(sh, "x", len(x), sh.InLen()); err != nil {
		return nil, err
	}
	return v.exec1([][]float32{x}, sh.OutLen(), func(r *gpu.Recorder, in []*gpu.Buffer, out *gpu.Buffer) error {
		return v.RecordUpsampleNearest2D(r, sh, in[0], out)
	})
}

// UpsampleNearest2DBackward implements UpsampleBackend.
func (v *Vulkan) UpsampleNearest2DBackward(sh UpsampleShape, g []float32) ([]float32, error) {
	if err := checkUpsample(sh, "g", len(g), sh.OutLen()); err != nil {
		return nil, err
	}
	return v.exec1([][]float32{g}, sh.InLen(), func(r *gpu.Recorder, in []*gpu.Buffer, out *gpu.Buffer) error {
		return v.RecordUpsampleNearest2DBackward(r, sh, in[0], out)
	})
}
