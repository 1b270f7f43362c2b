package nn

import (
	"cmp"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
)

// GroupNorm is torch.nn.GroupNorm(Groups, Channels) on [N, C, ...]:
// weight [C] and bias [C], 1 and 0 by default. Its output is a CN site
// (s.cn.scale, s.cn.shift [B, C]), applied after the affine.
type GroupNorm struct {
	Groups, Channels int
	Init             Inits
}

// Params implements Module.
func (l GroupNorm) Params(s Scope) []ParamSpec { return normParams(s, l.Channels, l.Init) }

// Adaptables implements Adaptive.
func (l GroupNorm) Adaptables(s Scope) []AdaptSpec { return CNSpecs(s, l.Channels) }

// Apply implements Module.
func (l GroupNorm) Apply(c *Context, s Scope, x *graph.Node) *graph.Node {
	y := c.Graph.GroupNorm(x, c.Param(s.Name("weight")), c.Param(s.Name("bias")), l.Groups)
	return c.CN(s, y)
}

// BatchNorm is torch.nn.BatchNorm1d/2d on [N, C, ...]: weight [C] and
// bias [C] (1 and 0 by default), and the state running_mean [C] (0) and
// running_var [C] (1). Its output is a CN site, as GroupNorm's.
//
// In training (Context.Train) it normalises with the batch statistics and
// puts the updated running statistics, (1-Momentum)*running +
// Momentum*batch with the unbiased batch variance, in Context.NewState
// under s.running_mean and s.running_var: fetch them as outputs of the run
// and store them (SetParam when the state is declared as parameters). In
// evaluation it normalises with the running statistics.
type BatchNorm struct {
	Channels int
	Momentum float32 // 0: PyTorch's 0.1
	Init     Inits
}

// Params implements Module.
func (l BatchNorm) Params(s Scope) []ParamSpec { return normParams(s, l.Channels, l.Init) }

// State implements Stateful.
func (l BatchNorm) State(s Scope) []ParamSpec {
	return []ParamSpec{
		{Name: s.Name("running_mean"), Shape: []int{l.Channels}, Init: Constant(0)},
		{Name: s.Name("running_var"), Shape: []int{l.Channels}, Init: Constant(1)},
	}
}

// Adaptables implements Adaptive.
func (l BatchNorm) Adaptables(s Scope) []AdaptSpec { return CNSpecs(s, l.Channels) }

// Apply implements Module.
func (l BatchNorm) Apply(c *Context, s Scope, x *graph.Node) *graph.Node {
	cfg := kernels.BNConfig{Train: c.Train, Momentum: l.Momentum}
	if cfg.Momentum == 0 {
		cfg.Momentum = 0.1
	}
	meanName, varName := s.Name("running_mean"), s.Name("running_var")
	y, mean, variance := c.Graph.BatchNorm(x, c.Param(s.Name("weight")), c.Param(s.Name("bias")), c.Param(meanName), c.Param(varName), cfg)
	if c.Train {
		c.setState(meanName, mean)
		c.setState(varName, variance)
	}
	return c.CN(s, y)
}

func normParams(s Scope, channels int, init Inits) []ParamSpec {
	return []ParamSpec{
		{Name: s.Name("weight"), Shape: []int{channels}, Init: cmp.Or[Initializer](init.Weight, Constant(1))},
		{Name: s.Name("bias"), Shape: []int{channels}, Init: cmp.Or[Initializer](init.Bias, Constant(0))},
	}
}
