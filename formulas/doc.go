// Package formulas holds the state-space systems of the paper's first
// experiment (ideal spring, ideal pendulum, real pendulum), their data,
// and conserved-quantity formulas over the state: a parser, a CPU
// evaluator and a graph builder, so a formula can be the tailoring loss.
package formulas
