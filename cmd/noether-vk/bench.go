package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kernelbench"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench-kernels",
		Usage: "time every kernel at the paper's model shapes against the device's measured ceilings and a CPU baseline",
		Description: "Each kernel is first checked against its CPU reference, then replayed: GPU time from timestamps and wall\n" +
			"time (median, min, max), GFLOP/s, GB/s, the fraction of the roofline given by the device's own FMA and\n" +
			"copy ceilings (measured first, in the same run), and a CPU baseline measured in the same run.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "json", Usage: "also write the results as JSON to `FILE` (- for standard output)"},
			&cli.BoolFlag{Name: "quick", Usage: "fewer repetitions (seconds instead of minutes)"},
			&cli.StringFlag{Name: "ops", Usage: "benchmark only these ops (comma-separated: " + strings.Join(kernelbench.Ops(), ",") + ")"},
		},
		Action: runBench,
	}
}

type benchReport struct {
	Device  string               `json:"device"`
	Driver  string               `json:"driver"`
	Peaks   kernelbench.Peaks    `json:"peaks"`
	Results []kernelbench.Result `json:"results"`
}

func runBench(c *cli.Context) error {
	o, err := gpuOptions(c)
	if err != nil {
		return err
	}
	opts := kernelbench.Options{Quick: c.Bool("quick")}
	if s := c.String("ops"); s != "" {
		for _, op := range strings.Split(s, ",") {
			if !slices.Contains(kernelbench.Ops(), op) {
				return fmt.Errorf("bench-kernels: unknown op %q (known: %s)", op, strings.Join(kernelbench.Ops(), ", "))
			}
			opts.Ops = append(opts.Ops, op)
		}
	}
	d, err := gpu.Open(o)
	if err != nil {
		return fmt.Errorf("bench-kernels: %w", err)
	}
	defer d.Close()
	start := time.Now()
	opts.Progress = func(i, n int, cs kernelbench.Case) {
		fmt.Fprintf(os.Stderr, "bench-kernels: [%d/%d] %s %s (%.0f s)\n", i+1, n, cs.Op, cs.Shape, time.Since(start).Seconds())
	}
	fmt.Fprintf(os.Stderr, "bench-kernels: measuring the ceilings of %s\n", d.Info.Name)
	peaks, res, runErr := kernelbench.Run(kernels.NewVulkan(d), opts)
	printBench(c.App.Writer, d.Info, peaks, res)
	fmt.Fprintf(c.App.Writer, "\n%d kernels in %.1f s\n", len(res), time.Since(start).Seconds())
	if path := c.String("json"); path != "" {
		driver := strings.TrimSpace(d.Info.DriverName + " " + d.Info.DriverInfo)
		if err := writeJSON(path, benchReport{Device: d.Info.Name, Driver: driver, Peaks: peaks, Results: res}); err != nil {
			return err
		}
	}
	if runErr != nil {
		return runErr
	}
	for _, r := range res {
		if r.Error != "" {
			return cli.Exit(fmt.Sprintf("bench-kernels: %s %s: %s", r.Op, r.Shape, r.Error), 1)
		}
	}
	return nil
}

func printBench(w io.Writer, info gpu.Info, p kernelbench.Peaks, res []kernelbench.Result) {
	fmt.Fprintf(w, "%s: measured ceilings %.1f GFLOP/s (FMA), %.1f GB/s (copy)\n\n", info.Name, p.GFLOPS, p.GBPS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tshape\tgpu ms (min-max)\twall ms\tGFLOP/s\tGB/s\tof roofline\tCPU baseline\tCPU ms\tspeedup\tmax rel err\t")
	for _, r := range res {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\tERROR: %s\t\t\t\t\t\t\t\t\t\n", r.Op, r.Shape, r.Error)
			continue
		}
		cpu, cpuMs, speedup := "-", "-", "-"
		if r.CPUBaseline != "" {
			cpu, cpuMs, speedup = r.CPUBaseline, fmt.Sprintf("%.3f", r.CPUBaselineMsMedian), fmt.Sprintf("%.2fx", r.SpeedupVsCPU)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f (%.3f-%.3f)\t%.3f\t%.2f\t%.2f\t%.1f%%\t%s\t%s\t%s\t%.1e\t\n",
			r.Op, r.Shape, r.GPUMsMedian, r.GPUMsMin, r.GPUMsMax, r.WallMsMedian, r.GFLOPS, r.GBPS, 100*r.PeakFraction,
			cpu, cpuMs, speedup, r.MaxRelErr)
	}
	tw.Flush()
}
