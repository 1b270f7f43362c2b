// Package rundir writes and reads what a training run leaves in its
// folder: per phase, the event log (events.jsonl, one fsynced JSON line
// per epoch) and the checkpoint (checkpoint.safetensors, written
// atomically), through the sinks of OpenPhase; progress bars on a
// terminal or a log (Progress); and plots as PNG and SVG (PlotLines,
// PlotPhase). It is where noether.Trainer's events become files.
package rundir
