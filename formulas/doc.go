// Package formulas is the units-typed language of conserved-quantity
// formulas over a state (q, p): expressions with named parameters, a
// parser and printer, a CPU evaluator with gradients, a graph builder (so
// a formula can be a tailoring loss: Expr.Build), physical units and their
// checking (Vocabulary, TypeOf, ParseTyped), the enumeration of every
// units-valid formula up to a size (Enumerate), the bytecode the GPU
// fitting kernel interprets (Compile), and the batched fit itself
// (NewFitData, FitBatch: every formula's parameters fitted at once for
// conservation along sequences of states).
//
// It is a leaf of the project: it imports graph and below, nothing of
// noether. The candidate search of the paper's section 5.1, which runs
// physics experiments, is the subpackage search.
package formulas
