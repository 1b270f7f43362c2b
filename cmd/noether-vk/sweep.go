package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/graph/atomicfile"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/physics"
	"github.com/noether-vk/noether-vk/noether/sweep"
)

func sweepCommand() *cli.Command {
	out := &cli.StringFlag{Name: "out", Usage: "the folder of the sweep's run folders (default: the file's \"out\", else runs/FILE)"}
	return &cli.Command{
		Name:  "sweep",
		Usage: "run a grid of train runs from a sweep file, split over a scheduler's array job, and merge their results into one table",
		Description: `A sweep file (JSON; see tools/sweeps/ and the README) lists points: train's settings, one
task, method and seed each. sweep run runs its share of them (--shard i/N, or auto under Slurm or a
Kubernetes Indexed Job), each into its own run folder, in this process: complete points are
skipped, killed or failed ones continue from their checkpoints (train --resume), and points of the
same task and seed borrow the baseline one of them has trained. sweep merge checks that every point
is complete under the file's settings and writes one table (Markdown and JSON) with the mean and
spread over seeds. Run sweep list to see the points, their run folders and what each holds.`,
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the points (with --shard: that shard's, in the order it runs them), their run folders and states",
				ArgsUsage: "FILE",
				Flags:     append([]cli.Flag{out}, shardFlags()...),
				Action:    runSweepList,
			},
			{
				Name:      "run",
				Usage:     "run the points of one shard (default: all of them), skipping complete ones and resuming the others",
				ArgsUsage: "FILE",
				Flags:     append([]cli.Flag{out}, shardFlags()...),
				Action:    runSweepRun,
			},
			{
				Name:      "merge",
				Usage:     "check that every point is complete and write the table: mean, standard deviation and every seed's value",
				ArgsUsage: "FILE",
				Flags: []cli.Flag{out,
					&cli.StringFlag{Name: "json", Usage: "write the table as JSON here (default OUT/table.json; - for stdout)"},
					&cli.StringFlag{Name: "markdown", Usage: "write the table as Markdown here (default OUT/table.md)"},
				},
				Action: runSweepMerge,
			},
		},
	}
}

// openSweep reads the sweep file the command names and plans its points
// with train's parser; every error is a usage error (nothing has run).
func openSweep(c *cli.Context, r *trainRunner) (*sweep.Sweep, error) {
	args := positional(c)
	if len(args) != 1 {
		return nil, usagef("sweep %s: name one sweep file, e.g. tools/sweeps/tables.json (got %d arguments)", c.Command.Name, len(args))
	}
	f, err := sweep.Read(args[0])
	if err != nil {
		return nil, usagef("sweep %s: %w", c.Command.Name, err)
	}
	out := f.Out
	if c.IsSet("out") {
		out = c.String("out")
	}
	s, err := sweep.New(f, out, r)
	if err != nil {
		return nil, usagef("sweep %s: %s: %w", c.Command.Name, args[0], err)
	}
	return s, nil
}

func runSweepList(c *cli.Context) error {
	s, err := openSweep(c, newTrainRunner(c))
	if err != nil {
		return err
	}
	points := make([]int, len(s.Points))
	for i := range points {
		points[i] = i
	}
	if c.IsSet("shard") {
		sh, err := shardOf(c)
		if err != nil {
			return err
		}
		points = s.Share(sh)
		fmt.Fprintf(c.App.Writer, "shard %s runs %d of the %d points, in this order:\n", sh, len(points), len(s.Points))
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "point\tstate\trun folder\tsettings")
	complete := 0
	for _, i := range points {
		st := s.Status(i)
		state := "complete"
		if st.Complete {
			complete++
		} else {
			state = st.Why
		}
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\n", i+1, state, s.Dir(i), s.Points[i])
	}
	tw.Flush()
	fmt.Fprintf(c.App.Writer, "%d of %d complete\n", complete, len(points))
	return nil
}

func runSweepRun(c *cli.Context) error {
	r := newTrainRunner(c)
	s, err := openSweep(c, r)
	if err != nil {
		return err
	}
	sh, err := shardOf(c)
	if err != nil {
		return err
	}
	// The first SIGINT or SIGTERM stops the point in progress at a
	// checkpoint (train's own handler) and the sweep before the next one;
	// a second one ends the process at once.
	stop, release := stopOnSignal()
	defer release()
	outcomes, err := s.Run(sh, r, os.Stderr, stop)
	skipped, lent, failed := 0, 0, 0
	for _, o := range outcomes {
		switch {
		case o.Skipped:
			skipped++
		case o.Err != nil && !errors.Is(o.Err, noether.ErrStopped):
			failed++
		}
		if o.Lent {
			lent++
		}
	}
	fmt.Fprintf(c.App.Writer, "sweep: shard %s: %d points: %d complete already, %d run (%d from another point's baseline), %d failed\n",
		sh, len(s.Share(sh)), skipped, len(outcomes)-skipped, lent, failed)
	switch {
	case errors.Is(err, noether.ErrStopped):
		return fmt.Errorf("sweep run: %w; the same command continues the sweep (a point stopped mid-way from its checkpoint):\n  %s", noether.ErrStopped, sweepCommandLine())
	case errors.Is(err, gpu.ErrNoLoader) || errors.Is(err, gpu.ErrNoDevice):
		return fmt.Errorf("sweep run: %w", err)
	case err != nil:
		return fmt.Errorf("sweep run: %w\nthe same command reruns the points that failed (from their checkpoints), and skips the complete ones", err)
	}
	return nil
}

// sweepCommandLine is this process's command line, quoted for a shell.
func sweepCommandLine() string {
	var args []string
	for _, a := range os.Args {
		args = append(args, shellQuote(a))
	}
	return strings.Join(args, " ")
}

func runSweepMerge(c *cli.Context) error {
	s, err := openSweep(c, newTrainRunner(c))
	if err != nil {
		return err
	}
	t, err := s.Merge()
	if err != nil {
		return err
	}
	if err := t.Markdown(c.App.Writer); err != nil {
		return err
	}
	jsonPath, mdPath := filepath.Join(s.Out, "table.json"), filepath.Join(s.Out, "table.md")
	if c.IsSet("json") {
		jsonPath = c.String("json")
	}
	if c.IsSet("markdown") {
		mdPath = c.String("markdown")
	}
	if err := writeJSON(jsonPath, t); err != nil {
		return fmt.Errorf("sweep merge: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(mdPath), 0o755); err != nil {
		return fmt.Errorf("sweep merge: %w", err)
	}
	if err := atomicfile.Write(mdPath, t.Markdown); err != nil {
		return fmt.Errorf("sweep merge: %w", err)
	}
	fmt.Fprintf(c.App.Writer, "\nwrote %s and %s\n", mdPath, jsonPath)
	return nil
}

// trainRunner runs sweep points as train commands in this process, on
// the device the global flags choose.
type trainRunner struct {
	global []string  // the global flags, for each train
	out    io.Writer // train's output
	data   map[string]*physics.Dataset
}

func newTrainRunner(c *cli.Context) *trainRunner {
	return &trainRunner{
		global: []string{"--device", c.String("device"), "--validate", c.String("validate"), "--lp-threads", fmt.Sprint(c.Int("lp-threads"))},
		out:    c.App.Writer,
		data:   map[string]*physics.Dataset{},
	}
}

// Plan parses the point as train would and computes the settings its run
// folder records: the run's, its method's result's, and its baseline's.
func (r *trainRunner) Plan(p sweep.Point) (sweep.Plan, error) {
	cfg, methods, dataPath, err := parseTrain(p.Args())
	if err != nil {
		return sweep.Plan{}, err
	}
	task, _ := p.Value("task")
	if err := cfg.Check(task, methods...); err != nil {
		return sweep.Plan{}, err
	}
	key := fmt.Sprintf("%s\x00%s\x00%d", task, dataPath, cfg.Seed)
	d := r.data[key]
	if d == nil {
		if d, err = physics.LoadTask(task, dataPath, cfg.Seed); err != nil {
			return sweep.Plan{}, err
		}
		r.data[key] = d
	}
	m := methods[0]
	base := cfg.Phases(d, m)[0]
	return sweep.Plan{Method: string(m), Run: runSettings(cfg, d), Result: cfg.Settings(d, m),
		Shared: sweep.Phase{Label: base.Label, Settings: base.Settings, Epochs: base.Epochs}}, nil
}

// Run runs train on the point into dir, with --resume: a complete phase
// is not trained again, a killed one continues from its checkpoint.
func (r *trainRunner) Run(p sweep.Point, dir string) error {
	app := newApp()
	app.Writer = r.out
	args := append(append(append([]string{"noether-vk"}, r.global...), "train"), p.Args()...)
	err := app.Run(append(args, "--out", dir, "--resume"))
	if errors.Is(err, gpu.ErrNoLoader) || errors.Is(err, gpu.ErrNoDevice) {
		return sweep.Halt(err) // no point can run
	}
	return err
}

// parseTrain reads train's flags as train does, without running it: the
// configuration, the methods, and the --data path.
func parseTrain(args []string) (cfg physics.Config, methods []physics.Method, data string, err error) {
	cmd := trainCommand()
	cmd.Action = func(c *cli.Context) error {
		var err error
		cfg, methods, err = trainConfig(c)
		data = c.String("data")
		return err
	}
	strict(cmd)
	app := &cli.App{Name: "noether-vk", Commands: []*cli.Command{cmd}, Writer: io.Discard, ErrWriter: io.Discard,
		ExitErrHandler: func(*cli.Context, error) {}, OnUsageError: onUsageError}
	err = app.Run(append([]string{"noether-vk", "train"}, args...))
	return cfg, methods, data, err
}
