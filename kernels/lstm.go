package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// LSTMShape is the shape of a fused LSTM cell: batch B, hidden size H.
type LSTMShape struct{ B, H int }

func (s LSTMShape) String() string { return fmt.Sprintf("B=%d H=%d", s.B, s.H) }

// cells is B*H, the length of c_prev, c and h; z has 4 times as many.
func (s LSTMShape) cells() int { return s.B * s.H }

func (s LSTMShape) check() error {
	if s.B < 1 || s.H < 1 {
		return fmt.Errorf("kernels: lstm_cell: shape %v has an empty dimension", s)
	}
	if uint64(s.B)*uint64(s.H)*4 > math.MaxInt32 {
		return fmt.Errorf("kernels: lstm_cell: shape %v has more than 2^31 gate values", s)
	}
	return nil
}

// LSTMCellBackend computes the fused LSTM cell and its derivatives, one
// fused kernel per order. z [B, 4H] holds the gate pre-activations (the
// input and recurrent projections summed, biases included), each row the
// blocks i, f, g, o of H values in that order (PyTorch's order):
//
//	i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o)
//	c = f*c_prev + i*g,  h = o*tanh(c)
//
// The methods:
//   - LSTMCell: (h, c), each [B, H].
//   - LSTMCellBackward: the VJP (dz, dc_prev) for the cotangents gh, gc of
//     h and c.
//   - LSTMCellTangent: the JVP (th, tc) for the tangents tz, tc_prev.
//   - LSTMCellTangentBackward: the tangent (tdz, tdc_prev) of the VJP in
//     direction (tz, tc_prev; tgh, tgc).
type LSTMCellBackend interface {
	LSTMCell(sh LSTMShape, z, cPrev []float32) (h, c []float32, err error)
	LSTMCellBackward(sh LSTMShape, z, cPrev, gh, gc []float32) (dz, dcPrev []float32, err error)
	LSTMCellTangent(sh LSTMShape, z, cPrev, tz, tcPrev []float32) (th, tc []float32, err error)
	LSTMCellTangentBackward(sh LSTMShape, z, cPrev, gh, gc, tz, tcPrev, tgh, tgc []float32) (tdz, tdcPrev []float32, err error)
}

// checkLSTM validates sh and the lengths of the named arguments: z-shaped
// ones (4 values per cell) are those whose name ends in "z".
func checkLSTM(sh LSTMShape, names []string, args ...[]float32) error {
	if err := sh.check(); err != nil {
		return err
	}
	for i, a := range args {
		want := sh.cells()
		if names[i][len(names[i])-1] == 'z' {
			want *= 4
		}
		if len(a) != want {
			return fmt.Errorf("kernels: lstm_cell: %s has %d elements, want %d for shape %v", names[i], len(a), want, sh)
		}
	}
	return nil
}

// lstmRef is the CPU reference's per-cell state in float64: the gates,
// their derivatives at the pre-activations, c and tanh(c) with its
// derivative u.
type lstmRef struct {
	i, f, g, o     float64
	si, sf, sg, so float64
	cp, c, tc, u   float64
}

// lstmCell evaluates the cell at (b, j) = cell k.
func lstmCell(sh LSTMShape, z, cPrev []float32, k int) (r lstmRef, zi int) {
	b, j := k/sh.H, k%sh.H
	zi = 4*b*sh.H + j
	sig := func(v float32) float64 { return 1 / (1 + math.Exp(-float64(v))) }
	r.i, r.f, r.g, r.o = sig(z[zi]), sig(z[zi+sh.H]), math.Tanh(float64(z[zi+2*sh.H])), sig(z[zi+3*sh.H])
	r.si, r.sf, r.sg, r.so = r.i*(1-r.i), r.f*(1-r.f), 1-r.g*r.g, r.o*(1-r.o)
	r.cp = float64(cPrev[k])
	r.c = r.f*r.cp + r.i*r.g
	r.tc = math.Tanh(r.c)
	r.u = 1 - r.tc*r.tc
	return r, zi
}

// tangent returns the tangents of the gates and of c in direction
// (tz, tc_prev).
func (r lstmRef) tangent(sh LSTMShape, tz, tcPrev []float32, zi, k int) (ti, tf, tg, to, tcell float64) {
	ti = r.si * float64(tz[zi])
	tf = r.sf * float64(tz[zi+sh.H])
	tg = r.sg * float64(tz[zi+2*sh.H])
	to = r.so * float64(tz[zi+3*sh.H])
	tcell = tf*r.cp + r.f*float64(tcPrev[k]) + ti*r.g + r.i*tg
	return
}

// LSTMCell implements LSTMCellBackend.
func (CPU) LSTMCell(sh LSTMShape, z, cPrev []float32) (h, c []float32, err error) {
	if err := checkLSTM(sh, []string{"z", "c_prev"}, z, cPrev); err != nil {
		return nil, nil, err
	}
	h, c = make([]float32, sh.cells()), make([]float32, sh.cells())
	for k := range h {
		r, _ := lstmCell(sh, z, cPrev, k)
		h[k], c[k] = float32(r.o*r.tc), float32(r.c)
	}
	return h, c, nil
}

// LSTMCellBackward implements LSTMCellBackend.
func (CPU) LSTMCellBackward(sh LSTMShape, z, cPrev, gh, gc []float32) (dz, dcPrev []float32, err error) {
	if err := checkLSTM(sh, []string{"z", "c_prev", "gh", "gc"}, z, cPrev, gh, gc); err != nil {
		return nil, nil, err
	}
	dz, dcPrev = make([]float32, 4*sh.cells()), make([]float32, sh.cells())
	for k := range dcPrev {
		r, zi := lstmCell(sh, z, cPrev, k)
		hb := float64(gh[k])
		dct := float64(gc[k]) + hb*r.o*r.u
		dz[zi] = float32(dct * r.g * r.si)
		dz[zi+sh.H] = float32(dct * r.cp * r.sf)
		dz[zi+2*sh.H] = float32(dct * r.i * r.sg)
		dz[zi+3*sh.H] = float32(hb * r.tc * r.so)
		dcPrev[k] = float32(dct * r.f)
	}
	return dz, dcPrev, nil
}

// LSTMCellTangent implements LSTMCellBackend.
func (CPU) LSTMCellTangent(sh LSTMShape, z, cPrev, tz, tcPrev []float32) (th, tc []float32, err error) {
	if err := checkLSTM(sh, []string{"z", "c_prev", "tz", "tc_prev"}, z, cPrev, tz, tcPrev); err != nil {
		return nil, nil, err
	}
	th, tc = make([]float32, sh.cells()), make([]float32, sh.cells())
	for k := range th {
		r, zi := lstmCell(sh, z, cPrev, k)
		_, _, _, to, tcell := r.tangent(sh, tz, tcPrev, zi, k)
		th[k], tc[k] = float32(to*r.tc+r.o*r.u*tcell), float32(tcell)
	}
	return th, tc, nil
}

// LSTMCellTangentBackward implements LSTMCellBackend.
func (CPU) LSTMCellTangentBackward(sh LSTMShape, z, cPrev, gh, gc, tz, tcPrev, tgh, tgc []float32) (tdz, tdcPrev []float32, err error) {
	if err := checkLSTM(sh, []string{"z", "c_prev", "gh", "gc", "tz", "tc_prev", "tgh", "tgc"}, z, cPrev, gh, gc, tz, tcPrev, tgh, tgc); err != nil {
		return nil, nil, err
	}
	tdz, tdcPrev = make([]float32, 4*sh.cells()), make([]float32, sh.cells())
	for k := range tdcPrev {
		r, zi := lstmCell(sh, z, cPrev, k)
		ti, tf, tg, to, tcell := r.tangent(sh, tz, tcPrev, zi, k)
		hb, thb := float64(gh[k]), float64(tgh[k])
		dct := float64(gc[k]) + hb*r.o*r.u
		// Each line is the tangent of the matching LSTMCellBackward line:
		// d(sigmoid') = sigmoid'(1 - 2 sigmoid) dz, d(tanh') = -2 tanh tanh' dz.
		tu := -2 * r.tc * r.u * tcell
		tdct := float64(tgc[k]) + thb*r.o*r.u + hb*(to*r.u+r.o*tu)
		tdz[zi] = float32(tdct*r.g*r.si + dct*(tg*r.si+r.g*(1-2*r.i)*ti))
		tdz[zi+sh.H] = float32(tdct*r.cp*r.sf + dct*(float64(tcPrev[k])*r.sf+r.cp*(1-2*r.f)*tf))
		tdz[zi+2*sh.H] = float32(tdct*r.i*r.sg + dct*(ti*r.sg-2*r.i*r.g*tg))
		tdz[zi+3*sh.H] = float32(thb*r.tc*r.so + hb*(r.u*tcell*r.so+r.tc*(1-2*r.o)*to))
		tdcPrev[k] = float32(tdct*r.f + dct*tf)
	}
	return tdz, tdcPrev, nil
}

// lstmMode is the shader's MODE.
type lstmMode uint32

const (
	lstmForward lstmMode = iota
	lstmBackward
	lstmTangent
	lstmTangentBackward
)

// lstmAccess is the binding layout every mode shares (see the table in
// shaders/lstm_cell.comp).
var lstmAccess = []gpu.Access{gpu.Write, gpu.Write, gpu.Read, gpu.Read, gpu.Read, gpu.Read, gpu.Read, gpu.Read, gpu.Read, gpu.Read}

// lstmArg is a buffer argument of an lstm_cell launcher; gates says it
// holds 4 values per cell (z-shaped) rather than one.
type lstmArg struct {
	name  string
	b     *gpu.Buffer
	gates bool
}

// recordLSTM checks args against sh and records mode with binds, the ten
// buffers in binding order.
func (v *Vulkan) recordLSTM(r *gpu.Recorder, mode lstmMode, sh LSTMShape, args []lstmArg, binds ...*gpu.Buffer) error {
	if err := sh.check(); err != nil {
		return err
	}
	for _, a := range args {
		n := sh.cells()
		if a.gates {
			n *= 4
		}
		if a.b == nil {
			return fmt.Errorf("kernels: lstm_cell: buffer %s is nil", a.name)
		}
		if a.b.Size() < int64(4*n) {
			return fmt.Errorf("kernels: lstm_cell: buffer %s has %d bytes, shape %v needs %d floats", a.name, a.b.Size(), sh, n)
		}
	}
	k, err := v.kernel("lstm_cell", lstmAccess, 8, v.Local, 1, 1, uint32(mode))
	if err != nil {
		return err
	}
	r.Dispatch(k, v.Device.Grid(k, sh.cells()), gpu.Push{}.U32(uint32(sh.cells())).U32(uint32(sh.H)), binds...)
	return nil
}

// RecordLSTMCell records (h, c) from z and c_prev.
func (v *Vulkan) RecordLSTMCell(r *gpu.Recorder, sh LSTMShape, z, cPrev, h, c *gpu.Buffer) error {
	args := []lstmArg{{"z", z, true}, {"c_prev", cPrev, false}, {"h", h, false}, {"c", c, false}}
	return v.recordLSTM(r, lstmForward, sh, args, h, c, z, cPrev, z, cPrev, z, cPrev, z, cPrev)
}

// RecordLSTMCellBackward records the VJP (dz, dc_prev) of the cotangents
// (gh, gc).
func (v *Vulkan) RecordLSTMCellBackward(r *gpu.Recorder, sh LSTMShape, z, cPrev, gh, gc, dz, dcPrev *gpu.Buffer) error {
	args := []lstmArg{{"z", z, true}, {"c_prev", cPrev, false}, {"gh", gh, false}, {"gc", gc, false}, {"dz", dz, true}, {"dc_prev", dcPrev, false}}
	return v.recordLSTM(r, lstmBackward, sh, args, dz, dcPrev, z, cPrev, gh, gc, z, cPrev, z, cPrev)
}

// RecordLSTMCellTangent records the JVP (th, tc) of the tangents
// (tz, tc_prev).
func (v *Vulkan) RecordLSTMCellTangent(r *gpu.Recorder, sh LSTMShape, z, cPrev, tz, tcPrev, th, tc *gpu.Buffer) error {
	args := []lstmArg{{"z", z, true}, {"c_prev", cPrev, false}, {"tz", tz, true}, {"tc_prev", tcPrev, false}, {"th", th, false}, {"tc", tc, false}}
	return v.recordLSTM(r, lstmTangent, sh, args, th, tc, z, cPrev, z, cPrev, tz, tcPrev, z, cPrev)
}

// RecordLSTMCellTangentBackward records the tangent (tdz, tdc_prev) of the
// VJP in direction (tz, tc_prev; tgh, tgc).
func (v *Vulkan) RecordLSTMCellTangentBackward(r *gpu.Recorder, sh LSTMShape, z, cPrev, gh, gc, tz, tcPrev, tgh, tgc, tdz, tdcPrev *gpu.Buffer) error {
	args := []lstmArg{{"z", z, true}, {"c_prev", cPrev, false}, {"gh", gh, false}, {"gc", gc, false}, {"tz", tz, true}, {"tc_prev", tcPrev, false},
		{"tgh", tgh, false}, {"tgc", tgc, false}, {"tdz", tdz, true}, {"tdc_prev", tdcPrev, false}}
	return v.recordLSTM(r, lstmTangentBackward, sh, args, tdz, tdcPrev, z, cPrev, gh, gc, tz, tcPrev, tgh, tgc)
}

// LSTMCell implements LSTMCellBackend.
func (v *Vulkan) LSTMCell(sh LSTMShape, z, cPrev []float32) (h, c []float32, err error) {
	if err := checkLSTM(sh, []string{"z", "c_prev"}, z, cPrev); err != nil {
		return nil, nil, err
	}
	out, err := v.exec([][]float32{z, cPrev}, []int{sh.cells(), sh.cells()}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordLSTMCell(r, sh, in[0], in[1], out[0], out[1])
	})
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}

// LSTMCellBackward implements LSTMCellBackend.
func (v *Vulkan) LSTMCellBackward(sh LSTMShape, z, cPrev, gh, gc []float32) (dz, dcPrev []float32, err error) {
	if err := checkLSTM(sh, []string{"z", "c_prev", "gh", "gc"}, z, cPrev, gh, gc); err != nil {
		return nil, nil, err
	}
	out, err := v.exec([][]float32{z, cPrev, gh, gc}, []int{4 * sh.cells(), sh.cells()}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordLSTMCellBackward(r, sh, in[0], in[1], in[2], in[3], out[0], out[1])
	})
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}

// LSTMCellTangent implements LSTMCellBackend.
func (v *Vulkan) LSTMCellTangent(sh LSTMShape, z, cPrev, tz, tcPrev []float32) (th, tc []float32, err error) {
	if err := checkLSTM(sh, []string{"z", "c_prev", "tz", "tc_prev"}, z, cPrev, tz, tcPrev); err != nil {
		return nil, nil, err
	}
	out, err := v.exec([][]float32{z, cPrev, tz, tcPrev}, []int{sh.cells(), sh.cells()}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordLSTMCellTangent(r, sh, in[0], in[1], in[2], in[3], out[0], out[1])
	})
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}

// LSTMCellTangentBackward implements LSTMCellBackend.
func (v *Vulkan) LSTMCellTangentBackward(sh LSTMShape, z, cPrev, gh, gc, tz, tcPrev, tgh, tgc []float32) (tdz, tdcPrev []float32, err error) {
	if err := checkLSTM(sh, []string{"z", "c_prev", "gh", "gc", "tz", "tc_prev", "tgh", "tgc"}, z, cPrev, gh, gc, tz, tcPrev, tgh, tgc); err != nil {
		return nil, nil, err
	}
	out, err := v.exec([][]float32{z, cPrev, gh, gc, tz, tcPrev, tgh, tgc}, []int{4 * sh.cells(), sh.cells()}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordLSTMCellTangentBackward(r, sh, in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], out[0], out[1])
	})
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}
