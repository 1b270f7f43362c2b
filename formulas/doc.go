// Package formulas holds the state-space systems of the paper's first
// experiment (ideal spring, ideal pendulum, real pendulum) and their data,
// conserved-quantity formulas over the state (a parser, a CPU evaluator and
// a graph builder, so a formula can be the tailoring loss; their physical
// units, TypeOf), the long-term prediction protocol (Rollout, RMSE), the
// experiment behind `noether-vk train` (ExperimentConfig.Run: the MLP
// baseline, the fine-tuning control, tailoring, meta-tailoring, the
// Noether Network and the exact-conservation reference Project), and the
// formula search behind `noether-vk formulas`: Enumerate (every
// units-valid formula up to a size), Compile and FitBatch (all of them
// fitted at once on the GPU), and SearchConfig (the filter, tailoring,
// meta-tailoring and selection; sharded with MergeFits and MergeSearches).
package formulas
