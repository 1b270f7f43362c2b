package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/noether/video"
)

func plotCommand() *cli.Command {
	return &cli.Command{
		Name:      "plot",
		Usage:     "redraw a video run's figures from its run folder, or draw the Figure 4 analog over several runs (seeds): each metric's mean per predicted frame with a band of ± its SEM across the runs",
		ArgsUsage: "RUN_DIR [RUN_DIR ...]",
		Description: `With one run folder of noether-vk train --task pixel-pendulum, ramp or physics101, redraws
its figures from results.json (and inner_curve.json): mse, psnr, ssim, lpips (when scored) with
SEM bands over test windows, loss, and inner_curve (Figure 6). The strips are not redrawn (they
need the predictions).

With several run folders (the same task and methods, other --seed), draws into --out the paper's
Figure 4 form: for every metric, each method's per-frame mean over the runs with a band of ± the
SEM across the runs, as the paper's bands are over training runs.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "folder for the figures (default: the run folder with one run; required with several)"},
		},
		Action: runPlot,
	}
}

func runPlot(c *cli.Context) error {
	dirs := c.Args().Slice()
	out := c.String("out")
	switch {
	case len(dirs) == 0:
		return usagef("plot: no run folder: give the --out of noether-vk train --task pixel-pendulum, ramp or physics101")
	case len(dirs) > 1 && out == "":
		return usagef("plot: %d run folders: give --out, the folder for the figures over them", len(dirs))
	case out == "":
		out = dirs[0]
	}
	var runs [][]*video.Result
	var curve *video.InnerCurve
	for _, d := range dirs {
		rs, ic, err := video.ReadResults(d)
		if err != nil {
			return usageError{fmt.Errorf("plot: %w", err)}
		}
		runs, curve = append(runs, rs), ic
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if len(runs) == 1 {
		if err := video.WriteFigures(out, runs[0], curve); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		fmt.Fprintf(c.App.Writer, "plot: redrew the figures of %s into %s\n", dirs[0], out)
		return nil
	}
	if err := video.WriteSeedFigures(out, runs); err != nil {
		return usageError{fmt.Errorf("plot: %w", err)}
	}
	fmt.Fprintf(c.App.Writer, "plot: the per-frame metrics of %d runs, mean ± SEM over them, into %s\n", len(runs), out)
	return nil
}
