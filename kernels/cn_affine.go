package kernels

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/noether-vk/noether-vk/gpu"
)

// CNShape is the shape of a conditional-normalization affine: x is
// [N, C, S] with S the product of the trailing (spatial) dimensions, which
// may be 1; gamma and beta are [N, C], one scale and shift per example and
// channel.
type CNShape struct{ N, C, S int }

func (s CNShape) String() string { return fmt.Sprintf("[%d,%d,%d]", s.N, s.C, s.S) }

// rows is the number of (n, c) rows.
func (s CNShape) rows() int { return s.N * s.C }

func (s CNShape) check() error {
	if s.N < 1 || s.C < 1 || s.S < 1 {
		return fmt.Errorf("kernels: cn_affine: shape %v has an empty dimension", s)
	}
	if uint64(s.N)*uint64(s.C)*uint64(s.S) > math.MaxInt32 {
		return fmt.Errorf("kernels: cn_affine: shape %v has more than 2^31 elements", s)
	}
	return nil
}

// CNAffineBackend computes the conditional-normalization affine
// y[n,c,s] = x[n,c,s]*gamma[n,c] + beta[n,c] and its derivatives, one
// fused kernel per order:
//
//   - CNAffine: y.
//   - CNAffineBackward: the VJP for the cotangent g of y: dx = g*gamma,
//     dgamma = sum_s g*x, dbeta = sum_s g.
//   - CNAffineTangent: the JVP, ty = tx*gamma + x*tgamma + tbeta.
//   - CNAffineTangentBackward: the tangent of the VJP in direction
//     (tx, tgamma, tbeta; tg): tdx = tg*gamma + g*tgamma,
//     tdgamma = sum_s (tg*x + g*tx), tdbeta = sum_s tg. It does not depend
//     on tbeta, which is therefore not an argument.
type CNAffineBackend interface {
	CNAffine(sh CNShape, x, gamma, beta []float32) ([]float32, error)
	CNAffineBackward(sh CNShape, x, gamma, g []float32) (dx, dgamma, dbeta []float32, err error)
	CNAffineTangent(sh CNShape, x, gamma, tx, tgamma, tbeta []float32) ([]float32, error)
	CNAffineTangentBackward(sh CNShape, x, gamma, g, tx, tgamma, tg []float32) (tdx, tdgamma, tdbeta []float32, err error)
}

// checkCNAffine validates sh and the lengths of the per-element (x-shaped)
// and per-row (gamma-shaped) arguments, named in order.
func checkCNAffine(sh CNShape, elem, row []string, args ...[]float32) error {
	if err := sh.check(); err != nil {
		return err
	}
	for i, a := range args {
		name, want := "", 0
		if i < len(elem) {
			name, want = elem[i], sh.rows()*sh.S
		} else {
			name, want = row[i-len(elem)], sh.rows()
		}
		if len(a) != want {
			return fmt.Errorf("kernels: cn_affine: %s has %d elements, want %d for shape %v", name, len(a), want, sh)
		}
	}
	return nil
}

// CNAffine implements CNAffineBackend.
func (CPU) CNAffine(sh CNShape, x, gamma, beta []float32) ([]float32, error) {
	if err := checkCNAffine(sh, []string{"x"}, []string{"gamma", "beta"}, x, gamma, beta); err != nil {
		return nil, err
	}
	y := make([]float32, len(x))
	for i := range y {
		r := i / sh.S
		// Rounded twice, as the kernel does (precise); the conversion
		// keeps Go from fusing the two into an FMA.
		y[i] = float32(x[i]*gamma[r]) + beta[r]
	}
	return y, nil
}

// CNAffineBackward implements CNAffineBackend.
func (CPU) CNAffineBackward(sh CNShape, x, gamma, g []float32) (dx, dgamma, dbeta []float32, err error) {
	if err := checkCNAffine(sh, []string{"x", "g"}, []string{"gamma"}, x, g, gamma); err != nil {
		return nil, nil, nil, err
	}
	dx, dgamma, dbeta = make([]float32, len(x)), make([]float32, sh.rows()), make([]float32, sh.rows())
	for r := range sh.rows() {
		var sg, sb float64
		for i := r * sh.S; i < (r+1)*sh.S; i++ {
			dx[i] = float32(float64(g[i]) * float64(gamma[r]))
			sg += float64(g[i]) * float64(x[i])
			sb += float64(g[i])
		}
		dgamma[r], dbeta[r] = float32(sg), float32(sb)
	}
	return dx, dgamma, dbeta, nil
}

// CNAffineTangent implements CNAffineBackend.
func (CPU) CNAffineTangent(sh CNShape, x, gamma, tx, tgamma, tbeta []float32) ([]float32, error) {
	if err := checkCNAffine(sh, []string{"x", "tx"}, []string{"gamma", "tgamma", "tbeta"}, x, tx, gamma, tgamma, tbeta); err != nil {
		return nil, err
	}
	ty := make([]float32, len(x))
	for i := range ty {
		r := i / sh.S
		// Each product and sum rounded, as the kernel does (precise).
		a, b := float32(tx[i]*gamma[r]), float32(x[i]*tgamma[r])
		ty[i] = float32(a+b) + tbeta[r]
	}
	return ty, nil
}

// CNAffineTangentBackward implements CNAffineBackend.
func (CPU) CNAffineTangentBackward(sh CNShape, x, gamma, g, tx, tgamma, tg []float32) (tdx, tdgamma, tdbeta []float32, err error) {
	if err := checkCNAffine(sh, []string{"x", "g", "tx", "tg"}, []string{"gamma", "tgamma"}, x, g, tx, tg, gamma, tgamma); err != nil {
		return nil, nil, nil, err
	}
	tdx, tdgamma, tdbeta = make([]float32, len(x)), make([]float32, sh.rows()), make([]float32, sh.rows())
	for r := range sh.rows() {
		var sg, sb float64
		for i := r * sh.S; i < (r+1)*sh.S; i++ {
			tdx[i] = float32(float64(tg[i])*float64(gamma[r]) + float64(g[i])*float64(tgamma[r]))
			sg += float64(tg[i])*float64(x[i]) + float64(g[i])*float64(tx[i])
			sb += float64(tg[i])
		}
		tdgamma[r], tdbeta[r] = float32(sg), float32(sb)
	}
	return tdx, tdgamma, tdbeta, nil
}

// cnAffineMode is the shader's MODE.
type cnAffineMode uint32

const (
	cnForward cnAffineMode = iota
	cnBackward
	cnTangent
	cnTangentBackward
)

// cnReduceLocal is the largest workgroup of the backward modes, which run
// one workgroup per row. Rows up to cnReduceLocal get the next power of two
// above S.
const cnReduceLocal = 64

// cnSerialMax is the longest row the backward modes sum with one
// invocation per row (SERIAL) instead of a workgroup: an MLP layer's rows
// (S = 1) took a workgroup launch and its barriers per element: 5.5-8.1 ms
// per 128x200 pass on lavapipe (0.4-0.7 ms serial), 40% of a meta-step.
const cnSerialMax = 32

// cnAffineAccess is the binding layout every mode shares (see the table in
// shaders/cn_affine.comp).
var cnAffineAccess = []gpu.Access{gpu.Write, gpu.Write, gpu.Write, gpu.Read, gpu.Read, gpu.Read, gpu.Read, gpu.Read, gpu.Read}

// cnArg is a buffer argument of a cn_affine launcher: perElem says it holds
// one value per element of x rather than one per row.
type cnArg struct {
	name    string
	b       *gpu.Buffer
	perElem bool
}

// recordCNAffine checks args against sh and records mode with binds, the
// nine buffers in binding order.
func (v *Vulkan) recordCNAffine(r *gpu.Recorder, mode cnAffineMode, sh CNShape, args []cnArg, binds ...*gpu.Buffer) error {
	if err := sh.check(); err != nil {
		return err
	}
	for _, a := range args {
		n := sh.rows()
		if a.perElem {
			n *= sh.S
		}
		if a.b == nil {
			return fmt.Errorf("kernels: cn_affine: buffer %s is nil", a.name)
		}
		if a.b.Size() < int64(4*n) {
			return fmt.Errorf("kernels: cn_affine: buffer %s has %d bytes, shape %v needs %d floats", a.name, a.b.Size(), sh, n)
		}
	}
	if sh.rows()*sh.S >= 1<<31 {
		return fmt.Errorf("kernels: cn_affine: shape %v has %d elements (at most 2^31 - 1)", sh, sh.rows()*sh.S)
	}
	m, l := divMagic(uint32(sh.S))
	push := gpu.Push{}.U32(uint32(sh.rows())).U32(uint32(sh.S)).U32(m).U32(l)
	// FORWARD and BACKWARD read x, gamma and in5, TANGENT also tx and
	// tgamma, TANGENT_BACKWARD those and tg (bindings 3-8); lanes read
	// consecutive elements of each, so each may be read as texels.
	reads := []bool{true, true, true, mode != cnForward && mode != cnBackward, mode != cnForward && mode != cnBackward, mode == cnTangentBackward}
	spec := []uint32{v.Local, 1, 1, uint32(mode), 0}
	invocations := sh.rows() * sh.S
	shader := "cn_affine"
	switch {
	case mode == cnForward || mode == cnTangent:
	case sh.S <= cnSerialMax:
		spec[4], invocations = 1, sh.rows()
	default:
		// rows*local invocations are one workgroup per row, folded into
		// y when there are more rows than the x limit.
		local, err := v.strideLocal("cn_affine", uint32(min(cnReduceLocal, 1<<bits.Len(uint(sh.S-1)))), 1, 1, sh.S, 8)
		if err != nil {
			return err
		}
		spec[0] = local
		invocations = sh.rows() * int(spec[0])
		shader = v.subgroupVariant(shader, spec[0])
	}
	// Either reads texels through its _texel variant.
	shader, access, bufs, tex := withTexels(v.Texels, shader, cnAffineAccess, binds, []int{3, 4, 5, 6, 7, 8}, reads)
	if tex != 0 {
		spec = append(spec, tex)
	}
	k, err := v.kernel(shader, access, 16, spec...)
	if err != nil {
		return err
	}
	r.Dispatch(k, v.Device.Grid(k, invocations), push, bufs...)
	return nil
}

// RecordCNAffine records y = x*gamma + beta.
func (v *Vulkan) RecordCNAffine(r *gpu.Recorder, sh CNShape, x, gamma, beta, y *gpu.Buffer) error {
	args := []cnArg{{"x", x, true}, {"gamma", gamma, false}, {"beta", beta, false}, {"y", y, true}}
	return v.recordCNAffine(r, cnForward, sh, args, y, y, y, x, gamma, beta, x, gamma, x)
}

// RecordCNAffineBackward records the VJP (dx, dgamma, dbeta) of y's
// cotangent g.
func (v *Vulkan) RecordCNAffineBackward(r *gpu.Recorder, sh CNShape, x, gamma, g, dx, dgamma, dbeta *gpu.Buffer) error {
	args := []cnArg{{"x", x, true}, {"gamma", gamma, false}, {"g", g, true}, {"dx", dx, true}, {"dgamma", dgamma, false}, {"dbeta", dbeta, false}}
	return v.recordCNAffine(r, cnBackward, sh, args, dx, dgamma, dbeta, x, gamma, g, x, gamma, x)
}

// RecordCNAffineTangent records the JVP ty = tx*gamma + x*tgamma + tbeta.
func (v *Vulkan) RecordCNAffineTangent(r *gpu.Recorder, sh CNShape, x, gamma, tx, tgamma, tbeta, ty *gpu.Buffer) error {
	args := []cnArg{{"x", x, true}, {"gamma", gamma, false}, {"tx", tx, true}, {"tgamma", tgamma, false}, {"tbeta", tbeta, false}, {"ty", ty, true}}
	return v.recordCNAffine(r, cnTangent, sh, args, ty, ty, ty, x, gamma, tbeta, tx, tgamma, x)
}

// RecordCNAffineTangentBackward records the tangent (tdx, tdgamma, tdbeta)
// of the VJP in direction (tx, tgamma; tg).
func (v *Vulkan) RecordCNAffineTangentBackward(r *gpu.Recorder, sh CNShape, x, gamma, g, tx, tgamma, tg, tdx, tdgamma, tdbeta *gpu.Buffer) error {
	args := []cnArg{{"x", x, true}, {"gamma", gamma, false}, {"g", g, true}, {"tx", tx, true}, {"tgamma", tgamma, false}, {"tg", tg, true},
		{"tdx", tdx, true}, {"tdgamma", tdgamma, false}, {"tdbeta", tdbeta, false}}
	return v.recordCNAffine(r, cnTangentBackward, sh, args, tdx, tdgamma, tdbeta, x, gamma, g, tx, tgamma, tg)
}

// CNAffine implements CNAffineBackend.
func (v *Vulkan) CNAffine(sh CNShape, x, gamma, beta []float32) ([]float32, error) {
	if err := checkCNAffine(sh, []string{"x"}, []string{"gamma", "beta"}, x, gamma, beta); err != nil {
		return nil, err
	}
	out, err := v.exec([][]float32{x, gamma, beta}, []int{len(x)}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordCNAffine(r, sh, in[0], in[1], in[2], out[0])
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// CNAffineBackward implements CNAffineBackend.
func (v *Vulkan) CNAffineBackward(sh CNShape, x, gamma, g []float32) (dx, dgamma, dbeta []float32, err error) {
	if err := checkCNAffine(sh, []string{"x", "g"}, []string{"gamma"}, x, g, gamma); err != nil {
		return nil, nil, nil, err
	}
	out, err := v.exec([][]float32{x, gamma, g}, []int{len(x), sh.rows(), sh.rows()}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordCNAffineBackward(r, sh, in[0], in[1], in[2], out[0], out[1], out[2])
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return out[0], out[1], out[2], nil
}

// CNAffineTangent implements CNAffineBackend.
func (v *Vulkan) CNAffineTangent(sh CNShape, x, gamma, tx, tgamma, tbeta []float32) ([]float32, error) {
	if err := checkCNAffine(sh, []string{"x", "tx"}, []string{"gamma", "tgamma", "tbeta"}, x, tx, gamma, tgamma, tbeta); err != nil {
		return nil, err
	}
	out, err := v.exec([][]float32{x, gamma, tx, tgamma, tbeta}, []int{len(x)}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordCNAffineTangent(r, sh, in[0], in[1], in[2], in[3], in[4], out[0])
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// CNAffineTangentBackward implements CNAffineBackend.
func (v *Vulkan) CNAffineTangentBackward(sh CNShape, x, gamma, g, tx, tgamma, tg []float32) (tdx, tdgamma, tdbeta []float32, err error) {
	if err := checkCNAffine(sh, []string{"x", "g", "tx", "tg"}, []string{"gamma", "tgamma"}, x, g, tx, tg, gamma, tgamma); err != nil {
		return nil, nil, nil, err
	}
	out, err := v.exec([][]float32{x, gamma, g, tx, tgamma, tg}, []int{len(x), sh.rows(), sh.rows()}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordCNAffineTangentBackward(r, sh, in[0], in[1], in[2], in[3], in[4], in[5], out[0], out[1], out[2])
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return out[0], out[1], out[2], nil
}
