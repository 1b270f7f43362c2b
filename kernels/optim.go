package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// AdamConfig holds Adam's hyperparameters. WeightDecay is added to the
// gradient as L2 (torch.optim.Adam, the paper's MLP baseline) or, with
// Decoupled, applied to the parameters (torch.optim.AdamW).
type AdamConfig struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	Decoupled                          bool
}

// Schedule returns the step-dependent scalars of step t (from 1) that
// RecordAdam reads from its schedule buffer: lr / (1 - beta1^t) and
// 1 / sqrt(1 - beta2^t), computed in float64 (1 - beta2^t loses most of its
// digits in float32 for small t).
func (c AdamConfig) Schedule(t int) []float32 {
	bc1 := 1 - math.Pow(float64(c.Beta1), float64(t))
	bc2 := 1 - math.Pow(float64(c.Beta2), float64(t))
	return []float32{float32(float64(c.LR) / bc1), float32(1 / math.Sqrt(bc2))}
}

func (c AdamConfig) check(t int) error {
	if t < 1 {
		return fmt.Errorf("kernels: adam: step %d (want t >= 1)", t)
	}
	return c.Validate()
}

// Validate reports a configuration Adam cannot run with.
func (c AdamConfig) Validate() error {
	if !(c.Beta1 >= 0 && c.Beta1 < 1 && c.Beta2 >= 0 && c.Beta2 < 1 && c.Eps > 0 && c.LR >= 0 && c.WeightDecay >= 0) {
		return fmt.Errorf("kernels: adam: config %+v (want betas in [0, 1), eps > 0, lr and weight decay >= 0)", c)
	}
	return nil
}

// OptimBackend runs the optimisers. They return updated copies and leave
// their arguments alone; the Record* forms update in place.
type OptimBackend interface {
	// SGD returns p - lr*g.
	SGD(p, g []float32, lr float32) ([]float32, error)
	// Adam returns the parameters and moments after Adam step t (from 1).
	Adam(p, g, m, v []float32, c AdamConfig, t int) (np, nm, nv []float32, err error)
	// ClipGradNorm returns the gradients scaled by min(1, maxNorm /
	// (norm + 1e-6)), PyTorch's clip_grad_norm_, and norm, the L2 norm of
	// all of them together.
	ClipGradNorm(grads [][]float32, maxNorm float32) ([][]float32, float32, error)
}

// SGD implements OptimBackend.
func (CPU) SGD(p, g []float32, lr float32) ([]float32, error) {
	if err := checkLen("sgd", "gradient", len(g), len(p)); err != nil {
		return nil, err
	}
	out := make([]float32, len(p))
	for i := range p {
		out[i] = float32(float64(p[i]) - float64(lr)*float64(g[i]))
	}
	return out, nil
}

func checkAdam(p, g, m, v []float32, c AdamConfig, t int) error {
	for _, x := range []struct {
		what string
		n    int
	}{{"gradient", len(g)}, {"first moment", len(m)}, {"second moment", len(v)}} {
		if err := checkLen("adam", x.what, x.n, len(p)); err != nil {
			return err
		}
	}
	return c.check(t)
}

// Adam implements OptimBackend.
func (CPU) Adam(p, g, m, v []float32, c AdamConfig, t int) (np, nm, nv []float32, err error) {
	if err := checkAdam(p, g, m, v, c, t); err != nil {
		return nil, nil, nil, err
	}
	b1, b2, wd := float64(c.Beta1), float64(c.Beta2), float64(c.WeightDecay)
	bc1, bc2 := 1-math.Pow(b1, float64(t)), 1-math.Pow(b2, float64(t))
	np, nm, nv = make([]float32, len(p)), make([]float32, len(p)), make([]float32, len(p))
	for i := range p {
		w, gi := float64(p[i]), float64(g[i])
		if c.Decoupled {
			w *= 1 - float64(c.LR)*wd
		} else {
			gi += wd * w
		}
		mi := b1*float64(m[i]) + (1-b1)*gi
		vi := b2*float64(v[i]) + (1-b2)*gi*gi
		w -= float64(c.LR) / bc1 * mi / (math.Sqrt(vi)/math.Sqrt(bc2) + float64(c.Eps))
		np[i], nm[i], nv[i] = float32(w), float32(mi), float32(vi)
	}
	return np, nm, nv, nil
}

func checkClip(grads [][]float32, maxNorm float32) error {
	if len(grads) == 0 {
		return fmt.Errorf("kernels: clip_grad_norm: no tensors")
	}
	if !(maxNorm > 0) {
		return fmt.Errorf("kernels: clip_grad_norm: max norm %v (want > 0)", maxNorm)
	}
	return nil
}

// ClipGradNorm implements OptimBackend.
func (CPU) ClipGradNorm(grads [][]float32, maxNorm float32) ([][]float32, float32, error) {
	if err := checkClip(grads, maxNorm); err != nil {
		return nil, 0, err
	}
	sum := 0.0
	for _, g := range grads {
		for _, x := range g {
			sum += float64(x) * float64(x)
		}
	}
	norm := math.Sqrt(sum)
	coef := math.Min(1, float64(maxNorm)/(norm+1e-6))
	out := make([][]float32, len(grads))
	for i, g := range grads {
		out[i] = make([]float32, len(g))
		for j, x := range g {
			out[i][j] = float32(float64(x) * coef)
		}
	}
	return out, float32(norm), nil
}

// Op codes of optim.comp.
const (
	optimSGD uint32 = iota
	optimClip
)

// RecordSGD records p -= lr * g over n elements, in place.
func (v *Vulkan) RecordSGD(r *gpu.Recorder, p, g *gpu.Buffer, n int, lr float32) error {
	k, err := v.kernel("optim", []gpu.Access{gpu.ReadWrite, gpu.Read}, 8, v.Local, 1, 1, optimSGD)
	if err != nil {
		return err
	}
	r.Dispatch(k, v.Device.Grid(k, n), gpu.Push{}.U32(uint32(n)).F32(lr), p, g)
	return nil
}

// AdamTensor is one tensor of a recorded Adam step: its parameters,
// gradient and two moments, N floats each.
type AdamTensor struct {
	P, G, M, V *gpu.Buffer
	N          int
}

// Clip is clip_grad_norm_ folded into RecordAdam: each gradient is read
// scaled by min(1, MaxNorm / (Norm[0] + 1e-6)), Norm[0] being the global
// norm RecordGradNorm wrote.
type Clip struct {
	Norm    *gpu.Buffer
	MaxNorm float32
}

// adamTensors is how many tensors one dispatch of optim_adam.comp updates
// (its MAXT).
const adamTensors = 4

// RecordAdam records one Adam step over the tensors ts, updating
// parameters and moments in place, adamTensors tensors a dispatch: a
// model's many small parameters cost a few dispatches, not one each. sched
// holds c.Schedule(t) for the step being run; rewriting it between runs
// replays the same program for later steps. clip, when not nil, scales
// the gradients as they are read (they stay unscaled in memory).
func (v *Vulkan) RecordAdam(r *gpu.Recorder, c AdamConfig, sched *gpu.Buffer, ts []AdamTensor, clip *Clip) error {
	if err := c.check(1); err != nil {
		return err
	}
	if len(ts) == 0 {
		return fmt.Errorf("kernels: adam: no tensors")
	}
	if clip != nil && (clip.Norm == nil || !(clip.MaxNorm > 0)) {
		return fmt.Errorf("kernels: adam: clipping needs the norm's buffer and a max norm > 0 (max norm %v, buffer set: %v)", clip.MaxNorm, clip.Norm != nil)
	}
	decay, wd := float32(1), c.WeightDecay
	if c.Decoupled {
		decay, wd = 1-c.LR*c.WeightDecay, 0
	}
	binds := []gpu.Access{gpu.Read, gpu.Read}
	for range adamTensors {
		binds = append(binds, gpu.ReadWrite, gpu.Read, gpu.ReadWrite, gpu.ReadWrite)
	}
	k, err := v.kernel("optim_adam", binds, 4*(2*adamTensors+6), v.Local, 1, 1, specBool(c.Decoupled), specBool(clip != nil))
	if err != nil {
		return err
	}
	norm, maxNorm := sched, float32(0)
	if clip != nil {
		norm, maxNorm = clip.Norm, clip.MaxNorm
	}
	for len(ts) > 0 {
		group := ts[:min(len(ts), adamTensors)]
		ts = ts[len(group):]
		var ns, firsts gpu.Push
		bufs := []*gpu.Buffer{sched, norm}
		first, local := 0, int(v.Local)
		for i := range adamTensors {
			// Unused slots alias tensor 0 and start past every index.
			t, start, n := group[0], uint32(0xffffffff), 0
			if i < len(group) {
				t, start, n = group[i], uint32(first), group[i].N
				first += (n + local - 1) / local * local
			}
			ns, firsts = ns.U32(uint32(n)), firsts.U32(start)
			bufs = append(bufs, t.P, t.G, t.M, t.V)
		}
		if first > math.MaxUint32-local {
			return fmt.Errorf("kernels: adam: %d elements in one dispatch exceed 32-bit indices", first)
		}
		push := append(append(ns, firsts...), gpu.Push{}.F32(c.Beta1).F32(c.Beta2).F32(c.Eps).F32(wd).F32(decay).F32(maxNorm)...)
		r.Dispatch(k, v.Device.Grid(k, first), push, bufs...)
	}
	return nil
}

// ClipScratch is the length in floats of the scratch buffer that
// RecordGradNorm needs for tensors of the given lengths.
func ClipScratch(lens []int) int {
	s := 0
	for _, n := range lens {
		s += reduceGroups(n)
	}
	return s
}

// gradNormRows is how many tensors one sum-of-squares dispatch reads
// (loss.comp's inputs).
const gradNormRows = 8

// RecordGradNorm records norm[0] = the L2 norm of all the tensors grads
// (of lens floats), as PyTorch's clip_grad_norm_ computes it: each tensor's
// partial sums of squares go to its own slots of scratch
// (ClipScratch(lens) floats), up to 8 tensors a dispatch, and one pass
// folds them into the norm.
func (v *Vulkan) RecordGradNorm(r *gpu.Recorder, grads []*gpu.Buffer, lens []int, norm, scratch *gpu.Buffer) error {
	if len(grads) != len(lens) || len(grads) == 0 {
		return fmt.Errorf("kernels: clip_grad_norm: %d tensors with %d lengths", len(grads), len(lens))
	}
	parts := ClipScratch(lens)
	if err := checkScratch(scratch, parts); err != nil {
		return err
	}
	off := 0
	for start := 0; start < len(grads); start += gradNormRows {
		end := min(len(grads), start+gradNormRows)
		var rn, rg, roff gpu.Push
		wide := 0
		for i := range gradNormRows {
			n, g := 0, 0
			if start+i < end {
				n, g = lens[start+i], reduceGroups(lens[start+i])
			}
			rn, rg, roff = rn.U32(uint32(n)), rg.U32(uint32(g)), roff.U32(uint32(off))
			off += g
			wide = max(wide, g)
		}
		push := append(append(append(gpu.Push{}.U32(0).U32(0).F32(1), rn...), rg...), roff...)
		grid := [3]uint32{uint32(wide), uint32(end - start), 1}
		if err := v.lossDispatch(r, reduceSumSq, false, grads[start:end], scratch, grid, push); err != nil {
			return err
		}
	}
	return v.lossReducePass(r, reduceSum, true, []*gpu.Buffer{scratch}, norm, 1, 1, parts, 0, 1)
}

// RecordClipGradNorm records PyTorch's clip_grad_norm_ over the tensors
// grads (of lens floats) in place: norm[0] = the L2 norm of all of them
// (RecordGradNorm), then each distinct buffer is scaled once by
// min(1, maxNorm / (norm + 1e-6)).
// Where only Adam reads the gradients, RecordAdam's Clip does the scaling
// without the extra passes.
func (v *Vulkan) RecordClipGradNorm(r *gpu.Recorder, grads []*gpu.Buffer, lens []int, maxNorm float32, norm, scratch *gpu.Buffer) error {
	if !(maxNorm > 0) {
		return fmt.Errorf("kernels: clip_grad_norm: max norm %v (want > 0)", maxNorm)
	}
	if err := v.RecordGradNorm(r, grads, lens, norm, scratch); err != nil {
		return err
	}
	k, err := v.kernel("optim", []gpu.Access{gpu.ReadWrite, gpu.Read}, 8, v.Local, 1, 1, optimClip)
	if err != nil {
		return err
	}
	scaled := map[*gpu.Buffer]bool{}
	for i, g := range grads {
		// A gradient that two parameters share (the same node, so the
		// same buffer) counts twice in the norm but is scaled once.
		if scaled[g] {
			continue
		}
		scaled[g] = true
		r.Dispatch(k, v.Device.Grid(k, lens[i]), gpu.Push{}.U32(uint32(lens[i])).F32(maxNorm), g, norm)
	}
	return nil
}

// SGD implements OptimBackend.
func (v *Vulkan) SGD(p, g []float32, lr float32) ([]float32, error) {
	if err := checkLen("sgd", "gradient", len(g), len(p)); err != nil {
		return nil, err
	}
	out, err := v.exec([][]float32{p, g}, []int{len(p)}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		r.Copy(out[0], in[0])
		return v.RecordSGD(r, out[0], in[1], len(p), lr)
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Adam implements OptimBackend.
func (v *Vulkan) Adam(p, g, m, vv []float32, c AdamConfig, t int) (np, nm, nv []float32, err error) {
	if err := checkAdam(p, g, m, vv, c, t); err != nil {
		return nil, nil, nil, err
	}
	n := len(p)
	out, err := v.exec([][]float32{p, g, m, vv, c.Schedule(t)}, []int{n, n, n}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		r.Copy(out[0], in[0])
		r.Copy(out[1], in[2])
		r.Copy(out[2], in[3])
		return v.RecordAdam(r, c, in[4], []AdamTensor{{P: out[0], G: in[1], M: out[1], V: out[2], N: n}}, nil)
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return out[0], out[1], out[2], nil
}

// ClipGradNorm implements OptimBackend.
func (v *Vulkan) ClipGradNorm(grads [][]float32, maxNorm float32) ([][]float32, float32, error) {
	if err := checkClip(grads, maxNorm); err != nil {
		return nil, 0, err
	}
	lens := make([]int, len(grads))
	for i, g := range grads {
		lens[i] = len(g)
	}
	outLens := append(append([]int(nil), lens...), 1, ClipScratch(lens))
	out, err := v.exec(grads, outLens, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		for i := range grads {
			r.Copy(out[i], in[i])
		}
		return v.RecordClipGradNorm(r, out[:len(grads)], lens, maxNorm, out[len(grads)], out[len(grads)+1])
	})
	if err != nil {
		return nil, 0, err
	}
	return out[:len(grads)], out[len(grads)][0], nil
}
