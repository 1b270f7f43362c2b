// Package rundir writes and reads what a training run leaves in its
// folder: the folder itself, held by one run at a time (Open: a lock,
// refusal to write over another run unless resuming or overwriting, the
// temporary files of killed writes removed) and its record (Manifest:
// the commands, settings, data checksum, code version and each phase's
// and result's state, kept current by Run.Sink); per phase, the event
// log (events.jsonl, one fsynced JSON line per epoch) and the checkpoint
// (checkpoint.safetensors, written atomically, resumed from only when
// intact: ReadCheckpoint) and the loss curve (loss.png and loss.svg,
// redrawn as epochs end), through the sinks of OpenPhase; progress bars
// on a terminal or a log (Progress); and plots as PNG and SVG (PlotLines,
// PlotBands, PlotPhase). It is where noether.Trainer's events become files.
package rundir
