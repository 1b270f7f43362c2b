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

// RecordAdam records one Adam step over n elements, updating p, m and v in
// place. sched holds c.Schedule(t) for the step being run; rewriting it
// between runs replays the same program for later steps.
func (v *Vulkan) RecordAdam(r *gpu.Recorder, c AdamConfig, sched, p, g, m, vv *gpu.Buffer, n int) error {
	if err := c.check(1); err != nil {
		return err
	}
	decay, wd := float32(1), c.WeightDecay
	if c.Decoupled {
		decay, wd = 1-c.LR*c.WeightDecay, 0
	}
	k, err := v.kernel("optim_adam", []gpu.Access{gpu.ReadWrite, gpu.Read, gpu.ReadWrite, gpu.ReadWrite, gpu.Read}, 24,
		v.Local, 1, 1, specBool(c.Decoupled))
	if err != nil {
		return err
	}
	push := gpu.Push{}.U32(uint32(n)).F32(c.Beta1).F32(c.Beta2).F32(c.Eps).F32(wd).F32(decay)
	r.Dispatch(k, v.Device.Grid(k, n), push, p, g, m, vv, sched)
	return nil
}

// ClipScratch is the length in floats of the scratch buffer that
// RecordClipGradNorm needs for tensors of the given lengths.
func ClipScratch(lens []int) int {
	s := 0
	for _, n := range lens {
		s += reduceGroups(n)
	}
	return s
}

// RecordClipGradNorm records PyTorch's clip_grad_norm_ over the tensors
// grads (of lens floats): norm[0] = the L2 norm of all of them, then each
// is scaled in place by min(1, maxNorm / (norm + 1e-6)). Each tensor's
// partial sums of squares go to its own slots of scratch
// (ClipScratch(lens) floats); one pass folds them into the norm.
func (v *Vulkan) RecordClipGradNorm(r *gpu.Recorder, grads []*gpu.Buffer, lens []int, maxNorm float32, norm, scratch *gpu.Buffer) error {
	if len(grads) != len(lens) || len(grads) == 0 {
		return fmt.Errorf("kernels: clip_grad_norm: %d tensors with %d lengths", len(grads), len(lens))
	}
	if !(maxNorm > 0) {
		return fmt.Errorf("kernels: clip_grad_norm: max norm %v (want > 0)", maxNorm)
	}
	parts := ClipScratch(lens)
	if err := checkScratch(scratch, parts); err != nil {
		return err
	}
	off := 0
	for i, g := range grads {
		groups := reduceGroups(lens[i])
		if err := v.lossReducePass(r, reduceSumSq, false, []*gpu.Buffer{g}, scratch, 1, groups, lens[i], off, 1); err != nil {
			return err
		}
		off += groups
	}
	if err := v.lossReducePass(r, reduceSum, true, []*gpu.Buffer{scratch}, norm, 1, 1, parts, 0, 1); err != nil {
		return err
	}
	k, err := v.kernel("optim", []gpu.Access{gpu.ReadWrite, gpu.Read}, 8, v.Local, 1, 1, optimClip)
	if err != nil {
		return err
	}
	for i, g := range grads {
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
		return v.RecordAdam(r, c, in[4], out[0], in[1], out[1], out[2], n)
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
