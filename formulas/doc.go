// Package formulas holds the state-space systems of the paper's first
// experiment (ideal spring, ideal pendulum, real pendulum) and their data,
// conserved-quantity formulas over the state (a parser, a CPU evaluator and
// a graph builder, so a formula can be the tailoring loss; their physical
// units, TypeOf; and Enumerate, the candidates of the paper's formula
// search), the long-term prediction protocol (Rollout, RMSE), and the
// experiment behind `noether-vk train` (ExperimentConfig.Run: the MLP
// baseline, the fine-tuning control, tailoring, meta-tailoring and the
// Noether Network).
package formulas
