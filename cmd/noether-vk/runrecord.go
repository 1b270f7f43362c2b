package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
)

// runRecord is a train run's folder, locked, with what its manifest
// records whatever the task: the run-wide settings and the training
// phases the command runs. The physics and the video trains share it.
type runRecord struct {
	run      *rundir.Run
	settings map[string]string
	phases   []noether.TrainConfig
	// longer names the flags whose larger value continues a phase, for
	// the refusal of a resume under other settings.
	longer string
}

// methodOutcome is how one method of a run ended, for the manifest: its
// settings, and its numbers or its error.
type methodOutcome struct {
	method   string
	settings map[string]string
	numbers  map[string]float64
	err      error
}

// runMode is what --resume and --overwrite ask of the run folder; they
// exclude each other, and --change-rates needs --resume.
func runMode(c *cli.Context) (rundir.Mode, error) {
	switch {
	case c.Bool("resume") && c.Bool("overwrite"):
		return 0, usagef("train: --resume continues the run in the folder, --overwrite replaces it: give one")
	case c.Bool("change-rates") && !c.Bool("resume"):
		return 0, usagef("train: --change-rates changes the rates of a resumed run: add --resume")
	case c.Bool("resume"):
		return rundir.Resume, nil
	case c.Bool("overwrite"):
		return rundir.Overwrite, nil
	}
	return rundir.Fresh, nil
}

// openRunRecord takes dir as the folder of a run that writes outputs
// (rundir.Open, locked, in the mode the flags ask for) and, on --resume,
// checks the run it holds against this command's settings and phases.
func openRunRecord(c *cli.Context, dir string, outputs []string, settings map[string]string, phases []noether.TrainConfig, longer string) (*runRecord, error) {
	mode, err := runMode(c)
	if err != nil {
		return nil, err
	}
	run, err := rundir.Open(dir, mode, outputs)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	r := &runRecord{run: run, settings: settings, phases: phases, longer: longer}
	if mode == rundir.Resume {
		if err := r.checkResume(); err != nil {
			run.Close()
			return nil, err
		}
	}
	return r, nil
}

// checkResume compares the run in the folder with this command: the
// run-wide settings with the manifest's, and each phase this command runs
// with its checkpoint, which has the last word. Every disagreement is
// listed.
func (r *runRecord) checkResume() error {
	var problems []string
	if m := r.run.Manifest; m != nil {
		for _, k := range slices.Sorted(maps.Keys(r.settings)) {
			if was, ok := m.Settings[k]; ok && was != r.settings[k] {
				problems = append(problems, fmt.Sprintf("the run's --%s is %s, not %s", k, was, r.settings[k]))
			}
		}
	}
	for _, tc := range r.phases {
		path := filepath.Join(r.run.Dir, tc.Label, rundir.CheckpointName)
		ck, err := rundir.ReadCheckpoint(path)
		if err != nil {
			return fmt.Errorf("train: --resume: %w", err)
		}
		if ck == nil {
			continue
		}
		tc.ResumePath = path
		if _, _, err := tc.Check(ck); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return usagef("train: --resume: the run in %s was made under other settings:\n  %s\ncontinue it under its own settings (a longer %s continues a phase; --change-rates allows other learning rates), or use --overwrite or another --out",
			r.run.Dir, strings.Join(problems, "\n  "), r.longer)
	}
	return nil
}

// begin starts writing into the folder once everything is checked: only
// now may --overwrite remove the old run. It then records the run in the
// manifest.
func (r *runRecord) begin() error {
	removed, err := r.run.Begin()
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	for _, p := range removed {
		fmt.Fprintf(os.Stderr, "train: removed %s\n", p)
	}
	if err := r.record(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// record writes the manifest as the run starts: this command, the
// run-wide settings, and the settings and target of each phase it runs.
func (r *runRecord) record() error {
	m := r.run.Manifest
	if m == nil {
		m = rundir.NewManifest()
		r.run.Manifest = m
	}
	m.Settings = r.settings
	m.Commands = append(m.Commands, rundir.Invocation{Args: os.Args, Code: codeVersion(), Started: rundir.Now(), State: rundir.StateRunning})
	for _, tc := range r.phases {
		p := m.Phases[tc.Label]
		if p == nil {
			p = &rundir.PhaseState{State: rundir.StatePending}
			m.Phases[tc.Label] = p
		}
		p.Settings, p.Epochs = tc.Settings, tc.Epochs
		if p.State == rundir.StateDone && p.CheckpointEpoch < p.Epochs {
			p.State = rundir.StatePending // a longer target continues it
		}
	}
	return r.run.Save()
}

// finish records how the run ended in the manifest: this command's state,
// each method's outcome, and the phases of failed methods (the trainer's
// events recorded the others).
func (r *runRecord) finish(state string, err error, outcomes []methodOutcome) error {
	m := r.run.Manifest
	inv := &m.Commands[len(m.Commands)-1]
	inv.State, inv.Ended = state, rundir.Now()
	if err != nil {
		inv.Error = err.Error()
	}
	for _, p := range m.Phases {
		if p.State == rundir.StateRunning && state == rundir.StateFailed && len(outcomes) == 0 {
			p.State, p.Error = rundir.StateFailed, inv.Error
		}
	}
	for _, o := range outcomes {
		rec := &rundir.Result{State: rundir.StateDone, Settings: o.settings, Numbers: o.numbers}
		if o.err != nil {
			rec.State, rec.Error, rec.Numbers = rundir.StateFailed, o.err.Error(), nil
			if p := m.Phases[o.method]; p != nil && p.State == rundir.StateRunning {
				p.State, p.Error = rundir.StateFailed, o.err.Error()
			}
		}
		m.Results[o.method] = rec
	}
	return r.run.Save()
}

// stoppedError is the error of a run a signal stopped: the way to
// continue it.
func stoppedError(runErr error, dir string) error {
	return fmt.Errorf("train: %w; the run folder %s holds a checkpoint of every phase started; continue with:\n  %s", runErr, dir, resumeCommand())
}
