package physics

import (
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/noether"
)

// NewMLP is the paper's physics MLP at scope: tanh between layers,
// orthogonal weights (torch.nn.init.orthogonal_ in the paper's baseline),
// biases uniform in +-1/sqrt(fan in) (PyTorch's default), a bias on the
// last layer only when lastBias. Its parameters are scope.0.weight
// [sizes[0], sizes[1]], scope.0.bias, scope.1.weight, ...; its CN sites
// scope.i.cn.scale and scope.i.cn.shift on each hidden layer.
func NewMLP(scope nn.Scope, sizes []int, lastBias bool) noether.Model {
	return noether.Model{
		Module: nn.MLP{Sizes: sizes, LastBias: lastBias, Init: []nn.Inits{{Weight: nn.Orthogonal{}}}},
		Scope:  scope,
	}
}
