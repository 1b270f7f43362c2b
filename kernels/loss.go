package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// LossOp is a loss function. Inputs, outputs and sizes (LossShape):
//
//   - MSE: pred, target [B, K] -> [B], out[b] = (1/K) sum_k (pred - target)^2.
//     B = 1 gives the mean over all elements.
//   - GaussianKL: KL(N(mu1, exp(logvar1)) || N(mu2, exp(logvar2))) of
//     diagonal Gaussians, inputs mu1, logvar1, mu2, logvar2 [B, K] -> [1],
//     (1/B) sum_{b,k} 0.5 (logvar2 - logvar1 + (exp(logvar1) + (mu1 -
//     mu2)^2) / exp(logvar2) - 1): summed over dimensions and averaged
//     over the batch, SVG's convention.
type LossOp uint32

// The losses. The Noether loss (equation 2 of the paper) is not one of
// them: noether.Loss builds it from generic graph ops, so that every
// meta-gradient mode, reverse over reverse included, applies to it.
const (
	MSE LossOp = iota
	GaussianKL
)

var lossNames = [...]string{"mse", "gaussian_kl"}

// LossOps lists every loss.
var LossOps = []LossOp{MSE, GaussianKL}

func (op LossOp) String() string {
	if int(op) < len(lossNames) {
		return lossNames[op]
	}
	return fmt.Sprintf("loss(%d)", uint32(op))
}

// LossShape gives a loss's sizes: B examples of K values.
type LossShape struct{ B, K int }

// Lens returns the lengths of op's inputs and outputs at shape s.
func (op LossOp) Lens(s LossShape) (ins, outs []int) {
	n := s.B * s.K
	switch op {
	case MSE:
		return []int{n, n}, []int{s.B}
	default:
		return []int{n, n, n, n}, []int{1}
	}
}

// LossBackend runs the losses and their derivatives. in holds the inputs
// and the results the outputs, in the order of LossOp's list; t are input
// tangents, g output cotangents, tg their tangents. LossVJP returns the
// cotangents of the inputs; LossHVP the tangent of LossVJP in the direction
// (t, tg).
type LossBackend interface {
	Loss(op LossOp, s LossShape, in [][]float32) ([][]float32, error)
	LossJVP(op LossOp, s LossShape, in, t [][]float32) ([][]float32, error)
	LossVJP(op LossOp, s LossShape, in, g [][]float32) ([][]float32, error)
	LossHVP(op LossOp, s LossShape, in, g, t, tg [][]float32) ([][]float32, error)
}

// checkLoss validates op, s and the tensors of sets.
func checkLoss(op LossOp, s LossShape, sets ...lossSet) error {
	if int(op) >= len(lossNames) {
		return fmt.Errorf("kernels: unknown loss %d", op)
	}
	if s.B < 1 || s.K < 1 {
		return fmt.Errorf("kernels: %s: shape %+v (want B, K >= 1)", op, s)
	}
	ins, outs := op.Lens(s)
	for _, set := range sets {
		want := outs
		if set.inputs {
			want = ins
		}
		if len(set.x) != len(want) {
			return fmt.Errorf("kernels: %s: %d %s, want %d", op, len(set.x), set.what, len(want))
		}
		for i, x := range set.x {
			if err := checkLen(op.String(), fmt.Sprintf("%s %d", set.what, i), len(x), want[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// lossSet is a list of tensors with the lengths of op's inputs (inputs
// true) or of its outputs; what names it in errors.
type lossSet struct {
	what   string
	inputs bool
	x      [][]float32
}

func lossIns(x [][]float32) lossSet  { return lossSet{"inputs", true, x} }
func lossTans(x [][]float32) lossSet { return lossSet{"tangents", true, x} }
func lossCotans(what string, x [][]float32) lossSet {
	return lossSet{what, false, x}
}

// Loss implements LossBackend.
func (CPU) Loss(op LossOp, s LossShape, in [][]float32) ([][]float32, error) {
	if err := checkLoss(op, s, lossIns(in)); err != nil {
		return nil, err
	}
	return lossRef(op, s, in, nil), nil
}

// LossJVP implements LossBackend.
func (CPU) LossJVP(op LossOp, s LossShape, in, t [][]float32) ([][]float32, error) {
	if err := checkLoss(op, s, lossIns(in), lossTans(t)); err != nil {
		return nil, err
	}
	return lossRef(op, s, in, t), nil
}

// LossVJP implements LossBackend.
func (CPU) LossVJP(op LossOp, s LossShape, in, g [][]float32) ([][]float32, error) {
	if err := checkLoss(op, s, lossIns(in), lossCotans("cotangents", g)); err != nil {
		return nil, err
	}
	return lossGradRef(op, s, in, g, nil, nil), nil
}

// LossHVP implements LossBackend.
func (CPU) LossHVP(op LossOp, s LossShape, in, g, t, tg [][]float32) ([][]float32, error) {
	if err := checkLoss(op, s, lossIns(in), lossCotans("cotangents", g), lossTans(t), lossCotans("cotangent tangents", tg)); err != nil {
		return nil, err
	}
	return lossGradRef(op, s, in, g, t, tg), nil
}

// lossRef is the forward (t nil) or the JVP of op in float64.
func lossRef(op LossOp, s LossShape, in, t [][]float32) [][]float32 {
	f := func(x []float32, i int) float64 { return float64(x[i]) }
	switch op {
	case MSE:
		out := make([]float32, s.B)
		for b := range s.B {
			sum := 0.0
			for i := b * s.K; i < (b+1)*s.K; i++ {
				d := f(in[0], i) - f(in[1], i)
				if t == nil {
					sum += d * d
				} else {
					sum += 2 * d * (f(t[0], i) - f(t[1], i))
				}
			}
			out[b] = float32(sum / float64(s.K))
		}
		return [][]float32{out}
	default:
		sum := 0.0
		for i := range in[0] {
			mu1, lv1, mu2, lv2 := f(in[0], i), f(in[1], i), f(in[2], i), f(in[3], i)
			dm := mu1 - mu2
			if t == nil {
				sum += 0.5 * (lv2 - lv1 + (math.Exp(lv1)+dm*dm)/math.Exp(lv2) - 1)
				continue
			}
			gr := klGrad(mu1, lv1, mu2, lv2)
			for j := range 4 {
				sum += gr[j] * f(t[j], i)
			}
		}
		return [][]float32{{float32(sum / float64(s.B))}}
	}
}

// klGrad is the gradient of one KL term wrt (mu1, logvar1, mu2, logvar2).
func klGrad(mu1, lv1, mu2, lv2 float64) [4]float64 {
	dm, q, r := mu1-mu2, math.Exp(-lv2), math.Exp(lv1-lv2)
	return [4]float64{dm * q, 0.5 * (r - 1), -dm * q, 0.5 * (1 - r - dm*dm*q)}
}

// lossGradRef is the VJP (t nil) or its tangent in direction (t, tg) in
// float64. MSE is quadratic: with w = g[b] the cotangent of a row, the VJP
// is w (2/K) (pred - target) for pred and its negative for target, and its
// tangent replaces w (pred - target) by w (tpred - ttarget) + tw (pred -
// target), tw = tg[b]. For KL, per element, with dm = mu1 -
// mu2, q = exp(-logvar2), r = exp(logvar1 - logvar2) and c = g/B:
//
//	d/dmu1 = c dm q = -d/dmu2, d/dlogvar1 = c (r - 1)/2,
//	d/dlogvar2 = c (1 - r - dm^2 q)/2,
//
// and the tangent adds (tg/B) times these to c times the Hessian products
// q (dmu - dm tlv2), r (tlv1 - tlv2)/2 and -(r tlv1 + 2 dm dmu q - (r +
// dm^2 q) tlv2)/2, where dmu = tmu1 - tmu2 (the mu2 row is minus the mu1 row).
func lossGradRef(op LossOp, s LossShape, in, g, t, tg [][]float32) [][]float32 {
	f := func(x []float32, i int) float64 { return float64(x[i]) }
	out := make([][]float64, len(in))
	for i := range in {
		out[i] = make([]float64, len(in[i]))
	}
	switch op {
	case MSE:
		for i := range in[0] {
			b := i / s.K
			v := f(g[0], b) * (f(in[0], i) - f(in[1], i))
			if t != nil {
				v = f(g[0], b)*(f(t[0], i)-f(t[1], i)) + f(tg[0], b)*(f(in[0], i)-f(in[1], i))
			}
			out[0][i] = 2 * v / float64(s.K)
			out[1][i] = -out[0][i]
		}
	default:
		c := f(g[0], 0) / float64(s.B)
		for i := range in[0] {
			mu1, lv1, mu2, lv2 := f(in[0], i), f(in[1], i), f(in[2], i), f(in[3], i)
			gr := klGrad(mu1, lv1, mu2, lv2)
			if t == nil {
				for j := range 4 {
					out[j][i] = c * gr[j]
				}
				continue
			}
			dm, q, r := mu1-mu2, math.Exp(-lv2), math.Exp(lv1-lv2)
			dmu, tlv1, tlv2 := f(t[0], i)-f(t[2], i), f(t[1], i), f(t[3], i)
			h := [4]float64{
				q * (dmu - dm*tlv2),
				0.5 * r * (tlv1 - tlv2),
				-q * (dmu - dm*tlv2),
				-0.5 * (r*tlv1 + 2*dm*dmu*q - (r+dm*dm*q)*tlv2),
			}
			tc := f(tg[0], 0) / float64(s.B)
			for j := range 4 {
				out[j][i] = tc*gr[j] + c*h[j]
			}
		}
	}
	res := make([][]float32, len(out))
	for i, o := range out {
		res[i] = make([]float32, len(o))
		for j, v := range o {
			res[i][j] = float32(v)
		}
	}
	return res
}

// Reductions (loss.comp): each workgroup of a row sums reduceChunk terms or
// fewer; rows longer than that take several workgroups whose partial sums
// a second pass folds.
const reduceChunk = 4096

// Reduction op codes of loss.comp.
const (
	reduceSum uint32 = iota
	reduceSumSq
	reduceMSE
	reduceMSEJVP
	reduceKL
	reduceKLJVP
)

func reduceGroups(n int) int { return max(1, (n+reduceChunk-1)/reduceChunk) }

// reduceScratch is the scratch (floats) that reduce needs for rows of n terms.
func reduceScratch(rows, n int) int {
	if g := reduceGroups(n); g > 1 {
		return rows * g
	}
	return 0
}

// lossReducePass records one pass of loss.comp: groups workgroups per row,
// writing out[off + row*groups + grp]. ins holds up to 8 inputs.
func (v *Vulkan) lossReducePass(r *gpu.Recorder, op uint32, root bool, ins []*gpu.Buffer, out *gpu.Buffer, rows, groups, n, off int, scale float32) error {
	if rows > int(v.Device.Info.MaxWorkgroupCount[1]) {
		return fmt.Errorf("kernels: reduction over %d rows exceeds the device's %d workgroups in y", rows, v.Device.Info.MaxWorkgroupCount[1])
	}
	push := gpu.Push{}.U32(uint32(n)).U32(uint32(off)).F32(scale)
	return v.lossDispatch(r, op, root, ins, out, [3]uint32{uint32(groups), uint32(rows), 1}, append(push, make([]byte, lossRowsPush)...))
}

// lossRowsPush is the size of loss.comp's per-row push words (rn, rg,
// roff: 8 each), which only SUMSQ reads.
const lossRowsPush = 3 * 8 * 4

// lossDispatch records one dispatch of loss.comp: inputs ins (up to 8;
// the rest alias ins[0]), output out, the whole push block.
func (v *Vulkan) lossDispatch(r *gpu.Recorder, op uint32, root bool, ins []*gpu.Buffer, out *gpu.Buffer, grid [3]uint32, push gpu.Push) error {
	if v.Local&(v.Local-1) != 0 {
		return fmt.Errorf("kernels: reductions need a power-of-two workgroup size, have %d", v.Local)
	}
	binds := make([]gpu.Access, 9)
	for i := range 8 {
		binds[i] = gpu.Read
	}
	binds[8] = gpu.Write
	k0, err := v.kernel(v.subgroupVariant("loss", v.Local), binds, 12+lossRowsPush, v.Local, 1, 1, op, specBool(root))
	if err != nil {
		return err
	}
	bufs := make([]*gpu.Buffer, 9)
	for i := range 8 {
		bufs[i] = ins[0]
		if i < len(ins) && ins[i] != nil {
			bufs[i] = ins[i]
		}
	}
	bufs[8] = out
	r.Dispatch(k0, grid, push, bufs...)
	return nil
}

// reduce records out[row] = scale * sum_j term(row, j) over rows rows of n
// terms, through scratch (reduceScratch(rows, n) floats) when a row needs
// several workgroups.
func (v *Vulkan) reduce(r *gpu.Recorder, op uint32, ins []*gpu.Buffer, out, scratch *gpu.Buffer, rows, n int, scale float32) error {
	g := reduceGroups(n)
	if g == 1 {
		return v.lossReducePass(r, op, false, ins, out, rows, 1, n, 0, scale)
	}
	if err := checkScratch(scratch, rows*g); err != nil {
		return err
	}
	if err := v.lossReducePass(r, op, false, ins, scratch, rows, g, n, 0, 1); err != nil {
		return err
	}
	return v.lossReducePass(r, reduceSum, false, []*gpu.Buffer{scratch}, out, rows, 1, g, 0, scale)
}

func checkScratch(b *gpu.Buffer, floats int) error {
	if b == nil || b.Size() < int64(4*floats) {
		return fmt.Errorf("kernels: reduction needs a scratch buffer of %d floats", floats)
	}
	return nil
}

func specBool(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// LossScratch is the length in floats of the scratch buffer that
// RecordLoss (forward or JVP) needs for op at s (0: none, pass nil).
func LossScratch(op LossOp, s LossShape) int {
	switch op {
	case MSE:
		return reduceScratch(s.B, s.K)
	default:
		return reduceScratch(1, s.B*s.K)
	}
}

// RecordLoss records op's forward (jvp false) or its JVP (jvp true, t the
// input tangents) from in into out, in LossBackend's layout. scratch holds
// LossScratch(op, s) floats (nil when 0).
func (v *Vulkan) RecordLoss(r *gpu.Recorder, op LossOp, s LossShape, jvp bool, in, t, out []*gpu.Buffer, scratch *gpu.Buffer) error {
	if err := checkBufs(op, s, in, t, out, jvp, false); err != nil {
		return err
	}
	ins := in
	if jvp {
		// Tangents go to bindings 4..7.
		ins = append(padBufs(append([]*gpu.Buffer(nil), in...), 4), t...)
	}
	switch op {
	case MSE:
		code := reduceMSE
		scale := 1 / float32(s.K)
		if jvp {
			code, scale = reduceMSEJVP, 2/float32(s.K)
		}
		return v.reduce(r, code, ins, out[0], scratch, s.B, s.K, scale)
	default:
		code := reduceKL
		if jvp {
			code = reduceKLJVP
		}
		return v.reduce(r, code, ins, out[0], scratch, 1, s.B*s.K, 1/float32(s.B))
	}
}

// padBufs extends x with nils to length n.
func padBufs(x []*gpu.Buffer, n int) []*gpu.Buffer {
	for len(x) < n {
		x = append(x, nil)
	}
	return x
}

// RecordLossGrad records op's VJP (t and tg nil) or its tangent in the
// direction (t on the inputs, tg on g), in LossBackend's layout.
func (v *Vulkan) RecordLossGrad(r *gpu.Recorder, op LossOp, s LossShape, in, g, t, tg, out []*gpu.Buffer) error {
	tangent := t != nil || tg != nil
	if err := checkBufs(op, s, in, t, out, tangent, true); err != nil {
		return err
	}
	_, outs := op.Lens(s)
	if err := bufLens(op, "cotangents", g, outs); err != nil {
		return err
	}
	if tangent {
		if err := bufLens(op, "cotangent tangents", tg, outs); err != nil {
			return err
		}
	}
	// Bindings (loss_grad.comp): inputs 0-3, their tangents 4-7, the
	// cotangent 8 and its tangent 9, outputs 10-13; unused ones alias
	// in[0] or out[0].
	binds := make([]gpu.Access, 14)
	bufs := make([]*gpu.Buffer, 14)
	for i := range 10 {
		binds[i], bufs[i] = gpu.Read, in[0]
	}
	copy(bufs, in)
	bufs[8] = g[0]
	if tangent {
		copy(bufs[4:], t)
		bufs[9] = tg[0]
	}
	for i := 10; i < 14; i++ {
		binds[i], bufs[i] = gpu.Write, out[0]
	}
	copy(bufs[10:], out)
	k, err := v.kernel("loss_grad", binds, 16, v.Local, 1, 1, uint32(op), specBool(tangent))
	if err != nil {
		return err
	}
	n, scale := s.B*s.K, 2/float32(s.K)
	if op == GaussianKL {
		scale = 1 / float32(s.B)
	}
	push := gpu.Push{}.U32(uint32(n)).U32(uint32(s.K)).F32(scale).F32(1 / float32(s.B))
	r.Dispatch(k, v.Device.Grid(k, n), push, bufs...)
	return nil
}

// checkBufs validates op, s and the buffers of a loss launch whose
// outputs have the lengths of op's inputs (grad) or of its outputs.
func checkBufs(op LossOp, s LossShape, in, t, out []*gpu.Buffer, tangent, grad bool) error {
	if err := checkLoss(op, s); err != nil {
		return err
	}
	ins, outs := op.Lens(s)
	if err := bufLens(op, "inputs", in, ins); err != nil {
		return err
	}
	if tangent {
		if err := bufLens(op, "tangents", t, ins); err != nil {
			return err
		}
	}
	if grad {
		outs = ins
	}
	return bufLens(op, "outputs", out, outs)
}

// bufLens checks that bufs has len(lens) buffers of at least lens[i]
// floats.
func bufLens(op LossOp, what string, bufs []*gpu.Buffer, lens []int) error {
	if len(bufs) != len(lens) {
		return fmt.Errorf("kernels: %s: %d %s, want %d", op, len(bufs), what, len(lens))
	}
	for i, b := range bufs {
		if b == nil || b.Size() < int64(4*lens[i]) {
			return fmt.Errorf("kernels: %s: %s %d must hold %d floats", op, what, i, lens[i])
		}
	}
	return nil
}

// Loss implements LossBackend.
func (v *Vulkan) Loss(op LossOp, s LossShape, in [][]float32) ([][]float32, error) {
	if err := checkLoss(op, s, lossIns(in)); err != nil {
		return nil, err
	}
	return v.runLoss(op, s, in, nil)
}

// LossJVP implements LossBackend.
func (v *Vulkan) LossJVP(op LossOp, s LossShape, in, t [][]float32) ([][]float32, error) {
	if err := checkLoss(op, s, lossIns(in), lossTans(t)); err != nil {
		return nil, err
	}
	return v.runLoss(op, s, in, t)
}

func (v *Vulkan) runLoss(op LossOp, s LossShape, in, t [][]float32) ([][]float32, error) {
	_, outs := op.Lens(s)
	lens := append([]int(nil), outs...)
	if n := LossScratch(op, s); n > 0 {
		lens = append(lens, n)
	}
	res, err := v.exec(append(append([][]float32(nil), in...), t...), lens, func(r *gpu.Recorder, b, out []*gpu.Buffer) error {
		var scratch *gpu.Buffer
		if len(out) > len(outs) {
			scratch = out[len(outs)]
		}
		var tb []*gpu.Buffer
		if t != nil {
			tb = b[len(in):]
		}
		return v.RecordLoss(r, op, s, t != nil, b[:len(in)], tb, out[:len(outs)], scratch)
	})
	if err != nil {
		return nil, err
	}
	return res[:len(outs)], nil
}

// LossVJP implements LossBackend.
func (v *Vulkan) LossVJP(op LossOp, s LossShape, in, g [][]float32) ([][]float32, error) {
	if err := checkLoss(op, s, lossIns(in), lossCotans("cotangents", g)); err != nil {
		return nil, err
	}
	return v.runLossGrad(op, s, in, g, nil, nil)
}

// LossHVP implements LossBackend.
func (v *Vulkan) LossHVP(op LossOp, s LossShape, in, g, t, tg [][]float32) ([][]float32, error) {
	if err := checkLoss(op, s, lossIns(in), lossCotans("cotangents", g), lossTans(t), lossCotans("cotangent tangents", tg)); err != nil {
		return nil, err
	}
	return v.runLossGrad(op, s, in, g, t, tg)
}

func (v *Vulkan) runLossGrad(op LossOp, s LossShape, in, g, t, tg [][]float32) ([][]float32, error) {
	ins, _ := op.Lens(s)
	var all [][]float32
	for _, x := range [][][]float32{in, g, t, tg} {
		all = append(all, x...)
	}
	return v.exec(all, ins, func(r *gpu.Recorder, b, out []*gpu.Buffer) error {
		take := func(n int) []*gpu.Buffer {
			x := b[:n]
			b = b[n:]
			return x
		}
		bi, bg, bt, btg := take(len(in)), take(len(g)), take(len(t)), take(len(tg))
		if t == nil {
			bt, btg = nil, nil
		}
		return v.RecordLossGrad(r, op, s, bi, bg, bt, btg, out)
	})
}
