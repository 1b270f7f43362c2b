package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

func selftestCommand() *cli.Command {
	return &cli.Command{
		Name:  "selftest",
		Usage: "check every kernel on the selected device against its CPU reference and finite differences (forward, vjp, jvp, hvp)",
		Description: "Runs the kernels conformance suite (kernels/kerneltest) on the device. Exit status 1 when any check fails.\n" +
			"Add --validate on to also fail on Vulkan validation messages.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "json", Usage: "also write the results as JSON to `FILE` (- for standard output)"},
			&cli.StringFlag{Name: "ops", Usage: "check only these ops (comma-separated; see --list)"},
			&cli.BoolFlag{Name: "list", Usage: "list the op names and exit"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the random shapes and values"},
		},
		Action: runSelftest,
	}
}

// selftestReport is the --json document: one entry per op and check, the
// worst over the shapes checked.
type selftestReport struct {
	Device  string          `json:"device"`
	Results []selftestEntry `json:"results"`
}

type selftestEntry struct {
	Op        string  `json:"op"`
	Check     string  `json:"check"`
	Pass      bool    `json:"pass"`
	MaxAbsErr float64 `json:"max_abs_err"`
	MaxRelErr float64 `json:"max_rel_err"`
	Tol       string  `json:"tol"`
}

func runSelftest(c *cli.Context) error {
	if c.Bool("list") {
		fmt.Fprintln(c.App.Writer, strings.Join(kerneltest.Ops(), "\n"))
		return nil
	}
	o, err := gpuOptions(c)
	if err != nil {
		return err
	}
	var ops []string
	if s := c.String("ops"); s != "" {
		known := map[string]bool{}
		for _, op := range kerneltest.Ops() {
			known[op] = true
		}
		for _, op := range strings.Split(s, ",") {
			if !known[op] {
				return fmt.Errorf("selftest: unknown op %q (known: %s)", op, strings.Join(kerneltest.Ops(), ", "))
			}
			ops = append(ops, op)
		}
	}
	d, err := gpu.Open(o)
	if err != nil {
		return fmt.Errorf("selftest: %w", err)
	}
	defer d.Close()
	start := time.Now()
	opts := kerneltest.Options{Seed: c.Uint64("seed"), Ops: ops}
	if isTerminal(os.Stderr) {
		opts.Progress = func(i, n int, cs kerneltest.Case) {
			fmt.Fprintf(os.Stderr, "\r\033[K[%d/%d] %s %s", i+1, n, cs.Op, cs.Shape)
		}
	}
	res := kerneltest.Run(kernels.NewVulkan(d), opts)
	if opts.Progress != nil {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	entries := worstPerCheck(res)
	printResults(c.App.Writer, entries)
	pass, failed, failedOps := kerneltest.Summary(res)
	msgs := d.Messages()
	fmt.Fprintf(c.App.Writer, "\n%s: %d checks passed, %d failed, in %.1f s", d.Info.Name, pass, failed, time.Since(start).Seconds())
	if o.Validate {
		fmt.Fprintf(c.App.Writer, "; %d validation messages", len(msgs))
	}
	fmt.Fprintln(c.App.Writer)
	for _, m := range msgs {
		fmt.Fprintln(c.App.Writer, "validation:", m)
	}
	if path := c.String("json"); path != "" {
		report := selftestReport{Device: d.Info.Name}
		for _, e := range entries {
			report.Results = append(report.Results, e.selftestEntry)
		}
		if err := writeJSON(path, report); err != nil {
			return err
		}
	}
	if failed > 0 {
		return cli.Exit(fmt.Sprintf("selftest: %d checks failed (ops: %s)", failed, strings.Join(failedOps, ", ")), 1)
	}
	if len(msgs) > 0 {
		return cli.Exit(fmt.Sprintf("selftest: %d Vulkan validation messages", len(msgs)), 1)
	}
	return nil
}

// checkSummary is the worst result of one op and check over its shapes.
type checkSummary struct {
	selftestEntry
	shapes int
	failed string // shape and detail of the first failure
}

func worstPerCheck(res []kerneltest.Result) []checkSummary {
	var out []checkSummary
	index := map[[2]string]int{}
	for _, r := range res {
		k := [2]string{r.Op, r.Check}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, checkSummary{selftestEntry: selftestEntry{Op: r.Op, Check: r.Check, Pass: true, Tol: r.Tol}})
		}
		s := &out[i]
		s.shapes++
		s.MaxAbsErr = max(s.MaxAbsErr, r.MaxAbsErr)
		s.MaxRelErr = max(s.MaxRelErr, r.MaxRelErr)
		if !r.Pass && s.Pass {
			s.Pass, s.failed = false, r.Shape+": "+r.Detail
		}
	}
	return out
}

func printResults(w io.Writer, res []checkSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "op\tcheck\tresult\tshapes\tmax abs err\tmax rel err\ttolerance")
	for _, r := range res {
		status := "pass"
		if !r.Pass {
			status = "FAIL " + r.failed
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2e\t%.2e\t%s\n", r.Op, r.Check, status, r.shapes, r.MaxAbsErr, r.MaxRelErr, r.Tol)
	}
	tw.Flush()
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
