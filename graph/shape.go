package graph

import (
	"fmt"
	"strings"
)

// Shape is a tensor's dimensions, outermost first (row-major). The empty
// shape is a scalar.
type Shape []int

// Size is the number of elements.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether two shapes are identical.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

func (s Shape) String() string {
	if len(s) == 0 {
		return "[]"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func (s Shape) clone() Shape { return append(Shape(nil), s...) }

func (s Shape) valid() bool {
	for _, d := range s {
		if d <= 0 {
			return false
		}
	}
	return true
}
