package kernels

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/noether-vk/noether-vk/gpu"
)

// NormEps is the variance epsilon of group_norm and batch_norm (PyTorch's
// default).
const NormEps = 1e-5

// NormShape is the input of a normalization: x [N, C, S] with S the
// product of the spatial dimensions (NCHW: S = H*W), which may be 1.
// Weight and bias are [C].
type NormShape struct{ N, C, S int }

func (s NormShape) String() string { return fmt.Sprintf("[%d,%d,%d]", s.N, s.C, s.S) }

// Len is the element count of x.
func (s NormShape) Len() int { return s.N * s.C * s.S }

// BNConfig selects batch_norm's mode. Training normalizes with the batch
// statistics (biased variance) and updates the running ones in place:
// running = (1-Momentum)*running + Momentum*batch, with the unbiased
// batch variance, as PyTorch (whose default momentum is 0.1).
// Evaluation normalizes with the running statistics, which are then
// constants of the op: its derivatives do not flow into them.
type BNConfig struct {
	Train    bool
	Momentum float32
}

// GroupNormBackend computes group normalization with a learnable
// per-channel affine: the C channels form G groups of C/G, each sample's
// group is normalized over its C/G*S elements, y = w*xh + b. G = 1 is the
// per-sample normalization used in place of BatchNorm at batch 2.
//
// With r = 1/sqrt(var + eps), xh = (x - mean)*r, gh = g*w, and m(.) the
// mean over a normalization set:
//
//   - Backward: dx = r*(gh - m(gh) - xh*m(gh*xh)), dw = sum g*xh,
//     db = sum g (sums over batch and space).
//   - Tangent (JVP in x, w, b): ty = tw*xh + w*txh + tb with
//     txh = r*(tx - m(tx) - xh*m(xh*tx)).
//   - TangentBackward: the exact tangent of Backward in direction
//     (tx, tw; tg) (forward-over-reverse). It does not depend on tb.
type GroupNormBackend interface {
	GroupNorm(sh NormShape, groups int, x, w, b []float32) ([]float32, error)
	GroupNormBackward(sh NormShape, groups int, x, w, g []float32) (dx, dw, db []float32, err error)
	GroupNormTangent(sh NormShape, groups int, x, w, tx, tw, tb []float32) ([]float32, error)
	GroupNormTangentBackward(sh NormShape, groups int, x, w, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error)
}

// BatchNormBackend computes batch normalization (statistics per channel
// over batch and space) with a learnable per-channel affine, with the
// derivatives of GroupNormBackend. In training the host-slice forward
// returns the updated running statistics; the derivatives read rm and rv
// only in evaluation, where the statistics are constants (dx = g*w*r).
type BatchNormBackend interface {
	BatchNorm(sh NormShape, bn BNConfig, x, w, b, rm, rv []float32) (y, rmOut, rvOut []float32, err error)
	BatchNormBackward(sh NormShape, bn BNConfig, x, w, rm, rv, g []float32) (dx, dw, db []float32, err error)
	BatchNormTangent(sh NormShape, bn BNConfig, x, w, rm, rv, tx, tw, tb []float32) ([]float32, error)
	BatchNormTangentBackward(sh NormShape, bn BNConfig, x, w, rm, rv, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error)
}

// normSpec is one normalization: groups > 0 for group_norm, 0 for
// batch_norm; eval for batch_norm with running statistics.
type normSpec struct {
	sh       NormShape
	groups   int
	eval     bool
	momentum float32
}

func (sp normSpec) op() string {
	if sp.groups > 0 {
		return "group_norm"
	}
	return "batch_norm"
}

// sets is the number of normalization sets; setLen their size.
func (sp normSpec) sets() int {
	if sp.groups > 0 {
		return sp.sh.N * sp.groups
	}
	return sp.sh.C
}

func (sp normSpec) setLen() int {
	if sp.groups > 0 {
		return sp.sh.C / sp.groups * sp.sh.S
	}
	return sp.sh.N * sp.sh.S
}

func (sp normSpec) set(i int) int {
	c := i / sp.sh.S % sp.sh.C
	if sp.groups == 0 {
		return c
	}
	return i/(sp.sh.C*sp.sh.S)*sp.groups + c/(sp.sh.C/sp.groups)
}

func (sp normSpec) channel(i int) int { return i / sp.sh.S % sp.sh.C }

func (sp normSpec) check() error {
	s := sp.sh
	switch {
	case s.N < 1 || s.C < 1 || s.S < 1:
		return fmt.Errorf("kernels: %s: shape %v has an empty dimension", sp.op(), s)
	case uint64(s.N)*uint64(s.C)*uint64(s.S) > math.MaxInt32:
		return fmt.Errorf("kernels: %s: shape %v has more than 2^31 elements", sp.op(), s)
	case sp.groups < 0 || sp.groups > 0 && s.C%sp.groups != 0:
		return fmt.Errorf("kernels: %s: %d groups do not divide the %d channels of shape %v", sp.op(), sp.groups, s.C, s)
	case sp.groups == 0 && !sp.eval && s.N*s.S < 2:
		return fmt.Errorf("kernels: batch_norm: shape %v: training needs more than one value per channel", s)
	}
	return nil
}

// normArg is a host-slice argument: per-element (x-shaped), per-channel,
// or per-set (running statistics are per channel; batch_norm's sets are
// channels).
type normArg struct {
	name string
	v    []float32
	elem bool
}

func (sp normSpec) checkArgs(args ...normArg) error {
	if err := sp.check(); err != nil {
		return err
	}
	for _, a := range args {
		want := sp.sh.C
		if a.elem {
			want = sp.sh.Len()
		}
		if len(a.v) != want {
			return fmt.Errorf("kernels: %s: %s has %d elements, want %d for shape %v", sp.op(), a.name, len(a.v), want, sp.sh)
		}
	}
	return nil
}

// checkDeriv checks a derivative's host arguments: x, the weight,
// batch_norm's running statistics (group_norm has none), then the mode's
// own.
func (sp normSpec) checkDeriv(x, w, rm, rv []float32, own ...normArg) error {
	args := []normArg{{"x", x, true}, {"weight", w, false}}
	if sp.groups == 0 {
		args = append(args, normArg{"running_mean", rm, false}, normArg{"running_var", rv, false})
	}
	return sp.checkArgs(append(args, own...)...)
}

func (sp normSpec) checkBackward(x, w, rm, rv, g []float32) error {
	return sp.checkDeriv(x, w, rm, rv, normArg{"g", g, true})
}

func (sp normSpec) checkTangent(x, w, rm, rv, tx, tw, tb []float32) error {
	return sp.checkDeriv(x, w, rm, rv, normArg{"tx", tx, true}, normArg{"tweight", tw, false}, normArg{"tbias", tb, false})
}

func (sp normSpec) checkTangentBackward(x, w, rm, rv, g, tx, tw, tg []float32) error {
	return sp.checkDeriv(x, w, rm, rv, normArg{"g", g, true}, normArg{"tx", tx, true}, normArg{"tweight", tw, false}, normArg{"tg", tg, true})
}

// normRef is the CPU reference's state: per-set statistics and, for the
// derivatives, the per-set means of the norm_sums quantities.
type normRef struct {
	sp        normSpec
	mean, r   []float64
	x, w      []float32
	invM      float64
	constStat bool
}

func newNormRef(sp normSpec, x, w, rm, rv []float32) *normRef {
	k := sp.sets()
	n := &normRef{sp: sp, mean: make([]float64, k), r: make([]float64, k), x: x, w: w, invM: 1 / float64(sp.setLen())}
	if sp.eval {
		n.constStat = true
		for c := range k {
			n.mean[c] = float64(rm[c])
			n.r[c] = 1 / math.Sqrt(float64(rv[c])+NormEps)
		}
		return n
	}
	vr := make([]float64, k)
	for i, v := range x {
		n.mean[sp.set(i)] += float64(v)
	}
	for s := range n.mean {
		n.mean[s] *= n.invM
	}
	for i, v := range x {
		d := float64(v) - n.mean[sp.set(i)]
		vr[sp.set(i)] += d * d
	}
	for s := range vr {
		vr[s] *= n.invM
		n.r[s] = 1 / math.Sqrt(vr[s]+NormEps)
	}
	return n
}

// variance recovers the biased variance of set s.
func (n *normRef) variance(s int) float64 { return 1/(n.r[s]*n.r[s]) - NormEps }

func (n *normRef) xh(i int) float64 {
	s := n.sp.set(i)
	return (float64(n.x[i]) - n.mean[s]) * n.r[s]
}

// setMeans returns, per set, the means of the quantities f returns for
// each element (zero with constant statistics).
func (n *normRef) setMeans(q int, f func(i int, out []float64)) [][]float64 {
	out := make([][]float64, n.sp.sets())
	for s := range out {
		out[s] = make([]float64, q)
	}
	if n.constStat {
		return out
	}
	tmp := make([]float64, q)
	for i := range n.x {
		f(i, tmp)
		s := n.sp.set(i)
		for j, v := range tmp {
			out[s][j] += v * n.invM
		}
	}
	return out
}

func normF32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func (n *normRef) forward(b []float32) []float32 {
	y := make([]float64, len(n.x))
	for i := range y {
		c := n.sp.channel(i)
		y[i] = float64(n.w[c])*n.xh(i) + float64(b[c])
	}
	return normF32s(y)
}

func (n *normRef) backward(g []float32) (dx, dw, db []float32) {
	m := n.setMeans(2, func(i int, o []float64) {
		gh := float64(g[i]) * float64(n.w[n.sp.channel(i)])
		o[0], o[1] = gh, gh*n.xh(i)
	})
	dxv, dwv, dbv := make([]float64, len(n.x)), make([]float64, n.sp.sh.C), make([]float64, n.sp.sh.C)
	for i := range n.x {
		s, c, xh := n.sp.set(i), n.sp.channel(i), n.xh(i)
		gh := float64(g[i]) * float64(n.w[c])
		dxv[i] = n.r[s] * (gh - m[s][0] - xh*m[s][1])
		dwv[c] += float64(g[i]) * xh
		dbv[c] += float64(g[i])
	}
	return normF32s(dxv), normF32s(dwv), normF32s(dbv)
}

func (n *normRef) tangent(tx, tw, tb []float32) []float32 {
	m := n.setMeans(2, func(i int, o []float64) { o[0], o[1] = float64(tx[i]), n.xh(i)*float64(tx[i]) })
	ty := make([]float64, len(n.x))
	for i := range ty {
		s, c, xh := n.sp.set(i), n.sp.channel(i), n.xh(i)
		txh := n.r[s] * (float64(tx[i]) - m[s][0] - xh*m[s][1])
		ty[i] = float64(tw[c])*xh + float64(n.w[c])*txh + float64(tb[c])
	}
	return normF32s(ty)
}

func (n *normRef) tangentBackward(g, tx, tw, tg []float32) (tdx, tdw, tdb []float32) {
	w := func(i int) float64 { return float64(n.w[n.sp.channel(i)]) }
	m := n.setMeans(7, func(i int, o []float64) {
		xh, gh := n.xh(i), float64(g[i])*w(i)
		tgh := float64(tg[i])*w(i) + float64(g[i])*float64(tw[n.sp.channel(i)])
		o[0], o[1], o[2], o[3] = gh, gh*xh, float64(tx[i]), xh*float64(tx[i])
		o[4], o[5], o[6] = tgh, tgh*xh, gh*float64(tx[i])
	})
	dx, dwv, dbv := make([]float64, len(n.x)), make([]float64, n.sp.sh.C), make([]float64, n.sp.sh.C)
	for i := range n.x {
		s, c, xh, r := n.sp.set(i), n.sp.channel(i), n.xh(i), n.r[n.sp.set(i)]
		ms := m[s]
		gh := float64(g[i]) * w(i)
		tgh := float64(tg[i])*w(i) + float64(g[i])*float64(tw[c])
		txh := r * (float64(tx[i]) - ms[2] - xh*ms[3])
		// d/dt of m(gh*xh) = m(tgh*xh) + m(gh*txh), expanded.
		mghtxh := r * (ms[6] - ms[2]*ms[0] - ms[1]*ms[3])
		bw := gh - ms[0] - xh*ms[1]
		// dr = -r^2 m(xh*tx).
		dx[i] = r * (tgh - ms[4] - txh*ms[1] - xh*(ms[5]+mghtxh) - r*ms[3]*bw)
		dwv[c] += float64(tg[i])*xh + float64(g[i])*txh
		dbv[c] += float64(tg[i])
	}
	return normF32s(dx), normF32s(dwv), normF32s(dbv)
}

func gnSpec(sh NormShape, groups int) (normSpec, error) {
	if groups < 1 {
		return normSpec{}, fmt.Errorf("kernels: group_norm: %d groups for shape %v", groups, sh)
	}
	return normSpec{sh: sh, groups: groups}, nil
}

func bnSpec(sh NormShape, bn BNConfig) normSpec {
	return normSpec{sh: sh, eval: !bn.Train, momentum: bn.Momentum}
}

// GroupNorm implements GroupNormBackend.
func (CPU) GroupNorm(sh NormShape, groups int, x, w, b []float32) ([]float32, error) {
	sp, err := gnSpec(sh, groups)
	if err == nil {
		err = sp.checkArgs(normArg{"x", x, true}, normArg{"weight", w, false}, normArg{"bias", b, false})
	}
	if err != nil {
		return nil, err
	}
	return newNormRef(sp, x, w, nil, nil).forward(b), nil
}

// GroupNormBackward implements GroupNormBackend.
func (c CPU) GroupNormBackward(sh NormShape, groups int, x, w, g []float32) (dx, dw, db []float32, err error) {
	sp, err := gnSpec(sh, groups)
	return c.normBackward(sp, err, x, w, nil, nil, g)
}

// GroupNormTangent implements GroupNormBackend.
func (c CPU) GroupNormTangent(sh NormShape, groups int, x, w, tx, tw, tb []float32) ([]float32, error) {
	sp, err := gnSpec(sh, groups)
	return c.normTangent(sp, err, x, w, nil, nil, tx, tw, tb)
}

// GroupNormTangentBackward implements GroupNormBackend.
func (c CPU) GroupNormTangentBackward(sh NormShape, groups int, x, w, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	sp, err := gnSpec(sh, groups)
	return c.normTangentBackward(sp, err, x, w, nil, nil, g, tx, tw, tg)
}

// BatchNorm implements BatchNormBackend.
func (CPU) BatchNorm(sh NormShape, bn BNConfig, x, w, b, rm, rv []float32) (y, rmOut, rvOut []float32, err error) {
	sp := bnSpec(sh, bn)
	if err := sp.checkArgs(normArg{"x", x, true}, normArg{"weight", w, false}, normArg{"bias", b, false},
		normArg{"running_mean", rm, false}, normArg{"running_var", rv, false}); err != nil {
		return nil, nil, nil, err
	}
	n := newNormRef(sp, x, w, rm, rv)
	rmOut, rvOut = append([]float32(nil), rm...), append([]float32(nil), rv...)
	if bn.Train {
		m, unbias := float64(bn.Momentum), float64(sp.setLen())/float64(sp.setLen()-1)
		for c := range rmOut {
			rmOut[c] = float32((1-m)*float64(rm[c]) + m*n.mean[c])
			rvOut[c] = float32((1-m)*float64(rv[c]) + m*n.variance(c)*unbias)
		}
	}
	return n.forward(b), rmOut, rvOut, nil
}

// BatchNormBackward implements BatchNormBackend.
func (c CPU) BatchNormBackward(sh NormShape, bn BNConfig, x, w, rm, rv, g []float32) (dx, dw, db []float32, err error) {
	return c.normBackward(bnSpec(sh, bn), nil, x, w, rm, rv, g)
}

// BatchNormTangent implements BatchNormBackend.
func (c CPU) BatchNormTangent(sh NormShape, bn BNConfig, x, w, rm, rv, tx, tw, tb []float32) ([]float32, error) {
	return c.normTangent(bnSpec(sh, bn), nil, x, w, rm, rv, tx, tw, tb)
}

// BatchNormTangentBackward implements BatchNormBackend.
func (c CPU) BatchNormTangentBackward(sh NormShape, bn BNConfig, x, w, rm, rv, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	return c.normTangentBackward(bnSpec(sh, bn), nil, x, w, rm, rv, g, tx, tw, tg)
}

// The derivatives of both norms on the CPU. err is gnSpec's error (nil for
// batch_norm); rm and rv are nil for group_norm.

func (CPU) normBackward(sp normSpec, err error, x, w, rm, rv, g []float32) (dx, dw, db []float32, _ error) {
	if err == nil {
		err = sp.checkBackward(x, w, rm, rv, g)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	dx, dw, db = newNormRef(sp, x, w, rm, rv).backward(g)
	return dx, dw, db, nil
}

func (CPU) normTangent(sp normSpec, err error, x, w, rm, rv, tx, tw, tb []float32) ([]float32, error) {
	if err == nil {
		err = sp.checkTangent(x, w, rm, rv, tx, tw, tb)
	}
	if err != nil {
		return nil, err
	}
	return newNormRef(sp, x, w, rm, rv).tangent(tx, tw, tb), nil
}

func (CPU) normTangentBackward(sp normSpec, err error, x, w, rm, rv, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, _ error) {
	if err == nil {
		err = sp.checkTangentBackward(x, w, rm, rv, g, tx, tw, tg)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	tdx, tdw, tdb = newNormRef(sp, x, w, rm, rv).tangentBackward(g, tx, tw, tg)
	return tdx, tdw, tdb, nil
}

// ---- Vulkan ----

// normSumsMode and normApplyMode are the MODEs of norm_sums.comp and
// norm_apply.comp.
type normSumsMode uint32

const (
	normSetBackward normSumsMode = iota
	normSetTangent
	normSetTangentBackward
	normChBackward
	normChTangentBackward
)

type normApplyMode uint32

const (
	normForward normApplyMode = iota
	normTangent
	normBackward
	normTangentBackward
)

// normReduceLocal caps the workgroup of the reduction kernels (one
// workgroup per set or channel).
const normReduceLocal = 64

// normApplyElems times Vulkan.Elems is how many consecutive elements of a
// row one norm_apply invocation handles (capped at the row length).
const normApplyElems = 4

// NormScratch is the number of floats of scratch the derivative
// recorders of group_norm (groups > 0) and batch_norm (groups = 0) need.
func NormScratch(sh NormShape, groups int) int {
	if groups > 0 {
		return 8 * sh.N * groups
	}
	return 8 * sh.C
}

// NormStatsLen is the length of the mean and variance buffers: N*groups
// for group_norm, C for batch_norm (groups = 0).
func NormStatsLen(sh NormShape, groups int) int { return NormScratch(sh, groups) / 8 }

// normDomain is a reduction domain: sets of a blocks of l elements.
type normDomain struct{ sets, a, l, setStride, blockStride int }

func (sp normSpec) normDomain() normDomain {
	if sp.groups > 0 {
		per := sp.sh.C / sp.groups
		return normDomain{sets: sp.sets(), a: per, l: sp.sh.S, setStride: per * sp.sh.S, blockStride: sp.sh.S}
	}
	return sp.chanDomain()
}

func (sp normSpec) chanDomain() normDomain {
	s := sp.sh
	return normDomain{sets: s.C, a: s.N, l: s.S, setStride: s.S, blockStride: s.C * s.S}
}

func (sp normSpec) push(d normDomain) gpu.Push {
	m := sp.setLen()
	unbias := float32(1)
	if m > 1 {
		unbias = float32(float64(m) / float64(m-1))
	}
	p := gpu.Push{}
	for _, u := range []int{sp.sh.N, sp.sh.C, sp.sh.S, sp.groups, d.sets, d.a, d.l, d.setStride, d.blockStride} {
		p = p.U32(uint32(u))
	}
	return p.F32(float32(1 / float64(m))).F32(NormEps).F32(sp.momentum).F32(unbias)
}

const normPushBytes = 4 * 13

// normLocal is the reduction workgroup of a kernel that makes passes
// over every block of d reducing wgN values: the next power of two above
// a block's length, at most normReduceLocal (blocks are strided over by
// the workgroup one at a time), wider where a CPU device needs it (see
// strideLocal).
func (v *Vulkan) normLocal(sp normSpec, d normDomain, passes, wgN int) (uint32, error) {
	return v.strideLocal(sp.op(), uint32(min(normReduceLocal, 1<<bits.Len(uint(d.l-1)))), passes, d.a, d.l, 4*wgN)
}

func normB2U(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// normBuf is a named device buffer argument with its element count.
type normBuf struct {
	name string
	b    *gpu.Buffer
	n    int
}

func (sp normSpec) checkBufs(bufs ...normBuf) error {
	if err := sp.check(); err != nil {
		return err
	}
	for _, a := range bufs {
		if err := checkBuf(sp.op(), a.name+" of shape "+sp.sh.String(), a.b, a.n); err != nil {
			return err
		}
	}
	return nil
}

// recordNormStats records mean and variance of every set, and with
// running buffers the in-place running-statistics update.
func (v *Vulkan) recordNormStats(r *gpu.Recorder, sp normSpec, x, mean, variance, rm, rv *gpu.Buffer) error {
	d := sp.normDomain()
	running := rm != nil
	access := []gpu.Access{gpu.Write, gpu.Write, gpu.Read, gpu.Read, gpu.Read}
	if running {
		access[3], access[4] = gpu.ReadWrite, gpu.ReadWrite
	} else {
		rm, rv = x, x
	}
	// Two passes: the mean, then the squared deviations.
	local, err := v.normLocal(sp, d, 2, 1)
	if err != nil {
		return err
	}
	k, err := v.kernel(v.subgroupVariant("norm_stats", local), access, normPushBytes, local, 1, 1, normB2U(running))
	if err != nil {
		return err
	}
	r.Dispatch(k, v.Device.Grid(k, d.sets*int(local)), sp.push(d), mean, variance, x, rm, rv)
	return nil
}

// normIn are the read bindings shared by norm_sums and norm_apply; nil
// entries are bound to x.
type normIn struct{ x, mean, variance, sums, w, b, g, tx, tw, tg *gpu.Buffer }

func (in normIn) list(withB bool) []*gpu.Buffer {
	l := []*gpu.Buffer{in.x, in.mean, in.variance, in.sums, in.w}
	if withB {
		l = append(l, in.b)
	}
	l = append(l, in.g, in.tx, in.tw, in.tg)
	for i, b := range l {
		if b == nil {
			l[i] = in.x
		}
	}
	return l
}

func (v *Vulkan) recordNormSums(r *gpu.Recorder, sp normSpec, mode normSumsMode, out0, out1 *gpu.Buffer, in normIn) error {
	d := sp.normDomain()
	if mode == normChBackward || mode == normChTangentBackward {
		d = sp.chanDomain()
	}
	if out1 == nil {
		out1 = out0
	}
	access := make([]gpu.Access, 11)
	for i := range access {
		access[i] = gpu.Read
	}
	access[0], access[1] = gpu.Write, gpu.Write
	local, err := v.normLocal(sp, d, 1, 7) // WG_N of norm_sums
	if err != nil {
		return err
	}
	k, err := v.kernel(v.subgroupVariant("norm_sums", local), access, normPushBytes, local, 1, 1, uint32(mode), normB2U(sp.eval))
	if err != nil {
		return err
	}
	r.Dispatch(k, v.Device.Grid(k, d.sets*int(local)), sp.push(d), append([]*gpu.Buffer{out0, out1}, in.list(false)...)...)
	return nil
}

func (v *Vulkan) recordNormApply(r *gpu.Recorder, sp normSpec, mode normApplyMode, out *gpu.Buffer, in normIn) error {
	access := make([]gpu.Access, 11)
	for i := range access {
		access[i] = gpu.Read
	}
	access[0] = gpu.Write
	// Each invocation takes elems consecutive elements of one row.
	elems := min(normApplyElems*int(v.Elems), sp.sh.S)
	k, err := v.kernel("norm_apply", access, normPushBytes, v.Local, 1, 1, uint32(mode), normB2U(sp.eval), uint32(elems))
	if err != nil {
		return err
	}
	chunks := (sp.sh.S + elems - 1) / elems
	r.Dispatch(k, v.Device.Grid(k, sp.sh.N*sp.sh.C*chunks), sp.push(sp.normDomain()), append([]*gpu.Buffer{out}, in.list(true)...)...)
	return nil
}

// normRecordForward records y, computing the statistics first unless they
// are constants (evaluation); rm, rv: the running statistics to update
// (nil: none).
func (v *Vulkan) normRecordForward(r *gpu.Recorder, sp normSpec, x, w, b, mean, variance, rm, rv, y *gpu.Buffer) error {
	if !sp.eval {
		if err := v.recordNormStats(r, sp, x, mean, variance, rm, rv); err != nil {
			return err
		}
	}
	return v.recordNormApply(r, sp, normForward, y, normIn{x: x, mean: mean, variance: variance, w: w, b: b})
}

// normRecordSetSums records a derivative's per-set sums into scratch and
// points in at them; with constant statistics (evaluation) there are none.
func (v *Vulkan) normRecordSetSums(r *gpu.Recorder, sp normSpec, mode normSumsMode, scratch *gpu.Buffer, in *normIn) error {
	if sp.eval {
		return nil
	}
	if err := v.recordNormSums(r, sp, mode, scratch, nil, *in); err != nil {
		return err
	}
	in.sums = scratch
	return nil
}

func (v *Vulkan) normRecordBackward(r *gpu.Recorder, sp normSpec, x, w, mean, variance, g, dx, dw, db, scratch *gpu.Buffer) error {
	if err := sp.checkBufs(sp.elem("x", x), sp.chanBuf("weight", w), sp.stat("mean", mean), sp.stat("variance", variance), sp.elem("g", g),
		sp.elem("dx", dx), sp.chanBuf("dweight", dw), sp.chanBuf("dbias", db), sp.scratch(scratch)); err != nil {
		return err
	}
	in := normIn{x: x, mean: mean, variance: variance, w: w, g: g}
	if err := v.normRecordSetSums(r, sp, normSetBackward, scratch, &in); err != nil {
		return err
	}
	if err := v.recordNormSums(r, sp, normChBackward, dw, db, in); err != nil {
		return err
	}
	return v.recordNormApply(r, sp, normBackward, dx, in)
}

func (v *Vulkan) normRecordTangent(r *gpu.Recorder, sp normSpec, x, w, mean, variance, tx, tw, tb, ty, scratch *gpu.Buffer) error {
	if err := sp.checkBufs(sp.elem("x", x), sp.chanBuf("weight", w), sp.stat("mean", mean), sp.stat("variance", variance), sp.elem("tx", tx),
		sp.chanBuf("tweight", tw), sp.chanBuf("tbias", tb), sp.elem("ty", ty), sp.scratch(scratch)); err != nil {
		return err
	}
	in := normIn{x: x, mean: mean, variance: variance, w: w, b: tb, tx: tx, tw: tw}
	if err := v.normRecordSetSums(r, sp, normSetTangent, scratch, &in); err != nil {
		return err
	}
	return v.recordNormApply(r, sp, normTangent, ty, in)
}

func (v *Vulkan) normRecordTangentBackward(r *gpu.Recorder, sp normSpec, x, w, mean, variance, g, tx, tw, tg, tdx, tdw, tdb, scratch *gpu.Buffer) error {
	if err := sp.checkBufs(sp.elem("x", x), sp.chanBuf("weight", w), sp.stat("mean", mean), sp.stat("variance", variance), sp.elem("g", g),
		sp.elem("tx", tx), sp.chanBuf("tweight", tw), sp.elem("tg", tg), sp.elem("tdx", tdx), sp.chanBuf("tdweight", tdw), sp.chanBuf("tdbias", tdb),
		sp.scratch(scratch)); err != nil {
		return err
	}
	in := normIn{x: x, mean: mean, variance: variance, w: w, g: g, tx: tx, tw: tw, tg: tg}
	if err := v.normRecordSetSums(r, sp, normSetTangentBackward, scratch, &in); err != nil {
		return err
	}
	if err := v.recordNormSums(r, sp, normChTangentBackward, tdw, tdb, in); err != nil {
		return err
	}
	return v.recordNormApply(r, sp, normTangentBackward, tdx, in)
}

// Buffer-size helpers of the recorders.
func (sp normSpec) elem(name string, b *gpu.Buffer) normBuf { return normBuf{name, b, sp.sh.Len()} }
func (sp normSpec) chanBuf(name string, b *gpu.Buffer) normBuf {
	return normBuf{name, b, sp.sh.C}
}
func (sp normSpec) stat(name string, b *gpu.Buffer) normBuf { return normBuf{name, b, sp.sets()} }
func (sp normSpec) scratch(b *gpu.Buffer) normBuf {
	n := 8 * sp.sets()
	if sp.eval {
		n = 0
	}
	return normBuf{"scratch", b, n}
}

// RecordGroupNorm records y = group_norm(x)*w + b and writes each
// (sample, group)'s mean and biased variance (NormStatsLen floats each),
// which the derivative recorders read.
func (v *Vulkan) RecordGroupNorm(r *gpu.Recorder, sh NormShape, groups int, x, w, b, y, mean, variance *gpu.Buffer) error {
	sp, err := gnSpec(sh, groups)
	if err != nil {
		return err
	}
	if err := sp.checkBufs(sp.elem("x", x), sp.chanBuf("weight", w), sp.chanBuf("bias", b), sp.elem("y", y), sp.stat("mean", mean), sp.stat("variance", variance)); err != nil {
		return err
	}
	return v.normRecordForward(r, sp, x, w, b, mean, variance, nil, nil, y)
}

// RecordGroupNormBackward records (dx, dw, db) from y's cotangent g and
// the forward's statistics; scratch holds NormScratch floats.
func (v *Vulkan) RecordGroupNormBackward(r *gpu.Recorder, sh NormShape, groups int, x, w, mean, variance, g, dx, dw, db, scratch *gpu.Buffer) error {
	sp, err := gnSpec(sh, groups)
	if err != nil {
		return err
	}
	return v.normRecordBackward(r, sp, x, w, mean, variance, g, dx, dw, db, scratch)
}

// RecordGroupNormTangent records the JVP ty in direction (tx, tw, tb).
func (v *Vulkan) RecordGroupNormTangent(r *gpu.Recorder, sh NormShape, groups int, x, w, mean, variance, tx, tw, tb, ty, scratch *gpu.Buffer) error {
	sp, err := gnSpec(sh, groups)
	if err != nil {
		return err
	}
	return v.normRecordTangent(r, sp, x, w, mean, variance, tx, tw, tb, ty, scratch)
}

// RecordGroupNormTangentBackward records the tangent (tdx, tdw, tdb) of
// the backward in direction (tx, tw; tg).
func (v *Vulkan) RecordGroupNormTangentBackward(r *gpu.Recorder, sh NormShape, groups int, x, w, mean, variance, g, tx, tw, tg, tdx, tdw, tdb, scratch *gpu.Buffer) error {
	sp, err := gnSpec(sh, groups)
	if err != nil {
		return err
	}
	return v.normRecordTangentBackward(r, sp, x, w, mean, variance, g, tx, tw, tg, tdx, tdw, tdb, scratch)
}

// RecordBatchNorm records y = batch_norm(x)*w + b. Training writes the
// batch mean and biased variance (C floats each, read by the derivative
// recorders) and updates runMean and runVar in place; evaluation reads
// runMean and runVar and ignores mean and variance (which may be nil).
func (v *Vulkan) RecordBatchNorm(r *gpu.Recorder, sh NormShape, bn BNConfig, x, w, b, mean, variance, runMean, runVar, y *gpu.Buffer) error {
	sp := bnSpec(sh, bn)
	bufs := []normBuf{sp.elem("x", x), sp.chanBuf("weight", w), sp.chanBuf("bias", b), sp.chanBuf("running_mean", runMean), sp.chanBuf("running_var", runVar), sp.elem("y", y)}
	if bn.Train {
		bufs = append(bufs, sp.stat("mean", mean), sp.stat("variance", variance))
	} else {
		mean, variance, runMean, runVar = runMean, runVar, nil, nil
	}
	if err := sp.checkBufs(bufs...); err != nil {
		return err
	}
	return v.normRecordForward(r, sp, x, w, b, mean, variance, runMean, runVar, y)
}

// RecordBatchNormBackward records (dx, dw, db). mean and variance are the
// batch statistics of the forward in training, the running statistics in
// evaluation; scratch holds NormScratch(sh, 0) floats (unused, may be nil,
// in evaluation).
func (v *Vulkan) RecordBatchNormBackward(r *gpu.Recorder, sh NormShape, bn BNConfig, x, w, mean, variance, g, dx, dw, db, scratch *gpu.Buffer) error {
	return v.normRecordBackward(r, bnSpec(sh, bn), x, w, mean, variance, g, dx, dw, db, scratch)
}

// RecordBatchNormTangent records the JVP ty in direction (tx, tw, tb)
// (statistics as in RecordBatchNormBackward).
func (v *Vulkan) RecordBatchNormTangent(r *gpu.Recorder, sh NormShape, bn BNConfig, x, w, mean, variance, tx, tw, tb, ty, scratch *gpu.Buffer) error {
	return v.normRecordTangent(r, bnSpec(sh, bn), x, w, mean, variance, tx, tw, tb, ty, scratch)
}

// RecordBatchNormTangentBackward records the tangent (tdx, tdw, tdb) of
// the backward in direction (tx, tw; tg).
func (v *Vulkan) RecordBatchNormTangentBackward(r *gpu.Recorder, sh NormShape, bn BNConfig, x, w, mean, variance, g, tx, tw, tg, tdx, tdw, tdb, scratch *gpu.Buffer) error {
	return v.normRecordTangentBackward(r, bnSpec(sh, bn), x, w, mean, variance, g, tx, tw, tg, tdx, tdw, tdb, scratch)
}

// normExecStats records the statistics the derivatives read: computed
// from x in a stats pass (training, group_norm), or the running ones
// (evaluation). It returns the mean and variance buffers.
func (v *Vulkan) normExecStats(r *gpu.Recorder, sp normSpec, x, rm, rv, mean, variance *gpu.Buffer) (*gpu.Buffer, *gpu.Buffer, error) {
	if sp.eval {
		return rm, rv, nil
	}
	return mean, variance, v.recordNormStats(r, sp, x, mean, variance, nil, nil)
}

// normExecDeriv runs one derivative on host slices. The inputs are x, w,
// the running statistics (nil for group_norm and in training: zeros) and
// the mode's arguments; outs are the lengths of its outputs. rec records
// it given the input buffers in that order and the statistics.
func (v *Vulkan) normExecDeriv(sp normSpec, x, w, rm, rv []float32, args [][]float32, outs []int,
	rec func(r *gpu.Recorder, in []*gpu.Buffer, mean, variance, scratch *gpu.Buffer, out []*gpu.Buffer) error) ([][]float32, error) {
	if rm == nil {
		rm, rv = make([]float32, sp.sh.C), make([]float32, sp.sh.C)
	}
	k := sp.sets()
	lens := append(append([]int{}, outs...), k, k, 8*k)
	res, err := v.exec(append([][]float32{x, w, rm, rv}, args...), lens, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		no := len(outs)
		mean, variance, err := v.normExecStats(r, sp, in[0], in[2], in[3], out[no], out[no+1])
		if err != nil {
			return err
		}
		return rec(r, in, mean, variance, out[no+2], out[:no])
	})
	if err != nil {
		return nil, err
	}
	return res[:len(outs)], nil
}

// GroupNorm implements GroupNormBackend.
func (v *Vulkan) GroupNorm(sh NormShape, groups int, x, w, b []float32) ([]float32, error) {
	sp, err := gnSpec(sh, groups)
	if err == nil {
		err = sp.checkArgs(normArg{"x", x, true}, normArg{"weight", w, false}, normArg{"bias", b, false})
	}
	if err != nil {
		return nil, err
	}
	k := sp.sets()
	out, err := v.exec([][]float32{x, w, b}, []int{len(x), k, k}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.RecordGroupNorm(r, sh, groups, in[0], in[1], in[2], out[0], out[1], out[2])
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// GroupNormBackward implements GroupNormBackend.
func (v *Vulkan) GroupNormBackward(sh NormShape, groups int, x, w, g []float32) (dx, dw, db []float32, err error) {
	sp, err := gnSpec(sh, groups)
	return v.normBackward(sp, err, x, w, nil, nil, g)
}

// GroupNormTangent implements GroupNormBackend.
func (v *Vulkan) GroupNormTangent(sh NormShape, groups int, x, w, tx, tw, tb []float32) ([]float32, error) {
	sp, err := gnSpec(sh, groups)
	return v.normTangent(sp, err, x, w, nil, nil, tx, tw, tb)
}

// GroupNormTangentBackward implements GroupNormBackend.
func (v *Vulkan) GroupNormTangentBackward(sh NormShape, groups int, x, w, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	sp, err := gnSpec(sh, groups)
	return v.normTangentBackward(sp, err, x, w, nil, nil, g, tx, tw, tg)
}

// BatchNorm implements BatchNormBackend.
func (v *Vulkan) BatchNorm(sh NormShape, bn BNConfig, x, w, b, rm, rv []float32) (y, rmOut, rvOut []float32, err error) {
	sp := bnSpec(sh, bn)
	if err := sp.checkArgs(normArg{"x", x, true}, normArg{"weight", w, false}, normArg{"bias", b, false},
		normArg{"running_mean", rm, false}, normArg{"running_var", rv, false}); err != nil {
		return nil, nil, nil, err
	}
	// The running statistics are updated in place, on copies of the inputs.
	k := sp.sets()
	out, err := v.exec([][]float32{x, w, b, rm, rv}, []int{len(x), k, k, sh.C, sh.C}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		r.Copy(out[3], in[3])
		r.Copy(out[4], in[4])
		return v.RecordBatchNorm(r, sh, bn, in[0], in[1], in[2], out[1], out[2], out[3], out[4], out[0])
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return out[0], out[3], out[4], nil
}

// BatchNormBackward implements BatchNormBackend.
func (v *Vulkan) BatchNormBackward(sh NormShape, bn BNConfig, x, w, rm, rv, g []float32) (dx, dw, db []float32, err error) {
	return v.normBackward(bnSpec(sh, bn), nil, x, w, rm, rv, g)
}

// BatchNormTangent implements BatchNormBackend.
func (v *Vulkan) BatchNormTangent(sh NormShape, bn BNConfig, x, w, rm, rv, tx, tw, tb []float32) ([]float32, error) {
	return v.normTangent(bnSpec(sh, bn), nil, x, w, rm, rv, tx, tw, tb)
}

// BatchNormTangentBackward implements BatchNormBackend.
func (v *Vulkan) BatchNormTangentBackward(sh NormShape, bn BNConfig, x, w, rm, rv, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	return v.normTangentBackward(bnSpec(sh, bn), nil, x, w, rm, rv, g, tx, tw, tg)
}

// The host-slice derivatives of both norms, as on the CPU: err is gnSpec's
// error (nil for batch_norm); rm and rv are nil for group_norm.

func (v *Vulkan) normBackward(sp normSpec, err error, x, w, rm, rv, g []float32) (dx, dw, db []float32, _ error) {
	if err == nil {
		err = sp.checkBackward(x, w, rm, rv, g)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := v.normExecDeriv(sp, x, w, rm, rv, [][]float32{g}, []int{len(x), sp.sh.C, sp.sh.C},
		func(r *gpu.Recorder, in []*gpu.Buffer, mean, variance, scratch *gpu.Buffer, o []*gpu.Buffer) error {
			return v.normRecordBackward(r, sp, in[0], in[1], mean, variance, in[4], o[0], o[1], o[2], scratch)
		})
	if err != nil {
		return nil, nil, nil, err
	}
	return out[0], out[1], out[2], nil
}

func (v *Vulkan) normTangent(sp normSpec, err error, x, w, rm, rv, tx, tw, tb []float32) ([]float32, error) {
	if err == nil {
		err = sp.checkTangent(x, w, rm, rv, tx, tw, tb)
	}
	if err != nil {
		return nil, err
	}
	out, err := v.normExecDeriv(sp, x, w, rm, rv, [][]float32{tx, tw, tb}, []int{len(x)},
		func(r *gpu.Recorder, in []*gpu.Buffer, mean, variance, scratch *gpu.Buffer, o []*gpu.Buffer) error {
			return v.normRecordTangent(r, sp, in[0], in[1], mean, variance, in[4], in[5], in[6], o[0], scratch)
		})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (v *Vulkan) normTangentBackward(sp normSpec, err error, x, w, rm, rv, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, _ error) {
	if err == nil {
		err = sp.checkTangentBackward(x, w, rm, rv, g, tx, tw, tg)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := v.normExecDeriv(sp, x, w, rm, rv, [][]float32{g, tx, tw, tg}, []int{len(x), sp.sh.C, sp.sh.C},
		func(r *gpu.Recorder, in []*gpu.Buffer, mean, variance, scratch *gpu.Buffer, o []*gpu.Buffer) error {
			return v.normRecordTangentBackward(r, sp, in[0], in[1], mean, variance, in[4], in[5], in[6], in[7], o[0], o[1], o[2], scratch)
		})
	if err != nil {
		return nil, nil, nil, err
	}
	return out[0], out[1], out[2], nil
}
