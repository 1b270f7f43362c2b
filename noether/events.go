package noether

import "github.com/noether-vk/noether-vk/graph/safetensors"

// Event is what a Trainer reports while it runs. Sinks (the event log,
// checkpoints, progress bars, plots, the live viewer) receive every event
// in order; the concrete types below are the whole set.
type Event interface {
	// PhaseName names the training phase the event belongs to
	// ("baseline", "noether", ...).
	PhaseName() string
}

// Sink consumes a trainer's events. An error stops training: a sink that
// must not (the live viewer) handles its own failures and returns nil.
type Sink interface {
	Handle(Event) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event) error

// Handle implements Sink.
func (f SinkFunc) Handle(e Event) error { return f(e) }

// StartEvent opens a phase.
type StartEvent struct {
	Phase         string
	Epochs        int // the phase's last epoch
	StepsPerEpoch int
	Resumed       int // the epoch the phase resumes after (0: a fresh start)
	// Changes lists the settings that differ from the checkpoint's (the
	// trainer's Changeable ones: rates lowered to continue past a
	// divergence).
	Changes []Change
}

// StepEvent follows every optimiser step.
type StepEvent struct {
	Phase string
	Epoch int
	// Step counts steps from the phase's start, resumed epochs included,
	// up to Epochs*StepsPerEpoch.
	Step int
	Loss float64
}

// EpochEvent follows every epoch.
type EpochEvent struct {
	Phase   string
	Epoch   int
	Loss    float64 // the epoch's mean training loss
	Seconds float64 // wall time since this run of the phase started
	// Eval holds the evaluation's numbers at the epochs the trainer
	// evaluates (TrainConfig.EvalEvery and the last), nil otherwise.
	Eval map[string]float64
}

// CheckpointEvent carries the trainer's whole state at an epoch's end, or
// after the step a stop came at: parameters, optimiser moments and the
// metadata that resuming checks.
type CheckpointEvent struct {
	Phase string
	Epoch int // complete epochs
	// Step counts the steps the state has taken since the phase's start:
	// more than Epoch epochs' worth when a stop came mid-epoch.
	Step  int
	State *safetensors.File
}

// RolloutEvent carries sample predictions against the truth, for plots
// and the viewer. Truth[i][t] and Pred[i][t] are example i's state at step
// t, flattened row-major with shape StateShape ([2] for a phase-space
// state (q, p); [C, H, W] for a video frame).
type RolloutEvent struct {
	Phase       string
	Epoch       int
	StateShape  []int
	Truth, Pred [][][]float32
	StepRMSE    []float64 // the error at each step over every example evaluated
}

// DoneEvent closes a phase.
type DoneEvent struct {
	Phase   string
	Epochs  int
	Seconds float64
}

// StopEvent closes a phase stopped on request (TrainConfig.Stop), after
// the checkpoint of its last step.
type StopEvent struct {
	Phase string
	Epoch int // complete epochs
	Step  int // steps done, as in CheckpointEvent
}

// PhaseName implements Event.
func (e StartEvent) PhaseName() string { return e.Phase }

// PhaseName implements Event.
func (e StepEvent) PhaseName() string { return e.Phase }

// PhaseName implements Event.
func (e EpochEvent) PhaseName() string { return e.Phase }

// PhaseName implements Event.
func (e CheckpointEvent) PhaseName() string { return e.Phase }

// PhaseName implements Event.
func (e RolloutEvent) PhaseName() string { return e.Phase }

// PhaseName implements Event.
func (e DoneEvent) PhaseName() string { return e.Phase }

// PhaseName implements Event.
func (e StopEvent) PhaseName() string { return e.Phase }

// Emit sends e to every sink in order and returns the first error.
func Emit(sinks []Sink, e Event) error {
	for _, s := range sinks {
		if err := s.Handle(e); err != nil {
			return err
		}
	}
	return nil
}
