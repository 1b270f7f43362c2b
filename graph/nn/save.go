package nn

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/safetensors"
)

// Save writes the tensors that specs name, taking their values from
// values, to path as a safetensors file (atomically), with the metadata
// meta. values must hold exactly those tensors, each with as many
// elements as its shape: a missing, extra or mis-sized one is an error
// naming it.
func Save(path string, specs []ParamSpec, values map[string][]float32, meta map[string]string) error {
	shapes, err := shapesOf(specs)
	if err != nil {
		return fmt.Errorf("nn: Save %s: %v", path, err)
	}
	f := &safetensors.File{Tensors: make(map[string]safetensors.Tensor, len(specs)), Meta: meta}
	var bad []string
	for _, s := range specs {
		v, ok := values[s.Name]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s %v has no value", s.Name, s.Shape))
		case len(v) != graph.Shape(s.Shape).Len():
			bad = append(bad, fmt.Sprintf("%s %v has %d values", s.Name, s.Shape, len(v)))
		}
		f.Tensors[s.Name] = safetensors.Tensor{Shape: s.Shape, Data: v}
	}
	for name := range values {
		if _, ok := shapes[name]; !ok {
			bad = append(bad, fmt.Sprintf("%s is not one of the specs", name))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("nn: Save %s: %s", path, strings.Join(bad, "; "))
	}
	return safetensors.WriteFile(path, f)
}

// Load reads a file written by Save (or by any safetensors writer, with
// float32 tensors) and returns the values of the tensors specs name, and
// the metadata. The file must hold exactly those tensors with those
// shapes; the error lists every missing, extra and mis-shaped one.
func Load(path string, specs []ParamSpec) (map[string][]float32, map[string]string, error) {
	shapes, err := shapesOf(specs)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: Load %s: %v", path, err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: Load: %w", err)
	}
	if err := f.Expect(shapes); err != nil {
		return nil, nil, fmt.Errorf("nn: Load %s: %w", path, err)
	}
	values := make(map[string][]float32, len(specs))
	for name, t := range f.Tensors {
		values[name] = t.Data
	}
	return values, f.Meta, nil
}

// shapesOf maps every spec's name to its shape; a name given twice (two
// modules at one scope) is an error.
func shapesOf(specs []ParamSpec) (map[string][]int, error) {
	shapes := make(map[string][]int, len(specs))
	for _, s := range specs {
		if _, dup := shapes[s.Name]; dup {
			return nil, fmt.Errorf("the specs name %s twice", s.Name)
		}
		shapes[s.Name] = slices.Clone(s.Shape)
	}
	return shapes, nil
}
