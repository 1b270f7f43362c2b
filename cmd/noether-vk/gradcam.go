package main

import (
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether/gradcam"
)

func gradcamCommand() *cli.Command {
	return &cli.Command{
		Name:  "gradcam",
		Usage: "Grad-CAM + PCA of a pixel-pendulum or ramp run's Noether embedding (the paper's Figure 5): heat maps per principal component, the figure, and the variance each component explains",
		Description: `Reads the run folder of noether-vk train --task pixel-pendulum or ramp (its manifest and the noether
phase's checkpoint), fits a PCA (6 components) to the embeddings of the ground-truth frame pairs
of every test sequence, leaving out pairs 0 and 1, and computes, for every pair of the chosen
test sequences and every component, the Grad-CAM map of the component's score at the ReLU after
the embedding's second convolution, resized to the frame, min-max normalised and blended in jet
colours onto the pair's first frame. Everything runs on the device.

Writes into RUN/gradcam (or --out): maps.safetensors (frames [N,T,3,H,W], heat [K,N,T,H,W],
explained [K]; the live viewer reads it), explained.json and figure5.png (components x steps,
per sequence).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "the run folder of train --task pixel-pendulum or ramp (its --out)"},
			&cli.IntSliceFlag{Name: "sequences", Value: cli.NewIntSlice(0, 1, 2), Usage: "test sequences to map, comma-separated"},
			&cli.IntSliceFlag{Name: "steps", Usage: "pairs drawn in the figure, by their first frame, comma-separated (default: the first pair the PCA fits, the middle one and the last)"},
			&cli.IntFlag{Name: "components", Value: gradcam.DefaultComponents, Usage: "principal components"},
			&cli.StringFlag{Name: "out", Usage: "folder for the outputs (default: RUN/gradcam)"},
		},
		Action: runGradCAM,
	}
}

func runGradCAM(c *cli.Context) error {
	dir := c.String("run")
	if dir == "" {
		return usagef("gradcam: no --run: give the run folder of noether-vk train --task %s (its --out)", gradcam.Task)
	}
	out := c.String("out")
	if out == "" {
		out = filepath.Join(dir, gradcam.Folder)
	}
	if k := c.Int("components"); k < 1 {
		return usagef("gradcam: --components %d: want at least 1", k)
	}
	run, err := gradcam.LoadRun(dir)
	if err != nil {
		return usageError{err}
	}
	opts := gradcam.Options{Sequences: c.IntSlice("sequences"), Steps: c.IntSlice("steps"), Components: c.Int("components"), Progress: c.App.ErrWriter}
	if err := run.Check(opts); err != nil {
		return usageError{err}
	}
	d, err := openDevice(c, "gradcam")
	if err != nil {
		return err
	}
	defer d.Close()
	began := time.Now()
	opts.Backend = graph.VulkanBackend{Kernels: kernels.NewVulkan(d)}
	res, err := run.Analyze(opts)
	if err != nil {
		return err
	}
	paths, err := gradcam.WriteOutputs(out, res)
	if err != nil {
		return err
	}
	printExplained(c.App.Writer, res)
	fmt.Fprintf(c.App.Writer, "on %s in %.1f s\n", d.Info.Name, time.Since(began).Seconds())
	for _, p := range paths {
		fmt.Fprintf(c.App.Writer, "wrote %s\n", p)
	}
	return nil
}

// printExplained prints the variance each component explains.
func printExplained(w io.Writer, res *gradcam.Result) {
	p := res.PCA
	fmt.Fprintf(w, "PCA of %d embeddings (%d test sequences, pairs %d to %d of each) of %d dimensions\n",
		p.Samples, res.FitSequences, gradcam.DroppedPairs, res.Pairs-1, p.Dim)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "component\tvariance explained\tcumulative")
	sum := 0.0
	for i, r := range p.Ratio {
		sum += r
		fmt.Fprintf(tw, "PC%d\t%.1f%%\t%.1f%%\n", i+1, 100*r, 100*sum)
	}
	tw.Flush()
	fmt.Fprintln(w, "(the paper reports 83.6% for PC1 and 99.9% for the first four, on Physics 101)")
}
