package graph

import (
	"slices"

	"github.com/noether-vk/noether-vk/kernels"
)

// Shape is a tensor's dimensions, outermost first (row-major); the empty
// shape is a scalar. It is the kernels' shape type.
type Shape = kernels.Shape

func cloneShape(s Shape) Shape { return slices.Clone(s) }

func validShape(s Shape) bool {
	for _, d := range s {
		if d <= 0 {
			return false
		}
	}
	return true
}
