// Package noether implements Noether Networks (Alet et al., NeurIPS 2021):
// conservation losses (equation 2a and 2b) over an embedding built as a
// graph (in the physics setting, StepProblem, on a central or forward
// finite-difference step of the predicted field), tailoring (an inner
// optimisation of chosen parameters against that loss at prediction
// time), the meta-gradient through the inner update, and the trainer
// around them (epochs, evaluation, metrics, plots and checkpoints that a
// killed run resumes from).
package noether
