// Command pth2safetensors converts PyTorch weight files (torch.save, in
// the zip format of PyTorch 1.6 and later or the legacy format before it)
// into one safetensors file of float32 tensors, without PyTorch: it reads
// the files' pickles with a small unpickler of its own (the subset
// torch.save writes) and their raw storages.
//
//	go run ./tools/pth2safetensors -o out.safetensors [-include REGEXP] in.pth...
//
// The tensors of all inputs are merged under their names (nested dicts
// give dotted names); a name in two inputs is an error. Floating-point
// tensors (float32, float64, float16, bfloat16) are converted to float32,
// row-major, whatever their strides; others (integer counters such as
// BatchNorm's num_batches_tracked) are skipped and listed. -include keeps
// only the names the regular expression matches.
//
// LPIPS (noether/metrics) takes the two published files, torchvision's
// AlexNet (alexnet-owt-7be5be79.pth) and LPIPS v0.1's linear layers
// (lpips/weights/v0.1/alex.pth):
//
//	go run ./tools/pth2safetensors -include '^(features|lin[0-4])\.' -o lpips_alex.safetensors alexnet-owt-7be5be79.pth alex.pth
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/noether-vk/noether-vk/graph/safetensors"
)

func main() {
	out := flag.String("o", "", "the safetensors file to write")
	include := flag.String("include", "", "keep only the tensors whose names match this regular expression")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: pth2safetensors -o out.safetensors [-include REGEXP] in.pth...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*out, *include, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "pth2safetensors:", err)
		os.Exit(1)
	}
}

func run(out, include string, inputs []string) error {
	if out == "" || len(inputs) == 0 {
		return fmt.Errorf("give -o and at least one input file (-h for help)")
	}
	var keep *regexp.Regexp
	if include != "" {
		var err error
		if keep, err = regexp.Compile(include); err != nil {
			return fmt.Errorf("-include: %w", err)
		}
	}
	merged, report, err := convert(inputs, keep)
	if err != nil {
		return err
	}
	meta := map[string]string{"converted_from": strings.Join(inputs, ",")}
	if err := safetensors.WriteFile(out, &safetensors.File{Tensors: merged, Meta: meta}); err != nil {
		return err
	}
	fmt.Print(report)
	return nil
}

// convert reads every input and merges the tensors kept; the report lists
// what was written and what was skipped.
func convert(inputs []string, keep *regexp.Regexp) (map[string]safetensors.Tensor, string, error) {
	merged := map[string]safetensors.Tensor{}
	from := map[string]string{}
	var report strings.Builder
	for _, in := range inputs {
		tensors, skipped, err := readPth(in)
		if err != nil {
			return nil, "", err
		}
		names := make([]string, 0, len(tensors))
		for name := range tensors {
			if keep == nil || keep.MatchString(name) {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			if prev, dup := from[name]; dup {
				return nil, "", fmt.Errorf("tensor %s is in both %s and %s", name, prev, in)
			}
			from[name] = in
			t := tensors[name]
			merged[name] = safetensors.Tensor{Shape: t.Shape, Data: t.Data}
			fmt.Fprintf(&report, "%s %v (from %s)\n", name, t.Shape, in)
		}
		if len(skipped) > 0 {
			fmt.Fprintf(&report, "skipped, not floating point: %s\n", strings.Join(skipped, ", "))
		}
		if dropped := len(tensors) - len(names); dropped > 0 {
			fmt.Fprintf(&report, "left out by -include: %d tensors of %s\n", dropped, in)
		}
	}
	if len(merged) == 0 {
		return nil, "", fmt.Errorf("no tensor kept (check -include)")
	}
	return merged, report.String(), nil
}
