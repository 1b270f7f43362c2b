package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/kernels"
)

// Group and batch normalization are fused ops like cn_affine: forward,
// backward (dx, dweight, dbias), tangent and tangent of backward each run
// one kernel family, so forward-over-reverse products (the meta-gradient)
// are exact; the VJP of the backward (reverse over reverse) and the
// derivatives of the tangent ops report an error instead.
//
// The forward writes the statistics the derivative kernels read: the mean
// and biased variance per (sample, group) for group_norm, per channel for
// batch_norm in training. They are extra outputs of the forward op that
// the derivative ops take as operands; they are caches of functions of x,
// not independent values, so they carry no derivatives (the derivative
// kernels account for their dependence on x).
//
// Batch norm's running statistics: a static graph does not update tensors
// in place behind the caller's back. In training the forward op takes the
// running mean and variance as operands and returns the updated ones as
// outputs (PyTorch's update, with the unbiased batch variance), which the
// caller stores (read them after Run, write them back with SetParam or
// feed them as inputs next time). In evaluation the running statistics
// are operands the op normalizes with; they are constants of the op, as
// PyTorch's buffers are: no cotangent or tangent flows into them.

// normCfg selects the normalization: group_norm with groups > 0,
// batch_norm with groups == 0 (and bn its mode).
type normCfg struct {
	groups int
	bn     kernels.BNConfig
}

func (c normCfg) name() string {
	if c.groups > 0 {
		return "group_norm"
	}
	if c.bn.Train {
		return "batch_norm"
	}
	return "batch_norm eval"
}

// batchEval: the statistics are the running ones, operands 3 and 4.
func (c normCfg) batchEval() bool { return c.groups == 0 && !c.bn.Train }

func normShape(x Shape) kernels.NormShape {
	s := 1
	for _, d := range x[2:] {
		s *= d
	}
	return kernels.NormShape{N: x[0], C: x[1], S: s}
}

// check validates x and a weight-like operand w ([C]).
func (c normCfg) check(what string, x, w Shape) error {
	if len(x) < 2 || !w.Equal(Shape{x[1]}) {
		return fmt.Errorf("graph: %s: x %v needs weight and bias of shape [C] (got %v)", what, x, w)
	}
	sh := normShape(x)
	if c.groups > 0 && sh.C%c.groups != 0 {
		return fmt.Errorf("graph: %s: %d channels of x %v do not split into %d groups", what, sh.C, x, c.groups)
	}
	if c.groups == 0 && c.bn.Train && sh.N*sh.S < 2 {
		return fmt.Errorf("graph: %s: x %v has one value per channel; training needs more", what, x)
	}
	return nil
}

// statsShape is the shape of the mean and variance operands.
func (c normCfg) statsShape(x Shape) Shape {
	return Shape{kernels.NormStatsLen(normShape(x), c.groups)}
}

// checkStats validates the mean and variance operands.
func (c normCfg) checkStats(what string, x, mean, variance Shape) error {
	want := c.statsShape(x)
	if !mean.Equal(want) || !variance.Equal(want) {
		return fmt.Errorf("graph: %s: statistics %v and %v for x %v, want %v", what, mean, variance, x, want)
	}
	return nil
}

func checkSame(what string, names []string, got []Shape, want Shape) error {
	for i, s := range got {
		if !s.Equal(want) {
			return fmt.Errorf("graph: %s: %s %v, want %v", what, names[i], s, want)
		}
	}
	return nil
}

// cpuStats computes the statistics the Vulkan forward writes: mean and
// biased variance of each normalization set, in float64.
func (c normCfg) cpuStats(sh kernels.NormShape, x []float32) (mean, variance []float32) {
	k := kernels.NormStatsLen(sh, c.groups)
	mean, variance = make([]float32, k), make([]float32, k)
	each := func(set int, f func(v float64)) {
		if c.groups > 0 {
			per := sh.C / c.groups * sh.S
			for _, v := range x[set*per : (set+1)*per] {
				f(float64(v))
			}
			return
		}
		for n := range sh.N {
			for _, v := range x[(n*sh.C+set)*sh.S : (n*sh.C+set+1)*sh.S] {
				f(float64(v))
			}
		}
	}
	for set := range k {
		var s, cnt float64
		each(set, func(v float64) { s += v; cnt++ })
		m := s / cnt
		var q float64
		each(set, func(v float64) { q += (v - m) * (v - m) })
		mean[set], variance[set] = float32(m), float32(q/cnt)
	}
	return mean, variance
}

// normOp is the forward: group_norm (x, w, b) -> (y, mean, var);
// batch_norm training (x, w, b, rm, rv) -> (y, mean, var, rm', rv');
// batch_norm evaluation (x, w, b, rm, rv) -> y.
type normOp struct{ normCfg }

func (o normOp) Name() string { return o.name() }

func (o normOp) Infer(in []Shape) ([]Shape, error) {
	want := 3
	if o.groups == 0 {
		want = 5
	}
	if len(in) != want {
		return nil, fmt.Errorf("graph: %s: %d operands, want %d", o.Name(), len(in), want)
	}
	x, w := in[0], in[1]
	if err := o.check(o.Name(), x, w); err != nil {
		return nil, err
	}
	if err := checkSame(o.Name(), []string{"bias", "running_mean", "running_var"}, in[2:], w); err != nil {
		return nil, err
	}
	if o.batchEval() {
		return []Shape{cloneShape(x)}, nil
	}
	st := o.statsShape(x)
	outs := []Shape{cloneShape(x), st, cloneShape(st)}
	if o.groups == 0 {
		outs = append(outs, cloneShape(w), cloneShape(w))
	}
	return outs, nil
}

// stats returns the nodes holding the statistics the derivatives read.
func (o normOp) stats(g *Graph, n *Node) (mean, variance *Node) {
	if o.batchEval() {
		return n.in[3], n.in[4]
	}
	return g.Output(n, 1), g.Output(n, 2)
}

func (o normOp) VJP(g *Graph, n *Node, gouts []*Node) []*Node {
	for _, c := range gouts[1:] {
		if c != nil {
			g.fail(fmt.Errorf("graph: %s: its statistics outputs are not differentiable", o.Name()))
			return make([]*Node, len(n.in))
		}
	}
	out := make([]*Node, len(n.in))
	if gouts[0] == nil {
		return out
	}
	mean, variance := o.stats(g, n)
	d := g.Outputs(g.Apply(normBackwardOp{o.normCfg}, n.in[0], n.in[1], mean, variance, gouts[0]))
	copy(out, d)
	return out
}

func (o normOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	out := make([]*Node, len(n.outs))
	z := func(i int) *Node { return zerosFor(g, tin[i], n.in[i].shape) }
	if tin[0] == nil && tin[1] == nil && tin[2] == nil {
		return out // tangents of the running statistics do not flow
	}
	mean, variance := o.stats(g, n)
	out[0] = g.Apply(normTangentOp{o.normCfg}, n.in[0], n.in[1], mean, variance, z(0), z(1), z(2))
	return out
}

func (o normOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	sh := normShape(n.in[0].shape)
	if o.groups > 0 {
		y, err := kernels.CPU{}.GroupNorm(sh, o.groups, in[0], in[1], in[2])
		m, v := o.cpuStats(sh, in[0])
		return [][]float32{y, m, v}, err
	}
	y, rm, rv, err := kernels.CPU{}.BatchNorm(sh, o.bn, in[0], in[1], in[2], in[3], in[4])
	if o.batchEval() {
		return [][]float32{y}, err
	}
	m, v := o.cpuStats(sh, in[0])
	return [][]float32{y, m, v, rm, rv}, err
}

func (o normOp) Record(l Launch) error {
	sh := normShape(l.Node.in[0].shape)
	in, out := l.In, l.Out
	if o.groups > 0 {
		return l.Kernels.RecordGroupNorm(l.Recorder, sh, o.groups, in[0], in[1], in[2], out[0], out[1], out[2])
	}
	if o.batchEval() {
		return l.Kernels.RecordBatchNorm(l.Recorder, sh, o.bn, in[0], in[1], in[2], nil, nil, in[3], in[4], out[0])
	}
	// The kernel updates the running statistics in place: on the outputs,
	// after copying the operands there.
	l.Recorder.Copy(out[3], in[3])
	l.Recorder.Copy(out[4], in[4])
	return l.Kernels.RecordBatchNorm(l.Recorder, sh, o.bn, in[0], in[1], in[2], out[1], out[2], out[3], out[4], out[0])
}

// GroupNorm normalizes x [N,C,...] over each sample's groups of C/groups
// channels (and all trailing axes), then applies the per-channel affine
// weight [C] and bias [C], as torch's group_norm (eps kernels.NormEps).
func (g *Graph) GroupNorm(x, weight, bias *Node, groups int) *Node {
	if groups < 1 {
		g.fail(fmt.Errorf("graph: group_norm: %d groups", groups))
		return g.placeholder()
	}
	n := g.Apply(normOp{normCfg{groups: groups}}, x, weight, bias)
	if !n.multi() {
		return g.placeholder()
	}
	return g.Output(n, 0)
}

// BatchNorm normalizes x [N,C,...] per channel and applies the affine
// weight [C] and bias [C], as torch's batch_norm (eps kernels.NormEps).
// With cfg.Train it normalizes with the batch statistics and returns the
// updated running statistics (1-momentum)*running + momentum*batch (the
// unbiased batch variance) as newMean and newVar, for the caller to store;
// the graph changes nothing in place. In evaluation it normalizes with
// runMean and runVar, returned unchanged. The running statistics are
// constants to the derivatives.
func (g *Graph) BatchNorm(x, weight, bias, runMean, runVar *Node, cfg kernels.BNConfig) (y, newMean, newVar *Node) {
	n := g.Apply(normOp{normCfg{bn: cfg}}, x, weight, bias, runMean, runVar)
	if !cfg.Train {
		return n, runMean, runVar
	}
	if !n.multi() {
		return g.placeholder(), g.placeholder(), g.placeholder()
	}
	return g.Output(n, 0), g.Output(n, 3), g.Output(n, 4)
}

// checkDeriv validates (x, w, mean, var, rest...) with rest shaped like
// x or w as restLike says ('x' or 'w').
func (c normCfg) checkDeriv(what string, in []Shape, want int, restLike string) error {
	if len(in) != want {
		return fmt.Errorf("graph: %s: %d operands, want %d", what, len(in), want)
	}
	x, w := in[0], in[1]
	if err := c.check(what, x, w); err != nil {
		return err
	}
	if err := c.checkStats(what, x, in[2], in[3]); err != nil {
		return err
	}
	for i, k := range restLike {
		like := x
		if k == 'w' {
			like = w
		}
		if !in[4+i].Equal(like) {
			return fmt.Errorf("graph: %s: operand %d is %v, want %v", what, 4+i, in[4+i], like)
		}
	}
	return nil
}

func (c normCfg) scratch(n *Node) int {
	return kernels.NormScratch(normShape(n.in[0].shape), c.groups)
}

// normBackwardOp: (x, w, mean, var, g) -> (dx, dw, db).
type normBackwardOp struct{ normCfg }

func (o normBackwardOp) Name() string { return o.name() + " backward" }

func (o normBackwardOp) Infer(in []Shape) ([]Shape, error) {
	if err := o.checkDeriv(o.Name(), in, 5, "x"); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[0]), cloneShape(in[1]), cloneShape(in[1])}, nil
}

func (o normBackwardOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name()+" (reverse over reverse)", len(n.in))
}

// The statistics' tangents are ignored: the tangent-of-backward kernel
// differentiates through them.
func (o normBackwardOp) JVP(g *Graph, n *Node, tin []*Node) []*Node {
	if tin[0] == nil && tin[1] == nil && tin[4] == nil {
		return make([]*Node, 3)
	}
	z := func(i int) *Node { return zerosFor(g, tin[i], n.in[i].shape) }
	in := n.in
	return g.Outputs(g.Apply(normTangentBackwardOp{o.normCfg}, in[0], in[1], in[2], in[3], in[4], z(0), z(1), z(4)))
}

func (o normBackwardOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	sh := normShape(n.in[0].shape)
	var dx, dw, db []float32
	var err error
	if o.groups > 0 {
		dx, dw, db, err = kernels.CPU{}.GroupNormBackward(sh, o.groups, in[0], in[1], in[4])
	} else {
		dx, dw, db, err = kernels.CPU{}.BatchNormBackward(sh, o.bn, in[0], in[1], in[2], in[3], in[4])
	}
	return [][]float32{dx, dw, db}, err
}

func (o normBackwardOp) Scratch(_ *kernels.Vulkan, n *Node) (int, error) { return o.scratch(n), nil }

func (o normBackwardOp) Record(l Launch) error {
	sh := normShape(l.Node.in[0].shape)
	in, out := l.In, l.Out
	if o.groups > 0 {
		return l.Kernels.RecordGroupNormBackward(l.Recorder, sh, o.groups, in[0], in[1], in[2], in[3], in[4], out[0], out[1], out[2], l.Scratch)
	}
	return l.Kernels.RecordBatchNormBackward(l.Recorder, sh, o.bn, in[0], in[1], in[2], in[3], in[4], out[0], out[1], out[2], l.Scratch)
}

// normTangentOp: (x, w, mean, var, tx, tw, tb) -> ty.
type normTangentOp struct{ normCfg }

func (o normTangentOp) Name() string { return o.name() + " tangent" }

func (o normTangentOp) Infer(in []Shape) ([]Shape, error) {
	if err := o.checkDeriv(o.Name(), in, 7, "xww"); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[0])}, nil
}

func (o normTangentOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name()+" (reverse over forward)", len(n.in))
}

func (o normTangentOp) JVP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the JVP of "+o.Name(), 1)
}

func (o normTangentOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	sh := normShape(n.in[0].shape)
	var ty []float32
	var err error
	if o.groups > 0 {
		ty, err = kernels.CPU{}.GroupNormTangent(sh, o.groups, in[0], in[1], in[4], in[5], in[6])
	} else {
		ty, err = kernels.CPU{}.BatchNormTangent(sh, o.bn, in[0], in[1], in[2], in[3], in[4], in[5], in[6])
	}
	return [][]float32{ty}, err
}

func (o normTangentOp) Scratch(_ *kernels.Vulkan, n *Node) (int, error) { return o.scratch(n), nil }

func (o normTangentOp) Record(l Launch) error {
	sh := normShape(l.Node.in[0].shape)
	in := l.In
	if o.groups > 0 {
		return l.Kernels.RecordGroupNormTangent(l.Recorder, sh, o.groups, in[0], in[1], in[2], in[3], in[4], in[5], in[6], l.Out[0], l.Scratch)
	}
	return l.Kernels.RecordBatchNormTangent(l.Recorder, sh, o.bn, in[0], in[1], in[2], in[3], in[4], in[5], in[6], l.Out[0], l.Scratch)
}

// normTangentBackwardOp: (x, w, mean, var, g, tx, tw, tg) -> tangents of
// (dx, dw, db).
type normTangentBackwardOp struct{ normCfg }

func (o normTangentBackwardOp) Name() string { return o.name() + " tangent of backward" }

func (o normTangentBackwardOp) Infer(in []Shape) ([]Shape, error) {
	if err := o.checkDeriv(o.Name(), in, 8, "xxwx"); err != nil {
		return nil, err
	}
	return []Shape{cloneShape(in[0]), cloneShape(in[1]), cloneShape(in[1])}, nil
}

func (o normTangentBackwardOp) VJP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the VJP of "+o.Name(), len(n.in))
}

func (o normTangentBackwardOp) JVP(g *Graph, n *Node, _ []*Node) []*Node {
	return unsupported(g, "the JVP of "+o.Name(), 3)
}

func (o normTangentBackwardOp) CPU(in [][]float32, n *Node) ([][]float32, error) {
	sh := normShape(n.in[0].shape)
	var a, b, c []float32
	var err error
	if o.groups > 0 {
		a, b, c, err = kernels.CPU{}.GroupNormTangentBackward(sh, o.groups, in[0], in[1], in[4], in[5], in[6], in[7])
	} else {
		a, b, c, err = kernels.CPU{}.BatchNormTangentBackward(sh, o.bn, in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7])
	}
	return [][]float32{a, b, c}, err
}

func (o normTangentBackwardOp) Scratch(_ *kernels.Vulkan, n *Node) (int, error) {
	return o.scratch(n), nil
}

func (o normTangentBackwardOp) Record(l Launch) error {
	sh := normShape(l.Node.in[0].shape)
	in, out := l.In, l.Out
	if o.groups > 0 {
		return l.Kernels.RecordGroupNormTangentBackward(l.Recorder, sh, o.groups, in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], out[0], out[1], out[2], l.Scratch)
	}
	return l.Kernels.RecordBatchNormTangentBackward(l.Recorder, sh, o.bn, in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], out[0], out[1], out[2], l.Scratch)
}
