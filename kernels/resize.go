package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// ResizeShape is bilinear resizing of x [N, C, H, W] to [N, C, OH, OW],
// as PyTorch's F.interpolate(x, size=(OH, OW), mode="bilinear") computes
// it (no antialiasing), with its align_corners semantics:
//
//   - AlignCorners false (PyTorch's default, and Grad-CAM's): pixels are
//     squares and their centres line up; output pixel o samples the input
//     at src = max(0, (o + 0.5) * in/out - 0.5).
//   - AlignCorners true: the corner pixels' centres line up; src = o *
//     (in - 1)/(out - 1) (0 when out is 1).
//
// With i0 = floor(src), i1 = min(i0 + 1, in - 1) and l = src - i0, the
// value is (1 - l) x[i0] + l x[i1] along each axis. Scales and source
// coordinates are computed in float32, as PyTorch does for float32 input,
// so the taps the CPU reference and the shader pick are the same.
type ResizeShape struct {
	N, C, H, W   int
	OH, OW       int
	AlignCorners bool
}

// InLen is the element count of x.
func (s ResizeShape) InLen() int { return s.N * s.C * s.H * s.W }

// OutLen is the element count of y.
func (s ResizeShape) OutLen() int { return s.N * s.C * s.OH * s.OW }

func (s ResizeShape) String() string {
	ac := ""
	if s.AlignCorners {
		ac = " align_corners"
	}
	return fmt.Sprintf("[%d,%d,%d,%d]->[%d,%d]%s", s.N, s.C, s.H, s.W, s.OH, s.OW, ac)
}

func (s ResizeShape) check() error {
	switch {
	case s.N < 1 || s.C < 1 || s.H < 1 || s.W < 1 || s.OH < 1 || s.OW < 1:
		return fmt.Errorf("kernels: resize_bilinear2d: shape %v has an empty dimension", s)
	case uint64(s.N)*uint64(s.C)*uint64(max(s.H, s.OH))*uint64(max(s.W, s.OW)) > math.MaxInt32:
		return fmt.Errorf("kernels: resize_bilinear2d: shape %v has more than 2^31 elements", s)
	}
	return nil
}

// resizeScale is the source step per output pixel along an axis of in
// pixels resized to out, as float32 (PyTorch's area_pixel_compute_scale).
func resizeScale(in, out int, alignCorners bool) float32 {
	if alignCorners {
		if out <= 1 {
			return 0
		}
		return float32(in-1) / float32(out-1)
	}
	return float32(in) / float32(out)
}

// resizeTaps returns the two input pixels output pixel o reads along an
// axis of in pixels and their weights. Every operation rounds to float32
// on its own (the explicit conversions stop Go from fusing them), as the
// shader's precise arithmetic does.
func resizeTaps(o, in int, scale float32, alignCorners bool) (i0, i1 int, w0, w1 float32) {
	var src float32
	if alignCorners {
		src = float32(scale * float32(o))
	} else {
		src = float32(scale*float32(float32(o)+0.5)) - 0.5
		if src < 0 {
			src = 0
		}
	}
	i0 = int(src) // src >= 0: truncation is floor
	i1 = i0
	if i0 < in-1 {
		i1 = i0 + 1
	}
	w1 = src - float32(i0)
	return i0, i1, 1 - w1, w1
}

// ResizeBackend computes bilinear resizing, which is linear in x: its
// tangent is ResizeBilinear2D of tx, its backward (the adjoint) spreads
// each output's cotangent over the four input pixels it read, with the
// same weights, and the tangent of the backward is the backward of tg.
type ResizeBackend interface {
	ResizeBilinear2D(sh ResizeShape, x []float32) ([]float32, error)
	ResizeBilinear2DBackward(sh ResizeShape, g []float32) ([]float32, error)
}

func checkResize(sh ResizeShape, what string, n, want int) error {
	if err := sh.check(); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("kernels: resize_bilinear2d: %s has %d elements, want %d for shape %v", what, n, want, sh)
	}
	return nil
}

// resizeEach calls f for every output element o of every plane pl with
// the four input elements it reads (plane-relative) and their weights.
func resizeEach(sh ResizeShape, f func(pl, o int, in [4]int, w [4]float64)) {
	sy := resizeScale(sh.H, sh.OH, sh.AlignCorners)
	sx := resizeScale(sh.W, sh.OW, sh.AlignCorners)
	for pl := range sh.N * sh.C {
		for oy := range sh.OH {
			y0, y1, wy0, wy1 := resizeTaps(oy, sh.H, sy, sh.AlignCorners)
			for ox := range sh.OW {
				x0, x1, wx0, wx1 := resizeTaps(ox, sh.W, sx, sh.AlignCorners)
				f(pl, oy*sh.OW+ox,
					[4]int{y0*sh.W + x0, y0*sh.W + x1, y1*sh.W + x0, y1*sh.W + x1},
					[4]float64{float64(wy0) * float64(wx0), float64(wy0) * float64(wx1), float64(wy1) * float64(wx0), float64(wy1) * float64(wx1)})
			}
		}
	}
}

// ResizeBilinear2D implements ResizeBackend.
func (CPU) ResizeBilinear2D(sh ResizeShape, x []float32) ([]float32, error) {
	if err := checkResize(sh, "x", len(x), sh.InLen()); err != nil {
		return nil, err
	}
	y := make([]float32, sh.OutLen())
	inPlane, outPlane := sh.H*sh.W, sh.OH*sh.OW
	resizeEach(sh, func(pl, o int, in [4]int, w [4]float64) {
		s := 0.0
		for k := range 4 {
			s += w[k] * float64(x[pl*inPlane+in[k]])
		}
		y[pl*outPlane+o] = float32(s)
	})
	return y, nil
}

// ResizeBilinear2DBackward implements ResizeBackend: a scatter of each
// output's cotangent (the shader gathers instead, so the two are
// independent checks of each other).
func (CPU) ResizeBilinear2DBackward(sh ResizeShape, g []float32) ([]float32, error) {
	if err := checkResize(sh, "g", len(g), sh.OutLen()); err != nil {
		return nil, err
	}
	acc := make([]float64, sh.InLen())
	inPlane, outPlane := sh.H*sh.W, sh.OH*sh.OW
	resizeEach(sh, func(pl, o int, in [4]int, w [4]float64) {
		for k := range 4 {
			acc[pl*inPlane+in[k]] += w[k] * float64(g[pl*outPlane+o])
		}
	})
	dx := make([]float32, len(acc))
	for i, v := range acc {
		dx[i] = float32(v)
	}
	return dx, nil
}

// resizeMode is the shader's MODE.
type resizeMode uint32

const (
	resizeForward resizeMode = iota
	resizeBackward
)

func (v *Vulkan) recordResize(r *gpu.Recorder, mode resizeMode, sh ResizeShape, in, out *gpu.Buffer) error {
	if err := sh.check(); err != nil {
		return err
	}
	inName, outName, inLen, outLen := "x", "y", sh.InLen(), sh.OutLen()
	if mode == resizeBackward {
		inName, outName, inLen, outLen = "g", "dx", outLen, inLen
	}
	if err := checkBuf("resize_bilinear2d", inName+" of shape "+sh.String(), in, inLen); err != nil {
		return err
	}
	if err := checkBuf("resize_bilinear2d", outName+" of shape "+sh.String(), out, outLen); err != nil {
		return err
	}
	align := uint32(0)
	if sh.AlignCorners {
		align = 1
	}
	k, err := v.kernel("resize_bilinear2d", []gpu.Access{gpu.Write, gpu.Read}, 4*7, v.Local, 1, 1, uint32(mode), align)
	if err != nil {
		return err
	}
	push := gpu.Push{}.U32(uint32(sh.N * sh.C)).U32(uint32(sh.H)).U32(uint32(sh.W)).U32(uint32(sh.OH)).U32(uint32(sh.OW)).
		F32(resizeScale(sh.H, sh.OH, sh.AlignCorners)).F32(resizeScale(sh.W, sh.OW, sh.AlignCorners))
	// One invocation per element written.
	r.Dispatch(k, v.Device.Grid(k, outLen), push, out, in)
	return nil
}

// RecordResizeBilinear2D records y = resize(x) (also the tangent).
func (v *Vulkan) RecordResizeBilinear2D(r *gpu.Recorder, sh ResizeShape, x, y *gpu.Buffer) error {
	return v.recordResize(r, resizeForward, sh, x, y)
}

// RecordResizeBilinear2DBackward records dx, the adjoint of the resize
// applied to g (also the tangent of the backward, applied to tg).
func (v *Vulkan) RecordResizeBilinear2DBackward(r *gpu.Recorder, sh ResizeShape, g, dx *gpu.Buffer) error {
	return v.recordResize(r, resizeBackward, sh, g, dx)
}

// ResizeBilinear2D implements ResizeBackend.
func (v *Vulkan) ResizeBilinear2D(sh ResizeShape, x []float32) ([]float32, error) {
	if err := checkResize(sh, "x", len(x), sh.InLen()); err != nil {
		return nil, err
	}
	return v.exec1([][]float32{x}, sh.OutLen(), func(r *gpu.Recorder, in []*gpu.Buffer, out *gpu.Buffer) error {
		return v.RecordResizeBilinear2D(r, sh, in[0], out)
	})
}

// ResizeBilinear2DBackward implements ResizeBackend.
func (v *Vulkan) ResizeBilinear2DBackward(sh ResizeShape, g []float32) ([]float32, error) {
	if err := checkResize(sh, "g", len(g), sh.OutLen()); err != nil {
		return nil, err
	}
	return v.exec1([][]float32{g}, sh.InLen(), func(r *gpu.Recorder, in []*gpu.Buffer, out *gpu.Buffer) error {
		return v.RecordResizeBilinear2DBackward(r, sh, in[0], out)
	})
}
