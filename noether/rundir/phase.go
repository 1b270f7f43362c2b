package rundir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/noether-vk/noether-vk/graph/safetensors"
	"github.com/noether-vk/noether-vk/noether"
)

// File names inside a phase's folder.
const (
	EventLogName   = "events.jsonl"
	CheckpointName = "checkpoint.safetensors"
	// LossPlotName is the phase's loss curve, redrawn as training goes
	// (path without extension: it is written as PNG and SVG).
	LossPlotName = "loss"
)

// lossPlotEvery is the shortest wall time between two redraws of a
// phase's loss plot: drawing a PNG costs milliseconds, and a phase may
// run thousands of short epochs.
const lossPlotEvery = 2 * time.Second

// Phase is the folder of one training phase: its event log, its
// checkpoint and its loss plot. Its Sinks write what a noether.Trainer
// reports there, and draw a progress bar.
type Phase struct {
	Dir       string
	Label     string
	resume    *safetensors.File
	log       *EventLog
	sinks     []noether.Sink
	curve     []float64 // the epochs' losses, resumed ones included
	plotted   time.Time
	unplotted bool // epochs arrived since the last redraw
}

// OpenPhase opens (creating it if needed) the folder dir of the phase
// label. With resume, the phase's checkpoint, when there is one, is loaded
// (Resume returns it) and the event log is cut back to its epoch;
// otherwise the event log starts empty. Progress lines go to progress (nil:
// none).
func OpenPhase(dir, label string, resume bool, progress io.Writer) (*Phase, error) {
	if dir == "" {
		return nil, fmt.Errorf("rundir: phase %s: no run folder", label)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("rundir: phase %s: %w", label, err)
	}
	p := &Phase{Dir: dir, Label: label}
	keep := -1 // a fresh phase starts a fresh log
	if resume {
		ck, err := ReadCheckpoint(p.CheckpointPath())
		if err != nil {
			return nil, err
		}
		if ck != nil {
			epoch, err := strconv.Atoi(ck.Meta["epoch"])
			if err != nil {
				return nil, fmt.Errorf("rundir: %s: bad epoch %q in its metadata; delete it to start over", p.CheckpointPath(), ck.Meta["epoch"])
			}
			p.resume, keep = ck, epoch
		}
	}
	log, err := OpenEventLog(filepath.Join(dir, EventLogName), "epoch", keep)
	if err != nil {
		return nil, err
	}
	p.log = log
	if p.curve, err = p.LossCurve(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	p.sinks = []noether.Sink{noether.SinkFunc(p.record), noether.SinkFunc(p.checkpoint), noether.SinkFunc(p.plot), NewProgressSink(progress)}
	return p, nil
}

// ReadCheckpoint reads the checkpoint at path to resume from it: nil when
// there is none. It must be intact and carry the whole-file checksum every
// checkpoint of this version carries: one without it was written by an
// earlier version or had its checksum entry damaged, and cannot be
// trusted.
func ReadCheckpoint(path string) (*safetensors.File, error) {
	ck, err := safetensors.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, safetensors.ErrCorrupt):
		return nil, fmt.Errorf("rundir: %w; or replace the whole run with --overwrite", err)
	case err != nil:
		return nil, fmt.Errorf("rundir: %w", err)
	case !ck.Verified:
		return nil, fmt.Errorf("rundir: checkpoint %s has no %s entry: it was written by an earlier version of noether-vk, or its header was damaged; delete it to start its phase over, or replace the whole run with --overwrite",
			path, safetensors.ChecksumKey)
	}
	return ck, nil
}

// CheckpointPath is where the phase's checkpoint lives.
func (p *Phase) CheckpointPath() string { return filepath.Join(p.Dir, CheckpointName) }

// Resume is the checkpoint to resume from, nil for a fresh start.
func (p *Phase) Resume() *safetensors.File { return p.resume }

// Sinks are the phase's event sinks: the event log, the checkpoint
// writer, the loss plot and the progress bar, in that order.
func (p *Phase) Sinks() []noether.Sink { return p.sinks }

// record writes every epoch to the event log, one fsynced line each.
func (p *Phase) record(e noether.Event) error {
	ev, ok := e.(noether.EpochEvent)
	if !ok {
		return nil
	}
	rec := map[string]any{"phase": ev.Phase, "epoch": ev.Epoch, "loss": ev.Loss, "seconds": ev.Seconds}
	for k, v := range ev.Eval {
		rec[k] = v
	}
	return p.log.Write(rec)
}

// checkpoint writes each checkpoint atomically over the last.
func (p *Phase) checkpoint(e noether.Event) error {
	if ev, ok := e.(noether.CheckpointEvent); ok {
		return safetensors.WriteFile(p.CheckpointPath(), ev.State)
	}
	return nil
}

// plot redraws the phase's loss plot (LossPlotName) as epochs end, at
// most every lossPlotEvery, and always when the phase ends or stops. The
// curve stops before its first non-finite loss (a divergence), and uses a
// logarithmic axis when every loss is positive and they differ.
func (p *Phase) plot(e noether.Event) error {
	switch ev := e.(type) {
	case noether.EpochEvent:
		p.curve = append(p.curve, ev.Loss)
		p.unplotted = true
		if time.Since(p.plotted) < lossPlotEvery {
			return nil
		}
	case noether.DoneEvent, noether.StopEvent:
		if !p.unplotted {
			return nil
		}
	default:
		return nil
	}
	y := p.curve
	if k := slices.IndexFunc(y, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }); k >= 0 {
		y = y[:k]
	}
	p.plotted, p.unplotted = time.Now(), false
	if len(y) == 0 {
		return nil
	}
	x := make([]float64, len(y))
	for i := range x {
		x[i] = float64(i + 1)
	}
	// A log axis needs positive values and a range: the plotting
	// library pads a flat range by 1 either side, below zero for losses
	// under 1.
	logY := slices.Min(y) > 0 && slices.Max(y) > slices.Min(y)
	return PlotLossCurves(filepath.Join(p.Dir, LossPlotName), []Series{{Name: p.Label, X: x, Y: y}}, logY)
}

// LossCurve is the mean training loss of every epoch in the event log,
// resumed epochs included.
func (p *Phase) LossCurve() ([]float64, error) {
	recs, err := ReadEventLog(filepath.Join(p.Dir, EventLogName))
	if err != nil {
		return nil, err
	}
	var out []float64
	for _, r := range recs {
		if l, ok := r["loss"].(float64); ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// Close closes the event log; every record is already on disk.
func (p *Phase) Close() error {
	if p.log == nil {
		return nil
	}
	err := p.log.Close()
	p.log = nil
	return err
}

// NewProgressSink draws a progress bar per phase on w: steps done of the
// phase's total, with the last loss.
func NewProgressSink(w io.Writer) noether.Sink {
	var bar *Progress
	return noether.SinkFunc(func(e noether.Event) error {
		switch ev := e.(type) {
		case noether.StartEvent:
			bar = NewProgress(w, ev.Epochs*ev.StepsPerEpoch, ev.Phase)
		case noether.StepEvent:
			if bar != nil {
				bar.Update(ev.Step, "loss", ev.Loss)
			}
		case noether.DoneEvent, noether.StopEvent:
			if bar != nil {
				bar.Done()
			}
		}
		return nil
	})
}

// TrainPhase runs tr as the phase tr.Config.Label in its folder under
// dir: from the phase's checkpoint when resume is set, with the phase's
// sinks (event log, checkpoint, loss plot, progress on progress) ahead of
// tr's own. It returns the mean training loss of every epoch, resumed ones
// included; the trained parameters stay in tr.Exec.
func TrainPhase(dir string, resume bool, progress io.Writer, tr *noether.Trainer) ([]float64, error) {
	label := tr.Config.Label
	ph, err := OpenPhase(filepath.Join(dir, label), label, resume, progress)
	if err != nil {
		return nil, err
	}
	defer ph.Close()
	tr.Config.Resume, tr.Config.ResumePath = ph.Resume(), ph.CheckpointPath()
	tr.Sinks = slices.Concat(ph.Sinks(), tr.Sinks)
	if _, err := tr.Run(); err != nil {
		return nil, err
	}
	if err := ph.Close(); err != nil {
		return nil, err
	}
	return ph.LossCurve()
}
