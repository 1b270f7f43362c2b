// Package noether implements the algorithm of Noether Networks (Alet et
// al., NeurIPS 2021), independent of any task:
//
//   - the Noether losses of equation 2 over a sequence of embeddings
//     (Loss: 2a, distance to the first; 2b, between consecutive ones);
//   - tailoring: an inner optimisation (SGD or Adam, any number of steps)
//     of per-example tensors against an unsupervised loss at prediction
//     time (Predict), where what adapts is an Adaptation;
//   - the meta-gradient through the inner update (Meta): forward over
//     reverse, reverse over reverse, or first order;
//   - the Trainer: shuffled epochs of a compiled training program, which
//     reports what happens as typed events (StartEvent, StepEvent,
//     EpochEvent, CheckpointEvent, RolloutEvent, DoneEvent, StopEvent) to
//     Sinks and touches no files itself; it resumes from its checkpoints
//     only under the same settings (TrainConfig.Check), and stops cleanly,
//     with a checkpoint of its last step, when asked (TrainConfig.Stop);
//   - DataParallel: a training step (a StepGraph) on several backends at
//     once, each on its slice of every batch, the gradients summed on the
//     host and the same update program applied on every backend to
//     parameter copies that are checked to stay bit-identical; an
//     Executor like any other, so the Trainer runs it unchanged.
//
// Subpackages: physics (the paper's state-space tasks, their data and
// the experiment runner behind `noether-vk train`) and rundir (the sinks
// that write a run folder: event log, checkpoints, progress, plots).
package noether
